@requires:tls
Feature: Replication and clusters over TLS
  The replication and cluster controllers take a TLS setting: every node
  speaks TLS only, replicas reach their primary over TLS
  (`tls-replication yes`) and cluster nodes talk over a TLS bus
  (`tls-cluster yes`). With mutual TLS the nodes present certificates to
  each other.

  Scenario: A replica catches up with its primary over mutual TLS
    Given a primary with 1 replica over mutual TLS
    When I run `SET colour blue` on the primary
    And the replicas have caught up
    Then the replica returns "blue" for `GET colour`
    And all replicas hold the same data as the primary
    And the config "tls-replication" of the replica is "yes"
    And the INFO field "master_link_status" of the replica is "up"

  Scenario: A cluster over mutual TLS serves a cluster client over TLS
    Given a cluster of 3 shards with 1 replica each over mutual TLS
    When I run `SET {user:1}:name ada`
    Then the reply is "OK"
    When I run `GET {user:1}:name`
    Then the reply is "ada"
    And the config "tls-cluster" of node 1 is "yes"
    And the INFO field "cluster_enabled" of node 2 is "1"

  Scenario: A TLS cluster fails over through its TLS bus
    Given a cluster of 3 shards with 1 replica each over TLS
    When I run `SET {user:1}:name ada`
    And I fail over to the replica of shard 1
    Then the replica of shard 1 is a primary
    When I run `GET {user:1}:name`
    Then the reply is "ada"
