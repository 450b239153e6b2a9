Feature: CONNECT: protocol name and level, connect flags, keep alive, properties, client identifier, response
  Section 3.1 of both specifications: what the server checks in a CONNECT and how it answers
  it, the Keep Alive it enforces, what the CONNECT properties of a 5.0 client bind it to, which
  client identifiers it accepts, session takeover, and that nothing after a refused CONNECT is
  processed. Sessions are in connect_session.feature, wills in connect_will.feature.

  # --- Acceptance -----------------------------------------------------------------------------

  @MQTT-3.1.4-4 @v3.1.1
  Scenario: An accepted CONNECT is answered with CONNACK return code 0x00
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 02 003c c"a"
    Then "a" receives raw 20 02 00 00
    And "a" is still connected

  @MQTT-3.1.4-4 @v3.1
  Scenario: An accepted MQTT 3.1 CONNECT is answered with CONNACK return code 0x00
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQIsdp" 03 02 003c c"a"
    Then "a" receives raw 20 02 00 00
    And "a" is still connected

  @MQTT-3.1.4-5 @v5
  Scenario: An accepted CONNECT is answered with CONNACK reason code 0x00
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 00 c"a"
    Then "a" receives CONNACK reason=0x00 session_present=0
    And "a" is still connected

  @MQTT-3.1.4-5 @v5
  Scenario: A 5.0 CONNECT with a password and no user name is accepted
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 42 003c 00 c"a" s"secret"
    Then "a" receives CONNACK reason=0x00
    And "a" is still connected

  # --- The first packet, and a second CONNECT -----------------------------------------------

  @MQTT-3.1.0-1 @v3.1 @v3.1.1 @v5
  Scenario: A first packet other than CONNECT closes the connection
    Given "a" opens a connection
    When "a" sends raw c0 00
    Then "a" is disconnected

  @MQTT-3.1.0-2 @v3.1 @v3.1.1
  Scenario: A second CONNECT on a connection is a protocol violation that closes it (3.x)
    Given client "a" is connected
    When "a" sends CONNECT
    Then "a" is disconnected

  @MQTT-3.1.0-2 @v5
  Scenario: A second CONNECT on a connection is a Protocol Error that closes it
    Given client "a" is connected
    When "a" sends CONNECT
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82

  # --- Protocol Name and Protocol Level -------------------------------------------------------

  @MQTT-3.1.2-1 @v3.1.1
  Scenario: A CONNECT with another protocol name is not processed as MQTT 3.1.1
    Given "a" opens a connection
    When "a" sends raw 10 * s"mqtt" 04 02 003c c"a" | 31 * t"x" "kept"
    Then "a" is disconnected
    And client "b" is connected
    And "b" sends SUBSCRIBE id=1 filter=x qos=0
    And "b" receives SUBACK id=1 reasons=0x00
    And "b" is still connected

  @MQTT-3.1.2-1 @v3.1
  Scenario: A CONNECT with another protocol name is not processed as MQTT 3.1
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQIsdx" 03 02 003c c"a" | 31 * t"x" "kept"
    Then "a" is disconnected
    And client "b" is connected
    And "b" sends SUBSCRIBE id=1 filter=x qos=0
    And "b" receives SUBACK id=1 reasons=0x00
    And "b" is still connected

  @MQTT-3.1.2-1 @v5
  Scenario: A CONNECT whose protocol name is not MQTT is refused and the connection closed
    Given "a" opens a connection
    When "a" sends raw 10 * s"mqtt" 05 02 003c 00 c"a" | 31 * t"x" 00 "kept"
    Then "a" is disconnected, perhaps after CONNACK reason=0x84
    And client "b" is connected
    And "b" sends SUBSCRIBE id=1 filter=x qos=0
    And "b" receives SUBACK id=1 reasons=0x00
    And "b" is still connected

  @MQTT-3.1.2-2 @v3.1.1
  Scenario: An unsupported protocol level is answered with CONNACK 0x01, then the connection closes
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 07 02 003c c"a"
    Then "a" receives raw 20 02 00 01
    And "a" is disconnected

  @MQTT-3.1.2-2 @v3.1
  Scenario: An unsupported MQTT 3.1 protocol version is answered with CONNACK 0x01, then the connection closes
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQIsdp" 04 02 003c c"a"
    Then "a" receives raw 20 02 00 01
    And "a" is disconnected

  @MQTT-3.1.2-2 @v5
  Scenario: A protocol version the server does not accept closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 06 02 003c 00 c"a"
    # 5.0's CONNACK 0x84, or the "unacceptable protocol level" CONNACK every version reads.
    Then "a" is disconnected, perhaps after raw 20 03 00 84 00 or raw 20 02 00 01

  # --- Connect Flags and other malformed CONNECTs ---------------------------------------------

  @MQTT-3.1.2-3 @MQTT-3.1.4-1 @v3.1.1
  Scenario: A CONNECT whose reserved flag is 1 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 03 003c c"a"
    Then "a" is disconnected

  @MQTT-3.1.2-3 @MQTT-3.1.4-1 @v3.1
  Scenario: An MQTT 3.1 CONNECT whose reserved flag is 1 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQIsdp" 03 03 003c c"a"
    Then "a" is disconnected

  @MQTT-3.1.2-3 @MQTT-3.1.4-1 @v5
  Scenario: A CONNECT whose reserved flag is 1 is a Malformed Packet that closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 03 003c 00 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.2-14 @v3.1.1
  Scenario: A CONNECT with Will QoS 3 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 1e 003c c"a" t"w" s"bye"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-11 @MQTT-3.1.2-13 @v3.1.1
  Scenario: A CONNECT with Will QoS but no Will Flag closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 0a 003c c"a"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-11 @MQTT-3.1.2-15 @v3.1.1
  Scenario: A CONNECT with Will Retain but no Will Flag closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 22 003c c"a"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-22 @v3.1.1
  Scenario: A CONNECT with a Password Flag but no User Name Flag closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 42 003c c"a" s"secret"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-19 @v3.1.1
  Scenario: A CONNECT whose User Name Flag announces a missing user name closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 82 003c c"a"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.3-3 @v3.1.1
  Scenario: A CONNECT without a client identifier closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 02 003c
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.3-4 @v3.1.1
  Scenario: A CONNECT whose client identifier is not UTF-8 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 02 003c 0002 c328
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-18 @v3.1.1
  Scenario: A CONNECT with a user name but no User Name Flag closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 02 003c c"a" s"user"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-20 @v3.1.1
  Scenario: A CONNECT with a password but no Password Flag closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 82 003c c"a" s"user" s"secret"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-21 @v3.1.1
  Scenario: A CONNECT whose Password Flag announces a missing password closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 c2 003c c"a" s"user"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-9 @v3.1.1
  Scenario: A CONNECT whose Will Flag announces a missing will closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 06 003c c"a"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.3-10 @v3.1.1
  Scenario: A CONNECT whose will topic is not UTF-8 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 06 003c c"a" 0002 c328 s"bye"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @v3.1.1
  Scenario: A CONNECT whose will topic has a wildcard closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 06 003c c"a" t"w/#" s"bye"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.3-11 @v3.1.1
  Scenario: A CONNECT whose user name is not UTF-8 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 82 003c c"a" 0002 c328
    Then "a" is disconnected

  @MQTT-3.1.4-1 @v3.1.1
  Scenario: A CONNECT whose fixed header flags are not 0 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 12 * s"MQTT" 04 02 003c c"a"
    Then "a" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-11 @MQTT-3.1.2-14 @MQTT-3.1.2-15 @MQTT-3.1.2-19 @MQTT-3.1.3-4 @v3.1
  Scenario: Malformed MQTT 3.1 CONNECTs close the connection without CONNACK
    Given "a" opens a connection
    And "b" opens a connection
    And "c" opens a connection
    And "d" opens a connection
    And "e" opens a connection
    When "a" sends raw 10 * s"MQIsdp" 03 1e 003c c"a" t"w" s"bye"
    And "b" sends raw 10 * s"MQIsdp" 03 22 003c c"b"
    And "c" sends raw 10 * s"MQIsdp" 03 82 003c c"c"
    And "d" sends raw 10 * s"MQIsdp" 03 02 003c 0002 c328
    And "e" sends raw 12 * s"MQIsdp" 03 02 003c c"e"
    Then "a" is disconnected
    And "b" is disconnected
    And "c" is disconnected
    And "d" is disconnected
    And "e" is disconnected

  @MQTT-3.1.4-1 @MQTT-3.1.2-12 @v5
  Scenario: A CONNECT with Will QoS 3 is a Malformed Packet that closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 1e 003c 00 c"a" 00 t"w" s"bye"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.2-11 @MQTT-3.1.2-13 @v5
  Scenario: A CONNECT with Will QoS or Will Retain but no Will Flag closes the connection
    Given "a" opens a connection
    And "b" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 0a 003c 00 c"a"
    And "b" sends raw 10 * s"MQTT" 05 22 003c 00 c"b"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81
    And "b" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.2-17 @v5
  Scenario: A CONNECT whose User Name Flag announces a missing user name closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 82 003c 00 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.2-16 @v5
  Scenario: A CONNECT with a user name but no User Name Flag closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 00 c"a" s"user"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.2-18 @v5
  Scenario: A CONNECT with a password but no Password Flag closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 82 003c 00 c"a" s"user" s"secret"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.2-19 @v5
  Scenario: A CONNECT whose Password Flag announces a missing password closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 c2 003c 00 c"a" s"user"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.2-9 @v5
  Scenario: A CONNECT whose Will Flag announces a missing will closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 06 003c 00 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.3-3 @v5
  Scenario: A CONNECT without a client identifier closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 00
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.3-4 @v5
  Scenario: A CONNECT whose client identifier is not UTF-8 closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 00 0002 c328
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @MQTT-3.1.3-11 @v5
  Scenario: A CONNECT whose will topic is not UTF-8 closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 06 003c 00 c"a" 00 0002 c328 s"bye"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @v5
  Scenario: A CONNECT whose will topic has a wildcard closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 06 003c 00 c"a" 00 t"w/#" s"bye"
    Then "a" is disconnected, perhaps after CONNACK

  @MQTT-3.1.4-1 @MQTT-3.1.3-12 @v5
  Scenario: A CONNECT whose user name is not UTF-8 closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 82 003c 00 c"a" 0002 c328
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @v5
  Scenario: A CONNECT whose fixed header flags are not 0 closes the connection
    Given "a" opens a connection
    When "a" sends raw 12 * s"MQTT" 05 02 003c 00 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @v5
  Scenario: A CONNECT property given twice is a Protocol Error that closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 0a 11 0000003c 11 0000003c c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x82

  @MQTT-3.1.4-1 @v5
  Scenario: A CONNECT with Receive Maximum 0 is a Protocol Error that closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 03 21 0000 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x82

  @MQTT-3.1.4-1 @v5
  Scenario: A CONNECT with Request Problem Information 2 is a Protocol Error that closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 02 17 02 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x82

  @MQTT-3.1.4-1 @v5
  Scenario: A CONNECT with Authentication Data but no Authentication Method is a Protocol Error
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 04 16 0001 aa c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x82

  @MQTT-3.1.4-1 @v5
  Scenario: A CONNECT with a property CONNECT cannot carry is a Malformed Packet
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 03 23 0001 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-3.1.4-1 @v5
  Scenario: A will property a will cannot carry is a Malformed Packet
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 06 003c 00 c"a" 05 11 0000003c t"w" s"bye"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  # --- Keep Alive -----------------------------------------------------------------------------

  @MQTT-3.1.2-24 @v3.1 @v3.1.1
  Scenario: A client silent for one and a half times its Keep Alive is disconnected as on a network failure (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=gone qos=0
    And "sub" receives SUBACK id=1
    When client "a" is connected with keep_alive=1 will_topic=gone will_payload=silent
    Then "a" is disconnected within 3 seconds
    And "sub" receives PUBLISH topic=gone payload=silent

  @MQTT-3.1.2-22 @v5
  Scenario: A client silent for one and a half times its Keep Alive is disconnected as on a network failure
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=gone qos=0
    And "sub" receives SUBACK id=1
    When client "a" is connected with keep_alive=1 will_topic=gone will_payload=silent
    Then "a" is disconnected within 3 seconds, perhaps after DISCONNECT reason=0x8D
    And "sub" receives PUBLISH topic=gone payload=silent

  # --- CONNECT properties (5.0) ---------------------------------------------------------------

  @MQTT-3.1.2-24 @v5
  Scenario: The server sends no packet larger than the client's Maximum Packet Size
    Given client "a" is connected with maximum_packet_size=64
    And "a" sends SUBSCRIBE id=1 filter=x qos=0
    And "a" receives SUBACK id=1
    And client "b" is connected
    When "b" sends PUBLISH topic=x payload_size=100
    And "b" sends PUBLISH topic=x payload=small
    Then "a" receives PUBLISH topic=x payload=small
    And "a" is still connected

  @MQTT-3.1.2-25 @v5
  Scenario: A message too large for the client is dropped as if it had been sent
    Given client "a" is connected with session_expiry_interval=60 maximum_packet_size=64 receive_maximum=1
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And client "b" is connected
    When "b" sends PUBLISH topic=x qos=1 id=1 payload_size=100
    And "b" receives PUBACK id=1
    And "b" sends PUBLISH topic=x qos=1 id=2 payload=small
    And "b" receives PUBACK id=2
    # The dropped message holds no place in a window of one, and is never sent later.
    Then "a" receives PUBLISH topic=x qos=1 id=$p payload=small
    And "a" sends PUBACK id=$p
    And "a" is still connected
    And "a" closes the connection
    And "a" is disconnected
    And client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" is still connected

  @MQTT-3.1.2-26 @v5
  Scenario: The server uses no Topic Alias above the client's Topic Alias Maximum
    Given client "a" is connected with topic_alias_maximum=2
    And "a" sends SUBSCRIBE id=1 filter=t/+ qos=0
    And "a" receives SUBACK id=1
    And client "b" is connected
    When "b" sends PUBLISH topic=t/1 payload=1
    And "b" sends PUBLISH topic=t/2 payload=2
    And "b" sends PUBLISH topic=t/3 payload=3
    And "b" sends PUBLISH topic=t/1 payload=4
    And "b" sends PUBLISH topic=t/2 payload=5
    And "b" sends PUBLISH topic=t/3 payload=6
    Then "a" receives PUBLISH, with topic_alias absent or at most 2, payload=1
    And "a" receives PUBLISH, with topic_alias absent or at most 2, payload=2
    And "a" receives PUBLISH, with topic_alias absent or at most 2, payload=3
    And "a" receives PUBLISH, with topic_alias absent or at most 2, payload=4
    And "a" receives PUBLISH, with topic_alias absent or at most 2, payload=5
    And "a" receives PUBLISH, with topic_alias absent or at most 2, payload=6

  @MQTT-3.1.2-27 @v5
  Scenario: The server sends no Topic Alias to a client whose Topic Alias Maximum is absent or 0
    Given client "a" is connected
    And client "z" is connected with topic_alias_maximum=0
    And "a" sends SUBSCRIBE id=1 filter=x qos=0
    And "a" receives SUBACK id=1
    And "z" sends SUBSCRIBE id=1 filter=x qos=0
    And "z" receives SUBACK id=1
    And client "b" is connected
    When "b" sends PUBLISH topic=x payload=1
    And "b" sends PUBLISH topic=x payload=2
    Then "a" receives PUBLISH topic=x topic_alias=- payload=1
    And "a" receives PUBLISH topic=x topic_alias=- payload=2
    And "z" receives PUBLISH topic=x topic_alias=- payload=1
    And "z" receives PUBLISH topic=x topic_alias=- payload=2

  @MQTT-3.1.2-28 @v5
  Scenario: A client whose Request Response Information is 0 or absent gets no Response Information
    Given "a" opens a connection
    And "b" opens a connection
    When "a" sends CONNECT request_response_information=0
    And "b" sends CONNECT
    Then "a" receives CONNACK reason=0 response_information=-
    And "b" receives CONNACK reason=0 response_information=-

  @MQTT-3.1.2-29 @v5 @needs-config
  Scenario: With Request Problem Information 0 no acknowledgement carries a Reason String or User Property
    Given the broker is configured with mqtt.deny_subscriptions = ["denied/x"]
    And client "a" is connected with request_problem_information=0
    When "a" sends SUBSCRIBE id=1 filter=@denied/x qos=0
    Then "a" receives SUBACK id=1 reasons=0x87 reason_string=- user_property=-
    When "a" sends UNSUBSCRIBE id=2 filter=never
    Then "a" receives UNSUBACK id=2 reason_string=- user_property=-
    When "a" sends PUBLISH topic=nobody qos=1 id=3 payload=x
    Then "a" receives PUBACK id=3 reason_string=- user_property=-
    When "a" sends PUBLISH topic=nobody qos=2 id=4 payload=x
    Then "a" receives PUBREC id=4 reason_string=- user_property=-
    When "a" sends PUBREL id=4
    Then "a" receives PUBCOMP id=4 reason_string=- user_property=-
    When "a" sends PUBREL id=5
    Then "a" receives PUBCOMP id=5 reason_string=- user_property=-

  # --- Client Identifier ----------------------------------------------------------------------

  @MQTT-3.1.3-5 @v3.1 @v3.1.1 @v5
  Scenario: Client identifiers of 1 to 23 letters and digits are accepted
    Given client "a" is connected with client_id=@0123456789abcdefghijklm
    And client "b" is connected with client_id=@nopqrstuvwxyzABCDEFGHIJ
    And client "c" is connected with client_id=@KLMNOPQRSTUVWXYZ
    And client "d" is connected with client_id=@Q
    Then "a" is still connected
    And "b" is still connected
    And "c" is still connected
    And "d" is still connected

  @MQTT-3.1.3-6 @v3.1.1
  Scenario: A zero-length client identifier with Clean Session 1 is given a unique identifier
    Given client "a" is connected with client_id=""
    And client "b" is connected with client_id=""
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=hi
    And "b" receives PUBACK id=1
    Then "a" receives PUBLISH topic=x qos=1 payload=hi
    And "b" is still connected

  @MQTT-3.1.3-6 @MQTT-3.1.3-7 @v5
  Scenario: A zero-length client identifier is given a unique one, returned in CONNACK
    Given "a" opens a connection
    And "a" sends CONNECT client_id=""
    And "a" receives CONNACK reason=0 assigned_client_identifier=$first
    And "b" opens a connection
    And "b" sends CONNECT client_id=""
    And "b" receives CONNACK reason=0 assigned_client_identifier=$second
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=hi
    And "b" receives PUBACK id=1
    Then "a" receives PUBLISH topic=x qos=1 payload=hi
    And "b" is still connected

  @MQTT-3.1.3-8 @MQTT-3.1.3-9 @MQTT-3.1.3-7 @v3.1.1
  Scenario: A zero-length client identifier with Clean Session 0 is rejected with CONNACK 0x02
    Given "a" opens a connection
    When "a" sends CONNECT client_id="" clean_session=0
    Then "a" receives CONNACK reason=0x02 session_present=0
    And "a" is disconnected

  @MQTT-3.1.3-9 @v3.1.1 @needs-config
  Scenario: A client identifier the server does not allow is rejected with CONNACK 0x02
    Given the broker is configured with limits.max_client_id_len = 23
    And "a" opens a connection
    When "a" sends CONNECT client_id=@abcdefghijklmnopqrstuvwx
    Then "a" receives CONNACK reason=0x02 session_present=0
    And "a" is disconnected

  @MQTT-3.1.3-9 @v3.1
  Scenario: MQTT 3.1 rejects client identifiers outside 1 to 23 bytes with CONNACK 0x02
    Given "a" opens a connection
    And "b" opens a connection
    When "a" sends CONNECT client_id=@abcdefghijklmnopqrstuvwx
    And "b" sends CONNECT client_id=""
    Then "a" receives CONNACK reason=0x02
    And "a" is disconnected
    And "b" receives CONNACK reason=0x02
    And "b" is disconnected

  @MQTT-3.1.3-8 @v5 @needs-config
  Scenario: A client identifier the server does not allow closes the connection
    Given the broker is configured with limits.max_client_id_len = 23
    And "a" opens a connection
    When "a" sends CONNECT client_id=@abcdefghijklmnopqrstuvwx
    Then "a" is disconnected, perhaps after CONNACK reason=0x85

  @MQTT-3.1.3-8 @v5 @needs-config
  Scenario: A zero-length client identifier refused by the server closes the connection
    Given the broker is configured with mqtt.assign_client_ids = false
    And "a" opens a connection
    When "a" sends CONNECT client_id=""
    Then "a" is disconnected, perhaps after CONNACK reason=0x85

  # --- Response: takeover, refusals, what follows a refused CONNECT ---------------------------

  @MQTT-3.1.4-2 @v3.1 @v3.1.1
  Scenario: A CONNECT with the client identifier of a connected client disconnects that client (3.x)
    Given client "first" is connected with client_id=a
    When client "second" is connected with client_id=a
    Then "first" is disconnected
    And "second" is still connected

  @MQTT-3.1.4-3 @v5
  Scenario: A CONNECT with the client identifier of a connected client takes its session over
    Given client "first" is connected with client_id=a
    When client "second" is connected with client_id=a
    # the close is required [MQTT-3.1.4-3]; the DISCONNECT 0x8E before it is a SHOULD (4.13)
    Then "first" is disconnected, perhaps after DISCONNECT reason=0x8E
    And "second" is still connected

  @MQTT-3.1.4-2 @v5 @needs-config
  Scenario: A CONNECT that fails authentication closes the connection
    Given the broker is configured with auth.allow_anonymous = false
    And "a" opens a connection
    When "a" sends CONNECT
    Then "a" is disconnected, perhaps after CONNACK

  @MQTT-3.1.4-5 @v3.1.1
  Scenario: Nothing sent after a rejected CONNECT is processed
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 00 003c 0000 | 31 * t"x" "kept" | 82 * 0001 f"x" 00
    Then "a" receives raw 20 02 00 02
    And "a" is disconnected
    And client "b" is connected
    And "b" sends SUBSCRIBE id=1 filter=x qos=0
    And "b" receives SUBACK id=1 reasons=0x00
    And "b" is still connected

  @MQTT-3.1.4-5 @v3.1
  Scenario: Nothing sent after a rejected MQTT 3.1 CONNECT is processed
    Given "a" opens a connection
    # refused for its empty client identifier (3.1 allows 1 to 23 characters)
    When "a" sends raw 10 * s"MQIsdp" 03 02 003c 0000 | 31 * t"x" "kept" | 82 * 0001 f"x" 00
    Then "a" receives raw 20 02 00 02
    And "a" is disconnected
    And client "b" is connected
    And "b" sends SUBSCRIBE id=1 filter=x qos=0
    And "b" receives SUBACK id=1
    And "b" is still connected

  @MQTT-3.1.4-6 @v5 @needs-config
  Scenario: Nothing sent after a refused 5.0 CONNECT is processed
    Given the broker is configured with limits.max_client_id_len = 23
    And "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 02 003c 00 s"abcdefghijklmnopqrstuvwx" | 31 * t"x" 00 "kept" | 82 * 0001 00 f"x" 00
    Then "a" is disconnected, perhaps after CONNACK reason=0x85
    And client "b" is connected
    And "b" sends SUBSCRIBE id=1 filter=x qos=0
    And "b" receives SUBACK id=1 reasons=0x00
    And "b" is still connected
