Feature: ACL users and passwords
  Named clients connect as a user's program would. On a server with a
  password of the scenario's own, or without its default user, that is
  unauthenticated until they `AUTH` or connect as a user (the run's password,
  see secure_by_default.feature, no longer gets them in). The harness's own
  connections (its checks and `I run ...`) keep working: they use the password
  it was given, or a user of their own once the default user is disabled.

  Scenario: A user limited to reading gets NOPERM for a write
    Given a server
    And the server has the ACL users:
      | user  | rules                          |
      | alice | on >wonderland ~app:* +@read   |
    And I run `SET app:motd hello`
    When client "alice" connects to the server as "alice" with password "wonderland"
    And client "alice" runs `GET app:motd`
    Then the reply is "hello"
    When client "alice" runs `SET app:motd bye`
    Then the reply is an error containing "NOPERM"
    When client "alice" runs `GET other:key`
    Then the reply is an error containing "NOPERM"

  Scenario: A wrong password is refused
    Given a server
    And the server has the ACL users:
      | user | rules               |
      | bob  | on >right ~* +@all  |
    When client "bob" tries to connect to the server as "bob" with password "wrong"
    Then the connection is refused with an error containing "WRONGPASS"
    When client "eve" runs `AUTH bob wrong`
    Then the reply is an error containing "WRONGPASS"

  Scenario: With the default user disabled, nobody gets in without a user
    Given a server
    And the server has the ACL users:
      | user  | rules                 |
      | carol | on >secret ~* +@all   |
    And the default user of the server is disabled
    When client "anonymous" runs `PING`
    Then the reply is an error containing "NOAUTH"
    When client "carol" connects to the server as "carol" with password "secret"
    And client "carol" runs `ACL WHOAMI`
    Then the reply is "carol"
    When I run `ACL USERS`
    Then the reply is the list, in any order:
      | carol      |
      | default    |
      | valkey-bdd |

  Scenario: requirepass: the default user needs the password
    Given a server with the password "s3cret"
    When client "c" runs `GET k`
    Then the reply is an error containing "NOAUTH"
    When client "c" runs `AUTH s3cret`
    Then the reply is "OK"
    When client "c" runs `SET k v`
    Then the reply is "OK"
    When I run `GET k`
    Then the reply is "v"
