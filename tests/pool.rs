//! The pool of cluster nodes started ahead of need, and what makes it safe.
//! One test: the pool is one per process.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use valkey_bdd::cluster::{Cluster, ClusterSpec, cluster_info};
use valkey_bdd::{Reply, pool};

async fn wait_idle(n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool::idle() < n {
        assert!(
            Instant::now() < deadline,
            "the pool never reached {n} idle nodes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_nodes_are_fresh_used_once_and_only_where_they_fit() {
    pool::enable(6);
    wait_idle(6).await;

    // Handed out once: two takes never share a node.
    let first = pool::take(3);
    let second = pool::take(3);
    let ports: HashSet<u16> = first.iter().chain(&second).map(|n| n.port()).collect();
    assert_eq!(ports.len(), 6, "a node was handed out twice");
    // Fresh: cluster mode, alone, empty, named as the pool names them.
    for n in first.iter().chain(&second) {
        assert_eq!(n.name(), "pooled node");
        assert_eq!(n.command("DBSIZE").await.unwrap(), Reply::Integer(0));
        let info = cluster_info(n).await.unwrap();
        assert_eq!(
            info.get("cluster_known_nodes"),
            Some("1"),
            "{}",
            n.describe()
        );
        n.stop().await.unwrap();
    }
    // Taken nodes are replaced.
    wait_idle(6).await;

    // A cluster with the default configuration forms from pooled nodes.
    let idle_before: Vec<u16> = {
        let probe = pool::take(6);
        let ports = probe.iter().map(|n| n.port()).collect();
        // Put nothing back: these six are spent, the pool refills.
        for n in &probe {
            n.stop().await.unwrap();
        }
        ports
    };
    wait_idle(6).await;
    let cluster = Cluster::start(ClusterSpec::new(3, 1)).await.unwrap();
    let names: Vec<String> = cluster.nodes().iter().map(|n| n.name()).collect();
    assert_eq!(
        names,
        ["node 1", "node 2", "node 3", "node 4", "node 5", "node 6"]
    );
    for n in cluster.nodes() {
        let dir = n.dir().file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            dir.starts_with("valkey-bdd-pooled-node-"),
            "{} did not come from the pool: {dir}",
            n.describe()
        );
    }
    assert!(
        cluster
            .nodes()
            .iter()
            .all(|n| !idle_before.contains(&n.port())),
        "a spent node came back"
    );
    for n in cluster.nodes() {
        n.stop().await.unwrap();
    }
    wait_idle(6).await;

    // A cluster with its own configuration starts cold: the pool is untouched.
    let cluster = Cluster::start(ClusterSpec::new(1, 0).config("maxmemory", "5mb"))
        .await
        .unwrap();
    assert_eq!(pool::idle(), 6);
    assert_eq!(
        valkey_bdd::info::config_get(&cluster.nodes()[0], "maxmemory")
            .await
            .unwrap(),
        "5242880"
    );
    for n in cluster.nodes() {
        n.stop().await.unwrap();
    }

    pool::drain().await;
    assert_eq!(pool::idle(), 0);
    assert!(!pool::enabled());
}
