Feature: Must fail: the reply sentences
  Each scenario puts a reply sentence where its claim is false; the scenario
  must fail at its last step, with the text under "Fails with:".

  Background:
    Given a server

  Scenario: a status is not the text in another case
    Fails with: expected the text "ok"
    When I run `SET k v`
    Then the reply is "ok"

  Scenario: nil is not the empty text
    Fails with: (nil)
    Fails with: expected the text ""
    When I run `GET missing`
    Then the reply is ""

  Scenario: an integer is not its digits as text
    Fails with: (integer) 1
    Fails with: expected the text "1"
    When I run `INCR n`
    Then the reply is "1"

  Scenario: a bulk string is not a status
    Fails with: expected the status OK
    Given I run `SET k OK`
    When I run `GET k`
    Then the reply is the status "OK"

  Scenario: a status is not a bulk string
    Fails with: expected the string "PONG"
    When I run `PING`
    Then the reply is the string "PONG"

  Scenario: binary strings differ in one byte
    Fails with: "a\x00b"
    Fails with: expected the string "a\x00c"
    Given I run `SET k "a\x00b"`
    When I run `GET k`
    Then the reply is the string "a\x00c"

  Scenario: nil is not the integer 0
    Fails with: (nil)
    Fails with: expected (integer) 0
    When I run `GET missing`
    Then the reply is the integer 0

  Scenario: a string of digits is not an integer
    Fails with: expected (integer) 3
    Given I run `SET k 3`
    When I run `GET k`
    Then the reply is the integer 3

  Scenario: an empty list is not nil
    Fails with: (empty array)
    Fails with: expected (nil)
    When I run `LRANGE missing 0 -1`
    Then the reply is nil

  Scenario: an empty string is not nil
    Fails with: expected (nil)
    Given I run `SET k ""`
    When I run `GET k`
    Then the reply is nil

  Scenario: no reply at all is not nil
    Fails with: no command has been run yet in this scenario
    Then the reply is nil

  Scenario: a list in another order
    Fails with: expected the list ["b", "a"]
    Given I run `RPUSH l a b`
    When I run `LRANGE l 0 -1`
    Then the reply is the list:
      | b |
      | a |

  Scenario: a list with an element missing
    Fails with: expected the list ["a"]
    Given I run `RPUSH l a b`
    When I run `LRANGE l 0 -1`
    Then the reply is the list:
      | a |

  Scenario: in any order, an element repeated is still counted
    Fails with: expected the elements ["a", "b", "b"] in any order
    Given I run `RPUSH l a a b`
    When I run `LRANGE l 0 -1`
    Then the reply is the list, in any order:
      | a |
      | b |
      | b |

  Scenario: nil is not an empty list
    Fails with: expected (empty array)
    When I run `GET missing`
    Then the reply is an empty list

  Scenario: a reply that is not an error
    Fails with: expected an error containing "ERR"
    When I run `GET missing`
    Then the reply is an error containing "ERR"

  Scenario: an error's text is compared in its case
    Fails with: expected an error containing "err value"
    Given I run `SET k v`
    When I run `INCR k`
    Then the reply is an error containing "err value"

  Scenario: matches sees a string's text, not its quotes
    Fails with: answered the text:
    Fails with: expected a match for /^"123"$/
    Given I run `SET k 123`
    When I run `GET k`
    Then the reply matches /^"123"$/

  Scenario: matches sees an integer's digits, not valkey-cli's label
    Fails with: expected a match for /^\(integer\)/
    When I run `INCR n`
    Then the reply matches /^\(integer\)/

  Scenario: contains looks for the text
    Fails with: expected a text containing "world"
    Given I run `SET k hello`
    When I run `GET k`
    Then the reply contains "world"

  Scenario: the reply prints otherwise
    Fails with: expected exactly:
    Given I run `RPUSH l a b`
    When I run `LRANGE l 0 -1`
    Then the reply is:
      """
      1) "b"
      2) "a"
      """
