Feature: Loading a module at start
  The module used here is RediSearch 1.2 as packaged by Debian
  (redis-redisearch, /usr/lib/redis/modules/redisearch.so), installed by
  .ci/install-server.

  Scenario: A module is loaded with its arguments
    Given a server with the module "/usr/lib/redis/modules/redisearch.so" and the arguments "SAFEMODE"
    When I run `MODULE LIST`
    Then the reply contains "ft"
    And the reply contains "SAFEMODE"
    When I run `FT.CREATE idx SCHEMA title TEXT`
    Then the reply is "OK"
    When I run `FT.ADD idx doc1 1.0 FIELDS title "hello world"`
    And I run `FT.SEARCH idx hello NOCONTENT`
    Then the reply is the list:
      | 1    |
      | doc1 |

  Scenario: A module that cannot be loaded stops the server from starting
    When I try to start a server with the config:
      | loadmodule | /nonexistent/module.so |
    Then the server fails to start and its log contains "/nonexistent/module.so"
