"""Who may see the teacher view: the lock, the PIN's back-off and the unlock's end. Pure.

The hub service owns one :class:`TeacherAccess` on its ingest thread and shows its state in
the HubView; the display's keypad and, later, the teacher console change it only through
the service's actions (``teacher_pin``, ``unlock_teacher_view``, ``lock_teacher_view``).

- A right PIN unlocks the teacher view for ``timeout_s`` (``[display]
  teacher_timeout_seconds``); a signed-in console unlocks it until the time it names.
- A wrong PIN unlocks nothing. After :data:`FREE_TRIES` wrong PINs in a row the keypad
  pauses, :data:`PAUSE_S` at first and twice as long after every further wrong PIN, up to
  :data:`PAUSE_MAX_S`; a right PIN clears the count.
- The display locks it again at once when the lesson screen is left alone (see
  :mod:`hub.controls`) or the teacher goes back to the class view.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

FREE_TRIES = 3
PAUSE_S = 30.0
PAUSE_MAX_S = 300.0


class PinOutcome(Enum):
    RIGHT = "right"
    WRONG = "wrong"
    #: The keypad is paused after too many wrong PINs: the PIN was not even checked.
    PAUSED = "paused"
    #: No PIN is set for this hub: only the console can unlock the teacher view.
    NO_PIN = "no_pin"


@dataclass(frozen=True, slots=True)
class AccessView:
    """What the display needs to know about the lock, in the HubView."""

    unlocked_until: float = 0.0
    paused_until: float = 0.0
    #: PINs tried since start: the keypad sees its answer arrive when this grows.
    attempts: int = 0
    #: Wrong PINs in a row.
    failures: int = 0
    pin_set: bool = False

    def unlocked(self, now: float) -> bool:
        return now < self.unlocked_until


class TeacherAccess:
    def __init__(self, pin_set: bool, timeout_s: float) -> None:
        self.pin_set = pin_set
        self.timeout_s = timeout_s
        self.unlocked_until = 0.0
        self.paused_until = 0.0
        self.failures = 0
        self.attempts = 0
        self.checking = False

    def may_try(self, now: float) -> PinOutcome | None:
        """None if a PIN may be checked now, else why not (paused, no PIN set)."""
        if not self.pin_set:
            return PinOutcome.NO_PIN
        if now < self.paused_until or self.checking:
            return PinOutcome.PAUSED
        return None

    def checked(self, right: bool, now: float) -> PinOutcome:
        """Record the answer of one PIN check."""
        self.attempts += 1
        self.checking = False
        if right:
            self.failures, self.paused_until = 0, 0.0
            self.unlocked_until = now + self.timeout_s
            return PinOutcome.RIGHT
        self.failures += 1
        if self.failures >= FREE_TRIES:
            pause = PAUSE_S * 2 ** (self.failures - FREE_TRIES)
            self.paused_until = now + min(PAUSE_MAX_S, pause)
        return PinOutcome.WRONG

    def unlock(self, until: float) -> None:
        self.unlocked_until = max(self.unlocked_until, until)

    def lock(self) -> None:
        self.unlocked_until = 0.0

    def view(self) -> AccessView:
        return AccessView(self.unlocked_until, self.paused_until, self.attempts, self.failures,
                          self.pin_set)
