# Ported from Valkey's tests/unit/moduleapi/auth.tcl (8.1.1), against
# tests/modules/auth.c. Every Tcl `test` block is a scenario; the Tcl file
# runs them on one server and one client in order, so a scenario here first
# does what its block relies on (the user a previous block authenticated).
# The client is a named one, "c": the harness's own connection stays the
# default user. The harness's default user has the run's password, so where
# the Tcl block re-authenticates with `AUTH default ""` the scenario uses a
# plain ACL user without password ("plain"): the same user switch by AUTH.
Feature: Module authentication: module users, ACL users, the user-change callback

  Background:
    Given a server with Valkey's test module "auth" and the module command

  Scenario: Modules can create a user that can be authenticated
    Given client "c" is logged in as "default"
    When client "c" runs `AUTH.CREATEMODULEUSER`
    And client "c" runs `AUTH.AUTHMODULEUSER`
    Then the reply is equal to ${client.c.id}
    And client "c" is logged in as "global"

  Scenario: De-authenticating clients is tracked and kills clients
    Given client "c" runs `AUTH.CREATEMODULEUSER`
    And client "c" runs `AUTH.AUTHMODULEUSER`
    And I remember the id of client "c" as "c_id"
    And I run `AUTH.CHANGECOUNT`
    Then the reply is the integer 0
    When I run `AUTH.CREATEMODULEUSER`
    Then the server drops the client of id ${c_id}
    When I run `AUTH.CHANGECOUNT`
    Then the reply is the integer 1

  Scenario: Modules can't authenticate with ACLs users that dont exist
    When client "c" runs `AUTH.AUTHREALUSER auth-module-test-fake`
    Then the reply is an error containing "Invalid user"

  Scenario: Modules can authenticate with ACL users
    Given client "c" is logged in as "default"
    And I run `ACL SETUSER auth-module-test on allkeys allcommands`
    When client "c" runs `AUTH.AUTHREALUSER auth-module-test`
    Then the reply is equal to ${client.c.id}
    And client "c" is logged in as "auth-module-test"

  Scenario: Client callback is called on user switch
    Given I run `ACL SETUSER auth-module-test on allkeys allcommands`
    And I run `ACL SETUSER plain on nopass allkeys allcommands`
    And client "c" runs `AUTH.AUTHREALUSER auth-module-test`
    And I run `AUTH.CHANGECOUNT`
    When client "c" runs `AUTH.AUTHREALUSER auth-module-test`
    And I run `AUTH.CHANGECOUNT`
    Then the reply is the integer 1
    When client "c" runs `AUTH plain any`
    And I run `AUTH.CHANGECOUNT`
    Then the reply is the integer 1
    And client "c" is logged in as "plain"
    When client "c" runs `AUTH plain any`
    And I run `AUTH.CHANGECOUNT`
    Then the reply is the integer 0
    And client "c" is logged in as "plain"

  Scenario: modules can redact arguments
    Given I run `CONFIG SET slowlog-log-slower-than 0`
    And I run `SLOWLOG RESET`
    And I run `AUTH.REDACT 1 2 3 4`
    And I run `AUTH.REDACT 1 2 3`
    And I run `CONFIG SET slowlog-log-slower-than -1`
    When I run `SLOWLOG LEN`
    Then the reply is the integer 3
    When I run `SLOWLOG GET`
    Then the reply matches /(?s)"AUTH\.REDACT"\s+2\) "\(redacted\)"\s+3\) "2"\s+4\) "\(redacted\)"\s.*"AUTH\.REDACT"\s+2\) "1"\s+3\) "\(redacted\)"\s+4\) "3"\s+5\) "\(redacted\)"\s.*"SLOWLOG"\s+2\) "RESET"/

  Scenario: Unload the module - testacl
    When I run `MODULE UNLOAD testacl`
    Then the reply is "OK"
