"""Speech played beside the frame loop: the window hands lines over and never waits.

One worker thread takes each utterance, finds (or, for names and the teacher's words,
renders) its clips and plays them one after another on a mixer channel of their own, so
sound effects still play over them. A new screen interrupts; the rest of a screen (the
hub's answer arriving) follows what is being said. A catalog clip that is missing is not
said, with one log line per clip: ``stations voice build`` renders them.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kiosk.machine import Speak
from kiosk.speech import Part, parts
from kiosk.voice import VALUES, ClipCache, VoiceError

log = logging.getLogger(__name__)

#: The mixer channel kept for speech (sound effects take any other).
SPEECH_CHANNEL = 0
#: How often the worker looks whether a clip has finished or been interrupted.
POLL_S = 0.02


@dataclass(frozen=True, slots=True)
class _Job:
    parts: list[Part]
    language: str
    interrupt: bool = True
    #: False: only render what is missing (names and labels arriving with the plan).
    play: bool = True


class Player(Protocol):
    def play(self, wav: bytes) -> None: ...

    def busy(self) -> bool: ...

    def stop(self) -> None: ...


class MixerPlayer:
    """pygame.mixer on a reserved channel, at the station's speech volume."""

    def __init__(self, volume: float) -> None:
        import pygame

        self._pygame = pygame
        if not pygame.mixer.get_init():
            raise VoiceError("no sound device: pygame.mixer is not initialised")
        pygame.mixer.set_reserved(SPEECH_CHANNEL + 1)
        self.channel = pygame.mixer.Channel(SPEECH_CHANNEL)
        self.volume = volume

    def play(self, wav: bytes) -> None:
        try:
            sound = self._pygame.mixer.Sound(file=io.BytesIO(wav))
        except self._pygame.error as err:  # a clip SDL cannot read: silence, not a dead thread
            raise VoiceError(f"the clip could not be read ({len(wav)} bytes): {err}") from err
        sound.set_volume(self.volume)
        self.channel.play(sound)

    def busy(self) -> bool:
        return bool(self.channel.get_busy())

    def stop(self) -> None:
        self.channel.stop()


class Speaker:
    def __init__(self, cache: ClipCache, player: Player,
                 translate: Callable[[str], Callable[[str], str]]) -> None:
        self.cache = cache
        self.player = player
        self.translate = translate
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._missing: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        #: Clips played, and missing catalog clips (each logged once).
        self.played = 0
        self.missing = 0
        self._thread = threading.Thread(target=self._run, name="kiosk-speech", daemon=True)
        self._thread.start()

    # --- the frame thread's side: never blocks ---------------------------------------------

    def say(self, speak: Speak) -> None:
        gettext = self.translate(speak.language)
        pieces = [p for line in speak.lines for p in parts(line, gettext)]
        self._queue.put(_Job(pieces, speak.language, speak.interrupt))

    def prepare(self, texts: list[str], language: str) -> None:
        """Render the teacher's words (station names, menu labels) before they are needed."""
        self._queue.put(_Job([Part(t, catalog=False) for t in texts], language, play=False))

    def close(self) -> None:
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=5)

    # --- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        pending: list[tuple[Part, str]] = []
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=POLL_S if pending or self.player.busy()
                                       else None)
            except queue.Empty:
                item = ()
            if item is None:
                break
            if isinstance(item, _Job):
                if not item.play:
                    for part in item.parts:
                        self._clip(part, item.language)
                    continue
                if item.interrupt:
                    pending.clear()
                    self.player.stop()
                pending.extend((p, item.language) for p in item.parts)
                continue
            if self.player.busy() or not pending:
                continue
            part, language = pending.pop(0)
            wav = self._clip(part, language)
            if wav is None:
                continue
            try:
                self.player.play(wav)
            except VoiceError as err:
                log.warning("could not say %r in %s: %s", part.text, language, err)
                continue
            self.played += 1

    def _clip(self, part: Part, language: str) -> bytes | None:
        try:
            if part.private:  # a student's name: spoken from memory, never kept on disk
                return self.cache.engine.render(part.text, language)
            found = self.cache.find(part.text, language)
            if found is not None:
                return found.read_bytes()
            if part.catalog:
                if (part.text, language) not in self._missing:
                    self._missing.add((part.text, language))
                    self.missing += 1
                    log.warning("no clip for %r in %s: run `stations voice build`", part.text,
                                language)
                return None
            return self.cache.render(part.text, language, VALUES).read_bytes()
        except (OSError, VoiceError) as err:
            log.warning("could not say %r in %s: %s", part.text, language, err)
            return None
