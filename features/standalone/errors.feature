Feature: Error replies are replies to assert on

  Background:
    Given a server

  Scenario: WRONGTYPE
    Given I ran the commands:
      """
      RPUSH list a
      """
    When I run `GET list`
    Then the reply is an error containing "WRONGTYPE Operation against a key holding the wrong kind of value"

  Scenario: Unknown command
    When I run `FROBNICATE key`
    Then the reply is an error containing "ERR unknown command 'FROBNICATE'"

  Scenario: Wrong number of arguments
    When I run `GET`
    Then the reply is an error containing "wrong number of arguments for 'get' command"

  Scenario: A value that is not an integer
    When I run `SET n abc`
    And I run `INCR n`
    Then the reply is an error containing "ERR value is not an integer or out of range"

  Scenario: A syntax error
    When I run `SET k v NX XX`
    Then the reply is an error containing "ERR syntax error"
