Feature: Many consumers drain one stream
  Five consumers of one group, each on its own connection, read and
  acknowledge 10,000 entries at once; every entry is delivered exactly once,
  and every consumer gets a share. Exactly-once and sharing are two claims:
  a small stream may go whole to the first consumer that reads it.

  Scenario: 10,000 entries, 5 consumers, none lost or duplicated
    Given a server
    And 10000 entries are added to the stream "firehose"
    And the stream "firehose" has the consumer group "drainers"
    When 5 consumers of the group "drainers" drain the stream "firehose" at once
    Then every entry of the stream "firehose" was read exactly once
    And every consumer read some entries of the stream "firehose"
    And the consumer group "drainers" of the stream "firehose" has 0 pending entries

  Scenario: 50 entries and 2 consumers: exactly once, whoever reads them
    Given a server
    And 50 entries are added to the stream "trickle"
    And the stream "trickle" has the consumer group "drainers"
    When 2 consumers of the group "drainers" drain the stream "trickle" at once
    Then every entry of the stream "trickle" was read exactly once
    And the consumer group "drainers" of the stream "trickle" has 0 pending entries
