"""What every kiosk screen shares: screen ids, input events, layout, buttons, the visit.

Screens are pure: ``handle`` and ``update`` change the :class:`Visit` and return the next
:class:`ScreenId` (or None to stay); ``draw`` only paints through the painter it is given and
never changes state. The machine (``kiosk/machine.py``) turns transitions into effects.
Layout is computed from the display's size, so 800x480, 1280x720, 1920x1080 and portrait all
get full-size targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from broker.contract import Activity, Notice, PastReflection, Reply, RotationState, StationPlan
from stations.ui.widgets import Button

if TYPE_CHECKING:
    from stations.ui.painter import Painter

__all__ = ["Button", "Context", "Event", "HubReply", "Layout", "Press", "ScreenId", "Tap",
           "Visit"]


def N_(message: str) -> str:
    """Mark a msgid for the catalog where it is defined; it is translated where drawn."""
    return message


#: The reference layout; other sizes scale from it.
WIDTH, HEIGHT = 800, 480
#: Smallest touch target, in pixels of the reference layout (children's fingers).
MIN_TARGET = 64
#: Nothing pressable this close to the bottom edge (bezel, elbows, accidental touches).
BOTTOM_MARGIN = 40
#: How long a notice from the hub stays on screen.
NOTICE_S = 12.0


class ScreenId(Enum):
    IDLE = "idle"
    WELCOME = "welcome"
    HISTORY = "history"
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
    """A finger or mouse press at display coordinates."""

    x: int
    y: int


@dataclass(frozen=True, slots=True)
class HubReply:
    reply: Reply


Event = Tap | Press | HubReply


# --- layout and buttons -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Layout:
    w: int = WIDTH
    h: int = HEIGHT

    @property
    def scale(self) -> float:
        """Reference pixels to display pixels: by the short side, so portrait stays large."""
        return min(self.w, self.h) / HEIGHT if self.portrait else min(self.w / WIDTH,
                                                                        self.h / HEIGHT)

    @property
    def portrait(self) -> bool:
        return self.h > self.w

    def px(self, n: float) -> int:
        return max(1, round(n * self.scale))

    @property
    def bar_h(self) -> int:
        return self.px(56)

    @property
    def bottom(self) -> int:
        """The lowest y a control may reach."""
        return self.h - self.px(BOTTOM_MARGIN)


def grid_of_buttons(layout: Layout, items: list[tuple[str, str, str]], top: int,
                    bottom: int | None = None, max_side: int = 240) -> list[Button]:
    """Lay (id, label, icon) items out as large equal buttons, centred, in as few rows as fit.

    Landscape puts up to four in a row; portrait two. Buttons are never smaller than
    MIN_TARGET reference pixels and never reach into the bottom margin.
    """
    if not items:
        return []
    bottom = layout.bottom if bottom is None else bottom
    gap = layout.px(20)
    per_row = min(len(items), 2 if layout.portrait else 4)
    rows = -(-len(items) // per_row)
    w = min(layout.px(max_side), (layout.w - gap * (per_row + 1)) // per_row)
    h = min(layout.px(max_side + 30), (bottom - top - gap * (rows - 1)) // rows)
    w, h = max(w, layout.px(MIN_TARGET)), max(h, layout.px(MIN_TARGET))
    buttons = []
    for k, (ident, label, icon) in enumerate(items):
        row, col = divmod(k, per_row)
        in_row = min(per_row, len(items) - row * per_row)
        left = (layout.w - (in_row * w + (in_row - 1) * gap)) // 2
        buttons.append(Button(ident, left + col * (w + gap), top + row * (h + gap), w, h,
                              label, icon))
    return buttons


def single_button(layout: Layout, ident: str, label: str, icon: str) -> Button:
    """One wide button just above the bottom margin (Next, Done, OK)."""
    w, h = layout.px(240), layout.px(96)
    return Button(ident, (layout.w - w) // 2, layout.bottom - h, w, h, label, icon)


def hit(buttons: list[Button], press: Press) -> Button | None:
    return next((b for b in buttons if b.contains(press.x, press.y)), None)


#: The "hear it" button: a loudspeaker, at least MIN_TARGET, on every screen.
HEAR_SIDE = 72


def hear_button(layout: Layout) -> Button:
    """Top right, just under the strip: clear of every screen's own buttons and text."""
    side = layout.px(HEAR_SIDE)
    return Button("hear", layout.w - side - layout.px(8), layout.bar_h + layout.px(8), side,
                  side, N_("Hear it"), "speaker")


