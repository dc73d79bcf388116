"""What every kiosk screen shares: screen ids, input events, buttons, the visit and effects.

Screens are pure: ``handle`` and ``update`` change the :class:`Visit` and return the next
:class:`ScreenId` (or None to stay); ``draw`` only paints through the painter it is given and
never changes state. The machine (``kiosk/machine.py``) turns transitions into effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from broker.contract import Activity, Reply, RotationState

if TYPE_CHECKING:
    from stations.ui.painter import Painter

def N_(message: str) -> str:
    """Mark a msgid for the catalog where it is defined; it is translated where drawn."""
    return message


#: The logical screen the layout is drawn on; the app scales it to the real display.
WIDTH, HEIGHT = 800, 480


class ScreenId(Enum):
    IDLE = "idle"
    WELCOME = "welcome"
    REFLECTION = "reflection"
    CHOICE = "choice"
    GO = "go"
    UNKNOWN = "unknown"


# --- events -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Tap:
    badge: str


@dataclass(frozen=True, slots=True)
class Press:
    """A finger or mouse press at logical coordinates."""

    x: int
    y: int


@dataclass(frozen=True, slots=True)
class HubReply:
    reply: Reply


Event = Tap | Press | HubReply


# --- buttons ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Button:
    id: str
    x: int
    y: int
    w: int
    h: int
    label: str
    icon: str

    def contains(self, px: int, py: int) -> bool:
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2


def row_of_buttons(items: list[tuple[str, str, str]], top: int, height: int,
                   gap: int = 24, max_w: int = 230) -> list[Button]:
    """Lay (id, label, icon) items out as one centred row of equal, large buttons."""
    n = max(1, len(items))
    w = min(max_w, (WIDTH - gap * (n + 1)) // n)
    left = (WIDTH - (n * w + (n - 1) * gap)) // 2
    return [Button(i, left + k * (w + gap), top, w, height, label, icon)
            for k, (i, label, icon) in enumerate(items)]


def hit(buttons: list[Button], press: Press) -> Button | None:
    return next((b for b in buttons if b.contains(press.x, press.y)), None)


# --- the visit and the station's view of the room ---------------------------------------------

@dataclass
class Visit:
    """One student's time at the station, from tap to goodbye. Forgotten afterwards."""

    badge: str
    started: float
    hello_id: str = ""
    known: bool | None = None  # None until the hub answers
    display_name: str = ""
    answers: dict[str, int] = field(default_factory=dict)
    activity: str = ""
    checkin_id: str = ""
    reply: Reply | None = None


@dataclass
class Context:
    """What screens read: this station, the room as last heard, and the current visit."""

    station: str
    station_name: str
    fallback_activities: tuple[Activity, ...]
    online: bool = False
    hub_online: bool = False
    reader_ok: bool = True
    rotation: RotationState | None = None
    #: monotonic time the rotation state arrived, to count its ``remaining_s`` down locally
    rotation_at: float = 0.0
    visit: Visit | None = None
    entered_at: float = 0.0

    def activities(self) -> tuple[Activity, ...]:
        if self.rotation is not None:
            for plan in self.rotation.stations:
                if plan.id == self.station and plan.activities:
                    return plan.activities
        return self.fallback_activities

    def name_of_station(self) -> str:
        if self.rotation is not None:
            for plan in self.rotation.stations:
                if plan.id == self.station:
                    return plan.name
        return self.station_name

    def remaining(self, now: float) -> float | None:
        if self.rotation is None or self.rotation.state not in ("running", "paused"):
            return None
        if self.rotation.state == "paused":
            return self.rotation.remaining_s
        return max(0.0, self.rotation.remaining_s - (now - self.rotation_at))


class Screen(Protocol):
    id: ScreenId

    def enter(self, ctx: Context, now: float) -> None: ...

    def buttons(self, ctx: Context) -> list[Button]: ...

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None: ...

    def update(self, ctx: Context, now: float) -> ScreenId | None: ...

    def draw(self, ctx: Context, ui: Painter, now: float) -> None: ...
