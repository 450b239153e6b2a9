"""Small synchronous layer over paho-mqtt 2.x for the interoperability drivers.

Every wait is bounded. Each `Conn` runs its own network loop thread (one `Client.loop()` call
at a time) rather than `loop_start()`, so that a connection the broker closes is not silently
reconnected, and so that a test can stop the loop to make the client fall silent or close the
socket without a DISCONNECT.
"""

from __future__ import annotations

import json
import queue
import select
import socket
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.client import CallbackAPIVersion, MQTTv31, MQTTv311, MQTTv5
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions as SubscriptionOptions

__all__ = [
    "Conn", "Fail", "Skip", "check", "emit", "props", "props_to_dict", "run_scenario",
    "SubscriptionOptions", "PacketTypes", "raw_connect",
]

PROTOCOLS = {"3.1": MQTTv31, "3.1.1": MQTTv311, "5": MQTTv5}
# paho maps MQTT 3.x CONNACK return codes onto 5.0 reason codes in its VERSION2 callbacks.
V3_CONNACK = {0: 0, 0x84: 1, 0x85: 2, 0x88: 3, 0x86: 4, 0x87: 5}

_out_lock = threading.Lock()


class Fail(Exception):
    """A scenario observed something other than what it expects."""


class Skip(Exception):
    """The library cannot express the scenario."""


def check(cond, message: str) -> None:
    if not cond:
        raise Fail(message)


def emit(obj: dict) -> None:
    with _out_lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def log(*args) -> None:
    with _out_lock:
        print(*args, file=sys.stderr, flush=True)


def run_scenario(client: str, scenario: str, fn, *args, budget: float = 10.0) -> dict:
    """Runs one scenario, prints its result line and returns it."""
    start = time.monotonic()
    try:
        ret = fn(*args)  # a passing scenario may return an informative note
        result, detail = "pass", ret if isinstance(ret, str) else ""
    except Fail as e:
        result, detail = "fail", str(e)
    except Skip as e:
        result, detail = "skip", str(e)
    except Exception as e:  # a library exception is a failure of the scenario, not of the driver
        result, detail = "fail", f"{type(e).__name__}: {e}"
    took = time.monotonic() - start
    if took > budget and result == "pass":
        result, detail = "fail", f"took {took:.1f} s (budget {budget:.0f} s)"
    log(f"[{client}] {scenario}: {result} ({took:.1f} s) {detail}")
    line = {"client": client, "scenario": scenario, "result": result, "detail": detail}
    emit(line)
    return line


def props(packet_type: int, **values) -> Properties:
    """Builds paho Properties: props(PacketTypes.PUBLISH, UserProperty=[("a", "b")], ...)."""
    p = Properties(packet_type)
    for name, value in values.items():
        setattr(p, name, value)
    return p


def props_to_dict(p) -> dict:
    """Converts received paho Properties to the contract's property names."""
    out: dict = {}
    if p is None:
        return out
    if hasattr(p, "UserProperty"):
        out["user_property"] = [[k, v] for k, v in p.UserProperty]
    if hasattr(p, "ContentType"):
        out["content_type"] = p.ContentType
    if hasattr(p, "ResponseTopic"):
        out["response_topic"] = p.ResponseTopic
    if hasattr(p, "CorrelationData"):
        out["correlation_data_hex"] = bytes(p.CorrelationData).hex()
    if hasattr(p, "PayloadFormatIndicator"):
        out["payload_format_indicator"] = p.PayloadFormatIndicator
    if hasattr(p, "MessageExpiryInterval"):
        out["message_expiry_interval"] = p.MessageExpiryInterval
    return out


class Msg:
    __slots__ = ("topic", "payload", "qos", "retain", "dup", "mid", "properties", "raw_props")

    def __init__(self, m: mqtt.MQTTMessage):
        try:
            self.topic = m.topic
        except UnicodeDecodeError:
            self.topic = repr(m._topic)
        self.payload = bytes(m.payload)
        self.qos = m.qos
        self.retain = bool(m.retain)
        self.dup = bool(m.dup)
        self.mid = m.mid
        self.raw_props = getattr(m, "properties", None)
        self.properties = props_to_dict(self.raw_props)

    def prop(self, name, default=None):
        return getattr(self.raw_props, name, default) if self.raw_props is not None else default

    def __repr__(self):
        return (f"Msg({self.topic!r}, {self.payload[:32]!r}{'...' if len(self.payload) > 32 else ''}, "
                f"q{self.qos}, r{int(self.retain)}, d{int(self.dup)}, {self.properties})")


