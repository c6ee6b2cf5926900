Feature: What the server says about a client, checked as checkpoints
  Each sentence waits (up to VALKEY_BDD_WAIT_TIMEOUT) until CLIENT LIST
  shows the client so: the keys it watches, a doomed transaction, any flag,
  any field. A field the server does not show fails at once, naming it.

  @min-version:7.4
  Scenario: Alice watches two keys; Bob's write dooms her transaction
    CLIENT LIST shows watch= from Redis 7.4 and Valkey 8.0 on: an older
    server fails `watches 2 keys` at once, naming the field it lacks.
    Given a server
    And I run `SET balance 100`
    When client "alice" runs `WATCH balance limit`
    Then client "alice" watches 2 keys
    When client "alice" runs `MULTI`
    Then client "alice" has the flag "x"
    When client "bob" runs `SET balance 0`
    Then the transaction of client "alice" is doomed
    And client "alice" has the flag "d"
    When client "alice" runs `EXEC`
    Then the reply is nil
    And client "alice" watches 0 keys

  Scenario: Fields of CLIENT LIST: the database and the protocol a client uses
    Given a server
    When client "alice" runs `SELECT 3`
    Then the CLIENT LIST field "db" of client "alice" is "3"
    And the CLIENT LIST field "name" of client "alice" is "alice"
    When client "alice" runs `HELLO 3`
    Then the CLIENT LIST field "resp" of client "alice" is "3"

  Scenario: A blocked client has the flag "b", and a checkpoint waits for it
    Given a server
    When client "alice" runs `BLPOP queue 0` in the background
    Then client "alice" has the flag "b"
    When I run `RPUSH queue job`
    And client "alice" gets its reply
    Then the reply is the list:
      | queue |
      | job   |
