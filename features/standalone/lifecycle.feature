Feature: Starting, checking and stopping servers

  Scenario: A bad directive makes the server fail to start
    When I try to start a server with the config:
      | no-such-directive | 1 |
    Then the server fails to start and its log contains "Bad directive or wrong number of arguments"

  Scenario: A bad value makes the server fail to start
    When I try to start a server with the config:
      | maxmemory | lots |
    Then the server fails to start and its log contains "argument must be a memory value"

  Scenario: Stopping a server frees its port
    Given a server
    Then the server is running
    When I stop the server
    Then the server is not running

  Scenario: A crash is expected and reported in the log
    Given a server
    When I run `DEBUG SEGFAULT` and the server dies
    Then the server is not running
    And the log of the server contains "crashed by signal"
    And the log of the server contains "BUG REPORT START"

  Scenario: INFO fields describe the server
    Given a server
    Then the INFO field "role" is "master"
    And the INFO field "loading" is "0"
    And the INFO field "maxmemory_policy" is "noeviction"
