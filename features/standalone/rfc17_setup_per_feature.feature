Feature: The same setup for every scenario (RFC 17, example 3)
  The Background runs before each scenario: every scenario gets its own
  server, set up the same way.

  Background:
    Given a server

  Scenario: A new client can PING
    Given client "new" is connected to the server
    When client "new" runs `PING`
    Then the reply is "PONG"

  Scenario: A new client can SET
    When client "new" runs `SET K V`
    Then the reply is "OK"
    When I run `GET K`
    Then the reply is "V"
