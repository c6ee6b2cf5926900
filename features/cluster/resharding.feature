Feature: Resharding
  Slots move with their keys (MIGRATE), each from the node serving it, the
  way resharding tools do. With 3 shards, shard 1 serves slots 0-5460,
  shard 2 5461-10921 and shard 3 10922-16383; "foo" lives in slot 12182,
  "bar" in 5061, "c" in 7365.

  Scenario: Slots move with their keys
    Given a cluster of 3 shards
    And I ran the commands:
      """
      SET foo 1
      SET bar 2
      """
    When slots 12000 to 12200 move to the primary of shard 1
    Then the primary of shard 1 owns slot 12182
    And the primary of shard 3 owns slot 12201
    When I run `GET foo` on the primary of shard 1
    Then the reply is "1"
    When I run `GET foo`
    Then the reply is "1"
    When I run `GET bar`
    Then the reply is "2"

  Scenario: No write is lost while slots move
    Given a cluster of 3 shards
    When slots 0 to 399 move to the primary of shard 2 while a client keeps writing
    Then every write made during the move reads back
    And the primary of shard 2 owns slot 0

  Scenario: An empty shard joins, then the slots are rebalanced
    Given a cluster of 3 shards
    And I ran the commands:
      """
      MSET {t}a 1 {t}b 2
      SET foo 1
      SET bar 2
      SET c 3
      """
    When a new empty shard joins the cluster
    Then the cluster is ready
    When the slots are rebalanced
    Then node 4 owns slot 16383
    And node 4 owns slot 5460
    And node 1 owns slot 4095
    When I run `MGET foo bar c`
    Then the reply is the list:
      | 1 |
      | 2 |
      | 3 |

  Scenario: A node is removed; its slots go to the others
    Given a cluster of 3 shards
    And I ran the commands:
      """
      SET bar 2
      """
    When a new empty shard joins the cluster
    And slots 5000 to 5099 move to node 4
    Then node 4 owns slot 5061
    When node 4 is removed from the cluster
    Then node 4 is not running
    And the cluster is ready
    And node 1 owns slot 5061
    When I run `GET bar`
    Then the reply is "2"

  Scenario: A replica is removed
    Given a cluster of 2 shards with 1 replica each
    When node 4 is removed from the cluster
    Then node 4 is not running
    And the cluster is ready

  @atomic-slot-migration
  Scenario: Atomic slot migration moves slots in one command, under writes
    Given a cluster of 3 shards on a server with atomic slot migration
    And I ran the commands:
      """
      SET foo 1
      """
    When slots 12000 to 12400 migrate atomically to the primary of shard 1 while a client keeps writing
    Then every write made during the move reads back
    And the primary of shard 1 owns slot 12182
    When I run `GET foo` on the primary of shard 1
    Then the reply is "1"
