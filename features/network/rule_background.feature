Feature: Faults stated in a rule's background
  A fault sentence counts wherever a scenario runs it: in the feature's
  background, in the background of the rule the scenario is under, or in
  its own steps. The scenario below states none itself; its rule's
  background does, and its servers run inside the run's network namespace,
  where the fault reaches them. The fault lasts until the scenario ends.

  Rule: A replica cut off from its primary keeps what it had
    Background:
      Given a primary with 1 replica
      And I run `SET k before` on the primary
      And the replicas have caught up
      And the primary is cut off from replica 1

    Scenario: A write made while the replica is cut off does not reach it
      When I run `SET k during` on the primary
      Then the reply is "OK"
      When I run `WAIT 1 500` on the primary
      Then the reply is the integer 0
      And replica 1 returns "before" for `GET k`
