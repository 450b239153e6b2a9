Feature: CONNECT: the Will Message
  Sections 3.1.2.5 to 3.1.2.7 and 3.1.3.2: the will a CONNECT leaves with the server, when it
  is published and when it is not, whether it is retained, the Will Delay Interval and the
  will's User Properties. Each will goes to a topic a subscriber "sub" watches; where a will
  must not be published, a later message on the same topic is the first thing "sub" receives.

  # --- MQTT 3.1.1 -----------------------------------------------------------------------------

  @MQTT-3.1.2-8 @v3.1 @v3.1.1
  Scenario: The will is published when the connection closes without DISCONNECT (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "a" is connected with will_topic=w will_payload=gone will_qos=1
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w qos=1 payload=gone

  @MQTT-3.1.2-8 @v3.1 @v3.1.1
  Scenario: The will is published when the server closes the connection for a protocol violation (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone
    When "a" sends CONNECT
    Then "a" is disconnected
    And "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-8 @v3.1 @v3.1.1
  Scenario: The will of a client whose connection is taken over is published (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "first" is connected with client_id=a clean_session=0 will_topic=w will_payload=gone
    When client "second" is connected with client_id=a clean_session=0
    Then "first" is disconnected
    And "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-8 @MQTT-3.1.4-2 @v3.1 @v3.1.1
  Scenario: A connection that just closes leaves its will once, before the CONNECT sent right after it (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "a" is connected with will_topic=w will_payload=gone will_qos=1
    When "a" opens a connection
    And "a" sends CONNECT
    Then "a" receives raw 20 02 00 00
    And "sub" receives PUBLISH topic=w qos=1 payload=gone
    And "sub" does not receive PUBLISH topic=w

  @MQTT-3.1.2-8 @MQTT-3.1.2-10 @v3.1 @v3.1.1
  Scenario: DISCONNECT deletes the will (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone
    When "a" sends DISCONNECT
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=w payload=after
    Then "sub" receives PUBLISH topic=w payload=after

  @MQTT-3.1.2-10 @v3.1 @v3.1.1
  Scenario: A will that has been published is not published again (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with clean_session=0 will_topic=w will_payload=gone
    And "a" closes the connection
    And "sub" receives PUBLISH topic=w payload=gone
    When client "a" is connected with clean_session=0
    And "a" closes the connection
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=w payload=after
    Then "sub" receives PUBLISH topic=w payload=after

  @MQTT-3.1.2-12 @v3.1 @v3.1.1
  Scenario: No will is published for a connection whose Will Flag is 0 (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=# qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected
    When "a" closes the connection
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=w payload=after
    Then "sub" receives PUBLISH topic=w payload=after

  @MQTT-3.1.2-16 @v3.1 @v3.1.1
  Scenario: A will with Will Retain 0 is published as a non-retained message (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone will_retain=0
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w retain=0 payload=gone
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=w qos=0
    And "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.1.2-17 @v3.1 @v3.1.1
  Scenario: A will with Will Retain 1 is published as a retained message (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone will_retain=1
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w payload=gone
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=w qos=0
    And "late" receives SUBACK id=1
    And "late" receives PUBLISH topic=w retain=1 payload=gone

  # --- MQTT 5.0 -------------------------------------------------------------------------------

  @MQTT-3.1.2-7 @MQTT-3.1.2-8 @v5
  Scenario: The will is published when the connection closes without DISCONNECT
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "a" is connected with will_topic=w will_payload=gone will_qos=1
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w qos=1 payload=gone

  @MQTT-3.1.2-8 @MQTT-3.1.4-3 @v5
  Scenario: A connection that just closes leaves its will once, before the CONNECT sent right after it
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "a" is connected with will_topic=w will_payload=gone will_qos=1
    When "a" opens a connection
    And "a" sends CONNECT
    Then "a" receives CONNACK reason=0 session_present=0
    And "sub" receives PUBLISH topic=w qos=1 payload=gone
    And "sub" does not receive PUBLISH topic=w

  @MQTT-3.1.2-8 @v5
  Scenario: The will is published when the server closes the connection for a Protocol Error
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone
    When "a" sends CONNECT
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82
    And "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-8 @v5
  Scenario: The will waits for its Will Delay Interval
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with session_expiry_interval=60 will_topic=w will_payload=gone will_delay_interval=3
    When "a" closes the connection
    And "a" is disconnected
    # Not in the first half second (the slack is for a step that runs late), then by the 3 s.
    Then "sub" receives nothing
    And "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-7 @MQTT-3.1.2-8 @v5
  Scenario: The will is published when its session ends before the Will Delay Interval
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with session_expiry_interval=1 will_topic=w will_payload=gone will_delay_interval=30
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-8 @v5
  Scenario: A will with a Will Delay Interval is published at once when the session ends with the connection
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with session_expiry_interval=0 will_topic=w will_payload=gone will_delay_interval=30
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-8 @v5
  Scenario: A new connection with Clean Start 1 ends the session and so publishes its waiting will
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with session_expiry_interval=60 will_topic=w will_payload=gone will_delay_interval=30
    And "a" closes the connection
    And "a" is disconnected
    When client "a" is connected with clean_start=1
    Then "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-8 @v5
  Scenario: The will of a client whose connection is taken over is published when it has no Will Delay Interval
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "first" is connected with client_id=a session_expiry_interval=60 will_topic=w will_payload=gone
    When client "second" is connected with client_id=a clean_start=0 session_expiry_interval=60
    Then "first" is disconnected, perhaps after DISCONNECT reason=0x8E
    And "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-8 @MQTT-3.1.2-10 @v5
  Scenario: DISCONNECT with reason 0x00 deletes the will
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone
    When "a" sends DISCONNECT reason=0x00
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=w payload=after
    Then "sub" receives PUBLISH topic=w payload=after

  @MQTT-3.1.2-8 @v5
  Scenario: DISCONNECT with reason 0x04 keeps the will
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone
    When "a" sends DISCONNECT reason=0x04
    Then "sub" receives PUBLISH topic=w payload=gone

  @MQTT-3.1.2-10 @v5
  Scenario: A will that has been published is not published again
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with session_expiry_interval=60 will_topic=w will_payload=gone
    And "a" closes the connection
    And "sub" receives PUBLISH topic=w payload=gone
    When client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" closes the connection
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=w payload=after
    Then "sub" receives PUBLISH topic=w payload=after

  @MQTT-3.1.3-9 @v5
  Scenario: A new connection to the session before the Will Delay Interval has passed cancels the will
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with session_expiry_interval=60 will_topic=w will_payload=gone will_delay_interval=3
    And "a" closes the connection
    And "a" is disconnected
    # 3 s leave room for a step that runs late; the wait below outlasts them.
    When client "a" is connected with clean_start=0 session_expiry_interval=60
    And 3500 milliseconds pass
    And client "b" is connected
    And "b" sends PUBLISH topic=w payload=after
    Then "sub" receives PUBLISH topic=w payload=after

  @MQTT-3.1.3-9 @v5
  Scenario: A takeover of the session before the Will Delay Interval has passed cancels the will
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "first" is connected with client_id=a session_expiry_interval=60 will_topic=w will_payload=gone will_delay_interval=3
    When client "second" is connected with client_id=a clean_start=0 session_expiry_interval=60
    And "first" is disconnected, perhaps after DISCONNECT reason=0x8E
    And 3500 milliseconds pass
    And client "b" is connected
    And "b" sends PUBLISH topic=w payload=after
    Then "sub" receives PUBLISH topic=w payload=after

  @MQTT-3.1.2-14 @v5
  Scenario: A will with Will Retain 0 is published as a non-retained message
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone will_retain=0
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w retain=0 payload=gone
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=w qos=0
    And "late" receives SUBACK id=1
    And "late" is still connected

  @MQTT-3.1.2-15 @v5
  Scenario: A will with Will Retain 1 is published as a retained message
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone will_retain=1
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w payload=gone
    And client "late" is connected
    And "late" sends SUBSCRIBE id=1 filter=w qos=0
    And "late" receives SUBACK id=1
    And "late" receives PUBLISH topic=w retain=1 payload=gone

  @MQTT-3.1.3-10 @v5
  Scenario: The will keeps its User Properties in their order
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=w qos=0
    And "sub" receives SUBACK id=1
    And client "a" is connected with will_topic=w will_payload=gone will.user_property=k:1 will.user_property=b:2 will.user_property=k:3 will.user_property=a:4
    When "a" closes the connection
    Then "sub" receives PUBLISH topic=w payload=gone user_property=k:1,b:2,k:3,a:4
