Feature: Transactions raced in an exact order
  Two clients, one key, both orders: WATCH makes EXEC fail only when another
  client wrote in between.

  Scenario: Bob writes between alice's WATCH and EXEC: the transaction fails
    Given a server
    And I run `SET balance 100`
    When client "alice" runs `WATCH balance`
    And client "alice" runs `MULTI`
    And client "alice" is inside a transaction
    And client "alice" runs `SET balance 50`
    Then the reply is "QUEUED"
    When client "bob" runs `SET balance 0`
    And client "alice" runs `EXEC`
    Then the reply is nil
    When I run `GET balance`
    Then the reply is "0"

  Scenario: Bob writes after alice's EXEC: both writes land, in order
    Given a server
    And I run `SET balance 100`
    When client "alice" runs `WATCH balance`
    And client "alice" runs `MULTI`
    And client "alice" runs `SET balance 50`
    And client "alice" runs `EXEC`
    Then the reply is the list:
      | OK |
    When client "bob" runs `INCRBY balance 1`
    Then the reply is the integer 51

  Scenario: A client that drops inside MULTI leaves no partial effects
    Given a server
    When client "alice" runs `MULTI`
    And client "alice" runs `SET a 1`
    And client "alice" runs `SET b 2`
    And client "alice" is inside a transaction
    And client "alice" disconnects
    And I run `EXISTS a b`
    Then the reply is the integer 0
