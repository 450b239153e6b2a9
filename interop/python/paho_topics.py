#!/usr/bin/env python3
"""Clean-room equivalents of the Paho interoperability test topics, with Python paho-mqtt 2.x.

Written from the list of topics only. Client names `paho-topics-v3.1.1` and `paho-topics-v5`;
topics start with `interop/<client>/<scenario>/`, client ids with `<client>-<scenario>`. Output:
the JSON lines of the driver contract (interop/README.md), one per scenario.

    paho_topics.py --host 127.0.0.1 --port P [--only v5] [--scenario NAME ...]

The two protocol versions run at the same time (two threads); every scenario is bounded.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mqttkit import (  # noqa: E402
    Conn, Conns, Fail, SubscriptionOptions, check, raw_connect, run_scenario,
)

TOPIC_ALIAS_INVALID = 0x94
NOT_AUTHORIZED_V5, FAILURE_V3 = 0x87, 0x80


class Topics:
    def __init__(self, version: str, host: str, port: int):
        self.version, self.host, self.port = version, host, port
        self.v5 = version == "5"
        self.client = f"paho-topics-v{version}"
        self.notes: dict[str, list[str]] = {}

    def t(self, scenario, rest="t"):
        return f"interop/{self.client}/{scenario}/{rest}"

    def cid(self, scenario, suffix=""):
        return f"{self.client}-{scenario}{suffix}"

    def conns(self) -> Conns:
        return Conns(self.host, self.port, self.version)

    def persistent(self, cs: Conns, cid: str, **kw) -> Conn:
        """A connection that keeps its session (3.1.1: clean session 0; 5.0: clean start 0,
        session expiry 300)."""
        if self.v5:
            kw.setdefault("session_expiry", 300)
        return cs.new(cid, clean=False, **kw)

    def wipe(self, cid: str):
        """Ends any session of `cid`."""
        c = Conn(self.host, self.port, cid, self.version, clean=True,
                 session_expiry=0 if self.v5 else None)
        try:
            c.connect()
            c.disconnect()
        finally:
            c.close()

    # ---- topics for both versions ----------------------------------------------------------

    def retained(self):
        s = "retained"
        with self.conns() as cs:
            pub = cs.connect(self.cid(s, "-pub"))
            for q in (0, 1, 2):  # on one connection, so the QoS 2 ack follows the other two
                pub.publish(self.t(s, f"q{q}"), f"qos {q}".encode(), q, retain=True)
            sub = cs.connect(self.cid(s, "-sub1"))
            sub.subscribe(self.t(s, "#"), 2)
            got = sorted((m.topic, m.payload, m.qos, m.retain) for m in
                         [sub.expect(5, "retained message") for _ in range(3)] + sub.collect(0.3))
            want = sorted((self.t(s, f"q{q}"), f"qos {q}".encode(), q, True) for q in (0, 1, 2))
            check(got == want, f"received {got}, expected {want}")
            for q in (0, 1, 2):
                pub.publish(self.t(s, f"q{q}"), b"", 1, retain=True)
            sub2 = cs.connect(self.cid(s, "-sub2"))
            sub2.subscribe(self.t(s, "#"), 2)
            sub2.expect_none(1.0, "retained message after clearing")

    def zero_length_clientid(self):
        s = "zero-length-clientid"
        with self.conns() as cs:
            c = cs.new("", clean=True)
            rc, _, _ = c.connect(expect_ok=False)
            check(rc == 0, f"CONNECT with empty client id and clean start refused: 0x{rc:02x}")
            if self.v5:
                assigned = c.connack_prop("AssignedClientIdentifier")
                check(assigned, "no Assigned Client Identifier in CONNACK [MQTT-3.2.2-16]")
            c.subscribe(self.t(s), 1)
            c.publish(self.t(s), b"hello", 1)
            check(c.expect(5).payload == b"hello", "round trip failed")
            c.disconnect()
        if not self.v5:
            # Paho's API refuses an empty client id with clean session 0, so this packet is made
            # by hand: CONNECT, MQTT 3.1.1, clean session 0, keep alive 60, empty client id.
            packet = bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 0x00, 0, 60, 0, 0])
            data, closed = raw_connect(self.host, self.port, packet)
            check(data[:2] == b"\x20\x02" and len(data) >= 4 and data[3] == 0x02,
                  f"empty client id with clean session 0: got {data.hex() or 'nothing'}, expected "
                  "CONNACK return code 0x02 (Identifier rejected) [MQTT-3.1.3-8]")
            check(closed, "connection not closed after CONNACK 0x02 [MQTT-3.1.3-8]")

    def will(self):
        s = "will"
        with self.conns() as cs:
            obs = cs.connect(self.cid(s, "-observer"))
            obs.subscribe(self.t(s, "#"), 1)
            a = cs.new(self.cid(s, "-abort"), will={"topic": self.t(s, "abort"), "payload": b"a-gone", "qos": 1})
            b = cs.new(self.cid(s, "-normal"), will={"topic": self.t(s, "normal"), "payload": b"b-gone", "qos": 1})
            a.connect()
            b.connect()
            b.disconnect()  # a normal DISCONNECT deletes the will [MQTT-3.1.2-10]
            a.abort()
            m = obs.expect(5, "will message")
            check((m.topic, m.payload) == (self.t(s, "abort"), b"a-gone"), f"received {m!r}")
            obs.expect_none(1.0, "will after a normal DISCONNECT")

    def offline_queueing(self):
        s = "offline-queueing"
        cid = self.cid(s)
        self.wipe(cid)
        try:
            with self.conns() as cs:
                a = self.persistent(cs, cid)
                a.connect()
                a.subscribe(self.t(s, "#"), 2)
                a.disconnect()
                pub = cs.connect(self.cid(s, "-pub"))
                for q in (0, 1, 2):
                    pub.publish(self.t(s, f"q{q}"), f"qos {q}".encode(), q)
                a2 = self.persistent(cs, cid)
                a2.connect()
                check(a2.session_present, "session present 0 on reconnection")
                got = a2.collect(1.5)
                payloads = sorted(m.payload for m in got)
                # QoS 0 messages may or may not be queued; QoS 1 and 2 must be.
                check(payloads in ([b"qos 1", b"qos 2"], [b"qos 0", b"qos 1", b"qos 2"]),
                      f"received {payloads}")
                a2.disconnect()
        finally:
            self.wipe(cid)

    def overlapping_subscriptions(self):
        s = "overlapping-subscriptions"
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            codes = c.subscribe([(self.t(s, "#"), 2), (self.t(s, "+"), 1)])
            check(codes == [2, 1], f"SUBACK {codes}")
            c.publish(self.t(s, "x"), b"overlap", 2)
            got = [c.expect(5)] + c.collect(1.0)
            qos = sorted(m.qos for m in got)
            # one copy at the maximum QoS, or one copy per subscription
            # (3.1.1: MQTT-3.3.5-1; 5.0: MQTT-3.3.4-2)
            check(qos in ([2], [1, 2]), f"{len(got)} copies at QoS {qos}")

    def keepalive(self):
        s = "keepalive"
        with self.conns() as cs:
            obs = cs.connect(self.cid(s, "-observer"))
            obs.subscribe(self.t(s, "will"), 1)
            a = cs.new(self.cid(s), keepalive=2,
                       will={"topic": self.t(s, "will"), "payload": b"keepalive-expired", "qos": 1})
            a.connect()
            a.silence()  # no more packets, no PINGREQ; the socket stays open
            start = time.monotonic()
            closed = a.socket_closed_by_peer(6.0)
            took = time.monotonic() - start
            check(closed, "connection still open 6 s after the client fell silent "
                          "(keep alive 2 s: the server must close it after 3 s)")
            check(took >= 1.9, f"connection closed after only {took:.1f} s of silence (keep alive 2 s)")
            check(took <= 4.5, f"connection closed after {took:.1f} s of silence, expected about 3 s")
            m = obs.expect(3, "will after the keep alive expired")
            check(m.payload == b"keepalive-expired", f"payload {m.payload!r}")

    def redelivery(self):
        s = "redelivery"
        cid = self.cid(s)
        self.wipe(cid)
        try:
            with self.conns() as cs:
                a = self.persistent(cs, cid, manual_ack=True)
                a.connect()
                a.subscribe(self.t(s, "#"), 2)
                pub = cs.connect(self.cid(s, "-pub"))
                pub.publish(self.t(s, "q1"), b"one", 1)
                pub.publish(self.t(s, "q2"), b"two", 2)
                # QoS 1: no PUBACK is sent. QoS 2: paho sends PUBREC at once and delivers on
                # PUBREL; the PUBCOMP is withheld.
                first = {m.payload: m for m in [a.expect(5), a.expect(5)]}
                check(set(first) == {b"one", b"two"}, f"first delivery {list(first)}")
                mid1, mid2 = first[b"one"].mid, first[b"two"].mid
                a.abort()
                a2 = self.persistent(cs, cid)  # acknowledges normally
                a2.connect()
                check(a2.session_present, "session present 0 on reconnection")
                got = a2.collect(1.5)
                again = [m for m in got if m.payload == b"one"]
                check(again, "the unacknowledged QoS 1 PUBLISH was not re-sent [MQTT-4.4.0-1]")
                m = again[0]
                check(m.dup, "re-sent QoS 1 PUBLISH has DUP 0 [MQTT-3.3.1-1]")
                check(m.mid == mid1, f"re-sent with packet id {m.mid}, originally {mid1} [MQTT-4.4.0-1]")
                check(a2.logged(f"Received PUBREL (Mid: {mid2})") >= 1,
                      "the unacknowledged PUBREL was not re-sent [MQTT-4.4.0-1]")
                check(not [m for m in got if m.payload == b"two"],
                      "the QoS 2 PUBLISH was re-sent after its PUBREC (must send PUBREL only) [MQTT-4.3.3]")
                a2.disconnect()
        finally:
            self.wipe(cid)

    def dollar_topics(self):
        s = "dollar-topics"
        dollar = f"$interop/{self.client}/{s}/t"
        with self.conns() as cs:
            hashes = cs.connect(self.cid(s, "-hash"))
            hashes.subscribe("#", 0)
            plus = cs.connect(self.cid(s, "-plus"))
            plus.subscribe(f"+/{self.client}/{s}/t", 0)
            exact = cs.connect(self.cid(s, "-exact"))
            exact.subscribe(dollar, 1)
            pub = cs.connect(self.cid(s, "-pub"))
            rc = pub.publish(dollar, b"dollar", 1)
            pub.publish(self.t(s), b"plain", 1)
            # the # subscriber sees the plain topic (and everything else running), never a $ topic
            seen = hashes.collect(1.5)
            leaked = [m.topic for m in seen + plus.collect(0.1) if m.topic.startswith("$")]
            check(not leaked, f"a wildcard-first filter matched {leaked[:3]} [MQTT-4.7.2-1]")
            check(any(m.topic == self.t(s) for m in seen), "the # subscriber missed a plain topic")
            got = exact.collect(0.5)
            if got:
                self.notes.setdefault(s, []).append(
                    "a client may publish to a $ topic and an exact subscriber receives it "
                    "(the spec says the server SHOULD prevent this exchange, 4.7.2)")
            else:
                # The spec lets a server stop clients from using $ topics (SHOULD prevent
                # exchanging messages through them), so this is not a failure.
                self.notes.setdefault(s, []).append(
                    f"Tern does not deliver client publishes on $ topics (PUBACK reason {rc})")

    def unsubscribe(self):
        s = "unsubscribe"
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            c.subscribe([(self.t(s, x), 1) for x in "abc"])
            codes = c.unsubscribe([self.t(s, "a"), self.t(s, "b")])
            if self.v5:
                check(codes == [0, 0], f"UNSUBACK reason codes {codes}, expected [0, 0]")
            for x in "abc":
                c.publish(self.t(s, x), x.encode(), 1)
            got = [c.expect(5)] + c.collect(1.0)
            check([m.topic for m in got] == [self.t(s, "c")], f"received {[m.topic for m in got]}")
            codes = c.unsubscribe(self.t(s, "never-subscribed"))  # must still get an UNSUBACK
            if self.v5:
                check(codes in ([0x11], [0]), f"UNSUBACK for a filter never subscribed: {codes}")

    def subscribe_failure(self):
        s = "subscribe-failure"
        denied = NOT_AUTHORIZED_V5 if self.v5 else FAILURE_V3
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            codes = c.subscribe([(self.t(s), 1), ("interop/denied", 1)])
            check(codes == [1, denied], f"SUBACK {[hex(x) for x in codes]}, expected [0x1, {hex(denied)}]")
            c.publish(self.t(s), b"still-fine", 1)
            check(c.expect(5).payload == b"still-fine", "the granted subscription does not work")

    # ---- MQTT 5.0 only ---------------------------------------------------------------------

    @staticmethod
    def settle():
        """Gives the broker time to read a DISCONNECT before the next connection's CONNECT.

        Two connections have no order between them: a client that closes one right after
        its DISCONNECT and opens another can have the new CONNECT read first (a loaded host
        makes that likely), and it then takes the old connection over, session and all.
        """
        time.sleep(0.3)

    def session_expiry(self):
        s = "session-expiry"
        cid = self.cid(s)
        try:
            with self.conns() as cs:
                a = cs.new(cid, clean=True, session_expiry=0)
                a.connect()
                a.subscribe(self.t(s), 1)
                a.disconnect()
                self.settle()
                b = cs.new(cid, clean=False, session_expiry=0)
                b.connect()
                check(not b.session_present, "session kept although its expiry interval was 0")
                b.disconnect()

                c = cs.new(cid, clean=True, session_expiry=2)
                c.connect()
                c.subscribe(self.t(s), 1)
                c.disconnect()
                d = cs.new(cid, clean=False, session_expiry=2)
                d.connect()
                check(d.session_present, "session with expiry 2 gone immediately after disconnection")
                d.disconnect()
                time.sleep(3.2)
                e = cs.new(cid, clean=False, session_expiry=60)
                e.connect()
                check(not e.session_present, "session with expiry 2 still present 3.2 s after disconnection")
                e.subscribe(self.t(s), 1)
                # the DISCONNECT may shorten the expiry: 0 ends the session now
                e.disconnect(disconnect_props={"SessionExpiryInterval": 0})
                self.settle()
                f = cs.new(cid, clean=False, session_expiry=0)
                f.connect()
                check(not f.session_present, "session kept after DISCONNECT with Session Expiry Interval 0")
                f.disconnect()
        finally:
            self.wipe(cid)

    def shared_subscriptions(self):
        s = "shared-subscriptions"
        n = 12
        with self.conns() as cs:
            members = [cs.connect(self.cid(s, f"-m{i}")) for i in (1, 2)]
            check(members[0].connack_prop("SharedSubscriptionAvailable", 1) == 1,
                  "server says shared subscriptions are not available")
            for m in members:
                check(m.subscribe(f"$share/ptg/{self.t(s, '#')}", 1) == [1], "shared SUBSCRIBE refused")
            plain = cs.connect(self.cid(s, "-plain"))
            plain.subscribe(self.t(s, "#"), 1)
            pub = cs.connect(self.cid(s, "-pub"))
            for i in range(n):
                pub.publish(self.t(s, "x"), f"m{i}".encode(), 1)
            deadline = time.monotonic() + 5
            got = [[], []]
            while sum(map(len, got)) < n and time.monotonic() < deadline:
                for i, m in enumerate(members):
                    got[i] += m.collect(0.05)
            got = [g + m.collect(0.5) for g, m in zip(got, members)]
            payloads = sorted(p.payload for g in got for p in g)
            check(payloads == sorted(f"m{i}".encode() for i in range(n)),
                  f"group received {len(payloads)} messages ({len(set(payloads))} distinct) of {n}; "
                  f"members {len(got[0])} + {len(got[1])}")
            plain_got = plain.collect(0.2)
            check(len(plain_got) == n or len(plain_got) + len(plain.collect(1.0)) == n,
                  "the non-shared subscriber did not receive every message")
            for g in got:
                for m in g:
                    check(m.topic == self.t(s, "x"), f"topic {m.topic!r}")

    def publication_expiry(self):
        s = "publication-expiry"
        cid = self.cid(s)
        self.wipe(cid)
        try:
            with self.conns() as cs:
                a = self.persistent(cs, cid)
                a.connect()
                a.subscribe(self.t(s, "queued"), 1)
                a.disconnect()
                pub = cs.connect(self.cid(s, "-pub"))
                pub.publish(self.t(s, "queued"), b"short", 1, pub_props={"MessageExpiryInterval": 1})
                pub.publish(self.t(s, "queued"), b"long", 1, pub_props={"MessageExpiryInterval": 60})
                pub.publish(self.t(s, "retained"), b"kept", 1, retain=True, pub_props={"MessageExpiryInterval": 60})
                time.sleep(2.5)
                a2 = self.persistent(cs, cid)
                a2.connect()
                got = a2.collect(1.0)
                check([m.payload for m in got] == [b"long"],
                      f"after 2.5 s offline received {[m.payload for m in got]}, expected only the message "
                      "with expiry 60 (expiry 1 must be dropped [MQTT-3.3.2-5])")
                e = got[0].properties.get("message_expiry_interval")
                check(e is not None and e <= 58,
                      f"queued message expiry {e} after 2.5 s in the server, expected at most 58 [MQTT-3.3.2-6]")
                late = cs.connect(self.cid(s, "-late"))
                late.subscribe(self.t(s, "retained"), 1)
                r = late.expect(3, "retained message")
                e = r.properties.get("message_expiry_interval")
                check(e is not None and e <= 58,
                      f"retained message expiry {e} after 2.5 s in the server, expected at most 58 [MQTT-3.3.2-6]")
                pub.publish(self.t(s, "retained"), b"", 1, retain=True)
                a2.disconnect()
        finally:
            self.wipe(cid)

    def no_local(self):
        s = "no-local"
        with self.conns() as cs:
            a = cs.connect(self.cid(s, "-a"))
            b = cs.connect(self.cid(s, "-b"))
            a.subscribe(self.t(s), options=SubscriptionOptions(qos=1, noLocal=True))
            b.subscribe(self.t(s), 1)
            a.publish(self.t(s), b"from-a", 1)
            check(b.expect(5).payload == b"from-a", "the other client did not receive the message")
            a.expect_none(1.0, "own message despite No Local [MQTT-3.8.3-3]")
            b.publish(self.t(s), b"from-b", 1)
            check(a.expect(5).payload == b"from-b", "No Local subscriber missed another client's message")

    def retain_as_published(self):
        s = "retain-as-published"
        topic = self.t(s)
        with self.conns() as cs:
            rap = cs.connect(self.cid(s, "-rap"))
            rap.subscribe(topic, options=SubscriptionOptions(qos=1, retainAsPublished=True))
            plain = cs.connect(self.cid(s, "-plain"))
            plain.subscribe(topic, options=SubscriptionOptions(qos=1, retainAsPublished=False))
            pub = cs.connect(self.cid(s, "-pub"))
            try:
                pub.publish(topic, b"retained-live", 1, retain=True)
                m1, m2 = rap.expect(5), plain.expect(5)
                check(m1.retain, "Retain As Published 1: RETAIN 0 on a retained publish [MQTT-3.3.1-13]")
                check(not m2.retain, "Retain As Published 0: RETAIN 1 on a live message [MQTT-3.3.1-12]")
                late = cs.connect(self.cid(s, "-late"))
                late.subscribe(topic, options=SubscriptionOptions(qos=1, retainAsPublished=False))
                check(late.expect(5).retain, "a retained message sent on subscription has RETAIN 0")
            finally:
                pub.publish(topic, b"", 1, retain=True)

    def retain_handling(self):
        s = "retain-handling"
        topic = self.t(s, "kept")
        with self.conns() as cs:
            pub = cs.connect(self.cid(s, "-pub"))
            pub.publish(topic, b"kept", 1, retain=True)
            try:
                a = cs.connect(self.cid(s, "-a"))
                a.subscribe(topic, options=SubscriptionOptions(qos=1, retainHandling=0))
                check(a.expect(3).payload == b"kept", "Retain Handling 0: retained message not sent")
                a.subscribe(topic, options=SubscriptionOptions(qos=1, retainHandling=0))
                check(a.expect(3).payload == b"kept",
                      "Retain Handling 0 on an existing subscription: retained message not sent [MQTT-3.3.1-9]")
                a.subscribe(topic, options=SubscriptionOptions(qos=1, retainHandling=1))
                a.expect_none(0.7, "retained message (Retain Handling 1, subscription existed) [MQTT-3.3.1-10]")
                a.subscribe(self.t(s, "+"), options=SubscriptionOptions(qos=1, retainHandling=1))
                check(a.expect(3).payload == b"kept",
                      "Retain Handling 1 on a new subscription: retained message not sent [MQTT-3.3.1-10]")
                b = cs.connect(self.cid(s, "-b"))
                b.subscribe(topic, options=SubscriptionOptions(qos=1, retainHandling=2))
                b.expect_none(0.7, "retained message with Retain Handling 2 [MQTT-3.3.1-11]")
            finally:
                pub.publish(topic, b"", 1, retain=True)

    def assigned_clientid(self):
        s = "assigned-clientid"
        with self.conns() as cs:
            a = cs.new("", clean=True, session_expiry=30)
            a.connect()
            id1 = a.connack_prop("AssignedClientIdentifier")
            check(id1, "no Assigned Client Identifier for an empty client id [MQTT-3.2.2-16]")
            b = cs.new("", clean=True)
            b.connect()
            id2 = b.connack_prop("AssignedClientIdentifier")
            check(id2 and id2 != id1, f"second assigned id {id2!r} not new (first {id1!r}) [MQTT-3.2.2-16]")
            a.subscribe(self.t(s), 1)
            a.disconnect()
            c = cs.new(id1, clean=False, session_expiry=0)
            c.connect()
            check(c.session_present, "reconnecting with the assigned id did not resume its session")
            check(c.connack_prop("AssignedClientIdentifier") is None,
                  "Assigned Client Identifier sent although the client gave one")
            c.disconnect()

    def subscription_identifiers(self):
        s = "subscription-identifiers"
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            pub = cs.connect(self.cid(s, "-pub"))

            def ids_of(copies):
                return sorted(sorted(m.prop("SubscriptionIdentifier", []) or []) for m in copies)

            c.subscribe(self.t(s, "+"), 1, sub_props={"SubscriptionIdentifier": 1})
            c.subscribe(self.t(s, "#"), 1, sub_props={"SubscriptionIdentifier": 2})
            pub.publish(self.t(s, "x"), b"both", 1)
            got = [c.expect(5)] + c.collect(0.7)
            check(ids_of(got) in ([[1, 2]], [[1], [2]]), f"identifiers {ids_of(got)} [MQTT-3.3.4-3/4]")
            # replacing a subscription replaces its identifier [MQTT-3.8.4-3]
            c.subscribe(self.t(s, "+"), 1, sub_props={"SubscriptionIdentifier": 3})
            c.unsubscribe(self.t(s, "#"))
            pub.publish(self.t(s, "x"), b"replaced", 1)
            got = [c.expect(5)] + c.collect(0.5)
            check(ids_of(got) == [[3]], f"after replacement: identifiers {ids_of(got)}, expected [[3]]")
            c.subscribe(self.t(s, "+"), 1)
            pub.publish(self.t(s, "x"), b"none", 1)
            got = [c.expect(5)] + c.collect(0.5)
            check(ids_of(got) == [[]], f"subscription without identifier: identifiers {ids_of(got)}")

    def request_response(self):
        s = "request-response"
        with self.conns() as cs:
            plain = cs.connect(self.cid(s, "-plain"))
            check(plain.connack_prop("ResponseInformation") is None,
                  "Response Information sent although not requested [MQTT-3.1.2-28]")
            requester = cs.new(self.cid(s, "-requester"), connect_props={"RequestResponseInformation": 1})
            requester.connect()
            info = requester.connack_prop("ResponseInformation")
            if info is None:
                self.notes.setdefault(s, []).append("no Response Information returned (optional)")
            reply = self.t(s, "reply")
            requester.subscribe(reply, 1)
            responder = cs.connect(self.cid(s, "-responder"))
            responder.subscribe(self.t(s, "request"), 1)
            corr = bytes(range(256))
            requester.publish(self.t(s, "request"), b"ping", 1,
                              pub_props={"ResponseTopic": reply, "CorrelationData": corr})
            q = responder.expect(5, "request")
            check(q.prop("ResponseTopic") == reply, f"response topic {q.prop('ResponseTopic')!r} [MQTT-3.3.2-15]")
            check(q.prop("CorrelationData") == corr, "correlation data altered [MQTT-3.3.2-16]")
            responder.publish(q.prop("ResponseTopic"), b"pong", 1, pub_props={"CorrelationData": q.prop("CorrelationData")})
            a = requester.expect(5, "response")
            check((a.payload, a.prop("CorrelationData")) == (b"pong", corr), f"response {a!r}")

    def client_topic_alias(self):
        s = "client-topic-alias"
        with self.conns() as cs:
            sub = cs.connect(self.cid(s, "-sub"))
            sub.subscribe(self.t(s, "#"), 1)
            c = cs.connect(self.cid(s))
            maximum = c.connack_prop("TopicAliasMaximum", 0)
            check(maximum >= 1, f"server Topic Alias Maximum {maximum}: aliases not accepted")
            c.publish(self.t(s, "one"), b"1", 1, pub_props={"TopicAlias": 1})
            c.publish("", b"2", 1, pub_props={"TopicAlias": 1})
            c.publish(self.t(s, "two"), b"3", 1, pub_props={"TopicAlias": 1})  # remap alias 1
            c.publish("", b"4", 1, pub_props={"TopicAlias": 1})
            got = [(m.topic, m.payload) for m in [sub.expect(5) for _ in range(4)]]
            want = [(self.t(s, "one"), b"1"), (self.t(s, "one"), b"2"), (self.t(s, "two"), b"3"), (self.t(s, "two"), b"4")]
            check(got == want, f"received {got}")
            # mappings do not outlive the connection [MQTT-3.3.2-7]: alias 1 alone on a new
            # connection is a protocol error
            c.disconnect()
            c2 = cs.connect(self.cid(s, "-2"))
            c2.publish("", b"stale", 1, pub_props={"TopicAlias": 1}, wait=False)
            check(c2.wait_closed(3), "alias-only PUBLISH with an alias set on a previous connection accepted")
            # an alias above the maximum: DISCONNECT 0x94 (Topic Alias invalid)
            c3 = cs.connect(self.cid(s, "-3"))
            c3.publish(self.t(s, "over"), b"over", 1, pub_props={"TopicAlias": maximum + 1}, wait=False)
            check(c3.wait_closed(3), f"PUBLISH with Topic Alias {maximum + 1} > maximum {maximum} accepted")
            check(c3.disconnect_reason == TOPIC_ALIAS_INVALID,
                  f"alias above the maximum: disconnect reason {c3.disconnect_reason}, expected 0x94")
            sub.expect_none(0.3, "message from a refused PUBLISH")

    def server_topic_alias(self):
        s = "server-topic-alias"
        with self.conns() as cs:
            withalias = cs.new(self.cid(s, "-max2"), connect_props={"TopicAliasMaximum": 2})
            withalias.connect()
            withalias.subscribe(self.t(s, "#"), 1)
            without = cs.connect(self.cid(s, "-max0"))
            without.subscribe(self.t(s, "#"), 1)
            pub = cs.connect(self.cid(s, "-pub"))
            sent = [self.t(s, x) for x in "abcabcab"]
            for i, topic in enumerate(sent):
                pub.publish(topic, str(i).encode(), 1)
            aliases: dict[int, str] = {}
            resolved, used = [], 0
            for _ in sent:
                m = withalias.expect(5)
                alias = m.prop("TopicAlias")
                topic = m.topic
                if alias is not None:
                    used += 1
                    check(1 <= alias <= 2, f"server sent Topic Alias {alias}, client maximum 2 [MQTT-3.3.2-11]")
                    if topic:
                        aliases[alias] = topic
                    else:
                        check(alias in aliases, f"alias-only PUBLISH with unknown alias {alias}")
                        topic = aliases[alias]
                else:
                    check(topic, "PUBLISH with an empty topic and no alias")
                resolved.append((topic, m.payload))
            check(resolved == [(t, str(i).encode()) for i, t in enumerate(sent)], f"resolved {resolved}")
            for _ in sent:
                m = without.expect(5)
                check(m.prop("TopicAlias") is None,
                      "Topic Alias sent to a client whose Topic Alias Maximum is 0 [MQTT-3.1.2-26/27]")
            self.notes.setdefault(s, []).append(
                f"the server used a topic alias on {used} of {len(sent)} messages" if used else
                "the server sends no topic aliases even to a client that allows 2 (optional)")

    def maximum_packet_size(self):
        s = "maximum-packet-size"
        with self.conns() as cs:
            small = cs.new(self.cid(s), connect_props={"MaximumPacketSize": 256})
            small.connect()
            small.subscribe(self.t(s), 1)
            big = cs.connect(self.cid(s, "-big"))
            big.subscribe(self.t(s), 1)
            pub = cs.connect(self.cid(s, "-pub"))
            pub.publish(self.t(s), b"x" * 1000, 1)
            pub.publish(self.t(s), b"small", 1)
            check(len(big.expect(5).payload) == 1000, "a client without a limit missed the large message")
            got = small.collect(1.0)
            sizes = [len(m.payload) for m in got]
            check(sizes == [5], f"client with Maximum Packet Size 256 received payloads of {sizes} bytes, "
                                "expected only the small one [MQTT-3.1.2-24/25]")
            check(not small.closed.is_set(), "connection closed")

    def server_keep_alive(self):
        s = "server-keep-alive"
        with self.conns() as cs:
            results = []
            for ka in (0, 1000, 60):
                c = cs.new(self.cid(s, f"-{ka}"), keepalive=ka)
                c.connect()
                results.append((ka, c.connack_prop("ServerKeepAlive")))
                c.disconnect()
            check(results[0][1] == 600, f"keep alive 0: Server Keep Alive {results[0][1]}, expected 600")
            check(results[1][1] == 600, f"keep alive 1000: Server Keep Alive {results[1][1]}, expected 600")
            check(results[2][1] in (None, 60), f"keep alive 60: Server Keep Alive {results[2][1]}")

    def flow_control(self):
        s = "flow-control"
        n = 5
        with self.conns() as cs:
            c = cs.new(self.cid(s), connect_props={"ReceiveMaximum": 2}, manual_ack=True)
            c.connect()
            c.subscribe(self.t(s), 1)
            pub = cs.connect(self.cid(s, "-pub"))
            for i in range(n):
                pub.publish(self.t(s), f"m{i}".encode(), 1)
            first = c.collect(1.0)
            check(len(first) <= 2, f"{len(first)} QoS 1 messages sent before any PUBACK, "
                                    "client Receive Maximum 2 [MQTT-3.3.4-9]")
            check(len(first) == 2, f"only {len(first)} messages before the acks")
            got = list(first)
            deadline = time.monotonic() + 5
            pending = list(first)
            while len(got) < n and time.monotonic() < deadline:
                for m in pending:
                    c.c.ack(m.mid, 1)
                pending = c.collect(0.3)
                unacked = len(pending)
                check(unacked <= 2, f"{unacked} messages in flight, Receive Maximum 2")
                got += pending
            for m in pending:
                c.c.ack(m.mid, 1)
            check(sorted(m.payload for m in got) == [f"m{i}".encode() for i in range(n)],
                  f"received {[m.payload for m in got]}")

    def will_delay(self):
        s = "will-delay"
        with self.conns() as cs:
            obs = cs.connect(self.cid(s, "-observer"))
            obs.subscribe(self.t(s, "#"), 1)

            def willing(name, delay, expiry):
                return cs.new(self.cid(s, f"-{name}"), clean=True, session_expiry=expiry,
                              will={"topic": self.t(s, name), "payload": name.encode(), "qos": 1,
                                    "props": {"WillDelayInterval": delay}})

            delayed = willing("delayed", 2, 10)        # published 2 s after the connection ends
            back = willing("back", 3, 10)              # the client returns first: never published
            ending = willing("session-ends", 30, 1)    # the session ends first, after 1 s
            for c in (delayed, back, ending):
                c.connect()
            t0 = time.monotonic()
            for c in (delayed, back, ending):
                c.abort()
            time.sleep(0.5)
            again = cs.new(self.cid(s, "-back"), clean=False, session_expiry=0)
            again.connect()
            arrivals = {}
            deadline = t0 + 4.5
            while time.monotonic() < deadline:
                for m in obs.collect(0.1):
                    arrivals.setdefault(m.topic.rsplit("/", 1)[-1], time.monotonic() - t0)
            check("back" not in arrivals,
                  f"will published {arrivals.get('back', 0):.1f} s after the connection ended although the "
                  "client reconnected to the session after 0.5 s, within its 3 s will delay [MQTT-3.1.3-9]")
            check("delayed" in arrivals, "will with delay 2 s not published within 4.5 s")
            check(arrivals["delayed"] >= 1.7, f"will with delay 2 s published after {arrivals['delayed']:.1f} s")
            check("session-ends" in arrivals,
                  "will with delay 30 s and session expiry 1 s not published when the session ended")
            check(arrivals["session-ends"] >= 0.7,
                  f"will published after {arrivals['session-ends']:.1f} s, before its session ended (1 s)")
            again.disconnect()

    def user_properties(self):
        s = "user-properties"
        pairs = [("a", "1"), ("b", "2"), ("a", "3"), ("ünïcødé", "€ ✓"), ("empty", "")]
        with self.conns() as cs:
            c = cs.new(self.cid(s), connect_props={"UserProperty": [("on", "connect")]})
            c.connect()
            c.subscribe(self.t(s), 1, sub_props={"UserProperty": [("on", "subscribe")]})
            c.publish(self.t(s), b"props", 1, pub_props={"UserProperty": pairs})
            m = c.expect(5)
            got = [tuple(p) for p in m.properties.get("user_property", [])]
            check(got == pairs, f"user properties {got}, expected {pairs} [MQTT-3.3.2-17/18]")

    def payload_format_indicator(self):
        s = "payload-format-indicator"
        with self.conns() as cs:
            c = cs.connect(self.cid(s))
            c.subscribe(self.t(s), 1)
            text = "héllo wörld ✓".encode()
            c.publish(self.t(s), text, 1, pub_props={"PayloadFormatIndicator": 1,
                                                      "ContentType": "text/plain; charset=utf-8"})
            m = c.expect(5)
            check(m.properties.get("payload_format_indicator") == 1,
                  f"payload format indicator {m.properties.get('payload_format_indicator')} [MQTT-3.3.2-4]")
            check(m.properties.get("content_type") == "text/plain; charset=utf-8",
                  f"content type {m.properties.get('content_type')!r} [MQTT-3.3.2-20]")
            check(m.payload == text, "payload altered")
            c.publish(self.t(s), b"\xff\xfe binary", 1, pub_props={"PayloadFormatIndicator": 0})
            m = c.expect(5)
            check(m.properties.get("payload_format_indicator") in (None, 0),
                  f"payload format indicator 0 arrived as {m.properties.get('payload_format_indicator')}")
            check(m.payload == b"\xff\xfe binary", "binary payload altered")

    def scenarios(self):
        common = [
            ("retained", self.retained),
            ("zero-length-clientid", self.zero_length_clientid),
            ("will", self.will),
            ("offline-queueing", self.offline_queueing),
            ("overlapping-subscriptions", self.overlapping_subscriptions),
            ("keepalive", self.keepalive),
            ("redelivery", self.redelivery),
            ("dollar-topics", self.dollar_topics),
            ("unsubscribe", self.unsubscribe),
            ("subscribe-failure", self.subscribe_failure),
        ]
        v5 = [
            ("session-expiry", self.session_expiry),
            ("shared-subscriptions", self.shared_subscriptions),
            ("publication-expiry", self.publication_expiry),
            ("no-local", self.no_local),
            ("retain-as-published", self.retain_as_published),
            ("retain-handling", self.retain_handling),
            ("assigned-clientid", self.assigned_clientid),
            ("subscription-identifiers", self.subscription_identifiers),
            ("request-response", self.request_response),
            ("client-topic-alias", self.client_topic_alias),
            ("server-topic-alias", self.server_topic_alias),
            ("maximum-packet-size", self.maximum_packet_size),
            ("server-keep-alive", self.server_keep_alive),
            ("flow-control", self.flow_control),
            ("will-delay", self.will_delay),
            ("user-properties", self.user_properties),
            ("payload-format-indicator", self.payload_format_indicator),
        ]
        return common + (v5 if self.v5 else [])

    def run(self, only: list[str] | None = None):
        for name, fn in self.scenarios():
            if only and name not in only:
                continue

            def wrapped(fn=fn, name=name):
                fn()
                return "; ".join(self.notes.pop(name, []))
            run_scenario(self.client, name, wrapped)


def main(argv) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ws-port", type=int, help="accepted for the driver contract; unused")
    p.add_argument("--only", choices=("v3.1.1", "v5"), help="run one protocol version")
    p.add_argument("--scenario", action="append", help="run only these scenarios")
    p.add_argument("--sequential", action="store_true", help="run the two versions one after the other")
    args = p.parse_args(argv)
    versions = [v for v in ("3.1.1", "5") if args.only in (None, f"v{v}")]
    runners = [Topics(v, args.host, args.port) for v in versions]
    if args.sequential:
        for r in runners:
            r.run(args.scenario)
        return 0
    threads = [threading.Thread(target=r.run, args=(args.scenario,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
