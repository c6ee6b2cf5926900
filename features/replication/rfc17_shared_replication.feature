@serial
Feature: A primary and a replica shared by ordered scenarios (RFC 17, example 4)
  The first scenario starts the primary and its replica, the next ones reuse
  them, the last one stops them. `@serial` runs the scenarios one at a time,
  in the order written.

  Scenario: replication_basic1
    Given a primary with 1 replica shared by the scenarios of this feature
    When I run `SET K V` on the primary
    Then the replicas have caught up
    When I run `GET K` on the replica
    Then the reply is "V"

  Scenario: replication_basic2
    Given a primary with 1 replica shared by the scenarios of this feature
    When I run `GET K` on the replica
    Then the reply is "V"
    When I run `SET K VV` on the primary
    Then the replicas have caught up
    When I run `GET K` on the replica
    Then the reply is "VV"

  Scenario: replication_basic3
    Given a primary with 1 replica shared by the scenarios of this feature
    When I run `CONFIG SET repl-timeout 5` on the replica
    Then the reply is "OK"
    When I run `GET K` on the replica
    Then the reply is "VV"
    When I stop the primary
    And I stop the replica
    Then the primary is not running
    And the replica is not running
