Feature: Secure by default: only the run gets in
  Every server the harness starts guards its default user with a password
  made for the run, random and never shown. The harness, named clients and
  your own programs use it without being told; a connection without it is
  refused, so another local user cannot run commands (or load a module) on a
  server that runs as you. A scenario that sets a password of its own, or
  disables the default user, tests that instead (see acl.feature).

  Scenario: A client without the run's password is refused
    Given a server
    When client "stranger" connects to the server without a password
    And client "stranger" runs `MODULE LIST`
    Then the reply is an error containing "NOAUTH"
    When client "stranger" runs `PING`
    Then the reply is an error containing "NOAUTH"

  Scenario: Named clients get in as the default user, as programs given the URL would
    Given a server
    When client "app" runs `ACL WHOAMI`
    Then the reply is "default"
    And the config "requirepass" is ""
