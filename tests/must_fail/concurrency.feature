Feature: Must fail: named clients and their checkpoints

  Background:
    Given a server

  Scenario: a client whose command has already answered is not blocked
    Fails with: client "a" will never be blocked (flag b): its background command `LPUSH q x` has already answered
    When client "a" runs `LPUSH q x` in the background
    Then client "a" is blocked

  Scenario: a client after EXEC is not inside a transaction
    Fails with: waiting for client "a" to be inside a transaction (flag x)
    When client "a" runs `MULTI`
    And client "a" runs `EXEC`
    Then client "a" is inside a transaction

  Scenario: a client that got its reply is not still waiting
    Fails with: client "a" already has the reply of `BLPOP q 0`
    When client "a" runs `BLPOP q 0` in the background
    And client "a" is blocked
    And client "b" runs `LPUSH q x`
    And client "b" runs `PING`
    Then client "a" is still waiting for its reply

  Scenario: a client that collected its reply is not still waiting
    Fails with: client "a" runs nothing in the background
    When client "a" runs `BLPOP q 0` in the background
    And client "a" is blocked
    And client "b" runs `LPUSH q x`
    And client "a" gets its reply
    Then client "a" is still waiting for its reply

  Scenario: a client with nothing in the background gets no reply
    Fails with: client "a" has no command running in the background
    When client "a" runs `PING`
    And client "a" gets its reply

  Scenario: a message in another case was not received
    Fails with: to receive "goal" on "news"
    Fails with: received: "Goal" on "news"
    When client "w" subscribes to "news"
    And I run `PUBLISH news Goal`
    Then client "w" receives "goal" on "news"

  Scenario: an idle server is not busy
    Fails with: cannot be busy: no client of the scenario has a command running in the background
    When the server is busy

  Scenario: a server whose only client is blocked is not busy
    Fails with: to be busy
    Fails with: PING answered PONG
    Given client "w" is connected to the server
    When client "w" runs `BLPOP never 0` in the background
    And client "w" is blocked
    And the server is busy

  Scenario: a client the scenario does not have has no id
    Fails with: ${client.nobody.id}: this scenario has no client called "nobody"; it has "w"
    Given client "w" is connected to the server
    When I run `CLIENT UNBLOCK ${client.nobody.id}`
