//! Cold cluster formation, and the cost per scenario when many scenarios
//! need a cluster: every cluster from cold nodes (the baseline) against
//! nodes started ahead of need (the pool).
//!
//! `cargo bench --bench cluster` (scenarios: `VALKEY_BDD_BENCH_RUNS`, default 10).
//! Target for cold formation of 3 shards × 1 replica: ≤ 2.3 s.

mod common;

use std::time::{Duration, Instant};

use common::describe;
use valkey_bdd::Reply;
use valkey_bdd::cluster::{Cluster, ClusterSpec};

/// One scenario's worth of cluster: form 3×1, write through the cluster
/// client, tear down.
async fn scenario() -> (Duration, Duration) {
    let started = Instant::now();
    let cluster = Cluster::start(ClusterSpec::new(3, 1))
        .await
        .expect("a cluster");
    let formed = started.elapsed();
    let mut client = cluster.client().await.expect("a cluster client");
    assert_eq!(
        client.run("SET k v").await.expect("SET"),
        Reply::Status("OK".into())
    );
    futures::future::join_all(cluster.nodes().iter().map(|n| n.stop())).await;
    (formed, started.elapsed())
}

#[tokio::main]
async fn main() {
    let runs = common::runs(10);
    println!("{runs} scenarios, each forming 3 shards × 1 replica, writing once, tearing down");

    let mut cold_formed = Vec::new();
    let mut cold_total = Vec::new();
    let cold_started = Instant::now();
    for _ in 0..runs {
        let (f, t) = scenario().await;
        cold_formed.push(f);
        cold_total.push(t);
    }
    let cold_all = cold_started.elapsed();

    valkey_bdd::pool::enable(24);
    let mut pooled_formed = Vec::new();
    let mut pooled_total = Vec::new();
    let pooled_started = Instant::now();
    for _ in 0..runs {
        let (f, t) = scenario().await;
        pooled_formed.push(f);
        pooled_total.push(t);
    }
    let pooled_all = pooled_started.elapsed();
    valkey_bdd::pool::drain().await;

    describe("cold formation (3x1)", cold_formed);
    describe("cold: scenario", cold_total);
    describe("pooled formation (3x1)", pooled_formed);
    describe("pooled: scenario", pooled_total);
    println!(
        "per scenario over the whole run (pool warm-up included): cold {:.0} ms, pooled {:.0} ms ({:.1}x faster)",
        cold_all.as_secs_f64() * 1e3 / runs as f64,
        pooled_all.as_secs_f64() * 1e3 / runs as f64,
        cold_all.as_secs_f64() / pooled_all.as_secs_f64()
    );
}
