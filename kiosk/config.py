"""The station's configuration file, read once at start into a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker.client import BrokerSettings, read_broker
from broker.contract import Activity
from stations.tomlconfig import Section, load_toml


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


def load_kiosk_config(path: Path | str) -> KioskConfig:
    path = Path(path)
    root = Section(path, load_toml(path))
    for key in ("room", "station"):
        root.ident(key)
    reader = root.table("reader", required=False)
    screen = root.table("screen", required=False)
    activities = []
    for a in root.tables("activities", required=False):
        activities.append(Activity(a.ident("id"), a.get("label", str), a.get("icon", str, "star")))
    return KioskConfig(
        path=path,
        room=root.get("room", str),
        station=root.get("station", str),
        name=root.get("name", str, root.get("station", str)),
        language=screen.get("language", str, "en"),
        broker=read_broker(root.table("broker", required=False)),
        outbox=path.parent / root.table("outbox", required=False).get("path", str, "outbox.db"),
        reader_kind=reader.get("kind", str, "simulated"),
        reader=reader,
        fullscreen=screen.get("fullscreen", bool, False),
        activities=tuple(activities),
        gpio_feedback=root.table("feedback", required=False).get("gpio", bool, False),
    )
