Feature: Control packet format (sections 2.1 to 2.3), the transport (4.2) and conformance (3.1.1 chapter 7)
  Reserved fixed-header flags hold exactly the listed values in both directions, Packet
  Identifiers are present, non-zero and echoed where the specification says, absent from QoS 0
  PUBLISH, and a 5.0 packet without properties still carries a Property Length of zero.
  Received packets are decoded by Tern's codec, which refuses wrong flags and a Packet
  Identifier of 0, so every packet a scenario receives by its fields has been checked for
  both; the raw expectations below show the exact bytes.

  # -------------------------------------------------------------------------------------------
  # Fixed header flags, MQTT 3.1.1 and 3.1 (table 2.2)
  # -------------------------------------------------------------------------------------------

  @MQTT-2.2.2-1 @v3.1 @v3.1.1
  Scenario: Every packet the server sends carries the reserved flag values of its type
    Given "a" opens a connection
    When "a" sends CONNECT
    Then "a" receives raw 20 02 00 00
    When "a" sends SUBSCRIBE id=1 filter=x qos=2
    Then "a" receives raw 90 03 0001 02
    When "a" sends PUBLISH topic=y qos=1 id=2 payload=1
    Then "a" receives raw 40 02 0002
    When "a" sends PUBLISH topic=y qos=2 id=3 payload=2
    Then "a" receives raw 50 02 0003
    When "a" sends PUBREL id=3
    Then "a" receives raw 70 02 0003
    When "a" sends UNSUBSCRIBE id=4 filter=x
    Then "a" receives raw b0 02 0004
    When "a" sends PINGREQ
    Then "a" receives raw d0 00

  @MQTT-2.2.2-1 @v3.1 @v3.1.1
  Scenario: The PUBLISH and PUBREL the server sends carry their own flags
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 retain=1 payload=hi
    Then "pub" receives PUBREC id=1
    When "pub" sends PUBREL id=1
    Then "pub" receives PUBCOMP id=1
    # DUP 0, QoS 2 (bits 2-1 = 10), RETAIN 0 on a live delivery
    And "sub" receives PUBLISH topic=x qos=2 dup=0 retain=0 id=$p payload=hi
    When "sub" sends PUBREC id=$p
    # PUBREL is 0x62: its reserved bits are 0010, which decoding it checks
    Then "sub" receives PUBREL id=$p

  @MQTT-2.2.2-2 @v3.1 @v3.1.1
  Scenario Outline: A packet with wrong reserved flags closes the connection
    Given client "a" is connected
    And "a" sends PUBLISH topic=x qos=2 id=1 payload=hi
    And "a" receives PUBREC id=1
    When "a" sends raw <bytes>
    Then "a" is disconnected

    Examples:
      | packet                    | bytes                 |
      | PUBACK with flags 0001    | 41 02 0001            |
      | PUBREC with flags 1000    | 58 02 0001            |
      | PUBREL with flags 0000    | 60 02 0001            |
      | PUBREL with flags 0011    | 63 02 0001            |
      | PUBCOMP with flags 0010   | 72 02 0001            |
      | SUBSCRIBE with flags 0000 | 80 * 0001 f"x" 00     |
      | SUBSCRIBE with flags 0011 | 83 * 0001 f"x" 00     |
      | UNSUBSCRIBE with 0000     | a0 * 0001 f"x"        |
      | UNSUBSCRIBE with 0110     | a6 * 0001 f"x"        |
      | PINGREQ with flags 0001   | c1 00                 |
      | PINGREQ with flags 1000   | c8 00                 |

  @MQTT-2.2.2-2 @v3.1 @v3.1.1
  Scenario: The same packets with the listed flags keep the connection open
    Given client "a" is connected
    And "a" sends PUBLISH topic=x qos=2 id=1 payload=hi
    And "a" receives PUBREC id=1
    When "a" sends raw 62 02 0001
    Then "a" receives PUBCOMP id=1
    When "a" sends raw 82 * 0002 f"x" 00 | a2 * 0003 f"x" | c0 00
    Then "a" receives SUBACK id=2 reasons=0x00
    And "a" receives UNSUBACK id=3
    And "a" receives PINGRESP
    And "a" is still connected

  @MQTT-2.2.2-2 @v3.1 @v3.1.1
  Scenario: A DISCONNECT with wrong flags is a violation, so the will is published
    Given client "w" is connected
    And "w" sends SUBSCRIBE id=1 filter=will qos=0
    And "w" receives SUBACK id=1 reasons=0x00
    And client "a" is connected with will_topic=will will_payload=gone
    When "a" sends raw e2 00
    Then "a" is disconnected
    And "w" receives PUBLISH topic=will payload=gone

  @MQTT-2.2.2-2 @v3.1.1
  Scenario: A CONNECT with wrong flags is refused by closing the connection
    Given "a" opens a connection
    When "a" sends raw 11 * 00 04 "MQTT" 04 02 00 3c c"a"
    Then "a" is disconnected

  @MQTT-2.2.2-2 @v3.1
  Scenario: A 3.1 CONNECT with wrong flags is refused by closing the connection
    Given "a" opens a connection
    When "a" sends raw 18 * 00 06 "MQIsdp" 03 02 00 3c c"a"
    Then "a" is disconnected

  # -------------------------------------------------------------------------------------------
  # Fixed header flags, MQTT 5.0 (table 2-2): wrong flags make a Malformed Packet
  # -------------------------------------------------------------------------------------------

  @MQTT-2.1.3-1 @v5
  Scenario: Every 5.0 packet the server sends carries the reserved flag values of its type
    Given "a" opens a connection
    When "a" sends CONNECT
    # CONNACK: first byte 0x20 (its properties vary, so only its fields are checked)
    Then "a" receives CONNACK reason=0
    When "a" sends SUBSCRIBE id=1 filter=x qos=2
    Then "a" receives raw 90 04 0001 00 02
    When "a" sends PUBLISH topic=y qos=1 id=2 payload=1
    Then "a" receives PUBACK id=2
    When "a" sends PUBLISH topic=y qos=2 id=3 payload=2
    Then "a" receives PUBREC id=3
    When "a" sends PUBREL id=3
    Then "a" receives PUBCOMP id=3
    When "a" sends UNSUBSCRIBE id=4 filter=x
    Then "a" receives raw b0 04 0004 00 00
    When "a" sends PINGREQ
    Then "a" receives raw d0 00

  @MQTT-2.1.3-1 @v5
  Scenario: The 5.0 PUBLISH and PUBREL the server sends carry their own flags
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 retain=1 payload=hi
    Then "pub" receives PUBREC id=1
    When "pub" sends PUBREL id=1
    Then "pub" receives PUBCOMP id=1
    And "sub" receives PUBLISH topic=x qos=2 dup=0 retain=0 id=$p payload=hi
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p

  @MQTT-2.1.3-1 @v5
  Scenario Outline: A 5.0 packet with wrong reserved flags is a Malformed Packet
    Given client "a" is connected
    And "a" sends PUBLISH topic=x qos=2 id=1 payload=hi
    And "a" receives PUBREC id=1
    When "a" sends raw <bytes>
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

    Examples:
      | packet                    | bytes                 |
      | PUBACK with flags 0001    | 41 02 0001            |
      | PUBREC with flags 1000    | 58 02 0001            |
      | PUBREL with flags 0000    | 60 02 0001            |
      | PUBREL with flags 0011    | 63 02 0001            |
      | PUBCOMP with flags 0010   | 72 02 0001            |
      | SUBSCRIBE with flags 0000 | 80 * 0001 00 f"x" 00  |
      | SUBSCRIBE with flags 0011 | 83 * 0001 00 f"x" 00  |
      | UNSUBSCRIBE with 0000     | a0 * 0001 00 f"x"     |
      | UNSUBSCRIBE with 1010     | aa * 0001 00 f"x"     |
      | PINGREQ with flags 0001   | c1 00                 |
      | PINGREQ with flags 1000   | c8 00                 |

  @MQTT-2.1.3-1 @v5
  Scenario: The same 5.0 packets with the listed flags keep the connection open
    Given client "a" is connected
    And "a" sends PUBLISH topic=x qos=2 id=1 payload=hi
    And "a" receives PUBREC id=1
    When "a" sends raw 62 02 0001
    Then "a" receives PUBCOMP id=1
    When "a" sends raw 82 * 0002 00 f"x" 00 | a2 * 0003 00 f"x" | c0 00
    Then "a" receives SUBACK id=2 reasons=0x00
    And "a" receives UNSUBACK id=3
    And "a" receives PINGRESP
    And "a" is still connected

  @MQTT-2.1.3-1 @v5
  Scenario: A 5.0 DISCONNECT with wrong flags is malformed, so the will is published
    Given client "w" is connected
    And "w" sends SUBSCRIBE id=1 filter=will qos=0
    And "w" receives SUBACK id=1 reasons=0x00
    And client "a" is connected with will_topic=will will_payload=gone
    When "a" sends raw e2 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81
    And "w" receives PUBLISH topic=will payload=gone

  @MQTT-2.1.3-1 @v5
  Scenario: A 5.0 CONNECT with wrong flags is refused
    Given "a" opens a connection
    When "a" sends raw 11 * 00 04 "MQTT" 05 02 00 3c 00 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  # -------------------------------------------------------------------------------------------
  # Packet Identifiers, MQTT 3.1.1 and 3.1 (section 2.3.1)
  # -------------------------------------------------------------------------------------------

  @MQTT-2.3.1-1 @v3.1 @v3.1.1
  Scenario: The QoS 1 and QoS 2 PUBLISH packets the server sends carry a Packet Identifier
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    # decoding refuses a Packet Identifier of 0
    Then "sub" receives PUBLISH qos=1 id=$one payload=1
    And "sub" receives PUBLISH qos=2 id=$two payload=2

  @MQTT-2.3.1-1 @v3.1 @v3.1.1
  Scenario Outline: A packet with a Packet Identifier of 0 closes the connection
    Given client "a" is connected
    When "a" sends raw <bytes>
    Then "a" is disconnected

    Examples:
      | packet            | bytes                     |
      | SUBSCRIBE         | 82 * 0000 f"x" 00         |
      | UNSUBSCRIBE       | a2 * 0000 f"x"            |
      | PUBLISH at QoS 1  | 32 * t"x" 0000 "hi"       |
      | PUBLISH at QoS 2  | 34 * t"x" 0000 "hi"       |

  @MQTT-2.3.1-1 @MQTT-2.3.1-7 @v3.1 @v3.1.1
  Scenario: The highest Packet Identifier is accepted and echoed
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=65535 filter=x qos=1
    Then "a" receives raw 90 03 ffff 01
    When "a" sends UNSUBSCRIBE id=65535 filter=x
    Then "a" receives raw b0 02 ffff
    When "a" sends PUBLISH topic=x qos=1 id=65535 payload=hi
    Then "a" receives raw 40 02 ffff

  @MQTT-2.3.1-4 @v3.1 @v3.1.1
  Scenario: The server gives each message in flight its own identifier and keeps it for resends
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=1 id=2 payload=2
    And "pub" sends PUBLISH topic=x qos=1 id=3 payload=3
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    And "sub" receives PUBLISH payload=3 id=$c
    # acknowledging $b acknowledges message 2 only: the three identifiers differ
    When "sub" sends PUBACK id=$b
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH payload=1 dup=1 id=$a
    And "sub" receives PUBLISH payload=3 dup=1 id=$c
    And "sub" is still connected
    # a new message takes an identifier not in use by the two still in flight
    When "pub" sends PUBLISH topic=x qos=1 id=4 payload=4
    Then "sub" receives PUBLISH payload=4 dup=0 id=$d
    When "sub" sends PUBACK id=$d
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH payload=1 dup=1 id=$a
    And "sub" receives PUBLISH payload=3 dup=1 id=$c
    And "sub" is still connected

  @MQTT-2.3.1-5 @v3.1 @v3.1.1
  Scenario: A QoS 0 PUBLISH from the server has no Packet Identifier
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    # published at QoS 1 and 2 with identifiers, delivered at QoS 0 without
    When "pub" sends PUBLISH topic=x qos=1 id=7 payload=one
    And "pub" sends PUBLISH topic=x qos=2 id=8 payload=two
    And "pub" receives PUBACK id=7
    And "pub" receives PUBREC id=8
    And "pub" sends PUBREL id=8
    And "pub" receives PUBCOMP id=8
    Then "sub" receives raw 30 * t"x" "one"
    And "sub" receives raw 30 * t"x" "two"

  @MQTT-2.3.1-6 @v3.1 @v3.1.1
  Scenario: PUBACK and PUBREC carry the Packet Identifier of the client's PUBLISH
    Given client "a" is connected
    When "a" sends PUBLISH topic=x qos=1 id=0x1234 payload=1
    Then "a" receives raw 40 02 1234
    When "a" sends PUBLISH topic=x qos=2 id=0xabcd payload=2
    Then "a" receives raw 50 02 abcd
    When "a" sends PUBREL id=0xabcd
    Then "a" receives raw 70 02 abcd

  @MQTT-2.3.1-6 @v3.1 @v3.1.1
  Scenario: Two PUBLISH packets in flight are acknowledged each by its own identifier
    Given client "a" is connected
    When "a" sends raw 32 * t"x" 0005 "1" | 34 * t"x" 0006 "2" | 32 * t"x" 0007 "3"
    Then "a" receives raw 40 02 0005
    And "a" receives raw 50 02 0006
    And "a" receives raw 40 02 0007

  @MQTT-2.3.1-6 @v3.1 @v3.1.1
  Scenario: The server's PUBREL carries the Packet Identifier of its PUBLISH
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=9 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=10 payload=2
    And "pub" receives PUBREC id=9
    And "pub" receives PUBREC id=10
    And "pub" sends PUBREL id=9
    And "pub" receives PUBCOMP id=9
    And "pub" sends PUBREL id=10
    And "pub" receives PUBCOMP id=10
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    When "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$b
    When "sub" sends PUBREC id=$a
    Then "sub" receives PUBREL id=$a

  @MQTT-2.3.1-7 @v3.1 @v3.1.1
  Scenario: SUBACK and UNSUBACK carry the Packet Identifier of the request
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=0x1234 filter=x qos=0
    Then "a" receives raw 90 03 1234 00
    When "a" sends UNSUBSCRIBE id=0x4321 filter=x
    Then "a" receives raw b0 02 4321
    When "a" sends raw 82 * 0007 f"a" 01 | 82 * 0009 f"b" 02 | a2 * 0008 f"a"
    Then "a" receives raw 90 03 0007 01
    And "a" receives raw 90 03 0009 02
    And "a" receives raw b0 02 0008

  # -------------------------------------------------------------------------------------------
  # Packet Identifiers, MQTT 5.0 (section 2.2.1)
  # -------------------------------------------------------------------------------------------

  @MQTT-2.2.1-2 @v5
  Scenario: A 5.0 QoS 0 PUBLISH from the server has no Packet Identifier
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=7 payload=one
    And "pub" sends PUBLISH topic=x qos=2 id=8 payload=two
    And "pub" receives PUBACK id=7
    And "pub" receives PUBREC id=8
    And "pub" sends PUBREL id=8
    And "pub" receives PUBCOMP id=8
    Then "sub" receives raw 30 * t"x" 00 "one"
    And "sub" receives raw 30 * t"x" 00 "two"

  @MQTT-2.2.1-4 @v5
  Scenario: The 5.0 server gives each message in flight its own non-zero identifier
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    And "pub" sends PUBLISH topic=x qos=1 id=3 payload=3
    # decoding refuses a Packet Identifier of 0
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    And "sub" receives PUBLISH payload=3 id=$c
    # acknowledging $c acknowledges message 3 only: the three identifiers differ
    When "sub" sends PUBACK id=$c
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH payload=1 dup=1 id=$a
    And "sub" receives PUBLISH payload=2 dup=1 id=$b
    And "sub" is still connected
    When "pub" sends PUBLISH topic=x qos=1 id=4 payload=4
    Then "sub" receives PUBLISH payload=4 dup=0 id=$d
    When "sub" sends PUBACK id=$d
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH payload=1 dup=1 id=$a
    And "sub" receives PUBLISH payload=2 dup=1 id=$b
    And "sub" is still connected

  @MQTT-2.2.1-5 @v5
  Scenario: 5.0 PUBACK, PUBREC and PUBCOMP carry the Packet Identifier of the client's PUBLISH
    Given client "a" is connected
    When "a" sends PUBLISH topic=x qos=1 id=0x1234 payload=1
    Then "a" receives PUBACK id=0x1234
    When "a" sends PUBLISH topic=x qos=2 id=0xabcd payload=2
    Then "a" receives PUBREC id=0xabcd
    When "a" sends PUBREL id=0xabcd
    Then "a" receives PUBCOMP id=0xabcd
    When "a" sends raw 32 * t"x" 0005 00 "1" | 34 * t"x" 0006 00 "2" | 32 * t"x" 0007 00 "3"
    Then "a" receives PUBACK id=5
    And "a" receives PUBREC id=6
    And "a" receives PUBACK id=7

  @MQTT-2.2.1-5 @v5
  Scenario: The 5.0 server's PUBREL carries the Packet Identifier of its PUBLISH
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=9 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=10 payload=2
    And "pub" receives PUBREC id=9
    And "pub" receives PUBREC id=10
    And "pub" sends PUBREL id=9
    And "pub" receives PUBCOMP id=9
    And "pub" sends PUBREL id=10
    And "pub" receives PUBCOMP id=10
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    When "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$b
    When "sub" sends PUBREC id=$a
    Then "sub" receives PUBREL id=$a
    When "sub" sends PUBCOMP id=$a
    And "sub" sends PUBCOMP id=$b
    Then "sub" is still connected

  @MQTT-2.2.1-6 @v5
  Scenario: 5.0 SUBACK and UNSUBACK carry the Packet Identifier of the request
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=0x1234 filter=x qos=0
    Then "a" receives raw 90 04 1234 00 00
    When "a" sends UNSUBSCRIBE id=0x4321 filter=x
    Then "a" receives raw b0 04 4321 00 00
    When "a" sends raw 82 * 0007 00 f"a" 01 | 82 * 0009 00 f"b" 02 | a2 * 0008 00 f"a"
    Then "a" receives raw 90 04 0007 00 01
    And "a" receives raw 90 04 0009 00 02
    And "a" receives raw b0 04 0008 00 00
    When "a" sends SUBSCRIBE id=65535 filter=x qos=1
    Then "a" receives raw 90 04 ffff 00 01

  # -------------------------------------------------------------------------------------------
  # Property Length, MQTT 5.0 (section 2.2.2.1)
  # -------------------------------------------------------------------------------------------

  @MQTT-2.2.2-1 @v5
  Scenario: Packets the server sends without properties carry a Property Length of zero
    Given client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=x qos=0
    Then "sub" receives raw 90 04 0001 00 00
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=x payload=hi
    Then "sub" receives raw 30 * t"x" 00 "hi"
    When "sub" sends UNSUBSCRIBE id=2 filter=x
    Then "sub" receives raw b0 04 0002 00 00

  @MQTT-2.2.2-1 @v5
  Scenario: A PUBLISH without its Property Length is a Malformed Packet
    Given client "a" is connected
    # the first payload byte "h" (0x68) would be a Property Length of 104, past the end
    When "a" sends raw 30 * t"x" "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-2.2.2-1 @v5
  Scenario: A SUBSCRIBE without its Property Length is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 82 * 0001 f"x" 01
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-2.2.2-1 @v5
  Scenario: A CONNECT without its Property Length is a Malformed Packet
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 05 02 00 3c c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  # -------------------------------------------------------------------------------------------
  # The transport: an ordered, lossless stream of bytes both ways (5.0 section 4.2, 3.1.1
  # section 7.1.1). Tern serves MQTT over TCP.
  # -------------------------------------------------------------------------------------------

  @MQTT-7.1.1-1 @v3.1.1
  Scenario: Over TCP, packets cut into single bytes or sharing one write arrive whole and in order
    Given "sub" opens a connection
    When "sub" sends, 1 byte at a time, CONNECT
    Then "sub" receives CONNACK reason=0
    When "sub" sends, 1 byte at a time, SUBSCRIBE id=1 filter=x qos=1
    Then "sub" receives SUBACK id=1 reasons=0x01
    Given client "a" is connected
    When "a" sends raw 30 * t"x" "1" | 32 * t"x" 0002 "2" | 30 * t"x" "3" | 32 * t"x" 0004 "4"
    Then "a" receives PUBACK id=2
    And "a" receives PUBACK id=4
    And "sub" receives PUBLISH payload=1
    And "sub" receives PUBLISH payload=2
    And "sub" receives PUBLISH payload=3
    And "sub" receives PUBLISH payload=4

  @MQTT-7.1.1-1 @v3.1.1
  Scenario: Over TCP, a large message crosses the broker byte for byte
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=big qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends raw 30 * t"big" zeros:200000 0102030405
    Then "sub" receives raw 30 * t"big" zeros:200000 0102030405

  @MQTT-4.2-1 @v5
  Scenario: Over TCP, 5.0 packets cut into single bytes or sharing one write arrive whole and in order
    Given "sub" opens a connection
    When "sub" sends, 1 byte at a time, CONNECT
    Then "sub" receives CONNACK reason=0
    When "sub" sends, 1 byte at a time, SUBSCRIBE id=1 filter=x qos=1
    Then "sub" receives SUBACK id=1 reasons=0x01
    Given client "a" is connected
    When "a" sends raw 30 * t"x" 00 "1" | 32 * t"x" 0002 00 "2" | 30 * t"x" 00 "3" | 32 * t"x" 0004 00 "4"
    Then "a" receives PUBACK id=2
    And "a" receives PUBACK id=4
    And "sub" receives PUBLISH payload=1
    And "sub" receives PUBLISH payload=2
    And "sub" receives PUBLISH payload=3
    And "sub" receives PUBLISH payload=4

  @MQTT-4.2-1 @v5
  Scenario: Over TCP, a large 5.0 message crosses the broker byte for byte
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=big qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends raw 30 * t"big" 00 zeros:200000 0102030405
    Then "sub" receives raw 30 * t"big" 00 zeros:200000 0102030405

  # -------------------------------------------------------------------------------------------
  # Conformance (3.1.1 chapter 7)
  # -------------------------------------------------------------------------------------------

  @MQTT-7.0.0-2 @v3.1.1
  Scenario: Clients using nothing outside the specification interoperate, across versions
    Given "a" opens a connection
    # the least a CONNECT can be: clean session, no will, no credentials, keep alive 0
    When "a" sends raw 10 * 00 04 "MQTT" 04 02 0000 c"a"
    Then "a" receives raw 20 02 00 00
    When "a" sends raw 82 * 0001 f"x/#" 02
    Then "a" receives raw 90 03 0001 02
    Given client "b" is connected with protocol=5
    And client "c" is connected with protocol=3.1
    And "c" sends SUBSCRIBE id=1 filter=x/# qos=2
    And "c" receives SUBACK id=1 reasons=0x02
    When "b" sends PUBLISH topic=x/1 qos=2 id=1 payload=from-5
    Then "b" receives PUBREC id=1
    When "b" sends PUBREL id=1
    Then "b" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x/1 qos=2 payload=from-5 id=$a
    And "c" receives PUBLISH topic=x/1 qos=2 payload=from-5 id=$c
    When "a" sends raw 30 * t"x/2" "from-3.1.1"
    Then "a" receives PUBLISH topic=x/2 payload=from-3.1.1
    And "c" receives PUBLISH topic=x/2 payload=from-3.1.1
    When "a" sends raw e0 00
    Then "a" is disconnected
