# ruff: noqa: F821  (metadata, include, package, module come from MicroPython's manifest tool)
# micropython-lib style manifest: freeze the puck into a firmware image with
#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=/path/to/firmware/manifest.py
metadata(
    description="Classroom stations: station puck firmware (MFRC522 reader, RGB LED, buttons)",
    version="1.0.0",
    license="MIT",
)

include("$(PORT_DIR)/boards/manifest.py")
package("stationpuck")
module("main.py")
