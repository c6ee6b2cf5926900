Feature: Servers on a unix socket
  A server "on a unix socket" listens on `valkey.sock` in its own directory
  and not on TCP; clients reach it over the socket.

  Scenario: A server on a unix socket, with its permissions
    Given a server on a unix socket with permissions 770
    Then the unix socket of the server has permissions 770
    And the config "unixsocketperm" is "770"
    And the server accepts no plaintext TCP connections
    When I run `SET where socket`
    Then the reply is "OK"

  Scenario: Named clients connect over the socket
    Given a server "local" on a unix socket
    And client "a" is connected to server "local"
    And client "b" is connected to server "local"
    When client "a" runs `RPUSH q job`
    And client "b" runs `LPOP q`
    Then the reply is "job"
    And the unix socket of server "local" has permissions 700
