Feature: Latency on a server's links
  A server whose links have latency talks to the other servers slowly (its
  replication links, the cluster bus), each way, while the harness still
  reaches it at once. `WAIT` on the primary waits for the replica's
  acknowledgement: one trip to the replica and one back. The replica also
  acknowledges by itself once a second, so a `WAIT` that starts late after
  its write (a loaded machine between two steps) can end sooner than a
  round trip after it started: the claim is one trip, which holds while the
  `WAIT` starts within 200 ms of the write. The links open when
  the latency starts, or when the network heals, are made anew: the replica
  reconnects within a second. A busy machine can stall any one command, but
  never make a delayed one come back early: that a link is slowed is written
  as a least time, and that one is not, against a client of a server whose
  links were never slowed, measured beside it.

  Scenario: WAIT waits for a replica whose links have 200 ms of latency, until the network heals
    Given a primary with 1 replica
    And client "writer" is connected to the primary
    And client "reader" is connected to replica 1
    When the links of replica 1 have 200 ms of latency
    Then the INFO field "master_link_status" of replica 1 becomes "up"
    When client "writer" runs `SET k slow`
    Then `WAIT 1 2000` by client "writer" takes at least 200 ms
    And the reply is the integer 1
    And `PING` by client "reader" takes less than 200 ms more than by client "writer"
    When the network heals
    Then the INFO field "master_link_status" of replica 1 becomes "up"
    When client "writer" runs `SET k fast`
    And client "writer" runs `WAIT 1 2000`
    Then the reply is the integer 1
    And replica 1 returns "fast" for `GET k`
