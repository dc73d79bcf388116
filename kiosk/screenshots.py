"""Pictures of every kiosk screen, for the docs and for reviewing translations.

``stations screenshots --out docs/screens`` draws each screen in a typical state, in every
language asked for, at 800x480 (the official 7-inch display) unless told otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import msgspec

from broker import contract as c
from kiosk.i18n import translator
from kiosk.machine import KioskMachine
from kiosk.screens.base import Context, Layout, ScreenId, Visit

MENU = (c.Activity("read", "Read", "book", {"es": "Leer"}),
        c.Activity("write", "Write", "pencil", {"es": "Escribir"}),
        c.Activity("listen", "Listen", "headphones", {"es": "Escuchar"}),
        c.Activity("puzzle", "Puzzle", "puzzle"))  # no Spanish label: the teacher's words
ROTATION = c.RotationState(
    v=1, id="0" * 32, sender="hub", ts=1.8e9, state="running", block=1, blocks=4,
    remaining_s=487, questions=("confidence", "goal", "mood"),
    stations=(c.StationPlan("s1", "Quiet corner", "independent", "Foxes", MENU, "green",
                            "book", names={"es": "Rincón tranquilo"}),
              c.StationPlan("s2", "Blue table", "collaborative", "Owls", (), "blue",
                            "people", names={"es": "Mesa azul"}),
              c.StationPlan("s3", "Teacher table", "teacher-led", "Otters", (), "orange",
                            "teacher"),
              c.StationPlan("s4", "Computers", "online", "Hawks", (), "purple", "laptop")))
#: The first minute of a block: the class is moving to its new stations.
MOVING = msgspec.structs.replace(ROTATION, remaining_s=705, moving_s=45)


def _reply(go_to: str, name: str) -> c.Reply:
    return c.Reply(v=1, id="1" * 32, sender="hub", ts=1.8e9, in_reply_to="2" * 32,
                   request="checkin", status="accepted", display_name="Ana R.", go_to=go_to,
                   go_to_name=name, avatar="orange")


REJECTED = c.Reply(v=1, id="1" * 32, sender="hub", ts=1.8e9, in_reply_to="2" * 32,
                   request="checkin", status="rejected", reason="activity_not_on_menu")


#: Four earlier check-ins, as the hub sends them to the student's own tap.
HISTORY = (c.PastReflection({"confidence": 1, "goal": 1}),
           c.PastReflection({"confidence": 2, "goal": 2}),
           c.PastReflection({"confidence": 2, "goal": 3}),
           c.PastReflection({"confidence": 3, "goal": 3}))


def scenes(layout: Layout, language: str = "en") -> Iterator[tuple[str, KioskMachine]]:
    """(name, machine showing it) for every screen and the states worth seeing."""
    def machine(screen: ScreenId, *, online: bool = True, question: int = 0,
                reply: c.Reply | None = None, named: bool = True,
                notice: str = "", rotation: c.RotationState = ROTATION,
                history: tuple[c.PastReflection, ...] = ()) -> KioskMachine:
        counter = itertools.count()
        ctx = Context(station="s1", station_name="Quiet corner", fallback_activities=MENU,
                      layout=layout, online=online, rotation=rotation, language=language)
        m = KioskMachine(ctx, lambda: f"{next(counter):032x}", 0.0)
        m.current = m.screens[screen]
        if screen is not ScreenId.IDLE:
            ctx.visit = Visit("04AB12CD", 0.0, display_name="Ana R." if named else "",
                              avatar="orange" if named else "", question=question,
                              reply=reply, history=history)
        if notice:
            ctx.notice = c.Notice(v=1, id="3" * 32, sender="hub", ts=1.8e9, event=notice,
                                  block=1, remaining_s=120)
        return m

    yield "idle", machine(ScreenId.IDLE)
    yield "idle-offline", machine(ScreenId.IDLE, online=False)
    yield "idle-notice-warning", machine(ScreenId.IDLE, notice="warning")
    yield "idle-notice-move", machine(ScreenId.IDLE, notice="move", rotation=MOVING)
    yield "welcome", machine(ScreenId.WELCOME)
    yield "welcome-offline", machine(ScreenId.WELCOME, online=False, named=False)
    yield "history", machine(ScreenId.HISTORY, history=HISTORY)
    for k, question in enumerate(ROTATION.questions):
        yield f"reflection-{question}", machine(ScreenId.REFLECTION, question=k)
    yield "choice", machine(ScreenId.CHOICE)
    yield "choice-moving", machine(ScreenId.CHOICE, rotation=MOVING)
    yield "go-elsewhere", machine(ScreenId.GO, reply=_reply("s2", "Blue table"))
    yield "go-stay", machine(ScreenId.GO, reply=_reply("s1", "Quiet corner"))
    yield "go-sending", machine(ScreenId.GO)
    yield "go-offline", machine(ScreenId.GO, online=False)
    yield "go-rejected", machine(ScreenId.GO, reply=REJECTED)
    yield "unknown", machine(ScreenId.UNKNOWN)


def save_screenshots(out: Path, languages: list[str], size: tuple[int, int]) -> list[Path]:
    import pygame

    from stations.ui.painter import Painter

    pygame.display.init()
    pygame.font.init()
    written = []
    try:
        layout = Layout(*size)
        surface = pygame.Surface(size)
        for language in languages:
            folder = out / language
            folder.mkdir(parents=True, exist_ok=True)
            painter = Painter(surface, translator(language))
            for name, m in scenes(layout, language):
                m.current.draw(m.ctx, painter, 0.5)
                path = folder / f"{name}-{size[0]}x{size[1]}.png"
                pygame.image.save(surface, str(path))
                written.append(path)
    finally:
        pygame.quit()
    return written
