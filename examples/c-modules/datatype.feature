# Ported from Valkey's tests/unit/moduleapi/datatype.tcl (8.1.1), against
# tests/modules/datatype.c. Each Tcl `test` block is a scenario, except:
#   - "RM_SaveDataTypeToString(), RM_LoadDataTypeFromStringEncver() work" and
#     "Handle truncated RM_LoadDataTypeFromStringEncver()": they feed the
#     reply of DATATYPE.DUMP (and a truncated copy of it) to the next command;
#     no sentence carries a reply into a later command yet.
#   - The two SCAN tests loop over the cursor; here one SCAN with a COUNT
#     larger than the keyspace reads it whole, which checks the same filter.
Feature: A module data type: commands, copy, type name, loading from RDB

  Background:
    Given a server with Valkey's test module "datatype"

  Scenario: DataType: Test module is sane, GET/SET work.
    When I set the module value "dtkey" to 100 and "stringval"
    Then the module value "dtkey" holds 100 and "stringval"

  Scenario: test blocking of datatype creation outside of OnLoad
    When I run `BLOCK.CREATE.DATATYPE.OUTSIDE.ONLOAD`
    Then the reply is "OK"

  Scenario: DataType: ModuleTypeReplaceValue() happy path works
    Given I set the module value "key-a" to 1 and "AAA"
    And I set the module value "key-b" to 2 and "BBB"
    When I run `DATATYPE.SWAP key-a key-b`
    Then the reply is "OK"
    And the module value "key-a" holds 2 and "BBB"
    And the module value "key-b" holds 1 and "AAA"

  Scenario: DataType: ModuleTypeReplaceValue() fails on non-module keys
    Given I set the module value "key-a" to 1 and "AAA"
    And I run `SET key-b RedisString`
    When I run `DATATYPE.SWAP key-a key-b`
    Then the reply is an error containing "ERR"

  Scenario: DataType: Copy command works for modules
    Given I set the module value "answer-to-universe" to 42 and "AAA"
    When I run `COPY answer-to-universe answer2`
    Then the reply is an error containing "module key failed to copy"
    Given I set the module value "sourcekey" to 1234 and "AAA"
    When I run `COPY sourcekey targetkey`
    Then the module value "targetkey" holds 1234 and "AAA/sourcekey/targetkey"

  Scenario: DataType: Slow Loading
    Given I set the module value "dtkey" to 1 and "loaded"
    And I run `CONFIG SET busy-reply-threshold 5000`
    And I run `DATATYPE.SLOW_LOADING 1`
    When client "reloader" runs `DEBUG RELOAD` in the background
    Then the server returns "1" for `DATATYPE.IS_IN_SLOW_LOADING`
    When I run `PING`
    Then the reply is an error containing "LOADING"
    When I run `DATATYPE.SLOW_LOADING 0`
    And the INFO field "loading" becomes "0"
    And client "reloader" gets its reply
    Then the reply is "OK"
    And the module value "dtkey" holds 1 and "loaded"

  Scenario: DataType: check the type name
    Given I set the module value "foo" to 111 and "bar"
    When I run `TYPE foo`
    Then the reply is "test___dt"

  Scenario: SCAN module datatype
    Given I run `DEBUG POPULATE 1000`
    And I set the module value "foo" to 111 and "bar"
    When I run `SCAN 0 TYPE test___dt COUNT 5000`
    Then the reply is:
      """
      1) "0"
      2) 1) "foo"
      """

  Scenario: SCAN module datatype with case sensitive
    Given I run `DEBUG POPULATE 1000`
    And I set the module value "foo" to 111 and "bar"
    When I run `SCAN 0 TYPE tEsT___dT COUNT 5000`
    Then the reply is:
      """
      1) "0"
      2) 1) "foo"
      """
