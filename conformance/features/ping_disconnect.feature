Feature: PINGREQ, PINGRESP and DISCONNECT
  Sections 3.12 and 3.14 of MQTT 3.1.1 and 5.0: every PINGREQ is answered, a DISCONNECT with
  reserved flags is refused, a normal DISCONNECT discards the will, and in 5.0 the server's
  own DISCONNECT comes only after a successful CONNACK, uses a defined reason code, carries no
  Session Expiry Interval, fits the client's Maximum Packet Size and is the last thing sent.

  # --- PINGREQ ------------------------------------------------------------------------------

  @MQTT-3.12.4-1 @v3.1 @v3.1.1 @v5
  Scenario: PINGREQ is answered with PINGRESP
    Given client "a" is connected
    When "a" sends raw c0 00
    Then "a" receives raw d0 00

  @MQTT-3.12.4-1 @v3.1 @v3.1.1 @v5
  Scenario: Each of several PINGREQs in one write is answered
    Given client "a" is connected
    When "a" sends raw c0 00 c0 00 c0 00
    Then "a" receives raw d0 00
    And "a" receives raw d0 00
    And "a" receives raw d0 00
    And "a" receives nothing

  @MQTT-3.12.4-1 @v3.1 @v3.1.1 @v5
  Scenario: A PINGREQ that arrives one byte at a time is answered
    Given client "a" is connected
    When "a" sends, 1 byte at a time, raw c0 00
    Then "a" receives raw d0 00

  @MQTT-3.12.4-1 @v3.1 @v3.1.1 @v5
  Scenario: PINGREQ is answered in the middle of a QoS 2 exchange
    Given client "a" is connected
    And "a" sends PUBLISH topic=p qos=2 id=7 payload=x
    And "a" receives PUBREC id=7
    When "a" sends PINGREQ
    Then "a" receives PINGRESP
    And "a" sends PUBREL id=7
    And "a" receives PUBCOMP id=7

  # --- DISCONNECT fixed header ---------------------------------------------------------------

  @MQTT-3.14.1-1 @v3.1 @v3.1.1
  Scenario: A DISCONNECT with reserved flag bit 0 set closes the connection, and the will is published (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/a qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends raw e1 00
    Then "a" is disconnected
    And "sub" receives PUBLISH topic=will/a payload=gone

  @MQTT-3.14.1-1 @v3.1 @v3.1.1
  Scenario: A DISCONNECT with reserved flag bit 3 set closes the connection (3.x)
    Given client "a" is connected
    When "a" sends raw e8 00
    Then "a" is disconnected

  @MQTT-3.14.1-1 @MQTT-4.13.1-1 @v5
  Scenario: A DISCONNECT with reserved flag bit 0 set is a Malformed Packet, and the will is published
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/a qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends raw e1 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81
    And "sub" receives PUBLISH topic=will/a payload=gone

  @MQTT-3.14.1-1 @MQTT-4.13.1-1 @v5
  Scenario: A DISCONNECT with reserved flag bits 3-1 set is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw ee 02 00 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  # --- The will at DISCONNECT ----------------------------------------------------------------

  @MQTT-3.14.4-3 @v3.1 @v3.1.1 @v5
  Scenario: DISCONNECT discards the will
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/# qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends DISCONNECT
    Then "a" is disconnected
    # A message published after the close arrives, and nothing came before it.
    And client "b" is connected
    And "b" sends PUBLISH topic=will/b payload=after
    And "sub" receives PUBLISH topic=will/b payload=after
    And "sub" receives nothing

  @MQTT-3.14.4-3 @v3.1 @v3.1.1 @v5
  Scenario: DISCONNECT discards a retained will, which is not stored either
    Given client "a" is connected with will_topic=will/a will_payload=gone will_retain=1
    When "a" sends DISCONNECT
    Then "a" is disconnected
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/a qos=0
    And "sub" receives SUBACK id=1
    And "sub" receives nothing

  @MQTT-3.14.4-3 @v5
  Scenario: DISCONNECT with Reason Code 0x00 and a property length discards the will
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/# qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends raw e0 02 00 00
    Then "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=will/b payload=after
    And "sub" receives PUBLISH topic=will/b payload=after
    And "sub" receives nothing

  @MQTT-3.14.4-3 @v5
  Scenario: DISCONNECT with Reason Code 0x00 and a User Property discards the will
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/# qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends DISCONNECT reason=0 user_property=why:done
    Then "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=will/b payload=after
    And "sub" receives PUBLISH topic=will/b payload=after
    And "sub" receives nothing

  @MQTT-3.14.4-3 @v5
  Scenario: DISCONNECT discards a delayed will of a session that outlives the connection
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/# qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with session_expiry_interval=60 will_topic=will/a will_payload=gone will_delay_interval=1
    When "a" sends DISCONNECT
    Then "a" is disconnected
    And 1500 milliseconds pass
    And client "b" is connected
    And "b" sends PUBLISH topic=will/b payload=after
    And "sub" receives PUBLISH topic=will/b payload=after
    And "sub" receives nothing

  # --- No DISCONNECT before a successful CONNACK ----------------------------------------------

  @MQTT-3.14.0-1 @v5
  Scenario: A connection whose first packet is not CONNECT is closed without DISCONNECT
    Given "a" opens a connection
    When "a" sends PINGREQ
    Then "a" is disconnected

  @MQTT-3.14.0-1 @v5
  Scenario: A connection whose first packet is a PUBLISH is closed without DISCONNECT
    Given "a" opens a connection
    When "a" sends raw 30 * t"x" 00 "hi"
    Then "a" is disconnected

  @MQTT-3.14.0-1 @v5
  Scenario: A connection whose first byte is a reserved packet type is closed without DISCONNECT
    Given "a" opens a connection
    When "a" sends raw 00 00
    Then "a" is disconnected

  @MQTT-3.14.0-1 @MQTT-4.13.1-1 @v5
  Scenario: A malformed CONNECT is answered by no DISCONNECT
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 05 03 00 3c 00 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.14.0-1 @MQTT-3.2.2-7 @v5 @needs-config
  Scenario: A refused CONNECT is closed after its CONNACK, without DISCONNECT
    Given the broker is configured with auth.allow_anonymous = false
    And "a" opens a connection
    When "a" sends CONNECT
    Then "a" receives CONNACK reason=0x87
    And "a" is disconnected

  # --- The server's DISCONNECT: reason code and properties ------------------------------------

  @MQTT-3.14.2-1 @MQTT-3.14.2-2 @MQTT-4.13.2-1 @v5
  Scenario: A taken-over connection is told 0x8E without Session Expiry Interval and closed
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    When "a2" opens a connection
    And "a2" sends CONNECT client_id=a clean_start=0 session_expiry_interval=60
    Then "a2" receives CONNACK reason=0 session_present=1
    # the close is required [MQTT-3.1.4-3]; the DISCONNECT before it is a SHOULD (4.13), and
    # if sent it carries no Session Expiry Interval
    And "a" is disconnected, perhaps after DISCONNECT reason=0x8e session_expiry_interval=-

  @MQTT-3.14.2-1 @MQTT-3.14.2-2 @v5 @needs-config
  Scenario: A DISCONNECT for a session whose expiry the server reduced carries no Session Expiry Interval
    Given the broker is configured with limits.max_session_expiry_interval = 10
    And "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    And "a" receives CONNACK reason=0 session_expiry_interval=10
    When "a" sends CONNECT
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82 session_expiry_interval=-

  @MQTT-3.14.2-1 @MQTT-3.14.2-2 @v5
  Scenario: The Keep Alive timeout DISCONNECT carries no Session Expiry Interval
    Given "a" opens a connection
    And "a" sends CONNECT keep_alive=1 session_expiry_interval=60
    And "a" receives CONNACK reason=0
    # what is proved here is the DISCONNECT, not how soon the Keep Alive ends the connection
    # (that is connect.feature's): a generous limit
    Then "a" is disconnected within 10 seconds, perhaps after DISCONNECT reason=0x8d session_expiry_interval=-

  @MQTT-3.14.2-1 @MQTT-4.13.1-1 @v5
  Scenario: A DISCONNECT with an undefined reason code is not a normal disconnection
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/a qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends raw e0 02 05 00
    Then "a" is disconnected, perhaps after DISCONNECT
    And "sub" receives PUBLISH topic=will/a payload=gone

  @MQTT-3.14.2-3 @MQTT-3.14.2-4 @v5
  Scenario: The server leaves Reason String and User Property out of a DISCONNECT the client's Maximum Packet Size cannot hold them in
    Given client "a" is connected with maximum_packet_size=20
    When "a" sends CONNECT
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82 reason_string=- user_property=-

  @MQTT-3.14.2-3 @v5 @needs-config
  Scenario: A DISCONNECT whose Reason String exceeds the server's Maximum Packet Size is not a normal disconnection
    Given the broker is configured with limits.max_packet_size = 64
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/a qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends DISCONNECT reason_string="a reason string long enough to take this DISCONNECT past sixty-four bytes"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x95
    And "sub" receives PUBLISH topic=will/a payload=gone

  @MQTT-3.14.2-4 @v5 @needs-config
  Scenario: A DISCONNECT whose User Property exceeds the server's Maximum Packet Size is not a normal disconnection
    Given the broker is configured with limits.max_packet_size = 64
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/a qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends DISCONNECT user_property="name:a value long enough to take this DISCONNECT past sixty-four bytes"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x95
    And "sub" receives PUBLISH topic=will/a payload=gone

  # --- After DISCONNECT: nothing more, then the close -----------------------------------------

  @MQTT-3.14.4-1 @MQTT-3.14.4-2 @MQTT-4.13.1-1 @v5
  Scenario: After its DISCONNECT the server answers no further packet and closes
    Given client "a" is connected
    When "a" sends raw 10 * 00 04 "MQTT" 05 02 00 3c 00 c"a" | c0 00 | c0 00
    # the DISCONNECT is a SHOULD (4.13.1); whether or not it comes, nothing follows but the close
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82

  @MQTT-3.14.4-1 @MQTT-3.14.4-2 @v5
  Scenario: After its DISCONNECT to a taken-over connection the server sends it no more messages
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends SUBSCRIBE id=1 filter=t/a qos=1
    And "a" receives SUBACK id=1
    When "a2" opens a connection
    And "a2" sends CONNECT client_id=a clean_start=0 session_expiry_interval=60
    And "a2" receives CONNACK reason=0 session_present=1
    And client "pub" is connected
    And "pub" sends PUBLISH topic=t/a qos=1 id=1 payload=later
    And "pub" receives PUBACK id=1
    Then "a2" receives PUBLISH topic=t/a payload=later
    # the DISCONNECT is a SHOULD (4.13); whether or not it comes, nothing follows but the close
    And "a" is disconnected, perhaps after DISCONNECT reason=0x8e

  @MQTT-3.14.4-1 @MQTT-3.14.4-2 @v5
  Scenario: After its Keep Alive timeout DISCONNECT the server closes
    Given "a" opens a connection
    And "a" sends CONNECT keep_alive=1
    And "a" receives CONNACK reason=0
    # the DISCONNECT is a SHOULD (4.13); whether or not it comes, nothing follows but the close
    # (how soon the Keep Alive ends the connection is connect.feature's: a generous limit)
    Then "a" is disconnected within 10 seconds, perhaps after DISCONNECT reason=0x8d

  @MQTT-4.13.2-1 @v5
  Scenario: A client's DISCONNECT with a reason code of 0x80 or above ends the connection, and the will is published
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=will/a qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=will/a will_payload=gone
    When "a" sends DISCONNECT reason=0x80
    Then "a" is disconnected
    And "sub" receives PUBLISH topic=will/a payload=gone
