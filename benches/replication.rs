//! From nothing to "a primary with N replicas, synced", through the engine,
//! next to the floor of one raw spawn → first PONG.
//!
//! `cargo bench --bench replication` (runs: `VALKEY_BDD_BENCH_RUNS`, default 50).
//! Targets: ≤ 50 ms for one replica, ≤ 80 ms for three.

mod common;

use std::time::{Duration, Instant};

use common::{describe, raw_spawn_to_pong};
use valkey_bdd::ServerBinary;
use valkey_bdd::replication::{ReplicaSet, ReplicaSetSpec};

async fn synced(replicas: usize) -> Duration {
    let started = Instant::now();
    let set = ReplicaSet::start(ReplicaSetSpec::new(replicas))
        .await
        .expect("a synced replica set");
    let elapsed = started.elapsed();
    for s in set.servers() {
        s.stop().await.expect("stop");
    }
    elapsed
}

#[tokio::main]
async fn main() {
    let runs = common::runs(50);
    let binary = ServerBinary::resolve(None).await.expect("a server binary");
    println!("binary: {binary}");
    println!("runs:   {runs} of each, interleaved");
    raw_spawn_to_pong(&binary.path).await;
    synced(1).await;
    let (mut raw, mut one, mut three) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        raw.push(raw_spawn_to_pong(&binary.path).await);
        one.push(synced(1).await);
        three.push(synced(3).await);
    }
    describe("raw spawn → first PONG (floor)", raw);
    let one = describe("primary + 1 replica, synced", one);
    let three = describe("primary + 3 replicas, synced", three);
    println!(
        "targets: 1 replica {:.1} ms (≤ 50), 3 replicas {:.1} ms (≤ 80)",
        one.as_secs_f64() * 1e3,
        three.as_secs_f64() * 1e3
    );
}
