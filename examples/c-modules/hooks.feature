# Ported from Valkey's tests/unit/moduleapi/hooks.tcl (8.1.1), against
# tests/modules/hooks.c. The Tcl file runs its blocks on one server (and one
# replica) in order, counting events since the start; each scenario here
# starts its own server and does what its block relies on first. Differences:
#   - the Tcl client works in db 9, so its flush events name db 9; here db 0;
#   - "Test module aof load and rdb/aof progress hooks" writes its 4000 keys
#     with one EVAL (each SET goes to the AOF, as the Tcl loop's do) and
#     fills the AOF's RDB preamble itself (the Tcl block reuses the previous
#     block's 10 MB);
#   - "Test removed key event" is split into one scenario per kind of removal;
#     its eviction part is not expressed (it sizes maxmemory from used_memory
#     minus mem_not_counted_for_evict and relies on SETBIT's allocation);
#   - the replica's blocks ("master link up", "role-replica",
#     "replica-online", "master link down", "role-master", "replica-offline")
#     are one scenario, in the Tcl file's order: each counts the events of
#     those before it.
Feature: Server events seen by a module's hooks

  Background:
    Given every server loads Valkey's test module "hooks"

  Scenario: Test module aof save on server start from empty
    Given a server with the config:
      | appendonly | yes |
    Then the module counted 1 "persistence-syncaof-start" event

  Scenario: Test clients connection / disconnection hooks
    Given a server with the config:
      | appendonly | yes |
    When client "rd1" runs `PING`
    And client "rd1" disconnects
    And client "rd2" runs `PING`
    And client "rd2" disconnects
    Then the reply to `HOOKS.EVENT_COUNT client-connected` becomes greater than 1
    And the reply to `HOOKS.EVENT_COUNT client-disconnected` becomes greater than 1

  Scenario: Test module client change event for blocked client
    Given a server with the config:
      | appendonly | yes |
    And client "rd" runs `SELECT 1`
    And client "rd" runs `BRPOP foo 0` in the background
    And client "rd" is blocked
    When I run `CLIENT KILL SKIPME yes`
    And I run `PING`
    Then the reply is "PONG"

  Scenario: Test module cron hook
    Given a server with the config:
      | appendonly | yes |
    Then the reply to `HOOKS.EVENT_COUNT cron-loop` becomes greater than 0
    When I run `HOOKS.EVENT_LAST cron-loop`
    Then the reply is the integer 10

  Scenario: Test module loaded / unloaded hooks
    Given a server with the config:
      | appendonly            | yes |
      | enable-module-command | yes |
    When I run `MODULE LOAD ${cwd}/.build/modules/8.1.1/infotest.so`
    And I run `MODULE UNLOAD infotest`
    Then the module's last "module-loaded" event was "infotest"
    And the module's last "module-unloaded" event was "infotest"

  Scenario: Test module aofrw hook
    Given a server with the config:
      | appendonly | yes |
    And I run `DEBUG POPULATE 1000 foo 10000`
    And I run `CONFIG SET rdbcompression no`
    When I run `BGREWRITEAOF`
    And the INFO field "aof_rewrite_in_progress" becomes "0"
    Then the log of the server contains "module-event-persistence-aof-start"
    And the log of the server contains "module-event-persistence-end"

  Scenario: Test module aof load and rdb/aof progress hooks
    Given a server with the config:
      | appendonly | yes |
    And I run `DEBUG POPULATE 1000 foo 10000`
    And I run `CONFIG SET rdbcompression no`
    And I run `BGREWRITEAOF`
    And the INFO field "aof_rewrite_in_progress" becomes "0"
    And I run `EVAL "for j = 0, 3999 do redis.call('SET', 'bar' .. j, 'x') end" 0`
    And I run `CONFIG SET key-load-delay 500`
    And I run `CONFIG SET hz 500`
    When I run `DEBUG LOADAOF`
    Then the module's last "loading-aof-start" event was "0"
    And the module's last "loading-end" event was "0"
    And the module counted 0 "loading-rdb-start" events
    When I run `HOOKS.EVENT_COUNT loading-progress-rdb`
    Then the reply is greater than 2
    When I run `HOOKS.EVENT_COUNT loading-progress-aof`
    Then the reply is greater than 2

  Scenario: Test module rdb save hook
    Given a server with the config:
      | appendonly | yes |
    And the module counted 0 "persistence-syncrdb-start" events
    And the module counted 0 "loading-rdb-start" events
    When I run `DEBUG RELOAD`
    Then the module counted 1 "persistence-syncrdb-start" event
    And the module counted 1 "loading-rdb-start" event

  Scenario: Test key unlink hook
    Given a server with the config:
      | appendonly | yes |
    When I run `SET testkey1 hello`
    And I run `DEL testkey1`
    Then the module counted 1 "key-info-testkey1" event
    And the module's last "key-info-testkey1" event was "testkey1"
    When I run `LPUSH testkey1 hello`
    And I run `LPOP testkey1`
    Then the module counted 2 "key-info-testkey1" events
    And the module's last "key-info-testkey1" event was "testkey1"
    When I run `SET testkey2 world`
    And I run `UNLINK testkey2`
    Then the module counted 1 "key-info-testkey2" event
    And the module's last "key-info-testkey2" event was "testkey2"

  Scenario: Test removed key event: overwritten and deleted strings
    Given a server with the config:
      | appendonly | yes |
    When I run `SET str abcd`
    And I run `SET str abcde`
    Then the module saw "str" removed as "abcd" "overwritten"
    And the module saw "str" removed with no expiry time
    When I run `DEL str`
    Then the module saw "str" removed as "abcde" "deleted"
    And the module saw "str" removed with no expiry time
    When I run `SET intstr 12345678`
    And I run `INCR intstr`
    Then the module saw no removal of "intstr"
    When I run `DEL intstr`
    Then the module saw "intstr" removed as "12345679" "deleted"
    And the module saw no removal of "not-exists"

  Scenario: Test removed key event: the last element of each type, and the whole key
    Given a server with the config:
      | appendonly | yes |
    When I run `HSET hash f v`
    And I run `HDEL hash f`
    Then the module saw "hash" removed as "0" "deleted"
    When I run `HSET hash f v a b`
    And I run `DEL hash`
    Then the module saw "hash" removed as "2" "deleted"
    When I run `LPUSH list 1`
    And I run `LPOP list`
    Then the module saw "list" removed as "0" "deleted"
    When I run `LPUSH list 1 2 3`
    And I run `DEL list`
    Then the module saw "list" removed as "3" "deleted"
    When I run `SADD set 1`
    And I run `SPOP set`
    Then the module saw "set" removed as "0" "deleted"
    When I run `SADD set 1 2 3 4`
    And I run `DEL set`
    Then the module saw "set" removed as "4" "deleted"
    When I run `ZADD zset 1 f`
    And I run `ZPOPMIN zset`
    Then the module saw "zset" removed as "0" "deleted"
    When I run `ZADD zset 1 f 2 d`
    And I run `DEL zset`
    Then the module saw "zset" removed as "2" "deleted"
    When I run `XADD stream 1-1 f v`
    And I run `XDEL stream 1-1`
    Then the module saw no removal of "stream"
    When I run `DEL stream`
    Then the module saw "stream" removed as "0" "deleted"
    When I run `XADD stream 2-1 f v`
    And I run `DEL stream`
    Then the module saw "stream" removed as "1" "deleted"

  Scenario: Test removed key event: expired keys, and a key deleted before it expired
    Given a server with the config:
      | appendonly | yes |
    When I run `SET active-expire abcd PX 1`
    And the reply to `DBSIZE` becomes "0"
    Then the module saw "active-expire" removed as "abcd" "expired"
    When I remember the reply to `HOOKS.PEXPIREAT active-expire` as "at"
    Then the remembered "at" is at most ${now_ms}
    When I run `DEBUG SET-ACTIVE-EXPIRE 0`
    And I run `SET lazy-expire abcd PX 1`
    And the reply to `PTTL lazy-expire` becomes "-2"
    Then the module saw "lazy-expire" removed as "abcd" "expired"
    When I remember the reply to `HOOKS.PEXPIREAT lazy-expire` as "at"
    Then the remembered "at" is at most ${now_ms}
    When I run `DEBUG SET-ACTIVE-EXPIRE 1`
    And I run `SET not-expire abcd PXAT ${now_ms+1000000}`
    And I remember the reply to `PEXPIRETIME not-expire` as "expireat"
    And I run `DEL not-expire`
    Then the module saw "not-expire" removed as "abcd" "deleted"
    When I run `HOOKS.PEXPIREAT not-expire`
    Then the reply is equal to ${expireat}

  Scenario: Test flushdb hooks
    Given a server with the config:
      | appendonly | yes |
    When I run `FLUSHDB`
    Then the module's last "flush-start" event was "0"
    And the module's last "flush-end" event was "0"
    When I run `FLUSHALL`
    Then the module's last "flush-start" event was "-1"
    And the module's last "flush-end" event was "-1"

  Scenario: Test master link up, role, replica-online, master link down, role-master and replica-offline hooks
    Given a server "primary" with the config:
      | appendonly | yes |
    And a server "replica"
    When server "replica" replicates server "primary"
    Then the module of server "replica" counted 1 "masterlink-up" event
    And the module of server "replica" counted 0 "masterlink-down" events
    And the module of server "replica" counted 1 "role-replica" event
    And the module of server "replica" counted 0 "role-master" events
    And the reply to `HOOKS.EVENT_LAST role-replica` on server "replica" becomes "127.0.0.1"
    And the module of server "primary" counted 1 "replica-online" event
    And the module of server "primary" counted 0 "replica-offline" events
    When I run `CLIENT KILL TYPE master` on server "replica"
    Then the module of server "replica" counted 1 "masterlink-down" event
    When the INFO field "master_link_status" of server "replica" becomes "up"
    Then the module of server "replica" counted 1 "masterlink-down" event
    And the module of server "replica" counted 2 "masterlink-up" events
    When server "replica" is promoted to primary
    Then the module of server "replica" counted 1 "role-replica" event
    And the module of server "replica" counted 1 "role-master" event
    And the reply to `HOOKS.EVENT_LAST role-master` on server "replica" becomes ""
    And the module of server "primary" counted 2 "replica-online" events
    And the module of server "primary" counted 2 "replica-offline" events

  Scenario: Test swapdb hooks
    Given a server with the config:
      | appendonly | yes |
    When I run `SWAPDB 0 10`
    Then the module's last "swapdb-first" event was "0"
    And the module's last "swapdb-second" event was "10"

  Scenario: Test configchange hooks
    Given a server with the config:
      | appendonly | yes |
    When I run `CONFIG SET rdbcompression no`
    Then the module's last "config-change-count" event was "1"
    And the module's last "config-change-first" event was "rdbcompression"

  Scenario: Test shutdown hook
    Given a server with the config:
      | appendonly | yes |
    When I stop the server
    Then the log of the server contains "module-event-shutdown"

  Scenario: OnLoad failure will handle un-registration
    Given a server with the config:
      | enable-module-command | yes |
    When I run `MODULE LOAD ${cwd}/.build/modules/8.1.1/hooks.so noload`
    Then the reply is an error containing "Error loading the extension"
    When I run `FLUSHALL`
    And I run `PING`
    Then the reply is "PONG"
