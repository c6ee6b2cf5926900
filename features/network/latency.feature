Feature: Latency on a client's link
  A client whose link has latency waits for every reply: what it sends and
  what it receives are each held that long, while other clients of the same
  server are not slowed. A busy machine can stall any one command, but never
  make a delayed reply come back early: that a link is slowed is written as
  a least time, and that one is not, against another client of the same
  server, measured beside it (the fastest of a few tries each). The margin
  is half the 400 ms round trip: under a CPU hog the baseline's fastest try
  itself took 147 ms.

  Scenario: A client with 200 ms of latency waits at least 400 ms for a reply, and the others do not
    Given a server
    And client "far" is connected to the server
    And client "near" is connected to the server
    When the link of client "far" has 200 ms of latency
    Then `PING` by client "far" takes at least 400 ms
    And `PING` by client "far" takes at least 200 ms more than by client "near"
    When the network heals
    Then `PING` by client "far" takes less than 200 ms more than by client "near"
