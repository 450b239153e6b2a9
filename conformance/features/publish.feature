Feature: PUBLISH: fixed header flags, Topic Name and the response to each QoS
  Sections 3.3.1, 3.3.2 and 3.3.4 (3.3.5 in 3.1.1): what the server does with the DUP and QoS
  bits, which Topic Names it accepts and sends, how it answers each QoS, and at which QoS it
  delivers a message that matches several subscriptions.

  # --- DUP ---------------------------------------------------------------------------------

  @MQTT-3.3.1-1 @v3.1 @v3.1.1
  Scenario: An unacknowledged QoS 1 message is resent with DUP 1 when the session resumes (3.x)
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=hello
    And "pub" receives PUBACK id=1
    And "sub" receives PUBLISH topic=a/b qos=1 dup=0 id=$p payload=hello
    And "sub" closes the connection
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH topic=a/b qos=1 dup=1 id=$p payload=hello

  @MQTT-3.3.1-1 @v5
  Scenario: An unacknowledged QoS 1 message is resent with DUP 1 when the session resumes
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=hello
    And "pub" receives PUBACK id=1
    And "sub" receives PUBLISH topic=a/b qos=1 dup=0 id=$p payload=hello
    And "sub" closes the connection
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH topic=a/b qos=1 dup=1 id=$p payload=hello

  @MQTT-3.3.1-1 @v3.1 @v3.1.1
  Scenario: An unacknowledged QoS 2 message is resent with DUP 1 when the session resumes (3.x)
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "sub" receives PUBLISH topic=a/b qos=2 dup=0 id=$p payload=hello
    And "sub" closes the connection
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH topic=a/b qos=2 dup=1 id=$p payload=hello

  @MQTT-3.3.1-1 @v5
  Scenario: An unacknowledged QoS 2 message is resent with DUP 1 when the session resumes
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "sub" receives PUBLISH topic=a/b qos=2 dup=0 id=$p payload=hello
    And "sub" closes the connection
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH topic=a/b qos=2 dup=1 id=$p payload=hello

  @MQTT-3.3.1-2 @v3.1 @v3.1.1
  Scenario: A QoS 0 PUBLISH with DUP 1 closes the connection (3.x)
    Given client "a" is connected
    When "a" sends raw 38 * t"a/b" "hello"
    Then "a" is disconnected

  @MQTT-3.3.1-2 @v5
  Scenario: A QoS 0 PUBLISH with DUP 1 is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 38 * t"a/b" 00 "hello"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-3.3.1-2 @MQTT-3.3.1-3 @v3.1 @v3.1.1 @v5
  Scenario: A message published with DUP 1 reaches a QoS 0 subscriber with DUP 0
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=0
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=3 dup=1 payload=hello
    Then "pub" receives PUBACK id=3
    And "sub" receives PUBLISH topic=a/b qos=0 dup=0 payload=hello

  @MQTT-3.3.1-3 @v3.1 @v3.1.1 @v5
  Scenario: The DUP flag of the incoming PUBLISH is not passed on to subscribers
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=3 dup=1 payload=one
    And "pub" receives PUBACK id=3
    And "pub" sends PUBLISH topic=a/b qos=2 id=4 dup=1 payload=two
    And "pub" receives PUBREC id=4
    And "pub" sends PUBREL id=4
    And "pub" receives PUBCOMP id=4
    Then "sub" receives, in any order:
      """
      PUBLISH topic=a/b qos=1 dup=0 payload=one
      PUBLISH topic=a/b qos=2 dup=0 payload=two
      """

  @MQTT-3.3.1-1 @MQTT-3.3.1-3 @v3.1 @v3.1.1
  Scenario: A message queued for an offline session is first sent with DUP 0 (3.x)
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And "sub" sends raw e0 00
    And "sub" is disconnected
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 dup=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH topic=a/b qos=1 dup=0 payload=hello

  @MQTT-3.3.1-1 @MQTT-3.3.1-3 @v5
  Scenario: A message queued for an offline session is first sent with DUP 0
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And "sub" sends DISCONNECT
    And "sub" is disconnected
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 dup=1 payload=hello
    And "pub" receives PUBACK id=1
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH topic=a/b qos=1 dup=0 payload=hello

  @MQTT-3.3.1-1 @MQTT-3.3.1-3 @v5
  Scenario: Only the messages already sent are resent with DUP 1, those held back by Receive Maximum have DUP 0
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60 receive_maximum=1
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=one
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=a/b qos=1 id=2 payload=two
    And "pub" receives PUBACK id=2
    And "sub" receives PUBLISH topic=a/b dup=0 payload=one id=$one
    And "sub" closes the connection
    And client "sub" is connected with clean_start=0 session_expiry_interval=60 receive_maximum=1
    Then "sub" receives PUBLISH topic=a/b dup=1 payload=one id=$one
    When "sub" sends PUBACK id=$one
    Then "sub" receives PUBLISH topic=a/b dup=0 payload=two

  # --- QoS bits ----------------------------------------------------------------------------

  @MQTT-3.3.1-4 @v3.1 @v3.1.1
  Scenario: A PUBLISH with both QoS bits set closes the connection (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends raw 36 * t"a/b" 0001 "hello"
    Then "a" is disconnected
    And "sub" is still connected

  @MQTT-3.3.1-4 @v5
  Scenario: A PUBLISH with both QoS bits set is a Malformed Packet
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends raw 36 * t"a/b" 0001 00 "hello"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81
    And "sub" is still connected

  @MQTT-3.3.1-4 @v3.1 @v3.1.1
  Scenario: QoS 3 with DUP and RETAIN set also closes the connection (3.x)
    Given client "a" is connected
    When "a" sends raw 3f * t"a/b" 0001 "hello"
    Then "a" is disconnected

  @MQTT-3.3.1-4 @v5
  Scenario: QoS 3 with DUP and RETAIN set is also a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 3f * t"a/b" 0001 00 "hello"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  # --- Topic Name --------------------------------------------------------------------------

  @MQTT-3.3.2-1 @v3.1 @v3.1.1
  Scenario: The server's PUBLISH starts its variable header with the Topic Name (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends raw 30 * t"a/b" "hello"
    Then "sub" receives raw 30 * t"a/b" "hello"

  @MQTT-3.3.2-1 @v5
  Scenario: The server's PUBLISH starts its variable header with the Topic Name
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends raw 30 * t"a/b" 00 "hello"
    Then "sub" receives raw 30 * t"a/b" 00 "hello"

  @MQTT-3.3.2-1 @v3.1 @v3.1.1
  Scenario: A Topic Name that is not valid UTF-8 closes the connection (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=# qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends raw 30 * 0004 "ab" c3 28 "hello"
    Then "a" is disconnected
    And "sub" is still connected

  @MQTT-3.3.2-1 @v5
  Scenario: A Topic Name that is not valid UTF-8 is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 30 * 0004 "ab" c3 28 00 "hello"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-3.3.2-1 @v3.1 @v3.1.1
  Scenario: A Topic Name longer than the packet closes the connection (3.x)
    Given client "a" is connected
    When "a" sends raw 30 05 0009 "abc"
    Then "a" is disconnected

  @MQTT-3.3.2-1 @v5
  Scenario: A Topic Name longer than the packet is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 30 05 0009 "abc"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-3.3.2-2 @v3.1 @v3.1.1
  Scenario Outline: A Topic Name with a wildcard closes the connection (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=# qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends raw 30 * t"<topic>" "hello"
    Then "a" is disconnected
    And "sub" is still connected

    Examples:
      | name         | topic |
      | plus level   | a/+   |
      | hash level   | a/#   |
      | plus in word | a/b+c |
      | hash in word | a#/b  |

  @MQTT-3.3.2-2 @v5
  Scenario Outline: A Topic Name with a wildcard is refused with DISCONNECT
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=# qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends raw 30 * t"<topic>" 00 "hello"
    Then "a" is disconnected, perhaps after DISCONNECT
    And "sub" is still connected

    Examples:
      | name         | topic |
      | plus level   | a/+   |
      | hash level   | a/#   |
      | plus in word | a/b+c |
      | hash in word | a#/b  |

  @MQTT-3.3.2-2 @MQTT-3.3.2-3 @v3.1 @v3.1.1 @v5
  Scenario: A subscriber to a wildcard filter receives the Topic Name, not its filter
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=sport/+/player1 qos=0 filter=news/# qos=0
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=sport/tennis/player1 payload=one
    And "pub" sends PUBLISH topic=news payload=two
    And "pub" sends PUBLISH topic=news/local/today payload=three
    Then "sub" receives, in any order:
      """
      PUBLISH topic=sport/tennis/player1 payload=one
      PUBLISH topic=news payload=two
      PUBLISH topic=news/local/today payload=three
      """

  @MQTT-3.3.2-3 @v3.1 @v3.1.1 @v5
  Scenario: Only messages whose Topic Name matches the filter are sent to the subscriber
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/+/c qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b payload=no1
    And "pub" sends PUBLISH topic=a/b/c/d payload=no2
    And "pub" sends PUBLISH topic=A/b/c payload=no3
    And "pub" sends PUBLISH topic=a/b/c payload=yes
    And "pub" sends PUBLISH topic=a//c payload=empty-level
    Then "sub" receives, in any order:
      """
      PUBLISH topic=a/b/c payload=yes
      PUBLISH topic=a//c payload=empty-level
      """

  # --- The response to each QoS --------------------------------------------------------------

  @MQTT-3.3.4-1 @v3.1 @v3.1.1 @v5
  Scenario: A QoS 0 PUBLISH gets no response
    Given client "a" is connected
    When "a" sends PUBLISH topic=a/b qos=0 payload=hello
    Then "a" is still connected

  @MQTT-3.3.4-1 @v3.1 @v3.1.1 @v5
  Scenario: A QoS 1 PUBLISH is answered with a PUBACK carrying its Packet Identifier
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends PUBLISH topic=a/b qos=1 id=4242 payload=hello
    Then "a" receives PUBACK id=4242
    And "a" is still connected

  @MQTT-3.3.4-1 @v3.1 @v3.1.1 @v5
  Scenario: A QoS 2 PUBLISH is answered with a PUBREC carrying its Packet Identifier
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends PUBLISH topic=a/b qos=2 id=65535 payload=hello
    Then "a" receives PUBREC id=65535
    And "a" is still connected

  @MQTT-3.3.4-1 @v3.1 @v3.1.1 @v5
  Scenario: Each of several PUBLISH packets of mixed QoS gets its own response
    Given client "a" is connected
    When "a" sends PUBLISH topic=a/b qos=1 id=1 payload=one
    And "a" sends PUBLISH topic=a/b qos=0 payload=zero
    And "a" sends PUBLISH topic=a/b qos=2 id=2 payload=two
    And "a" sends PUBLISH topic=a/b qos=1 id=3 payload=three
    Then "a" receives, in any order:
      """
      PUBACK id=1
      PUBREC id=2
      PUBACK id=3
      """
    And "a" is still connected

  # --- Overlapping subscriptions -------------------------------------------------------------

  @MQTT-3.3.5-1 @v3.1 @v3.1.1
  Scenario: Overlapping subscriptions deliver the message at their highest QoS (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/+ qos=0 filter=a/# qos=2 filter=a/b qos=1
    And "sub" receives SUBACK id=1 reasons=0x00,0x02,0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    # one copy at the highest QoS; the server may add one copy per further matching
    # subscription, at that subscription's QoS
    Then "sub" receives PUBLISH, perhaps with further copies, topic=a/b qos=2 payload=hello
      """
      PUBLISH topic=a/b qos=0 payload=hello
      PUBLISH topic=a/b qos=1 payload=hello
      """

  @MQTT-3.3.4-2 @v5
  Scenario: Overlapping subscriptions deliver the message at their highest QoS
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/+ qos=0 filter=a/# qos=2 filter=a/b qos=1
    And "sub" receives SUBACK id=1 reasons=0x00,0x02,0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    # one copy at the highest QoS; the server may add one copy per further matching
    # subscription, at that subscription's QoS
    Then "sub" receives PUBLISH, perhaps with further copies, topic=a/b qos=2 payload=hello
      """
      PUBLISH topic=a/b qos=0 payload=hello
      PUBLISH topic=a/b qos=1 payload=hello
      """

  @MQTT-3.3.5-1 @v3.1 @v3.1.1
  Scenario: The highest QoS of overlapping subscriptions is capped by the published QoS (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/+ qos=0 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=hello
    And "pub" receives PUBACK id=1
    Then "sub" receives PUBLISH topic=a/b qos=1 payload=hello

  @MQTT-3.3.4-2 @v5
  Scenario: The highest QoS of overlapping subscriptions is capped by the published QoS
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/+ qos=0 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=hello
    And "pub" receives PUBACK id=1
    Then "sub" receives PUBLISH topic=a/b qos=1 payload=hello

  # --- A PUBLISH the server will not accept (3.x cannot be told why) -------------------------

  @MQTT-3.3.5-2 @v3.1 @v3.1.1 @needs-config
  Scenario: A PUBLISH above the server's maximum QoS is refused by closing the connection (3.x)
    Given the broker is configured with mqtt.maximum_qos = 1
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    Then "a" is disconnected
    And "sub" is still connected

  @MQTT-3.3.5-2 @v3.1 @v3.1.1 @needs-config
  Scenario: A retained PUBLISH to a server without retained messages closes the connection (3.x)
    Given the broker is configured with mqtt.retain_available = false
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" sends PUBLISH topic=a/b qos=1 id=1 retain=1 payload=hello
    Then "a" is disconnected
    And "sub" is still connected

  @MQTT-3.3.5-2 @v3.1 @v3.1.1 @needs-config
  Scenario: A PUBLISH the server accepts is acknowledged as usual next to one it refuses (3.x)
    Given the broker is configured with mqtt.maximum_qos = 1
    And client "a" is connected
    When "a" sends PUBLISH topic=a/b qos=1 id=1 payload=fine
    Then "a" receives PUBACK id=1
    When "a" sends PUBLISH topic=a/b qos=2 id=2 payload=refused
    Then "a" is disconnected
