Feature: A server of its own for every scenario (RFC 17, examples 2 and 3)
  Each scenario starts its own servers on its own ports; they are gone when
  the scenario ends. Scenarios run concurrently.

  Scenario: A server answers PING
    Given a server
    When I run `PING`
    Then the reply is "PONG"

  Scenario: maxmemory 1kb makes SET fail with the OOM error
    Given a server with the config:
      | maxmemory | 1kb |
    When I run `PING`
    Then the reply is the status "PONG"
    When I run `SET KEY VAL`
    Then the reply is an error containing "command not allowed when used memory > 'maxmemory'."
    And the reply is an error containing "OOM"

  Scenario: A second server in the same scenario does not share the first one's limits
    Given a server with the config:
      | maxmemory | 1kb |
    And a server "new"
    When I run `SET KEY VAL`
    Then the reply is an error containing "OOM"
    When I run `SET KEY VAL` on server "new"
    Then the reply is "OK"
    And the config "maxmemory" is "1024"
    And the config "maxmemory" of server "new" is "0"
