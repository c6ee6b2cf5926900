Feature: Holding the server, and what other clients see meanwhile

  Scenario: CLIENT PAUSE WRITE holds writes and lets reads through
    Given a server
    And I run `SET k before`
    When I run `CLIENT PAUSE 60000 WRITE`
    And client "writer" runs `SET k after` in the background
    And client "writer" is blocked
    And client "reader" runs `GET k`
    Then the reply is "before"
    When I run `CLIENT UNPAUSE`
    And client "writer" gets its reply
    Then the reply is "OK"
    When client "reader" runs `GET k`
    Then the reply is "after"

  Scenario: DEBUG SLEEP holds every other client until it ends
    Given a server
    And client "other" is connected to the server
    When client "sleeper" runs `DEBUG SLEEP 1` in the background
    And the server is busy
    And client "other" runs `PING` in the background
    Then client "other" is still waiting for its reply
    When client "sleeper" gets its reply
    Then the reply is "OK"
    When client "other" gets its reply
    Then the reply is "PONG"

  Scenario: A client that first connects while the server sleeps waits in the background
    Given a server
    When client "sleeper" runs `DEBUG SLEEP 2` in the background
    And the server is busy
    And client "late" runs `PING` in the background
    Then client "late" is still waiting for its reply
    When client "late" gets its reply
    Then the reply is "PONG"
    When client "sleeper" gets its reply
    Then the reply is "OK"

  Scenario: A busy script answers BUSY to others until SCRIPT KILL
    Given a server with the config:
      | busy-reply-threshold | 100 |
    And client "other" is connected to the server
    When client "script" runs `EVAL "while true do end" 0` in the background
    And the server is busy
    And client "other" runs `PING` in the background
    And client "other" gets its reply
    Then the reply is an error containing "BUSY"
    When I run `SCRIPT KILL`
    Then the reply is "OK"
    When client "script" gets its reply
    Then the reply is an error containing "killed"

  Scenario: A frozen server answers nobody until it is thawed
    Given a server
    And client "c" is connected to the server
    When I freeze the server
    And client "c" runs `INCR visits` in the background
    Then client "c" is still waiting for its reply
    When I thaw the server
    And client "c" gets its reply
    Then the reply is the integer 1
