"""Builds the puck's parts from ``machine`` and the pin map (``stationpuck/pins.py``)."""

from stationpuck import pins
from stationpuck.button import Button
from stationpuck.buzzer import Buzzer
from stationpuck.mfrc522 import MFRC522
from stationpuck.rgbled import RGBLed


def build(machine, clock):
    """(reader, led, buzzer, buttons) wired as in hardware/pinmap.toml [puck]."""
    Pin, PWM = machine.Pin, machine.PWM
    spi = machine.SPI(pins.SPI_BUS, baudrate=pins.SPI_BAUDRATE, polarity=0, phase=0,
                      sck=Pin(pins.SPI_SCK), mosi=Pin(pins.SPI_MOSI), miso=Pin(pins.SPI_MISO))
    reader = MFRC522(spi, Pin(pins.SPI_CS), Pin(pins.READER_RST), sleep_ms=clock.sleep_ms)
    led = RGBLed(PWM(Pin(pins.LED_RED)), PWM(Pin(pins.LED_GREEN)), PWM(Pin(pins.LED_BLUE)))
    buzzer = Buzzer(PWM(Pin(pins.BUZZER)))
    buttons = [Button(Pin(gpio), ticks_diff=clock.ticks_diff) for gpio in pins.BUTTONS]
    return reader, led, buzzer, buttons
