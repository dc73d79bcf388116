"""What the console's lesson page shows, made from the hub's :class:`~hub.view.HubView`. Pure.

The same questions the hub display asks (:mod:`hub.view`: who is where, group labels, the
banner), so the two never disagree: the class view names groups by their public names and
shows no flag; the teacher view adds the teacher's group names, the reflection flags and
the warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.console.i18n import N_
from hub.view import HubView, counts, group_label, message, people_at

#: As long as the display keeps its banner.
MESSAGE_S = 8.0
#: Statuses in the order the display sorts them, with the mark beside the name (a shape and
#: a word as well as a colour: colour-blind teachers read it too).
STATUS_MARK = {"present": "✓", "missing": "?", "wrong": "→", "visitor": "↩", "absent": "–"}


@dataclass(frozen=True, slots=True)
class PersonRow:
    handle: str
    name: str
    status: str
    other: str
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StationCard:
    id: str
    name: str
    colour: str
    online: bool
    group: str
    #: ``group`` is a word to translate ("Playlist", "Flex"), not a group's name.
    generic: bool
    here: int
    expected: int
    people: tuple[PersonRow, ...]


@dataclass(frozen=True, slots=True)
class NextMove:
    group: str
    station: str
    colour: str


@dataclass(frozen=True, slots=True)
class Clock:
    """The countdown's facts; the page ticks it on its own clock between updates."""

    phase: str
    block: int
    blocks: int
    remaining_s: float
    moving_s: float
    warning: bool

    def key(self, at: float) -> tuple[object, ...]:
        """Equal while nothing but time passes (the block's end stays put)."""
        if self.phase == "running":
            return (self.phase, self.block, round(at + self.remaining_s),
                    round(at + self.moving_s) if self.moving_s else 0, self.warning)
        return (self.phase, self.block, round(self.remaining_s), round(self.moving_s))

    def as_dict(self) -> dict[str, object]:
        return {"phase": self.phase, "block": self.block, "blocks": self.blocks,
                "remaining": round(self.remaining_s, 1), "moving": round(self.moving_s, 1),
                "warning": self.warning}


@dataclass(frozen=True, slots=True)
class Lesson:
    class_title: str
    room: str
    clock: Clock
    connected: bool
    cards: tuple[StationCard, ...]
    next_moves: tuple[NextMove, ...]
    #: "last" in the last block of a station rotation, "" otherwise
    next_note: str
    banner: str
    suggested: bool
    teacher: bool
    #: Teacher view only:
    flags: tuple[tuple[str, tuple[str, ...]], ...]
    warnings: tuple[str, ...]
    counts: dict[str, int]
    stored: int
    display_unlocked_until: float


def lesson(view: HubView, *, teacher: bool, now: float, handle) -> Lesson:  # type: ignore[no-untyped-def]
    """The lesson page's content; ``handle(student_id)`` makes the page's opaque ids."""
    rot = view.rotation
    infos = {s.id: s for s in view.stations}
    ids = [s.id for s in view.stations] or list(view.station_names)
    cards = []
    for sid in ids:
        people = people_at(view, sid)
        group = rot.assignments.get(sid, "")
        label = group_label(view, group, teacher=teacher) if group else ""
        generic = not label and rot.model.value != "station-rotation" and bool(people)
        if generic:
            label = N_("Playlist") if rot.model.value == "individual-rotation" else N_("Flex")
        info = infos.get(sid)
        cards.append(StationCard(
            sid, view.station_names.get(sid, sid), info.colour if info else "",
            view.station_states.get(sid) == "online", label, generic,
            sum(p.status == "present" for p in people),
            sum(p.status != "visitor" for p in people),
            tuple(PersonRow(handle(p.student_id), p.name, p.status, p.other,
                            view.flags.get(p.student_id, ()) if teacher else ())
                  for p in people)))
    moves: list[NextMove] = []
    note = ""
    if rot.phase.value in ("running", "paused"):
        nxt = rot.next_assignments
        if not nxt and rot.model.value == "station-rotation":
            note = "last"
        moves = [NextMove(group_label(view, nxt[s.id], teacher=teacher), s.name, s.colour)
                 for s in view.stations if nxt.get(s.id)]
    names = view.student_names
    flagged = tuple(sorted(((names.get(sid, sid), texts) for sid, texts in view.flags.items()),
                           key=lambda kv: kv[0])) if teacher else ()
    return Lesson(
        class_title=view.class_title, room=view.room,
        clock=Clock(rot.phase.value, rot.block + 1, rot.blocks, rot.remaining_s, rot.moving_s,
                    rot.warning),
        connected=view.connected, cards=tuple(cards), next_moves=tuple(moves),
        next_note=note, banner=message(view, now, teacher=teacher, show_s=MESSAGE_S),
        suggested=view.suggested_groups is not None, teacher=teacher, flags=flagged,
        warnings=view.warnings if teacher else (), counts=counts(view) if teacher else {},
        stored=view.stored if teacher else 0,
        display_unlocked_until=view.access.unlocked_until)


def lesson_choice(view: HubView) -> tuple[str, str]:
    """The class and plan a new lesson starts with unless the teacher picks others: the
    timetable's class of the hour (its plan, else its first), else the last lesson's."""
    proposed = next((c for c in view.lesson_choices if c.proposed and c.plans), None)
    if proposed is not None:
        return proposed.class_id, proposed.proposed_plan or proposed.plans[0][0]
    return view.class_id, view.plan_id
