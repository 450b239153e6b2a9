Feature: Authorization by an ACL file
  What a server that authorizes topics does when a client may not do what it asks: MQTT 3.1.1
  has no way to say so for a PUBLISH and lets the server either acknowledge it as usual or
  close the connection [MQTT-3.3.5-2] (Tern acknowledges and drops the message); MQTT 5.0 says
  it with Reason Code 0x87 Not authorized in PUBACK, PUBREC and SUBACK, and refuses a CONNECT
  whose checks fail [MQTT-3.1.4-2] (Tern checks the will's topic). Rules are in an ACL file
  (`[auth] acl_file`): first match wins, anything unmatched is denied.

  # --- PUBLISH to a topic the client may not write --------------------------------------------

  @MQTT-3.3.5-2 @v3.1 @v3.1.1 @needs-config
  Scenario: A PUBLISH the server does not authorize is acknowledged as usual and dropped (3.x)
    Given the broker has the ACL:
      """
      topic read a/#
      topic readwrite b/#
      """
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1 filter=b/c qos=1
    And "sub" receives SUBACK id=1
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=0 payload=denied-0
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=denied-1
    Then "pub" receives PUBACK id=1
    When "pub" sends PUBLISH topic=a/b qos=2 id=2 payload=denied-2
    Then "pub" receives PUBREC id=2
    When "pub" sends PUBREL id=2
    Then "pub" receives PUBCOMP id=2
    When "pub" sends PUBLISH topic=b/c qos=1 id=3 payload=allowed
    Then "pub" receives PUBACK id=3
    And "sub" receives PUBLISH topic=b/c qos=1 payload=allowed
    And "pub" is still connected

  @MQTT-3.4.2-1 @MQTT-3.5.2-1 @v5 @needs-config
  Scenario: A PUBLISH the server does not authorize is answered with 0x87 and dropped (5.0)
    Given the broker has the ACL:
      """
      topic read a/#
      topic readwrite b/#
      """
    And client "sub" is connected
    And "sub" sends SUBSCRIBE id=1 filter=a/b qos=1 filter=b/c qos=1
    And "sub" receives SUBACK id=1 reasons=0x01,0x01
    And client "pub" is connected
    When "pub" sends PUBLISH topic=a/b qos=0 payload=denied-0
    And "pub" sends PUBLISH topic=a/b qos=1 id=1 payload=denied-1
    Then "pub" receives PUBACK id=1 reason=0x87
    When "pub" sends PUBLISH topic=a/b qos=2 id=2 payload=denied-2
    Then "pub" receives PUBREC id=2 reason=0x87
    When "pub" sends PUBLISH topic=b/c qos=1 id=3 payload=allowed
    Then "pub" receives PUBACK id=3 reason=0x00
    And "sub" receives PUBLISH topic=b/c qos=1 payload=allowed
    And "pub" is still connected

  @MQTT-3.3.5-2 @v3.1.1 @needs-config
  Scenario: The first matching rule decides, and %u names the user (3.1.1)
    Given the broker has the ACL:
      """
      topic deny devices/%u/secret
      topic readwrite devices/%u/#
      """
    And client "d1" is connected with username=d1
    And "d1" sends SUBSCRIBE id=1 filter=devices/d1/+ qos=1
    And "d1" receives SUBACK id=1 reasons=0x80
    And "d1" sends SUBSCRIBE id=2 filter=devices/d1/state/+ qos=1
    And "d1" receives SUBACK id=2 reasons=0x01
    When "d1" sends PUBLISH topic=devices/d1/secret qos=1 id=1 payload=hidden
    Then "d1" receives PUBACK id=1
    When "d1" sends PUBLISH topic=devices/d1/state/power qos=1 id=2 payload=on
    Then "d1" receives, in any order:
      """
      PUBACK id=2
      PUBLISH topic=devices/d1/state/power qos=1 payload=on
      """

  # --- SUBSCRIBE to a filter the client may not read ------------------------------------------

  @MQTT-3.8.4-7 @MQTT-3.9.3-2 @v5 @needs-config
  Scenario: A filter the client may not read in full is refused with 0x87 (5.0)
    Given the broker has the ACL:
      """
      client sub
      topic read a/#
      topic read b/+/public
      """
    And client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=a/+ qos=1 filter=b/# qos=1 filter=b/x/public qos=0 filter=c qos=0
    Then "sub" receives SUBACK id=1 reasons=0x01,0x87,0x00,0x87
    And "sub" is still connected

  @MQTT-3.8.4-5 @MQTT-3.9.3-2 @v3.1.1 @needs-config
  Scenario: A filter the client may not read in full is refused with 0x80 (3.1.1)
    Given the broker has the ACL:
      """
      client sub
      topic read a/#
      """
    And client "sub" is connected
    When "sub" sends SUBSCRIBE id=1 filter=a/+ qos=1 filter=# qos=1
    Then "sub" receives SUBACK id=1 reasons=0x01,0x80
    And "sub" is still connected

  # --- A will the client may not publish ----------------------------------------------------

  @MQTT-3.1.4-2 @v5 @needs-config
  Scenario: A CONNECT whose will the client may not publish is refused with 0x87 (5.0)
    Given the broker has the ACL:
      """
      topic write wills/%c
      """
    And "a" opens a connection
    When "a" sends CONNECT will_topic=wills/someone-else will_payload=gone
    Then "a" is disconnected, perhaps after CONNACK reason=0x87 session_present=0

  @MQTT-3.1.4-5 @v3.1.1 @needs-config
  Scenario: A CONNECT whose will the client may not publish is refused, and what follows is ignored
    Given the broker has the ACL:
      """
      client watcher
      topic read public/#
      all
      topic write public/#
      """
    And client "watcher" is connected
    And "watcher" sends SUBSCRIBE id=1 filter=public/news qos=0
    And "watcher" receives SUBACK id=1 reasons=0x00
    And "a" opens a connection
    When "a" sends CONNECT will_topic=other/place will_payload=gone
    And "a" sends PUBLISH topic=public/news qos=0 payload=from-a
    Then "a" receives CONNACK reason=0x05 session_present=0
    And "a" is disconnected
    When client "b" is connected
    And "b" sends PUBLISH topic=public/news qos=0 payload=from-b
    Then "watcher" receives PUBLISH topic=public/news payload=from-b
