@engine:valkey
Feature: A module named once for every scenario of a feature
  The Background names the module; every server each scenario then starts
  loads it, alone, in a replica set or in a cluster. (To load a module into
  every server of a whole run, set VALKEY_BDD_MODULE — or MODULE_PATH, as
  the Python test framework names it — and VALKEY_BDD_MODULE_ARGS.)

  Background:
    Given every server loads the module of the crate "valkey-bdd-tally" and the arguments "step 2"

  Scenario: A lone server loads it
    Given a server
    When I run `TALLY.ADD fruit apple`
    Then the reply is the integer 2

  Scenario: A primary and its replica load it
    Given a primary with 1 replica
    When I run `TALLY.ADD fruit apple` on the primary
    And the replicas have caught up
    Then the replica returns "2" for `TALLY.GET fruit apple`

  Scenario: Every node of a cluster loads it, and counts a command declared in upper case
    Given a cluster of 1 shard with 1 replica each
    When I run `TALLY.ADD fruit apple`
    Then the reply is the integer 2
    When I run `TALLY.DEL fruit apple`
    Then the reply is the integer 1
    And the replicas have caught up
    And the replica of shard 1 has executed "TALLY.DEL" 1 time
    And the replica of shard 1 has executed "tally.del" 1 time

  Scenario: A module the scenario names as well is loaded once
    Given a server with the module of the crate "valkey-bdd-tally" and the arguments "step 5"
    When I run `TALLY.ADD fruit apple`
    Then the reply is the integer 5
