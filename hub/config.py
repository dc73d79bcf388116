"""The hub's configuration file, read once at start into a frozen dataclass.

Every problem is a ConfigError naming the file, the key and what is wrong; the rotation plan
is checked against itself (playlists that name unknown stations, a teacher-table rule for a
station that is not teacher-led, groups larger than a station holds, …) before the hub runs.
A key the loader does not know is refused with the nearest one it does; names, labels and
menus are checked against what the message contract carries, and so is the size of the
retained rotation state this config makes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from broker import contract
from broker.client import BrokerSettings, read_broker
from hub.pin import parse_pin_hash
from hub.privacy import labels_ability, public_group_names
from hub.rotation import (
    ActivityDef,
    BlockDef,
    GroupDef,
    Model,
    RotationPlan,
    StationDef,
    TeacherTableRule,
)
from hub.uplink import DistrictSettings, read_district
from hub.wire import rotation_size_problem
from hub.xapi import XapiSettings
from stations.errors import ConfigError
from stations.text import Text
from stations.tomlconfig import Section, load_toml, read_translations

STATION_KINDS = ("teacher-led", "online", "collaborative", "independent")
#: Okabe-Ito, in the order stations get them when the file names none.
COLOURS = ("orange", "sky", "green", "yellow", "blue", "vermillion", "purple", "black")
KIND_ICONS = {"teacher-led": "teacher", "online": "laptop", "collaborative": "people",
              "independent": "pencil"}
#: Reflection questions the kiosk knows how to ask.
QUESTIONS = ("confidence", "goal", "mood")
MAX_QUESTIONS = contract.MAX_QUESTIONS


@dataclass(frozen=True)
class ReflectionConfig:
    questions: tuple[str, ...] = ("confidence",)
    #: An answer at or below this is low (the kiosk's faces start at 1).
    low_confidence: int = 1
    low_mood: int = 1
    low_goal: int = 1
    #: Low confidence this many check-ins in a row raises the teacher's flag.
    flag_after: int = 2
    #: How far back the teacher view looks for flags.
    lookback_days: int = 14
    #: Reflections of a class's last this many lessons feed the grouping engine (its
    #: students' confidence trend and goal progress).
    lessons: int = 5


@dataclass(frozen=True)
class ConsoleConfig:
    """The teacher console the hub serves over HTTPS (``[console]``; off unless enabled)."""

    enabled: bool = False
    #: The hub's address on the room's network (the console listens there alone).
    bind: str = "127.0.0.1"
    port: int = 8443
    #: The hub's certificate and key from ``stations broker-config`` (the room CA's).
    certfile: Path | None = None
    keyfile: Path | None = None
    #: The teacher accounts file (``stations teacher add``).
    accounts: Path = Path("teachers.toml")
    session_idle_s: float = 30 * 60.0
    session_max_s: float = 12 * 3600.0
    #: The console's language when the browser asks for none it has ("en", "es").
    language: str = "en"


@dataclass(frozen=True)
class HubConfig:
    path: Path
    room: str
    broker: BrokerSettings
    #: Run the MQTT client in a process of its own (another core for parsing and framing).
    mqtt_process: bool
    database: Path
    roster: Path
    plan: RotationPlan
    autostart: bool
    display: bool
    fullscreen: bool
    #: The window on a laptop; fullscreen uses the screen's own size.
    window: tuple[int, int] = (1280, 720)
    reflection: ReflectionConfig = ReflectionConfig()
    #: Check-ins and reflections older than this are deleted (0 keeps them forever).
    retention_days: int = 365
    #: The OneRoster class this room's lessons are for ("" when the roster has no classes).
    class_id: str = ""
    #: The longest one PIN keeps the teacher view open.
    teacher_timeout_s: float = 120.0
    #: The lesson screen is left alone after this many seconds without a touch, click or
    #: key: the teacher view closes at once.
    teacher_idle_s: float = 30.0
    #: The teacher's PIN, hashed (hub.pin); None: only the teacher console can unlock.
    teacher_pin_hash: str | None = None
    #: The uplink to the district's broker (``[district]``); None keeps everything in the room.
    district: DistrictSettings | None = None
    #: ``[xapi]``: statements to a learning record store (off unless the table is there).
    xapi: XapiSettings = field(default_factory=XapiSettings)
    #: ``[class] history``: show each student their own last reflections at the station.
    class_history: bool = True
    console: ConsoleConfig = field(default_factory=ConsoleConfig)

    def shows_history(self, class_id: str = "") -> bool:
        """Whether a student of this class sees their own last reflections at the station,
        as the config file says (``[class] history``): the default a class's own setting in
        the hub's database overrides (``HubService.settings``)."""
        return self.class_history


