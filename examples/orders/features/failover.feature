Feature: A failover loses no acknowledged order
  The producer's order is acknowledged once the replica has it (WAIT), the consumer's
  acknowledgement likewise. The primary dies mid-flow, its replica is promoted, both
  processes connect to it and go on: every order published is handled once.

  Scenario: A primary fails over mid-flow and no acknowledged order is lost
    Given a primary with 1 replica
    And the "consumer" process joins the group "shippers" as "shipper 1"
    When the "producer" process publishes 5 orders
    And the "consumer" process handles 3 orders
    And I kill the primary
    And replica 1 is promoted to primary
    And the "producer" process connects to "replica 1"
    And the "producer" process publishes 2 orders
    And the "consumer" process connects to "replica 1"
    And the "consumer" process handles 4 orders
    Then the "consumer" process has handled the orders 1 to 7
    And sees no order pending
    And replica 1 returns "7" for `XLEN orders`
    And replica 1 returns "7" for `SCARD shipped`
