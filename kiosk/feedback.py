"""Lights, buzzer and buttons of a station, through gpiozero devices.

A station has a base status (idle, offline, reader fault) and short signals on top of it
(accepted, unknown badge, error). A signal shows for ``signal_s`` seconds, then the light
returns to the base status. Nothing here blocks the caller: gpiozero runs blinks, pulses
and beeps in its own background threads, and a timer restores the base status.

===============  ==============================  ==============================
what             light                           buzzer
===============  ==============================  ==============================
idle             slow breathing, dim white       —
offline          steady blue                     —
reader fault     red blink (0.5 s on, 0.5 s off)  —
accepted         green                           one short beep (0.1 s)
unknown badge    red                             two beeps (0.1 s, 0.1 s apart)
error            red                             one long beep (0.4 s)
===============  ==============================  ==============================

Pins come from the caller (the kiosk reads them from the station's pin map); every device
takes ``pin_factory`` so tests use gpiozero's MockFactory, and the timer that ends a signal
is passed in (``after``) so tests end it when they choose instead of sleeping.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)

GREEN = (0.0, 1.0, 0.0)
RED = (1.0, 0.0, 0.0)
BLUE = (0.0, 0.0, 1.0)
IDLE_GLOW = (0.25, 0.25, 0.25)
OFF = (0.0, 0.0, 0.0)


class Status(enum.Enum):
    IDLE = "idle"
    OFFLINE = "offline"
    FAULT = "fault"


class Signal(enum.Enum):
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    ERROR = "error"


# (colour, beep on seconds, beep off seconds, beep count)
_SIGNALS = {
    Signal.ACCEPTED: (GREEN, 0.1, 0.0, 1),
    # Red with two short beeps; an error is red with one long beep: told apart by sound.
    Signal.UNKNOWN: (RED, 0.1, 0.1, 2),
    Signal.ERROR: (RED, 0.4, 0.0, 1),
}


class Cancellable(Protocol):
    def cancel(self) -> None: ...


#: ``after(seconds, fn)``: call ``fn`` once, ``seconds`` from now, unless cancelled first.
After = Callable[[float, Callable[[], None]], Cancellable]


def after(seconds: float, fn: Callable[[], None]) -> Cancellable:
    """A daemon timer thread: the real clock."""
    timer = threading.Timer(seconds, fn)
    timer.daemon = True
    timer.start()
    return timer


class Feedback:
    """The station's RGB LED, buzzer and buttons.

    ``common_anode`` for LEDs whose common leg goes to 3.3 V; ``idle`` is ``"breathe"``
    (PWM fade in and out), ``"glow"`` (steady dim) or ``"off"``. ``buttons`` maps a name
    (``"ok"``, ``"back"``) to a GPIO pin; presses go to the ``on_button`` callback with
    the name, from gpiozero's event thread.
    """

    def __init__(self, *, red: int | str, green: int | str, blue: int | str,
                 buzzer: int | str | None = None, buttons: Mapping[str, int | str] = {},
                 common_anode: bool = False, idle: str = "breathe", signal_s: float = 1.5,
                 pin_factory=None, after: After = after) -> None:
        from gpiozero import RGBLED, Button, Buzzer

        if idle not in ("breathe", "glow", "off"):
            raise ValueError(f"idle must be breathe, glow or off, not {idle!r}")
        self.idle = idle
        self.signal_s = signal_s
        self._after = after
        self._lock = threading.Lock()
        self._timer: Cancellable | None = None
        #: Signals shown so far: a timer that fires after a newer signal replaced its own
        #: (cancelled too late) leaves the newer one alone.
        self._signals = 0
        self._status = Status.IDLE
        self._on_button: Callable[[str], None] | None = None
        self._devices: list = []
        try:
            self.led = RGBLED(red, green, blue, active_high=not common_anode, pwm=True,
                              pin_factory=pin_factory)
            self._devices.append(self.led)
            self.buzzer = None
            if buzzer is not None:
                self.buzzer = Buzzer(buzzer, pin_factory=pin_factory)
                self._devices.append(self.buzzer)
            self.buttons = {}
            for name, pin in buttons.items():
                button = Button(pin, pull_up=True, bounce_time=0.05, pin_factory=pin_factory)
                button.when_pressed = lambda _dev, name=name: self._pressed(name)
                self.buttons[name] = button
                self._devices.append(button)
        except Exception:
            self.close()
            raise
        self._show_status()

    # ---- public -----------------------------------------------------------------------------
    @property
    def status(self) -> Status:
        return self._status

    def set_status(self, status: Status) -> None:
        """Change the base status; shown at once unless a signal is showing."""
        with self._lock:
            if status == self._status:
                return
            self._status = status
            if self._timer is None:
                self._show_status_locked()

    def show(self, signal: Signal) -> None:
        """Show a signal for ``signal_s`` seconds, then go back to the base status."""
        colour, beep_on, beep_off, beeps = _SIGNALS[signal]
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self.led.color = colour
            if self.buzzer is not None:
                self.buzzer.beep(on_time=beep_on, off_time=beep_off, n=beeps, background=True)
            self._signals += 1
            shown = self._signals
            self._timer = self._after(self.signal_s, lambda: self._signal_over(shown))

    def on_button(self, callback: Callable[[str], None] | None) -> None:
        self._on_button = callback

    # ---- the kiosk runtime's feedback interface -----------------------------------------------
    def signal(self, kind: str) -> None:
        """A state-machine signal by name: ``accepted``, ``unknown`` or ``error``."""
        by_name = {s.value: s for s in Signal}
        if kind in by_name:
            self.show(by_name[kind])

    def station_state(self, online: bool, reader_ok: bool) -> None:
        """The base light follows the station: reader fault first, then offline, else idle."""
        self.set_status(Status.FAULT if not reader_ok else
                        Status.IDLE if online else Status.OFFLINE)

    @classmethod
    def from_pinmap(cls, board, *, pin_factory=None,  # type: ignore[no-untyped-def]
                    **options) -> Feedback:
        """Build from a :class:`kiosk.pinmap.Board`: signals ``led_*``, ``buzzer``, ``button_*``."""
        sig = board.signals
        buttons = {name: s.gpio for name, s in sig.items() if name.startswith("button_")}
        return cls(red=sig["led_red"].gpio, green=sig["led_green"].gpio,
                   blue=sig["led_blue"].gpio,
                   buzzer=sig["buzzer"].gpio if "buzzer" in sig else None,
                   buttons=buttons, pin_factory=pin_factory, **options)

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        for device in reversed(self._devices):
            device.close()
        self._devices.clear()

    # ---- inside -------------------------------------------------------------------------------
    def _pressed(self, name: str) -> None:
        callback = self._on_button
        if callback is None:
            return
        try:
            callback(name)
        except Exception:
            log.exception("feedback: button handler failed for %s", name)

    def _signal_over(self, shown: int) -> None:
        with self._lock:
            if shown != self._signals:
                return
            self._timer = None
            if self._devices:
                self._show_status_locked()

    def _show_status(self) -> None:
        with self._lock:
            self._show_status_locked()

    def _show_status_locked(self) -> None:
        if self._status == Status.FAULT:
            self.led.blink(on_time=0.5, off_time=0.5, on_color=RED, off_color=OFF,
                           background=True)
        elif self._status == Status.OFFLINE:
            self.led.color = BLUE
        elif self.idle == "breathe":
            self.led.pulse(fade_in_time=2.0, fade_out_time=2.0, on_color=IDLE_GLOW,
                           off_color=OFF, background=True)
        elif self.idle == "glow":
            self.led.color = IDLE_GLOW
        else:
            self.led.off()
