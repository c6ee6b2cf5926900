Feature: Must fail: the security sentences

  Scenario: a connection that succeeds was not refused
    Fails with: expected the connection to be refused with an error containing "WRONGPASS"
    Given a server with the password "pw"
    When client "c" tries to connect to the server as "default" with password "pw"
    Then the connection is refused with an error containing "WRONGPASS"

  Scenario: a refusal for another reason
    Fails with: the connection was refused, but the error does not contain "NOPERM"
    Given a server with the password "pw"
    When client "c" tries to connect to the server as "default" with password "nope"
    Then the connection is refused with an error containing "NOPERM"

  Scenario: a client with a wrong password does not connect
    Fails with: WRONGPASS
    Given a server with the password "pw"
    When client "c" connects to the server as "default" with password "nope"

  Scenario: a unix socket with other permissions
    Fails with: has permissions 700, expected 770
    Given a server on a unix socket with permissions 700
    Then the unix socket of the server has permissions 770

  Scenario: a server with a TCP port accepts plaintext TCP
    Fails with: expected 0 (no plaintext TCP)
    Given a server
    Then the server accepts no plaintext TCP connections
