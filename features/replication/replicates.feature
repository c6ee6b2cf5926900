Feature: A write replicates
  "`SET K V` replicates" is how replication is stated: the write runs on the
  primary, every replica catches up, and each holds what the write wrote —
  for any writing command, a module's included.

  Background:
    Given a primary with 2 replicas

  Scenario: writes of every type replicate
    Then `SET k v` replicates
    And `SET session s EX 100` replicates
    And `RPUSH q a b c` replicates
    And `HSET h f1 v1 f2 v2` replicates
    And `SADD s x y z` replicates
    And `ZADD z 1 a 2 b` replicates
    And `XADD stream * field value` replicates
    And `LMOVE q q2 LEFT RIGHT` replicates
    And `DEL k` replicates

  Scenario: replicas answer as the primary does
    When I run `RPUSH q a b` on the primary
    Then replica 1 answers `LRANGE q 0 -1` as the primary does
    And replica 2 answers `LLEN q` as the primary does
    And the key "q" exists on replica 2
    And the key "other" does not exist on replica 1

  Scenario: INFO and replies of replicas become what they should
    When I run `SET counter 7` on the primary
    Then the INFO field "master_link_status" of replica 1 becomes "up"
    And the INFO field "master_repl_offset" of replica 2 becomes at least 1
    And the reply to `GET counter` on replica 2 becomes "7"
    And the config "replica-read-only" of replica 1 becomes "yes"
    And the INFO field "connected_slaves" of the primary is equal to 2

  Scenario: a replica's memory and config compared with the primary's
    Given I remember the INFO field "used_memory" of the primary as "used"
    And I remember the config "maxmemory" of replica 1 as "limit"
    When I run `SET big 0123456789012345678901234567890123456789` on the primary
    Then the INFO field "used_memory" of the primary is greater than ${used}
    And the config "maxmemory" of replica 2 is equal to ${limit}
