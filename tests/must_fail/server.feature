Feature: Must fail: the server sentences

  Scenario: no start has failed
    Fails with: no server start has failed in this scenario
    Given a server
    Then the server fails to start and its log contains "anything"

  Scenario: a failed start whose log says something else
    Fails with: expected a failed start whose log contains "no such line"
    When I try to start a server with the config:
      | maxmemory | lots |
    Then the server fails to start and its log contains "no such line"

  Scenario: a server that starts did not fail to start
    Fails with: was expected to fail to start, but it is running
    When I try to start a server with the config:
      | maxmemory | 1mb |

  Scenario: a killed server is not running
    Fails with: to be running; it is
    Given a server
    When I kill the server
    Then the server is running

  Scenario: a running server is running
    Fails with: not to be running; it runs as pid
    Given a server
    Then the server is not running

  Scenario: a log without the line
    Fails with: does not contain "no such line"
    Given a server
    Then the log of the server contains "no such line"

  Scenario: a command that does not kill the server
    Fails with: answered PONG and the server is still running
    Given a server
    When I run `PING` and the server dies
