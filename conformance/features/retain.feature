Feature: Retained messages
  Section 3.3.1.3: the RETAIN flag of a client's PUBLISH sets, replaces or clears the retained
  message of its topic; a new subscription receives the retained messages it matches, with
  RETAIN 1; messages forwarded to established subscriptions carry RETAIN 0 (in 5.0, unless
  Retain As Published); 5.0 adds Retain Handling. Retained messages are published at QoS 1 or
  2 here, since a server may drop a QoS 0 retained message at any time.

  # =========================================================================================
  # MQTT 3.1.1 (and 3.1)
  # =========================================================================================

  @MQTT-3.3.1-5 @MQTT-3.3.1-8 @v3.1 @v3.1.1
  Scenario: A retained message is stored with its QoS for later subscribers (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/one qos=1 id=1 retain=1 payload=first
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/two qos=2 id=2 retain=1 payload=second
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    And "pub" closes the connection
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/one qos=2
    Then "sub" receives SUBACK id=1
    And "sub" receives PUBLISH topic=a/one qos=1 retain=1 payload=first
    When "sub" sends SUBSCRIBE id=2 filter=a/two qos=2
    Then "sub" receives SUBACK id=2
    And "sub" receives PUBLISH topic=a/two qos=2 retain=1 payload=second

  @MQTT-3.3.1-5 @v3.1 @v3.1.1
  Scenario: A retained message is delivered at the lower of its QoS and the granted QoS (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=2 id=1 retain=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "sub" receives SUBACK id=1 reasons=0x01
    And "sub" receives PUBLISH topic=a/b qos=1 retain=1 payload=hello

  @MQTT-3.3.1-6 @MQTT-3.3.1-8 @v3.1 @v3.1.1
  Scenario: A new subscription receives the last retained message of every matching topic (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/1 qos=1 id=1 retain=1 payload=one
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/2 qos=1 id=2 retain=1 payload=two
    And "pub" receives PUBACK id=2
    And "pub" sends PUBLISH topic=a/1 qos=1 id=3 retain=1 payload=three
    And "pub" receives PUBACK id=3
    And "pub" sends PUBLISH topic=b/1 qos=1 id=4 retain=1 payload=elsewhere
    And "pub" receives PUBACK id=4
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/+ qos=1
    Then "sub" receives SUBACK id=1
    And "sub" receives, in any order:
      """
      PUBLISH topic=a/1 retain=1 payload=three
      PUBLISH topic=a/2 retain=1 payload=two
      """
    And "sub" is still connected

  @MQTT-3.3.1-6 @MQTT-3.3.1-8 @v3.1 @v3.1.1
  Scenario: Each new subscription of a SUBSCRIBE receives its retained messages (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=x qos=1 id=1 retain=1 payload=ex
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=y qos=1 id=2 retain=1 payload=why
    And "pub" receives PUBACK id=2
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1 filter=y qos=0
    Then "sub" receives SUBACK id=1
    And "sub" receives, in any order:
      """
      PUBLISH topic=x qos=1 retain=1 payload=ex
      PUBLISH topic=y qos=0 retain=1 payload=why
      """

  @MQTT-3.3.1-6 @MQTT-3.3.1-8 @v3.1 @v3.1.1
  Scenario: Subscribing again to the same filter sends the retained message again (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=0
    And "sub" receives SUBACK id=1
    And "sub" receives PUBLISH topic=a/b retain=1 payload=hello
    When "sub" sends SUBSCRIBE id=2 filter=a/b qos=0
    Then "sub" receives SUBACK id=2
    And "sub" receives PUBLISH topic=a/b retain=1 payload=hello

  @MQTT-3.3.1-7 @v3.1 @v3.1.1
  Scenario: A retained QoS 0 message discards the topic's earlier retained message (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=old
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/b qos=0 retain=1 payload=new
    And "pub" is still connected
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "sub" receives SUBACK id=1
    And "sub" does not receive PUBLISH payload=old

  @MQTT-3.3.1-9 @v3.1 @v3.1.1
  Scenario: A retained message forwarded to an established subscription has RETAIN 0 (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=one
    And "pub" sends PUBLISH topic=a/b qos=0 retain=1 payload=two
    And "pub" sends PUBLISH topic=a/b qos=1 id=2 retain=0 payload=three
    Then "sub" receives, in any order:
      """
      PUBLISH topic=a/b qos=1 retain=0 payload=one
      PUBLISH topic=a/b qos=0 retain=0 payload=two
      PUBLISH topic=a/b qos=1 retain=0 payload=three
      """

  @MQTT-3.3.1-8 @MQTT-3.3.1-9 @v3.1 @v3.1.1
  Scenario: The same retained message has RETAIN 1 for a new subscription only (3.x)
    Given client "old" is connected
    And "old" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "old" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    Then "old" receives PUBLISH topic=a/b retain=0 payload=hello
    When client "new" is connected
    And "new" sends SUBSCRIBE id=1 filter=a/# qos=1
    Then "new" receives SUBACK id=1
    And "new" receives PUBLISH topic=a/b retain=1 payload=hello

  @MQTT-3.3.1-10 @v3.1 @v3.1.1
  Scenario: A retained PUBLISH with an empty payload is forwarded and removes the retained message (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And "sub" receives PUBLISH topic=a/b retain=1 payload=hello
    When "pub" sends PUBLISH topic=a/b qos=1 id=2 retain=1 payload_size=0
    And "pub" receives PUBACK id=2
    Then "sub" receives PUBLISH topic=a/b qos=1 retain=0 payload_size=0
    When client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.3.1-10 @v3.1 @v3.1.1
  Scenario: A retained QoS 0 PUBLISH with an empty payload removes the retained message (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=2 id=1 retain=1 payload=hello
    And "pub" receives PUBREC id=1
    When "pub" sends PUBLISH topic=a/b qos=0 retain=1 payload_size=0
    And "pub" is still connected
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/# qos=2
    Then "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.3.1-11 @v3.1 @v3.1.1
  Scenario: A retained PUBLISH with an empty payload is not stored (3.x)
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload_size=0
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/c qos=2 id=2 retain=1 payload_size=0
    And "pub" receives PUBREC id=2
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/+ qos=2
    Then "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.3.1-12 @v3.1 @v3.1.1
  Scenario: A PUBLISH without RETAIN is not stored as a retained message (3.x)
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=0 payload=hello
    And "pub" receives PUBACK id=1
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.3.1-12 @v3.1 @v3.1.1
  Scenario: A PUBLISH without RETAIN neither replaces nor removes the retained message (3.x)
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=kept
    And "pub" receives PUBACK id=1
    When "pub" sends PUBLISH topic=a/b qos=1 id=2 retain=0 payload=other
    And "pub" receives PUBACK id=2
    And "pub" sends PUBLISH topic=a/b qos=1 id=3 retain=0 payload_size=0
    And "pub" receives PUBACK id=3
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "late" receives SUBACK id=1
    And "late" receives PUBLISH topic=a/b retain=1 payload=kept
    And "late" is still connected

  # =========================================================================================
  # MQTT 5.0
  # =========================================================================================

  @MQTT-3.3.1-5 @v5
  Scenario: A retained message is stored for later subscribers
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And "pub" closes the connection
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "sub" receives SUBACK id=1
    And "sub" receives PUBLISH topic=a/b qos=1 retain=1 payload=hello

  @MQTT-3.3.1-5 @v5
  Scenario: A retained message replaces the topic's earlier one
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=first
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/b qos=2 id=2 retain=1 payload=second
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    Then "sub" receives SUBACK id=1
    And "sub" receives PUBLISH topic=a/b qos=2 retain=1 payload=second
    And "sub" is still connected

  @MQTT-3.3.1-5 @v5
  Scenario: A retained QoS 0 message discards the topic's earlier retained message
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=old
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/b qos=0 retain=1 payload=new
    And "pub" is still connected
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "sub" receives SUBACK id=1
    And "sub" does not receive PUBLISH payload=old

  @MQTT-3.3.1-5 @v5
  Scenario: Retained messages of different topics are kept apart
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/1 qos=1 id=1 retain=1 payload=one
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/2 qos=1 id=2 retain=1 payload=two
    And "pub" receives PUBACK id=2
    And "pub" sends PUBLISH topic=a/1 qos=1 id=3 retain=1 payload=three
    And "pub" receives PUBACK id=3
    When client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/+ qos=1
    Then "sub" receives SUBACK id=1
    And "sub" receives, in any order:
      """
      PUBLISH topic=a/1 retain=1 payload=three
      PUBLISH topic=a/2 retain=1 payload=two
      """
    And "sub" is still connected

  @MQTT-3.3.1-6 @v5
  Scenario: A retained PUBLISH with an empty payload is forwarded and removes the retained message
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And "sub" receives PUBLISH topic=a/b retain=1 payload=hello
    When "pub" sends PUBLISH topic=a/b qos=1 id=2 retain=1 payload_size=0
    And "pub" receives PUBACK id=2 reason=0x00
    Then "sub" receives PUBLISH topic=a/b qos=1 retain=0 payload_size=0
    When client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.3.1-6 @v5
  Scenario: A retained QoS 0 PUBLISH with an empty payload removes the retained message
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=2 id=1 retain=1 payload=hello
    And "pub" receives PUBREC id=1
    When "pub" sends PUBLISH topic=a/b qos=0 retain=1 payload_size=0
    And "pub" is still connected
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/# qos=2
    Then "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.3.1-7 @v5
  Scenario: A retained PUBLISH with an empty payload is not stored
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload_size=0
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/c qos=2 id=2 retain=1 payload_size=0
    And "pub" receives PUBREC id=2
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/+ qos=2
    Then "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.3.1-8 @v5
  Scenario: A PUBLISH without RETAIN is not stored as a retained message
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=0 payload=hello
    And "pub" receives PUBACK id=1
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.3.1-8 @v5
  Scenario: A PUBLISH without RETAIN neither replaces nor removes the retained message
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=kept
    And "pub" receives PUBACK id=1
    When "pub" sends PUBLISH topic=a/b qos=1 id=2 retain=0 payload=other
    And "pub" receives PUBACK id=2
    And "pub" sends PUBLISH topic=a/b qos=1 id=3 retain=0 payload_size=0
    And "pub" receives PUBACK id=3
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=a/b qos=1
    Then "late" receives SUBACK id=1
    And "late" receives PUBLISH topic=a/b retain=1 payload=kept
    And "late" is still connected

  @MQTT-3.3.1-9 @v5
  Scenario: Retain Handling 0 sends the matching retained messages at every subscribe
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=a/+ qos=1 retain_handling=0
    Then "sub" receives SUBACK id=1 reasons=0x01
    And "sub" receives PUBLISH topic=a/b qos=1 retain=1 payload=hello
    When "sub" sends SUBSCRIBE id=2 filter=a/+ qos=1 retain_handling=0
    Then "sub" receives SUBACK id=2 reasons=0x01
    And "sub" receives PUBLISH topic=a/b qos=1 retain=1 payload=hello

  @MQTT-3.3.1-10 @v5
  Scenario: Retain Handling 1 sends retained messages for a new subscription only
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=a/+ qos=1 retain_handling=1
    Then "sub" receives SUBACK id=1 reasons=0x01
    And "sub" receives PUBLISH topic=a/b qos=1 retain=1 payload=hello
    When "sub" sends SUBSCRIBE id=2 filter=a/+ qos=0 retain_handling=1
    Then "sub" receives SUBACK id=2 reasons=0x00
    And "sub" is still connected

  @MQTT-3.3.1-10 @v5
  Scenario: Retain Handling 1 sends retained messages again once the subscription is gone
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1 retain_handling=1
    And "sub" receives SUBACK id=1
    And "sub" receives PUBLISH topic=a/b retain=1 payload=hello
    When "sub" sends UNSUBSCRIBE id=2 filter=a/b
    And "sub" receives UNSUBACK id=2
    And "sub" sends SUBSCRIBE id=3 filter=a/b qos=1 retain_handling=1
    Then "sub" receives SUBACK id=3
    And "sub" receives PUBLISH topic=a/b retain=1 payload=hello

  @MQTT-3.3.1-11 @v5
  Scenario: Retain Handling 2 never sends retained messages
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=a/+ qos=1 retain_handling=2
    Then "sub" receives SUBACK id=1 reasons=0x01
    And "sub" is still connected
    When "sub" sends SUBSCRIBE id=2 filter=a/b qos=1 retain_handling=2
    Then "sub" receives SUBACK id=2 reasons=0x01
    And "sub" is still connected

  @MQTT-3.3.1-11 @MQTT-3.3.1-12 @v5
  Scenario: A subscription with Retain Handling 2 still receives new messages
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=old
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1 retain_handling=2
    And "sub" receives SUBACK id=1
    When "pub" sends PUBLISH topic=a/b qos=1 id=2 retain=1 payload=new
    And "pub" receives PUBACK id=2
    Then "sub" receives PUBLISH topic=a/b retain=0 payload=new

  @MQTT-3.3.1-12 @v5
  Scenario: Without Retain As Published, forwarded messages have RETAIN 0
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1 retain_as_published=0
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=one
    And "pub" sends PUBLISH topic=a/b qos=0 retain=1 payload=two
    And "pub" sends PUBLISH topic=a/b qos=1 id=2 retain=0 payload=three
    Then "sub" receives, in any order:
      """
      PUBLISH topic=a/b qos=1 retain=0 payload=one
      PUBLISH topic=a/b qos=0 retain=0 payload=two
      PUBLISH topic=a/b qos=1 retain=0 payload=three
      """

  @MQTT-3.3.1-13 @v5
  Scenario: With Retain As Published, forwarded messages keep the publisher's RETAIN flag
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1 retain_as_published=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=one
    And "pub" sends PUBLISH topic=a/b qos=1 id=2 retain=0 payload=two
    And "pub" sends PUBLISH topic=a/b qos=0 retain=1 payload=three
    Then "sub" receives, in any order:
      """
      PUBLISH topic=a/b qos=1 retain=1 payload=one
      PUBLISH topic=a/b qos=1 retain=0 payload=two
      PUBLISH topic=a/b qos=0 retain=1 payload=three
      """

  @MQTT-3.3.1-12 @MQTT-3.3.1-13 @v5
  Scenario: Retain As Published applies per subscription
    Given client "plain" is connected
    And "plain" sends SUBSCRIBE id=1 filter=a/b qos=1 retain_as_published=0
    And "plain" receives SUBACK id=1
    And client "keeps" is connected
    And "keeps" sends SUBSCRIBE id=1 filter=a/b qos=1 retain_as_published=1
    And "keeps" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    Then "plain" receives PUBLISH topic=a/b retain=0 payload=hello
    And "keeps" receives PUBLISH topic=a/b retain=1 payload=hello

  @MQTT-3.3.1-9 @v5
  Scenario: A retained message sent for a new subscription has RETAIN 1 whatever Retain As Published
    Given client "pub" is connected
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=a/b qos=1 retain_as_published=0
    Then "sub" receives SUBACK id=1
    And "sub" receives PUBLISH topic=a/b retain=1 payload=hello
    When "sub" sends SUBSCRIBE id=2 filter=a/+ qos=1 retain_as_published=1
    Then "sub" receives SUBACK id=2
    And "sub" receives PUBLISH topic=a/b retain=1 payload=hello
