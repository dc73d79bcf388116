#!/usr/bin/env bash
# Refresh the kiosk's translation catalogs: extract msgids, merge into each language, compile.
# Needs Babel (in the `test` extra). Translate the new entries in kiosk/locale/*/LC_MESSAGES/kiosk.po,
# then run this again to compile them.
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel extract -k _ -k N_ --no-location --sort-output --project classroom-stations \
    -o kiosk/locale/kiosk.pot kiosk/ stations/ui/
pybabel update --no-fuzzy-matching --ignore-obsolete -i kiosk/locale/kiosk.pot -D kiosk \
    -d kiosk/locale
pybabel compile --statistics -D kiosk -d kiosk/locale
