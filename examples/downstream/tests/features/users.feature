Feature: The user store
  A downstream crate's own feature: valkey-bdd's sentences and this crate's
  own steps, side by side.

  Background:
    Given a server

  Scenario: Stored users can be read back
    Given the user "ada" born in 1815 is stored
    And the user "grace" born in 1906 is stored
    Then every stored user can be read back
    When I run `HGET user:ada born`
    Then the reply is "1815"
    When I run `DBSIZE`
    Then the reply is the integer 2

  Scenario: A step of this crate names a server as the library's sentences do
    Given a primary with 1 replica
    When I run `HSET user:ada name ada` on the primary
    And the replicas have caught up
    Then the replica holds 1 user
    And the primary holds 1 user
