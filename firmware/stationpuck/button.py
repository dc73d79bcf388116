"""Debounced push buttons: a press counts once the contact has been stable for ``stable_ms``."""


class Debouncer:
    """Pure debouncing logic: feed raw levels with the time, get True on each clean press."""

    def __init__(self, stable_ms=20, active_low=True, ticks_diff=None):
        self.stable_ms = stable_ms
        self.active_low = active_low
        self._diff = ticks_diff or (lambda a, b: a - b)
        self.pressed = False
        self._raw = None
        self._since = 0

    def update(self, level, now):
        """Returns True when a press has just become stable."""
        active = (not level) if self.active_low else bool(level)
        if active != self._raw:
            self._raw = active
            self._since = now
            return False
        if active != self.pressed and self._diff(now, self._since) >= self.stable_ms:
            self.pressed = active
            return active
        return False


class Button:
    """A button between a GPIO and GND, read with the internal pull-up."""

    def __init__(self, pin, stable_ms=20, ticks_diff=None):
        self.pin = pin
        pin.init(pin.IN, pin.PULL_UP)
        self._debouncer = Debouncer(stable_ms, True, ticks_diff)

    def update(self, now):
        return self._debouncer.update(self.pin.value(), now)
