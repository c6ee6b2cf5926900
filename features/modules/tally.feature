@engine:valkey
Feature: A module tested the way module authors test theirs
  The module `tally` (modules/tally, a Rust cdylib on the valkey-module
  crate) is built by cargo when a scenario first asks for it. It has a data
  type saved to RDB and rewritten into the AOF, a replicated write command,
  an ACL category and a keyspace event. Valkey only: Redis 7.0 lacks the
  module API for ACL categories and crashes loading it.

  Scenario: The module loads with its arguments and shows in MODULE LIST
    Given a server with the module of the crate "valkey-bdd-tally" and the arguments "step 5"
    When I run `MODULE LIST`
    Then the reply contains "tally"
    When I run `TALLY.ADD fruit apple`
    Then the reply is the integer 5
    When I run `TALLY.ADD fruit apple 2`
    Then the reply is the integer 7
    When I run `TYPE fruit`
    Then the reply is "tally-bdd"
    And the log of the server contains "tally: loaded, step 5"

  Scenario: A bad module argument stops the server from starting
    When I try to start a server with the module of the crate "valkey-bdd-tally" and the arguments "step zero"
    Then the server fails to start and its log contains "tally: step must be a positive integer, not "zero""
    And the server fails to start and its log contains "initialization failed"

  Scenario: Writes replicate: the replica ran them and holds the same data
    Given a primary with 1 replica loading the module of the crate "valkey-bdd-tally"
    When I run `TALLY.ADD fruit apple 3` on the primary
    And I run `TALLY.ADD fruit pear` on the primary
    And the replicas have caught up
    Then the replica returns "3" for `TALLY.GET fruit apple`
    And the replica has executed "tally.add" 2 times
    And all replicas hold the same data as the primary

  Scenario: Commands are counted whatever the case the module declared them in
    The module declares TALLY.DEL in upper case, as many modules do (BF.ADD):
    INFO commandstats keeps that case, the sentence finds it either way.
    Given a primary with 1 replica loading the module of the crate "valkey-bdd-tally"
    When I run `TALLY.ADD fruit apple 3` on the primary
    And I run `tally.del fruit apple` on the primary
    Then the reply is the integer 1
    And the replicas have caught up
    And the replica has executed "TALLY.DEL" 1 time
    And the replica has executed "tally.del" 1 time
    And the replica has executed "TALLY.GET" 0 times
    And the replica returns "0" for `TALLY.GET fruit apple`

  Scenario: The type survives a restart through RDB
    Given a server with the module of the crate "valkey-bdd-tally"
    And I run `TALLY.ADD fruit apple 4`
    When I restart the server, saving first
    And I run `TALLY.GET fruit apple`
    Then the reply is the integer 4
    When I run `DEBUG RELOAD`
    And I run `TALLY.TOTAL fruit`
    Then the reply is the integer 4

  Scenario: An AOF rewrite writes the type as commands, and a restart replays them
    Given a server with the module of the crate "valkey-bdd-tally" and the config:
      | appendonly           | yes |
      | aof-use-rdb-preamble | no  |
    And I run `TALLY.ADD fruit apple 6`
    And I run `TALLY.ADD fruit pear 1`
    When I run `BGREWRITEAOF`
    And the INFO field "aof_rewrite_in_progress" becomes "0"
    And the INFO field "aof_rewrites" becomes "1"
    Then the INFO field "aof_last_bgrewrite_status" is "ok"
    When I restart the server
    And I run `TALLY.TOTAL fruit`
    Then the reply is the integer 7
    And the log of the server contains "DB loaded from append only file"

  Scenario: A user without the module's ACL category gets NOPERM
    Given a server with the module of the crate "valkey-bdd-tally"
    And the server has the ACL users:
      | user    | rules                          |
      | counter | on >pw ~* +@tally              |
      | outsider| on >pw ~* +@all -@tally        |
    When client "c" connects to the server as "counter" with password "pw"
    And client "c" runs `TALLY.ADD fruit apple`
    Then the reply is the integer 1
    When client "o" connects to the server as "outsider" with password "pw"
    And client "o" runs `TALLY.ADD fruit apple`
    Then the reply is an error containing "NOPERM"
    When client "o" runs `TALLY.GET fruit apple`
    Then the reply is an error containing "NOPERM"

  Scenario: A write raises the module's keyspace event
    Given a server with the module of the crate "valkey-bdd-tally" and the config:
      | notify-keyspace-events | Kd |
    When client "watcher" subscribes to "__keyspace@0__:fruit"
    And I run `TALLY.ADD fruit apple`
    Then client "watcher" receives "tally.add" on "__keyspace@0__:fruit"

  Scenario: DUMP and RESTORE copy a value of the type
    Given a server with the module of the crate "valkey-bdd-tally"
    And I run `TALLY.ADD fruit apple 2`
    And I run `TALLY.ADD fruit plum 9`
    When I copy "fruit" to "basket" with DUMP and RESTORE
    And I run `TALLY.GET basket plum`
    Then the reply is the integer 9
    When I run `TALLY.TOTAL basket`
    Then the reply is the integer 11

  Scenario: Every node of a cluster loads the module of the crate
    Given a cluster of 1 shard with 1 replica each loading the module of the crate "valkey-bdd-tally"
    When I run `TALLY.ADD fruit apple 3`
    And the replicas have caught up
    Then the replica of shard 1 has executed "tally.add" 1 time
    When I run `TALLY.GET fruit apple`
    Then the reply is the integer 3
