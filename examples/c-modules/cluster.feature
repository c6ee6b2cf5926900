# Ported from Valkey's tests/unit/moduleapi/cluster.tcl (8.1.1), against
# tests/modules/cluster.c, blockonkeys.c, blockonbackground.c, auth.c and
# basics.c, keyspace_events.c and postnotifications.c. Every Tcl `test` block
# is here: those of the second cluster are one scenario, in their order (each
# relies on the ones before), each marked by a comment with its Tcl name. Not
# checked: the replica's replication stream in the keys-deletion block (its
# counters are), and the Tcl blocks' `lsort` (the replies are compared as
# they come, in one order on one node).
Feature: Modules on a cluster

  Scenario: Cluster module send and receive message API - VM_SendClusterMessage, VM_RegisterClusterMessageReceiver
    Given every server loads Valkey's test module "cluster"
    And a cluster of 3 shards
    When I run `TEST.PINGALL` on node 1
    Then the reply is "OK"
    And the CLUSTER INFO field "cluster_stats_messages_module_sent" of node 1 becomes "2"
    And the CLUSTER INFO field "cluster_stats_messages_module_received" of node 2 becomes "1"
    And the CLUSTER INFO field "cluster_stats_messages_module_received" of node 3 becomes "1"
    And the log of node 2 contains "DING (type 1) RECEIVED"
    And the log of node 3 contains "DING (type 1) RECEIVED"
    And the CLUSTER INFO field "cluster_stats_messages_module_received" of node 1 becomes "2"
    And the log of node 1 contains "DONG (type 2) RECEIVED"

  Scenario: Blocked module commands across a resharding and a cluster failure
    Given every server loads Valkey's test module "blockonkeys"
    And every server loads Valkey's test module "blockonbackground"
    And every server loads Valkey's test module "blockedclient"
    And every server loads Valkey's test module "auth"
    And a cluster of 3 shards
    # Run blocking command (blocked on key) on cluster node3: the key is in slot 10923
    And client "node3_rd" is connected to node 3
    And client "node3_rd" runs `FSL.BPOP key9184688 0` in the background
    And the INFO field "blocked_clients" of node 3 becomes "1"
    # Run blocking command (no keys) on cluster node2
    And client "node2_rd" is connected to node 2
    And client "node2_rd" runs `BLOCK.BLOCK 0` in the background
    And the INFO field "blocked_clients" of node 2 becomes "1"
    # Perform a Resharding
    When slots 10923 to 10923 move to node 1
    # Verify command (no keys) is unaffected after resharding
    Then the INFO field "blocked_clients" of node 2 is "1"
    When I run `BLOCK.RELEASE 0` on node 2
    # Verify command (blocked on key) got unblocked after resharding
    And client "node3_rd" gets its reply
    Then the reply is an error containing "MOVED"
    When client "node2_rd" gets its reply
    Then the INFO field "blocked_clients" of node 1 becomes "0"
    And the INFO field "blocked_clients" of node 2 becomes "0"
    And the INFO field "blocked_clients" of node 3 becomes "0"
    # Wait for cluster to be stable
    And the cluster is ready
    # Sanity test push cmd after resharding
    When I run `FSL.PUSH key9184688 1` on node 3
    Then the reply is an error containing "MOVED"
    Given client "node1_rd" is connected to node 1
    And client "node1_rd" runs `FSL.BPOP key9184688 0` in the background
    And the INFO field "blocked_clients" of node 1 becomes "1"
    When I run `FSL.PUSH key9184688 2` on node 1
    And client "node1_rd" gets its reply
    Then the reply is the integer 2
    # Run blocking commands again, on node 1 (by key) and node 2 (no keys)
    Given I run `DEL key9184688` on node 1
    And client "node1_rd" runs `FSL.BPOP key9184688 0` in the background
    And the INFO field "blocked_clients" of node 1 becomes "1"
    And client "node2_rd" runs `BLOCK.BLOCK 0` in the background
    And the INFO field "blocked_clients" of node 2 becomes "1"
    # Kill a cluster node and wait for fail state
    When I freeze node 3
    Then the CLUSTER INFO field "cluster_state" of node 1 becomes "fail"
    And the CLUSTER INFO field "cluster_state" of node 2 becomes "fail"
    # Verify command (blocked on key) got unblocked after cluster failure
    When client "node1_rd" gets its reply
    Then the reply is an error containing "CLUSTERDOWN"
    # Verify command (with no keys) is not unblocked after cluster failure
    And client "node2_rd" is still waiting for its reply
    And the INFO field "blocked_clients" of node 2 is "1"
    # Verify command RM_Call is rejected when cluster is down
    When I run `DO_RM_CALL set x 1` on node 1
    Then the reply is an error containing "ERR Can not execute a command 'set' while the cluster is down"
    # Verify Module Auth Succeeds when cluster is down
    When I run `ACL SETUSER foo >pwd on ~* &* +@all` on node 1
    And client "auth" is connected to node 1
    And client "auth" runs `SET x 1`
    Then the reply is an error containing "CLUSTERDOWN"
    When client "auth" runs `TESTMODULEONE.RM_REGISTER_AUTH_CB`
    Then the reply is "OK"
    When client "auth" runs `AUTH foo allow`
    Then the reply is "OK"
    When client "auth" runs `TESTMODULEONE.RM_REGISTER_BLOCKING_AUTH_CB`
    Then the reply is "OK"
    When client "auth" runs `AUTH foo block_allow`
    Then the reply is "OK"
    When I thaw node 3
    Then the CLUSTER INFO field "cluster_state" of node 1 becomes "ok"

  Scenario: Verify RM_Call inside module load function on cluster mode
    Given every server loads Valkey's test module "basics"
    And a cluster of 3 shards
    When I run `PING` on node 1
    Then the reply is "PONG"
    When I run `PING` on node 2
    Then the reply is "PONG"
    When I run `PING` on node 3
    Then the reply is "PONG"

  Scenario: VM_CALL with cluster slots
    Given every server loads Valkey's test module "cluster"
    And a cluster of 3 shards
    Then node 1 answers `TEST.CLUSTER_SLOTS` as it answers `CLUSTER SLOTS`
    And node 2 answers `TEST.CLUSTER_SLOTS` as it answers `CLUSTER SLOTS`
    And node 3 answers `TEST.CLUSTER_SLOTS` as it answers `CLUSTER SLOTS`

  Scenario: VM_CALL with cluster shards
    Given every server loads Valkey's test module "cluster"
    And a cluster of 3 shards
    Then node 1 answers `TEST.CLUSTER_SHARDS` as it answers `CLUSTER SHARDS`
    And node 2 answers `TEST.CLUSTER_SHARDS` as it answers `CLUSTER SHARDS`
    And node 3 answers `TEST.CLUSTER_SHARDS` as it answers `CLUSTER SHARDS`

  Scenario: Verify keys deletion and notification effects happened on cluster slots change are replicated inside multi exec
    Given every server loads Valkey's test module "keyspace_events"
    And every server loads Valkey's test module "postnotifications" with the arguments "with_key_events"
    And a cluster of 2 shards with 1 replica each
    Then "count_dels_{4oi}" hashes to slot 16382
    When I run `SET count_dels_{4oi} 1` on the primary of shard 2
    And I run `DEL count_dels_{4oi}` on the primary of shard 2
    Then the reply to `KEYSPACE.GET_DELS` on the primary of shard 2 becomes "1"
    And the reply to `KEYSPACE.GET_DELS` on the replica of shard 2 becomes "1"
    When I run `SET count_dels_{4oi} 1` on the primary of shard 2
    And I run `CLUSTER BUMPEPOCH` on node 1
    And I run `CLUSTER MYID` on node 1
    And I remember the reply as "node1"
    And I run `CLUSTER SETSLOT 16382 NODE ${node1}` on node 1
    Then the reply to `KEYSPACE.GET_DELS` on the primary of shard 2 becomes "2"
    And the reply to `KEYSPACE.GET_DELS` on the replica of shard 2 becomes "2"
