#!/usr/bin/env bash
# Set everything up, then run the whole test suite (real Mosquitto, SDL's dummy driver).
# Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy PYGAME_HIDE_SUPPORT_PROMPT=1
.venv/bin/ruff check --quiet . || { echo "test: ruff found problems (above)" >&2; exit 1; }
exec .venv/bin/python -m pytest -q "$@"
