Feature: Many consumers drain one stream
  Five consumers of one group, each on its own connection, read and
  acknowledge 10,000 entries at once; every entry is delivered exactly once.

  Scenario: 10,000 entries, 5 consumers, none lost or duplicated
    Given a server
    And 10000 entries are added to the stream "firehose"
    And the stream "firehose" has the consumer group "drainers"
    When 5 consumers of the group "drainers" drain the stream "firehose" at once
    Then every entry of the stream "firehose" was read exactly once
    And the consumer group "drainers" of the stream "firehose" has 0 pending entries
