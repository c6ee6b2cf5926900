Feature: Remembered values and ${placeholders}
  A value seen once — a reply, an INFO field, a config value, a client's id —
  is remembered under a name and written as ${name} in any later sentence:
  commands, expected values, tables and doc strings. ${now} and ${now_ms}
  are the clock; integers take arithmetic: ${now+5}, ${size-1}.

  Background:
    Given a server

  Scenario: a reply remembered and used in a command and an expected value
    Given I ran the commands:
      """
      RPUSH q a b c
      """
    When I run `LLEN q`
    And I remember the reply as "size"
    And I run `LINDEX q ${size-1}`
    Then the reply is "c"
    When I run `SET copy ${size}`
    And I run `GET copy`
    Then the reply is "${size}"
    And the remembered "size" is "3"

  Scenario: an error reply is remembered only when the sentence expects one
    Given I run `SET k abc`
    When I remember the error reply to `INCR k` as "not_a_number"
    Then the remembered "not_a_number" is "(error) ERR value is not an integer or out of range"
    And the reply to `INCR k` is the same as the remembered "not_a_number"
    When I run `HSET k f v`
    And I remember the error reply as "wrong_type"
    Then the remembered "wrong_type" is "(error) WRONGTYPE Operation against a key holding the wrong kind of value"

  Scenario: a key expires at a time computed from now
    When I run `SET session s1`
    And I run `EXPIREAT session ${now+100}`
    And I run `EXPIRETIME session`
    Then the reply is between ${now+99} and ${now+101}
    When I run `PEXPIREAT session ${now_ms+50}`
    Then the reply to `EXISTS session` becomes "0"
    And the key "session" does not exist

  Scenario: INFO fields and config values remembered, then compared
    Given I remember the INFO field "total_commands_processed" as "before"
    And I remember the config "maxmemory" as "limit"
    When I run `PING`
    And I remember the INFO field "total_commands_processed" of the server as "after"
    Then the remembered "after" is greater than ${before}
    And the remembered "limit" is equal to 0
    And the INFO field "total_commands_processed" is at least ${after}

  Scenario: placeholders fill tables and doc strings
    Given I remember the reply to `INCRBY counter 41` as "n"
    When I run `RPUSH list ${n} ${n+1}`
    And I run `LRANGE list 0 -1`
    Then the reply is the list:
      | ${n}   |
      | ${n+1} |
    And the reply is:
      """
      1) "41"
      2) "42"
      """

  Scenario: a named client's id, remembered and built in
    Given client "bob" is connected to the server
    And I remember the id of client "bob" as "bob"
    When I run `CLIENT LIST ID ${bob}`
    Then the reply contains "id=${client.bob.id} "
    And the reply contains "name=${client.bob.name} "

  Scenario: an answer unchanged since it was remembered
    Given I ran the commands:
      """
      HSET h a 1 b 2
      """
    And I remember the reply to `HGETALL h` as "before"
    When I run `HSET h a 1`
    Then the reply to `HGETALL h` is the same as the remembered "before"

  Scenario: the server's port, and a $ that is no placeholder
    When I run `CONFIG GET port`
    Then the reply contains "${port}"
    When I run `ECHO $${not_a_placeholder}`
    Then the reply is "$${not_a_placeholder}"
