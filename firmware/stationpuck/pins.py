"""Pins of the Station puck (Raspberry Pi Pico / Pico W).

Generated from hardware/pinmap.toml [puck] by
``python -m kiosk.pinmap --micropython puck``; do not edit by hand.
"""

SPI_BUS = 0
SPI_BAUDRATE = 1000000
SPI_SCK = 18
SPI_MOSI = 19
SPI_MISO = 16
SPI_CS = 17
READER_RST = 20
READER_IRQ = 21
LED_RED = 13
LED_GREEN = 14
LED_BLUE = 15
BUZZER = 22
BUTTON_1 = 10
BUTTON_2 = 11
BUTTON_3 = 12
BUTTONS = (10, 11, 12)
