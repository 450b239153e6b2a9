Feature: Password logins and SCRAM-SHA-256 enhanced authentication
  A broker with a password file: a CONNECT with a user name is let in only with that user's
  password, and a wrong password or an unknown user is refused with 0x86 (5.0) or 0x04 (3.x)
  after the failed-login delay (one second), during which nothing else the client sends is
  processed and other clients carry on. In MQTT 5.0, Authentication Method SCRAM-SHA-256
  runs the exchange of RFC 5802/7677 over AUTH (section 4.12): CONNECT with client-first, AUTH
  0x18 with server-first, AUTH 0x18 with client-final, CONNACK with server-final.

  # --- Passwords in CONNECT, MQTT 5.0 --------------------------------------------------------

  @MQTT-3.1.4-5 @MQTT-3.2.2-2 @needs-config @v5
  Scenario: The right password is accepted
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT username=alice password=secret
    Then "a" receives CONNACK reason=0 session_present=0 authentication_method=-
    And "a" is still connected

  @MQTT-3.1.4-2 @MQTT-3.2.2-6 @MQTT-3.2.2-7 @MQTT-3.2.2-8 @needs-config @v5
  Scenario: A wrong password is refused with 0x86 Bad User Name or Password
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT username=alice password=wrong
    Then "a" receives CONNACK reason=0x86 session_present=0
    And "a" is disconnected

  @MQTT-3.1.4-2 @MQTT-3.2.2-6 @MQTT-3.2.2-7 @MQTT-3.2.2-8 @needs-config @v5
  Scenario: An unknown user is refused with 0x86, as a wrong password is
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT username=mallory password=secret
    Then "a" receives CONNACK reason=0x86 session_present=0
    And "a" is disconnected

  @MQTT-3.1.4-2 @MQTT-3.2.2-7 @needs-config @v5
  Scenario: A user name without its password is refused with 0x86
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT username=alice
    Then "a" receives CONNACK reason=0x86 session_present=0
    And "a" is disconnected

  @MQTT-3.1.4-6 @MQTT-3.2.0-1 @MQTT-3.1.4-2 @needs-config @v5
  Scenario: The refusal waits out the delay, reads nothing meanwhile, and holds up no one else
    Given the broker has the user "alice" with password "secret"
    And the broker is configured with auth.failed_login_delay_ms = 3000
    And client "b" is connected with username=alice password=secret
    And "a" opens a connection
    When "a" sends CONNECT username=alice password=wrong
    And "a" sends PINGREQ
    And "a" sends SUBSCRIBE id=1 filter=x qos=0
    Then "b" is still connected
    And "a" receives nothing
    And "a" receives CONNACK reason=0x86 session_present=0
    And "a" is disconnected
    And "b" is still connected

  @MQTT-3.1.4-2 @MQTT-3.2.2-7 @needs-config @v5
  Scenario: Without a user name a client is refused with 0x87 when anonymous access is off
    Given the broker has the user "alice" with password "secret"
    And the broker is configured with auth.allow_anonymous = false
    And "a" opens a connection
    When "a" sends CONNECT
    Then "a" receives CONNACK reason=0x87 session_present=0
    And "a" is disconnected

  @MQTT-3.1.4-5 @needs-config @v5
  Scenario: Without a user name a client is let in when anonymous access is on
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT
    Then "a" receives CONNACK reason=0 session_present=0

  # --- Passwords in CONNECT, MQTT 3.1.1 and 3.1 ----------------------------------------------

  @MQTT-3.1.4-4 @MQTT-3.2.2-1 @needs-config @v3.1.1 @v3.1
  Scenario: The right password is accepted (3.x)
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT username=alice password=secret
    Then "a" receives CONNACK reason=0 session_present=0
    And "a" is still connected

  @MQTT-3.2.2-4 @MQTT-3.2.2-5 @needs-config @v3.1.1 @v3.1
  Scenario: A wrong password is refused with 0x04 (3.x)
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT username=alice password=wrong
    Then "a" receives CONNACK reason=0x04 session_present=0
    And "a" is disconnected

  @MQTT-3.2.2-4 @MQTT-3.2.2-5 @needs-config @v3.1.1 @v3.1
  Scenario: An unknown user is refused with 0x04, as a wrong password is (3.x)
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT username=mallory password=secret
    Then "a" receives CONNACK reason=0x04 session_present=0
    And "a" is disconnected

  @MQTT-3.1.4-5 @MQTT-3.2.2-5 @needs-config @v3.1.1 @v3.1
  Scenario: Nothing sent behind a refused CONNECT is processed (3.x)
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT username=alice password=wrong
    And "a" sends PINGREQ
    And "a" sends SUBSCRIBE id=1 filter=x qos=0
    Then "a" receives CONNACK reason=0x04 session_present=0
    And "a" is disconnected

  @MQTT-3.2.2-4 @MQTT-3.2.2-5 @needs-config @v3.1.1 @v3.1
  Scenario: Without a user name a client is refused with 0x05 when anonymous access is off (3.x)
    Given the broker has the user "alice" with password "secret"
    And the broker is configured with auth.allow_anonymous = false
    And "a" opens a connection
    When "a" sends CONNECT
    Then "a" receives CONNACK reason=0x05 session_present=0
    And "a" is disconnected

  # --- SCRAM-SHA-256 over AUTH, MQTT 5.0 -----------------------------------------------------

  @MQTT-4.12.0-2 @MQTT-4.12.0-5 @MQTT-3.15.2-1 @MQTT-3.2.0-1 @needs-config @v5
  Scenario: A SCRAM-SHA-256 login: AUTH 0x18 with the method, then CONNACK with server-final
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" answers the SCRAM challenge with password "secret"
    Then "a" receives CONNACK reason=0 session_present=0 authentication_method=SCRAM-SHA-256
    And "a" received the right SCRAM server signature
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" is still connected

  @MQTT-3.15.2-2 @MQTT-3.15.2-3 @MQTT-3.1.2-24 @needs-config @v5
  Scenario: The challenge fits a small Maximum Packet Size exactly, with no Reason String or User Property
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends a SCRAM-SHA-256 CONNECT as "alice" with maximum_packet_size=107
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256 reason_string=- user_property=-
    And the last AUTH "a" received was 107 bytes
    When "a" answers the SCRAM challenge with password "secret"
    Then "a" receives CONNACK reason=0 authentication_method=SCRAM-SHA-256
    And "a" received the right SCRAM server signature

  @MQTT-3.15.2-2 @MQTT-3.15.2-3 @needs-config @v5
  Scenario: Without a Maximum Packet Size the challenge still carries no Reason String or User Property
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends a SCRAM-SHA-256 CONNECT as "alice" with request_problem_information=1
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256 reason_string=- user_property=-

  @MQTT-3.1.2-24 @needs-config @v5
  Scenario: A challenge larger than the client's Maximum Packet Size is not sent
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends a SCRAM-SHA-256 CONNECT as "alice" with maximum_packet_size=106
    Then "a" is disconnected, perhaps after CONNACK reason=0x95 session_present=0

  @MQTT-4.12.0-4 @MQTT-4.12.0-5 @MQTT-3.2.2-6 @MQTT-3.2.2-7 @needs-config @v5
  Scenario: A SCRAM proof made with a wrong password is refused with 0x86 and closed
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" answers the SCRAM challenge with password "wrong"
    Then "a" receives CONNACK reason=0x86 session_present=0 authentication_data=-
    And "a" is disconnected

  @MQTT-4.12.0-2 @MQTT-4.12.0-4 @needs-config @v5
  Scenario: An unknown user is challenged like any other, and fails at the proof
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends a SCRAM-SHA-256 CONNECT as "mallory"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" answers the SCRAM challenge with password "secret"
    Then "a" receives CONNACK reason=0x86 session_present=0
    And "a" is disconnected

  @MQTT-4.12.0-4 @needs-config @v5
  Scenario: A malformed client-final message is refused and closed
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" sends AUTH reason=0x18 authentication_method=SCRAM-SHA-256 authentication_data="c=biws,r=not-the-nonce,p=AAAA"
    Then "a" receives CONNACK reason=0x87 session_present=0
    And "a" is disconnected

  @MQTT-4.12.0-4 @needs-config @v5
  Scenario: A malformed client-first message is refused and closed
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT authentication_method=SCRAM-SHA-256 authentication_data="n,,r=no-user"
    Then "a" receives CONNACK reason=0x87 session_present=0
    And "a" is disconnected

  @MQTT-4.12.0-4 @needs-config @v5
  Scenario: An AUTH naming another method in the middle of the exchange is refused and closed
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" sends AUTH reason=0x18 authentication_method=SCRAM-SHA-1 authentication_data=x
    Then "a" is disconnected, perhaps after CONNACK reason=0x82 session_present=0

  @MQTT-4.12.0-1 @needs-config @v5
  Scenario: With a password file, another Authentication Method is still refused with 0x8C
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    When "a" sends CONNECT authentication_method=SCRAM-SHA-1 authentication_data=n,,n=alice,r=abc
    Then "a" receives CONNACK reason=0x8c session_present=0
    And "a" is disconnected

  # --- Re-authentication with SCRAM-SHA-256, MQTT 5.0 section 4.12.1 ------------------------

  @MQTT-4.12.1-1 @MQTT-4.12.0-5 @MQTT-3.15.2-1 @needs-config @v5
  Scenario: A SCRAM-SHA-256 re-authentication: AUTH 0x19, a challenge, AUTH 0x00 with server-final
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    And "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    And "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    And "a" answers the SCRAM challenge with password "secret"
    And "a" receives CONNACK reason=0 authentication_method=SCRAM-SHA-256
    When "a" sends a SCRAM-SHA-256 re-authentication as "alice"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" answers the SCRAM challenge with password "secret"
    Then "a" receives AUTH reason=0 authentication_method=SCRAM-SHA-256
    And "a" received the right SCRAM server signature in AUTH
    And "a" sends SUBSCRIBE id=1 filter=x qos=1
    And "a" receives SUBACK id=1 reasons=0x01
    And "a" is still connected

  @MQTT-4.12.1-1 @needs-config @v5
  Scenario: Other packets flow during a re-authentication, under the previous authentication
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    And "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    And "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    And "a" answers the SCRAM challenge with password "secret"
    And "a" receives CONNACK reason=0 authentication_method=SCRAM-SHA-256
    When "a" sends a SCRAM-SHA-256 re-authentication as "alice"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" sends PUBLISH topic=p qos=1 id=1 payload=x
    Then "a" receives PUBACK id=1
    When "a" sends PINGREQ
    Then "a" receives PINGRESP
    When "a" answers the SCRAM challenge with password "secret"
    Then "a" receives AUTH reason=0 authentication_method=SCRAM-SHA-256
    And "a" is still connected

  @MQTT-4.12.1-2 @MQTT-4.13.2-1 @needs-config @v5
  Scenario: A re-authentication with a wrong password fails: DISCONNECT 0x87 and the close
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    And "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    And "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    And "a" answers the SCRAM challenge with password "secret"
    And "a" receives CONNACK reason=0 authentication_method=SCRAM-SHA-256
    When "a" sends a SCRAM-SHA-256 re-authentication as "alice"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" answers the SCRAM challenge with password "wrong"
    Then "a" receives DISCONNECT reason=0x87
    And "a" is disconnected

  @MQTT-4.12.1-2 @MQTT-4.13.2-1 @needs-config @v5
  Scenario: A re-authentication as another user fails, even with that user's password
    Given the broker has the user "alice" with password "secret"
    And the broker has the user "bob" with password "hunter2"
    And "a" opens a connection
    And "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    And "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    And "a" answers the SCRAM challenge with password "secret"
    And "a" receives CONNACK reason=0 authentication_method=SCRAM-SHA-256
    When "a" sends a SCRAM-SHA-256 re-authentication as "bob"
    Then "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    When "a" answers the SCRAM challenge with password "hunter2"
    Then "a" receives DISCONNECT reason=0x87
    And "a" is disconnected

  @MQTT-4.12.1-2 @needs-config @v5
  Scenario: A malformed client-first in a re-authentication fails it
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    And "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    And "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    And "a" answers the SCRAM challenge with password "secret"
    And "a" receives CONNACK reason=0 authentication_method=SCRAM-SHA-256
    When "a" sends AUTH reason=0x19 authentication_method=SCRAM-SHA-256 authentication_data="n,,r=no-user"
    Then "a" receives DISCONNECT reason=0x87
    And "a" is disconnected

  @MQTT-4.12.1-1 @MQTT-4.13.1-1 @needs-config @v5
  Scenario: A re-authentication naming another method than the CONNECT's is a Protocol Error
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    And "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    And "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    And "a" answers the SCRAM challenge with password "secret"
    And "a" receives CONNACK reason=0 authentication_method=SCRAM-SHA-256
    When "a" sends AUTH reason=0x19 authentication_method=SCRAM-SHA-1 authentication_data="n,,n=alice,r=abc"
    Then "a" receives DISCONNECT reason=0x82
    And "a" is disconnected

  @MQTT-4.12.0-3 @MQTT-4.13.1-1 @needs-config @v5
  Scenario: AUTH 0x18 with no exchange under way is a Protocol Error
    Given the broker has the user "alice" with password "secret"
    And "a" opens a connection
    And "a" sends a SCRAM-SHA-256 CONNECT as "alice"
    And "a" receives AUTH reason=0x18 authentication_method=SCRAM-SHA-256
    And "a" answers the SCRAM challenge with password "secret"
    And "a" receives CONNACK reason=0 authentication_method=SCRAM-SHA-256
    When "a" sends AUTH reason=0x18 authentication_method=SCRAM-SHA-256 authentication_data="c=biws,r=x,p=AAAA"
    Then "a" receives DISCONNECT reason=0x82
    And "a" is disconnected
