@engine:valkey
Feature: Must fail: the module sentences
  The test module `tally` declares `TALLY.DEL` in upper case, as many modules
  declare theirs; `INFO commandstats` keeps that case.

  Scenario: a module command declared in upper case was executed once, not 0 times
    Fails with: has executed "tally.del" 1 time(s), expected 0 (cmdstat_TALLY.DEL:calls=1
    Given a primary with 1 replica loading the module of the crate "valkey-bdd-tally"
    When I run `TALLY.ADD fruit apple` on the primary
    And I run `tally.del fruit apple` on the primary
    And the replicas have caught up
    Then the replica has executed "tally.del" 0 times

  Scenario: a module that accepts its arguments does not fail to start
    Fails with: was expected to fail to start, but it is running
    When I try to start a server with the module of the crate "valkey-bdd-tally" and the arguments "step 5"

  Scenario: a command the server does not have was not executed 0 times
    Fails with: has no command "TALLY.ADD"
    Given a server
    Then the server has executed "TALLY.ADD" 0 times

  Scenario: a known command never run has executed 0 times, not 1
    Fails with: has executed "GET" 0 time(s), expected 1 (no commandstats line: never run)
    Given a server
    Then the server has executed "GET" 1 time

  Scenario: a command run once was not run twice
    Fails with: has executed "set" 1 time(s), expected 2
    Given a server
    When I run `SET k v`
    Then the server has executed "set" 2 times
