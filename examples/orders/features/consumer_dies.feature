Feature: A consumer that dies leaves its orders to the others
  A consumer reads an order and its process exits before it acknowledges the order: the
  order stays pending in the group, and another consumer claims it (XAUTOCLAIM) once it
  has been idle long enough, so no order is left behind.

  Scenario: A consumer that dies leaves its order to be claimed by another
    Given a server
    And the "consumer" process joins the group "shippers" as "rescuer"
    When the "producer" process publishes 2 orders
    And the "consumer" process starts a consumer "doomed" that takes an order and dies
    Then the "consumer" process sees 1 order pending for "doomed"
    When the "consumer" process claims 1 order left idle for 100 ms
    And the "consumer" process handles 1 order
    Then the "consumer" process has handled the orders 1 to 2
    And sees no order pending
