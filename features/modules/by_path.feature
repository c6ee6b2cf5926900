Feature: A module loaded by its path, into replicas and clusters
  A module author's build leaves a shared library somewhere: every sentence
  that loads the module of a crate also takes a path. A relative path is
  taken from the directory `cargo test` runs in (the package's root). The
  module here is RediSearch 1.2 as packaged by Debian
  (/usr/lib/redis/modules/redisearch.so), installed by .ci/install-server.

  Scenario: A primary and its replica load the module by its path, with its arguments
    Given a primary with 1 replica loading the module "/usr/lib/redis/modules/redisearch.so" and the arguments "SAFEMODE"
    When I run `MODULE LIST` on the primary
    Then the reply contains "SAFEMODE"
    When I run `MODULE LIST` on the replica
    Then the reply contains "ft"
    And the reply contains "SAFEMODE"
    When I run `FT.CREATE idx SCHEMA title TEXT` on the primary
    Then the reply is "OK"

  Scenario: A primary and its replica load the module by its path, with a config
    Given a primary with 1 replica loading the module "/usr/lib/redis/modules/redisearch.so" and the config:
      | maxmemory-policy | noeviction |
    Then the config "maxmemory-policy" of the replica is "noeviction"
    When I run `MODULE LIST` on the replica
    Then the reply contains "ft"

  Scenario: Every node of a cluster loads the module by its path
    Given a cluster of 2 shards with 1 replica each loading the module "/usr/lib/redis/modules/redisearch.so"
    When I run `MODULE LIST` on node 1
    Then the reply contains "ft"
    When I run `MODULE LIST` on the replica of shard 2
    Then the reply contains "ft"

  Scenario: A server with the module by its path, and a config
    Given a server with the module "/usr/lib/redis/modules/redisearch.so" and the arguments "SAFEMODE" and the config:
      | maxmemory | 10mb |
    Then the config "maxmemory" is "10485760"
    When I run `MODULE LIST`
    Then the reply contains "SAFEMODE"

  Scenario: A module refusing its arguments stops the server from starting
    When I try to start a server with the module "/usr/lib/redis/modules/redisearch.so" and the arguments "EXTLOAD /nonexistent/ext.so"
    Then the server fails to start and its log contains "Could not load extension /nonexistent/ext.so"
