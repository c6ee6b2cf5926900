# Ported from Valkey's tests/unit/moduleapi/keyspace_events.tcl (8.1.1), against
# tests/modules/keyspace_events.c. Every Tcl `test` block is a scenario (the
# Tcl file runs them on one server, in order; each scenario here sets up what
# its block relies on); "OnLoad failure will handle un-registration" loads
# the module at run time by its whole path, `${cwd}/…`, on a server without it
# (server "plain": the Background's server has it).
# The notification test subscribes to db 0's channel (the Tcl suite uses db 9)
# with SUBSCRIBE instead of PSUBSCRIBE *.
Feature: Keyspace events seen by a module

  Background:
    Given a server with Valkey's test module "keyspace_events"

  Scenario: Test loaded key space event
    Given I run `SET x 1`
    And I run `HSET y f v`
    And I run `LPUSH z 1 2 3`
    And I run `SADD p 1 2 3`
    And I run `ZADD t 1 f1 2 f2`
    And I run `XADD s * f v`
    When I run `DEBUG RELOAD`
    Then the module saw the key "x" loaded
    And the module saw the key "y" loaded
    And the module saw the key "z" loaded
    And the module saw the key "p" loaded
    And the module saw the key "t" loaded
    And the module saw the key "s" loaded

  Scenario: Nested multi due to RM_Call
    Given I run `SET x 1`
    And I run `SET x_copy 1`
    When the module's nested calls ran on "x"
    Then the key "multi" does not exist
    And the key "lua" does not exist
    And the key "x" holds "3"

  Scenario: Nested multi due to RM_Call, with client MULTI
    Given I run `SET x 1`
    And I run `SET x_copy 1`
    When I run `MULTI`
    And the module's nested calls ran on "x"
    And I run `EXEC`
    Then the key "multi" holds "1"
    And the key "lua" does not exist
    And the key "x" holds "3"

  Scenario: Nested multi due to RM_Call, with EVAL
    Given I run `SET x 1`
    And I run `SET x_copy 1`
    When I run `EVAL "redis.pcall('keyspace.del_key_copy', KEYS[1]) redis.pcall('keyspace.incr_case1', KEYS[1]) redis.pcall('keyspace.incr_case2', KEYS[1]) redis.pcall('keyspace.incr_case3', KEYS[1])" 1 x`
    Then the key "multi" does not exist
    And the key "lua" holds "1"
    And the key "x" holds "3"

  Scenario: Test module key space event
    When I run `KEYSPACE.NOTIFY x`
    Then the module was notified about its key "x"

  Scenario: Keyspace notifications: module events test
    Given I run `CONFIG SET notify-keyspace-events Kd`
    And client "rd1" subscribes to "__keyspace@0__:x"
    When I run `KEYSPACE.NOTIFY x`
    Then client "rd1" receives "notify" on "__keyspace@0__:x"

  Scenario: Test expired key space event
    When I run `SET exp 1 PX 10`
    Then the server returns "1" for `GET testkeyspace:expired`

  Scenario: Unload the module, then a string with an expiry (RM_StringDMA)
    When I run `MODULE UNLOAD testkeyspace`
    Then the reply is "OK"
    When I run `SET x 1 EX 1`
    Then the reply is "OK"

  Scenario: OnLoad failure will handle un-registration
    Given a server "plain" with the config:
      | enable-module-command | yes |
    When I run `MODULE LOAD ${cwd}/.build/modules/8.1.1/keyspace_events.so noload` on server "plain"
    Then the reply is an error containing "Error loading the extension"
    When I run `SET x 1` on server "plain"
    And I run `HSET y f v` on server "plain"
    And I run `LPUSH z 1 2 3` on server "plain"
    And I run `SADD p 1 2 3` on server "plain"
    And I run `ZADD t 1 f1 2 f2` on server "plain"
    And I run `XADD s * f v` on server "plain"
    And I run `PING` on server "plain"
    Then the reply is "PONG"