class Conn:
    """One MQTT connection made with paho-mqtt."""

    def __init__(self, host: str, port: int, client_id: str, version: str, *,
                 clean: bool = True, session_expiry: int | None = None, keepalive: int = 60,
                 will: dict | None = None, username: str | None = None,
                 password: str | None = None, connect_props: dict | None = None,
                 manual_ack: bool = False):
        self.host, self.port, self.version = host, port, version
        self.v5 = version == "5"
        self.clean = clean
        self.keepalive = keepalive
        kwargs = dict(client_id=client_id, protocol=PROTOCOLS[version], manual_ack=manual_ack)
        if not self.v5:
            kwargs["clean_session"] = clean
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = self._on_message
        self.c.on_publish = self._on_publish
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.c.on_log = self._on_log
        # Writes happen only in our loop thread (see module docstring).
        self.c.on_socket_register_write = lambda *a: None
        self.c.on_socket_unregister_write = lambda *a: None
        if username is not None:
            self.c.username_pw_set(username, password)
        if will:
            wp = None
            if will.get("props"):
                wp = props(PacketTypes.WILLMESSAGE, **will["props"])
            self.c.will_set(will["topic"], will.get("payload", b""), will.get("qos", 0),
                            will.get("retain", False), properties=wp)
        self.connect_props = dict(connect_props or {})
        if self.v5 and session_expiry is not None:
            self.connect_props["SessionExpiryInterval"] = session_expiry
        self.messages: queue.Queue[Msg] = queue.Queue()
        self.logs: list[str] = []
        self._cond = threading.Condition()
        self._acks: dict[tuple[str, int], object] = {}
        self.connack = None  # (reason code, session present, properties dict-like)
        self.disconnect_reason = None
        self.connected = False
        self.closed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # callbacks (loop thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        rc = reason_code.value
        if not self.v5:
            rc = V3_CONNACK.get(rc, rc)
        with self._cond:
            self.connack = (rc, bool(flags.session_present), properties)
            self.connected = rc == 0
            self._cond.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        with self._cond:
            self.connected = False
            self.disconnect_reason = getattr(reason_code, "value", reason_code)
            self.closed.set()
            self._cond.notify_all()

    def _on_message(self, client, userdata, m):
        self.messages.put(Msg(m))

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._cond:
            self._acks[("pub", mid)] = getattr(reason_code, "value", reason_code)
            self._cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._cond:
            self._acks[("sub", mid)] = [getattr(r, "value", r) for r in reason_codes]
            self._cond.notify_all()

    def _on_unsubscribe(self, client, userdata, mid, reason_codes, properties):
        with self._cond:
            self._acks[("unsub", mid)] = [getattr(r, "value", r) for r in (reason_codes or [])]
            self._cond.notify_all()

    def _on_log(self, client, userdata, level, buf):
        self.logs.append(buf)

    def _loop(self):
        while not self._stop.is_set():
            rc = self.c.loop(timeout=0.02)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                with self._cond:
                    self.connected = False
                    self.closed.set()
                    self._cond.notify_all()
                return

    def _wait(self, pred, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                v = pred()
                if v is not None:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail(f"timed out after {timeout:g} s waiting for {what}")
                if self.closed.is_set() and what != "connection close":
                    raise Fail(f"connection closed (reason {self.disconnect_reason}) while waiting for {what}")
                self._cond.wait(min(left, 0.05))

    # API (caller thread)
    def connect(self, timeout: float = 5.0, expect_ok: bool = True):
        kwargs = {}
        if self.v5:
            kwargs["clean_start"] = self.clean
            if self.connect_props:
                kwargs["properties"] = props(PacketTypes.CONNECT, **self.connect_props)
        self.c.connect(self.host, self.port, keepalive=self.keepalive, **kwargs)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        try:
            self._wait(lambda: self.connack, timeout, "CONNACK")
        except Fail:
            if self.connack is None and self.closed.is_set():
                raise Fail("connection closed before CONNACK")
            raise
        if expect_ok and self.connack[0] != 0:
            self.stop()
            raise Fail(f"CONNECT refused: reason code 0x{self.connack[0]:02x}")
        return self.connack

    @property
    def session_present(self) -> bool:
        return self.connack[1]

    def connack_prop(self, name, default=None):
        p = self.connack[2] if self.connack else None
        return getattr(p, name, default) if p is not None else default

    def subscribe(self, topic, qos=0, timeout: float = 5.0, options=None, sub_props=None):
        """topic: a filter, or a list of (filter, qos or SubscriptionOptions). Returns the
        list of reason codes."""
        p = props(PacketTypes.SUBSCRIBE, **sub_props) if sub_props else None
        if isinstance(topic, list):
            rc, mid = self.c.subscribe(topic, properties=p)
        else:
            if options is not None:
                rc, mid = self.c.subscribe(topic, options=options, properties=p)
            else:
                rc, mid = self.c.subscribe(topic, qos, properties=p)
        check(rc == mqtt.MQTT_ERR_SUCCESS, f"subscribe() returned {rc}")
        return self._wait(lambda: self._acks.pop(("sub", mid), None), timeout, "SUBACK")

    def unsubscribe(self, topic, timeout: float = 5.0):
        rc, mid = self.c.unsubscribe(topic)
        check(rc == mqtt.MQTT_ERR_SUCCESS, f"unsubscribe() returned {rc}")
        return self._wait(lambda: self._acks.pop(("unsub", mid), None), timeout, "UNSUBACK")

    def publish(self, topic, payload=b"", qos=0, retain=False, pub_props=None,
                wait: bool = True, timeout: float = 5.0):
        p = None
        if pub_props:
            p = pub_props if isinstance(pub_props, Properties) else props(PacketTypes.PUBLISH, **pub_props)
        info = self.c.publish(topic, payload, qos, retain, properties=p)
        check(info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish() returned {info.rc}")
        if wait:
            return self._wait(lambda: self._acks.pop(("pub", info.mid), None), timeout,
                              f"acknowledgement of QoS {qos} PUBLISH")
        return info.mid

    def expect(self, timeout: float = 5.0, what: str = "a message", pred=None) -> Msg:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail(f"no {what} within {timeout:g} s")
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                raise Fail(f"no {what} within {timeout:g} s")
            if pred is None or pred(m):
                return m

    def collect(self, duration: float) -> list[Msg]:
        """Every message that arrives within `duration` seconds."""
        out = []
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            try:
                out.append(self.messages.get(timeout=left))
            except queue.Empty:
                return out

    def expect_none(self, duration: float = 1.0, what: str = "message") -> None:
        got = self.collect(duration)
        check(not got, f"unexpected {what}: {got[0]!r}" if got else "")

    def logged(self, needle: str) -> int:
        return sum(1 for line in list(self.logs) if needle in line)

    def wait_closed(self, timeout: float) -> bool:
        return self.closed.wait(timeout)

    def disconnect(self, reason=None, disconnect_props=None, timeout: float = 3.0):
        """Clean DISCONNECT, then stops the loop thread."""
        if self._thread is None:
            return
        if self._stop.is_set():  # the loop was stopped (silence/abort): nothing can be sent
            self.close()
            return
        if not self.closed.is_set():
            p = props(PacketTypes.DISCONNECT, **disconnect_props) if disconnect_props else None
            rc = None
            if reason is not None:
                from paho.mqtt.reasoncodes import ReasonCode
                rc = ReasonCode(PacketTypes.DISCONNECT, identifier=reason)
            self.c.disconnect(reasoncode=rc, properties=p)
            self.closed.wait(timeout)
        self.stop()

    def stop(self):
        """Stops the loop thread, leaving the socket as it is."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    def silence(self):
        """The client stops sending anything (no PINGREQ) but keeps the connection open."""
        self.stop()

    def abort(self):
        """Closes the network connection without DISCONNECT."""
        self.stop()
        sock = self.c.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def socket_closed_by_peer(self, timeout: float) -> bool:
        """After silence(): whether the broker closes the connection within `timeout`."""
        sock = self.c.socket()
        if sock is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([sock], [], [], left)
            if r:
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    return True
                if not data:
                    return True
                # anything else (a DISCONNECT packet in 5.0) is read and ignored

    def close(self):
        """Best-effort cleanup whatever the state."""
        try:
            if self.connected and not self.closed.is_set() and not self._stop.is_set():
                self.disconnect()
            else:
                self.stop()
                sock = self.c.socket()
                if sock is not None:
                    sock.close()
        except Exception:
            pass


class Conns:
    """Context manager that closes every connection it made."""

    def __init__(self, host, port, version):
        self.host, self.port, self.version = host, port, version
        self.all: list[Conn] = []

    def new(self, client_id, **kw) -> Conn:
        c = Conn(self.host, self.port, client_id, kw.pop("version", self.version), **kw)
        self.all.append(c)
        return c

    def connect(self, client_id, **kw) -> Conn:
        c = self.new(client_id, **kw)
        c.connect()
        return c

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for c in self.all:
            c.close()
        return False


def raw_connect(host: str, port: int, packet: bytes, timeout: float = 3.0):
    """Sends one hand-made CONNECT; returns (CONNACK bytes, closed by the broker)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(packet)
        data = b""
        closed = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
            if len(data) >= 4 and not closed:
                # wait briefly to see whether the broker closes the connection
                s.settimeout(1.0)
        return data, closed
    finally:
        s.close()
