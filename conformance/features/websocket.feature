Feature: MQTT over WebSocket

  Tern's WebSocket listener carries the same MQTT as its TCP listener, in binary frames.

  @MQTT-6.0.0-4 @v3.1 @v3.1.1 @v5 @needs-websocket
  Scenario: The upgrade selects the subprotocol mqtt
    Given "a" opens a WebSocket connection
    Then the WebSocket subprotocol of "a" is "mqtt"
    When "a" sends CONNECT
    Then "a" receives CONNACK reason=0

  @MQTT-6.0.0-1 @v3.1 @v3.1.1 @v5 @needs-websocket
  Scenario: A text frame closes the connection
    Given "a" opens a WebSocket connection
    And "a" sends CONNECT
    And "a" receives CONNACK reason=0
    When "a" sends a WebSocket text frame "hello"
    Then "a" is disconnected

  @MQTT-6.0.0-2 @v3.1 @v3.1.1 @v5 @needs-websocket
  Scenario: A packet split across frames is read whole
    Given "a" opens a WebSocket connection
    When "a" sends, 1 byte at a time, CONNECT
    Then "a" receives CONNACK reason=0
    And "a" is still connected

  @MQTT-6.0.0-2 @v3.1 @v3.1.1 @needs-websocket
  Scenario: Several packets in one frame are all read
    Given "a" opens a WebSocket connection
    And "a" sends CONNECT
    And "a" receives CONNACK reason=0
    When "a" sends raw 82 * 0001 f"ws/t" 00 | 30 * t"ws/t" "one" | 30 * t"ws/t" "two"
    Then "a" receives SUBACK id=1 reasons=0
    And "a" receives PUBLISH topic=ws/t payload=one
    And "a" receives PUBLISH topic=ws/t payload=two

  @MQTT-6.0.0-2 @v5 @needs-websocket
  Scenario: Several 5.0 packets in one frame are all read
    Given "a" opens a WebSocket connection
    And "a" sends CONNECT
    And "a" receives CONNACK reason=0
    When "a" sends raw 82 * 0001 00 f"ws/t" 00 | 30 * t"ws/t" 00 "one" | 30 * t"ws/t" 00 "two"
    Then "a" receives SUBACK id=1 reasons=0
    And "a" receives PUBLISH topic=ws/t payload=one
    And "a" receives PUBLISH topic=ws/t payload=two
