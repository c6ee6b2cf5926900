Feature: Must fail: the network sentences

  Scenario: a client with 200 ms of latency does not answer within 100 ms
    Fails with: by client "far" took
    Fails with: expected a number less than 100
    Given a server
    And client "far" is connected to the server
    When the link of client "far" has 200 ms of latency
    Then `PING` by client "far" takes less than 100 ms

  Scenario: a client without latency does not wait 400 ms for a reply
    Fails with: expected a number at least 400
    Given a server
    And client "near" is connected to the server
    Then `PING` by client "near" takes at least 400 ms

  Scenario: a fault naming a server the scenario lacks fails
    Fails with: this scenario has no server called "node 9"
    Given a primary with 1 replica
    When node 9 is cut off from the other nodes

  Scenario: a dropped link naming a server the scenario lacks fails
    Fails with: this scenario has no server called "replica 7"
    Given a primary with 1 replica
    When the link from replica 7 to the primary drops

  Scenario: latency naming a server the scenario lacks fails
    Fails with: this scenario has no server called "node 9"
    Given a primary with 1 replica
    When the links of node 9 have 200 ms of latency

  Scenario: a replica whose links have 200 ms of latency does not acknowledge a write within 100 ms
    Fails with: `WAIT 1 2000` by client "writer" took
    Fails with: expected a number less than 100
    Given a primary with 1 replica
    And client "writer" is connected to the primary
    When the links of replica 1 have 200 ms of latency
    Then the INFO field "master_link_status" of replica 1 becomes "up"
    When client "writer" runs `SET k slow`
    Then `WAIT 1 2000` by client "writer" takes less than 100 ms

  Scenario: a client without latency is not 300 ms slower than another
    Fails with: `PING` took
    Fails with: (the fastest of 3 tries each)
    Fails with: expected a number at least 300
    Given a server
    And client "far" is connected to the server
    And client "near" is connected to the server
    Then `PING` by client "far" takes at least 300 ms more than by client "near"

  Scenario: a client with 200 ms of latency is not within 200 ms of another
    Fails with: by client "far" and
    Fails with: expected a number less than 200
    Given a server
    And client "far" is connected to the server
    And client "near" is connected to the server
    When the link of client "far" has 200 ms of latency
    Then `PING` by client "far" takes less than 200 ms more than by client "near"

  Scenario: a client of a replica whose link has latency is not within 200 ms of the primary's
    Fails with: by client "reader" and
    Fails with: expected a number less than 200
    Given a primary with 1 replica
    And client "writer" is connected to the primary
    And client "reader" is connected to replica 1
    When the links of replica 1 have 200 ms of latency
    And the link of client "reader" has 200 ms of latency
    Then `PING` by client "reader" takes less than 200 ms more than by client "writer"
