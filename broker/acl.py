"""The Mosquitto ACL file: each station speaks only for itself, the hub reads and writes the room.

Every rule names a user explicitly (no ``pattern`` lines): the file reads as an audit list, and
a username with MQTT wildcard characters cannot widen a rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from broker.contract import (
    hub_status_topic,
    hub_subscriptions,
    notice_topic,
    rotation_topic,
    station_topic,
)


def station_rules(room: str, station: str) -> list[tuple[str, str]]:
    """``(access, topic)`` rules for one station."""
    return [
        ("write", station_topic(room, station, "checkin")),
        ("write", station_topic(room, station, "hello")),
        # The station's retained status and its last will (the broker checks the will's topic
        # against write access when the station connects).
        ("write", station_topic(room, station, "status")),
        ("read", station_topic(room, station, "reply")),
        ("read", rotation_topic(room)),
        # Time nearly up, move now, paused, ended: every station shows and sounds them.
        ("read", notice_topic(room)),
        ("read", hub_status_topic(room)),
    ]


def hub_rules(room: str) -> list[tuple[str, str]]:
    """``(access, topic)`` rules for the hub service."""
    rules = [("read", topic) for topic in hub_subscriptions(room)]
    rules += [
        ("write", f"stations/v1/{room}/station/+/reply"),
        # readwrite: the hub reads back its own retained rotation state after a restart.
        ("readwrite", rotation_topic(room)),
        ("readwrite", hub_status_topic(room)),
        ("write", notice_topic(room)),
        # Broker health and the bridge's uplink state ($SYS/broker/connection/...).
        ("read", "$SYS/#"),
    ]
    return rules


def render_acl(room: str, hub_username: str, stations: Iterable[str]) -> str:
    lines = [
        f"# Mosquitto ACL for room {room}, written by `stations broker-config`.",
        "# Regenerate rather than edit. No rule applies to anonymous clients: they cannot connect.",
        "",
        f"user {hub_username}",
        *(f"topic {access} {topic}" for access, topic in hub_rules(room)),
    ]
    for station in stations:
        lines += ["", f"user {station}",
                  *(f"topic {access} {topic}" for access, topic in station_rules(room, station))]
    return "\n".join(lines) + "\n"
