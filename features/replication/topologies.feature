Feature: Replication topologies

  Scenario: A primary with three replicas, configured together
    Given a primary with 3 replicas and the config:
      | maxmemory-policy | allkeys-lru |
    When I run `SET K V` on the primary
    Then the replicas have caught up
    And replica 1 returns "V" for `GET K`
    And replica 2 returns "V" for `GET K`
    And replica 3 returns "V" for `GET K`
    And the config "maxmemory-policy" of replica 3 is "allkeys-lru"
    And the INFO field "connected_slaves" of the primary is "3"

  Scenario: Configuration per node
    Given a primary with 2 replicas and the config per node:
      | node      | directive         | value |
      | all       | maxmemory         | 10mb  |
      | replica 2 | replica-read-only | no    |
    Then the config "replica-read-only" of replica 1 is "yes"
    And the config "replica-read-only" of replica 2 is "no"
    And the config "maxmemory" of the primary is "10485760"
    When I run `SET local 1` on replica 1
    Then the reply is an error containing "READONLY"
    When I run `SET local 1` on replica 2
    Then the reply is "OK"

  Scenario: A chain: a replica of a replica
    Given a chain of a primary and 2 replicas
    Then replica 1 is a replica of the primary
    And replica 2 is a replica of replica 1
    When I run `RPUSH events a b c` on the primary
    Then the replicas have caught up
    When I run `LRANGE events 0 -1` on replica 2
    Then the reply is the list:
      | a |
      | b |
      | c |

  Scenario: A server started earlier becomes a replica of another
    Given a server "a"
    And a server "b"
    And I run `SET before-sync 1` on server "b"
    And I run `SET K V` on server "a"
    When server "b" replicates server "a"
    Then server "b" is a replica of server "a"
    When I run `GET K` on server "b"
    Then the reply is "V"
    When I run `GET before-sync` on server "b"
    Then the reply is nil

  Scenario: REPLICAOF NO ONE turns a replica into a primary that keeps its data
    Given a primary with 1 replica
    And I run `SET K V` on the primary
    And the replicas have caught up
    When replica 1 is promoted to primary
    Then replica 1 is a primary
    When I run `SET K2 V2` on replica 1
    Then the reply is "OK"
    When I run `MGET K K2` on replica 1
    Then the reply is the list:
      | V  |
      | V2 |
    And the primary returns nil for `GET K2`
