# Ported from Valkey's tests/unit/moduleapi/propagate.tcl (8.1.1), against
# tests/modules/propagate.c (with keyspace_events.c loaded, as there).
# The Tcl blocks attach to the primary's replication stream and compare it,
# command by command, with the MULTI/EXEC wrapping expected. No sentence reads
# a replication stream yet, so each scenario here checks what the stream did
# instead: the value every key it writes has on the replica (a count of
# `incr x` lines in the stream is the value of x there), and where the module
# keeps the data consistent, that both servers hold the same data. What is not
# checked: the order of the stream's commands and their MULTI/EXEC grouping.
# "Modules can propagate in async and threaded contexts" is the Tcl block that
# holds the replica blocks; "module propagation with notifications with
# eviction case 1" checks data only in Tcl too.
Feature: Writes a module propagates to replicas and the AOF

  Background:
    Given a primary and a replica loading Valkey's test modules "propagate" and "keyspace_events"

  Scenario: module propagates from timer
    When I run `PROPAGATE-TEST.TIMER` on the primary
    Then the replica comes to hold "3" at "timer"

  Scenario: module propagation with notifications
    When `SET x y` replicates
    Then the primary counted 1 notifications

  Scenario: module propagation with notifications with multi
    Given client "c" is connected to the primary
    When client "c" runs `MULTI`
    And client "c" runs `SET x1 y1`
    And client "c" runs `SET x2 y2`
    And client "c" runs `EXEC`
    Then the primary counted 2 notifications
    And the replica comes to hold "y2" at "x2"

  Scenario: module propagation with notifications with active-expire
    Given I run `DEBUG SET-ACTIVE-EXPIRE 1` on the primary
    When I run `SET asdf1 1 PX 300` on the primary
    And I run `SET asdf2 2 PX 300` on the primary
    And I run `SET asdf3 3 PX 300` on the primary
    Then the replica comes to hold "3" at "testkeyspace:expired"
    And the primary counted 12 notifications
    And the key "asdf1" does not exist on replica 1

  Scenario: module propagation with notifications with eviction case 1
    Given I run `SET asdf1 1` on the primary
    And I run `SET asdf2 2` on the primary
    And I run `SET asdf3 3` on the primary
    When I run `CONFIG SET maxmemory-policy allkeys-random` on the primary
    And I run `CONFIG SET maxmemory 1` on the primary
    Then the reply to `DBSIZE` on replica 1 becomes "2"
    When I run `CONFIG SET maxmemory 0` on the primary

  Scenario: module propagation with notifications with eviction case 2
    Given I run `SET asdf1 1 EX 300` on the primary
    And I run `SET asdf2 2 EX 300` on the primary
    And I run `SET asdf3 3 EX 300` on the primary
    And I run `CONFIG RESETSTAT` on the primary
    When I run `CONFIG SET maxmemory-policy volatile-ttl` on the primary
    And I run `CONFIG SET maxmemory 1` on the primary
    And the INFO field "evicted_keys" of the primary becomes "3"
    And I run `CONFIG SET maxmemory 0` on the primary
    And I run `SET asdf4 4` on the primary
    Then the replica comes to hold "4" at "asdf4"
    And the primary counted 10 notifications
    And the key "asdf1" does not exist on replica 1

  Scenario: module propagation with timer and CONFIG SET maxmemory
    Given I run `CONFIG RESETSTAT` on the primary
    And I run `CONFIG SET maxmemory-policy volatile-random` on the primary
    When I run `PROPAGATE-TEST.TIMER-MAXMEMORY` on the primary
    And the INFO field "evicted_keys" of the primary becomes "2"
    Then the replica comes to hold "1" at "timer-maxmemory-middle"
    And the primary counted 6 notifications
    And the key "timer-maxmemory-volatile-start" does not exist on replica 1
    And the key "timer-maxmemory-volatile-end" does not exist on replica 1

  Scenario: module propagation with timer and EVAL
    When I run `PROPAGATE-TEST.TIMER-EVAL` on the primary
    Then the replica comes to hold "1" at "timer-eval-end"
    And the replica comes to hold "1" at "timer-eval-start"
    And the replica comes to hold "bar" at "foo"
    And the replica comes to hold "1" at "timer-eval-middle"
    And the primary counted 3 notifications

  Scenario: module propagates nested ctx case1
    When I run `PROPAGATE-TEST.TIMER-NESTED` on the primary
    Then the replica comes to hold "1" at "timer-nested-end"
    And the replica comes to hold "1" at "timer-nested-start"

  Scenario: module propagates nested ctx case2
    When I run `PROPAGATE-TEST.TIMER-NESTED-REPL` on the primary
    Then the replica comes to hold "1" at "timer-nested-end"
    And the replica comes to hold "1" at "timer-nested-start"
    And the replica comes to hold "1" at "using-call"
    And the replica comes to hold "1" at "counter-1"
    And the replica comes to hold "1" at "counter-4"
    And the replica comes to hold "1" at "after-call"
    And the replica comes to hold "1" at "before-call-2"
    And the replica comes to hold "1" at "after-call-2"
    And the replica comes to hold "1" at "timer-nested-middle"
    And the key "asdf" does not exist on replica 1

  Scenario: module propagates from thread
    When I run `PROPAGATE-TEST.THREAD` on the primary
    Then the replica comes to hold "3" at "a-from-thread" in db 9
    And the replica comes to hold "3" at "thread-call" in db 9
    And the replica comes to hold "3" at "b-from-thread" in db 9

  Scenario: module propagates from thread with detached ctx
    When I run `PROPAGATE-TEST.DETACHED-THREAD` on the primary
    Then the replica comes to hold "1" at "thread-detached-after" in db 9
    And the replica comes to hold "1" at "thread-detached-before" in db 9
    And the replica comes to hold "1" at "thread-detached-1" in db 9
    And the replica comes to hold "1" at "thread-detached-2" in db 9

  Scenario: module propagates from command
    When I run `PROPAGATE-TEST.SIMPLE` on the primary
    And I run `PROPAGATE-TEST.MIXED` on the primary
    Then the replica received the module's command and its calls
    And the primary counted 2 notifications

  Scenario: module propagates from EVAL
    When I run `EVAL "redis.call('propagate-test.simple'); redis.call('set', 'x', 'y'); redis.call('propagate-test.mixed'); return 'OK'" 0` on the primary
    Then the reply is "OK"
    And the replica received the module's command and its calls
    And the replica comes to hold "y" at "x"
    And the primary counted 3 notifications

  Scenario: module propagates from command after good EVAL
    When I run `EVAL "return 'hello'" 0` on the primary
    Then the reply is "hello"
    When I run `PROPAGATE-TEST.SIMPLE` on the primary
    And I run `PROPAGATE-TEST.MIXED` on the primary
    Then the replica received the module's command and its calls
    And the primary counted 2 notifications

  Scenario: module propagates from command after bad EVAL
    When I run `EVAL "return 'hello'" -12` on the primary
    Then the reply is an error containing "ERR Number of keys can't be negative"
    When I run `PROPAGATE-TEST.SIMPLE` on the primary
    And I run `PROPAGATE-TEST.MIXED` on the primary
    Then the replica received the module's command and its calls
    And the primary counted 2 notifications

  Scenario: module propagates from multi-exec
    Given client "c" is connected to the primary
    When client "c" runs `MULTI`
    And client "c" runs `PROPAGATE-TEST.SIMPLE`
    And client "c" runs `PROPAGATE-TEST.MIXED`
    And client "c" runs `PROPAGATE-TEST.TIMER-NESTED-REPL`
    And client "c" runs `EXEC`
    Then the replica comes to hold "1" at "timer-nested-end"
    And the replica comes to hold "2" at "after-call"
    And the replica comes to hold "2" at "using-call"
    And the replica comes to hold "1" at "timer-nested-middle"

  Scenario: module RM_Call of expired key propagation
    Given I run `DEBUG SET-ACTIVE-EXPIRE 0` on the primary
    And I run `SET k1 900 PX 100` on the primary
    And I run `DEBUG SLEEP 0.2` on the primary
    When I run `PROPAGATE-TEST.OBEYED` on replica 1
    Then the reply is the integer 0
    When I run `PROPAGATE-TEST.INCR k1` on the primary
    Then the reply to `GET k1` on the primary becomes "1"
    And the reply to `TTL k1` on the primary becomes "-1"
    And the replica comes to hold "1" at "k1"
    And the reply to `TTL k1` on replica 1 becomes "-1"
    And the reply to `PROPAGATE-TEST.OBEYED` on replica 1 becomes "1"
    When I run `PROPAGATE-TEST.INCR k1` on the primary
    Then the reply to `PROPAGATE-TEST.OBEYED` on replica 1 becomes "2"

  Scenario: module notification on set
    When I run `SADD s foo` on the primary
    Then the reply to `SCARD s` on replica 1 becomes "1"
    When I run `SPOP s 1` on the primary
    Then the reply to `SCARD s` on replica 1 becomes "0"
    And the primary counted 3 notifications

  Scenario: module key miss notification do not cause read command to be replicated
    Given I run `SET k v` on the primary
    When I run `FLUSHALL` on the primary
    And I run `GET unexisting_key` on the primary
    Then the replica comes to hold "1" at "missed"
    And the primary counted 1 notifications
    And the key "k" does not exist on replica 1

  Scenario: Unload the module - propagate-test/testkeyspace
    When I run `MODULE UNLOAD propagate-test` on the primary
    Then the reply is "OK"
    When I run `MODULE UNLOAD testkeyspace` on the primary
    Then the reply is "OK"
    And the INFO field "unexpected_error_replies" of replica 1 is "0"
