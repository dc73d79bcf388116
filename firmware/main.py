"""Entry point on the Pico: wire the parts from the pin map and run the puck forever."""

import time

import machine
from stationpuck.app import Puck
from stationpuck.board import build
from stationpuck.link import usb_link

reader, led, buzzer, buttons = build(machine, time)
Puck(reader, led, buzzer, buttons, usb_link(), time).run()
