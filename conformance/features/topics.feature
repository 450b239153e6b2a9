Feature: Topic Names, Topic Filters, wildcards and $-topics (section 4.7) and errors (4.8)

  # ---------------------------------------------------------------------------------------
  # Wildcards belong in Topic Filters, never in Topic Names
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-4.7.1-1
  Scenario: A PUBLISH whose Topic Name holds + closes the connection
    Given client "a" is connected
    When "a" sends raw 30 * t"a/+" "hi"
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.1-1
  Scenario: A QoS 1 PUBLISH whose Topic Name holds # closes the connection without a PUBACK
    Given client "a" is connected
    When "a" sends raw 32 * t"a/#" 0001 "hi"
    Then "a" is disconnected

  @v3.1.1 @MQTT-4.7.1-1
  Scenario: A CONNECT whose Will Topic holds a wildcard closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 04 06 003c c"a" t"will/+" s"bye"
    Then "a" is disconnected

  @v3.1 @MQTT-4.7.1-1
  Scenario: A 3.1 CONNECT whose Will Topic holds a wildcard closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQIsdp" 03 06 003c c"a" t"will/#" s"bye"
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.1-1
  Scenario: The wildcards + and # work in Topic Filters
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=+/b qos=0 filter=c/# qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00
    When "b" sends PUBLISH topic=a/b payload=one
    Then "a" receives PUBLISH topic=a/b payload=one
    When "b" sends PUBLISH topic=c/d/e payload=two
    Then "a" receives PUBLISH topic=c/d/e payload=two

  @v5 @MQTT-4.7.0-1
  Scenario: 5.0 a PUBLISH whose Topic Name holds + closes the connection
    Given client "a" is connected
    When "a" sends raw 30 * t"a/+" 00 "hi"
    Then "a" is disconnected, perhaps after DISCONNECT

  @v5 @MQTT-4.7.0-1
  Scenario: 5.0 a QoS 1 PUBLISH whose Topic Name holds # closes the connection without a PUBACK
    Given client "a" is connected
    When "a" sends raw 32 * t"a/#" 0001 00 "hi"
    Then "a" is disconnected, perhaps after DISCONNECT

  @v5 @MQTT-4.7.0-1
  Scenario: 5.0 a CONNECT whose Will Topic holds a wildcard closes the connection
    Given "a" opens a connection
    When "a" sends raw 10 * s"MQTT" 05 06 003c 00 c"a" 00 t"will/+" s"bye"
    Then "a" is disconnected, perhaps after CONNACK

  @v5 @MQTT-4.7.0-1
  Scenario: 5.0 the wildcards + and # work in Topic Filters
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=+/b qos=0 filter=c/# qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00
    When "b" sends PUBLISH topic=a/b payload=one
    Then "a" receives PUBLISH topic=a/b payload=one
    When "b" sends PUBLISH topic=c/d/e payload=two
    Then "a" receives PUBLISH topic=c/d/e payload=two

  @v3.1 @v3.1.1 @MQTT-4.7.1-2 @MQTT-4.8.0-1
  Scenario: A Topic Filter with # before its last level closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 f"sport/tennis/#/ranking" 00
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.1-2 @MQTT-4.8.0-1
  Scenario: A Topic Filter with # sharing its level closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 f"sport/tennis#" 00
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.1-3 @MQTT-4.8.0-1
  Scenario: A Topic Filter with + sharing its level closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 f"sport+" 00
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.1-3
  Scenario: An UNSUBSCRIBE Topic Filter with + sharing its level closes the connection
    Given client "a" is connected
    When "a" sends raw a2 * 0001 f"sport/+tennis"
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.1-2 @MQTT-4.7.1-3
  Scenario: Wildcards that fill their levels match as the examples of section 4.7.1 say
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=sport/tennis/player1/# qos=0 filter=sport/+/player2 qos=0 filter=+/+ qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00,0x00
    When "b" sends PUBLISH topic=sport/tennis/player1 payload=1
    Then "a" receives PUBLISH topic=sport/tennis/player1 payload=1
    When "b" sends PUBLISH topic=sport/tennis/player1/score/wimbledon payload=2
    Then "a" receives PUBLISH topic=sport/tennis/player1/score/wimbledon payload=2
    When "b" sends PUBLISH topic=sport/tennis/player2/ranking payload=3
    And "b" sends PUBLISH topic=sport/golf/player2 payload=4
    Then "a" receives PUBLISH topic=sport/golf/player2 payload=4
    And "a" is still connected

  # ---------------------------------------------------------------------------------------
  # Filters starting with a wildcard do not match topics starting with $ [MQTT-4.7.2-1]
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @serial @MQTT-4.7.2-1
  Scenario: Filters starting with # or + do not match Topic Names starting with $
    Given client "a" is connected
    And client "c" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=@# qos=0 filter=@+/y qos=0 filter=@+ qos=0 filter=@+/+/# qos=0
    # a broker shared with other scenarios also sends the retained messages they left
    Then "a" receives, among other packets:
      """
      SUBACK id=1 reasons=0x00,0x00,0x00,0x00
      """
    When "c" sends SUBSCRIBE id=1 filter=@$x/# qos=0 filter=@$x/+/z qos=0
    Then "c" receives SUBACK id=1 reasons=0x00,0x00
    When "b" sends PUBLISH topic=@$x/y payload=one
    Then "c" receives PUBLISH payload=one
    When "b" sends PUBLISH topic=@$x payload=two
    Then "c" receives PUBLISH payload=two
    When "b" sends PUBLISH topic=@$x/y/z payload=three
    Then "c" receives PUBLISH payload=three
    When "b" sends PUBLISH topic=@plain payload=sentinel
    # b's PINGRESP proves the broker has handled (and routed) the PUBLISH before a's PINGREQ
    And "b" is still connected
    # plain matches two of the filters: the server may send a copy for each (3.3.5 / 3.3.4)
    Then "a" receives PUBLISH, perhaps with further copies, topic=plain payload=sentinel
      """
      PUBLISH topic=plain payload=sentinel
      """

  @v3.1 @v3.1.1 @v5 @serial @MQTT-4.7.2-1
  Scenario: A subscription to # is not sent retained messages whose Topic Names start with $
    # $kept, not $x: the scenario above must not find this retained message
    Given client "b" is connected
    When "b" sends PUBLISH topic=@$kept/y retain=1 payload=dollar
    And "b" sends PUBLISH topic=@plain/y retain=1 payload=plain
    And "b" is still connected
    And client "a" is connected
    And "a" sends SUBSCRIBE id=1 filter=@# qos=0
    # a broker shared with other scenarios also sends the retained messages they left
    Then "a" receives, among other packets:
      """
      SUBACK id=1 reasons=0x00
      PUBLISH topic=plain/y retain=1 payload=plain
      not PUBLISH topic=$kept/y
      """
    When "a" sends SUBSCRIBE id=2 filter=@+/y qos=0
    Then "a" receives, among other packets:
      """
      SUBACK id=2 reasons=0x00
      PUBLISH topic=plain/y retain=1 payload=plain
      not PUBLISH topic=$kept/y
      """
    When "a" sends SUBSCRIBE id=3 filter=@$kept/# qos=0
    Then "a" receives, in any order:
      """
      SUBACK id=3 reasons=0x00
      PUBLISH retain=1 payload=dollar
      """
    # leave no retained message behind on a shared broker
    When "b" sends PUBLISH topic=@$kept/y retain=1 payload_size=0
    And "b" sends PUBLISH topic=@plain/y retain=1 payload_size=0
    Then "b" is still connected

  # ---------------------------------------------------------------------------------------
  # At least one character [MQTT-4.7.3-1]
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-4.7.3-1
  Scenario: A PUBLISH with an empty Topic Name closes the connection
    Given client "a" is connected
    When "a" sends raw 30 * 0000 "hi"
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.3-1
  Scenario: A SUBSCRIBE with an empty Topic Filter closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 0000 00
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.3-1
  Scenario: An UNSUBSCRIBE with an empty Topic Filter closes the connection
    Given client "a" is connected
    When "a" sends raw a2 * 0001 0000
    Then "a" is disconnected

  @v3.1 @v3.1.1 @v5 @MQTT-4.7.3-1
  Scenario: A Topic Name and a Topic Filter of one character work
    Given client "a" is connected
    When "a" sends SUBSCRIBE id=1 filter=@/ qos=0 filter=@z qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00
    When "a" sends PUBLISH topic=@/ payload=slash
    Then "a" receives PUBLISH topic=/ payload=slash
    When "a" sends PUBLISH topic=@z payload=zed
    Then "a" receives PUBLISH topic=z payload=zed

  @v5 @MQTT-4.7.3-1
  Scenario: 5.0 a PUBLISH with an empty Topic Name and no Topic Alias closes the connection
    Given client "a" is connected
    When "a" sends raw 30 * 0000 00 "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82

  @v5 @MQTT-4.7.3-1
  Scenario: 5.0 a SUBSCRIBE with an empty Topic Filter closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 0000 00
    Then "a" is disconnected, perhaps after DISCONNECT

  @v5 @MQTT-4.7.3-1
  Scenario: 5.0 an UNSUBSCRIBE with an empty Topic Filter closes the connection
    Given client "a" is connected
    When "a" sends raw a2 * 0001 00 0000
    Then "a" is disconnected, perhaps after DISCONNECT

  # ---------------------------------------------------------------------------------------
  # No U+0000 [MQTT-4.7.3-2]
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-4.7.3-2
  Scenario: A Topic Name holding U+0000 closes the connection
    Given client "a" is connected
    When "a" sends raw 30 * 0003 610062 "hi"
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.3-2
  Scenario: A Topic Filter holding U+0000 in SUBSCRIBE closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 0003 610062 00
    Then "a" is disconnected

  @v3.1 @v3.1.1 @MQTT-4.7.3-2
  Scenario: A Topic Filter holding U+0000 in UNSUBSCRIBE closes the connection
    Given client "a" is connected
    When "a" sends raw a2 * 0001 0003 610062
    Then "a" is disconnected

  @v5 @MQTT-4.7.3-2
  Scenario: 5.0 a Topic Name holding U+0000 closes the connection
    Given client "a" is connected
    When "a" sends raw 30 * 0003 610062 00 "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @v5 @MQTT-4.7.3-2
  Scenario: 5.0 a Topic Filter holding U+0000 in SUBSCRIBE closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 0003 610062 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @v5 @MQTT-4.7.3-2
  Scenario: 5.0 a Topic Filter holding U+0000 in UNSUBSCRIBE closes the connection
    Given client "a" is connected
    When "a" sends raw a2 * 0001 00 0003 610062
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  # ---------------------------------------------------------------------------------------
  # At most 65,535 bytes [MQTT-4.7.3-3]: the longest Topic Name and Filter there can be work
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-4.7.3-3
  Scenario: A Topic Name and a Topic Filter of 65535 bytes are accepted and matched
    Given $long is a topic of 65535 bytes
    And client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=$long qos=1
    Then "a" receives SUBACK id=1 reasons=0x01
    When "b" sends PUBLISH topic=$long qos=1 id=1 payload=longest
    Then "b" receives PUBACK id=1
    And "a" receives PUBLISH topic=$long qos=1 payload=longest
    When "a" sends UNSUBSCRIBE id=2 filter=$long
    Then "a" receives UNSUBACK id=2

  # ---------------------------------------------------------------------------------------
  # No normalisation in matching [MQTT-4.7.3-4]
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @v5 @MQTT-4.7.3-4
  Scenario: Matching compares Topic Names and Filters without any normalisation
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=Accounts qos=0 filter=café qos=0 filter=pua qos=0 filter="a b" qos=0
    Then "a" receives SUBACK id=1 reasons=0x00,0x00,0x00,0x00
    When "b" sends PUBLISH topic=ACCOUNTS payload=1
    And "b" sends PUBLISH topic=accounts payload=2
    And "b" sends PUBLISH topic="Accounts " payload=3
    And "b" sends PUBLISH topic=Accounts/ payload=4
    And "b" sends PUBLISH topic=/Accounts payload=5
    And "b" sends PUBLISH topic=Ａccounts payload=6
    And "b" sends PUBLISH topic=café payload=7
    And "b" sends PUBLISH topic="a  b" payload=8
    And "b" sends PUBLISH topic=ab payload=9
    And "b" sends PUBLISH topic=pua payload=10
    And "b" sends PUBLISH topic=Accounts payload=exact
    Then "a" receives PUBLISH topic=Accounts payload=exact
    When "b" sends PUBLISH topic=café payload=composed
    Then "a" receives PUBLISH topic=café payload=composed
    When "b" sends PUBLISH topic=pua payload=private
    Then "a" receives PUBLISH topic=pua payload=private
    When "b" sends PUBLISH topic="a b" payload=space
    Then "a" receives PUBLISH topic="a b" payload=space
    And "a" is still connected

  @v3.1 @v3.1.1 @v5 @MQTT-4.7.3-4
  Scenario: A decomposed filter matches only the decomposed Topic Name
    Given client "a" is connected
    And client "b" is connected
    When "a" sends SUBSCRIBE id=1 filter=café/+ qos=0
    Then "a" receives SUBACK id=1 reasons=0x00
    When "b" sends PUBLISH topic=café/x payload=composed
    And "b" sends PUBLISH topic=café/x payload=decomposed
    Then "a" receives PUBLISH topic=café/x payload=decomposed
    And "a" is still connected

  # ---------------------------------------------------------------------------------------
  # Errors (section 4.8 of 3.1.1)
  # ---------------------------------------------------------------------------------------

  @v3.1 @v3.1.1 @MQTT-4.8.0-1
  Scenario: A second CONNECT is a protocol violation that closes the connection it came on
    Given client "a" is connected
    And client "b" is connected
    When "a" sends CONNECT
    Then "a" is disconnected
    And "b" is still connected

  @v3.1 @v3.1.1 @needs-config @MQTT-4.8.0-2
  Scenario: A full write buffer while handling a SUBSCRIBE closes that connection and no other
    Given the broker is configured with limits.max_queued_bytes = 100
    And client "b" is connected
    When "b" sends PUBLISH topic=x qos=1 id=1 retain=1 payload_size=300
    Then "b" receives PUBACK id=1
    When client "a" is connected
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    Then "a" receives SUBACK id=1 reasons=0x01
    And "a" is disconnected
    And "b" is still connected
