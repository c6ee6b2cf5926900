Feature: A network partition in a cluster
  With 3 shards and a replica each, node 4 replicates node 1. "bar" lives in
  slot 5061 (shard 1). Valkey's cluster specification says it: a primary on
  the minority side of a partition keeps accepting writes until it notices
  it is alone (the node timeout); once its replica is promoted on the
  majority side, those writes are lost.

  Scenario: A primary on the minority side is replaced, rejoins as a replica, and its writes there are lost
    Given a cluster of 3 shards with 1 replica each and the config:
      | cluster-node-timeout | 1000 |
    When I run `SET bar before` on node 1
    And the replicas have caught up
    And node 1 is cut off from the other nodes
    And I run `SET bar lost` on node 1
    Then the reply is "OK"
    And the INFO field "role" of node 4 becomes "master"
    When the network heals
    Then node 1 is a replica of node 4
    And the cluster is ready
    And node 4 returns "before" for `GET bar`
    And node 1 has caught up with node 4
    When I run `READONLY` on node 1
    And I run `GET bar` on node 1
    Then the reply is "before"
