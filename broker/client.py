"""The one MQTT client every process uses: paho-mqtt 2.x, MQTT 5, QoS 1, persistent session.

Thin shell: it connects, keeps reconnecting on its own (paho's network thread), re-subscribes,
and hands every received message to ``on_message(topic, payload)``. It never parses payloads;
callers run them through :func:`broker.contract.decode`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker.contract import MAX_PAYLOAD_BYTES, QOS
from broker.tls_errors import Diagnosis, explain
from stations.tomlconfig import Section

MessageHandler = Callable[[str, bytes], None]
ConnectionHandler = Callable[[bool], None]
#: ``(topic, reason)`` of a publish the broker refused (PUBACK reason code 0x80 or above).
RefusalHandler = Callable[[str, str], None]

#: How long the broker keeps our session (subscriptions and queued QoS 1 messages) while we
#: are away: a station unplugged over a weekend still gets what was queued for it.
SESSION_EXPIRY_S = 7 * 24 * 3600


@dataclass(frozen=True)
class BrokerSettings:
    """Where and how to reach the broker."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    #: CA file to verify the broker's certificate; None means plain TCP (loopback only).
    ca_file: str | None = None
    keepalive_s: int = 15
    #: The client id the device's credentials name; None means the device id.
    client_id: str | None = None


def read_broker(section: Section) -> BrokerSettings:
    """BrokerSettings from a ``[broker]`` config table; ConfigError names the key."""
    port = section.get("port", int, 1883)
    if not 0 < port < 65536:
        raise section.error("port", f"{port} is not a TCP port")
    return BrokerSettings(host=section.get("host", str, "127.0.0.1"), port=port,
                          username=section.get("username", str, "") or None,
                          password=section.get("password", str, "") or None,
                          ca_file=section.get("ca_file", str, "") or None,
                          client_id=section.get("client_id", str, "") or None)


class _PahoLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """paho's own messages, at DEBUG: it logs an error at every reconnect attempt, while
    this class says once, diagnosed, what is wrong (and again only when that changes)."""

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        super().log(logging.DEBUG, msg, *args, **kwargs)  # type: ignore[arg-type]


def send_at_once(client: mqtt.Client, userdata: object, sock: object) -> None:
    """paho's ``on_socket_open``: TCP_NODELAY on the new connection.

    paho leaves Nagle's algorithm on. A QoS 1 exchange is small packets in a row (the PUBACK
    of a check-in, then the hub's reply to it): without TCP_NODELAY the second waits for the
    broker to ACK the first, which Linux delays by 40 ms.
    """
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    retain: bool = True


