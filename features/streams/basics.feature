Feature: Streams: adding, reading, trimming
  Entries come from tables (the first row names the fields) or plain XADD
  commands; a blocking XREAD runs in the background and a checkpoint waits
  until the reader is blocked before anything is added.

  Scenario: Entries from a table, read back in order
    Given a server
    When I add to the stream "sensors" the entries:
      | sensor  | celsius |
      | kitchen | 21      |
      | cellar  | 12      |
      | attic   | 27      |
    Then the stream "sensors" has 3 entries
    When I run `XRANGE sensors - + COUNT 1`
    Then the reply contains "kitchen"
    When I run `XINFO STREAM sensors`
    Then the reply contains "length"
    And the reply contains "attic"

  Scenario: XREAD without blocking returns what is newer than an id
    Given a server
    And I ran the commands:
      """
      XADD log 1-1 level info
      XADD log 2-1 level warn
      """
    When I run `XREAD COUNT 10 STREAMS log 1-1`
    Then the reply is:
      """
      1) 1) "log"
         2) 1) 1) "2-1"
               2) 1) "level"
                  2) "warn"
      """
    When I run `XREAD STREAMS log 2-1`
    Then the reply is nil

  Scenario: A blocking XREAD wakes when an entry is added
    Given a server
    And client "reader" is connected to the server
    When client "reader" runs `XREAD BLOCK 0 STREAMS events $` in the background
    And client "reader" is blocked
    And client "writer" runs `XADD events 7-1 kind login`
    And client "reader" gets its reply
    Then the reply contains "login"

  Scenario: XTRIM MAXLEN keeps the newest entries
    Given a server
    And 100 entries are added to the stream "metrics"
    When I run `XTRIM metrics MAXLEN 10`
    Then the reply is the integer 90
    And the stream "metrics" has 10 entries
    When I run `XRANGE metrics - + COUNT 1`
    Then the reply contains "91"
