Feature: Orders flow from the producer to the consumer through a stream
  The producer publishes orders to the stream "orders"; the consumer reads them in the
  consumer group "shippers", ships each (its id joins the set "shipped") and acknowledges
  it. Each role runs in Python and in Node (roles.toml): every scenario runs once per
  combination, e.g. "Orders flow end to end [consumer=node, producer=python]".

  Scenario: Orders flow end to end
    Given a server
    And the "consumer" process joins the group "shippers" as "shipper 1"
    When the "producer" process publishes 3 orders
    And the "consumer" process handles 3 orders
    Then the "consumer" process has handled the orders 1 to 3
    And sees no order pending
    And the stream "orders" has 3 entries
    When I run `SCARD shipped`
    Then the reply is the integer 3

  Scenario: Orders of a table keep their fields
    Given a server
    And the "consumer" process joins the group "shippers" as "shipper 1"
    When the "producer" process publishes the orders:
      | item   | qty |
      | widget | 2   |
      | gadget | 5   |
    And the "consumer" process handles 2 orders
    Then the "consumer" process has handled the orders 1 to 2
    When I run `XREVRANGE orders + - COUNT 1`
    Then the reply contains "gadget"
