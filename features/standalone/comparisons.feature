Feature: Comparisons, negatives and values that become what they should
  Numbers — replies, INFO fields, config values, remembered values — compare
  with greater than, at least, less than, at most, equal to and between … and …;
  the negatives say what must not be; "becomes" waits up to the run's deadline.

  Background:
    Given a server with the config:
      | maxmemory | 10mb |

  Scenario: replies and INFO fields compared with numbers
    When I run `SET k hello`
    And I run `STRLEN k`
    Then the reply is greater than 4
    And the reply is at most 5
    And the reply is equal to 5.0
    And the INFO field "used_memory" is less than 10485760
    And the INFO field "connected_clients" of the server is at least 1
    And the config "maxmemory" is between 10000000 and 10485760

  Scenario: floats compare as numbers
    When I run `INCRBYFLOAT f 1.5`
    Then the reply is between 1.4 and 1.6
    And the reply is not "1"

  Scenario: what must not be
    When I run `SET greeting "hello world"`
    And I run `GET greeting`
    Then the reply does not contain "bye"
    And the reply does not match /^world/
    And the reply is not "hello"
    And the key "greeting" exists
    And the key "farewell" does not exist

  Scenario: values that become what they should
    When I run `CONFIG SET maxmemory 20mb`
    Then the config "maxmemory" becomes "20971520"
    And the config "maxmemory" becomes at least 20000000
    When I run `RPUSH q a b c`
    Then the reply to `LLEN q` becomes "3"
    And the reply to `LLEN q` becomes at least 3
    And the INFO field "loading" becomes "0"
    And the INFO field "total_commands_processed" becomes greater than 1
