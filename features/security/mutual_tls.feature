@requires:tls
Feature: Mutual TLS: servers that ask clients for a certificate
  With `tls-auth-clients yes` a client must present a certificate signed by
  an authority the server trusts; with `optional`, a certificate is not
  needed, but one that is presented must be trusted. A refused client sees
  the server's alert or, when its first command races the alert, a broken
  pipe, or on a loaded machine no reply at all; whatever it saw, the error
  quotes the server's own log line, which is what these scenarios check.

  Scenario: A client with a certificate of the run's authority is let in
    Given a server with mutual TLS
    When client "alice" connects to the server with a client certificate for "alice"
    And client "alice" runs `SET owner alice`
    Then the reply is "OK"
    And the config "tls-auth-clients" is "yes"

  Scenario: A client without a certificate is refused
    Given a server with mutual TLS
    When client "anonymous" tries to connect to the server without a client certificate
    Then the connection is refused with an error containing "peer did not return a certificate"

  Scenario: A client with a certificate of another authority is refused
    Given a server with mutual TLS
    When client "mallory" tries to connect to the server with a certificate from an untrusted authority
    Then the connection is refused with an error containing "certificate verify failed"

  Scenario: Optional client certificates: none is fine, an untrusted one is not
    Given a server with TLS and optional client certificates
    When client "anonymous" connects to the server without a client certificate
    And client "anonymous" runs `PING`
    Then the reply is "PONG"
    When client "mallory" tries to connect to the server with a certificate from an untrusted authority
    Then the connection is refused with an error containing "certificate verify failed"

  @requires:tls-auth-clients-user
  Scenario: A certificate's common name logs the client in as that ACL user
    Given a server with mutual TLS and users named by certificates
    And the server has the ACL users:
      | user  | rules                    |
      | alice | on >unused ~* +@read     |
    When client "alice" connects to the server with a client certificate for "alice"
    And client "alice" runs `ACL WHOAMI`
    Then the reply is "alice"
    When client "alice" runs `SET k v`
    Then the reply is an error containing "NOPERM"
