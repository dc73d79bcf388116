"""The station's configuration file, read once at start into a frozen dataclass.

A key it does not know (``[reeder]``, a reader option the chosen reader does not have) is
refused with the nearest known one; the fallback menu is checked against what the contract's
Activity carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from broker import contract
from broker.client import BrokerSettings, read_broker
from broker.contract import Activity
from kiosk.readers.factory import KINDS, reader_options
from kiosk.voice import VoiceSettings
from stations.tomlconfig import Section, load_toml, read_translations


@dataclass(frozen=True)
class KioskConfig:
    path: Path
    room: str
    station: str
    name: str
    language: str
    broker: BrokerSettings
    outbox: Path
    reader_kind: str
    reader: Section
    fullscreen: bool
    activities: tuple[Activity, ...]
    #: Drive the RGB LED, buzzer and buttons of the pin map through gpiozero.
    gpio_feedback: bool
    #: Spoken prompts (``[voice]``).
    voice: VoiceSettings = field(default_factory=VoiceSettings)


def _voice(root: Section, base: Path) -> VoiceSettings:
    voice = root.table("voice", required=False)
    volume = voice.get("volume", float, 0.8)
    if not 0.0 <= volume <= 1.0:
        raise voice.error("volume", f"must be from 0.0 (silent) to 1.0, got {volume!r}")
    piper = voice.table("piper", required=False)
    return VoiceSettings(
        enabled=voice.get("enabled", bool, True),
        volume=volume,
        cache=base / voice.get("cache", str, "voice"),
        espeak_voices=dict(read_translations(voice, "espeak")),
        piper_binary=voice.get("piper_binary", str, "piper"),
        piper_voices={lang: base / piper.get(lang, str) for lang in piper.data},
    )


def load_kiosk_config(path: Path | str) -> KioskConfig:
    path = Path(path)
    root = Section(path, load_toml(path))
    for key in ("room", "station"):
        root.ident(key)
    reader = root.table("reader", required=False)
    kind = reader.get("kind", str, "simulated")
    if kind not in KINDS:
        raise reader.error("kind", f"unknown reader kind {kind!r}; choose one of "
                                   f"{', '.join(KINDS)}")
    # The reader reads its own options when it is built; they are known here already.
    reader.known(*reader_options(kind))
    screen = root.table("screen", required=False)
    items = root.tables("activities", required=False)
    if len(items) > contract.MAX_ACTIVITIES:
        raise root.error("activities", f"{len(items)} activities; the message contract "
                                       f"carries at most {contract.MAX_ACTIVITIES}")
    activities = [Activity(a.ident("id"), a.short_text("label", required=True),
                           a.ident("icon", "star"), dict(read_translations(a, "labels")))
                  for a in items]
    config = KioskConfig(
        path=path,
        room=root.get("room", str),
        station=root.get("station", str),
        name=root.get("name", str, root.get("station", str)),
        language=screen.get("language", str, "en"),
        broker=read_broker(root.table("broker", required=False)),
        outbox=path.parent / root.table("outbox", required=False).get("path", str, "outbox.db"),
        reader_kind=kind,
        reader=reader,
        fullscreen=screen.get("fullscreen", bool, False),
        activities=tuple(activities),
        gpio_feedback=root.table("feedback", required=False).get("gpio", bool, False),
        voice=_voice(root, path.parent),
    )
    root.check_unknown()
    return config
