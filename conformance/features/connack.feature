Feature: CONNACK: the answer to CONNECT
  Section 3.2 of MQTT 3.1.1 and 5.0: CONNACK is the server's first packet and comes only
  once, Session Present says whether a session was resumed, a refusal never claims a session
  and is followed by the close, and the 5.0 properties state the server's limits.

  Every CONNACK a step receives is decoded by a strict decoder, which refuses reserved bits in
  the Connect Acknowledge Flags, Session Present together with a non-zero code, and a code
  outside the table of the version; "receives CONNACK" therefore also checks those.

  # --- CONNACK first, and only once ------------------------------------------------------------

  @MQTT-3.2.0-1 @v3.1 @v3.1.1 @v5
  Scenario: CONNACK comes before the answer to a packet sent right behind CONNECT
    Given "a" opens a connection
    When "a" sends CONNECT
    And "a" sends PINGREQ
    Then "a" receives CONNACK reason=0
    And "a" receives PINGRESP

  @MQTT-3.2.0-1 @v3.1 @v3.1.1
  Scenario: CONNACK comes before the messages a resumed session has queued (3.x)
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=q/a qos=1
    And "sub" receives SUBACK id=1
    And "sub" sends DISCONNECT
    And "sub" is disconnected
    And client "pub" is connected
    And "pub" sends PUBLISH topic=q/a qos=1 id=1 payload=queued
    And "pub" receives PUBACK id=1
    When "sub" opens a connection
    And "sub" sends CONNECT clean_session=0
    Then "sub" receives CONNACK reason=0
    And "sub" receives PUBLISH topic=q/a qos=1 payload=queued

  @MQTT-3.2.0-1 @MQTT-3.2.2-3 @v5
  Scenario: CONNACK comes before the messages a resumed session has queued
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=q/a qos=1
    And "sub" receives SUBACK id=1
    And "sub" sends DISCONNECT
    And "sub" is disconnected
    And client "pub" is connected
    And "pub" sends PUBLISH topic=q/a qos=1 id=1 payload=queued
    And "pub" receives PUBACK id=1
    When "sub" opens a connection
    And "sub" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "sub" receives CONNACK reason=0 session_present=1
    And "sub" receives PUBLISH topic=q/a qos=1 payload=queued

  @MQTT-3.2.0-1 @v3.1 @v3.1.1 @needs-config
  Scenario: A refused client gets its CONNACK and no answer to the packets behind it (3.x)
    Given the broker is configured with auth.allow_anonymous = false
    And "a" opens a connection
    When "a" sends CONNECT
    And "a" sends PINGREQ
    Then "a" receives raw 20 02 00 05
    And "a" is disconnected

  @MQTT-3.2.0-1 @MQTT-3.2.2-7 @MQTT-3.2.2-8 @v5 @needs-config
  Scenario: A refused client gets its CONNACK and no answer to the packets behind it
    Given the broker is configured with auth.allow_anonymous = false
    And "a" opens a connection
    When "a" sends CONNECT
    And "a" sends PINGREQ
    Then "a" receives CONNACK reason=0x87 session_present=0
    And "a" is disconnected

  @MQTT-3.2.0-2 @MQTT-4.13.1-1 @v5
  Scenario: A second CONNECT gets no second CONNACK
    Given client "a" is connected
    When "a" sends CONNECT
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82

  @MQTT-3.2.0-2 @MQTT-4.13.1-1 @v5
  Scenario: Two CONNECT packets in one write get one CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 05 02 00 3c 00 c"a" | 10 * 00 04 "MQTT" 05 02 00 3c 00 c"a"
    Then "a" receives CONNACK reason=0
    And "a" is disconnected, perhaps after DISCONNECT reason=0x82

  # --- Connect Acknowledge Flags and Session Present -------------------------------------------

  @MQTT-3.2.2-1 @v5
  Scenario: The Connect Acknowledge Flags carry nothing but Session Present
    # The decoder refuses a CONNACK with any of bits 7-1 set, with Session Present 0 or 1.
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=1
    And "b" opens a connection
    And "b" sends CONNECT clean_start=1
    And "b" receives CONNACK reason=0 session_present=0

  @MQTT-3.2.2-1 @v3.1 @v3.1.1
  Scenario: Clean Session 1 discards a stored session and is answered with Session Present 0 (3.x)
    Given client "a" is connected with clean_session=0
    And "a" sends SUBSCRIBE id=1 filter=k/a qos=1
    And "a" receives SUBACK id=1
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_session=1
    Then "a" receives raw 20 02 00 00

  @MQTT-3.2.2-1 @v3.1.1
  Scenario: Clean Session 1 with no stored session is answered with Session Present 0
    Given "a" opens a connection
    When "a" sends CONNECT clean_session=1
    Then "a" receives raw 20 02 00 00

  @MQTT-3.2.2-2 @v5
  Scenario: Clean Start 1 discards a stored session and is answered with Session Present 0
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends SUBSCRIBE id=1 filter=k/a qos=1
    And "a" receives SUBACK id=1
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_start=1 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=0
    # The session really is new: the subscription is gone.
    And client "pub" is connected
    And "pub" sends PUBLISH topic=k/a qos=0 payload=gone
    And "a" receives nothing

  @MQTT-3.2.2-2 @v3.1.1
  Scenario: Clean Session 0 with a stored session is answered with Session Present 1
    Given client "a" is connected with clean_session=0
    And "a" sends SUBSCRIBE id=1 filter=k/a qos=1
    And "a" receives SUBACK id=1
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_session=0
    Then "a" receives raw 20 02 01 00

  @MQTT-3.2.2-2 @v3.1.1
  Scenario: A session taken over while connected is present to the new connection (3.1.1)
    Given client "a" is connected with clean_session=0
    When "a2" opens a connection
    And "a2" sends CONNECT client_id=a clean_session=0
    Then "a2" receives raw 20 02 01 00
    And "a" is disconnected

  @MQTT-3.2.2-3 @v3.1 @v3.1.1
  Scenario: Clean Session 0 with no stored session is answered with Session Present 0
    Given "a" opens a connection
    When "a" sends CONNECT clean_session=0
    Then "a" receives raw 20 02 00 00

  @MQTT-3.2.2-3 @v3.1.1
  Scenario: Clean Session 0 after a clean session ended is answered with Session Present 0
    Given client "a" is connected with clean_session=1
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_session=0
    Then "a" receives raw 20 02 00 00

  @MQTT-3.2.2-3 @v5
  Scenario: Clean Start 0 with no stored session is answered with Session Present 0
    Given "a" opens a connection
    When "a" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=0

  @MQTT-3.2.2-3 @v5
  Scenario: Clean Start 0 after a session that expired at the close is answered with Session Present 0
    Given client "a" is connected with clean_start=0 session_expiry_interval=0
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=0

  @MQTT-3.2.2-3 @v5
  Scenario: A session taken over while connected is present to the new connection
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    When "a2" opens a connection
    And "a2" sends CONNECT client_id=a clean_start=0 session_expiry_interval=60
    Then "a2" receives CONNACK reason=0 session_present=1
    And "a" is disconnected, perhaps after DISCONNECT reason=0x8e

  # --- Back-to-back reconnects: the old connection's last packets count first ----------------
  # The client sends its last packets, closes, and sends the next CONNECT at once; the broker
  # reads the two connections apart and must still apply the old one's packets first.

  @MQTT-3.2.2-3 @v5
  Scenario: A session ended by DISCONNECT is gone for the CONNECT sent right after it
    Given client "a" is connected with clean_start=0 session_expiry_interval=1
    When "a" sends DISCONNECT session_expiry_interval=0
    And "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=1
    Then "a" receives CONNACK reason=0 session_present=0

  @MQTT-3.2.2-3 @v3.1 @v3.1.1
  Scenario: A clean session ended by DISCONNECT is gone for the CONNECT sent right after it
    Given client "a" is connected with clean_session=1
    When "a" sends DISCONNECT
    And "a" opens a connection
    And "a" sends CONNECT clean_session=0
    Then "a" receives raw 20 02 00 00

  @MQTT-3.2.2-3 @MQTT-4.6.0-6 @v5
  Scenario: A PUBLISH sent just before DISCONNECT comes before the next connection's
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=order/t qos=1
    And "sub" receives SUBACK id=1
    And client "a" is connected with clean_start=0 session_expiry_interval=1
    When "a" sends PUBLISH topic=order/t qos=1 id=1 payload=before
    And "a" sends DISCONNECT session_expiry_interval=0
    And "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=1
    Then "a" receives CONNACK reason=0 session_present=0
    When "a" sends PUBLISH topic=order/t qos=1 id=1 payload=after
    Then "a" receives PUBACK id=1
    And "sub" receives PUBLISH topic=order/t payload=before
    And "sub" receives PUBLISH topic=order/t payload=after

  @MQTT-3.2.2-3 @MQTT-4.6.0-6 @v3.1.1
  Scenario: A PUBLISH sent just before DISCONNECT comes before the next connection's (3.1.1)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=order/t qos=1
    And "sub" receives SUBACK id=1
    And client "a" is connected with clean_session=1
    When "a" sends PUBLISH topic=order/t qos=1 id=1 payload=before
    And "a" sends DISCONNECT
    And "a" opens a connection
    And "a" sends CONNECT clean_session=0
    Then "a" receives raw 20 02 00 00
    When "a" sends PUBLISH topic=order/t qos=1 id=1 payload=after
    Then "a" receives PUBACK id=1
    And "sub" receives PUBLISH topic=order/t payload=before
    And "sub" receives PUBLISH topic=order/t payload=after

  # --- Refusals: no Session Present, then the close --------------------------------------------

  @MQTT-3.2.2-4 @MQTT-3.2.2-5 @v3.1.1 @needs-config
  Scenario: A refusal never claims the stored session, and the connection is closed (3.1.1)
    Given the broker is configured with limits.max_connections = 1
    And client "a" is connected with clean_session=0
    And "a" sends DISCONNECT
    And "a" is disconnected
    And client "other" is connected
    When "a" opens a connection
    And "a" sends CONNECT clean_session=0
    # 0x03 Server unavailable: the connection limit is reached.
    Then "a" receives raw 20 02 00 03
    And "a" is disconnected

  @MQTT-3.2.2-5 @v3.1 @needs-config
  Scenario: A refused CONNECT is followed by the close (3.1)
    Given the broker is configured with limits.max_connections = 1
    And client "other" is connected
    When "a" opens a connection
    And "a" sends CONNECT
    Then "a" receives raw 20 02 00 03
    And "a" is disconnected

  @MQTT-3.2.2-4 @MQTT-3.2.2-5 @v3.1.1 @needs-config
  Scenario: A client refused as not authorized gets Session Present 0 and the close
    Given the broker is configured with auth.allow_anonymous = false
    And "a" opens a connection
    When "a" sends CONNECT clean_session=0
    Then "a" receives raw 20 02 00 05
    And "a" is disconnected

  @MQTT-3.2.2-4 @MQTT-3.2.2-5 @v3.1.1
  Scenario: An unacceptable protocol level is refused with Session Present 0, then the close
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 06 02 00 3c c"a"
    Then "a" receives raw 20 02 00 01
    And "a" is disconnected

  @MQTT-3.2.2-6 @v3.1.1
  Scenario: A CONNECT with the reserved flag set is closed without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 04 03 00 3c c"a"
    Then "a" is disconnected

  @MQTT-3.2.2-6 @v3.1
  Scenario: A CONNECT with the reserved flag set is closed without CONNACK (3.1)
    Given "a" opens a connection
    When "a" sends raw 10 * 00 06 "MQIsdp" 03 03 00 3c c"a"
    Then "a" is disconnected

  @MQTT-3.2.2-6 @v3.1.1
  Scenario: A CONNECT with Will QoS 3 is closed without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 04 1e 00 3c c"a" t"w" s"bye"
    Then "a" is disconnected

  @MQTT-3.2.2-6 @v3.1.1
  Scenario: A CONNECT with a client identifier that is not UTF-8 is closed without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 04 02 00 3c 0002 c3 28
    Then "a" is disconnected

  @MQTT-3.2.2-6 @MQTT-3.2.2-7 @MQTT-3.2.2-8 @v5 @needs-config
  Scenario: A refusal never claims the stored session, and the connection is closed
    Given the broker is configured with limits.max_connections = 1
    And client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends DISCONNECT
    And "a" is disconnected
    And client "other" is connected
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    # 0x97 Quota exceeded: the connection limit is reached.
    Then "a" receives CONNACK reason=0x97 session_present=0
    And "a" is disconnected

  @MQTT-3.2.2-6 @MQTT-3.2.2-7 @MQTT-3.2.2-8 @MQTT-4.13.2-1 @v5 @needs-config
  Scenario: A will QoS refusal never claims the stored session, and the connection is closed
    Given the broker is configured with mqtt.maximum_qos = 1
    And client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60 will_topic=w will_qos=2
    Then "a" receives CONNACK reason=0x9b session_present=0
    And "a" is disconnected

  @MQTT-3.2.2-7 @MQTT-3.2.2-8 @MQTT-4.13.2-1 @v5 @needs-config
  Scenario: A client identifier the server does not allow is refused with 0x85 and the close
    Given the broker is configured with limits.max_client_id_len = 23
    And "a" opens a connection
    When "a" sends CONNECT client_id=a-client-identifier-longer-than-twenty-three-bytes
    Then "a" receives CONNACK reason=0x85 session_present=0
    And "a" is disconnected

  @MQTT-3.2.2-7 @MQTT-3.2.2-8 @MQTT-4.13.1-1 @MQTT-4.13.2-1 @v5
  Scenario: A CONNECT with a duplicated property is refused and closed
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 05 02 00 3c 0a 11 0000003c 11 0000003c c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x82 session_present=0

  @MQTT-3.2.2-7 @MQTT-3.2.2-8 @MQTT-4.13.1-1 @MQTT-4.13.2-1 @v5
  Scenario: A CONNECT with the reserved flag set is refused and closed
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 05 03 00 3c 00 c"a"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81 session_present=0

  # --- Maximum QoS -------------------------------------------------------------------------------

  @MQTT-3.2.2-9 @v5 @needs-config
  Scenario: A server without QoS 2 says Maximum QoS 1 in CONNACK
    Given the broker is configured with mqtt.maximum_qos = 1
    And "a" opens a connection
    When "a" sends CONNECT
    Then "a" receives CONNACK reason=0 maximum_qos=1

  @MQTT-3.2.2-9 @v5 @needs-config
  Scenario: A server without QoS 1 and 2 says Maximum QoS 0 in CONNACK
    Given the broker is configured with mqtt.maximum_qos = 0
    And "a" opens a connection
    When "a" sends CONNECT
    Then "a" receives CONNACK reason=0 maximum_qos=0

  @MQTT-3.2.2-10 @v5 @needs-config
  Scenario: A server with Maximum QoS 0 still accepts subscriptions at QoS 0, 1 and 2
    Given the broker is configured with mqtt.maximum_qos = 0
    And client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=m/0 qos=0 filter=m/1 qos=1 filter=m/2 qos=2
    Then "sub" receives SUBACK id=1
    And client "pub" is connected
    And "pub" sends PUBLISH topic=m/0 payload=zero
    And "pub" sends PUBLISH topic=m/1 payload=one
    And "pub" sends PUBLISH topic=m/2 payload=two
    And "sub" receives, in any order:
      """
      PUBLISH topic=m/0 payload=zero
      PUBLISH topic=m/1 payload=one
      PUBLISH topic=m/2 payload=two
      """

  @MQTT-3.2.2-10 @v5 @needs-config
  Scenario: A server with Maximum QoS 1 still accepts a subscription at QoS 2
    Given the broker is configured with mqtt.maximum_qos = 1
    And client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=m/2 qos=2
    Then "sub" receives SUBACK id=1
    And client "pub" is connected
    And "pub" sends PUBLISH topic=m/2 qos=1 id=1 payload=two
    And "pub" receives PUBACK id=1
    And "sub" receives PUBLISH topic=m/2 payload=two

  @MQTT-3.2.2-12 @MQTT-3.2.2-8 @MQTT-4.13.2-1 @v5 @needs-config
  Scenario: A will at QoS 2 is refused by a server with Maximum QoS 1
    Given the broker is configured with mqtt.maximum_qos = 1
    And client "ok" is connected with will_topic=w will_qos=1
    And "a" opens a connection
    When "a" sends CONNECT will_topic=w will_qos=2
    Then "a" receives CONNACK reason=0x9b session_present=0
    And "a" is disconnected

  @MQTT-3.2.2-12 @v5 @needs-config
  Scenario: A will at QoS 1 is refused by a server with Maximum QoS 0
    Given the broker is configured with mqtt.maximum_qos = 0
    And "a" opens a connection
    When "a" sends CONNECT will_topic=w will_qos=1
    Then "a" receives CONNACK reason=0x9b session_present=0
    And "a" is disconnected

  # --- Retain Available ----------------------------------------------------------------------

  @MQTT-3.2.2-13 @MQTT-3.2.2-8 @MQTT-4.13.2-1 @v5 @needs-config
  Scenario: A retained will is refused by a server without retained messages
    Given the broker is configured with mqtt.retain_available = false
    And client "ok" is connected with will_topic=w will_retain=0
    And "a" opens a connection
    When "a" sends CONNECT will_topic=w will_retain=1
    Then "a" receives CONNACK reason=0x9a session_present=0
    And "a" is disconnected

  # --- Assigned Client Identifier --------------------------------------------------------------

  @MQTT-3.2.2-16 @v5
  Scenario: Each client with a zero-length identifier is assigned one no other session uses
    Given "a" opens a connection
    And "a" sends CONNECT client_id=""
    And "a" receives CONNACK reason=0 assigned_client_identifier=$first
    When "b" opens a connection
    And "b" sends CONNECT client_id=""
    And "b" receives CONNACK reason=0 assigned_client_identifier=$second
    # Had the two identifiers been equal, "b" would have taken over the session of "a".
    Then "a" is still connected
    And "b" is still connected

  # @serial: this scenario and the next use the same client identifier, which is not scoped, and
  # must not take each other's connection over on a broker they share
  @MQTT-3.2.2-16 @v5 @serial
  Scenario: An assigned identifier is not one a connected client already uses
    # Tern numbers its identifiers; the first it would assign is already in use here.
    Given "h" opens a connection
    And "h" sends raw 10 * 00 04 "MQTT" 05 02 00 3c 00 s"tern-0000000000000001"
    And "h" receives CONNACK reason=0
    When "a" opens a connection
    And "a" sends CONNECT client_id=""
    Then "a" receives CONNACK reason=0 assigned_client_identifier=$id
    And "h" is still connected
    And "a" is still connected

  @MQTT-3.2.2-16 @v5 @serial
  Scenario: An assigned identifier is not one a stored session already uses
    Given "h" opens a connection
    And "h" sends raw 10 * 00 04 "MQTT" 05 02 00 3c 05 11 0000003c s"tern-0000000000000001"
    And "h" receives CONNACK reason=0
    And "h" sends DISCONNECT
    And "h" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT client_id=""
    Then "a" receives CONNACK reason=0 session_present=0 assigned_client_identifier=$id
    And "h" opens a connection
    And "h" sends raw 10 * 00 04 "MQTT" 05 00 00 3c 05 11 0000003c s"tern-0000000000000001"
    And "h" receives CONNACK reason=0 session_present=1

  # --- Reason String and User Property within the client's Maximum Packet Size ------------------

  @MQTT-3.2.2-19 @MQTT-3.2.2-20 @v5 @needs-config
  Scenario: A refusal to a client with a 5-byte Maximum Packet Size carries no Reason String or User Property
    Given the broker is configured with mqtt.maximum_qos = 1
    And "a" opens a connection
    When "a" sends CONNECT maximum_packet_size=5 will_topic=w will_qos=2
    # 5 bytes is the whole of a CONNACK with an empty property list.
    Then "a" receives raw 20 03 00 9b 00
    And "a" is disconnected

  @MQTT-3.2.2-19 @MQTT-3.2.2-20 @v5
  Scenario: A CONNACK to a client with a small Maximum Packet Size carries no Reason String or User Property
    Given "a" opens a connection
    When "a" sends CONNECT maximum_packet_size=32 request_problem_information=1
    Then "a" receives CONNACK reason=0 reason_string=- user_property=-

  # --- Server Keep Alive ----------------------------------------------------------------------

  @MQTT-3.2.2-22 @v5
  Scenario: Without Server Keep Alive the server applies the client's Keep Alive
    Given "a" opens a connection
    When "a" sends CONNECT keep_alive=3
    Then "a" receives CONNACK reason=0 server_keep_alive=-
    # Not at once, and by 1.5 times the Keep Alive after the CONNECT. The slack is for a
    # loaded machine (32 scenarios at once on two cores, or a virtual machine whose host
    # takes its CPU away for seconds): the quiet period checked is a sixth of the Keep Alive,
    # and the close is awaited for 1.5 seconds beyond the 4.5.
    And "a" receives nothing
    And "a" is disconnected within 6 seconds, perhaps after DISCONNECT reason=0x8d

  @MQTT-3.2.2-22 @v5
  Scenario: Without Server Keep Alive a client's packets within its Keep Alive keep it connected
    Given "a" opens a connection
    When "a" sends CONNECT keep_alive=3
    Then "a" receives CONNACK reason=0 server_keep_alive=-
    # 1.5 s between packets, against a limit of 4.5 s: room for a step that runs late.
    And 1500 milliseconds pass
    And "a" is still connected
    And 1500 milliseconds pass
    And "a" is still connected
    And 1500 milliseconds pass
    And "a" is still connected

  # --- What CONNACK binds the client to, as the server enforces it ------------------------------

  @MQTT-3.2.2-11 @v5 @needs-config
  Scenario: A PUBLISH above the Maximum QoS the server gave is refused with DISCONNECT
    Given the broker is configured with mqtt.maximum_qos = 1
    And "a" opens a connection
    And "a" sends CONNECT
    And "a" receives CONNACK reason=0 maximum_qos=1
    When "a" sends PUBLISH topic=x qos=2 id=1 payload=hi
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x9b

  @MQTT-3.2.2-14 @v5 @needs-config
  Scenario: A retained PUBLISH to a server that said Retain Available 0 is refused with DISCONNECT
    Given the broker is configured with mqtt.retain_available = false
    And "a" opens a connection
    And "a" sends CONNECT
    And "a" receives CONNACK reason=0 retain_available=0
    When "a" sends PUBLISH topic=x retain=1 payload=hi
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x9a

  @MQTT-3.2.2-15 @v5 @needs-config
  Scenario: A packet larger than the Maximum Packet Size the server gave is refused with DISCONNECT
    Given the broker is configured with limits.max_packet_size = 64
    And "a" opens a connection
    And "a" sends CONNECT
    And "a" receives CONNACK reason=0 maximum_packet_size=64
    When "a" sends PUBLISH topic=x payload_size=100
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x95

  @MQTT-3.2.2-17 @v5 @needs-config
  Scenario: A Topic Alias above the Topic Alias Maximum the server gave is refused with DISCONNECT
    Given the broker is configured with limits.topic_alias_maximum = 2
    And "a" opens a connection
    And "a" sends CONNECT
    And "a" receives CONNACK reason=0 topic_alias_maximum=2
    When "a" sends PUBLISH topic=x topic_alias=3 payload=hi
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x94

  @MQTT-3.2.2-18 @v5 @needs-config
  Scenario: A Topic Alias to a server that gave no Topic Alias Maximum is refused with DISCONNECT
    Given the broker is configured with limits.topic_alias_maximum = 0
    And "a" opens a connection
    And "a" sends CONNECT
    And "a" receives CONNACK reason=0 topic_alias_maximum=-
    When "a" sends PUBLISH topic=x topic_alias=1 payload=hi
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x94

  @MQTT-3.2.2-21 @v5 @needs-config
  Scenario: A client told a Server Keep Alive is held to it instead of its own Keep Alive
    Given the broker is configured with limits.max_keep_alive = 3
    And "a" opens a connection
    When "a" sends CONNECT keep_alive=60
    Then "a" receives CONNACK reason=0 server_keep_alive=3
    # Not at once, and by 1.5 times that Keep Alive (with slack for a loaded machine, as
    # above).
    And "a" receives nothing
    And "a" is disconnected within 6 seconds, perhaps after DISCONNECT reason=0x8d
