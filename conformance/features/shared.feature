Feature: Shared Subscriptions (section 4.8.2 of MQTT 5.0)

  @v5 @needs-shared-subscriptions @MQTT-3.8.3-4
  Scenario: No Local on a Shared Subscription is a Protocol Error that closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 05
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82

  @v5 @needs-shared-subscriptions @MQTT-3.8.3-4
  Scenario: No Local on a Shared Subscription after a valid filter closes the connection without a SUBACK
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 f"y" 00 f"$share/g/x" 04
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82

  @v5 @needs-shared-subscriptions @MQTT-4.8.2-3
  Scenario: A Shared Subscription delivers at the QoS granted to the receiving client
    Given client "a" is connected
    And client "b" is connected
    And client "p" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 00
    Then "a" receives SUBACK id=1 reasons=0x00
    When "p" sends PUBLISH topic=x qos=2 id=1 payload=first
    Then "p" receives PUBREC id=1
    When "p" sends PUBREL id=1
    Then "p" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x qos=0 payload=first
    When "b" sends raw 82 * 0001 00 f"$share/g/x" 01
    Then "b" receives SUBACK id=1 reasons=0x01
    When "a" sends raw a2 * 0002 00 f"$share/g/x"
    Then "a" receives UNSUBACK id=2 reasons=0x00
    When "p" sends PUBLISH topic=x qos=2 id=2 payload=second
    Then "p" receives PUBREC id=2
    When "p" sends PUBREL id=2
    Then "p" receives PUBCOMP id=2
    And "b" receives PUBLISH topic=x qos=1 payload=second
    When "p" sends PUBLISH topic=x qos=0 payload=third
    Then "b" receives PUBLISH topic=x qos=0 payload=third
    And "a" is still connected
    And "b" is still connected

  @v5 @needs-shared-subscriptions @MQTT-4.8.2-3
  Scenario: Members of two share groups each get the message at their own granted QoS
    Given client "a" is connected
    And client "b" is connected
    And client "p" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 00
    Then "a" receives SUBACK id=1 reasons=0x00
    When "b" sends raw 82 * 0001 00 f"$share/h/x" 01
    Then "b" receives SUBACK id=1 reasons=0x01
    When "p" sends PUBLISH topic=x qos=1 id=1 payload=both
    Then "p" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=0 payload=both
    And "b" receives PUBLISH topic=x qos=1 payload=both

  @v5 @needs-shared-subscriptions @MQTT-4.8.2-4
  Scenario: A shared QoS 2 message cut off before PUBREC is sent again to the same client on reconnection
    Given client "a" is connected with session_expiry_interval=60
    And client "b" is connected
    And client "p" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 02
    Then "a" receives SUBACK id=1 reasons=0x02
    When "p" sends PUBLISH topic=x qos=2 id=1 payload=once
    Then "p" receives PUBREC id=1
    When "p" sends PUBREL id=1
    Then "p" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x qos=2 dup=0 id=$p payload=once
    When "b" sends raw 82 * 0001 00 f"$share/g/x" 02
    Then "b" receives SUBACK id=1 reasons=0x02
    When "a" closes the connection
    Then "b" receives nothing
    When client "a" is connected with clean_start=0 session_expiry_interval=60
    Then "a" receives PUBLISH topic=x qos=2 dup=1 id=$p payload=once
    When "a" sends PUBREC id=$p
    Then "a" receives PUBREL id=$p
    When "a" sends PUBCOMP id=$p
    Then "a" is still connected
    And "b" is still connected

  @v5 @needs-shared-subscriptions @MQTT-4.8.2-4
  Scenario: A shared QoS 2 message cut off after PUBREC is completed with the same client on reconnection
    Given client "a" is connected with session_expiry_interval=60
    And client "b" is connected
    And client "p" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 02
    Then "a" receives SUBACK id=1 reasons=0x02
    When "p" sends PUBLISH topic=x qos=2 id=1 payload=once
    Then "p" receives PUBREC id=1
    When "p" sends PUBREL id=1
    Then "p" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x qos=2 id=$p payload=once
    When "a" sends PUBREC id=$p
    Then "a" receives PUBREL id=$p
    When "b" sends raw 82 * 0001 00 f"$share/g/x" 02
    Then "b" receives SUBACK id=1 reasons=0x02
    When "a" closes the connection
    Then "b" receives nothing
    When client "a" is connected with clean_start=0 session_expiry_interval=60
    Then "a" receives PUBREL id=$p
    When "a" sends PUBCOMP id=$p
    Then "a" is still connected
    And "b" is still connected

  @v5 @needs-shared-subscriptions @MQTT-4.8.2-5
  Scenario: A shared QoS 2 message whose client's session ends is not sent to another member
    Given client "a" is connected with session_expiry_interval=1
    And client "b" is connected
    And client "p" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 02
    Then "a" receives SUBACK id=1 reasons=0x02
    When "p" sends PUBLISH topic=x qos=2 id=1 payload=lost
    Then "p" receives PUBREC id=1
    When "p" sends PUBREL id=1
    Then "p" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x qos=2 payload=lost
    When "b" sends raw 82 * 0001 00 f"$share/g/x" 02
    Then "b" receives SUBACK id=1 reasons=0x02
    When "a" closes the connection
    And 2 seconds pass
    Then "b" is still connected
    When "p" sends PUBLISH topic=x qos=2 id=2 payload=next
    Then "p" receives PUBREC id=2
    When "p" sends PUBREL id=2
    Then "p" receives PUBCOMP id=2
    And "b" receives PUBLISH topic=x qos=2 payload=next
    When client "a" is connected with clean_start=0 session_expiry_interval=1
    Then "a" receives nothing
    And "b" is still connected

  @v5 @needs-shared-subscriptions @MQTT-4.8.2-6
  Scenario: A shared QoS 1 message refused with PUBACK 0x80 is discarded, not sent to another member
    Given client "a" is connected
    And client "b" is connected
    And client "p" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 01
    Then "a" receives SUBACK id=1 reasons=0x01
    When "p" sends PUBLISH topic=x qos=1 id=1 payload=refused
    Then "p" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=1 id=$p payload=refused
    When "b" sends raw 82 * 0001 00 f"$share/g/x" 01
    Then "b" receives SUBACK id=1 reasons=0x01
    When "a" sends PUBACK id=$p reason=0x80
    Then "a" is still connected
    And "b" receives nothing
    When "a" closes the connection
    And 300 milliseconds pass
    And "p" sends PUBLISH topic=x qos=1 id=2 payload=next
    Then "p" receives PUBACK id=2
    And "b" receives PUBLISH topic=x qos=1 payload=next
    And "b" is still connected

  @v5 @needs-shared-subscriptions @MQTT-4.8.2-6
  Scenario: A shared QoS 2 message refused with PUBREC 0x83 is discarded, not sent to another member
    Given client "a" is connected with session_expiry_interval=60
    And client "b" is connected
    And client "p" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 02
    Then "a" receives SUBACK id=1 reasons=0x02
    When "p" sends PUBLISH topic=x qos=2 id=1 payload=refused
    Then "p" receives PUBREC id=1
    When "p" sends PUBREL id=1
    Then "p" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x qos=2 id=$p payload=refused
    When "b" sends raw 82 * 0001 00 f"$share/g/x" 02
    Then "b" receives SUBACK id=1 reasons=0x02
    When "a" sends PUBREC id=$p reason=0x83
    Then "a" is still connected
    And "b" receives nothing
    When "a" closes the connection
    And 300 milliseconds pass
    And client "a" is connected with clean_start=0 session_expiry_interval=60
    Then "a" receives nothing
    And "b" receives nothing

  @v5 @needs-shared-subscriptions @MQTT-4.8.2-6
  Scenario: A shared QoS 1 message refused with PUBACK 0x80 is not sent again to the same session either
    Given client "a" is connected with session_expiry_interval=60
    And client "p" is connected
    When "a" sends raw 82 * 0001 00 f"$share/g/x" 01
    Then "a" receives SUBACK id=1 reasons=0x01
    When "p" sends PUBLISH topic=x qos=1 id=1 payload=refused
    Then "p" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=1 id=$p payload=refused
    When "a" sends PUBACK id=$p reason=0x80
    And "a" closes the connection
    And 100 milliseconds pass
    And client "a" is connected with clean_start=0 session_expiry_interval=60
    Then "a" receives nothing
