Feature: A primary and a replica for every scenario (RFC 17, example 5)

  Background:
    Given a primary with 1 replica and the config:
      | repl-diskless-sync       | yes |
      | repl-diskless-sync-delay | 0   |

  Scenario: replication1
    When I run `CONFIG SET repl-timeout 5` on the replica
    Then the reply is "OK"
    When I run `SET K V` on the primary
    Then the replicas have caught up
    When I run `GET K` on the replica
    Then the reply is "V"

  Scenario: replication2
    When I run `SET K VV` on the primary
    Then the replicas have caught up
    When I run `GET K` on the replica
    Then the reply is "VV"
