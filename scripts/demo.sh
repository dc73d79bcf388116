#!/usr/bin/env bash
# Set everything up, then run the demo: a broker, the hub and four kiosks on this machine.
# Arguments go to `stations demo` (for example --headless --seconds 15).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/stations demo "$@"
