Feature: Data representation (section 1.5)
  Strings must be well-formed UTF-8 without surrogates or U+0000, a byte order mark is an
  ordinary character that no receiver may strip, and Variable Byte Integers take the fewest
  bytes that hold their value. Malformed strings are written in raw bytes, since the codec
  refuses to build them. The byte order mark scenarios write U+FEFF literally (bytes EF BB BF), which most
  editors do not show: it stands next to the "x" of their topics.

  # -------------------------------------------------------------------------------------------
  # MQTT 3.1.1 (and 3.1): ill-formed UTF-8 or U+0000 closes the connection.
  # -------------------------------------------------------------------------------------------

  @MQTT-1.5.3-1 @v3.1 @v3.1.1
  Scenario: A topic holding an encoded surrogate closes the connection
    Given client "a" is connected
    # "ab" then ED A0 80, U+D800 encoded as if it were a character
    When "a" sends raw 30 * 00 05 "ab" ed a0 80 "hi"
    Then "a" is disconnected

  @MQTT-1.5.3-1 @v3.1 @v3.1.1
  Scenario: A topic holding the last surrogate closes the connection
    Given client "a" is connected
    # ED BF BF is U+DFFF
    When "a" sends raw 30 * 00 04 "a" ed bf bf "hi"
    Then "a" is disconnected

  @MQTT-1.5.3-1 @v3.1 @v3.1.1
  Scenario: An overlong encoding in a topic filter closes the connection
    Given client "a" is connected
    # C0 AF is an overlong "/"
    When "a" sends raw 82 * 0001 00 03 "a" c0 af 00
    Then "a" is disconnected

  @MQTT-1.5.3-1 @v3.1 @v3.1.1
  Scenario: A lone continuation byte in a topic filter of UNSUBSCRIBE closes the connection
    Given client "a" is connected
    When "a" sends raw a2 * 0001 00 02 "a" 80
    Then "a" is disconnected

  @MQTT-1.5.3-1 @v3.1.1
  Scenario: A client identifier that is not UTF-8 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 04 02 00 3c 00 03 "a" ff "b"
    Then "a" is disconnected

  @MQTT-1.5.3-1 @v3.1
  Scenario: A 3.1 client identifier that is not UTF-8 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * 00 06 "MQIsdp" 03 02 00 3c 00 03 "a" ff "b"
    Then "a" is disconnected

  @MQTT-1.5.3-1 @v3.1 @v3.1.1
  Scenario: A will topic that is not UTF-8 closes the connection
    Given "a" opens a connection
    # flags 0x06: clean session, will flag, will QoS 0; will topic "w" F8 (never valid UTF-8)
    When "a" sends raw 10 * 00 04 "MQTT" 04 06 00 3c c"a" 00 02 "w" f8 00 01 "m"
    Then "a" is disconnected

  @MQTT-1.5.3-2 @v3.1 @v3.1.1
  Scenario: A topic holding U+0000 closes the connection
    Given client "a" is connected
    When "a" sends raw 30 * 00 03 "a" 00 "b" "hi"
    Then "a" is disconnected

  @MQTT-1.5.3-2 @v3.1 @v3.1.1
  Scenario: A topic filter holding U+0000 closes the connection
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 03 "a/" 00 01
    Then "a" is disconnected

  @MQTT-1.5.3-2 @v3.1.1
  Scenario: A client identifier holding U+0000 closes the connection without CONNACK
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 04 02 00 3c 00 03 "a" 00 "b"
    Then "a" is disconnected

  @MQTT-1.5.3-2 @v3.1.1
  Scenario: A user name holding U+0000 closes the connection without CONNACK
    Given "a" opens a connection
    # flags 0x82: user name, clean session
    When "a" sends raw 10 * 00 04 "MQTT" 04 82 00 3c c"a" 00 03 "u" 00 "v"
    Then "a" is disconnected

  @MQTT-1.5.3-1 @MQTT-1.5.3-2 @v3.1 @v3.1.1
  Scenario: Well-formed strings beyond ASCII are accepted and delivered unaltered
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=café/+ qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=café/𪛔 payload=hi
    Then "sub" receives raw 30 * t"café/𪛔" "hi"

  @MQTT-1.5.3-3 @v3.1 @v3.1.1
  Scenario: A byte order mark inside a topic is kept, neither skipped nor stripped
    Given client "bom" is connected
    And "bom" sends SUBSCRIBE id=1 filter=bom/﻿x qos=0
    And "bom" receives SUBACK id=1 reasons=0x00
    And client "plain" is connected
    And "plain" sends SUBSCRIBE id=1 filter=bom/x qos=0
    And "plain" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=bom/﻿x payload=1
    And "pub" sends PUBLISH topic=bom/x payload=2
    Then "bom" receives raw 30 * t"bom/﻿x" "1"
    And "plain" receives PUBLISH topic=bom/x payload=2
    And "bom" is still connected
    And "plain" is still connected

  @MQTT-1.5.3-3 @v3.1 @v3.1.1
  Scenario: A byte order mark at the end of a topic level reaches a wildcard subscriber intact
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=bom/+ qos=1
    And "sub" receives SUBACK id=1 reasons=0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=bom/x﻿ payload=1
    Then "sub" receives raw 30 * t"bom/x﻿" "1"

  # -------------------------------------------------------------------------------------------
  # MQTT 5.0: the same strings make a Malformed Packet. A server closes the connection and may
  # first say why in DISCONNECT 0x81 (section 4.13).
  # -------------------------------------------------------------------------------------------

  @MQTT-1.5.4-1 @v5
  Scenario: A topic holding an encoded surrogate is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 30 * 00 05 "ab" ed a0 80 00 "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.4-1 @v5
  Scenario: A topic holding the last surrogate is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 30 * 00 04 "a" ed bf bf 00 "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.4-1 @v5
  Scenario: An overlong encoding in a topic filter is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 00 03 "a" c0 af 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.4-1 @v5
  Scenario: A client identifier that is not UTF-8 is a Malformed Packet
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 05 02 00 3c 00 00 03 "a" ff "b"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-1.5.4-1 @v5
  Scenario: A Content Type that is not UTF-8 is a Malformed Packet
    Given client "a" is connected
    # property 0x03 Content Type = "a" ED A0 80 (5 bytes with its length, 6 with the id)
    When "a" sends raw 30 * t"x" 07 03 00 04 "a" ed a0 80 "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.4-2 @v5
  Scenario: A topic holding U+0000 is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 30 * 00 03 "a" 00 "b" 00 "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.4-2 @v5
  Scenario: A topic filter holding U+0000 is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 82 * 0001 00 00 03 "a/" 00 01
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.4-2 @v5
  Scenario: A client identifier holding U+0000 is a Malformed Packet
    Given "a" opens a connection
    When "a" sends raw 10 * 00 04 "MQTT" 05 02 00 3c 00 00 03 "a" 00 "b"
    Then "a" is disconnected, perhaps after CONNACK reason=0x81

  @MQTT-1.5.4-2 @v5
  Scenario: A Response Topic holding U+0000 is a Malformed Packet
    Given client "a" is connected
    # property 0x08 Response Topic = "r" 00 "s"
    When "a" sends raw 30 * t"x" 06 08 00 03 "r" 00 "s" "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.4-1 @MQTT-1.5.4-2 @v5
  Scenario: Well-formed strings beyond ASCII are accepted and delivered unaltered in 5.0
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=café/+ qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=café/𪛔 payload=hi content_type=été
    Then "sub" receives PUBLISH topic=café/𪛔 payload=hi content_type=été

  @MQTT-1.5.4-3 @v5
  Scenario: A byte order mark inside a 5.0 topic is kept, neither skipped nor stripped
    Given client "bom" is connected
    And "bom" sends SUBSCRIBE id=1 filter=bom/﻿x qos=0
    And "bom" receives SUBACK id=1 reasons=0x00
    And client "plain" is connected
    And "plain" sends SUBSCRIBE id=1 filter=bom/x qos=0
    And "plain" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=bom/﻿x payload=1
    And "pub" sends PUBLISH topic=bom/x payload=2
    Then "bom" receives raw 30 * t"bom/﻿x" 00 "1"
    And "plain" receives PUBLISH topic=bom/x payload=2
    And "bom" is still connected
    And "plain" is still connected

  @MQTT-1.5.4-3 @MQTT-1.5.7-1 @v5
  Scenario: Byte order marks in properties and user properties are forwarded intact
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x payload=1 content_type=﻿text user_property=﻿k:v﻿
    Then "sub" receives PUBLISH topic=x payload=1 content_type=﻿text user_property=﻿k:v﻿

  # -------------------------------------------------------------------------------------------
  # MQTT 5.0: UTF-8 String Pairs (User Property) follow the string rules in both halves.
  # -------------------------------------------------------------------------------------------

  @MQTT-1.5.7-1 @v5
  Scenario: A User Property name that is not UTF-8 is a Malformed Packet
    Given client "a" is connected
    # property 0x26: name "a" ED A0 80, value "v"
    When "a" sends raw 30 * t"x" 0a 26 00 04 "a" ed a0 80 00 01 "v" "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.7-1 @v5
  Scenario: A User Property value that is not UTF-8 is a Malformed Packet
    Given client "a" is connected
    # property 0x26: name "k", value "v" FF
    When "a" sends raw 30 * t"x" 08 26 00 01 "k" 00 02 "v" ff "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.7-1 @v5
  Scenario: A User Property value holding U+0000 is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 30 * t"x" 09 26 00 01 "k" 00 03 "v" 00 "w" "hi"
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.7-1 @v5
  Scenario: A User Property in SUBSCRIBE whose name holds U+0000 is a Malformed Packet
    Given client "a" is connected
    When "a" sends raw 82 * 0001 08 26 00 02 "k" 00 00 01 "v" f"x" 00
    Then "a" is disconnected, perhaps after DISCONNECT reason=0x81

  @MQTT-1.5.7-1 @v5
  Scenario: Well-formed User Properties reach the subscriber name and value unaltered
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    # raw, so the exact bytes of both halves are known: name "ké" (3 bytes), value "" (0)
    When "pub" sends raw 30 * t"x" 08 26 00 03 "ké" 00 00 "hi"
    Then "sub" receives raw 30 * t"x" 08 26 00 03 "ké" 00 00 "hi"

  # -------------------------------------------------------------------------------------------
  # MQTT 5.0: Variable Byte Integers in what the server sends take the fewest bytes. The `*`
  # of the raw notation writes the minimal encoding, so an exact match proves it.
  # -------------------------------------------------------------------------------------------

  @MQTT-1.5.5-1 @v5
  Scenario: A Remaining Length of two bytes is minimally encoded
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=big qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends raw 30 * t"big" 00 zeros:200
    Then "sub" receives raw 30 * t"big" 00 zeros:200

  @MQTT-1.5.5-1 @v5
  Scenario: A Remaining Length of three bytes is minimally encoded
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=big qos=0
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends raw 30 * t"big" 00 zeros:20000
    Then "sub" receives raw 30 * t"big" 00 zeros:20000

  @MQTT-1.5.5-1 @v5
  Scenario: Subscription Identifiers and Property Lengths are minimally encoded
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=big qos=0 subscription_identifier=200
    And "sub" receives SUBACK id=1 reasons=0x00
    And client "pub" is connected
    When "pub" sends raw 30 * t"big" 00 zeros:130
    # Property Length 3: Subscription Identifier 0x0B, then 200 as C8 01
    Then "sub" receives raw 30 * t"big" 03 0b c8 01 zeros:130

  @MQTT-1.5.5-1 @v5
  Scenario: A Subscription Identifier of one byte is not padded
    Given client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=x qos=0 subscription_identifier=127
    And "sub" receives SUBACK id=1 reasons=0x00
    And "sub" sends SUBSCRIBE id=2 filter=y qos=0 subscription_identifier=16384
    And "sub" receives SUBACK id=2 reasons=0x00
    And client "pub" is connected
    When "pub" sends PUBLISH topic=x payload=1
    And "pub" sends PUBLISH topic=y payload=2
    Then "sub" receives raw 30 * t"x" 02 0b 7f "1"
    And "sub" receives raw 30 * t"y" 04 0b 80 80 01 "2"