def read_activities(section: Section) -> tuple[ActivityDef, ...]:
    """A station's menu, as the contract carries it (at most 8, labels of 64 characters)."""
    items = section.tables("activities", required=False)
    if len(items) > contract.MAX_ACTIVITIES:
        raise section.error("activities", f"{len(items)} activities; the message contract "
                                          f"carries at most {contract.MAX_ACTIVITIES} a station")
    return tuple(ActivityDef(a.ident("id"), a.short_text("label", required=True),
                             a.ident("icon", "star"), read_translations(a, "labels"))
                 for a in items)


def _minutes(section: Section, key: str, default: float) -> float:
    value = section.get(key, float, default)
    if value < 0:
        raise section.error(key, f"must be 0 or more minutes, got {value!r}")
    return value * 60.0


def _stations(root: Section) -> tuple[StationDef, ...]:
    stations = []
    sections = root.tables("stations")
    if len(sections) > contract.MAX_STATIONS:
        raise root.error("stations", f"{len(sections)} stations; the message contract carries "
                                     f"at most {contract.MAX_STATIONS} a room")
    for n, s in enumerate(sections):
        kind = s.get("kind", str)
        if kind not in STATION_KINDS:
            raise s.error("kind", f"{kind!r} is not one of {', '.join(STATION_KINDS)}")
        colour = s.get("colour", str, COLOURS[n % len(COLOURS)])
        if colour not in COLOURS:
            raise s.error("colour", f"{colour!r} is not one of {', '.join(COLOURS)} "
                                    "(the Okabe-Ito colours, safe for colour-blind students)")
        capacity = s.get("capacity", int, 0)
        if capacity < 0:
            raise s.error("capacity", f"must be 0 (no limit) or more, got {capacity}")
        stations.append(StationDef(s.ident("id"), s.short_text("name", required=True), kind,
                                   read_activities(s), capacity, colour,
                                   s.ident("icon", KIND_ICONS[kind]),
                                   read_translations(s, "names")))
    if len({s.id for s in stations}) != len(stations):
        raise ConfigError(root.path, "stations", "two stations share an id")
    return tuple(stations)


def _groups(root: Section) -> tuple[GroupDef, ...]:
    groups = []
    seen: dict[str, str] = {}
    for g in root.tables("groups", required=False):
        gid = g.ident("id")
        members = g.get("members", list, [])
        for m in members:
            if not isinstance(m, str):
                raise g.error("members", f"must be student ids (strings), got {m!r}")
            if m in seen:
                raise g.error("members", f"student {m!r} is already in group {seen[m]!r}")
            seen[m] = gid
        groups.append(GroupDef(gid, g.short_text("name", required=True), tuple(members),
                               _public_name(g)))
    if len({g.id for g in groups}) != len(groups):
        raise ConfigError(root.path, "groups", "two groups share an id")
    public = list(public_group_names(groups).values())
    for g in groups:
        if g.public_name and public.count(g.public_name) > 1:
            raise ConfigError(root.path, "groups", f"two groups show as {g.public_name!r}: "
                              "give each its own public_name")
    return tuple(groups)


