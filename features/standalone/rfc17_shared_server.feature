@serial
Feature: One server shared by the ordered scenarios of a feature (RFC 17, example 1)
  The first scenario starts the shared server, the next ones reuse it, and
  the last one stops it. `@serial` makes cucumber run the scenarios one at a
  time, in the order written.

  Scenario: basic1 starts the shared server
    Given a server "common" shared by the scenarios of this feature
    When I run `PING` on server "common"
    Then the reply is "PONG"

  Scenario: basic2 finds it running, and a second client can use it
    Given a server "common" shared by the scenarios of this feature
    When I run `PING` on server "common"
    Then the reply is "PONG"
    Given client "c" is connected to server "common"
    When client "c" runs `PING`
    Then the reply is "PONG"
    When client "c" runs `INCR scenarios`
    Then the reply is the integer 1

  Scenario: basic3 sees what basic2 wrote, then stops the server
    Given a server "common" shared by the scenarios of this feature
    When I run `INCR scenarios` on server "common"
    Then the reply is the integer 2
    When I run `SET K V` on server "common"
    Then the reply is "OK"
    When I stop server "common"
    Then server "common" is not running
