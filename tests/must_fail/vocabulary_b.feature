Feature: Must fail: module parity, pub/sub, client states

  Scenario: a module path with no file there names the path tried
    Fails with: no module at
    Fails with: no/such/libmod.so
    Fails with: working directory
    Given a primary with 1 replica loading the module "no/such/libmod.so"

  Scenario: a message in the table that came in another order
    Fails with: message 1 of the table should be "hello" on "news" (pattern "news*"), but it received "hello" on "news"
    Given a server
    And client "r" subscribes to "news"
    And client "r" subscribes to the pattern "news*"
    When I run `PUBLISH news hello`
    Then client "r" receives these messages:
      | news | news* | hello |
      | news |       | hello |

  Scenario: a message that never came is not received as part of a table
    Fails with: 1 of them arrived
    Fails with: to receive 2 message(s), the next being "bye" on "news" (no pattern)
    Given a server
    And client "r" subscribes to "news"
    When I run `PUBLISH news hello`
    Then client "r" receives these messages:
      | channel | pattern | payload |
      | news    |         | hello   |
      | news    |         | bye     |

  Scenario: a write raises an event no step expected
    Fails with: received a message no step expected within 100 ms: "set" on "__keyspace@0__:fruit" (pattern "__keyspace@0__:*")
    Given a server
    And I run `CONFIG SET notify-keyspace-events KEA`
    And client "reader" subscribes to the pattern "__keyspace@0__:*"
    When I run `SET fruit apple`
    Then client "reader" receives no other message within 100 ms

  Scenario: a second event after the one checked is another message
    Fails with: received a message no step expected within 100 ms: "del" on "__keyspace@0__:fruit"
    Given a server
    And I run `CONFIG SET notify-keyspace-events KEA`
    And client "reader" subscribes to the pattern "__keyspace@0__:*"
    When I run `SET fruit apple`
    And I run `DEL fruit`
    Then client "reader" receives "set" on "__keyspace@0__:fruit"
    And client "reader" receives no other message within 100 ms

  Scenario: a write raises something on the key's channel
    Fails with: received 1 message(s) on "__keyspace@0__:fruit" (waited up to 100 ms): "set" on "__keyspace@0__:fruit"
    Given a server
    And I run `CONFIG SET notify-keyspace-events KEA`
    And client "reader" subscribes to "__keyspace@0__:fruit"
    When I run `SET fruit apple`
    Then client "reader" receives nothing on "__keyspace@0__:fruit"

  Scenario: a message published later within the window is something on the channel
    Fails with: received 1 message(s) on "news"
    Given a server
    And client "reader" subscribes to "news"
    And client "writer" runs `PUBLISH news late` in the background
    Then client "reader" receives nothing on "news" within 500 ms

  Scenario: a client watching one key does not watch two
    Fails with: client "alice" to be watching 2 key(s) (watch=2)
    Fails with: watch=1
    Given a server
    When client "alice" runs `WATCH balance`
    Then client "alice" watches 2 keys

  Scenario: a transaction nobody interfered with is not doomed
    Fails with: client "alice" to be in a doomed transaction (flag d
    Fails with: flags=x
    Given a server
    When client "alice" runs `WATCH balance`
    And client "alice" runs `MULTI`
    Then the transaction of client "alice" is doomed

  Scenario: an idle client has no flag "b"
    Fails with: client "alice" to be blocked (flag b)
    Fails with: flags=N
    Given a server
    When client "alice" runs `PING`
    Then client "alice" has the flag "b"

  Scenario: a flag is one letter
    Fails with: "bx" is not one flag of CLIENT LIST
    Given a server
    When client "alice" runs `PING`
    Then client "alice" has the flag "bx"

  Scenario: a client on database 0 is not on database 3
    Fails with: client "alice" to be with db=3
    Fails with: db=0
    Given a server
    When client "alice" runs `PING`
    Then the CLIENT LIST field "db" of client "alice" is "3"

  Scenario: a field CLIENT LIST does not show is no mismatch to wait out
    Fails with: CLIENT LIST of this server has no field "no-such-field"
    Given a server
    When client "alice" runs `PING`
    Then the CLIENT LIST field "no-such-field" of client "alice" is "1"