def _public_name(g: Section) -> str:
    """A group's explicit ``public_name``: what the class and the stations read instead of
    the teacher's name (without it, :mod:`hub.privacy` decides)."""
    name = g.short_text("public_name", "")
    if "public_name" in g.data and not name.strip():
        raise g.error("public_name", "is empty: leave the key out to show a neutral name, "
                                     "else \"Group N\"")
    if labels_ability(name):
        raise g.error("public_name", f"{name!r} sounds like a level, a need or a programme; "
                                     "the class and the stations read it: choose a neutral "
                                     "name (an animal, a colour, a place…)")
    return name


def _plan(root: Section, stations: tuple[StationDef, ...],
          groups: tuple[GroupDef, ...]) -> RotationPlan:
    path = root.path
    rotation = root.table("rotation")
    model_name = rotation.get("model", str, Model.STATION.value)
    try:
        model = Model(model_name)
    except ValueError:
        raise rotation.error("model", f"{model_name!r} is not one of "
                             f"{', '.join(m.value for m in Model)}") from None
    block_defs = []
    for b in rotation.tables("plan", required=False):
        length = b.positive("minutes", float) * 60.0
        block_defs.append(BlockDef(length, _minutes(b, "transition_minutes", 0.0),
                                   _minutes(b, "warning_minutes", 0.0)))
    block_s = (rotation.positive("block_minutes", float) * 60.0 if not block_defs
               else rotation.get("block_minutes", float, 0.0) * 60.0)
    transition_s = _minutes(rotation, "transition_minutes", 0.0)
    warning_s = _minutes(rotation, "warning_minutes", 0.0)
    for n, b in enumerate(block_defs or [BlockDef(block_s, transition_s, warning_s)]):
        if b.warning_s >= b.length_s:
            key = f"rotation.plan[{n}].warning_minutes" if block_defs else \
                "rotation.warning_minutes"
            raise ConfigError(path, key, "the warning must come before the block ends "
                              "(less than the block's minutes)")
    blocks = rotation.get("blocks", int, 0)
    if blocks < 0:
        raise rotation.error("blocks", f"must be 0 (one per station) or more, got {blocks}")
    if model is Model.STATION and len(groups) > len(stations):
        raise ConfigError(path, "groups", f"{len(groups)} groups but only {len(stations)} "
                          "stations: every group needs a station in every block")
    by_id = {s.id: s for s in stations}
    for g in groups:
        for s in stations:
            if model is Model.STATION and s.capacity and len(g.members) > s.capacity:
                raise ConfigError(path, "groups", f"group {g.id!r} has {len(g.members)} "
                                  f"students but station {s.id!r} holds {s.capacity}")
    rule = None
    if rotation.has("teacher_table"):
        tt = rotation.table("teacher_table")
        station = tt.ident("station")
        if station not in by_id:
            raise tt.error("station", f"no station {station!r}")
        if by_id[station].kind != "teacher-led":
            raise tt.error("station", f"station {station!r} is {by_id[station].kind}, "
                                      "not teacher-led")
        every = tuple(tt.get("every_lesson", list, []))
        for gid in every:
            if gid not in {g.id for g in groups}:
                raise tt.error("every_lesson", f"no group {gid!r}")
        count = (block_defs and len(block_defs)) or blocks or len(stations)
        if len(every) > min(count, len(stations)):
            raise tt.error("every_lesson", f"{len(every)} groups cannot all reach the "
                                           f"teacher table in {count} blocks")
        rule = TeacherTableRule(station, every)
    playlists: dict[str, tuple[str, ...]] = {}
    if rotation.has("playlists"):
        pl = rotation.table("playlists")
        for student in pl.data:
            items = pl.get(student, list)
            for sid in items:
                if sid not in by_id:
                    raise pl.error(student, f"no station {sid!r}")
            playlists[student] = tuple(items)
    plan = RotationPlan(stations, groups, block_s, blocks, model, tuple(block_defs),
                        transition_s, warning_s, rule, playlists)
    if model is Model.INDIVIDUAL:
        for b in range(plan.block_count):
            load: dict[str, int] = {}
            for items in playlists.values():
                if b < len(items):
                    load[items[b]] = load.get(items[b], 0) + 1
            for sid, count in load.items():
                if by_id[sid].capacity and count > by_id[sid].capacity:
                    raise ConfigError(path, "rotation.playlists",
                                      f"block {b + 1} sends {count} students to {sid!r}, "
                                      f"which holds {by_id[sid].capacity}")
    return plan


