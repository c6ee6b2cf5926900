Feature: Must fail: CONFIG and INFO sentences

  Background:
    Given a server

  Scenario: a directive with another value
    Fails with: is "noeviction", expected "allkeys-lru"
    Then the config "maxmemory-policy" is "allkeys-lru"

  Scenario: a directive that does not exist is not empty
    Fails with: has no configuration directive "no-such-directive"
    Then the config "no-such-directive" is ""

  Scenario: a directive of another server
    Fails with: is "1048576", expected "0"
    Given a server "b" with the config:
      | maxmemory | 1mb |
    Then the config "maxmemory" of server "b" is "0"

  Scenario: an INFO field that does not exist is not 0
    Fails with: has no INFO field "no_such_field"
    Then the INFO field "no_such_field" is "0"

  Scenario: an INFO field with another value
    Fails with: is "master", expected "slave"
    Then the INFO field "role" is "slave"

  Scenario: an INFO field of another server
    Fails with: is "0", expected "1"
    Given a server "b"
    Then the INFO field "connected_slaves" of server "b" is "1"

  Scenario: an INFO field that never appears does not become 0
    Fails with: to become "0"
    Fails with: last seen: absent
    Fails with: hint: INFO never showed a field "no_such_field": is it spelled as INFO prints it
    When the INFO field "no_such_field" becomes "0"

  Scenario: a config holding the run's password is shown redacted
    Fails with: is "<the run's password>", expected "guess"
    Given a primary with 1 replica
    Then the config "masterauth" of replica 1 is "guess"
