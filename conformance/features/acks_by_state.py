# Writes conformance/features/acks_by_state.feature: one Scenario Outline per version, state
# and outcome, one row per acknowledgement.
V5, V3 = "v5", "v3.1.1"

SETUP = {
    "nothing in flight": [
        'Given client "a" is connected',
    ],
    "awaiting PUBACK": [
        'Given client "a" is connected',
        'And "a" sends SUBSCRIBE id=1 filter=t qos=1',
        'And "a" receives SUBACK id=1',
        'And client "p" is connected',
        'And "p" sends PUBLISH topic=t qos=1 id=1 payload=x',
        'And "p" receives PUBACK id=1',
        'And "a" receives PUBLISH topic=t qos=1 id=$p payload=x',
    ],
    "awaiting PUBREC": [
        'Given client "a" is connected',
        'And "a" sends SUBSCRIBE id=1 filter=t qos=2',
        'And "a" receives SUBACK id=1',
        'And client "p" is connected',
        'And "p" sends PUBLISH topic=t qos=2 id=1 payload=x',
        'And "p" receives PUBREC id=1',
        'And "p" sends PUBREL id=1',
        'And "p" receives PUBCOMP id=1',
        'And "a" receives PUBLISH topic=t qos=2 id=$p payload=x',
    ],
    "awaiting PUBCOMP": [
        'Given client "a" is connected',
        'And "a" sends SUBSCRIBE id=1 filter=t qos=2',
        'And "a" receives SUBACK id=1',
        'And client "p" is connected',
        'And "p" sends PUBLISH topic=t qos=2 id=1 payload=x',
        'And "p" receives PUBREC id=1',
        'And "p" sends PUBREL id=1',
        'And "p" receives PUBCOMP id=1',
        'And "a" receives PUBLISH topic=t qos=2 id=$p payload=x',
        'And "a" sends PUBREC id=$p',
        'And "a" receives PUBREL id=$p',
    ],
    "awaiting PUBREL": [
        'Given client "a" is connected',
        'And "a" sends PUBLISH topic=t qos=2 id=1 payload=x',
        'And "a" receives PUBREC id=1',
    ],
}
# The identifier of the state's exchange.
KNOWN = {"awaiting PUBREL": "1"}
UNKNOWN = "777"

