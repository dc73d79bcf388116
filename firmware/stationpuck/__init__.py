"""Station puck firmware: a Pico with an MFRC522 reader, an RGB LED, a buzzer and three buttons.

Every module here runs on MicroPython and, for tests, on CPython: drivers take bus and pin
objects (micropython-lib style) and only ``board.py`` touches ``machine``.
"""

__version__ = "1.0.0"
