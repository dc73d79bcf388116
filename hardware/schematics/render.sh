#!/bin/sh
# Redraw the schematic pictures: hardware/schematics/{kiosk,puck}.{svg,png}.
# Needs kicad-cli (KiCad 7 or newer; Debian: apt-get install -t bookworm-backports kicad)
# and rsvg-convert (Debian: librsvg2-bin).
set -eu
cd "$(dirname "$0")"
for board in kiosk puck; do
    kicad-cli sch export svg --output . "$board.kicad_sch"
    rsvg-convert --width 1800 --background-color white "$board.svg" --output "$board.png"
done
