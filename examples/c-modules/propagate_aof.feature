# The AOF blocks of Valkey's tests/unit/moduleapi/propagate.tcl (8.1.1): the
# Tcl file runs each twice, loading the AOF with DEBUG LOADAOF and by a
# restart; here each way is a scenario. The Tcl blocks turn the AOF on with
# CONFIG SET and wait for its first rewrite; here the server starts with it.
Feature: A module's propagated writes, loaded back from the AOF

  Scenario Outline: Modules RM_Replicate replicates MULTI/EXEC correctly: AOF-load type <way>
    Given a server with Valkey's test module "propagate" and an AOF
    When I run `PROPAGATE-TEST.SIMPLE`
    And I run `PROPAGATE-TEST.MIXED`
    And client "c" runs `MULTI`
    And client "c" runs `PROPAGATE-TEST.SIMPLE`
    And client "c" runs `PROPAGATE-TEST.MIXED`
    And client "c" runs `EXEC`
    Then the key "counter-1" does not exist
    And the key "counter-2" does not exist
    And the key "using-call" holds "2"
    And the key "after-call" holds "2"
    And the key "notifications" holds "4"
    When the AOF is loaded again <way>
    Then the key "counter-1" holds "4"
    And the key "counter-2" holds "4"
    And the key "using-call" holds "2"
    And the key "after-call" holds "2"
    And the key "notifications" holds "20"
    When I run `MODULE UNLOAD propagate-test`
    Then the reply is "OK"
    And the INFO field "unexpected_error_replies" is "0"

    Examples:
      | way                  |
      | by DEBUG LOADAOF     |
      | by a restart         |

  Scenario Outline: Modules RM_Call does not update stats during aof load: AOF-load type <way>
    Given a server with Valkey's test module "misc" and an AOF
    And I run `CONFIG RESETSTAT`
    When I run `SET foo bar`
    And I run `EVAL "return redis.call('SET', KEYS[1], ARGV[1])" 1 foo bar2`
    And I run `TEST.RM_CALL_REPLICATE set foo bar3`
    And I run `EVAL "return redis.call('test.rm_call_replicate', ARGV[1], KEYS[1], ARGV[2])" 1 foo set bar4`
    And client "c" runs `MULTI`
    And client "c" runs `SET foo bar5`
    And client "c" runs `EVAL "return redis.call('SET', KEYS[1], ARGV[1])" 1 foo bar6`
    And client "c" runs `TEST.RM_CALL_REPLICATE set foo bar7`
    And client "c" runs `EVAL "return redis.call('test.rm_call_replicate', ARGV[1], KEYS[1], ARGV[2])" 1 foo set bar8`
    And client "c" runs `EXEC`
    Then the server has executed "set" 8 times
    When I run `CONFIG RESETSTAT`
    And the AOF is loaded again <way>
    And I run `INFO commandstats`
    Then the reply does not contain "cmdstat_set:"

    Examples:
      | way                  |
      | by DEBUG LOADAOF     |
      | by a restart         |
