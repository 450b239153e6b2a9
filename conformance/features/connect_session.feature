Feature: CONNECT: Clean Session, Clean Start and Session Expiry Interval
  Sections 3.1.2.4 and 3.1.2.11.2, and the session steps of 3.1.4: which session a CONNECT
  resumes, creates or discards, what the server keeps for a client while it is away, and that
  the client identifier is what names a session. Retained messages are not part of it.

  # --- MQTT 3.1.1: Clean Session ----------------------------------------------------------------

  @MQTT-3.1.2-4 @MQTT-3.1.4-3 @v3.1.1
  Scenario: Clean Session 0 creates a session that outlives the connection and is resumed
    Given "a" opens a connection
    And "a" sends CONNECT clean_session=0
    And "a" receives CONNACK reason=0 session_present=0
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_session=0
    Then "a" receives CONNACK reason=0 session_present=1
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=resumed
    And "b" receives PUBACK id=1
    And "a" receives PUBLISH topic=x qos=1 payload=resumed

  @MQTT-3.1.2-4 @MQTT-3.1.4-3 @v3.1
  Scenario: Clean Session 0 keeps the session and its subscriptions for the next connection (3.1)
    Given client "a" is connected with clean_session=0
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    When client "a" is connected with clean_session=0
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=resumed
    And "b" receives PUBACK id=1
    Then "a" receives PUBLISH topic=x qos=1 payload=resumed

  @MQTT-3.1.2-5 @v3.1 @v3.1.1
  Scenario: QoS 1 and QoS 2 messages for a disconnected Clean Session 0 client are kept for it
    Given client "a" is connected with clean_session=0
    And "a" sends SUBSCRIBE id=1 filter=x qos=2
    And "a" receives SUBACK id=1 reasons=0x02
    And "a" closes the connection
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=one
    And "b" receives PUBACK id=1
    And "b" sends PUBLISH topic=x qos=2 id=2 payload=two
    And "b" receives PUBREC id=2
    And "b" sends PUBREL id=2
    And "b" receives PUBCOMP id=2
    When client "a" is connected with clean_session=0
    Then "a" receives PUBLISH topic=x qos=1 payload=one
    And "a" receives PUBLISH topic=x qos=2 payload=two

  @MQTT-3.1.2-6 @MQTT-3.1.4-3 @v3.1.1
  Scenario: Clean Session 1 discards the previous session, and its own session is not reused
    Given client "a" is connected with clean_session=0
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=old
    And "b" receives PUBACK id=1
    When "a" opens a connection
    And "a" sends CONNECT clean_session=1
    Then "a" receives CONNACK reason=0 session_present=0
    And "b" sends PUBLISH topic=x qos=1 id=2 payload=new
    And "b" receives PUBACK id=2
    # Neither the queued message nor the subscription survived.
    And "a" is still connected
    And "a" sends SUBSCRIBE id=1 filter=y qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    # The clean session ended with its connection: nothing of it is resumed.
    And "a" opens a connection
    And "a" sends CONNECT clean_session=0
    And "a" receives CONNACK reason=0 session_present=0
    And "b" sends PUBLISH topic=y qos=1 id=3 payload=later
    And "b" receives PUBACK id=3
    And "a" is still connected

  @MQTT-3.1.2-6 @MQTT-3.1.4-3 @v3.1
  Scenario: Clean Session 1 discards the previous session (3.1)
    Given client "a" is connected with clean_session=0
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=old
    And "b" receives PUBACK id=1
    When client "a" is connected with clean_session=1
    And "b" sends PUBLISH topic=x qos=1 id=2 payload=new
    And "b" receives PUBACK id=2
    Then "a" is still connected
    And "a" sends SUBSCRIBE id=1 filter=y qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    And client "a" is connected with clean_session=0
    And "b" sends PUBLISH topic=y qos=1 id=3 payload=later
    And "b" receives PUBACK id=3
    And "a" is still connected

  @MQTT-3.1.2-7 @v3.1 @v3.1.1
  Scenario: A retained message outlives the session of the client that published it
    Given client "a" is connected
    And "a" sends PUBLISH topic=x qos=1 id=1 retain=1 payload=kept
    And "a" receives PUBACK id=1
    And "a" sends DISCONNECT
    And "a" is disconnected
    When client "b" is connected
    And "b" sends SUBSCRIBE id=1 filter=x qos=0
    Then "b" receives SUBACK id=1 reasons=0x00
    And "b" receives PUBLISH topic=x retain=1 payload=kept

  # --- MQTT 5.0: Clean Start and Session Expiry Interval --------------------------------------

  @MQTT-3.1.2-6 @v5
  Scenario: Clean Start 0 without a session creates a new session
    Given "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    And "a" receives CONNACK reason=0 session_present=0
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=1

  @MQTT-3.1.2-5 @MQTT-3.1.4-4 @v5
  Scenario: Clean Start 0 resumes the existing session
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=queued
    And "b" receives PUBACK id=1
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=1
    And "a" receives PUBLISH topic=x qos=1 payload=queued
    And "b" sends PUBLISH topic=x qos=1 id=2 payload=live
    And "b" receives PUBACK id=2
    And "a" receives PUBLISH topic=x qos=1 payload=live

  @MQTT-3.1.2-4 @MQTT-3.1.4-4 @v5
  Scenario: Clean Start 1 discards the existing session
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" sends DISCONNECT
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=old
    And "b" receives PUBACK id=1
    When "a" opens a connection
    And "a" sends CONNECT clean_start=1 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=0
    And "b" sends PUBLISH topic=x qos=1 id=2 payload=new
    And "b" receives PUBACK id=2
    And "a" is still connected

  @MQTT-3.1.2-4 @v5
  Scenario: Clean Start 1 discards the session of a client that is still connected
    Given client "first" is connected with client_id=a clean_start=0 session_expiry_interval=60
    And "first" sends SUBSCRIBE id=1 filter=x qos=1
    And "first" receives SUBACK id=1 reasons=0x01
    When "second" opens a connection
    And "second" sends CONNECT client_id=a clean_start=1
    Then "second" receives CONNACK reason=0 session_present=0
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=new
    And "b" receives PUBACK id=1
    And "second" is still connected

  @MQTT-3.1.2-23 @v5
  Scenario: A session with a Session Expiry Interval is kept after the network connection closes
    Given client "a" is connected with clean_start=1 session_expiry_interval=60
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" closes the connection
    And "a" is disconnected
    And client "b" is connected
    And "b" sends PUBLISH topic=x qos=1 id=1 payload=kept
    And "b" receives PUBACK id=1
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=1
    And "a" receives PUBLISH topic=x qos=1 payload=kept

  @MQTT-3.1.2-23 @v5
  Scenario: A session is kept while its Session Expiry Interval runs
    Given client "a" is connected with clean_start=1 session_expiry_interval=5
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" closes the connection
    And "a" is disconnected
    # A second of the five: the rest is room for a step that runs late.
    And 1 second passes
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=5
    Then "a" receives CONNACK reason=0 session_present=1

  # --- Both: the client identifier names the session ------------------------------------------

  # 3.x CONNECT has no properties: there the Session Expiry Interval is left out, and Clean
  # Session 0 alone keeps the session.
  @MQTT-3.1.3-2 @v3.1 @v3.1.1 @v5
  Scenario: The session a CONNECT resumes is the one of its client identifier
    Given client "first" is connected with client_id=a clean_start=0 session_expiry_interval=60
    And "first" sends SUBSCRIBE id=1 filter=x qos=1
    And "first" receives SUBACK id=1 reasons=0x01
    And "first" sends DISCONNECT
    And "first" is disconnected
    And client "other" is connected with client_id=b clean_start=0 session_expiry_interval=60
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x qos=1 id=1 payload=for-a
    And "pub" receives PUBACK id=1
    Then "other" is still connected
    And client "again" is connected with client_id=a clean_start=0 session_expiry_interval=60
    And "again" receives PUBLISH topic=x qos=1 payload=for-a
