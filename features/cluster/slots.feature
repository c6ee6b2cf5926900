Feature: Slots, keys and redirects
  With 3 shards, shard 1 serves slots 0-5460, shard 2 5461-10921 and
  shard 3 10922-16383.

  Background:
    Given a cluster of 3 shards

  Scenario: Keys hash to slots; hash tags keep keys together
    Then "foo" hashes to slot 12182
    And "bar" hashes to slot 5061
    And "{user:1}:name" and "{user:1}:email" hash to the same slot
    And "{user:1}:name" hashes to slot 10778
    And the primary of shard 3 owns slot 12182
    And the node that owns "bar" owns slot 5061
    When I run `MSET {user:1}:name Ada {user:1}:email ada@example.org`
    Then the reply is "OK"
    When I run `MSET foo 1 bar 2` on node 1
    Then the reply is an error containing "CROSSSLOT"

  Scenario: A node that does not serve a key answers MOVED
    When I run `SET foo 1` on the primary of shard 1
    Then the reply is a MOVED redirect to the owner of slot 12182
    When I run `SET foo 1`
    Then the reply is "OK"
    When I run `GET foo` on node 3
    Then the reply is "1"

  Scenario: During a migration, a missing key is an ASK redirect to the target
    When slot 12182 starts migrating from shard 3 to shard 1
    And I run `GET foo` on the primary of shard 3
    Then the reply is an ASK redirect for slot 12182 to shard 1
