Feature: Network faults between a primary and its replicas
  The servers keep running while the network between them fails: packets
  between the named servers are dropped inside the run's private network
  namespace, and the harness's own connections still reach every server.
  Where network namespaces cannot be made, these are skipped with the
  reason.

  Scenario: WAIT counts no replica while the only one is cut off
    Given a primary with 1 replica
    When the primary is cut off from replica 1
    And I run `SET k during` on the primary
    And I run `WAIT 1 500` on the primary
    Then the reply is the integer 0
    When the network heals
    Then replica 1 returns "during" for `GET k`

  Scenario: A replica whose link drops resumes with a partial resync
    Given a primary with 1 replica and the config:
      | repl-timeout             | 1 |
      | repl-ping-replica-period | 1 |
    And I remember the INFO field "sync_full" of the primary as "full_syncs"
    And I remember the INFO field "sync_partial_ok" of the primary as "partial_syncs"
    When the link from replica 1 to the primary drops
    And I run `SET k during` on the primary
    Then the INFO field "master_link_status" of replica 1 becomes "down"
    When the network heals
    Then the INFO field "master_link_status" of replica 1 becomes "up"
    And the INFO field "sync_partial_ok" of the primary is greater than ${partial_syncs}
    And the INFO field "sync_full" of the primary is equal to ${full_syncs}
    And replica 1 returns "during" for `GET k`

  Scenario: A primary cut off from its replicas refuses writes under min-replicas-to-write
    Given a primary with 2 replicas and the config:
      | min-replicas-to-write | 1 |
      | min-replicas-max-lag  | 1 |
    And the INFO field "min_slaves_good_slaves" of the primary becomes "2"
    When I run `SET k before` on the primary
    Then the reply is "OK"
    When the primary is cut off from the other nodes
    Then the INFO field "min_slaves_good_slaves" of the primary becomes "0"
    When I run `SET k after` on the primary
    Then the reply is an error containing "NOREPLICAS"
    When the network heals
    Then the INFO field "min_slaves_good_slaves" of the primary becomes "2"
    When I run `SET k after` on the primary
    Then the reply is "OK"
