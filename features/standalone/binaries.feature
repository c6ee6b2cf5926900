Feature: Choosing the server binary
  By default the binary comes from VALKEY_SERVER_PATH, SERVER_VERSION or PATH;
  a scenario can name one itself. These use Debian's packages, installed by
  .ci/install-server.

  Scenario: A server started from an explicit binary
    Given a server using the binary "/usr/bin/redis-server"
    When I run `INFO server`
    Then the reply contains "redis_version:7."

  Scenario: Two engines side by side in one scenario
    Given a server "valkey" using the binary "/usr/bin/valkey-server"
    And a server "redis" using the binary "/usr/bin/redis-server"
    Then the INFO field "server_name" of server "valkey" is "valkey"
    When I run `SET k from-redis` on server "redis"
    And I run `GET k` on server "valkey"
    Then the reply is nil
