Feature: Cluster failover
  With 3 shards and a replica each, node 4 replicates node 1, node 5 node 2
  and node 6 node 3. "bar" lives in slot 5061 (shard 1), "c" in slot 7365
  (shard 2), "foo" in slot 12182 (shard 3). The harness sets a node timeout
  of 2 s unless the feature sets one.

  Background:
    Given a cluster of 3 shards with 1 replica each

  Scenario: A manual failover swaps a primary and its replica
    When I run `SET bar before`
    And the replicas have caught up
    And I fail over to node 4
    Then node 4 owns slot 5061
    And node 1 is a replica of node 4
    When I run `GET bar`
    Then the reply is "before"

  Scenario: FORCE takes over from a frozen primary, which rejoins as a replica
    When I run `SET bar before`
    And the replicas have caught up
    And I freeze node 1
    And I fail over to node 4 with FORCE
    Then node 4 owns slot 5061
    When I thaw node 1
    Then node 1 is a replica of node 4
    And the cluster is ready
    And node 4 returns "before" for `GET bar`

  Scenario: TAKEOVER needs no vote: the primary is dead
    When I run `SET bar before`
    And the replicas have caught up
    And I kill node 1
    And I fail over to node 4 with TAKEOVER
    Then node 4 owns slot 0
    When I run `GET bar`
    Then the reply is "before"

  Scenario: Killing a primary makes its replica take over by itself
    When I run `SET c written`
    And the replicas have caught up
    And I kill node 2
    Then node 5 becomes a primary of the cluster
    And node 5 returns "written" for `GET c`
    When I start node 2 again
    Then node 2 is a replica of node 5
    And the cluster is ready
    When I run `GET c`
    Then the reply is "written"

  Scenario: Freezing a primary makes its replica take over; thawed, it follows
    When I run `SET foo written`
    And the replicas have caught up
    And I freeze node 3
    Then node 6 becomes a primary of the cluster
    When I thaw node 3
    Then node 3 is a replica of node 6
    And the cluster is ready
    And node 6 returns "written" for `GET foo`
