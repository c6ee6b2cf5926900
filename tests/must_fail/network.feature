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