# (state, packet, known?, outcome, why)
# outcome: ("error", clause-kind) | ("nothing",) | ("reply", packet, reason)
ROWS = [
    ("nothing in flight", "PUBACK", False, ("nothing",), "no PUBACK answers a PUBACK; Tern ignores it (the specification is silent)"),
    ("nothing in flight", "PUBREC", False, ("reply", "PUBREL", "0x92"), "PUBREL with 0x92 Packet Identifier not found"),
    ("nothing in flight", "PUBREL", False, ("reply", "PUBCOMP", "0x92"), "PUBCOMP with 0x92 Packet Identifier not found"),
    ("nothing in flight", "PUBCOMP", False, ("nothing",), "a late PUBCOMP; Tern ignores it (the specification is silent)"),
    ("awaiting PUBACK", "PUBACK", True, ("nothing",), "the PUBACK it awaits ends the flow"),
    ("awaiting PUBACK", "PUBREC", True, ("error", "qos1"), "QoS 1 awaits PUBACK"),
    ("awaiting PUBACK", "PUBREL", True, ("reply", "PUBCOMP", "0x92"), "PUBREL names the client's own PUBLISHes: none has this identifier"),
    ("awaiting PUBACK", "PUBCOMP", True, ("error", "qos1"), "QoS 1 awaits PUBACK"),
    ("awaiting PUBACK", "PUBACK", False, ("nothing",), "a stray PUBACK; ignored, the message stays in flight"),
    ("awaiting PUBACK", "PUBREC", False, ("reply", "PUBREL", "0x92"), "nothing in flight has this identifier"),
    ("awaiting PUBACK", "PUBCOMP", False, ("nothing",), "a stray PUBCOMP; ignored"),
    ("awaiting PUBACK", "PUBREL", False, ("reply", "PUBCOMP", "0x92"), "the client sent no PUBLISH with this identifier"),
    ("awaiting PUBREC", "PUBACK", True, ("error", "qos2"), "QoS 2 awaits PUBREC"),
    ("awaiting PUBREC", "PUBREC", True, ("reply", "PUBREL", "0x00"), "the PUBREC it awaits: PUBREL"),
    ("awaiting PUBREC", "PUBREL", True, ("reply", "PUBCOMP", "0x92"), "PUBREL names the client's own PUBLISHes: none has this identifier"),
    ("awaiting PUBREC", "PUBCOMP", True, ("error", "qos2"), "PUBCOMP before PUBREC"),
    ("awaiting PUBREC", "PUBACK", False, ("nothing",), "a stray PUBACK; ignored"),
    ("awaiting PUBREC", "PUBREC", False, ("reply", "PUBREL", "0x92"), "nothing in flight has this identifier"),
    ("awaiting PUBREC", "PUBCOMP", False, ("nothing",), "a stray PUBCOMP; ignored"),
    ("awaiting PUBREC", "PUBREL", False, ("reply", "PUBCOMP", "0x92"), "the client sent no PUBLISH with this identifier"),
    ("awaiting PUBCOMP", "PUBACK", True, ("error", "qos2"), "a released QoS 2 message awaits PUBCOMP"),
    ("awaiting PUBCOMP", "PUBREC", True, ("reply", "PUBREL", "0x00"), "a repeated PUBREC gets its PUBREL again"),
    ("awaiting PUBCOMP", "PUBREL", True, ("reply", "PUBCOMP", "0x92"), "PUBREL names the client's own PUBLISHes: none has this identifier"),
    ("awaiting PUBCOMP", "PUBCOMP", True, ("nothing",), "the PUBCOMP it awaits ends the flow"),
    ("awaiting PUBCOMP", "PUBACK", False, ("nothing",), "a stray PUBACK; ignored"),
    ("awaiting PUBCOMP", "PUBREC", False, ("reply", "PUBREL", "0x92"), "nothing in flight has this identifier"),
    ("awaiting PUBCOMP", "PUBCOMP", False, ("nothing",), "a stray PUBCOMP; ignored"),
    ("awaiting PUBCOMP", "PUBREL", False, ("reply", "PUBCOMP", "0x92"), "the client sent no PUBLISH with this identifier"),
    ("awaiting PUBREL", "PUBACK", True, ("nothing",), "PUBACK names the server's PUBLISHes, of which none is in flight; ignored"),
    ("awaiting PUBREL", "PUBREC", True, ("reply", "PUBREL", "0x92"), "PUBREC names the server's PUBLISHes, of which none is in flight"),
    ("awaiting PUBREL", "PUBREL", True, ("reply", "PUBCOMP", "0x00"), "the PUBREL it awaits: PUBCOMP"),
    ("awaiting PUBREL", "PUBCOMP", True, ("nothing",), "PUBCOMP names the server's PUBLISHes, of which none is in flight; ignored"),
    ("awaiting PUBREL", "PUBREL", False, ("reply", "PUBCOMP", "0x92"), "the client sent no PUBLISH with this identifier"),
    ("awaiting PUBREL", "PUBACK", False, ("nothing",), "a stray PUBACK; ignored"),
    ("awaiting PUBREL", "PUBREC", False, ("reply", "PUBREL", "0x92"), "nothing in flight has this identifier"),
    ("awaiting PUBREL", "PUBCOMP", False, ("nothing",), "a stray PUBCOMP; ignored"),
]

def tags(version, state, rows):
    t = set()
    for row in rows:
        t.update(row_tags(version, state, row[3]))
    return " ".join("@" + x for x in sorted(t) + [version])

