Feature: A write replicates in a cluster
  In a cluster, "`SET K V` replicates" writes through the cluster-aware
  client and follows each key to the replicas of the shard that owns it.

  Scenario: writes to keys of different shards reach their shards' replicas
    Given a cluster of 3 shards with 1 replica each
    Then `SET a 1` replicates
    And `SET b 2` replicates
    And `MSET {user}:1 x {user}:2 y` replicates
    And `HSET c f v` replicates
    And the key "c" exists
    And the key "missing" does not exist
    And the reply to `GET a` becomes "1"
    And "a" hashes to slot 15495
    And the replica of shard 3 answers `GET a` as the primary of shard 3 does
    And the key "a" exists on the replica of shard 3
    And the reply to `GET a` on the replica of shard 3 becomes "1"
