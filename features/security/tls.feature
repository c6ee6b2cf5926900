@requires:tls
Feature: Servers that speak TLS only
  The harness makes one certificate authority per run, a server certificate
  for 127.0.0.1, ::1 and localhost, and client certificates; every server and
  client trusts that authority. A server "with TLS" listens on its TLS port
  only.

  Scenario: A TLS server answers over TLS and nowhere else
    Given a server with TLS
    When I run `SET greeting hello`
    Then the reply is "OK"
    And the config "tls-auth-clients" is "no"
    And the server accepts no plaintext TCP connections

  Scenario: A named client talks to a TLS server
    Given a server with TLS
    And client "alice" is connected to the server
    When client "alice" runs `INCR visits`
    Then the reply is the integer 1

  Scenario: A plaintext client on the TLS port is turned away
    Given a server with TLS
    When client "legacy" tries to connect to the server in plaintext
    Then the connection is refused with an error containing "wrong version number"
    # The server learns the reason only if the client's alert arrives before
    # its close; under load it sometimes sees the close alone ("unexpected eof").
    And the log of the server contains "Error accepting a client connection"

  Scenario: A client refuses a server whose certificate has expired
    Given a server with TLS and an expired certificate
    When client "careful" tries to connect to the server
    Then the connection is refused with an error containing "certificate expired"
    # The server learns the reason only if the client's alert arrives before
    # its close; under load it sometimes sees the close alone ("unexpected eof").
    And the log of the server contains "Error accepting a client connection"
