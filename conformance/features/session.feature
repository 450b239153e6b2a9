Feature: Session state (section 4.1) and message delivery retry (section 4.4)
  The server keeps a session's state as long as the session lasts, at least while its network
  connection is open, and (5.0) discards it once the connection has closed and the Session
  Expiry Interval has passed. Unacknowledged QoS 1 and QoS 2 PUBLISH packets and PUBREL
  packets are resent with their original identifiers when the client comes back to its
  session, and at no other time. A short wait after a client closes its connection lets the
  broker see the close before the next step.

  # -------------------------------------------------------------------------------------------
  # Session state, MQTT 3.1.1 and 3.1
  # -------------------------------------------------------------------------------------------

  @MQTT-4.1.0-1 @v3.1 @v3.1.1
  Scenario: Subscriptions and messages for an absent client are kept while its session lasts
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1 filter=y qos=2
    And "sub" receives SUBACK id=1 reasons=0x01,0x02
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" receives PUBACK id=1
    And "pub" sends PUBLISH topic=y qos=2 id=2 payload=2
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH topic=x qos=1 payload=1
    And "sub" receives PUBLISH topic=y qos=2 payload=2
    # the subscriptions are still there
    When "pub" sends PUBLISH topic=x qos=1 id=3 payload=3
    Then "sub" receives PUBLISH topic=x qos=1 payload=3

  @MQTT-4.1.0-1 @v3.1.1
  Scenario: A client coming back to its session is told the session is present
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And "sub" closes the connection
    And 200 milliseconds pass
    When "sub" opens a connection
    And "sub" sends CONNECT clean_session=0
    Then "sub" receives CONNACK reason=0 session_present=1

  @MQTT-4.1.0-1 @MQTT-4.3.3-2 @v3.1 @v3.1.1
  Scenario: A QoS 2 message received but not released is remembered across connections
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected with clean_session=0
    When "pub" sends PUBLISH topic=x qos=2 id=5 payload=once
    Then "pub" receives PUBREC id=5
    When "pub" closes the connection
    And 200 milliseconds pass
    And client "pub" is connected with clean_session=0
    # the client resends its unacknowledged PUBLISH [MQTT-4.4.0-1]: acknowledged, not delivered
    # again
    And "pub" sends PUBLISH topic=x qos=2 id=5 dup=1 payload=once
    Then "pub" receives PUBREC id=5
    When "pub" sends PUBREL id=5
    Then "pub" receives PUBCOMP id=5
    # passed on at the first PUBLISH or at the PUBREL (4.3.3 lets the server choose): once
    And "sub" receives PUBLISH payload=once id=$p
    And "sub" sends PUBREC id=$p
    And "sub" receives PUBREL id=$p
    And "sub" is still connected

  @MQTT-4.1.0-2 @v3.1 @v3.1.1
  Scenario: A clean session lasts as long as its network connection
    Given client "sub" is connected with clean_session=1
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected with clean_session=1
    And "pub" sends PUBLISH topic=x qos=2 id=7 payload=1
    And "pub" receives PUBREC id=7
    When 1500 milliseconds pass
    And "pub" sends PUBLISH topic=x qos=1 id=8 payload=2
    Then "pub" receives PUBACK id=8
    # the QoS 2 message still awaits its PUBREL: a resend is not delivered again
    When "pub" sends PUBLISH topic=x qos=2 id=7 dup=1 payload=1
    Then "pub" receives PUBREC id=7
    When "pub" sends PUBREL id=7
    Then "pub" receives PUBCOMP id=7
    # the server passes the QoS 2 message on at its PUBLISH or at its PUBREL (4.3.3), so it
    # may come before or after the QoS 1 one (4.6 orders messages of the same QoS only); the
    # subscriber's session still routes both, each once
    And "sub" receives, in any order:
      """
      PUBLISH qos=1 payload=1 dup=0
      PUBLISH qos=1 payload=2 dup=0
      """
    And "sub" is still connected

  # -------------------------------------------------------------------------------------------
  # Session state, MQTT 5.0
  # -------------------------------------------------------------------------------------------

  @MQTT-4.1.0-1 @v5
  Scenario: The session is kept while the connection is open, past its expiry interval
    Given client "sub" is connected with session_expiry_interval=1
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected with session_expiry_interval=1
    And "pub" sends PUBLISH topic=x qos=2 id=7 payload=1
    And "pub" receives PUBREC id=7
    When 1500 milliseconds pass
    And "pub" sends PUBLISH topic=x qos=1 id=8 payload=2
    Then "pub" receives PUBACK id=8
    # the QoS 2 message still awaits its PUBREL: a resend is not delivered again, and the
    # PUBREL finds its identifier (no 0x92)
    When "pub" sends PUBLISH topic=x qos=2 id=7 dup=1 payload=1
    Then "pub" receives PUBREC id=7 reason=0x00
    When "pub" sends PUBREL id=7
    Then "pub" receives PUBCOMP id=7 reason=0x00
    # passed on at its PUBLISH or at its PUBREL (4.3.3): before or after the QoS 1 message
    And "sub" receives, in any order:
      """
      PUBLISH qos=1 payload=1 dup=0 id=$p
      PUBLISH qos=1 payload=2 dup=0 id=$q
      """
    When "sub" sends PUBACK id=$p
    And "sub" sends PUBACK id=$q
    Then "sub" is still connected

  @MQTT-4.1.0-1 @v5
  Scenario: A session with no expiry interval is kept while its connection is open
    Given client "sub" is connected with session_expiry_interval=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    And 1 second passes
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH qos=2 payload=1 id=$p
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p
    When 1 second passes
    And "sub" sends PUBCOMP id=$p
    Then "sub" is still connected

  @MQTT-4.1.0-2 @v5
  Scenario: The session is discarded once the connection is closed and its expiry interval has passed
    Given client "gone" is connected with clean_start=0 session_expiry_interval=1
    And "gone" sends SUBSCRIBE id=1 filter=x qos=1
    And "gone" receives SUBACK id=1 reasons=0x01
    And client "kept" is connected with clean_start=0 session_expiry_interval=60
    And "kept" sends SUBSCRIBE id=1 filter=x qos=1
    And "kept" receives SUBACK id=1 reasons=0x01
    And "gone" closes the connection
    And "kept" closes the connection
    And 200 milliseconds pass
    And client "pub" is connected
    And "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" receives PUBACK id=1
    When 2 seconds pass
    And "gone" opens a connection
    And "gone" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "gone" receives CONNACK reason=0 session_present=0
    # neither the queued message nor the subscription survived
    And "gone" is still connected
    When "pub" sends PUBLISH topic=x qos=1 id=2 payload=2
    And "pub" receives PUBACK id=2
    Then "gone" is still connected
    # the session that had time left is still there, with its message
    When "kept" opens a connection
    And "kept" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "kept" receives CONNACK reason=0 session_present=1
    And "kept" receives PUBLISH payload=1
    And "kept" receives PUBLISH payload=2

  @MQTT-4.1.0-2 @v5
  Scenario: A session whose expiry interval is set to 0 by DISCONNECT ends with the connection
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    When "sub" sends DISCONNECT session_expiry_interval=0
    And 200 milliseconds pass
    And "sub" opens a connection
    And "sub" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "sub" receives CONNACK reason=0 session_present=0

  # -------------------------------------------------------------------------------------------
  # Delivery retry, MQTT 3.1.1 and 3.1
  # -------------------------------------------------------------------------------------------

  @MQTT-4.4.0-1 @v3.1 @v3.1.1
  Scenario: Unacknowledged QoS 1 and QoS 2 PUBLISH packets are resent with their identifiers
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH qos=1 dup=0 payload=1 id=$a
    And "sub" receives PUBLISH qos=2 dup=0 payload=2 id=$b
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" receives PUBLISH topic=x qos=1 dup=1 payload=1 id=$a
    And "sub" receives PUBLISH topic=x qos=2 dup=1 payload=2 id=$b
    When "sub" sends PUBACK id=$a
    And "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$b
    When "sub" sends PUBCOMP id=$b
    # acknowledged now: nothing is resent on the next return
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_session=0
    Then "sub" is still connected

  @MQTT-4.4.0-1 @MQTT-4.3.3-1 @v3.1 @v3.1.1
  Scenario: An unacknowledged PUBREL is resent with its identifier, without the PUBLISH
    Given client "sub" is connected with clean_session=0
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH qos=2 payload=1 id=$p
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p
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

  @MQTT-4.4.0-1 @v3.1 @v3.1.1
  Scenario: A PUBREL the client resends after coming back is answered with PUBCOMP
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected with clean_session=0
    When "pub" sends PUBLISH topic=x qos=2 id=3 payload=1
    Then "pub" receives PUBREC id=3
    When "pub" closes the connection
    And 200 milliseconds pass
    And client "pub" is connected with clean_session=0
    And "pub" sends PUBREL id=3
    Then "pub" receives PUBCOMP id=3
    # passed on at the PUBLISH or at this PUBREL (4.3.3 lets the server choose): once
    And "sub" receives PUBLISH payload=1
    And "sub" is still connected

  # -------------------------------------------------------------------------------------------
  # Delivery retry, MQTT 5.0
  # -------------------------------------------------------------------------------------------

  @MQTT-4.4.0-1 @v5
  Scenario: Unacknowledged 5.0 PUBLISH packets are resent with their identifiers
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH qos=1 dup=0 payload=1 id=$a
    And "sub" receives PUBLISH qos=2 dup=0 payload=2 id=$b
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBLISH topic=x qos=1 dup=1 payload=1 id=$a
    And "sub" receives PUBLISH topic=x qos=2 dup=1 payload=2 id=$b
    When "sub" sends PUBACK id=$a
    And "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$b
    When "sub" sends PUBCOMP id=$b
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" is still connected

  @MQTT-4.4.0-1 @v5
  Scenario: An unacknowledged 5.0 PUBREL is resent with its identifier, without the PUBLISH
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH qos=2 payload=1 id=$p
    When "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBREL id=$p
    And "sub" is still connected
    When "sub" sends PUBCOMP id=$p
    Then "sub" is still connected

  @MQTT-4.4.0-1 @v5
  Scenario: Nothing is resent on a connection that stays open
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH qos=1 payload=1 id=$a
    And "sub" receives PUBLISH qos=2 payload=2 id=$b
    When 1500 milliseconds pass
    Then "sub" is still connected
    When "sub" sends PUBREC id=$b
    Then "sub" receives PUBREL id=$b
    When 1500 milliseconds pass
    Then "sub" is still connected

  @MQTT-4.4.0-1 @v5
  Scenario: Nothing is resent to a client that comes back with Clean Start 1
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    And "pub" sends PUBLISH topic=x qos=2 id=2 payload=2
    And "pub" receives PUBACK id=1
    And "pub" receives PUBREC id=2
    And "pub" sends PUBREL id=2
    And "pub" receives PUBCOMP id=2
    Then "sub" receives PUBLISH payload=1
    And "sub" receives PUBLISH payload=2
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=1 session_expiry_interval=60
    Then "sub" is still connected

  @MQTT-4.4.0-1 @v5
  Scenario: A PUBREL the 5.0 client resends after coming back is answered with PUBCOMP
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected with clean_start=0 session_expiry_interval=60
    When "pub" sends PUBLISH topic=x qos=2 id=3 payload=1
    Then "pub" receives PUBREC id=3 reason=0x00
    When "pub" closes the connection
    And 200 milliseconds pass
    And client "pub" is connected with clean_start=0 session_expiry_interval=60
    And "pub" sends PUBREL id=3
    Then "pub" receives PUBCOMP id=3 reason=0x00
    # passed on at the PUBLISH or at this PUBREL (4.3.3 lets the server choose): once
    And "sub" receives PUBLISH payload=1
    And "sub" is still connected

  @MQTT-4.4.0-2 @v5
  Scenario: A PUBLISH answered by PUBACK with an error code is not resent
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=1
    Then "sub" receives PUBLISH payload=1 id=$p
    When "sub" sends PUBACK id=$p reason=0x80
    And "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" is still connected

  @MQTT-4.4.0-2 @v5
  Scenario: A PUBLISH answered by PUBREC with an error code is neither released nor resent
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=x qos=2
    And "sub" receives SUBACK id=1 reasons=0x02
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=2 id=1 payload=1
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    Then "sub" receives PUBLISH payload=1 id=$p
    When "sub" sends PUBREC id=$p reason=0x83
    Then "sub" is still connected
    When "sub" closes the connection
    And 200 milliseconds pass
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" is still connected
