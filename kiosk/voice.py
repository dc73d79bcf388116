"""The station's voice: an offline speech engine, and clips rendered ahead of time.

espeak-ng (Debian's package) speaks every language by default. Piper speaks a language when
IT has installed its binary and a voice for it (the provisioning inventory names the voices;
nothing is ever downloaded at run time). Clips live in a cache folder, one WAV file per
piece of text, named by a hash of the text, its language and the engine's voice and version,
so a changed catalog or a new voice renders only what changed (``stations voice build``).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kiosk.i18n import translator
from kiosk.speech import catalog_pieces
from stations.errors import StationsError
from stations.files import write_atomically

log = logging.getLogger(__name__)

#: espeak-ng's voice for a language tag when the config names none.
ESPEAK_VOICES = {"en": "en-us", "es": "es-419", "pt": "pt-br", "pt-BR": "pt-br", "fr": "fr-fr"}
#: Words a minute: a little slower than espeak-ng's 175, for young listeners.
ESPEAK_SPEED = 150
CATALOG, VALUES = "catalog", "values"


class VoiceError(StationsError):
    """The speech engine is missing or failed."""


class Engine(Protocol):
    def voice_id(self, language: str) -> str:
        """Names the voice and the engine's version: part of every clip's key."""
        ...

    def render(self, text: str, language: str) -> bytes:
        """The text spoken, as a WAV file's bytes."""
        ...


class Espeak:
    def __init__(self, binary: str = "espeak-ng", voices: Mapping[str, str] | None = None,
                 speed: int = ESPEAK_SPEED) -> None:
        found = shutil.which(binary)
        if found is None:
            raise VoiceError(f"espeak-ng is not installed ({binary!r} not found): "
                             "sudo apt-get install espeak-ng")
        self.binary = found
        self.voices = {**ESPEAK_VOICES, **(voices or {})}
        self.speed = speed
        out = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
        self.version = out.stdout.split("text-to-speech:", 1)[-1].split("Data")[0].strip()

    def voice(self, language: str) -> str:
        return self.voices.get(language) or self.voices.get(language.split("-")[0]) or \
            language.lower()

    def voice_id(self, language: str) -> str:
        return f"espeak-ng {self.version} {self.voice(language)} {self.speed}"

    def render(self, text: str, language: str) -> bytes:
        # The text goes on stdin: one that starts with "-" is not taken for an option.
        done = subprocess.run([self.binary, "-v", self.voice(language), "-s", str(self.speed),
                               "--stdout"], input=text.encode(), capture_output=True,
                              check=False, timeout=30)
        if done.returncode != 0 or not done.stdout:
            raise VoiceError(f"espeak-ng could not say {text!r} in {language}: "
                             f"{done.stderr.decode(errors='replace').strip()}")
        return done.stdout


