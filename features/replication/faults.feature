Feature: Faults: failover, resyncs, frozen replicas, sync modes

  Scenario: The primary dies; a replica takes over; the old primary rejoins as a replica
    Given a primary with 2 replicas
    And I run `SET K V` on the primary
    And the replicas have caught up
    When I kill the primary
    And replica 1 is promoted to primary
    And replica 2 replicates replica 1
    And I run `SET after failover` on replica 1
    Then replica 2 returns "failover" for `GET after`
    When I start the primary again
    And the primary replicates replica 1
    Then the primary is a replica of replica 1
    And the primary returns "failover" for `GET after`
    And the primary returns "V" for `GET K`

  Scenario: A replica restarted from its own snapshot resyncs partially
    Given a primary with 1 replica
    And I run `SET K V` on the primary
    And the replicas have caught up
    When I restart replica 1, saving first
    And I run `SET K2 V2` on the primary
    Then replica 1 returns "V2" for `GET K2`
    And the replicas have caught up
    And the INFO field "sync_partial_ok" of the primary is "1"
    And the INFO field "sync_full" of the primary is "1"

  Scenario: A backlog too small for what was missed forces a full resync
    Given a primary with 1 replica and the config:
      | repl-backlog-size | 16kb |
    And I run `SET K V` on the primary
    And the replicas have caught up
    When I stop replica 1, saving first
    And I run `EVAL "return redis.call('SET', 'big', string.rep('x', 100000))" 0` on the primary
    And I start replica 1 again
    Then replica 1 returns "V" for `GET K`
    And the replicas have caught up
    And the INFO field "sync_full" of the primary is "2"
    And the INFO field "sync_partial_ok" of the primary is "0"
    And the log of replica 1 contains "Full resync from"

  Scenario: A frozen replica acknowledges nothing until thawed
    Given a primary with 1 replica
    When I freeze replica 1
    And client "writer" is connected to the primary
    And client "writer" runs `SET K V`
    And client "writer" runs `WAIT 1 100`
    Then the reply is the integer 0
    When I thaw replica 1
    Then the replicas have caught up
    And replica 1 returns "V" for `GET K`
    When client "writer" runs `WAIT 1 5000`
    Then the reply is the integer 1

  Scenario: A disk-based full sync
    Given a primary with 1 replica and the config:
      | repl-diskless-sync | no |
    When I run `SET K V` on the primary
    Then replica 1 returns "V" for `GET K`
    And the log of the primary contains "Starting BGSAVE for SYNC with target: disk"

  Scenario: A diskless full sync
    Given a primary with 1 replica and the config:
      | repl-diskless-sync | yes |
    When I run `SET K V` on the primary
    Then replica 1 returns "V" for `GET K`
    And the log of the primary contains "Starting BGSAVE for SYNC with target: replicas sockets"