def check_questions(questions: tuple[str, ...]) -> tuple[str, ...]:
    """The reflection questions if the kiosk can ask them, else ValueError saying why."""
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise ValueError(Text("give 1 to %(most)d questions", most=MAX_QUESTIONS))
    for q in questions:
        if q not in QUESTIONS:
            raise ValueError(Text("%(question)r is not one of %(questions)s", question=q,
                                  questions=", ".join(QUESTIONS)))
    if len(set(questions)) != len(questions):
        raise ValueError(Text("a question is listed twice"))
    return questions


def _reflection(root: Section) -> ReflectionConfig:
    r = root.table("reflection", required=False)
    questions = tuple(r.get("questions", list, ["confidence"]))
    try:
        check_questions(questions)
    except ValueError as err:
        raise r.error("questions", str(err)) from None
    flag_after = r.get("flag_after", int, 2)
    if flag_after < 1:
        raise r.error("flag_after", "must be 1 or more")
    return ReflectionConfig(questions, r.get("low_confidence", int, 1), r.get("low_mood", int, 1),
                            r.get("low_goal", int, 1), flag_after,
                            r.positive("lookback_days", int, 14), r.positive("lessons", int, 5))


def _pin_hash(display: Section) -> str | None:
    if not display.has("teacher_pin_hash"):
        return None
    value = display.get("teacher_pin_hash", str)
    try:
        parse_pin_hash(value)
    except ValueError as err:
        raise display.error("teacher_pin_hash", str(err)) from None
    return value


def _xapi(root: Section) -> XapiSettings:
    if not root.has("xapi"):
        return XapiSettings()
    x = root.table("xapi")
    settings = XapiSettings(
        enabled=x.get("enabled", bool, True),
        homepage=x.get("homepage", str, required=True),
        actor=x.get("actor", str, "sourcedid"),
        salt=x.get("salt", str, ""),
        endpoint=x.get("endpoint", str, ""),
        username=x.get("username", str, ""),
        password=x.get("password", str, ""),
        token_url=x.get("token_url", str, ""),
        client_id=x.get("client_id", str, ""),
        client_secret=x.get("client_secret", str, ""),
        file=x.get("file", str, ""),
        batch=x.positive("batch", int, 50),
        max_backoff_s=x.positive("max_backoff_seconds", float, 300.0),
    )
    if not settings.homepage.startswith(("https://", "http://")):
        raise x.error("homepage", f"must be the school's home page (https://…), got "
                                  f"{settings.homepage!r}")
    if settings.actor not in ("sourcedid", "hashed"):
        raise x.error("actor", f"{settings.actor!r} is not sourcedid or hashed")
    if settings.actor == "hashed" and len(settings.salt) < 16:
        raise x.error("salt", "hashed actors need the school's own secret salt, at least 16 "
                              "characters (the same on every hub of the school)")
    if bool(settings.endpoint) == bool(settings.file):
        raise x.error("endpoint", "give the LRS's endpoint or a file for the statements "
                                  "(one of the two)")
    if settings.endpoint and not settings.endpoint.startswith(("https://", "http://")):
        raise x.error("endpoint", f"must be an http(s) URL, got {settings.endpoint!r}")
    if settings.token_url and not (settings.client_id and settings.client_secret):
        raise x.error("token_url", "OAuth needs client_id and client_secret too")
    if settings.username and not settings.password:
        raise x.error("password", "basic auth needs a password with the username")
    return settings