class Piper:
    """Piper (a neural voice) for the languages IT installed a voice for.

    ``voices`` maps a language to a voice model (``.onnx``, its ``.onnx.json`` beside it).
    """

    def __init__(self, binary: str, voices: Mapping[str, Path]) -> None:
        found = shutil.which(binary)
        if found is None:
            raise VoiceError(f"piper is not installed ({binary!r} not found)")
        missing = [str(p) for p in voices.values() if not Path(p).is_file()]
        if missing:
            raise VoiceError(f"piper voice not installed: {', '.join(missing)}")
        self.binary = found
        self.voices = {lang: Path(p) for lang, p in voices.items()}

    def speaks(self, language: str) -> bool:
        return language in self.voices or language.split("-")[0] in self.voices

    def _model(self, language: str) -> Path:
        return self.voices.get(language) or self.voices[language.split("-")[0]]

    def voice_id(self, language: str) -> str:
        model = self._model(language)
        return f"piper {model.name} {model.stat().st_size} {int(model.stat().st_mtime)}"

    def render(self, text: str, language: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "clip.wav"
            done = subprocess.run([self.binary, "--model", str(self._model(language)),
                                   "--output_file", str(out)], input=text.encode(),
                                  capture_output=True, check=False, timeout=60)
            if done.returncode != 0 or not out.is_file():
                raise VoiceError(f"piper could not say {text!r} in {language}: "
                                 f"{done.stderr.decode(errors='replace').strip()[-300:]}")
            return out.read_bytes()


class Voices:
    """Piper for a language it has a voice for, espeak-ng for every other."""

    def __init__(self, espeak: Espeak, piper: Piper | None = None) -> None:
        self.espeak, self.piper = espeak, piper

    def _engine(self, language: str) -> Engine:
        return self.piper if self.piper is not None and self.piper.speaks(language) \
            else self.espeak

    def voice_id(self, language: str) -> str:
        return self._engine(language).voice_id(language)

    def render(self, text: str, language: str) -> bytes:
        return self._engine(language).render(text, language)


@dataclass(frozen=True)
class VoiceSettings:
    """``[voice]`` in the kiosk's config."""

    enabled: bool = True
    #: 0.0-1.0 of the speaker's volume: a classroom has many stations.
    volume: float = 0.8
    cache: Path = Path("voice")
    espeak_voices: Mapping[str, str] = field(default_factory=dict)
    piper_binary: str = "piper"
    piper_voices: Mapping[str, Path] = field(default_factory=dict)


def open_voices(settings: VoiceSettings) -> Voices:
    """espeak-ng, with Piper for the languages it has a voice for when Piper is installed
    (otherwise espeak-ng speaks those too, and the log says why once)."""
    piper = None
    if settings.piper_voices:
        try:
            piper = Piper(settings.piper_binary, settings.piper_voices)
        except VoiceError as err:
            log.warning("%s: espeak-ng speaks every language instead", err)
    return Voices(Espeak(voices=settings.espeak_voices), piper)


class ClipCache:
    """WAV files by key; catalog clips (pruned by a build) apart from values (names of
    stations and activities, rendered on the station as they arrive)."""

    def __init__(self, folder: Path, engine: Engine) -> None:
        self.folder = folder
        self.engine = engine

    def key(self, text: str, language: str) -> str:
        raw = f"{self.engine.voice_id(language)}\n{language}\n{text}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]

    def path(self, text: str, language: str, kind: str = CATALOG) -> Path:
        return self.folder / kind / language / f"{self.key(text, language)}.wav"

    def find(self, text: str, language: str) -> Path | None:
        for kind in (CATALOG, VALUES):
            path = self.path(text, language, kind)
            if path.is_file():
                return path
        return None

    def render(self, text: str, language: str, kind: str = CATALOG) -> Path:
        path = self.path(text, language, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        wav = self.engine.render(text, language)
        # Whole or not at all: a clip cut short by a power cut would play half a word, and
        # kiosks sharing a cache (the demo's four) may render the same clip at once.
        write_atomically(path, wav, 0o644)
        return path


@dataclass(frozen=True)
class BuildReport:
    languages: tuple[str, ...]
    clips: dict[str, int]
    rendered: int
    kept: int
    removed: int
    seconds: float


Progress = Callable[[int, int, str], None]


def build(cache: ClipCache, languages: Iterable[str], *,
          values: Mapping[str, Iterable[str]] | None = None,
          progress: Progress | None = None) -> BuildReport:
    """Render every piece of the catalog in each language (and ``values``: the station's
    own name and menu), skipping clips already there; remove catalog clips nothing uses."""
    started = time.monotonic()
    languages = tuple(dict.fromkeys(languages))
    wanted: list[tuple[str, str, str]] = []
    for language in languages:
        for piece in catalog_pieces(translator(language)):
            wanted.append((piece, language, CATALOG))
        for text in (values or {}).get(language, ()):
            wanted.append((text, language, VALUES))
    todo = [w for w in wanted if not cache.path(*w).is_file()]
    for n, (text, language, kind) in enumerate(todo, 1):
        cache.render(text, language, kind)
        if progress is not None:
            progress(n, len(todo), f"{language}: {text}")
    keep = {cache.path(*w) for w in wanted if w[2] == CATALOG}
    removed = 0
    for old in (cache.folder / CATALOG).glob("*/*.wav"):
        if old not in keep:
            old.unlink()
            removed += 1
    clips = {lang: sum(1 for w in wanted if w[1] == lang) for lang in languages}
    return BuildReport(languages, clips, len(todo), len(wanted) - len(todo), removed,
                       time.monotonic() - started)


def missing_clips(cache: ClipCache, languages: Iterable[str]) -> list[tuple[str, str]]:
    """(language, text) of every catalog piece without a clip."""
    return [(language, piece) for language in languages
            for piece in catalog_pieces(translator(language))
            if not cache.path(piece, language).is_file()]
