"""An optional Mosquitto bridge that forwards a room's check-ins to a district broker.

Only station topics listed in :data:`broker.devices.BRIDGEABLE` ever cross (check-ins by
default): check-ins carry badge ids, not names, while replies carry display names and never
leave the room. The bridge is out-only, so nothing from upstream can reach the stations.

While the uplink is down the room broker keeps the bridge's queue (``cleansession false``,
persistence on), bounded by ``max_queued_messages``; it drains when the uplink returns.
"""

from __future__ import annotations

from pathlib import Path

from broker.contract import NAMESPACE
from broker.devices import Bridge
from broker.passwords import hash_password


def connection_name(room: str) -> str:
    return f"{room}-uplink"


def bridge_topics(room: str, bridge: Bridge) -> list[str]:
    """Remote topic filters the bridge publishes to (for the upstream ACL)."""
    return [f"{bridge.topic_prefix}{NAMESPACE}/{room}/station/+/{leaf}" for leaf in bridge.forward]


def render_bridge(room: str, bridge: Bridge, *, ca_path: Path, password: str) -> str:
    """The ``connection`` section; it holds the uplink password, so write it mode 0600."""
    name = connection_name(room)
    local_prefix = f"{NAMESPACE}/{room}/"
    remote_prefix = f"{bridge.topic_prefix}{NAMESPACE}/{room}/"
    lines = [
        f"# Bridge from room {room} to the district broker, written by `stations broker-config`.",
        "# Holds the uplink password: keep this file mode 0600, owned by the mosquitto user.",
        f"connection {name}",
        f"address {bridge.host}:{bridge.port}",
        f"bridge_protocol_version {bridge.protocol}",
        f"remote_clientid {bridge.username}",
        f"remote_username {bridge.username}",
        f"remote_password {password}",
        f"local_clientid bridge-{room}",
        # A persistent session on both sides: the room broker queues check-ins while the
        # uplink is down and the district broker keeps ours across reconnects.
        "cleansession false",
        "local_cleansession false",
        "start_type automatic",
        # Back off with decorrelated jitter (default 5 s to 2 min), so 500 rooms coming back
        # after a district outage do not reconnect in lockstep.
        f"restart_timeout {bridge.retry_min_s} {bridge.retry_max_s}",
        "keepalive_interval 60",
        # Plain MQTT: EMQX, VerneMQ and HiveMQ all accept it; Mosquitto's private bridge flag
        # is only useful for two-way bridges.
        "try_private false",
        "notifications true",
        "notifications_local_only true",
        f"notification_topic $SYS/broker/connection/{name}/state",
        "bridge_outgoing_retain false",
        f"bridge_cafile {ca_path}",
        "bridge_insecure false",
        "bridge_tls_version tlsv1.2",
    ]
    for leaf in bridge.forward:
        lines.append(f"topic station/+/{leaf} out 1 {local_prefix} {remote_prefix}")
    return "\n".join(lines) + "\n"


def upstream_account(room: str, bridge: Bridge, password: str) -> tuple[str, str]:
    """What the district's broker needs for this room: a password line and ACL rules.

    The password line is a ``$7$`` hash (safe to send); the ACL lets the room's account publish
    only its own room's forwarded topics.
    """
    passwd = f"{bridge.username}:{hash_password(password)}\n"
    acl = "\n".join([f"user {bridge.username}",
                     *(f"topic write {topic}" for topic in bridge_topics(room, bridge))]) + "\n"
    return passwd, acl
