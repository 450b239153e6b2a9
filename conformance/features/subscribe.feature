Feature: SUBSCRIBE and SUBACK (sections 3.8 and 3.9)

  # ---------------------------------------------------------------------------------------
  # The fixed header: flags 0010 [MQTT-3.8.1-1]
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-3.8.1-1
  Scenario: SUBSCRIBE with fixed-header flags 0000 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 80 * 0001 f"x" 00
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-3.8.1-1
  Scenario: SUBSCRIBE with fixed-header flags 0011 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 83 * 0001 f"x" 00
    Then "a" is disconnected

  @v5 @MQTT-3.8.1-1
  Scenario: 5.0 SUBSCRIBE with fixed-header flags 0000 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 80 * 0001 00 f"x" 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @v5 @MQTT-3.8.1-1
  Scenario: 5.0 SUBSCRIBE with fixed-header flags 1010 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 8a * 0001 00 f"x" 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  # ---------------------------------------------------------------------------------------
  # The payload: at least one filter, reserved bits of the options byte
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-3.8.3-3 @MQTT-4.8.0-1
  Scenario: SUBSCRIBE with no Topic Filter is a protocol violation and closes the connection
    Given client "a" is connected
    When "a" sends raw 82 02 0001
    Then "a" is disconnected

  @v5 @MQTT-3.8.3-2
  Scenario: 5.0 SUBSCRIBE with no Topic Filter is a Protocol Error and closes the connection
    Given client "a" is connected
    When "a" sends raw 82 03 0001 00
    # the close is required (4.13.1); the DISCONNECT before it is a SHOULD, and 0x82 (Protocol
    # Error) and 0x81 (Malformed Packet) both describe a packet without its required payload
    Then "a" is disconnected, perhaps after one of:
      """
      DISCONNECT reason=0x82
      DISCONNECT reason=0x81
      """

  @v3.1 @v3.1.1 @MQTT-3.8.3-4
  Scenario: A reserved bit set in the Requested QoS byte is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 f"x" 04
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-3.8.3-4
  Scenario: The top reserved bit set in the Requested QoS byte is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 f"x" 81
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-3.8.3-4
  Scenario: Requested QoS 3 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 f"x" 03
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-3.8.3-4
  Scenario: A reserved bit in the second filter's QoS byte closes the connection without a SUBACK
    Given client "a" is connected
    When "a" sends raw 82 * 0001 f"x" 00 f"y" 10
    Then "a" is disconnected

  @v5 @MQTT-3.8.3-5
  Scenario: Reserved bit 6 of the Subscription Options is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 f"x" 40
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @v5 @MQTT-3.8.3-5
  Scenario: Reserved bit 7 of the Subscription Options is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 f"x" 81
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @v3.1 @v3.1.1 @MQTT-3.8.3-1
  Scenario: A Topic Filter that is not well-formed UTF-8 closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 0003 61ff62 00
    Then "a" is disconnected

  @v5 @MQTT-3.8.3-1
  Scenario: 5.0 a Topic Filter that is not well-formed UTF-8 closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 0003 61ff62 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  # ---------------------------------------------------------------------------------------
  # No Local [MQTT-3.8.3-3] (5.0)
  # ---------------------------------------------------------------------------------------

  @v5 @MQTT-3.8.3-3
  Scenario: With No Local a client's own messages are not forwarded to it
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=1 no_local=1 filter=y qos=0
    Then "a" receives SUBACK id=1 reasons=0x01,0x00
    When "b" sends SUBSCRIBE id=1 filter=x qos=0
    Then "b" receives SUBACK id=1 reasons=0x00
    When "a" sends PUBLISH topic=x qos=1 id=7 payload=own
    Then "a" receives PUBACK id=7
    And "b" receives PUBLISH topic=x payload=own
    When "a" sends PUBLISH topic=y payload=sentinel
    Then "a" receives PUBLISH topic=y payload=sentinel
    And "a" is still connected

  @v5 @MQTT-3.8.3-3
  Scenario: No Local does not hold back messages from other clients
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=0 no_local=1
    Then "a" receives SUBACK id=1 reasons=0x00
    When "b" sends PUBLISH topic=x payload=other
    Then "a" receives PUBLISH topic=x payload=other

  @v5 @MQTT-3.8.3-3
  Scenario: No Local follows the ClientID to a new connection of the same session
    Given client "a" is connected with session_expiry_interval=60
    When "a" sends SUBSCRIBE id=1 filter=x qos=0 no_local=1 filter=y qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00
    When "a" closes the connection
    And 100 milliseconds pass
    And client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends PUBLISH topic=x payload=own
    And "a" sends PUBLISH topic=y payload=sentinel
    Then "a" receives PUBLISH topic=y payload=sentinel
    And "a" is still connected

  # ---------------------------------------------------------------------------------------
  # A server without wildcard subscriptions refuses them [MQTT-3.8.3-2] (3.1.1)
  # ---------------------------------------------------------------------------------------

  @v3.1.1 @needs-config @MQTT-3.8.3-2
  Scenario: A server without wildcard subscriptions refuses every filter with a wildcard
    Given the broker is configured with mqtt.wildcard_subscriptions = false
    And client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=a/+ qos=0 filter=a/# qos=0 filter=a/b qos=0 filter=+/b qos=0
    Then "a" receives SUBACK id=1 reasons=0x80,0x80,0x00,0x80
    When "b" sends PUBLISH topic=a/c payload=wild
    And "b" sends PUBLISH topic=a/b payload=exact
    Then "a" receives PUBLISH topic=a/b payload=exact
    And "a" is still connected

  @v3.1 @needs-config @MQTT-3.8.3-2
  Scenario: A 3.1 server without wildcard subscriptions refuses one by closing the connection
    Given the broker is configured with mqtt.wildcard_subscriptions = false
    And client "a" is connected
    When "a" sends SUBSCRIBE id=1 filter=a/+ qos=0
    Then "a" is disconnected

  # ---------------------------------------------------------------------------------------
  # Every SUBSCRIBE gets a SUBACK with its Packet Identifier
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-3.8.4-1 @MQTT-3.8.4-2
  Scenario: Every SUBSCRIBE is answered by a SUBACK with the same Packet Identifier
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=4660 filter=x qos=0
    Then "a" receives SUBACK id=4660 reasons=0x00
    When "a" sends SUBSCRIBE id=65535 filter=y qos=1
    Then "a" receives SUBACK id=65535
    When "a" sends SUBSCRIBE id=1 filter=x qos=0
    Then "a" receives SUBACK id=1 reasons=0x00
    When "a" sends SUBSCRIBE id=258 filter=z qos=0
    And "a" sends SUBSCRIBE id=259 filter=z/+ qos=0
    Then "a" receives SUBACK id=258 reasons=0x00
    And "a" receives SUBACK id=259 reasons=0x00

  @v3.1 @v3.1.1 @v5 @MQTT-3.8.4-1 @MQTT-3.8.4-2
  Scenario: SUBACK carries the Packet Identifier of a SUBSCRIBE sent in pieces
    Given client "a" is connected
    When "a" sends, 1 byte at a time, SUBSCRIBE id=513 filter=a/b qos=1 filter=c/# qos=0
    Then "a" receives SUBACK id=513

  @v3.1.1 @v5 @needs-config @MQTT-3.8.4-1 @MQTT-3.8.4-2
  Scenario: A SUBSCRIBE whose only filter is refused still gets a SUBACK with its Packet Identifier
    Given the broker is configured with mqtt.deny_subscriptions = ["denied"]
    And client "a" is connected
    When "a" sends SUBSCRIBE id=99 filter=@denied qos=1
    Then "a" receives SUBACK id=99
    And "a" is still connected

  # ---------------------------------------------------------------------------------------
  # Replacing an existing subscription [MQTT-3.8.4-3] (5.0 also [MQTT-3.8.4-4])
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-3.8.4-3
  Scenario: Subscribing again to an identical filter replaces the subscription and re-sends retained messages
    Given client "a" is connected
    And client "b" is connected
    When "b" sends PUBLISH topic=x retain=1 payload=kept
    And "b" is still connected
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    Then "a" receives, in any order:
      """
      SUBACK id=1 reasons=0x01
      PUBLISH topic=x retain=1 payload=kept
      """
    When "a" sends SUBSCRIBE id=2 filter=x qos=0
    Then "a" receives, in any order:
      """
      SUBACK id=2 reasons=0x00
      PUBLISH topic=x retain=1 qos=0 payload=kept
      """
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=after
    Then "b" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=0 retain=0 payload=after
    And "a" is still connected

  @v3.1 @v3.1.1 @v5 @MQTT-3.8.4-3
  Scenario: Replacing a subscription raises its QoS for later messages
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x/+ qos=0
    Then "a" receives SUBACK id=1 reasons=0x00
    When "b" sends PUBLISH topic=x/1 qos=1 id=1 payload=low
    Then "a" receives PUBLISH topic=x/1 qos=0 payload=low
    When "a" sends SUBSCRIBE id=2 filter=x/+ qos=1
    Then "a" receives SUBACK id=2 reasons=0x01
    When "b" sends PUBLISH topic=x/1 qos=1 id=2 payload=high
    Then "a" receives PUBLISH topic=x/1 qos=1 payload=high
    And "a" is still connected

  @v3.1 @v3.1.1 @v5 @MQTT-3.8.4-3
  Scenario: Messages in flight when a subscription is replaced are not interrupted
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=2
    Then "a" receives SUBACK id=1 reasons=0x02
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=one
    Then "b" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=1 id=$one payload=one
    When "b" sends PUBLISH topic=x qos=2 id=2 payload=two
    Then "b" receives PUBREC id=2
    When "b" sends PUBREL id=2
    Then "b" receives PUBCOMP id=2
    And "a" receives PUBLISH topic=x qos=2 id=$two payload=two
    When "a" sends SUBSCRIBE id=2 filter=x qos=2
    Then "a" receives SUBACK id=2 reasons=0x02
    When "a" sends PUBACK id=$one
    And "a" sends PUBREC id=$two
    Then "a" receives PUBREL id=$two
    When "a" sends PUBCOMP id=$two
    And "b" sends PUBLISH topic=x qos=1 id=3 payload=three
    Then "a" receives PUBLISH topic=x qos=1 payload=three
    And "a" is still connected

  @v5 @MQTT-3.8.4-3 @MQTT-3.8.4-4
  Scenario: 5.0 replacing a subscription with Retain Handling 0 re-sends retained messages and loses none
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=1 no_local=1
    Then "a" receives SUBACK id=1 reasons=0x01
    When "b" sends PUBLISH topic=x qos=1 id=1 retain=1 payload=kept
    Then "b" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=1 retain=0 id=$kept payload=kept
    When "b" sends PUBLISH topic=x qos=1 id=2 payload=before
    Then "a" receives PUBLISH topic=x qos=1 id=$before payload=before
    When "a" sends SUBSCRIBE id=2 filter=x qos=1 retain_handling=0
    Then "a" receives, in any order:
      """
      SUBACK id=2 reasons=0x01
      PUBLISH topic=x retain=1 payload=kept
      """
    When "b" sends PUBLISH topic=x qos=1 id=3 payload=after
    Then "a" receives PUBLISH topic=x qos=1 payload=after
    When "a" sends PUBLISH topic=x payload=mine
    Then "a" receives PUBLISH topic=x payload=mine
    And "a" is still connected

  # ---------------------------------------------------------------------------------------
  # Several filters in one SUBSCRIBE, one SUBACK
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-3.8.4-4
  Scenario: Several filters in one SUBSCRIBE are handled as separate SUBSCRIBEs under one SUBACK
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=3 filter=x qos=2 filter=y qos=1 filter=x qos=0
    Then "a" receives SUBACK id=3 reasons=0x02,0x01,0x00
    And "a" is still connected
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=one
    Then "a" receives PUBLISH topic=x qos=0 payload=one
    When "b" sends PUBLISH topic=y qos=1 id=2 payload=two
    Then "a" receives PUBLISH topic=y qos=1 payload=two
    And "a" is still connected

  @v5 @MQTT-3.8.4-5
  Scenario: 5.0 several filters in one SUBSCRIBE are handled as separate SUBSCRIBEs under one SUBACK
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=3 filter=x qos=2 filter=y qos=1 filter=x qos=0
    Then "a" receives SUBACK id=3 reasons=0x02,0x01,0x00
    And "a" is still connected
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=one
    Then "a" receives PUBLISH topic=x qos=0 payload=one
    When "b" sends PUBLISH topic=y qos=1 id=2 payload=two
    Then "a" receives PUBLISH topic=y qos=1 payload=two
    And "a" is still connected

  # ---------------------------------------------------------------------------------------
  # Return codes: one per filter, in order, granted QoS or failure
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-3.9.3-1
  Scenario: SUBACK return codes follow the order of the Topic Filters
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=1 filter=a qos=1 filter=b qos=0 filter=c qos=2 filter=d qos=0 filter=e qos=1
    Then "a" receives SUBACK id=1 reasons=0x01,0x00,0x02,0x00,0x01

  @v3.1.1 @needs-config @MQTT-3.8.4-5 @MQTT-3.9.3-1 @MQTT-3.9.3-2
  Scenario: One return code per filter gives the granted QoS or 0x80 Failure, in order
    Given the broker is configured with mqtt.deny_subscriptions = ["denied"]
    And client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=2 filter=@denied qos=1 filter=y qos=0 filter=z qos=1
    Then "a" receives raw 90 06 0001 02 80 00 01
    When "b" sends PUBLISH topic=x qos=2 id=1 payload=two
    Then "b" receives PUBREC id=1
    When "b" sends PUBREL id=1
    Then "b" receives PUBCOMP id=1
    When "b" sends PUBLISH topic=y qos=2 id=2 payload=zero
    Then "b" receives PUBREC id=2
    When "b" sends PUBREL id=2
    Then "b" receives PUBCOMP id=2
    When "b" sends PUBLISH topic=z qos=2 id=3 payload=one
    Then "b" receives PUBREC id=3
    When "b" sends PUBREL id=3
    Then "b" receives PUBCOMP id=3
    And "a" receives, in any order:
      """
      PUBLISH topic=x qos=2 payload=two
      PUBLISH topic=y qos=0 payload=zero
      PUBLISH topic=z qos=1 payload=one
      """

  @v5 @needs-config @MQTT-3.8.4-6 @MQTT-3.8.4-7 @MQTT-3.9.3-1 @MQTT-3.9.3-2
  Scenario: 5.0 one Reason Code per filter gives the granted QoS or a failure, in order
    Given the broker is configured with mqtt.deny_subscriptions = ["denied"]
    And client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=2 filter=@denied qos=1 filter=y qos=0 filter=z qos=1
    Then "a" receives raw 90 07 0001 00 02 87 00 01
    When "b" sends PUBLISH topic=x qos=2 id=1 payload=two
    Then "b" receives PUBREC id=1
    When "b" sends PUBREL id=1
    Then "b" receives PUBCOMP id=1
    When "b" sends PUBLISH topic=y qos=2 id=2 payload=zero
    Then "b" receives PUBREC id=2
    When "b" sends PUBREL id=2
    Then "b" receives PUBCOMP id=2
    When "b" sends PUBLISH topic=z qos=2 id=3 payload=one
    Then "b" receives PUBREC id=3
    When "b" sends PUBREL id=3
    Then "b" receives PUBCOMP id=3
    And "a" receives, in any order:
      """
      PUBLISH topic=x qos=2 payload=two
      PUBLISH topic=y qos=0 payload=zero
      PUBLISH topic=z qos=1 payload=one
      """

  @v5 @needs-config @MQTT-3.8.4-7 @MQTT-3.8.4-8
  Scenario: 5.0 a QoS the server grants below the requested one caps later deliveries
    Given the broker is configured with mqtt.maximum_qos = 1
    And client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=2
    Then "a" receives SUBACK id=1 reasons=$granted
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=m
    Then "a" receives PUBLISH topic=x qos=$granted payload=m

  # ---------------------------------------------------------------------------------------
  # Delivered QoS is the lower of the published and the granted QoS
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-3.8.4-6
  Scenario: Messages are delivered at the lower of the published QoS and the granted QoS
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=zero qos=0 filter=one qos=1 filter=two qos=2
    Then "a" receives SUBACK id=1 reasons=0x00,0x01,0x02
    When "b" sends PUBLISH topic=zero qos=2 id=1 payload=a
    Then "b" receives PUBREC id=1
    When "b" sends PUBREL id=1
    Then "b" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=zero qos=0 payload=a
    When "b" sends PUBLISH topic=one qos=2 id=2 payload=b
    Then "b" receives PUBREC id=2
    When "b" sends PUBREL id=2
    Then "b" receives PUBCOMP id=2
    And "a" receives PUBLISH topic=one qos=1 payload=b
    When "b" sends PUBLISH topic=one qos=0 payload=c
    Then "a" receives PUBLISH topic=one qos=0 payload=c
    When "b" sends PUBLISH topic=two qos=1 id=3 payload=d
    Then "a" receives PUBLISH topic=two qos=1 payload=d
    When "b" sends PUBLISH topic=zero qos=1 id=4 payload=e
    Then "a" receives PUBLISH topic=zero qos=0 payload=e
    And "a" is still connected

  @v5 @MQTT-3.8.4-8
  Scenario: 5.0 messages are delivered at the lower of the published QoS and the granted QoS
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=zero qos=0 filter=one qos=1 filter=two qos=2
    Then "a" receives SUBACK id=1 reasons=0x00,0x01,0x02
    When "b" sends PUBLISH topic=zero qos=2 id=1 payload=a
    Then "b" receives PUBREC id=1
    When "b" sends PUBREL id=1
    Then "b" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=zero qos=0 payload=a
    When "b" sends PUBLISH topic=one qos=2 id=2 payload=b
    Then "b" receives PUBREC id=2
    When "b" sends PUBREL id=2
    Then "b" receives PUBCOMP id=2
    And "a" receives PUBLISH topic=one qos=1 payload=b
    When "b" sends PUBLISH topic=one qos=0 payload=c
    Then "a" receives PUBLISH topic=one qos=0 payload=c
    When "b" sends PUBLISH topic=two qos=1 id=3 payload=d
    Then "a" receives PUBLISH topic=two qos=1 payload=d
    When "b" sends PUBLISH topic=zero qos=1 id=4 payload=e
    Then "a" receives PUBLISH topic=zero qos=0 payload=e
    And "a" is still connected

  @v3.1.1 @needs-config @MQTT-3.8.4-5 @MQTT-3.8.4-6
  Scenario: A QoS the server grants below the requested one caps later deliveries
    Given the broker is configured with mqtt.maximum_qos = 1
    And client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=2
    Then "a" receives SUBACK id=1 reasons=$granted
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=m
    Then "a" receives PUBLISH topic=x qos=$granted payload=m

  # ---------------------------------------------------------------------------------------
  # SUBACK properties within the client's Maximum Packet Size (5.0)
  # ---------------------------------------------------------------------------------------

  @v5 @needs-config @MQTT-3.9.2-1 @MQTT-3.9.2-2
  Scenario: A SUBACK as large as the client's Maximum Packet Size carries no Reason String or User Property
    Given the broker is configured with mqtt.deny_subscriptions = ["denied"]
    And client "a" is connected with maximum_packet_size=16
    When "a" sends SUBSCRIBE id=1 filter=a qos=0 filter=b qos=0 filter=c qos=0 filter=d qos=0 filter=e qos=0 filter=f qos=0 filter=g qos=0 filter=h qos=0 filter=i qos=0 filter=j qos=0 filter=@denied qos=0
    Then "a" receives raw 90 0e 0001 00 00 00 00 00 00 00 00 00 00 00 87
    And "a" is still connected
