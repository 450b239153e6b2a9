"""The driver contract's `suite`, `sub` and `pub` for Python paho-mqtt 2.x
(`paho-python-v3.1`, `paho-python-v3.1.1`, `paho-python-v5`)."""

from __future__ import annotations

import hashlib
import os
import time

from mqttkit import Conn, Conns, Fail, Skip, check, emit, log, props_to_dict, run_scenario

VERSIONS = {"paho-python-v3.1": "3.1", "paho-python-v3.1.1": "3.1.1", "paho-python-v5": "5"}

PATTERN_256K = bytes(i % 251 for i in range(262144))


def client_id(client: str, rest: str) -> str:
    """`<client>-<rest>`, except for MQTT 3.1, whose client identifiers are 1 to 23 characters
    (a longer one is refused with CONNACK 2, Identifier Rejected): there a short stable digest."""
    cid = f"{client}-{rest}"
    if VERSIONS[client] == "3.1" and len(cid) > 23:
        cid = "pyv31-" + hashlib.sha1(cid.encode()).hexdigest()[:16]
    return cid


def describe_difference(got: bytes, want: bytes) -> str:
    if len(got) != len(want):
        return f"payload length {len(got)}, expected {len(want)}"
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return f"payload differs at byte {i}: 0x{a:02x}, expected 0x{b:02x}"
    return ""