# --- what a screen says -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Say:
    """One line to speak: a msgid with its values (said in the student's language), or
    ``text``, the teacher's own words already in it (an activity label, a station name).

    ``private`` values (a student's first name) are spoken from memory, never kept on disk.
    """

    msgid: str = ""
    values: tuple[tuple[str, str], ...] = ()
    text: str = ""
    private: bool = False


def first_name(display_name: str) -> str:
    """"Ana R." → "Ana": the spoken greeting uses the first name only."""
    first, _, initial = display_name.rpartition(" ")
    return first if first and len(initial) == 2 and initial.endswith(".") else display_name


# --- the visit and the station's view of the room ---------------------------------------------

@dataclass
class Visit:
    """One student's time at the station, from tap to goodbye. Forgotten afterwards."""

    badge: str
    started: float
    hello_id: str = ""
    known: bool | None = None  # None until the hub answers
    display_name: str = ""
    avatar: str = ""
    language: str = ""
    #: The student's own last reflections, from the hub's reply to their tap.
    history: tuple[PastReflection, ...] = ()
    answers: dict[str, int] = field(default_factory=dict)
    question: int = 0  # index into the class's questions
    activity: str = ""
    checkin_id: str = ""
    reply: Reply | None = None


@dataclass
class Context:
    """What screens read: this station, the room as last heard, and the current visit."""

    station: str
    station_name: str
    fallback_activities: tuple[Activity, ...]
    layout: Layout = field(default_factory=Layout)
    online: bool = False
    reader_ok: bool = True
    rotation: RotationState | None = None
    #: monotonic time the rotation state arrived, to count its ``remaining_s`` down locally
    rotation_at: float = 0.0
    notice: Notice | None = None
    notice_at: float = 0.0
    visit: Visit | None = None
    entered_at: float = 0.0
    #: The station's own language; a student's (from the hub) wins during their visit.
    language: str = "en"

    def speaking(self) -> str:
        """The language of the screens now: the student's, else the station's."""
        return (self.visit.language if self.visit is not None else "") or self.language

    def label(self, activity: Activity) -> str:
        return activity.label_in(self.speaking())

    def plan(self, station: str | None = None) -> StationPlan | None:
        wanted = station or self.station
        if self.rotation is not None:
            for plan in self.rotation.stations:
                if plan.id == wanted:
                    return plan
        return None

    def activities(self) -> tuple[Activity, ...]:
        plan = self.plan()
        return plan.activities if plan is not None and plan.activities else \
            self.fallback_activities

    def questions(self) -> tuple[str, ...]:
        from kiosk.questions import known

        ids = self.rotation.questions if self.rotation is not None else ("confidence",)
        return known(ids) or ("confidence",)

    def name_of_station(self, station: str | None = None) -> str:
        """A station's name in the language of the screens (this station's by default)."""
        plan = self.plan(station)
        if plan is not None:
            return plan.name_in(self.speaking())
        return self.station_name if station in (None, self.station) else station

    def remaining(self, now: float) -> float | None:
        if self.rotation is None or self.rotation.state not in ("running", "paused"):
            return None
        if self.rotation.state == "paused":
            return self.rotation.remaining_s
        return max(0.0, self.rotation.remaining_s - (now - self.rotation_at))

    def moving(self, now: float) -> bool:
        """True while the class is moving between stations (the block's first minutes)."""
        rot = self.rotation
        return (rot is not None and rot.state == "running"
                and rot.moving_s - (now - self.rotation_at) > 0)

    def active_notice(self, now: float) -> Notice | None:
        if self.notice is not None and now - self.notice_at < NOTICE_S:
            return self.notice
        return None


class Screen(Protocol):
    id: ScreenId

    def enter(self, ctx: Context, now: float) -> None: ...

    def buttons(self, ctx: Context) -> list[Button]: ...

    def handle(self, ctx: Context, event: Event, now: float) -> ScreenId | None: ...

    def update(self, ctx: Context, now: float) -> ScreenId | None: ...

    def draw(self, ctx: Context, ui: Painter, now: float) -> None: ...

    def speech(self, ctx: Context) -> tuple[Say, ...]: ...
