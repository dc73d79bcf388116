#!/usr/bin/env bash
# Refresh the translation catalogs: extract msgids, merge into each language, compile.
# Two catalogs: the kiosk's (student-facing) and the teacher console's (hub/console, with
# the hub's own teacher-facing text).
# Needs Babel (in the `test` extra). Translate the new entries in
# kiosk/locale/*/LC_MESSAGES/kiosk.po and hub/console/locale/*/LC_MESSAGES/console.po,
# then run this again to compile them.
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel extract -k _ -k N_ --no-location --sort-output --project classroom-stations \
    -o kiosk/locale/kiosk.pot kiosk/ stations/ui/
pybabel update --no-fuzzy-matching --ignore-obsolete -i kiosk/locale/kiosk.pot -D kiosk \
    -d kiosk/locale
pybabel compile --statistics -D kiosk -d kiosk/locale

# The console's catalog also holds what the hub says to the teacher through it: every
# ``Text("...")`` of hub/ (import errors, refusals, reasons, warnings; see stations/text.py).
pybabel extract -F hub/console/babel.cfg -k _ -k N_ -k Text --no-location --sort-output \
    --project classroom-stations -o hub/console/locale/console.pot hub/
mkdir -p hub/console/locale/es/LC_MESSAGES
[ -f hub/console/locale/es/LC_MESSAGES/console.po ] ||
    pybabel init -D console -l es -i hub/console/locale/console.pot -d hub/console/locale
pybabel update --no-fuzzy-matching --ignore-obsolete -i hub/console/locale/console.pot \
    -D console -d hub/console/locale
pybabel compile --statistics -D console -d hub/console/locale