CONSOLE_LANGUAGES = ("en", "es")


def _console(root: Section, base: Path) -> ConsoleConfig:
    c = root.table("console", required=False)
    enabled = c.get("enabled", bool, False)
    bind = c.get("bind", str, "127.0.0.1")
    try:
        address = ipaddress.ip_address(bind)
    except ValueError:
        raise c.error("bind", f"{bind!r} is not an IP address: give the hub's address on "
                              "the room's network") from None
    if address.is_unspecified:
        raise c.error("bind", f"{bind} listens on every network the hub is on; give the "
                              "hub's address on the room's network (or 127.0.0.1)")
    port = c.get("port", int, 8443)
    if not 1 <= port <= 65535:
        raise c.error("port", f"must be a TCP port (1-65535), got {port}")
    files: dict[str, Path | None] = {}
    for key in ("certfile", "keyfile"):
        files[key] = base / c.get(key, str) if c.has(key) else None
        if enabled and files[key] is None:
            raise c.missing(key, "is required when the console is enabled (the hub's "
                                 f"server.{'crt' if key == 'certfile' else 'key'} from "
                                 "`stations broker-config`)")
    accounts = base / c.get("accounts", str, "teachers.toml")
    from hub.console.accounts import read_accounts  # a broken accounts file stops the start

    read_accounts(accounts)
    language = c.get("language", str, "en")
    if language not in CONSOLE_LANGUAGES:
        raise c.error("language", f"{language!r} is not one of {', '.join(CONSOLE_LANGUAGES)}")
    return ConsoleConfig(enabled, bind, port, files["certfile"], files["keyfile"], accounts,
                         c.positive("session_idle_minutes", float, 30.0) * 60.0,
                         c.positive("session_hours", float, 12.0) * 3600.0, language)


def load_hub_config(path: Path | str) -> HubConfig:
    path = Path(path)
    root = Section(path, load_toml(path))
    base = path.parent
    stations = _stations(root)
    groups = _groups(root)
    plan = _plan(root, stations, groups)
    rotation = root.table("rotation")
    store = root.table("store", required=False)
    display = root.table("display", required=False)
    retention = root.table("retention", required=False)
    days = retention.get("days", int, 365)
    if days < 0:
        raise retention.error("days", f"must be 0 (keep forever) or more, got {days}")
    window = display.get("window", list, [1280, 720])
    if (len(window) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                    for v in window) or window[0] < 1024 or window[1] < 600):
        raise display.error("window", f"must be [width, height], at least [1024, 600], "
                                      f"got {window!r}")
    klass = root.table("class", required=False)
    reflection = _reflection(root)
    problem = rotation_size_problem(plan.stations, plan.groups, plan.block_count,
                                    reflection.questions)
    if problem is not None:
        raise root.error("stations", problem)
    config = HubConfig(
        path=path,
        room=root.ident("room"),
        broker=read_broker(root.table("broker", required=False)),
        mqtt_process=root.table("broker", required=False).get("process", bool, True),
        database=base / store.get("database", str, "hub.db"),
        roster=base / root.get("roster", str),
        plan=plan,
        autostart=rotation.get("autostart", bool, False),
        display=display.get("enabled", bool, True),
        fullscreen=display.get("fullscreen", bool, False),
        window=(window[0], window[1]),
        reflection=reflection,
        retention_days=days,
        class_id=klass.get("id", str, ""),
        teacher_timeout_s=display.positive("teacher_timeout_seconds", float, 120.0),
        teacher_idle_s=display.positive("teacher_idle_seconds", float, 30.0),
        teacher_pin_hash=_pin_hash(display),
        district=(read_district(root.table("district"), base)
                  if root.has("district") else None),
        class_history=klass.get("history", bool, True),
        xapi=_xapi(root),
        console=_console(root, base),
    )
    root.check_unknown()
    return config
