"""Makes ``firmware/`` (the MicroPython sources, package ``stationpuck``) importable in tests."""

import sys
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
if str(FIRMWARE) not in sys.path:
    sys.path.insert(0, str(FIRMWARE))
