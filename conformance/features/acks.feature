Feature: PUBACK, PUBREC, PUBREL and PUBCOMP
  Sections 3.4 to 3.7: the fixed header of PUBREL, the reason codes the server uses in each
  acknowledgement (every received packet is decoded, which refuses a reason code the packet
  does not define), and the Reason String and User Properties a server must leave out of an
  acknowledgement that would not fit the client's Maximum Packet Size.

  # --- PUBREL fixed header -------------------------------------------------------------------

  @MQTT-3.6.1-1 @v3.1 @v3.1.1
  Scenario Outline: A PUBREL whose flags are not 0010 closes the connection (3.x)
    Given client "a" is connected
    And "a" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "a" receives PUBREC id=1
    When "a" sends raw <first> 02 0001
    Then "a" is disconnected

    Examples:
      | first |
      | 60    |
      | 63    |
      | 66    |
      | 6f    |

  # MQTT 3.1 let a resent PUBREL carry DUP (0x6A); 3.1.1 made those flags reserved.
  @MQTT-3.6.1-1 @v3.1.1
  Scenario: A PUBREL with the DUP bit set closes the connection (3.1.1)
    Given client "a" is connected
    And "a" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "a" receives PUBREC id=1
    When "a" sends raw 6a 02 0001
    Then "a" is disconnected

  @MQTT-3.6.1-1 @v5
  Scenario Outline: A PUBREL whose flags are not 0010 is a Malformed Packet
    Given client "a" is connected
    And "a" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "a" receives PUBREC id=1
    When "a" sends raw <first> 02 0001
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

    Examples:
      | first |
      | 60    |
      | 63    |
      | 66    |
      | 6a    |
      | 6f    |

  @MQTT-3.6.1-1 @v5
  Scenario: A PUBREL with reserved flags and a reason code is a Malformed Packet
    Given client "a" is connected
    And "a" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "a" receives PUBREC id=1
    When "a" sends raw 60 04 0001 00 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-3.6.1-1 @v3.1 @v3.1.1
  Scenario: A PUBREL with flags 0010 completes the QoS 2 flow (3.x)
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "a" is connected
    And "a" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "a" receives PUBREC id=1
    When "a" sends raw 62 02 0001
    Then "a" receives raw 70 02 0001
    And "a" is still connected
    And "sub" receives PUBLISH topic=a/b qos=2 payload=hello

  @MQTT-3.6.1-1 @v5
  Scenario: A PUBREL with flags 0010 completes the QoS 2 flow
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "a" is connected
    And "a" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "a" receives PUBREC id=1
    When "a" sends raw 62 02 0001
    Then "a" receives PUBCOMP id=1 reason=0x00
    And "a" is still connected
    And "sub" receives PUBLISH topic=a/b qos=2 payload=hello

  @MQTT-3.6.1-1 @v3.1 @v3.1.1 @v5
  Scenario: The server's own PUBREL has flags 0010
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "sub" receives PUBLISH topic=a/b qos=2 id=$p payload=hello
    And "sub" sends PUBREC id=$p
    Then "sub" receives PUBREL id=$p
    When "sub" sends PUBCOMP id=$p
    Then "sub" is still connected

  # --- Reason codes the server uses ------------------------------------------------------------

  @MQTT-3.4.2-1 @v5
  Scenario: A PUBACK for a message that has subscribers is a Success
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=hello
    Then "pub" receives PUBACK id=1 reason=0x00
    And "sub" receives PUBLISH topic=a/b payload=hello

  @MQTT-3.4.2-1 @v5
  Scenario: A PUBACK for a message without subscribers uses a PUBACK reason code
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=nobody/listens qos=1 id=1 payload=hello
    Then "pub" receives PUBACK id=1
    And "pub" is still connected

  @MQTT-3.5.2-1 @v5
  Scenario: A PUBREC for a message that has subscribers is a Success
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    Then "pub" receives PUBREC id=1 reason=0x00
    When "pub" sends PUBREL id=1
    Then "pub" receives PUBCOMP id=1
    And "sub" receives PUBLISH topic=a/b payload=hello

  @MQTT-3.5.2-1 @v5
  Scenario: A PUBREC for a message without subscribers uses a PUBREC reason code
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=nobody/listens qos=2 id=1 payload=hello
    Then "pub" receives PUBREC id=1
    When "pub" sends PUBREL id=1
    Then "pub" receives PUBCOMP id=1
    And "pub" is still connected

  @MQTT-3.5.2-1 @v5
  Scenario: A PUBREC repeated for a resent QoS 2 PUBLISH uses a PUBREC reason code
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=9 payload=hello
    And "pub" receives PUBREC id=9 reason=0x00
    And "pub" sends PUBLISH topic=a/b qos=2 id=9 dup=1 payload=hello
    Then "pub" receives PUBREC id=9 reason=0x00
    When "pub" sends PUBREL id=9
    Then "pub" receives PUBCOMP id=9
    And "sub" receives PUBLISH topic=a/b payload=hello
    And "sub" is still connected

  @MQTT-3.6.2-1 @v5
  Scenario: The server's PUBREL answering a PUBREC is a Success
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "sub" receives PUBLISH topic=a/b qos=2 id=$p payload=hello
    And "sub" sends PUBREC id=$p reason=0x00
    Then "sub" receives PUBREL id=$p reason=0x00
    When "sub" sends PUBCOMP id=$p
    Then "sub" is still connected

  @MQTT-3.6.2-1 @v5
  Scenario: The server's PUBREL resent on a resumed session uses a PUBREL reason code
    Given client "sub" is connected with clean_start=0 session_expiry_interval=60
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "sub" receives PUBLISH topic=a/b qos=2 id=$p payload=hello
    And "sub" sends PUBREC id=$p
    And "sub" receives PUBREL id=$p
    And "sub" closes the connection
    And client "sub" is connected with clean_start=0 session_expiry_interval=60
    Then "sub" receives PUBREL id=$p
    When "sub" sends PUBCOMP id=$p
    Then "sub" is still connected

  @MQTT-3.7.2-1 @v5
  Scenario: The server's PUBCOMP answering a PUBREL it awaits is a Success
    Given client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    Then "pub" receives PUBCOMP id=1 reason=0x00

  @MQTT-3.7.2-1 @v5
  Scenario: The server's PUBCOMP answering a PUBREL for an unknown packet id uses a PUBCOMP reason code
    Given client "pub" is connected
    When "pub" sends PUBREL id=77
    Then "pub" receives PUBCOMP id=77
    And "pub" is still connected

  # --- Reason String and User Properties within the client's Maximum Packet Size ---------------

  @MQTT-3.4.2-2 @MQTT-3.4.2-3 @v5
  Scenario: A PUBACK to a client with a small Maximum Packet Size fits it
    Given client "pub" is connected with maximum_packet_size=20
    When "pub" sends PUBLISH topic=nobody/listens qos=1 id=1 payload=hello
    Then "pub" receives PUBACK id=1 reason_string=- user_property=-
    When "pub" sends PUBLISH topic=nobody/listens qos=1 id=2 user_property=please:explain payload=again
    Then "pub" receives PUBACK id=2 reason_string=- user_property=-
    And "pub" is still connected

  @MQTT-3.5.2-2 @MQTT-3.5.2-3 @v5
  Scenario: A PUBREC to a client with a small Maximum Packet Size fits it
    Given client "pub" is connected with maximum_packet_size=20
    When "pub" sends PUBLISH topic=nobody/listens qos=2 id=1 payload=hello
    Then "pub" receives PUBREC id=1 reason_string=- user_property=-
    When "pub" sends PUBREL id=1
    Then "pub" receives PUBCOMP id=1 reason_string=- user_property=-

  @MQTT-3.6.2-2 @MQTT-3.6.2-3 @v5
  Scenario: A PUBREL to a client with a small Maximum Packet Size fits it
    Given client "sub" is connected with maximum_packet_size=40
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=2
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=2 id=1 payload=hello
    And "pub" receives PUBREC id=1
    And "pub" sends PUBREL id=1
    And "pub" receives PUBCOMP id=1
    And "sub" receives PUBLISH topic=a/b qos=2 id=$p payload=hello
    And "sub" sends PUBREC id=$p user_property=k:v
    Then "sub" receives PUBREL id=$p reason_string=- user_property=-
    When "sub" sends PUBCOMP id=$p
    Then "sub" is still connected

  @MQTT-3.7.2-2 @MQTT-3.7.2-3 @v5
  Scenario: A PUBCOMP to a client with a small Maximum Packet Size fits it
    Given client "pub" is connected with maximum_packet_size=20
    When "pub" sends PUBREL id=77 user_property=k:v
    Then "pub" receives PUBCOMP id=77 reason_string=- user_property=-
    And "pub" is still connected
