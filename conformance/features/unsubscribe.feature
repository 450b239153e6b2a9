Feature: UNSUBSCRIBE and UNSUBACK (sections 3.10 and 3.11)

  # ---------------------------------------------------------------------------------------
  # The fixed header: flags 0010 [MQTT-3.10.1-1]
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-3.10.1-1
  Scenario: UNSUBSCRIBE with fixed-header flags 0000 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw a0 * 0001 f"x"
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-3.10.1-1
  Scenario: UNSUBSCRIBE with fixed-header flags 0110 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw a6 * 0001 f"x"
    Then "a" is disconnected

  @v5 @MQTT-3.10.1-1
  Scenario: 5.0 UNSUBSCRIBE with fixed-header flags 0000 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw a0 * 0001 00 f"x"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @v5 @MQTT-3.10.1-1
  Scenario: 5.0 UNSUBSCRIBE with fixed-header flags 0011 is malformed and closes the connection
    Given client "a" is connected
    When "a" sends raw a3 * 0001 00 f"x"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  # ---------------------------------------------------------------------------------------
  # The payload: at least one Topic Filter
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-3.10.3-2 @MQTT-4.8.0-1
  Scenario: UNSUBSCRIBE with no Topic Filter is a protocol violation and closes the connection
    Given client "a" is connected
    When "a" sends raw a2 02 0001
    Then "a" is disconnected

  @v5 @MQTT-3.10.3-2
  Scenario: 5.0 UNSUBSCRIBE with no Topic Filter is a Protocol Error and closes the connection
    Given client "a" is connected
    When "a" sends raw a2 03 0001 00
    # the close is required (4.13.1); the DISCONNECT before it is a SHOULD, and 0x82 (Protocol
    # Error) and 0x81 (Malformed Packet) both describe a packet without its required payload
    Then "a" is disconnected, perhaps after one of:
      """
      DISCONNECT reason=0x82
      DISCONNECT reason=0x81
      """

  @v3.1 @v3.1.1 @MQTT-3.10.3-1
  Scenario: An UNSUBSCRIBE Topic Filter that is not well-formed UTF-8 closes the connection
    Given client "a" is connected
    When "a" sends raw a2 * 0001 0002 c0af
    Then "a" is disconnected

  @v5 @MQTT-3.10.3-1
  Scenario: 5.0 an UNSUBSCRIBE Topic Filter that is not well-formed UTF-8 closes the connection
    Given client "a" is connected
    When "a" sends raw a2 * 0001 00 0002 c0af
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  # ---------------------------------------------------------------------------------------
  # Only a filter identical character for character is deleted [MQTT-3.10.4-1]
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-3.10.4-1
  Scenario: UNSUBSCRIBE deletes only a subscription whose filter is identical character for character
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=a/+ qos=0 filter=s qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00
    When "a" sends UNSUBSCRIBE id=2 filter=a/b
    Then "a" receives UNSUBACK id=2
    When "a" sends UNSUBSCRIBE id=3 filter=A/+
    Then "a" receives UNSUBACK id=3
    When "a" sends UNSUBSCRIBE id=4 filter=a/#
    Then "a" receives UNSUBACK id=4
    When "a" sends UNSUBSCRIBE id=5 filter=a/+/
    Then "a" receives UNSUBACK id=5
    When "b" sends PUBLISH topic=a/b payload=kept
    Then "a" receives PUBLISH topic=a/b payload=kept
    When "a" sends UNSUBSCRIBE id=6 filter=a/+
    Then "a" receives UNSUBACK id=6
    When "b" sends PUBLISH topic=a/b payload=gone
    And "b" sends PUBLISH topic=s payload=sentinel
    Then "a" receives PUBLISH topic=s payload=sentinel
    And "a" is still connected

  @v5 @MQTT-3.10.4-1 @MQTT-3.11.3-2
  Scenario: 5.0 UNSUBACK says Success only for the filter that is identical character for character
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=1 filter=a/+ qos=0
    Then "a" receives SUBACK id=1 reasons=0x00
    When "a" sends UNSUBSCRIBE id=2 filter=a/b filter=A/+ filter=a/# filter=a/+
    Then "a" receives UNSUBACK id=2 reasons=0x11,0x11,0x11,0x00

  # ---------------------------------------------------------------------------------------
  # After an UNSUBSCRIBE
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-3.10.4-2
  Scenario: After UNSUBSCRIBE no new message for the deleted subscription is sent
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=1 filter=y qos=1
    Then "a" receives SUBACK id=1 reasons=0x01,0x01
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=before
    Then "b" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=1 id=$p payload=before
    When "a" sends PUBACK id=$p
    And "a" sends UNSUBSCRIBE id=2 filter=x
    Then "a" receives UNSUBACK id=2
    When "b" sends PUBLISH topic=x qos=1 id=2 payload=after
    Then "b" receives PUBACK id=2
    When "b" sends PUBLISH topic=y qos=1 id=3 payload=sentinel
    Then "b" receives PUBACK id=3
    And "a" receives PUBLISH topic=y qos=1 payload=sentinel
    And "a" is still connected

  @v3.1 @v3.1.1 @MQTT-3.10.4-2
  Scenario: After UNSUBSCRIBE an offline session collects no message for the deleted subscription
    Given client "a" is connected with clean_session=0
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=1 filter=y qos=1
    Then "a" receives SUBACK id=1 reasons=0x01,0x01
    When "a" sends UNSUBSCRIBE id=2 filter=x
    Then "a" receives UNSUBACK id=2
    When "a" closes the connection
    And 100 milliseconds pass
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=after
    Then "b" receives PUBACK id=1
    When "b" sends PUBLISH topic=y qos=1 id=2 payload=sentinel
    Then "b" receives PUBACK id=2
    When client "a" is connected with clean_session=0
    Then "a" receives PUBLISH topic=y qos=1 payload=sentinel
    And "a" is still connected

  @v5 @MQTT-3.10.4-2
  Scenario: 5.0 after UNSUBSCRIBE an offline session collects no message for the deleted subscription
    Given client "a" is connected with session_expiry_interval=60
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=1 filter=y qos=1
    Then "a" receives SUBACK id=1 reasons=0x01,0x01
    When "a" sends UNSUBSCRIBE id=2 filter=x
    Then "a" receives UNSUBACK id=2 reasons=0x00
    When "a" closes the connection
    And 100 milliseconds pass
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=after
    Then "b" receives PUBACK id=1
    When "b" sends PUBLISH topic=y qos=1 id=2 payload=sentinel
    Then "b" receives PUBACK id=2
    When client "a" is connected with clean_start=0 session_expiry_interval=60
    Then "a" receives PUBLISH topic=y qos=1 payload=sentinel
    And "a" is still connected

  @v3.1 @v3.1.1 @v5 @MQTT-3.10.4-3
  Scenario: A QoS 2 delivery started before UNSUBSCRIBE is completed
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=2
    Then "a" receives SUBACK id=1 reasons=0x02
    When "b" sends PUBLISH topic=x qos=2 id=1 payload=started
    Then "b" receives PUBREC id=1
    When "b" sends PUBREL id=1
    Then "b" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x qos=2 id=$p payload=started
    When "a" sends UNSUBSCRIBE id=2 filter=x
    Then "a" receives UNSUBACK id=2
    When "a" sends PUBREC id=$p
    Then "a" receives PUBREL id=$p
    When "a" sends PUBCOMP id=$p
    Then "a" is still connected

  @v3.1 @v3.1.1 @MQTT-3.10.4-3
  Scenario: A QoS 1 delivery started before UNSUBSCRIBE is sent again on reconnection
    Given client "a" is connected with clean_session=0
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=1
    Then "a" receives SUBACK id=1 reasons=0x01
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=started
    Then "b" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=1 dup=0 id=$p payload=started
    When "a" sends UNSUBSCRIBE id=2 filter=x
    Then "a" receives UNSUBACK id=2
    When "a" closes the connection
    And 100 milliseconds pass
    And client "a" is connected with clean_session=0
    Then "a" receives PUBLISH topic=x qos=1 dup=1 id=$p payload=started
    When "a" sends PUBACK id=$p
    Then "a" is still connected

  @v3.1 @v3.1.1 @MQTT-3.10.4-3
  Scenario: A QoS 2 delivery started before UNSUBSCRIBE is completed after reconnection
    Given client "a" is connected with clean_session=0
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=2
    Then "a" receives SUBACK id=1 reasons=0x02
    When "b" sends PUBLISH topic=x qos=2 id=1 payload=started
    Then "b" receives PUBREC id=1
    When "b" sends PUBREL id=1
    Then "b" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x qos=2 id=$p payload=started
    When "a" sends PUBREC id=$p
    Then "a" receives PUBREL id=$p
    When "a" sends UNSUBSCRIBE id=2 filter=x
    Then "a" receives UNSUBACK id=2
    When "a" closes the connection
    And 100 milliseconds pass
    And client "a" is connected with clean_session=0
    Then "a" receives PUBREL id=$p
    When "a" sends PUBCOMP id=$p
    Then "a" is still connected

  @v5 @MQTT-3.10.4-3
  Scenario: 5.0 a QoS 1 delivery started before UNSUBSCRIBE is sent again on reconnection
    Given client "a" is connected with session_expiry_interval=60
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=1
    Then "a" receives SUBACK id=1 reasons=0x01
    When "b" sends PUBLISH topic=x qos=1 id=1 payload=started
    Then "b" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=1 dup=0 id=$p payload=started
    When "a" sends UNSUBSCRIBE id=2 filter=x
    Then "a" receives UNSUBACK id=2 reasons=0x00
    When "a" closes the connection
    And 100 milliseconds pass
    And client "a" is connected with clean_start=0 session_expiry_interval=60
    Then "a" receives PUBLISH topic=x qos=1 dup=1 id=$p payload=started
    When "a" sends PUBACK id=$p
    Then "a" is still connected

  @v5 @MQTT-3.10.4-3
  Scenario: 5.0 a QoS 2 delivery started before UNSUBSCRIBE is completed after reconnection
    Given client "a" is connected with session_expiry_interval=60
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=2
    Then "a" receives SUBACK id=1 reasons=0x02
    When "b" sends PUBLISH topic=x qos=2 id=1 payload=started
    Then "b" receives PUBREC id=1
    When "b" sends PUBREL id=1
    Then "b" receives PUBCOMP id=1
    And "a" receives PUBLISH topic=x qos=2 id=$p payload=started
    When "a" sends PUBREC id=$p
    Then "a" receives PUBREL id=$p
    When "a" sends UNSUBSCRIBE id=2 filter=x
    Then "a" receives UNSUBACK id=2 reasons=0x00
    When "a" closes the connection
    And 100 milliseconds pass
    And client "a" is connected with clean_start=0 session_expiry_interval=60
    Then "a" receives PUBREL id=$p
    When "a" sends PUBCOMP id=$p
    Then "a" is still connected

  # ---------------------------------------------------------------------------------------
  # Every UNSUBSCRIBE gets an UNSUBACK with its Packet Identifier
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-3.10.4-4 @MQTT-3.10.4-5
  Scenario: Every UNSUBSCRIBE is answered by an UNSUBACK with the same Packet Identifier
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=0
    Then "a" receives SUBACK id=1
    When "a" sends UNSUBSCRIBE id=4660 filter=x
    Then "a" receives UNSUBACK id=4660
    When "a" sends UNSUBSCRIBE id=65535 filter=x
    Then "a" receives UNSUBACK id=65535
    When "a" sends UNSUBSCRIBE id=1 filter=never/subscribed
    Then "a" receives UNSUBACK id=1
    When "a" sends UNSUBSCRIBE id=771 filter=p
    And "a" sends UNSUBSCRIBE id=772 filter=q/#
    Then "a" receives UNSUBACK id=771
    And "a" receives UNSUBACK id=772

  @v3.1 @v3.1.1 @MQTT-3.10.4-4 @MQTT-3.10.4-5
  Scenario: UNSUBACK is exactly the packet type, length and Packet Identifier even when nothing was deleted
    Given client "a" is connected
    When "a" sends UNSUBSCRIBE id=4660 filter=never
    Then "a" receives raw b0 02 1234

  @v5 @MQTT-3.10.4-4 @MQTT-3.10.4-5 @MQTT-3.11.3-2
  Scenario: 5.0 an UNSUBSCRIBE that deletes nothing gets UNSUBACK 0x11 with its Packet Identifier
    Given client "a" is connected
    When "a" sends UNSUBSCRIBE id=4660 filter=never
    Then "a" receives UNSUBACK id=4660 reasons=0x11
    When "a" sends, 1 byte at a time, UNSUBSCRIBE id=4661 filter=never filter=ever
    Then "a" receives UNSUBACK id=4661 reasons=0x11,0x11

  # ---------------------------------------------------------------------------------------
  # Several filters in one UNSUBSCRIBE, one UNSUBACK [MQTT-3.10.4-6]
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-3.10.4-6
  Scenario: Several filters in one UNSUBSCRIBE are handled as separate UNSUBSCRIBEs under one UNSUBACK
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=0 filter=y qos=0 filter=z/+ qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00,0x00
    When "a" sends UNSUBSCRIBE id=2 filter=x filter=nothing filter=z/+
    Then "a" receives UNSUBACK id=2
    And "a" is still connected
    When "b" sends PUBLISH topic=x payload=1
    And "b" sends PUBLISH topic=z/1 payload=2
    And "b" sends PUBLISH topic=y payload=3
    Then "a" receives PUBLISH topic=y payload=3
    And "a" is still connected

  @v5 @MQTT-3.10.4-6 @MQTT-3.11.3-1 @MQTT-3.11.3-2
  Scenario: 5.0 UNSUBACK Reason Codes follow the filters, each handled as its own UNSUBSCRIBE
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=1 filter=x qos=0 filter=z qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00
    When "a" sends UNSUBSCRIBE id=2 filter=x filter=q filter=z filter=x
    Then "a" receives UNSUBACK id=2 reasons=0x00,0x11,0x00,0x11
    And "a" is still connected

  # ---------------------------------------------------------------------------------------
  # UNSUBACK properties within the client's Maximum Packet Size (5.0)
  # ---------------------------------------------------------------------------------------

  @v5 @MQTT-3.11.2-1 @MQTT-3.11.2-2
  Scenario: An UNSUBACK as large as the client's Maximum Packet Size carries no Reason String or User Property
    Given client "a" is connected with maximum_packet_size=16
    When "a" sends UNSUBSCRIBE id=1 filter=a filter=b filter=c filter=d filter=e filter=f filter=g filter=h filter=i filter=j filter=k
    Then "a" receives raw b0 0e 0001 00 11 11 11 11 11 11 11 11 11 11 11
    And "a" is still connected
