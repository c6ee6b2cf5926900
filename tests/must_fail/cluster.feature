Feature: Must fail: the cluster sentences
  Clusters of one shard: the cheapest that shows each sentence fail.

  Scenario: a cluster with a slot unassigned is not ready
    Fails with: to be ready
    Given a cluster of 1 shard
    When I run `CLUSTER DELSLOTS 0` on node 1
    Then the cluster is ready

  Scenario: a key hashes to its own slot
    Fails with: "foo" hashes to slot 12182, not 0
    Given a cluster of 1 shard
    Then "foo" hashes to slot 0

  Scenario: keys without a common hash tag hash apart
    Fails with: "a" hashes to slot 15495, "b" to slot 3300
    Given a cluster of 1 shard
    Then "a" and "b" hash to the same slot

  Scenario: a replica serves no slot
    Fails with: slot 0 is served by
    Given a cluster of 1 shard with 1 replica each
    Then node 2 owns slot 0

  Scenario: the owner's own answer is no MOVED redirect
    Fails with: expected the redirect MOVED 12182
    Given a cluster of 1 shard
    When I run `GET foo` on node 1
    Then the reply is a MOVED redirect to the owner of slot 12182

  Scenario: a slot not migrating gives no ASK redirect
    Fails with: expected the redirect ASK 12182
    Given a cluster of 1 shard
    When I run `GET foo` on node 1
    Then the reply is an ASK redirect for slot 12182 to shard 1

  Scenario: a replica left alone does not become a primary
    Fails with: to become a primary of the cluster
    Given a cluster of 1 shard with 1 replica each
    Then node 2 becomes a primary of the cluster

  Scenario: no move, no writes read back
    Fails with: the background writer wrote nothing
    Given a cluster of 1 shard
    Then every write made during the move reads back

  Scenario: a healthy node's cluster state does not become fail
    Fails with: waiting for the CLUSTER INFO field "cluster_state" of server "node 1"
    Fails with: to become "fail"
    Fails with: last seen: "ok"
    Given a cluster of 1 shard
    Then the CLUSTER INFO field "cluster_state" of node 1 becomes "fail"