def row_tags(version, state, outcome):
    v5 = version == V5
    t = []
    kind = outcome[0]
    qos1 = state == "awaiting PUBACK"
    if kind == "error":
        if outcome[1] == "qos1":
            t += ["MQTT-4.3.2-3", "MQTT-4.13.1-1"] if v5 else ["MQTT-4.3.2-1", "MQTT-4.8.0-1"]
        else:
            t += (["MQTT-4.3.3-3", "MQTT-4.3.3-5", "MQTT-4.13.1-1"] if v5 else ["MQTT-4.3.3-1", "MQTT-4.8.0-1"])
    elif kind == "reply":
        if outcome[2] == "0x92" and v5:
            # An identifier nothing uses: the reason code that says so.
            t += {"PUBREL": ["MQTT-3.6.2-1"], "PUBCOMP": ["MQTT-3.7.2-1"]}[outcome[1]]
        elif v5:
            t += {"PUBREL": ["MQTT-4.3.3-4"], "PUBCOMP": ["MQTT-4.3.3-11"]}[outcome[1]]
        else:
            t += {"PUBREL": ["MQTT-4.3.3-1"], "PUBCOMP": ["MQTT-4.3.3-2"]}[outcome[1]]
    else:
        if state in ("awaiting PUBACK",):
            t += ["MQTT-4.3.2-3"] if v5 else ["MQTT-4.3.2-1"]
        elif state in ("awaiting PUBREC", "awaiting PUBCOMP"):
            t += ["MQTT-4.3.3-3", "MQTT-4.3.3-5"] if v5 else ["MQTT-4.3.3-1"]
        elif state == "awaiting PUBREL":
            t += ["MQTT-4.3.3-10"] if v5 else ["MQTT-4.3.3-2"]
        else:
            # Nothing in flight: Tern's choice, said in the row; the scenario then shows the
            # connection still keeps the QoS 1 rules.
            t += ["MQTT-4.3.2-4"] if v5 else ["MQTT-4.3.2-2"]
    return t

def then(version, outcome):
    v5 = version == V5
    k = outcome[0]
    if k == "error":
        return (['Then "a" is disconnected, perhaps after DISCONNECT reason=0x82'] if v5
                else ['Then "a" is disconnected'])
    if k == "nothing":
        return ['Then "a" receives nothing', 'And "a" is still connected']
    return ['Then "a" receives <answer>', 'And "a" is still connected']

TITLE = {
    "error": "is a Protocol Error",
    "nothing": "is taken without an answer",
    "reply": "is answered",
}

