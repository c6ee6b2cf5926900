Feature: Must fail: remembered values, comparisons, negatives, becomes, replicates
  Each scenario puts one of these sentences where its claim is false; the
  scenario must fail at its last step, with the text under "Fails with:".

  Background:
    Given a server

  # --- placeholders -------------------------------------------------------

  Scenario: a placeholder never remembered fails with the names that were
    Fails with: ${nope} is not a value this scenario knows; it remembered "size"
    Fails with: now, now_ms
    Given I run `DBSIZE`
    And I remember the reply as "size"
    Then the reply is "${nope}"

  Scenario: arithmetic on a text fails
    Fails with: "word" is "hello", not an integer
    Given I run `ECHO hello`
    And I remember the reply as "word"
    Then the reply is "${word+1}"

  Scenario: nil is no value to remember
    Fails with: the reply to `GET missing` run by server "default" is absent (nil), so there is nothing to remember as "v"
    When I run `GET missing`
    And I remember the reply as "v"

  Scenario: an error reply is no value to remember
    Fails with: the reply to `NOSUCHCOMMAND a` run by server "default" is an error (ERR unknown command
    Fails with: not a value to remember as "v"; write `I remember the error reply ... as "v"` when the error is expected
    When I remember the reply to `NOSUCHCOMMAND a` as "v"

  Scenario: the last reply, an error, is no value to remember
    Fails with: the reply to `INCR k` run by server "default" is an error (ERR value is not an integer
    Given I run `SET k abc`
    When I run `INCR k`
    And I remember the reply as "v"

  Scenario: a reply that is no error is no error to remember
    Fails with: the reply to `PING` run by server "default" is a status (PONG), not an error, so there is no error to remember as "e"
    When I remember the error reply to `PING` as "e"

  Scenario: the last reply, no error, is no error to remember
    Fails with: the reply to `INCR k` run by server "default" is an integer (1), not an error
    When I run `INCR k`
    And I remember the error reply as "e"

  Scenario: an INFO field the server does not print is no value to remember
    Fails with: the INFO field "no_such_field" of server "default"
    Fails with: is absent (nil), so there is nothing to remember as "v"
    When I remember the INFO field "no_such_field" as "v"

  Scenario: a built-in name cannot be remembered
    Fails with: "now" is a built-in placeholder; it cannot be remembered
    When I run `DBSIZE`
    And I remember the reply as "now"

  Scenario: a remembered value is not another text
    Fails with: the remembered "size" is "0", expected "1"
    Given I run `DBSIZE`
    And I remember the reply as "size"
    Then the remembered "size" is "1"

  # --- comparisons ----------------------------------------------------------

  Scenario: a reply is not greater than itself
    Fails with: the reply to `STRLEN k` run by server "default" is "5", expected a number greater than 5
    Given I run `SET k hello`
    When I run `STRLEN k`
    Then the reply is greater than 5

  Scenario: a text reply is no number
    Fails with: is "hello", which is not a number, expected a number at least 1
    When I run `ECHO hello`
    Then the reply is at least 1

  Scenario: a nil reply is no number
    Fails with: is absent, which is not a number
    When I run `GET missing`
    Then the reply is less than 1

  Scenario: a bound that is no number is the sentence's mistake
    Fails with: the comparison "at most ${word}" needs numbers, and ${word} ("abc") is not one
    Given I run `ECHO abc`
    And I remember the reply as "word"
    When I run `DBSIZE`
    Then the reply is at most ${word}

  Scenario: an INFO field outside its range
    Fails with: the INFO field "connected_clients" of server "default"
    Fails with: is "1", expected a number between 5 and 10
    Then the INFO field "connected_clients" is between 5 and 10

  Scenario: an INFO field that does not exist is no number
    Fails with: the INFO field "no_such_field" of server "replica 1"
    Fails with: is absent, which is not a number, expected a number at least 0
    Given a primary with 1 replica
    Then the INFO field "no_such_field" of replica 1 is at least 0

  Scenario: a config value below its bound
    Fails with: the config "maxmemory" of server "default"
    Fails with: is "0", expected a number greater than 0
    Then the config "maxmemory" is greater than 0

  Scenario: a config value of another server that is no number
    Fails with: the config "maxmemory-policy" of server "replica 1"
    Fails with: is "noeviction", which is not a number, expected a number equal to 0
    Given a primary with 1 replica
    Then the config "maxmemory-policy" of replica 1 is equal to 0

  Scenario: a remembered value that did not grow
    Fails with: the remembered "after" is "0", expected a number greater than 0
    Given I run `DBSIZE`
    And I remember the reply as "before"
    And I remember the reply as "after"
    Then the remembered "after" is greater than ${before}

  Scenario: an answer that changed since it was remembered
    Fails with: the reply to `LRANGE q 0 -1` is "1) \"a\"\n2) \"b\"", expected "1) \"a\""
    Given I run `RPUSH q a`
    And I remember the reply to `LRANGE q 0 -1` as "before"
    When I run `RPUSH q b`
    Then the reply to `LRANGE q 0 -1` is the same as the remembered "before"

  Scenario: two servers that are not replicas answer differently
    Fails with: waiting for `GET k` on server "b"
    Fails with: to answer as on server "default"
    Fails with: (nil)
    Fails with: "1"
    Fails with: neither replicates the other
    Given a server "b"
    And I run `SET k 1`
    Then server "b" answers `GET k` as the server does

  Scenario: a replica whose reply depends on the server that answers
    Fails with: `ROLE` on server "replica 1"
    Fails with: server "replica 1" replicates server "primary" with its link up
    Given a primary with 1 replica
    Then replica 1 answers `ROLE` as the primary does

  # --- negatives ------------------------------------------------------------

  Scenario: a reply that is the text it must not be
    Fails with: expected anything but "v"
    Given I run `SET k v`
    When I run `GET k`
    Then the reply is not "v"

  Scenario: a reply that contains what it must not
    Fails with: expected a text without "world"
    When I run `ECHO "hello world"`
    Then the reply does not contain "world"

  Scenario: a reply that matches what it must not
    Fails with: expected no match for /^hel+o/
    When I run `ECHO hello`
    Then the reply does not match /^hel+o/

  Scenario: a key that does not exist
    Fails with: the key "k" does not exist on the server, expected it to
    Then the key "k" exists

  Scenario: a key that exists
    Fails with: the key "k" exists on the server (a list), expected it not to
    Given I run `RPUSH k a`
    Then the key "k" does not exist

  Scenario: a key that did not reach a replica that is no replica
    Fails with: the key "k" does not exist on server "b"
    Fails with: expected it to
    Given a server "b"
    And I run `SET k v`
    Then the key "k" exists on server "b"

  Scenario: a key that reached a replica
    Fails with: the key "k" exists on server "replica 1"
    Fails with: (a string), expected it not to
    Given a primary with 1 replica
    And I run `SET k v` on the primary
    And the replicas have caught up
    Then the key "k" does not exist on replica 1

  # --- becomes --------------------------------------------------------------

  Scenario: an INFO field of another server that never becomes the value
    Fails with: the INFO field "connected_slaves" of server "primary"
    Fails with: to become "5"
    Fails with: last seen: "1"
    Given a primary with 1 replica
    Then the INFO field "connected_slaves" of the primary becomes "5"

  Scenario: an INFO field that never grows enough
    Fails with: the INFO field "connected_slaves" of server "default"
    Fails with: to become a number at least 1
    Fails with: last seen: "0"
    Then the INFO field "connected_slaves" becomes at least 1

  Scenario: an INFO field of another server that never falls enough
    Fails with: the INFO field "connected_slaves" of server "primary"
    Fails with: to become a number less than 1
    Fails with: last seen: "1"
    Given a primary with 1 replica
    Then the INFO field "connected_slaves" of the primary becomes less than 1

  Scenario: a config value that never becomes the value
    Fails with: the config "maxmemory" of server "default"
    Fails with: to become "1"
    Fails with: last seen: "0"
    Fails with: is the expected value written as the server prints it?
    Then the config "maxmemory" becomes "1"

  Scenario: a config value of another server that never becomes the value
    Fails with: the config "maxmemory" of server "replica 1"
    Fails with: to become "1"
    Given a primary with 1 replica
    Then the config "maxmemory" of replica 1 becomes "1"

  Scenario: a config value that never becomes large enough
    Fails with: the config "maxmemory" of server "default"
    Fails with: to become a number greater than 1
    Then the config "maxmemory" becomes greater than 1

  Scenario: a reply that never becomes the text
    Fails with: the reply to `LLEN q` to become "3"
    Fails with: last seen: "1"
    Fails with: hint: `LLEN q` ran again at each look: does anything in the scenario still change what it answers?
    Given I run `RPUSH q a`
    Then the reply to `LLEN q` becomes "3"

  Scenario: a reply that is nil never becomes a text
    Fails with: the reply to `GET k` to become ""
    Fails with: last seen: absent
    Fails with: hint: `GET k` answered nil at every look
    Then the reply to `GET k` becomes ""

  Scenario: a reply that never becomes large enough
    Fails with: the reply to `DBSIZE` to become a number at least 1
    Fails with: last seen: "0"
    Then the reply to `DBSIZE` becomes at least 1

  Scenario: a reply of another server that never becomes the text
    Fails with: the reply to `GET k` on server "b"
    Fails with: to become "v"
    Fails with: last seen: absent
    Given a server "b"
    And I run `SET k v`
    Then the reply to `GET k` on server "b" becomes "v"

  # --- replicates -----------------------------------------------------------

  Scenario: a write does not replicate without a replica
    Fails with: server "default"
    Fails with: has no running replica, so `SET k v` cannot be shown to replicate
    Then `SET k v` replicates

  Scenario: a write that reaches a replica holding other data
    Fails with: the replicas to hold what `APPEND k x` wrote
    Fails with: key "k" is string "abcx", no expiry, while on server "primary"
    Fails with: it is string "x", no expiry
    Given a primary with 1 replica
    And I run `CONFIG SET replica-read-only no` on replica 1
    And I run `SET k abc` on replica 1
    Then `APPEND k x` replicates

  Scenario: a write that fails replicates nothing
    Fails with: `INCR k` answered the error "ERR value is not an integer or out of range"
    Given a primary with 1 replica
    And I run `SET k v` on the primary
    Then `INCR k` replicates

  Scenario: a command without keys is no write to follow
    Fails with: the server finds no key that `PING` writes
    Given a primary with 1 replica
    Then `PING` replicates

  Scenario: a write to a frozen replica does not replicate
    Fails with: server "replica 1" at
    Fails with: to catch up with
    Given a primary with 1 replica
    When I freeze replica 1
    Then `SET k v` replicates

  Scenario: a write in a cluster whose replica is frozen does not replicate
    Fails with: server "node 2" at
    Fails with: to catch up with
    Given a cluster of 1 shard with 1 replica each
    When I freeze node 2
    Then `SET a 1` replicates

  Scenario: a cluster replica answers for its own shard only
    Fails with: `GET a` on server "node 3"
    Fails with: to answer as on server "node 2"
    Fails with: MOVED 15495
    Fails with: neither replicates the other
    Given a cluster of 2 shards with 1 replica each
    And I run `SET a 1`
    Then the replica of shard 1 answers `GET a` as the primary of shard 2 does
