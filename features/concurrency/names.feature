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
