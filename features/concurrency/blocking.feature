Feature: Blocked clients wake in the order the spec says
  Checkpoints wait for what the server reports about a client (CLIENT LIST
  flags), so "alice blocks, then bob writes, then alice wakes" happens in
  exactly that order, without sleeping.

  Scenario: Alice blocks, bob writes, alice wakes
    Given a server
    When client "alice" runs `BLPOP jobs 0` in the background
    And client "alice" is blocked
    Then client "alice" is still waiting for its reply
    And the INFO field "blocked_clients" is "1"
    When client "bob" runs `RPUSH jobs report`
    And client "alice" gets its reply
    Then the reply is the list:
      | jobs   |
      | report |
    And the INFO field "blocked_clients" is "0"

  Scenario: Blocked clients are served first come, first served
    Given a server
    When client "a" runs `BLPOP q 0` in the background
    And client "a" is blocked
    And client "b" runs `BLPOP q 0` in the background
    And client "b" is blocked
    And client "c" runs `BLPOP q 0` in the background
    And client "c" is blocked
    And I run `RPUSH q first second third`
    And client "a" gets its reply
    Then the reply is the list:
      | q     |
      | first |
    When client "b" gets its reply
    Then the reply is the list:
      | q      |
      | second |
    When client "c" gets its reply
    Then the reply is the list:
      | q     |
      | third |

  Scenario: WAIT blocks until a frozen replica comes back
    Given a primary with 1 replica
    When I freeze the replica
    And client "writer" is connected to the primary
    And client "writer" runs `SET k v`
    And client "writer" runs `WAIT 1 0` in the background
    And client "writer" is blocked
    And I thaw the replica
    And client "writer" gets its reply
    Then the reply is the integer 1

  Scenario: A subscriber receives what is published after it subscribed
    Given a server
    When client "reader" subscribes to "news"
    And client "writer" runs `PUBLISH news hello`
    Then the reply is the integer 1
    And client "reader" receives "hello" on "news"
