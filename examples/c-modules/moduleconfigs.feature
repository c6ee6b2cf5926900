# Ported from Valkey's tests/unit/moduleapi/moduleconfigs.tcl (8.1.1), against
# tests/modules/moduleconfigs.c: the blocks that run on the module loaded at
# start. Not expressed:
#   - the byte string with a NUL in "Config set commands work" (a command in
#     backticks is text; the rest of that block is here);
#   - "Unload removes module configs", "test loadex functionality", "apply
#     function works", "test double config argument to loadex", "missing
#     loadconfigs call", "test loadex rejects bad configs", "test config
#     rewrite with dynamic load", "test multiple modules with configs" and the
#     blocks after them: they MODULE LOAD / LOADEX the module by its absolute
#     path at run time, which no sentence can name yet (modules load at start,
#     by a path relative to where valkey-bdd runs).
Feature: A module's configuration directives

  Background:
    Given a server with Valkey's test module "moduleconfigs"

  Scenario: Config get commands work
    When I run `MODULE LIST`
    Then the reply contains "moduleconfigs"
    And the config "moduleconfigs.mutable_bool" is "yes"
    And the config "moduleconfigs.immutable_bool" is "no"
    And the config "moduleconfigs.memory_numeric" is "1024"
    And the config "moduleconfigs.string" is "secret password"
    And the config "moduleconfigs.enum" is "one"
    And the config "moduleconfigs.flags" is "one two"
    And the config "moduleconfigs.numeric" is "-1"

  Scenario: Config set commands work
    When I run `CONFIG SET moduleconfigs.mutable_bool no`
    Then the config "moduleconfigs.mutable_bool" is "no"
    When I run `CONFIG SET moduleconfigs.memory_numeric 1mb`
    Then the config "moduleconfigs.memory_numeric" is "1048576"
    When I run `CONFIG SET moduleconfigs.string wafflewednesdays`
    Then the config "moduleconfigs.string" is "wafflewednesdays"
    When I run `CONFIG SET moduleconfigs.string AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`
    Then the config "moduleconfigs.string" is "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    When I run `CONFIG SET moduleconfigs.enum two`
    Then the config "moduleconfigs.enum" is "two"
    When I run `CONFIG SET moduleconfigs.flags two`
    Then the config "moduleconfigs.flags" is "two"
    When I run `CONFIG SET moduleconfigs.numeric -2`
    Then the config "moduleconfigs.numeric" is "-2"

  Scenario Outline: Config set commands enum flags: <set> reads back as <get>
    When I run `CONFIG SET moduleconfigs.flags "<set>"`
    Then the config "moduleconfigs.flags" is "<get>"

    Examples:
      | set          | get       |
      | none         | none      |
      | two four     | two four  |
      | five         | five      |
      | one four     | five      |
      | one two four | five two  |

  Scenario: Immutable flag works properly and rejected strings dont leak
    When I run `CONFIG SET moduleconfigs.immutable_bool yes`
    Then the reply is an error containing "can't set immutable config"
    When I run `CONFIG SET moduleconfigs.string rejectisfreed`
    Then the reply is an error containing "Cannot set string to 'rejectisfreed'"

  Scenario: Numeric limits work properly
    When I run `CONFIG SET moduleconfigs.memory_numeric 200gb`
    Then the reply is an error containing "argument must be between"
    When I run `CONFIG SET moduleconfigs.memory_numeric -5`
    Then the reply is an error containing "argument must be a memory value"
    When I run `CONFIG SET moduleconfigs.numeric -10`
    Then the reply is an error containing "argument must be between"

  Scenario: Enums only able to be set to passed in values
    When I run `CONFIG SET moduleconfigs.enum asdf`
    Then the reply is an error containing "must be one of the following"

  Scenario: test blocking of config registration and load outside of OnLoad
    When I run `BLOCK.REGISTER.CONFIGS.OUTSIDE.ONLOAD`
    Then the reply is "OK"
