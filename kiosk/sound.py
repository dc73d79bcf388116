"""Short sounds through the display's speaker (pygame.mixer), made here, no sound files.

An accepted tap chimes up, an unknown badge or an error buzzes low twice, a notice from the
hub rings once. Quiet on purpose: a classroom has many stations.
"""

from __future__ import annotations

import array
import logging
import math

log = logging.getLogger(__name__)

RATE = 22050
# kind → (frequency Hz, milliseconds) notes
TUNES: dict[str, tuple[tuple[float, int], ...]] = {
    "accepted": ((660.0, 90), (990.0, 140)),
    "unknown": ((220.0, 140), (0.0, 60), (220.0, 140)),
    "error": ((180.0, 350),),
    "notice": ((880.0, 120), (0.0, 40), (880.0, 120)),
}


def tone(notes: tuple[tuple[float, int], ...], volume: float = 0.25) -> bytes:
    """16-bit mono PCM of the notes, each with a short fade so it doesn't click."""
    samples = array.array("h")
    for freq, ms in notes:
        n = RATE * ms // 1000
        fade = max(1, min(n // 4, RATE // 200))
        for i in range(n):
            envelope = min(1.0, i / fade, (n - i) / fade)
            value = math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            samples.append(int(32767 * volume * envelope * value))
    return samples.tobytes()


class Sound:
    """Plays the tunes if the mixer works; a station without a speaker stays silent."""

    def __init__(self) -> None:
        import pygame

        self._sounds = {}
        try:
            pygame.mixer.init(frequency=RATE, size=-16, channels=1)
            self._sounds = {kind: pygame.mixer.Sound(buffer=tone(notes))
                            for kind, notes in TUNES.items()}
        except pygame.error as err:
            log.info("no sound: %s", err)

    def signal(self, kind: str) -> None:
        sound = self._sounds.get(kind)
        if sound is not None:
            sound.play()

    def station_state(self, online: bool, reader_ok: bool) -> None:
        pass
