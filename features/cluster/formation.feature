Feature: Forming clusters
  Nodes are started together and formed with CLUSTER MEET, ADDSLOTSRANGE and
  CLUSTER REPLICATE; the cluster is ready when every node reports
  cluster_state:ok, knows every other node, replicas are synced and all nodes
  agree on the slot map. Sentences that name no server use a cluster-aware
  client.

  Scenario: Three shards with a replica each
    Given a cluster of 3 shards with 1 replica each
    Then the INFO field "cluster_enabled" of node 1 is "1"
    And the CLUSTER INFO field "cluster_known_nodes" of node 6 becomes "6"
    And the primary of shard 1 owns slot 0
    And the primary of shard 2 owns slot 5461
    And the primary of shard 3 owns slot 16383
    And node 4 is a replica of node 1
    And the replica of shard 3 is a replica of the primary of shard 3
    When I run `SET greeting hello`
    Then the reply is "OK"
    When I run `GET greeting`
    Then the reply is "hello"
    When I run `GET greeting` on the node that owns "greeting"
    Then the reply is "hello"

  Scenario: A single shard serves every slot
    Given a cluster of 1 shard
    Then node 1 owns slot 0
    And node 1 owns slot 16383
    When I run `MSET a 1 b 2 c 3`
    Then the reply is "OK"

  Scenario: The config applies to every node
    Given a cluster of 2 shards with 1 replica each and the config:
      | cluster-node-timeout | 3000 |
      | maxmemory            | 20mb |
    Then the config "cluster-node-timeout" of node 3 is "3000"
    And the config "maxmemory" of node 4 is "20971520"
    And the cluster is ready

  Scenario: Replicas of a shard get its writes
    Given a cluster of 2 shards with 1 replica each
    When I run `SET {user:1}:name Ada`
    Then the replicas have caught up
    Given client "reader" is connected to the replica of shard 2
    When client "reader" runs `READONLY`
    And client "reader" runs `GET {user:1}:name`
    Then the reply is "Ada"
