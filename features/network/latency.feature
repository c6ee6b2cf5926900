Feature: Latency on a client's link
  A client whose link has latency waits for every reply: what it sends and
  what it receives are each held that long, while other clients of the same
  server are not slowed. "Not slowed" is written as under the 400 ms a delayed
  reply takes at the least: a busy machine can stall any one command for a
  while, but never make a delayed one come back early.

  Scenario: A client with 200 ms of latency waits at least 400 ms for a reply
    Given a server
    And client "far" is connected to the server
    And client "near" is connected to the server
    When the link of client "far" has 200 ms of latency
    Then `PING` by client "far" takes at least 400 ms
    And `PING` by client "near" takes less than 400 ms
    When the network heals
    Then `PING` by client "far" takes less than 400 ms
