//! The replication engine from plain Rust, and the errors its waits give.

use std::sync::Arc;
use std::time::Duration;

use valkey_bdd::replication::{self, ReplicaSet, ReplicaSetSpec};
use valkey_bdd::{Error, Reply, Server, ServerSpec};

#[tokio::test]
async fn a_replica_set_is_synced_when_it_is_returned() {
    let set = ReplicaSet::start(ReplicaSetSpec::new(2)).await.unwrap();
    for r in &set.replicas {
        let role = replication::Role::of(r).await.unwrap();
        assert_eq!(role.primary_port, Some(set.primary.port()));
        assert!(role.link_up);
    }
    set.primary.command("SET k v").await.unwrap();
    replication::wait_all_caught_up(
        &set.servers().cloned().collect::<Vec<_>>(),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    // Caught up means there, at once: no retry here.
    for r in &set.replicas {
        assert_eq!(
            r.command("GET k").await.unwrap(),
            Reply::Bulk(b"v".to_vec())
        );
    }
    for s in set.servers() {
        s.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_scenario_s_own_hz_is_left_alone() {
    let set = ReplicaSet::start(ReplicaSetSpec::new(1).node_config("replica 1", "hz", "42"))
        .await
        .unwrap();
    assert_eq!(
        valkey_bdd::info::config_get(&set.replicas[0], "hz")
            .await
            .unwrap(),
        "42"
    );
    assert_eq!(
        valkey_bdd::info::config_get(&set.primary, "hz")
            .await
            .unwrap(),
        "10"
    );
    for s in set.servers() {
        s.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_frozen_replica_times_out_with_what_was_last_seen() {
    let set = ReplicaSet::start(ReplicaSetSpec::new(1)).await.unwrap();
    let replica = &set.replicas[0];
    // The role is read before the freeze; the wait then sees no progress.
    set.primary.command("SET k v").await.unwrap();
    replica
        .signal(nix::sys::signal::Signal::SIGSTOP)
        .await
        .unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        replication::wait_caught_up(replica, &set.primary, Duration::from_millis(300)),
    )
    .await
    .expect("the wait has its own deadline")
    .unwrap_err()
    .to_string();
    // A frozen server does not even answer INFO: the wait's deadline still holds.
    assert!(err.contains("waiting for server \"replica 1\""), "{err}");
    assert!(err.contains("last seen: no answer to INFO within"), "{err}");
    replica
        .signal(nix::sys::signal::Signal::SIGCONT)
        .await
        .unwrap();
    for s in set.servers() {
        s.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_wait_on_a_replica_of_nobody_says_so() {
    let a = Server::start(ServerSpec::new("a")).await.unwrap();
    let b = Server::start(ServerSpec::new("b")).await.unwrap();
    let err = replication::wait_caught_up(&b, &a, Duration::from_millis(200))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Timeout { .. }), "{text}");
    assert!(text.starts_with("timed out after "), "{text}");
    assert!(
        text.contains(&format!(
            "waiting for server \"b\" at 127.0.0.1:{} to catch up with server \"a\" at 127.0.0.1:{} (offset 0)",
            b.port(),
            a.port()
        )),
        "{text}"
    );
    assert!(text.contains("last seen: a primary at offset 0"), "{text}");
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn an_eventual_assertion_shows_the_last_reply() {
    let a = Server::start(ServerSpec::new("a")).await.unwrap();
    a.command("SET k old").await.unwrap();
    let err = replication::eventually(
        &a,
        "GET k",
        "\"new\"",
        |r| r.cell() == "new",
        None,
        Duration::from_millis(100),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("waiting for `GET k` on server \"a\""), "{err}");
    assert!(err.contains("to answer \"new\""), "{err}");
    assert!(err.contains("last seen: \"old\""), "{err}");
    // A standalone server: the hint says so, and asks no replica question.
    assert!(
        err.contains("hint: it is a primary, not a replica: nothing reaches it by replication"),
        "{err}"
    );
    assert!(!err.contains("is it a replica"), "{err}");
    a.stop().await.unwrap();
}

#[tokio::test]
async fn different_data_on_a_replica_is_reported_with_digests_and_sizes() {
    let set = ReplicaSet::start(ReplicaSetSpec::new(2).node_config(
        "replica 2",
        "replica-read-only",
        "no",
    ))
    .await
    .unwrap();
    set.primary.command("SET k v").await.unwrap();
    set.replicas[1].command("SET stray 1").await.unwrap();
    let err = replication::assert_same_data(&set.primary, &set.replicas, Duration::from_secs(10))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("replicas hold other data than server \"primary\""),
        "{err}"
    );
    assert!(err.contains("server \"replica 2\""), "{err}");
    assert!(err.contains(", 2 keys (the primary: digest "), "{err}");
    assert!(
        !err.contains("server \"replica 1\""),
        "replica 1 holds the same data: {err}"
    );
    for s in set.servers() {
        s.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_digest_without_debug_says_how_to_allow_it() {
    let s = Arc::new(
        Server::start(ServerSpec::new("nodebug").config("enable-debug-command", "no"))
            .await
            .unwrap(),
    );
    let err = replication::digest(&s).await.unwrap_err().to_string();
    assert!(err.contains("refuses DEBUG DIGEST"), "{err}");
    assert!(err.contains("enable-debug-command local"), "{err}");
    s.stop().await.unwrap();
}

#[tokio::test]
async fn a_per_node_directive_for_an_unknown_node_is_refused() {
    let err =
        ReplicaSet::start(ReplicaSetSpec::new(1).node_config("replica 7", "maxmemory", "1mb"))
            .await
            .unwrap_err()
            .to_string();
    assert_eq!(
        err,
        "bad configuration: the directive \"maxmemory\" is for \"replica 7\", which is not a node of this set\n  \
         hint: the nodes are: all, primary, replica 1"
    );
}
