"""What the teacher asks the hub to do: one small value passed from the display to the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Who asks. ``display``: the classroom screen, where anyone standing at it can touch it;
#: ``console``: a teacher signed in to the console, or the hub's own commands and schedule.
Source = Literal["display", "console"]
#: What the display may do only while its teacher view is unlocked (a PIN, or the console):
#: a student at the screen must not link a spare card to a classmate, revoke one, or end
#: the lesson.
TEACHER_ONLY = frozenset({"enroll_start", "enroll", "reassign", "revoke", "revoke_student",
                          "end"})


@dataclass(frozen=True, slots=True)
class TeacherAction:
    """One teacher action, queued for the ingest thread (see ``HubService.teacher``)."""

    action: str
    minutes: float = 0.0
    student: str = ""
    group: str = ""
    badge: str = ""
    #: ``teacher_pin``: the digits typed on the keypad (never logged, never stored).
    pin: str = field(default="", repr=False)
    #: ``unlock_teacher_view``: until when (Unix seconds).
    until: float = 0.0
    #: ``start_lesson``: the class and its plan ("" the room's); ``suggest_groups``: the
    #: class ("" the current lesson's).
    class_id: str = ""
    plan: str = ""
    #: ``suggest_groups``: skill, mixed, interest, or present (regroup the students here);
    #: the standards to group on (() all); for present, students with no check-in since
    #: ``since`` (Unix seconds; None: since the lesson began) are left out.
    mode: str = ""
    standards: tuple[str, ...] = ()
    since: float | None = None
    #: Where it comes from: the display's controls make ``display`` actions (the default,
    #: so a new path on the shared screen is checked); ``HubService.teacher`` and the
    #: console's actions are ``console``.
    source: Source = "display"
