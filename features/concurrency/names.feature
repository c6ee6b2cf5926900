Feature: Named clients carry their names to the server
  Each named client names its connection (CLIENT SETNAME) when it connects, so
  that CLIENT LIST and the server's log tell who is who. A client name holds
  visible ASCII characters only: a space or a non-ASCII letter becomes `_`.

  Scenario: CLIENT LIST shows each named client by its name
    Given a server
    When client "alice" runs `CLIENT GETNAME`
    Then the reply is "alice"
    When client "the reader" runs `CLIENT GETNAME`
    Then the reply is "the_reader"
    When I run `CLIENT LIST`
    Then the reply matches /name=alice /
    And the reply matches /name=the_reader /

  Scenario: A command can name a client by its id and by its name
    Given a server
    And client "bob" is connected to the server
    When client "bob" runs `BLPOP jobs 0` in the background
    And client "bob" is blocked
    And I run `CLIENT UNBLOCK ${client.bob.id}`
    Then the reply is the integer 1
    When client "bob" gets its reply
    Then the reply is nil
    When I run `CLIENT KILL ID ${client.bob.id}`
    Then the reply is the integer 1
    When client "carol" runs `CLIENT GETNAME`
    And I run `CLIENT KILL ID ${client.carol.id} SKIPME yes`
    Then the reply is the integer 1
    When I run `ECHO ${client.carol.name}`
    Then the reply is "carol"
