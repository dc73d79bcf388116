"""Spoken prompts with the real espeak-ng: every piece of every catalog in EN and ES is a clip
that is not silent, builds render only what changed, names never reach the disk, and the
frame loop never waits for speech."""

from __future__ import annotations

import array
import io
import itertools
import logging
import threading
import wave
from pathlib import Path

import pytest

from broker import contract as c
from kiosk.i18n import translator
from kiosk.machine import KioskMachine, Speak
from kiosk.screens.base import Context, Layout, Say, Tap
from kiosk.screenshots import scenes
from kiosk.speaker import MixerPlayer, Speaker
from kiosk.speech import catalog_msgids, literal_pieces
from kiosk.voice import CATALOG, ClipCache, build, missing_clips

pytestmark = pytest.mark.voice
LANGUAGES = ("en", "es")


def rms(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getsampwidth() == 2 and w.getnframes() > 0
        samples = array.array("h", w.readframes(w.getnframes()))
    return (sum(s * s for s in samples) / len(samples)) ** 0.5


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> ClipCache:
    import shutil

    from kiosk.voice import Espeak
    from tests.conftest import need

    need("espeak-ng", shutil.which("espeak-ng") is not None, "sudo apt-get install espeak-ng")
    cache = ClipCache(tmp_path_factory.mktemp("voice"), Espeak())
    build(cache, LANGUAGES)
    return cache


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_msgid_is_a_clip_that_is_not_silent(built: ClipCache, language: str) -> None:
    gettext = translator(language)
    checked = 0
    for msgid in catalog_msgids():
        for piece in literal_pieces(gettext(msgid)):
            path = built.find(piece, language)
            assert path is not None, f"no clip for {piece!r} ({msgid!r}) in {language}"
            assert rms(path.read_bytes()) > 300, f"the clip for {piece!r} is silent"
            checked += 1
    assert checked >= len(catalog_msgids())
    assert missing_clips(built, [language]) == []


def test_whatever_a_screen_says_is_in_the_catalog() -> None:
    """So a new line a screen speaks fails here until the catalog (and so the build) has it."""
    msgids = set(catalog_msgids())
    said: set[str] = set()
    for _name, m in scenes(Layout()):
        for line in m.current.speech(m.ctx):
            if line.msgid:
                said.add(line.msgid)
    assert said and said <= msgids, f"spoken but not in the catalog: {said - msgids}"


def test_a_missing_clip_is_named(built: ClipCache, tmp_path: Path) -> None:
    cache = ClipCache(tmp_path / "voice", built.engine)
    build(cache, ["en"])
    gone = cache.path("Tap your badge", "en")
    gone.unlink()
    assert missing_clips(cache, ["en"]) == [("en", "Tap your badge")]


def test_a_changed_translation_renders_only_itself(espeak, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ClipCache(tmp_path / "voice", espeak)
    first = build(cache, ["es"])
    assert first.rendered == first.clips["es"] > 30
    original = translator("es")
    monkeypatch.setattr("kiosk.voice.translator", lambda lang: lambda msgid: (
        "¡Toca tu tarjeta!" if msgid == "Tap your badge" else original(msgid)))
    again = build(cache, ["es"])
    assert (again.rendered, again.removed) == (1, 1)
    assert cache.find("¡Toca tu tarjeta!", "es") is not None


class Frames:
    """An injected clock: each frame is 1/30 s later, whatever the machine's own speed."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_frames_keep_coming_while_a_clip_plays(built: ClipCache, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    import pygame

    from stations.ui.painter import Painter

    pygame.mixer.pre_init(frequency=22050, size=-16, channels=1)
    pygame.init()
    try:
        player = MixerPlayer(1.0)
        played_on: list[threading.Thread] = []
        play = player.play

        def recording_play(wav: bytes) -> None:
            played_on.append(threading.current_thread())
            play(wav)
        player.play = recording_play  # type: ignore[method-assign]
        speaker = Speaker(built, player, translator)
        counter = itertools.count()
        ctx = Context(station="s1", station_name="Quiet corner",
                      fallback_activities=(c.Activity("read", "Read", "book"),))
        clock = Frames()
        machine = KioskMachine(ctx, lambda: f"{next(counter):032x}", clock())
        surface = pygame.Surface((800, 480))
        painter = Painter(surface, translator("en"))
        drawn = speaking = 0
        for frame in range(90):  # three seconds of frames, by the injected clock
            clock.now = frame / 30
            effects = machine.dispatch(Tap("04AB12CD"), clock.now) if frame == 0 else \
                machine.update(clock.now)
            for effect in effects:
                if isinstance(effect, Speak):
                    speaker.say(effect)  # returns at once
            machine.current.draw(ctx, painter, clock.now)
            drawn += 1
            speaking += player.busy()
            # Real time passes for the sound card; the frame's own work does not wait.
            threading.Event().wait(1 / 30)
        speaker.close()
        assert drawn == 90
        assert speaking >= 10, "no frame was drawn while a clip played"
        assert played_on and all(t is not threading.main_thread() for t in played_on)
    finally:
        pygame.quit()


def test_names_are_spoken_from_memory_and_missing_clips_logged_once(
        built: ClipCache, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.clips: list[bytes] = []
            self.done = threading.Event()

        def play(self, wav: bytes) -> None:
            self.clips.append(wav)
            if len(self.clips) == 4:
                self.done.set()

        def busy(self) -> bool:
            return False

        def stop(self) -> None:
            pass

    cache = ClipCache(tmp_path / "voice", built.engine)
    build(cache, ["en"])
    cache.path("OK", "en").unlink()
    recorder = Recorder()
    speaker = Speaker(cache, recorder, translator)
    caplog.set_level(logging.WARNING, "kiosk.speaker")
    for _ in range(2):
        speaker.say(Speak((Say("Hi, {name}!", (("name", "Zoë"),), private=True), Say("OK")),
                          "en", interrupt=False))
    assert recorder.done.wait(10)
    speaker.close()
    assert len(recorder.clips) == 4  # "Hi," and the name, twice; "OK" has no clip
    assert all(rms(clip) > 300 for clip in recorder.clips)
    assert [r.message.count("'OK'") for r in caplog.records] == [1]  # once, not twice
    written = {p.name for p in cache.folder.rglob("*.wav")}
    assert cache.key("Zoë", "en") + ".wav" not in written
    assert not (cache.folder / "values").exists()
    assert (cache.folder / CATALOG / "en").is_dir()


def test_two_kiosks_writing_one_clip_at_once_never_share_a_half_written_file(
        built: ClipCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kiosks that share a cache (the demo's four) render a menu label at the same moment:
    each writes a file of its own and renames it, so neither fails nor leaves a clip cut short
    (with one shared temporary name, the second rename found nothing, or a half-written file
    became the clip, which SDL then could not read)."""
    import os
    import types

    import stations.files

    cache = ClipCache(tmp_path / "voice", built.engine)
    both_written = threading.Barrier(2, timeout=20)

    def replace(src: str | Path, dst: str | Path) -> None:
        both_written.wait()  # each writer has written its whole file before either renames
        os.replace(src, dst)

    monkeypatch.setattr(stations.files, "os", types.SimpleNamespace(**{**vars(os),
                                                                        "replace": replace}))
    errors: list[BaseException] = []

    def render() -> None:
        try:
            cache.render("Quiet corner", "en", "values")
        except BaseException as err:  # the test reports it
            errors.append(err)

    writers = [threading.Thread(target=render) for _ in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(30)
    assert errors == []
    clip = cache.path("Quiet corner", "en", "values")
    assert rms(clip.read_bytes()) > 300
    assert [p.name for p in clip.parent.iterdir()] == [clip.name]  # no temporary file left


def test_a_clip_sdl_cannot_read_is_silence_and_speech_goes_on(
        built: ClipCache, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import pygame

    from tests.conftest import wait_until

    cache = ClipCache(tmp_path / "voice", built.engine)
    broken = cache.path("Quiet corner", "en", "values")
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"RI")  # cut short: SDL cannot read its header
    cache.render("Read", "en", "values")
    pygame.mixer.pre_init(frequency=22050, size=-16, channels=1)
    pygame.init()
    caplog.set_level(logging.WARNING, "kiosk.speaker")
    try:
        speaker = Speaker(cache, MixerPlayer(1.0), translator)
        speaker.say(Speak((Say(text="Quiet corner"), Say(text="Read")), "en"))
        assert wait_until(lambda: speaker.played == 1)
        speaker.close()
    finally:
        pygame.quit()
    (line,) = [r.getMessage() for r in caplog.records]
    assert "Quiet corner" in line and "could not be read" in line
