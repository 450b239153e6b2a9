Feature: QoS delivery flows (section 4.3) and message receipt (section 4.5)
  The server is the sender towards subscribers and the receiver of what clients publish. As a
  sender it sends QoS 0 with DUP 0, gives each new QoS 1 and QoS 2 message an identifier not in
  use and DUP 0, holds it until acknowledged, releases with the same identifier; as a receiver
  it acknowledges with the identifier it got and delivers a QoS 2 message once. A message the
  server takes ownership of goes into the session of every client with a matching subscription.

  # -------------------------------------------------------------------------------------------
  # QoS 0, both catalogs (4.3.1-1 says the same in both)
  # -------------------------------------------------------------------------------------------

  @MQTT-4.3.1-1 @v3.1 @v3.1.1 @v5
  Scenario: The server sends QoS 0 messages with QoS 0 and DUP 0, whatever the publisher sent
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=0 payload=0
    And "pub" sends PUBLISH topic=x qos=1 id=1 dup=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 dup=1 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBREC id=2
    # the server may pass a QoS 2 message on at once or only after PUBREL (4.3.3)
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH qos=0 dup=0 payload=0
    And "sub" receives PUBLISH qos=0 dup=0 payload=1
    And "sub" receives PUBLISH qos=0 dup=0 payload=2

  @MQTT-4.3.1-1 @v3.1 @v3.1.1
  Scenario: The first byte of a QoS 0 PUBLISH from the server is 0x30
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 dup=1 payload=1
    Then "sub" receives raw 30 * t"x" "1"

  @MQTT-4.3.1-1 @v5
  Scenario: The first byte of a 5.0 QoS 0 PUBLISH from the server is 0x30
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 dup=1 payload=1
    Then "sub" receives raw 30 * t"x" 00 "1"

  # -------------------------------------------------------------------------------------------
  # QoS 1, MQTT 3.1.1 and 3.1
  # -------------------------------------------------------------------------------------------

  @MQTT-4.3.2-1 @v3.1 @v3.1.1
  Scenario: The server sends a new QoS 1 message with DUP 0 and holds it until PUBACK
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    # the publisher's DUP is its own business: a new message goes out with DUP 0
    When "pub" sends PUBLISH topic=x qos=1 id=1 dup=1 payload=1
    And "pub" sends PUBLISH topic=x qos=1 id=2 payload=2
    Then "sub" receives PUBLISH qos=1 dup=0 payload=1 id=$a
    And "sub" receives PUBLISH qos=1 dup=0 payload=2 id=$b
    When "sub" sends PUBACK id=$b
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    # unacknowledged: resent with its identifier; acknowledged: gone
    Then "sub" receives PUBLISH qos=1 dup=1 payload=1 id=$a
    And "sub" is still connected

  @MQTT-4.3.2-2 @v3.1 @v3.1.1
  Scenario: The server acknowledges QoS 1 with the identifier, then takes the identifier as new
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=5 payload=1
    Then "pub" receives PUBACK id=5
    And "sub" receives PUBLISH payload=1
    When "pub" sends PUBLISH topic=x qos=1 id=5 dup=1 payload=2
    Then "pub" receives PUBACK id=5
    And "sub" receives PUBLISH payload=2 dup=0
    # even the very same message with DUP 1 is a new publication once acknowledged
    When "pub" sends PUBLISH topic=x qos=1 id=5 dup=1 payload=2
    Then "pub" receives PUBACK id=5
    And "sub" receives PUBLISH payload=2 dup=0

  # -------------------------------------------------------------------------------------------
  # QoS 2, MQTT 3.1.1 and 3.1
  # -------------------------------------------------------------------------------------------

  @MQTT-4.3.3-1 @v3.1 @v3.1.1
  Scenario: The server sends a new QoS 2 message with DUP 0 and resends it until PUBREC
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 dup=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH qos=2 dup=0 payload=1 id=$p
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH qos=2 dup=1 payload=1 id=$p
    # PUBREC: the server releases with the same identifier
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p
    # the PUBREL is held until PUBCOMP, and the PUBLISH is never sent again
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBREL id=$p
    And "sub" is still connected
    When "sub" sends PUBCOMP id=$p
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" is still connected

  @MQTT-4.3.3-1 @v3.1 @v3.1.1
  Scenario: The server gives concurrent QoS 2 messages distinct identifiers
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBREC id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    # completing $b completes message 2 only
    When "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$b
    When "sub" sends PUBCOMP id=$b
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH dup=1 payload=1 id=$a
    And "sub" is still connected

  @MQTT-4.3.3-2 @v3.1 @v3.1.1
  Scenario: The server acknowledges QoS 2 and delivers it once, however often it is resent
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=9 payload=1
    Then "pub" receives PUBREC id=9
    When "pub" sends PUBLISH topic=x qos=2 id=9 dup=1 payload=1
    Then "pub" receives PUBREC id=9
    When "pub" sends PUBLISH topic=x qos=2 id=9 dup=1 payload=1
    Then "pub" receives PUBREC id=9
    When "pub" sends PUBREL id=9
    Then "pub" receives PUBCOMP id=9
    # the server may pass the message on at its PUBLISH or at its PUBREL (4.3.3, Method A or
    # B): either way the subscriber has it now, once, and nothing more came
    And "sub" receives PUBLISH payload=1 id=$p
    And "sub" is still connected
    # after PUBCOMP the identifier starts a new message
    When "pub" sends PUBLISH topic=x qos=2 id=9 payload=2
    Then "pub" receives PUBREC id=9
    When "pub" sends PUBREL id=9
    Then "pub" receives PUBCOMP id=9
    And "sub" receives PUBLISH payload=2

  # -------------------------------------------------------------------------------------------
  # QoS 1, MQTT 5.0
  # -------------------------------------------------------------------------------------------

  @MQTT-4.3.2-1 @v5
  Scenario: The 5.0 server gives each new QoS 1 message an unused identifier
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=1 id=2 payload=2
    And "pub" sends PUBLISH topic=x qos=1 id=3 payload=3
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    And "sub" receives PUBLISH payload=3 id=$c
    # acknowledging $b acknowledges message 2 only: the identifiers differ
    When "sub" sends PUBACK id=$b
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH dup=1 payload=1 id=$a
    And "sub" receives PUBLISH dup=1 payload=3 id=$c
    # a new message while those two are in flight takes neither of their identifiers
    When "pub" sends PUBLISH topic=x qos=1 id=4 payload=4
    Then "sub" receives PUBLISH dup=0 payload=4 id=$d
    When "sub" sends PUBACK id=$d
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH dup=1 payload=1 id=$a
    And "sub" receives PUBLISH dup=1 payload=3 id=$c
    And "sub" is still connected

  @MQTT-4.3.2-2 @v5
  Scenario: The 5.0 server sends a new QoS 1 message with its identifier, QoS 1 and DUP 0
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 dup=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 dup=1 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH qos=1 dup=0 payload=1 id=$a
    And "sub" receives PUBLISH qos=1 dup=0 payload=2 id=$b
    When "sub" sends PUBACK id=$a
    And "sub" sends PUBACK id=$b
    Then "sub" is still connected

  @MQTT-4.3.2-3 @v5
  Scenario: The 5.0 server holds a QoS 1 message as unacknowledged until its PUBACK
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    Then "sub" receives PUBLISH payload=1 id=$a
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH dup=1 payload=1 id=$a
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH dup=1 payload=1 id=$a
    When "sub" sends PUBACK id=$a
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" is still connected

  @MQTT-4.3.2-4 @v5
  Scenario: The 5.0 server answers a QoS 1 PUBLISH with a PUBACK carrying its identifier
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=0x0102 payload=1
    Then "pub" receives PUBACK id=0x0102 reason=0x00
    And "sub" receives PUBLISH payload=1
    When "pub" sends PUBLISH topic=nobody qos=1 id=0xfffe payload=2
    Then "pub" receives PUBACK id=0xfffe

  @MQTT-4.3.2-5 @v5
  Scenario: After its PUBACK the 5.0 server takes the identifier as a new message, DUP or not
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=5 payload=1
    Then "pub" receives PUBACK id=5
    And "sub" receives PUBLISH payload=1
    When "pub" sends PUBLISH topic=x qos=1 id=5 dup=1 payload=2
    Then "pub" receives PUBACK id=5
    And "sub" receives PUBLISH payload=2 dup=0
    When "pub" sends PUBLISH topic=x qos=1 id=5 dup=1 payload=2
    Then "pub" receives PUBACK id=5
    And "sub" receives PUBLISH payload=2 dup=0

  # -------------------------------------------------------------------------------------------
  # QoS 2, MQTT 5.0: the server as sender
  # -------------------------------------------------------------------------------------------

  @MQTT-4.3.3-1 @v5
  Scenario: The 5.0 server gives concurrent QoS 2 messages distinct identifiers
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBREC id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    When "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$b
    When "sub" sends PUBCOMP id=$b
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH dup=1 payload=1 id=$a
    And "sub" is still connected

  @MQTT-4.3.3-2 @v5
  Scenario: The 5.0 server sends a new QoS 2 message with its identifier, QoS 2 and DUP 0
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 dup=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH qos=2 dup=0 payload=1 id=$p
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p

  @MQTT-4.3.3-3 @v5
  Scenario: The 5.0 server holds a QoS 2 PUBLISH as unacknowledged until its PUBREC
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH payload=1 id=$p
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH qos=2 dup=1 payload=1 id=$p
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH qos=2 dup=1 payload=1 id=$p
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p

  @MQTT-4.3.3-4 @v5
  Scenario: On a successful PUBREC the 5.0 server sends PUBREL with the original identifier
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBREC id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    When "sub" sends PUBREC id=$b reason=0x00
    Then "sub" receives PUBREL id=$b
    When "sub" sends PUBREC id=$a reason=0x00
    Then "sub" receives PUBREL id=$a

  @MQTT-4.3.3-5 @v5
  Scenario: The 5.0 server holds its PUBREL as unacknowledged until PUBCOMP
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH payload=1 id=$p
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBREL id=$p
    When "sub" sends PUBCOMP id=$p
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" is still connected

  @MQTT-4.3.3-6 @v5
  Scenario: Once it has sent PUBREL the 5.0 server never sends the PUBLISH again
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH payload=1 id=$p
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p
    And "sub" is still connected
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    # only the PUBREL, and the PINGRESP right after it: no PUBLISH
    Then "sub" receives PUBREL id=$p
    And "sub" is still connected

  @MQTT-4.3.3-7 @v5
  Scenario: A QoS 2 message already sent is resent after its expiry interval has passed
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1 message_expiry_interval=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH qos=2 payload=1 id=$p
    When "sub" closes the connection
    And 2 seconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH qos=2 dup=1 payload=1 id=$p
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p

  @MQTT-4.3.3-7 @v5
  Scenario: A QoS 2 message whose expiry interval passes in flight is still released
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1 message_expiry_interval=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH qos=2 payload=1 id=$p
    When 2 seconds pass
    And "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p reason=0x00

  # -------------------------------------------------------------------------------------------
  # QoS 2, MQTT 5.0: the server as receiver
  # -------------------------------------------------------------------------------------------

  @MQTT-4.3.3-8 @v5
  Scenario: The 5.0 server answers a QoS 2 PUBLISH with a PUBREC carrying its identifier
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=0x0201 payload=1
    Then "pub" receives PUBREC id=0x0201 reason=0x00
    When "pub" sends PUBREL id=0x0201
    Then "pub" receives PUBCOMP id=0x0201
    And "sub" receives PUBLISH payload=1
    When "pub" sends PUBLISH topic=x qos=2 id=0x0202 payload=2
    Then "pub" receives PUBREC id=0x0202 reason=0x00
    When "pub" sends PUBREL id=0x0202
    Then "pub" receives PUBCOMP id=0x0202
    And "sub" receives PUBLISH payload=2

  @MQTT-4.3.3-9 @v5
  Scenario: After a PUBREC with an error code the identifier starts a new message
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    # a payload that says it is UTF-8 and is not: Tern refuses it with PUBREC 0x99
    When "pub" sends PUBLISH topic=x qos=2 id=4 payload_format_indicator=1 payload=hex:ff
    Then "pub" receives PUBREC id=4 reason=0x99
    # not awaiting PUBREL: the same identifier is a new message, delivered
    When "pub" sends PUBLISH topic=x qos=2 id=4 payload=ok
    Then "pub" receives PUBREC id=4 reason=0x00
    When "pub" sends PUBREL id=4
    Then "pub" receives PUBCOMP id=4 reason=0x00
    And "sub" receives PUBLISH payload=ok

  @MQTT-4.3.3-10 @v5
  Scenario: Until PUBREL the 5.0 server acknowledges a resent PUBLISH and does not deliver it again
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=9 payload=1
    Then "pub" receives PUBREC id=9
    When "pub" sends PUBLISH topic=x qos=2 id=9 dup=1 payload=1
    Then "pub" receives PUBREC id=9
    When "pub" sends PUBLISH topic=x qos=2 id=9 dup=1 payload=1
    Then "pub" receives PUBREC id=9
    # the server may pass the message on at its PUBLISH or only at its PUBREL (4.3.3): after
    # PUBCOMP the subscriber has it either way, once, and nothing more came
    When "pub" sends PUBREL id=9
    Then "pub" receives PUBCOMP id=9
    And "sub" receives PUBLISH payload=1 id=$p
    And "sub" is still connected

  @MQTT-4.3.3-11 @v5
  Scenario: The 5.0 server answers PUBREL with a PUBCOMP carrying the same identifier
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=0x0a0b payload=1
    Then "pub" receives PUBREC id=0x0a0b
    When "pub" sends PUBLISH topic=x qos=2 id=0x0c0d payload=2
    Then "pub" receives PUBREC id=0x0c0d
    When "pub" sends PUBREL id=0x0c0d
    Then "pub" receives PUBCOMP id=0x0c0d reason=0x00
    When "pub" sends PUBREL id=0x0a0b
    Then "pub" receives PUBCOMP id=0x0a0b reason=0x00

  @MQTT-4.3.3-12 @v5
  Scenario: After its PUBCOMP the 5.0 server takes the identifier as a new message
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=9 payload=1
    Then "pub" receives PUBREC id=9
    When "pub" sends PUBREL id=9
    Then "pub" receives PUBCOMP id=9
    And "sub" receives PUBLISH payload=1
    When "pub" sends PUBLISH topic=x qos=2 id=9 payload=1
    Then "pub" receives PUBREC id=9
    When "pub" sends PUBREL id=9
    Then "pub" receives PUBCOMP id=9
    And "sub" receives PUBLISH payload=1 dup=0

  @MQTT-4.3.3-13 @v5
  Scenario: The 5.0 server completes the QoS 2 flow of a message that has expired
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=3 payload=1 message_expiry_interval=1
    Then "pub" receives PUBREC id=3
    When 2 seconds pass
    And "pub" sends PUBLISH topic=x qos=2 id=3 dup=1 payload=1 message_expiry_interval=1
    Then "pub" receives PUBREC id=3
    When "pub" sends PUBREL id=3
    Then "pub" receives PUBCOMP id=3 reason=0x00

  # -------------------------------------------------------------------------------------------
  # Message receipt (4.5.0-1 says the same in both catalogs)
  # -------------------------------------------------------------------------------------------

  @MQTT-4.5.0-1 @v3.1 @v3.1.1 @v5
  Scenario: A message goes to every client with a matching subscription, and to no other
    Given client "exact" is connected
    And "exact" sends SUBSCRIBE id=1 filter=a/b qos=0
    And "exact" receives SUBACK id=1 reasons=0x00
    And client "plus" is connected
    And "plus" sends SUBSCRIBE id=1 filter=a/+ qos=1
    And "plus" receives SUBACK id=1 reasons=0x01
    And client "hash" is connected
    And "hash" sends SUBSCRIBE id=1 filter=# qos=2
    And "hash" receives SUBACK id=1 reasons=0x02
    And client "other" is connected
    And "other" sends SUBSCRIBE id=1 filter=a/c qos=2
    And "other" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=1
    Then "pub" receives PUBREC id=1
    # released before a/c is published, so that every subscriber has a/b first (a server may
    # pass a QoS 2 message on only at its PUBREL, section 4.3.3)
    When "pub" sends PUBREL id=1
    Then "pub" receives PUBCOMP id=1
    When "pub" sends PUBLISH topic=a/c qos=0 payload=2
    Then "exact" receives PUBLISH topic=a/b qos=0 payload=1
    And "plus" receives PUBLISH topic=a/b qos=1 payload=1
    And "hash" receives PUBLISH topic=a/b qos=2 payload=1
    And "other" receives PUBLISH topic=a/c payload=2
    And "exact" is still connected

  @MQTT-4.5.0-1 @v3.1 @v3.1.1
  Scenario: A message is added to the session of a subscriber that is not connected
    Given client "away" is connected with clean_session=0
    And "away" sends SUBSCRIBE id=1 filter=a/# qos=1
    And "away" receives SUBACK id=1 reasons=0x01
    And "away" closes the connection
    And client "here" is connected
    And "here" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "here" receives SUBACK id=1 reasons=0x01
    And 200 milliseconds pass
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=1
    Then "pub" receives PUBACK id=1
    And "here" receives PUBLISH topic=a/b payload=1
    When client "away" is connected with clean_session=0
    Then "away" receives PUBLISH topic=a/b payload=1

  @MQTT-4.5.0-1 @v5
  Scenario: A 5.0 message is added to the session of a subscriber that is not connected
    Given client "away" is connected with clean_start=0 session_expiry_interval=60
    And "away" sends SUBSCRIBE id=1 filter=a/# qos=1
    And "away" receives SUBACK id=1 reasons=0x01
    And "away" closes the connection
    And client "here" is connected
    And "here" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "here" receives SUBACK id=1 reasons=0x01
    And 200 milliseconds pass
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=1
    Then "pub" receives PUBACK id=1
    And "here" receives PUBLISH topic=a/b payload=1
    When client "away" is connected with clean_start=0 session_expiry_interval=60
    Then "away" receives PUBLISH topic=a/b payload=1
