Feature: Backpressure: what the broker acknowledged it delivers, and how it ends a connection
  A broker may not thin a session while its network connection is open: when a subscriber is
  slower than its publishers, the broker holds the publishers back (it withholds their
  acknowledgements and stops reading them) instead of dropping what it acknowledged. A
  subscriber that stops acknowledging altogether is disconnected with 0x97 Quota exceeded.
  And a connection the broker closes lets its client read why, even while the client is
  still writing. The window and queue limits are made small here so that a few hundred
  messages overflow them many times over.

  @MQTT-4.1.0-1 @v3.1.1 @v5 @needs-config
  Scenario: A subscriber slower than its publisher gets every message the broker acknowledged
    Given the broker is configured with limits.max_queued_messages = 10
    And the broker is configured with limits.max_inflight = 5
    And client "s" is connected
    And "s" sends SUBSCRIBE id=1 filter=t qos=1
    And "s" receives SUBACK id=1
    And client "p" is connected
    # 200 messages at once, without waiting: twenty times what the subscriber's queue holds
    When "p" sends 200 PUBLISH topic=t qos=1, numbered
    Then "s" receives 200 PUBLISH qos=1, numbered, acknowledging each
    And "p" receives 200 PUBACK, in order

  @MQTT-3.14.2-1 @MQTT-4.13.2-1 @v5 @needs-config
  Scenario: A subscriber that stops acknowledging is disconnected with 0x97 Quota exceeded
    Given the broker is configured with limits.max_queued_messages = 5
    And the broker is configured with limits.max_inflight = 5
    And the broker is configured with limits.slow_subscriber_timeout_ms = 500
    And client "s" is connected
    And "s" sends SUBSCRIBE id=1 filter=t qos=1
    And "s" receives SUBACK id=1
    And client "p" is connected
    # "s" acknowledges nothing: its window fills, then its queue, and the publisher waits
    When "p" sends 50 PUBLISH topic=t qos=1, numbered
    Then "s" is sent PUBLISH packets, then DISCONNECT reason=0x97
    And "s" is disconnected
    # its publisher is not held back any longer: every message is acknowledged
    And "p" receives 50 PUBACK, in order

  @MQTT-4.13.1-1 @MQTT-3.14.2-1 @v5
  Scenario: A client that goes on writing after a malformed packet reads the DISCONNECT
    Given client "a" is connected
    # a PUBLISH with QoS 3 is malformed; the client writes 256 KiB more after it
    When "a" writes raw 36 04 00 01 "t" 00, then 256 KiB of zeros
    Then "a" receives DISCONNECT reason=0x81
    And "a" is disconnected
