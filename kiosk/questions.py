"""The reflection questions a class can ask, by the ids the hub sends in RotationState.

Each is four answers with a face or picture, valued 1-4. Prompts and labels are msgids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.screens.base import N_


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    prompt: str
    #: (value, label, icon) from lowest to highest
    answers: tuple[tuple[int, str, str], ...]


QUESTIONS: dict[str, Question] = {q.id: q for q in (
    Question("confidence", N_("How sure do you feel?"), (
        (1, N_("Not yet"), "face_unsure"), (2, N_("A little"), "face_ok"),
        (3, N_("Mostly"), "face_smile"), (4, N_("I've got it!"), "face_happy"))),
    Question("goal", N_("How is your goal going?"), (
        (1, N_("Not started"), "progress_0"), (2, N_("Started"), "progress_1"),
        (3, N_("Almost"), "progress_2"), (4, N_("Done!"), "progress_3"))),
    Question("mood", N_("How do you feel today?"), (
        (1, N_("Sad"), "face_unsure"), (2, N_("Tired"), "face_tired"),
        (3, N_("OK"), "face_ok"), (4, N_("Happy"), "face_happy"))),
)}


def known(ids: Iterable[str]) -> tuple[str, ...]:
    """The ids this kiosk can ask, in order; unknown ones are skipped."""
    return tuple(i for i in ids if i in QUESTIONS)
