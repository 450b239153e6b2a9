Feature: Flow control (section 4.9)
  Towards a 5.0 client the server starts with a send quota of at least 1 and at most the
  client's Receive Maximum, spends one per QoS 1 or QoS 2 PUBLISH, sends no QoS 1 or QoS 2
  PUBLISH while the quota is zero, gets one back per PUBACK, PUBCOMP or PUBREC with an error
  code, and meanwhile keeps answering every other packet. A publisher's acknowledgement shows
  that the server has routed its message, so a PINGRESP that arrives first at the subscriber
  ("is still connected") shows that the message was held back.

  @MQTT-4.9.0-1 @v5
  Scenario: The initial send quota is not zero
    Given client "sub" is connected with receive_maximum=1
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH qos=2 payload=1

  @MQTT-4.9.0-1 @v5
  Scenario: The initial send quota does not exceed the client's Receive Maximum
    Given client "sub" is connected with receive_maximum=3
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=1 id=2 payload=2
    And "pub" sends PUBLISH topic=x qos=1 id=3 payload=3
    And "pub" sends PUBLISH topic=x qos=1 id=4 payload=4
    And "pub" sends PUBLISH topic=x qos=1 id=5 payload=5
    And "pub" receives PUBACK id=1
    And "pub" receives PUBACK id=2
    And "pub" receives PUBACK id=3
    And "pub" receives PUBACK id=4
    And "pub" receives PUBACK id=5
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2
    And "sub" receives PUBLISH payload=3
    And "sub" is still connected
    When "sub" sends PUBACK id=$a
    Then "sub" receives PUBLISH payload=4
    And "sub" is still connected

  @MQTT-4.9.0-1 @v5
  Scenario: The send quota is set anew on each connection
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60 receive_maximum=2
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=1 id=2 payload=2
    And "pub" sends PUBLISH topic=x qos=1 id=3 payload=3
    And "pub" receives PUBACK id=1
    And "pub" receives PUBACK id=2
    And "pub" receives PUBACK id=3
    Then "sub" receives PUBLISH payload=1
    And "sub" receives PUBLISH payload=2
    And "sub" is still connected
    # back with a Receive Maximum of 1: one message in flight at a time
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60 receive_maximum=1
    Then "sub" receives PUBLISH dup=1 payload=1 id=$a
    And "sub" is still connected
    When "sub" sends PUBACK id=$a
    Then "sub" receives PUBLISH dup=1 payload=2 id=$b
    And "sub" is still connected
    When "sub" sends PUBACK id=$b
    Then "sub" receives PUBLISH dup=0 payload=3

  @MQTT-4.9.0-2 @v5
  Scenario: At a zero send quota no QoS 1 PUBLISH is sent until a PUBACK
    Given client "sub" is connected with receive_maximum=1
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=1 id=2 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBACK id=2
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" is still connected
    # a PUBACK with an error code gives the quota back too
    When "sub" sends PUBACK id=$a reason=0x80
    Then "sub" receives PUBLISH payload=2 id=$b
    And "sub" is still connected

  @MQTT-4.9.0-2 @v5
  Scenario: At a zero send quota no QoS 2 PUBLISH is sent until the PUBCOMP
    Given client "sub" is connected with receive_maximum=1
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
    And "sub" is still connected
    # PUBREC 0x00 does not give the quota back: the flow is not over
    When "sub" sends PUBREC id=$a
    Then "sub" receives PUBREL id=$a
    And "sub" is still connected
    When "sub" sends PUBCOMP id=$a
    Then "sub" receives PUBLISH payload=2

  @MQTT-4.9.0-2 @v5
  Scenario: A PUBREC with an error code gives the send quota back
    Given client "sub" is connected with receive_maximum=1
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
    And "sub" is still connected
    When "sub" sends PUBREC id=$a reason=0x80
    Then "sub" receives PUBLISH payload=2

  @MQTT-4.9.0-2 @v5
  Scenario: QoS 1 and QoS 2 messages share one send quota
    Given client "sub" is connected with receive_maximum=2
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    # each message is complete before the next, so that they are routed in this order whether
    # the server passes a QoS 2 message on at its PUBLISH or at its PUBREL (4.3.3)
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    And "pub" sends PUBLISH topic=x qos=1 id=3 payload=3
    And "pub" receives PUBACK id=3
    Then "sub" receives PUBLISH qos=1 payload=1 id=$a
    And "sub" receives PUBLISH qos=2 payload=2 id=$b
    And "sub" is still connected
    When "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$b
    And "sub" is still connected
    When "sub" sends PUBACK id=$a
    Then "sub" receives PUBLISH qos=1 payload=3

  @MQTT-4.9.0-3 @v5
  Scenario: At a zero send quota the server still answers every other packet
    Given client "sub" is connected with receive_maximum=1
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    And "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=1 id=2 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBACK id=2
    And "sub" receives PUBLISH payload=1 id=$a
    # the quota is zero now
    When "sub" sends PINGREQ
    Then "sub" receives PINGRESP
    When "sub" sends SUBSCRIBE id=2 filter=y qos=2
    Then "sub" receives SUBACK id=2 reasons=0x02
    When "sub" sends UNSUBSCRIBE id=3 filter=y
    Then "sub" receives UNSUBACK id=3 reasons=0x00
    When "sub" sends PUBLISH topic=z qos=1 id=4 payload=own
    Then "sub" receives PUBACK id=4
    When "sub" sends PUBLISH topic=z qos=2 id=5 payload=own
    Then "sub" receives PUBREC id=5
    When "sub" sends PUBREL id=5
    Then "sub" receives PUBCOMP id=5
    And "sub" is still connected
    When "sub" sends PUBACK id=$a
    Then "sub" receives PUBLISH payload=2

  @MQTT-4.9.0-3 @v5
  Scenario: At a zero send quota the server still answers the QoS 2 flow in flight
    Given client "sub" is connected with receive_maximum=1
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    And "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBREC id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    And "sub" receives PUBLISH payload=1 id=$a
    When "sub" sends PUBREC id=$a
    Then "sub" receives PUBREL id=$a
    # the quota is still zero until the PUBCOMP: a SUBSCRIBE is answered all the same
    When "sub" sends SUBSCRIBE id=2 filter=y qos=1
    Then "sub" receives SUBACK id=2 reasons=0x01
    When "sub" sends PUBCOMP id=$a
    Then "sub" receives PUBLISH payload=2
