Feature: Must fail: the stream sentences

  Background:
    Given a server

  Scenario: a stream that does not exist has no entries, not 0
    Fails with: there is no stream "nope"
    Then the stream "nope" has 0 entries

  Scenario: a key of another type is not a stream
    Fails with: "s" on
    Fails with: is not a stream
    Given I run `SET s x`
    Then the stream "s" has 0 entries

  Scenario: a stream of 3 entries has not 4
    Fails with: has 3 entries (XLEN), expected 4
    Given 3 entries are added to the stream "s"
    Then the stream "s" has 4 entries

  Scenario: entries added after the drain were never read
    Fails with: never delivered
    Given 5 entries are added to the stream "s"
    And the stream "s" has the consumer group "g"
    When 2 consumers of the group "g" drain the stream "s" at once
    And 3 entries are added to the stream "s"
    Then every entry of the stream "s" was read exactly once

  Scenario: a stream not drained was not read exactly once
    Fails with: the stream "s" has not been drained in this scenario
    Given 5 entries are added to the stream "s"
    Then every entry of the stream "s" was read exactly once

  Scenario: 50 entries go whole to one of 2 consumers
    Fails with: read nothing: the consumers did not share the work
    Given 50 entries are added to the stream "s"
    And the stream "s" has the consumer group "g"
    When 2 consumers of the group "g" drain the stream "s" at once
    Then every consumer read some entries of the stream "s"

  Scenario: entries read without XACK are pending
    Fails with: expected 0 pending
    Given 3 entries are added to the stream "s"
    And the stream "s" has the consumer group "g"
    When I run `XREADGROUP GROUP g c COUNT 2 STREAMS s >`
    Then the consumer group "g" of the stream "s" has 0 pending entries

  Scenario: a group that does not exist has no pending entries, not 0
    Fails with: NOGROUP
    Given 3 entries are added to the stream "s"
    Then the consumer group "nope" of the stream "s" has 0 pending entries

  Scenario: nothing pending is never pending long enough
    Fails with: to be pending in group "g" for 10 ms
    Given 3 entries are added to the stream "s"
    And the stream "s" has the consumer group "g"
    When an entry of the stream "s" has been pending in the group "g" for 10 ms
