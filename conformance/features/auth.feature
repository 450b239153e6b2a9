Feature: AUTH and enhanced authentication
  Sections 3.15 and 4.12 of MQTT 5.0, and the closing rules of 4.13, for a server that
  supports no Authentication Method: a CONNECT that names one is refused and closed, the
  server never starts an AUTH exchange or names a method of its own, an AUTH outside an
  exchange is a Protocol Error, and an AUTH with reserved flags is a Malformed Packet.
  (Statements about a running exchange wait for a supported method.)

  # --- An Authentication Method the server does not support ---------------------------------

  @MQTT-4.12.0-1 @MQTT-4.12.0-4 @MQTT-4.13.2-1 @v5
  Scenario: A CONNECT with an unsupported Authentication Method is refused and closed
    Given "a" opens a connection
    When "a" sends CONNECT authentication_method=SCRAM-SHA-1 authentication_data=client-first-data
    Then "a" is disconnected, perhaps after one of:
      """
      CONNACK reason=0x8c session_present=0
      CONNACK reason=0x87 session_present=0
      """

  @MQTT-4.12.0-1 @v5
  Scenario: A CONNECT with an unsupported Authentication Method and no data is refused and closed
    Given "a" opens a connection
    When "a" sends CONNECT authentication_method=GS2-KRB5
    Then "a" is disconnected, perhaps after one of:
      """
      CONNACK reason=0x8c session_present=0
      CONNACK reason=0x87 session_present=0
      """

  @MQTT-4.12.0-1 @MQTT-3.2.0-1 @v5
  Scenario: A client refused for its Authentication Method gets no answer to the packets behind CONNECT
    Given "a" opens a connection
    When "a" sends CONNECT authentication_method=SCRAM-SHA-1
    And "a" sends PINGREQ
    And "a" sends SUBSCRIBE id=1 filter=x qos=0
    Then "a" is disconnected, perhaps after one of:
      """
      CONNACK reason=0x8c session_present=0
      CONNACK reason=0x87 session_present=0
      """

  @MQTT-4.12.0-1 @MQTT-4.12.0-4 @v5
  Scenario: An AUTH sent right behind a refused CONNECT does not continue the authentication
    Given "a" opens a connection
    When "a" sends CONNECT authentication_method=SCRAM-SHA-1 authentication_data=client-first-data
    And "a" sends AUTH reason=0x18 authentication_method=SCRAM-SHA-1 authentication_data=client-final-data
    Then "a" is disconnected, perhaps after one of:
      """
      CONNACK reason=0x8c session_present=0
      CONNACK reason=0x87 session_present=0
      """

  @MQTT-4.12.0-1 @MQTT-4.13.2-1 @v5
  Scenario: A refused Authentication Method does not take over the connection of the same client
    Given client "a" is connected
    When "a2" opens a connection
    And "a2" sends CONNECT client_id=a authentication_method=SCRAM-SHA-1
    Then "a2" is disconnected, perhaps after one of:
      """
      CONNACK reason=0x8c session_present=0
      CONNACK reason=0x87 session_present=0
      """
    And "a" is still connected

  @MQTT-4.12.0-1 @MQTT-4.13.2-1 @v5
  Scenario: A refused Authentication Method with Clean Start 1 leaves the stored session alone
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a2" opens a connection
    And "a2" sends CONNECT client_id=a clean_start=1 authentication_method=SCRAM-SHA-1
    And "a2" is disconnected, perhaps after one of:
      """
      CONNACK reason=0x8c session_present=0
      CONNACK reason=0x87 session_present=0
      """
    Then "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    And "a" receives CONNACK reason=0 session_present=1

  # --- No Authentication Method: no AUTH, no method in CONNACK --------------------------------

  @MQTT-4.12.0-6 @v5
  Scenario: Without an Authentication Method the CONNACK names none and no AUTH is sent
    Given "a" opens a connection
    When "a" sends CONNECT
    Then "a" receives CONNACK reason=0 authentication_method=- authentication_data=-
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1
    And "a" sends PUBLISH topic=x qos=1 id=2 payload=hi
    And "a" receives, in any order:
      """
      PUBACK id=2
      PUBLISH topic=x payload=hi
      """
    And "a" is still connected

  @MQTT-4.12.0-6 @v5
  Scenario: A resumed session without an Authentication Method gets a CONNACK that names none
    Given client "a" is connected with clean_start=0 session_expiry_interval=60
    And "a" sends DISCONNECT
    And "a" is disconnected
    When "a" opens a connection
    And "a" sends CONNECT clean_start=0 session_expiry_interval=60
    Then "a" receives CONNACK reason=0 session_present=1 authentication_method=- authentication_data=-

  @MQTT-4.12.0-6 @MQTT-4.12.0-7 @MQTT-4.13.1-1 @v5
  Scenario: An AUTH from a client that gave no Authentication Method is a Protocol Error, not the start of an exchange
    Given client "a" is connected
    When "a" sends AUTH reason=0x18 authentication_method=SCRAM-SHA-1 authentication_data=client-first-data
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x82

  @MQTT-4.12.0-6 @MQTT-4.12.0-7 @MQTT-4.13.1-1 @v5
  Scenario: An AUTH sent right behind a CONNECT without Authentication Method is a Protocol Error
    Given "a" opens a connection
    When "a" sends CONNECT
    And "a" sends AUTH reason=0x18 authentication_method=SCRAM-SHA-1
    Then "a" receives CONNACK reason=0 authentication_method=-
    And "a" is disconnected, perhaps after DISCONNECT reason=0x82

  @MQTT-4.12.0-7 @MQTT-3.14.0-1 @v5
  Scenario: An AUTH before CONNECT is closed without an answer
    Given "a" opens a connection
    When "a" sends AUTH reason=0x18 authentication_method=SCRAM-SHA-1
    Then "a" is disconnected

  # --- Re-authentication ----------------------------------------------------------------------

  @MQTT-4.12.1-2 @MQTT-4.13.1-1 @v5
  Scenario: A re-authentication on a connection that was not authenticated by a method fails and is closed
    Given client "a" is connected
    When "a" sends AUTH reason=0x19 authentication_method=SCRAM-SHA-1 authentication_data=client-first-data
    Then "a" is disconnected, perhaps after DISCONNECT

  @MQTT-4.12.1-2 @v5
  Scenario: A re-authentication with no Authentication Method fails and is closed
    Given client "a" is connected
    When "a" sends raw f0 02 19 00
    Then "a" is disconnected, perhaps after DISCONNECT

  # --- AUTH fixed header --------------------------------------------------------------------

  @MQTT-3.15.1-1 @MQTT-4.13.1-1 @v5
  Scenario: An AUTH with reserved flag bit 0 set is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw f1 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-3.15.1-1 @MQTT-4.13.1-1 @v5
  Scenario: An AUTH with reserved flag bit 3 set and a body is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw f8 * 18 0e 15 s"SCRAM-SHA-1"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-3.15.1-1 @MQTT-3.14.0-1 @v5
  Scenario: An AUTH with reserved flags before CONNECT is closed without an answer
    Given "a" opens a connection
    When "a" sends raw f2 00
    Then "a" is disconnected
