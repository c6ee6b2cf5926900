Feature: Data type basics
  Commands are written as in valkey-cli, quoting included, and replies are
  checked the way valkey-cli prints them.

  Background:
    Given a server

  Scenario: Strings, with quoting as in valkey-cli
    When I run `SET "my key" "hello world"`
    Then the reply is the status "OK"
    When I run `GET "my key"`
    Then the reply is "hello world"
    When I run `APPEND "my key" '!'`
    Then the reply is the integer 12
    When I run `GET missing`
    Then the reply is nil

  Scenario: Binary-safe strings
    When I run `SET bin "a\x00b\n"`
    And I run `GET bin`
    Then the reply is the string "a\x00b\n"
    When I run `STRLEN bin`
    Then the reply is the integer 4

  Scenario: Counters
    When I run `INCRBY counter 5`
    Then the reply is the integer 5
    When I run `DECR counter`
    Then the reply is the integer 4
    When I run `INCRBYFLOAT counter 0.5`
    Then the reply is "4.5"

  Scenario: Lists keep their order
    Given I ran the commands:
      """
      RPUSH queue a b c
      LPUSH queue z
      """
    When I run `LRANGE queue 0 -1`
    Then the reply is the list:
      | z |
      | a |
      | b |
      | c |
    When I run `LRANGE nothing 0 -1`
    Then the reply is an empty list

  Scenario: Hashes
    Given I ran the commands:
      """
      HSET user:1 name "Ada Lovelace" born 1815
      """
    When I run `HGET user:1 name`
    Then the reply is "Ada Lovelace"
    When I run `HGETALL user:1`
    Then the reply is:
      """
      1) "name"
      2) "Ada Lovelace"
      3) "born"
      4) "1815"
      """

  Scenario: Sets
    Given I ran the commands:
      """
      SADD colors red green blue red
      """
    When I run `SCARD colors`
    Then the reply is the integer 3
    When I run `SMEMBERS colors`
    Then the reply is the list, in any order:
      | blue  |
      | green |
      | red   |

  Scenario: Sorted sets
    Given I ran the commands:
      """
      ZADD board 30 carol 10 alice 20 bob
      """
    When I run `ZRANGE board 0 -1 WITHSCORES`
    Then the reply is the list:
      | alice |
      | 10    |
      | bob   |
      | 20    |
      | carol |
      | 30    |

  Scenario: Keys expire
    When I run `SET session token PX 100000`
    And I run `PTTL session`
    Then the reply matches /^\d+$/
    When I run `PERSIST session`
    Then the reply is the integer 1
    When I run `TTL session`
    Then the reply is the integer -1
