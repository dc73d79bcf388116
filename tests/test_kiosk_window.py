"""The kiosk window's input and sound, under SDL's dummy drivers, against a real runtime."""

from __future__ import annotations

import array
from pathlib import Path

import pygame
import pytest

from kiosk.app import KioskWindow
from kiosk.config import load_kiosk_config
from kiosk.readers.simulated import SimulatedReader
from kiosk.runtime import KioskRuntime
from kiosk.screens.base import Layout, ScreenId
from kiosk.sound import RATE, TUNES, Sound, tone
from tests.conftest import ROOM


@pytest.fixture
def window(tmp_path: Path):
    text = (ROOM / "kiosk.toml").read_text().replace("port = 1883", "port = 1")
    (tmp_path / "kiosk.toml").write_text(text)
    runtime = KioskRuntime(load_kiosk_config(tmp_path / "kiosk.toml"), SimulatedReader())
    pygame.init()
    pygame.display.set_mode((800, 480))
    runtime.ctx.layout = Layout(800, 480)
    try:
        yield KioskWindow(runtime)
    finally:
        runtime.outbox.close()
        pygame.quit()


def test_one_touch_is_one_press_even_with_its_synthesised_mouse_event(window) -> None:
    from broker import contract as c

    rt = window.runtime
    # two questions with the same layout: a double press would answer both
    rt.ctx.rotation = c.RotationState(**c.envelope("hub"), state="running", block=0, blocks=1,
                                      remaining_s=60, questions=("confidence", "mood"))
    rt.reader.start(lambda tap: rt.events.put(("tap", tap)))
    rt.reader.tap("04AB12CD")
    rt.step()
    rt.machine.update(rt.clock() + 3)  # on to the first question
    assert rt.machine.screen_id is ScreenId.REFLECTION
    first = rt.machine.current.buttons(rt.ctx)[0]
    # Under KMS/DRM a finger arrives as FINGERDOWN and again as a mouse event marked touch.
    pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, x=first.center[0] / 800,
                                         y=first.center[1] / 480, touch_id=1, finger_id=0))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=first.center, button=1,
                                         touch=True))
    window._events(pygame)
    rt.step()
    # one answer given, not two: now asking the second question
    assert rt.ctx.visit.answers == {"confidence": 1}
    assert rt.machine.screen_id is ScreenId.REFLECTION
    rt.press(*first.center)
    assert rt.machine.screen_id is ScreenId.CHOICE
    # a real mouse click (touch False) is a press
    choice = rt.machine.current.buttons(rt.ctx)[0]
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=choice.center, button=1,
                                         touch=False))
    window._events(pygame)
    assert rt.machine.screen_id is ScreenId.GO


def test_typed_badge_taps_the_simulated_reader(window) -> None:
    for char in "04ab12cd\r":
        window._key(char)
    assert [t.badge for t in window.runtime.reader.taps] == ["04AB12CD"]


def test_tones_are_real_pcm_of_the_right_length() -> None:
    for notes in TUNES.values():
        pcm = array.array("h", tone(notes))
        assert len(pcm) == sum(RATE * ms // 1000 for _, ms in notes)
        assert max(pcm) > 5000 and min(pcm) < -5000  # audible, both half-waves
        assert abs(pcm[0]) < 200 and abs(pcm[-1]) < 2000  # faded: no click


def test_sound_plays_through_the_mixer() -> None:
    pygame.init()
    try:
        sound = Sound()
        assert set(sound._sounds) == set(TUNES)  # the dummy audio driver has a mixer
        sound.signal("accepted")
        assert pygame.mixer.get_busy()
        sound.signal("not-a-sound")  # unknown kinds are ignored
    finally:
        pygame.quit()
