"""What the teacher asks the hub to do: one small value passed from the display to the service."""

from __future__ import annotations

from dataclasses import dataclass, field


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