out = []
out.append("""Feature: Every acknowledgement in every state of a QoS 1 and QoS 2 exchange
  For each state of an exchange with the client (nothing in flight; the server's QoS 1
  PUBLISH awaiting PUBACK; its QoS 2 PUBLISH awaiting PUBREC; its PUBREL awaiting PUBCOMP; the
  client's QoS 2 PUBLISH awaiting PUBREL), each acknowledgement the client may send (PUBACK,
  PUBREC, PUBREL, PUBCOMP), with the identifier of that exchange ($p, or 1 for the client's
  own PUBLISH) or an unknown one (777), in 3.1.1 and 5.0, and what it gets. The column "why"
  says which rule decides the row, or, where the specification is silent, what Tern chose.

  An acknowledgement of the wrong kind for a message in flight is a Protocol Error: the
  message awaits one packet [MQTT-4.3.2-3] [MQTT-4.3.3-3] [MQTT-4.3.3-5] (3.1.1:
  [MQTT-4.3.2-1] [MQTT-4.3.3-1]), and ignoring another would leave client and server
  disagreeing about the session. PUBREL names the client's PUBLISHes and PUBACK, PUBREC and
  PUBCOMP the server's: two identifier spaces. A PUBREC or PUBREL for an identifier nothing
  uses is answered with 0x92 Packet Identifier not found (3.1.1: the plain PUBREL or
  PUBCOMP); a PUBACK or PUBCOMP for one is ignored, as no packet could answer it. A 5.0
  Protocol Error must close the connection [MQTT-4.13.1-1]; the DISCONNECT before it is a
  SHOULD (section 4.13.1), so the scenarios accept a close without one, and check its reason
  code when it comes. Tern sends DISCONNECT 0x82: the engine checks the same table, with
  that, in `broker/src/engine/tests/acks.rs`.
  (Generated by conformance/features/acks_by_state.py; edit that and run it again.)
""")
for version in (V5, V3):
    vname = "5.0" if version == V5 else "3.1.1"
    for state in SETUP:
        groups = {}
        for r in ROWS:
            if r[0] != state:
                continue
            key = (r[3][0], r[3][1] if r[3][0] == "error" else "")
            groups.setdefault(key, []).append(r)
        for key, rows in groups.items():
            outcome = rows[0][3]
            name = f"{vname}, {state}: an acknowledgement that {TITLE[outcome[0]]}"
            if outcome[0] == "error":
                name = f"{vname}, {state}: the wrong acknowledgement {TITLE['error']}"
            out.append(f"  {tags(version, state, rows)}")
            out.append(f"  Scenario Outline: {name}")
            for s in SETUP[state]:
                out.append(f"    {s}")
            out.append('    When "a" sends <packet> id=<id>')
            for s in then(version, outcome):
                out.append(f"    {s}")
            if outcome[0] == "nothing" and state == "nothing in flight":
                out.append('    When "a" sends PUBLISH topic=u qos=1 id=5 payload=y')
                out.append('    Then "a" receives PUBACK id=5')
            out.append("")
            out.append("    Examples:")
            cols = ["packet", "id"] + (["answer"] if outcome[0] == "reply" else []) + ["why"]
            table = []
            for (_, packet, known, o, why) in rows:
                ident = KNOWN.get(state, "$p") if known else UNKNOWN
                row = [packet, ident]
                if o[0] == "reply":
                    reason = "" if version == V3 else f" reason={o[2]}"
                    row.append(f"{o[1]} id={ident}{reason}")
                row.append(why)
                table.append(row)
            widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(cols)]
            fmt = lambda cells: "      | " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
            out.append(fmt(cols))
            for r in table:
                out.append(fmt(r))
            out.append("")
out.append("""  # --- Packets only a server sends --------------------------------------------------------
  # The first packet that is not CONNECT, a second CONNECT and AUTH without an Authentication
  # Method are in connect.feature, ping_disconnect.feature and auth.feature.

  @MQTT-4.13.1-1 @v5
  Scenario Outline: 5.0: a packet only a server sends is a Protocol Error
    Given client "a" is connected
    When "a" sends raw <bytes>
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82

    Examples:
      | packet   | bytes            | why                                    |
      | CONNACK  | 20 03 00 00 00   | a client never sends CONNACK (2.1.2)   |
      | SUBACK   | 90 04 0001 00 00 | a client never sends SUBACK (2.1.2)    |
      | UNSUBACK | b0 04 0001 00 00 | a client never sends UNSUBACK (2.1.2)  |
      | PINGRESP | d0 00            | a client never sends PINGRESP (2.1.2)  |

  @MQTT-4.8.0-1 @v3.1.1
  Scenario Outline: 3.1.1: a packet only a server sends is a protocol violation
    Given client "a" is connected
    When "a" sends raw <bytes>
    Then "a" is disconnected

    Examples:
      | packet   | bytes         | why                                    |
      | CONNACK  | 20 02 00 00   | a client never sends CONNACK (2.2.1)   |
      | SUBACK   | 90 03 0001 00 | a client never sends SUBACK (2.2.1)    |
      | UNSUBACK | b0 02 0001    | a client never sends UNSUBACK (2.2.1)  |
      | PINGRESP | d0 00         | a client never sends PINGRESP (2.2.1)  |
""")
open("conformance/features/acks_by_state.feature", "w").write("\n".join(out).rstrip() + "\n")