class PahoSuite:
    def __init__(self, client: str, host: str, port: int):
        self.client, self.host, self.port = client, host, port
        self.version = VERSIONS[client]
        self.v5 = self.version == "5"

    def t(self, scenario: str, rest: str = "t") -> str:
        return f"interop/{self.client}/{scenario}/{rest}"

    def cid(self, scenario: str, suffix: str = "") -> str:
        return client_id(self.client, f"{scenario}{suffix}")

    def conns(self) -> Conns:
        return Conns(self.host, self.port, self.version)

    def v5_only(self):
        if not self.v5:
            raise Skip("MQTT 5.0 feature; this client speaks " + self.version)

    # scenarios

    def connect(self, credentials: bool = False):
        scenario = "connect-credentials" if credentials else "connect"
        with self.conns() as cs:
            kw = {"username": "interop", "password": "secret"} if credentials else {}
            c = cs.new(self.cid(scenario), **kw)
            rc, _, _ = c.connect(expect_ok=False)
            check(rc == 0, f"CONNACK reason code 0x{rc:02x}")
            c.disconnect()

    def roundtrip(self, scenario: str, qos: int, payload: bytes):
        with self.conns() as cs:
            c = cs.connect(self.cid(scenario))
            topic = self.t(scenario)
            granted = c.subscribe(topic, qos)
            check(granted == [qos], f"SUBACK {granted}, expected [{qos}]")
            c.publish(topic, payload, qos)
            m = c.expect(8, "message")
            check(m.topic == topic, f"topic {m.topic!r}")
            diff = describe_difference(m.payload, payload)
            check(not diff, diff)
            check(m.qos == qos, f"delivered at QoS {m.qos}, expected {qos}")

    def retained(self):
        s = "retained"
        topic = self.t(s)
        with self.conns() as cs:
            pub = cs.connect(self.cid(s, "-pub"))
            pub.publish(topic, b"hello", 1, retain=True)
            s1 = cs.connect(self.cid(s, "-sub1"))
            s1.subscribe(topic, 1)
            m = s1.expect(5, "retained message")
            check(m.payload == b"hello", f"payload {m.payload!r}")
            check(m.retain, "retain flag not set on the retained message")
            pub.publish(topic, b"", 1, retain=True)
            s2 = cs.connect(self.cid(s, "-sub2"))
            s2.subscribe(topic, 1)
            s2.expect_none(1.0, "message after the retained message was cleared")

    def will(self):
        s = "will"
        topic = self.t(s)
        with self.conns() as cs:
            b = cs.connect(self.cid(s, "-observer"))
            b.subscribe(topic, 1)
            a = cs.new(self.cid(s, "-a"), will={"topic": topic, "payload": b"gone", "qos": 1})
            a.connect()
            a.abort()
            m = b.expect(5, "will message")
            check(m.payload == b"gone", f"will payload {m.payload!r}")

    def persistent(self, clean: bool, cid: str) -> Conn:
        if self.v5:
            return Conn(self.host, self.port, cid, "5", clean=clean, session_expiry=0 if clean else 300)
        return Conn(self.host, self.port, cid, self.version, clean=clean)

    def persistent_session(self):
        s = "persistent-session"
        topic = self.t(s)
        cid = self.cid(s)
        conns = []
        try:
            wipe = self.persistent(True, cid)
            conns.append(wipe)
            wipe.connect()
            wipe.disconnect()
            c = self.persistent(False, cid)
            conns.append(c)
            c.connect()
            granted = c.subscribe(topic, 1)
            check(granted == [1], f"SUBACK {granted}")
            c.disconnect()
            with self.conns() as cs:
                pub = cs.connect(self.cid(s, "-pub"))
                for i, q in enumerate((1, 2, 1), 1):
                    pub.publish(topic, f"queued-{i}".encode(), q)
                pub.disconnect()
            c2 = self.persistent(False, cid)
            conns.append(c2)
            c2.connect()
            # MQTT 3.1 has no session present flag (the CONNACK byte is reserved): 3.1.1 and later.
            if self.version != "3.1":
                check(c2.session_present, "session present flag is 0 on reconnection")
            got = []
            deadline = time.monotonic() + 5
            while len(got) < 3 and time.monotonic() < deadline:
                got += c2.collect(min(0.5, max(0.0, deadline - time.monotonic())))
            payloads = sorted(m.payload for m in got)
            check(payloads == [b"queued-1", b"queued-2", b"queued-3"],
                  f"received {payloads}, expected the 3 queued messages")
            c2.disconnect()
            # leave nothing behind
            wipe2 = self.persistent(True, cid)
            conns.append(wipe2)
            wipe2.connect()
            wipe2.disconnect()
        finally:
            for c in conns:
                c.close()

    def unsubscribe(self):
        s = "unsubscribe"
        topic = self.t(s)
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            c.subscribe(topic, 1)
            c.publish(topic, b"before", 1)
            m = c.expect(5, "message before UNSUBSCRIBE")
            check(m.payload == b"before", f"payload {m.payload!r}")
            c.unsubscribe(topic)
            c.publish(topic, b"after", 1)
            c.expect_none(1.0, "message after UNSUBSCRIBE")

    def keepalive(self):
        s = "keepalive"
        topic = self.t(s)
        with self.conns() as cs:
            c = cs.new(self.cid(s), keepalive=2)
            c.connect()
            c.subscribe(topic, 1)
            time.sleep(5)
            check(not c.closed.is_set(), f"connection closed while idle (reason {c.disconnect_reason})")
            pings, pongs = c.logged("Sending PINGREQ"), c.logged("Received PINGRESP")
            check(pings >= 1, "the library sent no PINGREQ")
            check(pongs >= 1, f"{pings} PINGREQ sent, no PINGRESP received")
            c.publish(topic, b"still-here", 1)
            m = c.expect(5, "message after the idle period")
            check(m.payload == b"still-here", f"payload {m.payload!r}")

    def user_properties(self):
        self.v5_only()
        s = "v5-user-properties"
        topic = self.t(s)
        pairs = [("k", "1"), ("x", "2"), ("k", "3")]
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            c.subscribe(topic, 1)
            c.publish(topic, b"hello", 1, pub_props={"UserProperty": pairs})
            m = c.expect(5, "message")
            got = [tuple(p) for p in m.properties.get("user_property", [])]
            check(got == pairs, f"user properties {got}, expected {pairs}")

    def message_expiry(self):
        self.v5_only()
        s = "v5-message-expiry"
        live, kept = self.t(s, "live"), self.t(s, "retained")
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            c.subscribe(live, 1)
            c.publish(live, b"hello", 1, pub_props={"MessageExpiryInterval": 60})
            m = c.expect(5, "message")
            e = m.properties.get("message_expiry_interval")
            check(e is not None, "message expiry interval missing on delivery")
            check(0 < e <= 60, f"message expiry interval {e}, expected 1..60")
            c.publish(kept, b"short-lived", 1, retain=True, pub_props={"MessageExpiryInterval": 1})
            time.sleep(2.5)
            late = cs.connect(self.cid(s, "-late"))
            late.subscribe(kept, 1)
            try:
                late.expect_none(1.0, "expired retained message")
            finally:
                c.publish(kept, b"", 1, retain=True)

    def topic_alias(self):
        self.v5_only()
        s = "v5-topic-alias"
        topic = self.t(s)
        with self.conns() as cs:
            sub = cs.connect(self.cid(s, "-sub"))
            sub.subscribe(topic, 1)
            pub = cs.connect(self.cid(s, "-pub"))
            maximum = pub.connack_prop("TopicAliasMaximum", 0)
            check(maximum >= 1, f"server Topic Alias Maximum is {maximum}: aliases not accepted")
            pub.publish(topic, b"one", 1, pub_props={"TopicAlias": 1})
            pub.publish("", b"two", 1, pub_props={"TopicAlias": 1})
            got = [sub.expect(5, "message") for _ in range(2)]
            check([(m.topic, m.payload) for m in got] == [(topic, b"one"), (topic, b"two")],
                  f"received {got}")

    def request_response(self):
        self.v5_only()
        s = "v5-request-response"
        req_topic, reply_topic = self.t(s, "request"), self.t(s, "reply")
        corr = b"corr-\x00\xff-" + self.client.encode()
        with self.conns() as cs:
            requester = cs.connect(self.cid(s, "-requester"))
            requester.subscribe(reply_topic, 1)
            responder = cs.connect(self.cid(s, "-responder"))
            responder.subscribe(req_topic, 1)
            requester.publish(req_topic, b"question", 1,
                              pub_props={"ResponseTopic": reply_topic, "CorrelationData": corr})
            q = responder.expect(5, "request")
            check(q.properties.get("response_topic") == reply_topic,
                  f"response topic {q.properties.get('response_topic')!r}")
            check(q.properties.get("correlation_data_hex") == corr.hex(),
                  f"correlation data {q.properties.get('correlation_data_hex')}, expected {corr.hex()}")
            responder.publish(q.properties["response_topic"], b"answer", 1,
                              pub_props={"CorrelationData": bytes.fromhex(q.properties["correlation_data_hex"])})
            a = requester.expect(5, "response")
            check(a.payload == b"answer", f"response payload {a.payload!r}")
            check(a.properties.get("correlation_data_hex") == corr.hex(),
                  f"response correlation data {a.properties.get('correlation_data_hex')}")

    def subscription_identifiers(self):
        self.v5_only()
        s = "v5-subscription-identifiers"
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            c.subscribe(self.t(s, "+"), 1, sub_props={"SubscriptionIdentifier": 7})
            c.subscribe(self.t(s, "#"), 1, sub_props={"SubscriptionIdentifier": 9})
            c.publish(self.t(s, "x"), b"hello", 1)
            got = [c.expect(5, "message")] + c.collect(1.0)
            ids = [sorted(m.prop("SubscriptionIdentifier", []) or []) for m in got]
            if len(got) == 1:
                check(ids[0] == [7, 9], f"one copy with identifiers {ids[0]}, expected [7, 9]")
            else:
                check(sorted(ids) == [[7], [9]], f"{len(got)} copies with identifiers {ids}")

    def refused_subscription(self):
        self.v5_only()
        s = "v5-refused-subscription"
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            codes = c.subscribe("interop/denied", 1)
            check(codes == [0x87], f"SUBACK {[hex(x) for x in codes]}, expected [0x87]")

    def run(self):
        sc = [
            ("connect", self.connect),
            ("connect-credentials", lambda: self.connect(True)),
            ("qos0-roundtrip", lambda: self.roundtrip("qos0-roundtrip", 0, b"hello")),
            ("qos1-roundtrip", lambda: self.roundtrip("qos1-roundtrip", 1, b"hello")),
            ("qos2-roundtrip", lambda: self.roundtrip("qos2-roundtrip", 2, b"hello")),
            ("qos1-roundtrip-empty", lambda: self.roundtrip("qos1-roundtrip-empty", 1, b"")),
            ("qos2-roundtrip-1byte", lambda: self.roundtrip("qos2-roundtrip-1byte", 2, b"\x00")),
            ("qos2-roundtrip-256k", lambda: self.roundtrip("qos2-roundtrip-256k", 2, PATTERN_256K)),
            ("retained", self.retained),
            ("will", self.will),
            ("persistent-session", self.persistent_session),
            ("unsubscribe", self.unsubscribe),
            ("keepalive", self.keepalive),
            ("v5-user-properties", self.user_properties),
            ("v5-message-expiry", self.message_expiry),
            ("v5-topic-alias", self.topic_alias),
            ("v5-request-response", self.request_response),
            ("v5-subscription-identifiers", self.subscription_identifiers),
            ("v5-refused-subscription", self.refused_subscription),
        ]
        for name, fn in sc:
            run_scenario(self.client, name, fn)


