Feature: Must fail: the replication sentences

  Scenario: a frozen replica has not caught up
    Fails with: to catch up with
    Given a primary with 1 replica
    When I freeze replica 1
    And I run `SET k v` on the primary
    Then the replicas have caught up

  Scenario: a scenario without replicas has no replica that caught up
    Fails with: no running server of this scenario is a replica, so none can have caught up
    Given a server
    And I run `SET k v`
    Then the replicas have caught up

  Scenario: a server that replicates nothing has not caught up
    Fails with: to catch up with
    Given a server "a"
    And a server "b"
    Then server "b" has caught up with server "a"

  Scenario: a replica without the primary's password never catches up
    Fails with: to catch up with
    Given a server "a" with the password "pw"
    And a server "b"
    When server "b" replicates server "a"

  Scenario: a write to another server is not returned
    Fails with: to answer "v"
    Fails with: last seen: (nil)
    Fails with: hint: it is a primary, not a replica: nothing reaches it by replication
    Given a server "a"
    And a server "b"
    When I run `SET k v` on server "a"
    Then server "b" returns "v" for `GET k`

  Scenario: nil is not returned for a key that exists
    Fails with: to answer (nil)
    Given a server "a"
    When I run `SET k v` on server "a"
    Then server "a" returns nil for `GET k`

  Scenario: a replica written to directly holds other data
    Fails with: replicas hold other data than
    Given a primary with 1 replica and the config per node:
      | node      | directive         | value |
      | replica 1 | replica-read-only | no    |
    When I run `SET extra 1` on replica 1
    Then all replicas hold the same data as the primary

  Scenario: a replica is not a primary
    Fails with: to answer the role master
    Given a primary with 1 replica
    Then replica 1 is a primary

  Scenario: a primary is not a replica
    Fails with: to answer a replica of port
    Given a primary with 1 replica
    Then the primary is a replica of replica 1

  Scenario: nil is not the text "(nil)"
    Fails with: to answer "(nil)"
    Given a server "a"
    Then server "a" returns "(nil)" for `GET missing`

  Scenario: a primary without replicas has no data to compare
    Fails with: has no replicas in this scenario
    Given a primary with 0 replicas
    Then all replicas hold the same data as the primary
