Feature: Keyspace and keyevent notifications, as module and application suites check them
  A subscriber has a connection of its own; it subscribes to channels and
  to patterns, and every message it receives keeps its channel, the pattern
  that matched it and its payload. A message a sentence has checked is
  seen: "no other message" means none the scenario has not checked.

  Background:
    Given a server
    And I run `CONFIG SET notify-keyspace-events KEA`

  Scenario: A write raises keyspace and keyevent events, in order, and nothing else
    Given client "reader" subscribes to the pattern "__keyspace@0__:*"
    And client "reader" subscribes to the pattern "__keyevent@0__:*"
    When I run `SET fruit apple`
    And I run `EXPIRE fruit 100`
    Then client "reader" receives these messages:
      | channel              | pattern          | payload              |
      | __keyspace@0__:fruit | __keyspace@0__:* | set                  |
      | __keyevent@0__:set   | __keyevent@0__:* | fruit                |
      | __keyspace@0__:fruit | __keyspace@0__:* | expire               |
      | __keyevent@0__:expire| __keyevent@0__:* | fruit                |
    When I run `GET fruit`
    Then client "reader" receives no other message within 100 ms

  Scenario: A read raises no event on the key's channel
    Given client "reader" subscribes to "__keyspace@0__:fruit"
    When I run `GET fruit`
    And I run `EXISTS fruit`
    Then client "reader" receives nothing on "__keyspace@0__:fruit"
    When I run `SET fruit apple`
    Then client "reader" receives "set" on "__keyspace@0__:fruit"
    And client "reader" receives nothing on "__keyspace@0__:other" within 50 ms

  Scenario: Channel and pattern subscriptions of one client, told apart by the pattern
    The server delivers to channel subscribers first, then to patterns.
    Given client "r" subscribes to "news"
    And client "r" subscribes to the pattern "news*"
    When I run `PUBLISH news hello`
    Then client "r" receives these messages:
      | news |       | hello |
      | news | news* | hello |
    And client "r" receives no other message within 50 ms

  Scenario: An expired key raises its event when the server expires it
    Given client "reader" subscribes to the pattern "__keyevent@0__:expired"
    When I run `SET session token PX 20`
    Then client "reader" receives "session" on "__keyevent@0__:expired"
    And client "reader" receives no other message within 100 ms
