@mixed-versions
Feature: A primary and replicas on different server versions
  Upgrades replace replicas first: a primary on the older binary must feed
  replicas on the newer one. The two binaries are the main one and
  VALKEY_BDD_OTHER_SERVER_PATH (else the other engine on PATH); without two
  versions these scenarios are skipped, with the reason printed.

  Scenario: Replicas on the newer binary sync from a primary on the older one
    Given a primary on the older server binary with 2 replicas on the newer
    When I run `HSET user:1 name "Ada Lovelace"` on the primary
    And I run `RPUSH queue a b c` on the primary
    Then the replicas have caught up
    And replica 1 returns "Ada Lovelace" for `HGET user:1 name`
    And replica 2 returns "3" for `LLEN queue`
