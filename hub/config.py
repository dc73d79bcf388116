"""The hub's configuration file, read once at start into a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker.client import BrokerSettings, read_broker
from broker.contract import ID_RE
from hub.rotation import ActivityDef, GroupDef, RotationPlan, StationDef
from stations.errors import ConfigError
from stations.tomlconfig import Section, load_toml

STATION_KINDS = ("teacher-led", "online", "collaborative", "independent")


@dataclass(frozen=True)
class HubConfig:
    path: Path
    room: str
    broker: BrokerSettings
    database: Path
    roster: Path
    plan: RotationPlan
    autostart: bool
    display: bool
    fullscreen: bool


def _ident(section: Section, key: str) -> str:
    value = section.get(key, str)
    if not ID_RE.match(value):
        raise section.error(key, f"{value!r} must be 1-32 lower-case letters, digits or '-'")
    return value


def read_activities(sections: list[Section]) -> tuple[ActivityDef, ...]:
    return tuple(ActivityDef(_ident(a, "id"), a.get("label", str), a.get("icon", str, "star"))
                 for a in sections)


def load_hub_config(path: Path | str) -> HubConfig:
    path = Path(path)
    root = Section(path, load_toml(path))
    base = path.parent
    stations = []
    for s in root.tables("stations"):
        kind = s.get("kind", str)
        if kind not in STATION_KINDS:
            raise s.error("kind", f"{kind!r} is not one of {', '.join(STATION_KINDS)}")
        stations.append(StationDef(_ident(s, "id"), s.get("name", str), kind,
                                   read_activities(s.tables("activities", required=False))))
    groups = [GroupDef(_ident(g, "id"), g.get("name", str), tuple(g.get("members", list, [])))
              for g in root.tables("groups")]
    if len({s.id for s in stations}) != len(stations):
        raise ConfigError(path, "stations", "two stations share an id")
    if len(groups) > len(stations):
        raise ConfigError(path, "groups", f"{len(groups)} groups but only {len(stations)} "
                          "stations: every group needs a station in every block")
    rotation = root.table("rotation")
    plan = RotationPlan(tuple(stations), tuple(groups),
                        rotation.positive("block_minutes", float) * 60.0,
                        rotation.get("blocks", int, 0))
    store = root.table("store", required=False)
    display = root.table("display", required=False)
    return HubConfig(
        path=path,
        room=_ident(root, "room"),
        broker=read_broker(root.table("broker", required=False)),
        database=base / store.get("database", str, "hub.db"),
        roster=base / root.get("roster", str),
        plan=plan,
        autostart=rotation.get("autostart", bool, False),
        display=display.get("enabled", bool, True),
        fullscreen=display.get("fullscreen", bool, False),
    )
