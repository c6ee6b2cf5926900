//! Rebalancing slots onto a new shard: 3 shards own all 16384 slots, an
//! empty fourth joins, and [`Cluster::rebalance`] moves 4096 slots to it
//! (empty slots; then the same with keys in some of them), timed from the
//! first move to a cluster that is ready again.
//!
//! `cargo bench --bench reshard` (runs: `VALKEY_BDD_BENCH_RUNS`, default 3).
//! Target: 4096 empty slots rebalanced ≤ 1.5 s (it took 23.8 s moving one
//! slot at a time, 15.5 s with scenario directories on tmpfs).

mod common;

use std::time::{Duration, Instant};

use common::{describe, show};
use valkey_bdd::cluster::{Cluster, ClusterSpec};

async fn rebalance(keys: usize) -> Duration {
    let cluster = Cluster::start(ClusterSpec::new(3, 0))
        .await
        .expect("a cluster");
    if keys > 0 {
        let mut client = cluster.client().await.expect("a cluster client");
        for i in 0..keys {
            client.run(&format!("SET key:{i} {i}")).await.expect("SET");
        }
    }
    cluster.add_empty_shard().await.expect("a fourth shard");
    let started = Instant::now();
    cluster.rebalance().await.expect("the rebalance");
    let took = started.elapsed();
    let owners = cluster.slot_owners().await.expect("the slot map");
    let fourth = cluster.nodes().last().expect("the new node").port();
    let owned = owners.iter().filter(|o| **o == Some(fourth)).count();
    assert_eq!(owned, 4096, "the new shard owns a quarter of the slots");
    futures::future::join_all(cluster.nodes().iter().map(|n| n.stop())).await;
    took
}

#[tokio::main]
async fn main() {
    let runs = common::runs(3);
    let mut empty = Vec::new();
    let mut with_keys = Vec::new();
    for _ in 0..runs {
        empty.push(rebalance(0).await);
        with_keys.push(rebalance(1000).await);
    }
    let empty = describe("rebalance: 4096 empty slots", empty);
    let with_keys = describe("rebalance: 4096 slots, 1000 keys", with_keys);
    println!(
        "rebalance of 4096 empty slots: {:.2} s   (target ≤ 1.5 s; was 23.8 s, 15.5 s on tmpfs)",
        empty.as_secs_f64()
    );
    common::row(
        "rebalance: 4096 empty slots onto a 4th shard",
        &show(empty),
        "target ≤ 1.50 s (old: 23.8 s; 15.5 s on tmpfs)",
        Some(empty <= Duration::from_millis(1500)),
    );
    common::row(
        "rebalance: 4096 slots, 1000 keys",
        &show(with_keys),
        "-",
        None,
    );
}
