Feature: Latency on a cluster node's bus
  A node whose cluster bus is slower than the node timeout cannot answer the
  other nodes' pings in time: they flag it as failing although its process
  runs and still answers clients. Valkey's cluster specification says it: a
  node that does not answer a ping within the node timeout is possibly
  failing (PFAIL), and once a majority of primaries flags it, failing
  (FAIL); a cluster whose slots are served by a failing primary is down.
  Once the network heals, the node answers in time and the cluster is whole
  again.

  # Putting latency on a node's bus breaks its open bus links (`DEBUG
  # CLUSTERLINK KILL`) so that they reconnect through the delay; Redis 7.0.15
  # crashes in freeClusterLink doing that, Valkey does not.
  @engine:valkey
  Scenario: A node whose bus has latency above the node timeout is found failing while it still answers
    Given a cluster of 3 shards with 0 replicas each and the config:
      | cluster-node-timeout | 1000 |
    When the links of node 1 have 2000 ms of latency
    Then the CLUSTER INFO field "cluster_state" of node 2 becomes "fail"
    And the CLUSTER INFO field "cluster_state" of node 3 becomes "fail"
    When I run `PING` on node 1
    Then the reply is "PONG"
    When the network heals
    Then the cluster is ready