class BusClient:
    """A long-lived MQTT session for one device.

    The client id is the one the device's credentials name (``settings.client_id``), else
    ``client_id`` (the device id). A publish the broker refuses (an ACL, a limit), or would
    refuse (over the size limit: never sent), is logged once with its topic and reason,
    counted in :attr:`refused` and passed to ``on_refused``.
    """

    def __init__(self, client_id: str, settings: BrokerSettings, *,
                 subscriptions: Sequence[str] = (),
                 on_message: MessageHandler | None = None,
                 on_connection: ConnectionHandler | None = None,
                 on_refused: RefusalHandler | None = None,
                 will: Will | None = None,
                 logger: logging.Logger | None = None) -> None:
        client_id = settings.client_id or client_id
        self.client_id = client_id
        self.settings = settings
        self.subscriptions = list(subscriptions)
        self._on_message = on_message
        self._on_connection = on_connection
        self._on_refused = on_refused
        self.log = logger or logging.getLogger(f"{__name__}.{client_id}")
        self._connected = threading.Event()
        self._winding_down = False
        self.last_error: str = ""
        #: Publishes the broker refused since start.
        self.refused = 0
        # Topic of each QoS 1 publish awaiting its PUBACK, to name it if it is refused, and
        # PUBACKs that came back before publish() had noted the topic. Never held while
        # calling paho: paho calls on_publish holding its own lock.
        self._in_flight: dict[int, str] = {}
        self._early: dict[int, mqtt.ReasonCode] = {}
        self._in_flight_lock = threading.Lock()

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)
        client.enable_logger(_PahoLog(self.log, {}))  # type: ignore[arg-type]
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        if settings.ca_file is not None:
            client.tls_set(ca_certs=settings.ca_file, cert_reqs=ssl.CERT_REQUIRED,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if will is not None:
            client.will_set(will.topic, will.payload, qos=QOS, retain=will.retain)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        # Bounded in-flight window: QoS 1 without flooding a Pi Zero's Wi-Fi.
        client.max_inflight_messages_set(20)
        client.on_connect = self._handle_connect
        client.on_connect_fail = self._handle_connect_fail
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_publish = self._handle_publish
        client.on_subscribe = self._handle_subscribe
        self._subscribe_mid = -1
        client.on_socket_open = send_at_once
        self._client = client

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; paho's thread keeps reconnecting until :meth:`stop`."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(self.settings.host, self.settings.port,
                                   keepalive=self.settings.keepalive_s,
                                   clean_start=False, properties=props)
        self._client.loop_start()

    def wind_down(self) -> None:
        """The owner is stopping: a broker that goes away now is expected, not diagnosed."""
        self._winding_down = True

    def stop(self, final: Sequence[tuple[str, bytes, bool]] = ()) -> None:
        """Publish ``final`` (topic, payload, retain) messages if connected, then disconnect."""
        self._winding_down = True
        if self.connected:
            for topic, payload, retain in final:
                info = self._client.publish(topic, payload, qos=QOS, retain=retain)
                with contextlib.suppress(ValueError, RuntimeError):
                    info.wait_for_publish(timeout=2)
                self._early.pop(info.mid, None)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # --- traffic ------------------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        """Queue a QoS 1 publish; False if not connected (the caller keeps it to retry)."""
        if len(payload) > MAX_PAYLOAD_BYTES:
            # The broker would refuse it (PUBACK 0x95), which paho 2.2 takes for a broken
            # connection and resends forever: never let one out, and count it as refused.
            self._refused(topic, f"{len(payload)} bytes, over the {MAX_PAYLOAD_BYTES}-byte "
                                 "limit: not sent")
            return False
        if not self.connected:
            return False
        info = self._client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.log.warning("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
            return False
        with self._in_flight_lock:
            early = self._early.pop(info.mid, None)
            if early is None:
                self._in_flight[info.mid] = topic
        if early is not None and early.is_failure:
            self._refused(topic, early)
        return True

    def publish_many(self, messages: Sequence[tuple[str, bytes, bool]]) -> bool:
        """Several publishes; False if any could not be queued."""
        return all([self.publish(t, p, retain=r) for t, p, r in messages])

    # --- paho callbacks (network thread) -------------------------------------------------------


    def _handle_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                        reason_code: mqtt.ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            self._report(explain(reason_code, host=self.settings.host, port=self.settings.port,
                                 username=self.settings.username,
                                 tls=self.settings.ca_file is not None))
            return
        self.last_error = ""
        self.log.info("connected to %s:%d (session present: %s)", self.settings.host,
                      self.settings.port, flags.session_present)
        if self.subscriptions:
            # Connected counts from the SUBACK: before it, what others publish can miss us.
            _rc, self._subscribe_mid = client.subscribe(
                [(topic, QOS) for topic in self.subscriptions])
            return
        self._now_connected()

    def _handle_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                          reason_codes: list[mqtt.ReasonCode],
                          properties: Properties | None) -> None:
        if mid != self._subscribe_mid:
            return
        for topic, code in zip(self.subscriptions, reason_codes, strict=False):
            if code.is_failure:
                self.log.error("the broker refused the subscription to %s: %s", topic, code)
        self._now_connected()

    def _now_connected(self) -> None:
        self._connected.set()
        if self._on_connection is not None:
            self._on_connection(True)

    def _handle_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        if self._winding_down:
            return
        # paho does not say why a connection attempt failed; one probe of our own does.
        self._report(self.diagnose())

    def diagnose(self) -> Diagnosis:
        """Try the TCP connection and TLS handshake by hand and say what goes wrong."""
        host, port, ca_file = self.settings.host, self.settings.port, self.settings.ca_file
        try:
            with socket.create_connection((host, port), timeout=5) as sock:
                if ca_file is not None:
                    context = ssl.create_default_context(cafile=ca_file)
                    with context.wrap_socket(sock, server_hostname=host):
                        pass
        except (OSError, ssl.SSLError) as err:
            return explain(err, host=host, port=port, username=self.settings.username,
                           tls=ca_file is not None)
        return Diagnosis("transient", f"connection to {host}:{port} failed; the broker is "
                         "reachable now, retrying")

    def _report(self, diagnosis: Diagnosis) -> None:
        """Log a connection problem once per change, not at every retry (paho keeps retrying
        in the background, waiting longer each time up to 30 s)."""
        if diagnosis.message != self.last_error:
            self.log.warning("cannot connect: %s Retrying in the background.",
                             diagnosis.message)
        self.last_error = diagnosis.message

    def _handle_disconnect(self, client: mqtt.Client, userdata: object,
                           flags: mqtt.DisconnectFlags, reason_code: mqtt.ReasonCode,
                           properties: Properties | None) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if was_connected:
            # Our own stop is no news; anything else is.
            (self.log.info if self._winding_down else self.log.warning)(
                "disconnected from broker: %s", reason_code)
            if self._on_connection is not None:
                self._on_connection(False)

    def _handle_publish(self, client: mqtt.Client, userdata: object, mid: int,
                        reason_code: mqtt.ReasonCode, properties: Properties | None) -> None:
        with self._in_flight_lock:
            topic = self._in_flight.pop(mid, None)
            if topic is None:
                self._early[mid] = reason_code
                return
        if reason_code.is_failure:
            self._refused(topic, reason_code)

    def _refused(self, topic: str, reason_code: mqtt.ReasonCode | str) -> None:
        """One refused publish (by the broker, or here for the broker): log, count, tell."""
        self.refused += 1
        if isinstance(reason_code, str):
            reason = reason_code
            self.log.error("not publishing to %s: %s", topic, reason)
        else:
            reason = f"{reason_code} (0x{reason_code.value:02X})"
            self.log.error("the broker refused the publish to %s: %s", topic, reason)
        if self._on_refused is not None:
            try:
                self._on_refused(topic, reason)
            except Exception:  # a handler bug must not kill paho's network thread
                self.log.exception("refusal handler failed on %s", topic)

    def _handle_message(self, client: mqtt.Client, userdata: object,
                        message: mqtt.MQTTMessage) -> None:
        if self._on_message is None:
            return
        try:
            self._on_message(message.topic, message.payload)
        except Exception:  # a handler bug must not kill paho's network thread
            self.log.exception("message handler failed on %s", message.topic)
