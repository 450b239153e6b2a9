Feature: Message ordering (section 4.6)
  With its default configuration the server treats every topic as an Ordered Topic: the
  messages one client publishes on one topic at one QoS reach each subscriber of a non-shared
  subscription in the order they were received. In both catalogs, 4.6.0-5 and 4.6.0-6 together
  say this (which of the two says "by default" differs), so the scenarios that show it in every
  version carry both. MQTT 3.1.1 also has the server follow the client's ordering rules when
  it delivers (4.6.0-6): acknowledgements in the order of the packets they answer, resends in
  the original order.

  # -------------------------------------------------------------------------------------------
  # Ordered topics, every version
  # -------------------------------------------------------------------------------------------

  @MQTT-4.6.0-5 @MQTT-4.6.0-6 @v3.1 @v3.1.1 @v5
  Scenario: QoS 0 messages on one topic arrive in the order they were published
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=t qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=t payload=1
    And "pub" sends PUBLISH topic=t payload=2
    And "pub" sends PUBLISH topic=t payload=3
    And "pub" sends PUBLISH topic=t payload=4
    And "pub" sends PUBLISH topic=t payload=5
    And "pub" sends PUBLISH topic=t payload=6
    Then "sub" receives PUBLISH payload=1
    And "sub" receives PUBLISH payload=2
    And "sub" receives PUBLISH payload=3
    And "sub" receives PUBLISH payload=4
    And "sub" receives PUBLISH payload=5
    And "sub" receives PUBLISH payload=6

  @MQTT-4.6.0-5 @MQTT-4.6.0-6 @v3.1 @v3.1.1 @v5
  Scenario: QoS 1 messages on one topic arrive in the order they were published
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=t qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=t qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=t qos=1 id=2 payload=2
    And "pub" sends PUBLISH topic=t qos=1 id=3 payload=3
    And "pub" sends PUBLISH topic=t qos=1 id=4 payload=4
    And "pub" sends PUBLISH topic=t qos=1 id=5 payload=5
    Then "sub" receives PUBLISH qos=1 payload=1 id=$a
    And "sub" sends PUBACK id=$a
    And "sub" receives PUBLISH qos=1 payload=2
    And "sub" receives PUBLISH qos=1 payload=3 id=$c
    And "sub" sends PUBACK id=$c
    And "sub" receives PUBLISH qos=1 payload=4
    And "sub" receives PUBLISH qos=1 payload=5

  @MQTT-4.6.0-5 @MQTT-4.6.0-6 @v3.1 @v3.1.1 @v5
  Scenario: QoS 2 messages on one topic arrive in the order they were published
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=t qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    # the publisher does not wait for PUBREC before sending the next one; it releases them in
    # the same order, as the server may pass each on only at its PUBREL (4.3.3)
    When "pub" sends PUBLISH topic=t qos=2 id=1 payload=1
    And "pub" sends PUBLISH topic=t qos=2 id=2 payload=2
    And "pub" sends PUBLISH topic=t qos=2 id=3 payload=3
    And "pub" sends PUBLISH topic=t qos=2 id=4 payload=4
    And "pub" receives PUBREC id=1
    And "pub" receives PUBREC id=2
    And "pub" receives PUBREC id=3
    And "pub" receives PUBREC id=4
    And "pub" sends PUBREL id=1
    And "pub" sends PUBREL id=2
    And "pub" sends PUBREL id=3
    And "pub" sends PUBREL id=4
    And "pub" receives PUBCOMP id=1
    And "pub" receives PUBCOMP id=2
    And "pub" receives PUBCOMP id=3
    And "pub" receives PUBCOMP id=4
    Then "sub" receives PUBLISH qos=2 payload=1
    And "sub" receives PUBLISH qos=2 payload=2
    And "sub" receives PUBLISH qos=2 payload=3
    And "sub" receives PUBLISH qos=2 payload=4

  @MQTT-4.6.0-5 @MQTT-4.6.0-6 @v3.1 @v3.1.1 @v5
  Scenario: Messages of one publisher stay in order on each of two interleaved topics
    # one subscriber per topic: the order across topics is not specified, only within each
    Given client "sa" is connected
    And "sa" sends SUBSCRIBE id=1 filter=t/a qos=1
    And "sa" receives SUBACK id=1 reasons=0x01
    And client "sb" is connected
    And "sb" sends SUBSCRIBE id=1 filter=t/b qos=1
    And "sb" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=t/a qos=1 id=1 payload=a1
    And "pub" sends PUBLISH topic=t/b qos=1 id=2 payload=b1
    And "pub" sends PUBLISH topic=t/a qos=1 id=3 payload=a2
    And "pub" sends PUBLISH topic=t/b qos=1 id=4 payload=b2
    And "pub" sends PUBLISH topic=t/a qos=1 id=5 payload=a3
    And "pub" sends PUBLISH topic=t/b qos=1 id=6 payload=b3
    Then "sa" receives PUBLISH topic=t/a payload=a1
    And "sa" receives PUBLISH topic=t/a payload=a2
    And "sa" receives PUBLISH topic=t/a payload=a3
    And "sb" receives PUBLISH topic=t/b payload=b1
    And "sb" receives PUBLISH topic=t/b payload=b2
    And "sb" receives PUBLISH topic=t/b payload=b3

  @MQTT-4.6.0-5 @MQTT-4.6.0-6 @v3.1 @v3.1.1
  Scenario: Messages queued for an absent client arrive in order when it comes back
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=t qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "pub" is connected
    When "pub" sends PUBLISH topic=t qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=t qos=1 id=2 payload=2
    And "pub" sends PUBLISH topic=t qos=1 id=3 payload=3
    And "pub" sends PUBLISH topic=t qos=1 id=4 payload=4
    And "pub" receives PUBACK id=1
    And "pub" receives PUBACK id=2
    And "pub" receives PUBACK id=3
    And "pub" receives PUBACK id=4
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH payload=1
    And "sub" receives PUBLISH payload=2
    And "sub" receives PUBLISH payload=3
    And "sub" receives PUBLISH payload=4

  @MQTT-4.6.0-5 @MQTT-4.6.0-6 @v5
  Scenario: 5.0 messages queued for an absent client arrive in order when it comes back
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=t qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "pub" is connected
    When "pub" sends PUBLISH topic=t qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=t qos=1 id=2 payload=2
    And "pub" sends PUBLISH topic=t qos=1 id=3 payload=3
    And "pub" sends PUBLISH topic=t qos=1 id=4 payload=4
    And "pub" receives PUBACK id=1
    And "pub" receives PUBACK id=2
    And "pub" receives PUBACK id=3
    And "pub" receives PUBACK id=4
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH payload=1
    And "sub" receives PUBLISH payload=2
    And "sub" receives PUBLISH payload=3
    And "sub" receives PUBLISH payload=4

  @MQTT-4.6.0-5 @MQTT-4.6.0-6 @v5
  Scenario: Messages held back by the client's Receive Maximum keep their order
    Given client "sub" is connected with receive_maximum=1
    And "sub" sends SUBSCRIBE id=1 filter=t qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=t qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=t qos=1 id=2 payload=2
    And "pub" sends PUBLISH topic=t qos=1 id=3 payload=3
    Then "sub" receives PUBLISH payload=1 id=$a
    When "sub" sends PUBACK id=$a
    Then "sub" receives PUBLISH payload=2 id=$b
    When "sub" sends PUBACK id=$b
    Then "sub" receives PUBLISH payload=3

  # -------------------------------------------------------------------------------------------
  # MQTT 3.1.1: the server follows the ordering rules of 4.6 when it delivers (4.6.0-6)
  # -------------------------------------------------------------------------------------------

  @MQTT-4.6.0-6 @v3.1 @v3.1.1
  Scenario: PUBACKs go out in the order the QoS 1 PUBLISH packets arrived
    Given client "pub" is connected
    When "pub" sends raw 32 * t"t" 0009 "1" | 32 * t"t" 0003 "2" | 32 * t"t" 0007 "3" | 32 * t"t" 0001 "4"
    Then "pub" receives raw 40 02 0009
    And "pub" receives raw 40 02 0003
    And "pub" receives raw 40 02 0007
    And "pub" receives raw 40 02 0001

  @MQTT-4.6.0-6 @v3.1 @v3.1.1
  Scenario: PUBRECs go out in the order the QoS 2 PUBLISH packets arrived
    Given client "pub" is connected
    When "pub" sends raw 34 * t"t" 0009 "1" | 34 * t"t" 0003 "2" | 34 * t"t" 0007 "3"
    Then "pub" receives raw 50 02 0009
    And "pub" receives raw 50 02 0003
    And "pub" receives raw 50 02 0007

  @MQTT-4.6.0-6 @v3.1 @v3.1.1
  Scenario: PUBRELs go out in the order the PUBRECs arrived
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=t qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=t qos=2 id=1 payload=1
    And "pub" sends PUBLISH topic=t qos=2 id=2 payload=2
    And "pub" sends PUBLISH topic=t qos=2 id=3 payload=3
    And "pub" receives PUBREC id=1
    And "pub" receives PUBREC id=2
    And "pub" receives PUBREC id=3
    And "pub" sends PUBREL id=1
    And "pub" sends PUBREL id=2
    And "pub" sends PUBREL id=3
    And "pub" receives PUBCOMP id=1
    And "pub" receives PUBCOMP id=2
    And "pub" receives PUBCOMP id=3
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    And "sub" receives PUBLISH payload=3 id=$c
    When "sub" sends PUBREC id=$c
    And "sub" sends PUBREC id=$a
    And "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$c
    And "sub" receives PUBREL id=$a
    And "sub" receives PUBREL id=$b

  @MQTT-4.6.0-6 @v3.1 @v3.1.1
  Scenario: Unacknowledged messages are resent in the order they were first sent
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=t qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    # each message is complete before the next is published, so that the order they reach the
    # subscriber in is fixed whether the server passes QoS 2 on at PUBLISH or at PUBREL (4.3.3)
    When "pub" sends PUBLISH topic=t qos=1 id=1 payload=1
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=t qos=2 id=2 payload=2
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    And "pub" sends PUBLISH topic=t qos=1 id=3 payload=3
    And "pub" receives PUBACK id=3
    And "pub" sends PUBLISH topic=t qos=2 id=4 payload=4
    And "pub" receives PUBREC id=4
    And "pub" sends PUBREL id=4
    And "pub" receives PUBCOMP id=4
    Then "sub" receives PUBLISH payload=1 id=$a
    And "sub" receives PUBLISH payload=2 id=$b
    And "sub" receives PUBLISH payload=3 id=$c
    And "sub" receives PUBLISH payload=4 id=$d
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH dup=1 payload=1 id=$a
    And "sub" receives PUBLISH dup=1 payload=2 id=$b
    And "sub" receives PUBLISH dup=1 payload=3 id=$c
    And "sub" receives PUBLISH dup=1 payload=4 id=$d
