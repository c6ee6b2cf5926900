Feature: Consumer groups: reading, acknowledging, claiming

  Scenario: Creating a group twice is an error
    Given a server
    And the stream "orders" has the entries:
      | item | price |
      | tea  | 3     |
    And the stream "orders" has the consumer group "billing"
    When I run `XGROUP CREATE orders billing 0`
    Then the reply is an error containing "BUSYGROUP"

  Scenario: Two consumers share the entries and acknowledge them
    Given a server
    And I ran the commands:
      """
      XADD orders 1-1 item tea
      XADD orders 2-1 item cake
      """
    And the stream "orders" has the consumer group "billing"
    When client "alice" runs `XREADGROUP GROUP billing alice COUNT 1 STREAMS orders >`
    Then the reply contains "tea"
    When client "bob" runs `XREADGROUP GROUP billing bob COUNT 1 STREAMS orders >`
    Then the reply contains "cake"
    And the consumer group "billing" of the stream "orders" has 2 pending entries
    When client "alice" runs `XACK orders billing 1-1`
    Then the reply is the integer 1
    And the consumer group "billing" of the stream "orders" has 1 pending entries
    When I run `XPENDING orders billing - + 10 bob`
    Then the reply contains "2-1"

  Scenario: An entry left pending is claimed by another consumer once idle
    Given a server
    And I ran the commands:
      """
      XADD jobs 1-1 task resize
      XGROUP CREATE jobs workers 0
      XREADGROUP GROUP workers crashed COUNT 1 STREAMS jobs >
      """
    When an entry of the stream "jobs" has been pending in the group "workers" for 50 ms
    And client "rescuer" runs `XCLAIM jobs workers rescuer 50 1-1`
    Then the reply contains "resize"
    When I run `XPENDING jobs workers - + 10 rescuer`
    Then the reply contains "1-1"

  Scenario: XAUTOCLAIM takes over what a consumer left for long enough
    Given a server
    And I ran the commands:
      """
      XADD jobs 1-1 task resize
      XADD jobs 2-1 task crop
      XGROUP CREATE jobs workers 0
      XREADGROUP GROUP workers crashed COUNT 2 STREAMS jobs >
      """
    When an entry of the stream "jobs" has been pending in the group "workers" for 50 ms
    And I run `XAUTOCLAIM jobs workers rescuer 50 0-0 COUNT 10`
    Then the reply contains "resize"
    And the reply contains "crop"
    And the consumer group "workers" of the stream "jobs" has 2 pending entries
    When I run `XPENDING jobs workers - + 10 crashed`
    Then the reply is an empty list

  Scenario: A consumer blocked on XREADGROUP wakes for a new entry
    Given a server
    And the stream "inbox" has the consumer group "mail"
    And client "worker" is connected to the server
    When client "worker" runs `XREADGROUP GROUP mail worker BLOCK 0 STREAMS inbox >` in the background
    And client "worker" is blocked
    And I run `XADD inbox 5-1 subject hello`
    And client "worker" gets its reply
    Then the reply contains "hello"