def standard_props(client: str) -> dict:
    return {
        "UserProperty": [("origin", client), ("k", "v")],
        "ContentType": "application/x-tern-interop",
        "ResponseTopic": f"interop/reply/{client}",
        "CorrelationData": f"corr-{client}".encode(),
        "PayloadFormatIndicator": 1,
        "MessageExpiryInterval": 300,
    }


def sub(args) -> int:
    version = VERSIONS[args.client]
    cid = args.id or client_id(args.client, f"sub-{os.getpid()}")
    c = Conn(args.host, args.port, cid, version, clean=True)
    try:
        c.connect()
        codes = c.subscribe(args.filter, args.qos)
        if any(code >= 0x80 for code in codes):
            log(f"subscription refused: {codes}")
            return 1
        emit({"event": "ready"})
        received = 0
        deadline = time.monotonic() + args.timeout
        while received < args.count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                m = c.expect(left)
            except Fail:
                break
            received += 1
            emit({"event": "message", "topic": m.topic, "qos": m.qos, "retain": m.retain,
                  "payload_hex": m.payload.hex(), "properties": m.properties if c.v5 else {}})
        emit({"event": "done", "received": received})
        c.disconnect()
        return 0
    finally:
        c.close()


def pub(args) -> int:
    version = VERSIONS[args.client]
    c = Conn(args.host, args.port, client_id(args.client, f"pub-{os.getpid()}"), version, clean=True)
    payload = bytes.fromhex(args.payload_hex)
    try:
        c.connect()
        p = standard_props(args.client) if args.props and c.v5 else None
        mids = []
        for i in range(args.count):
            body = payload + bytes([i & 0xFF]) if args.count > 1 else payload
            mids.append(c.publish(args.topic, body, args.qos, pub_props=p, wait=False))
        for mid in mids:
            c._wait(lambda mid=mid: c._acks.pop(("pub", mid), None), 20, f"acknowledgement of message {mid}")
        emit({"event": "published", "count": args.count})
        c.disconnect()
        return 0
    finally:
        c.close()
