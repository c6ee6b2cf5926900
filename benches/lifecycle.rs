//! What the harness costs per server: start → ready → stop through the
//! engine, against the floor of raw spawn → first PONG of the same binary.
//!
//! `cargo bench --bench lifecycle` (runs: `VALKEY_BDD_BENCH_RUNS`, default 100).
//! Prints medians and percentiles; the target is a ratio of medians ≤ 1.3.

use std::time::{Duration, Instant};

mod common;

use common::{describe, raw_spawn_to_pong};
use valkey_bdd::{Server, ServerBinary, ServerSpec};

async fn engine_start_ready_stop() -> Duration {
    let started = Instant::now();
    let server = Server::start(ServerSpec::new("bench"))
        .await
        .expect("start");
    server.stop().await.expect("stop");
    let elapsed = started.elapsed();
    drop(server);
    elapsed
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let runs = common::runs(100);
    let binary = ServerBinary::resolve(None).await.expect("a server binary");
    println!("binary: {binary}");
    println!("runs:   {runs} of each, interleaved");
    // Warm the page cache and the engine's one-time setup (spawner thread,
    // watchdog, binary probe).
    raw_spawn_to_pong(&binary.path).await;
    engine_start_ready_stop().await;
    let mut raw = Vec::with_capacity(runs);
    let mut engine = Vec::with_capacity(runs);
    for _ in 0..runs {
        raw.push(raw_spawn_to_pong(&binary.path).await);
        engine.push(engine_start_ready_stop().await);
    }
    let raw = describe("raw spawn → first PONG", raw);
    let engine = describe("engine start → ready → stop", engine);
    println!(
        "ratio of medians: {:.2}× (target ≤ 1.30×)",
        engine.as_secs_f64() / raw.as_secs_f64()
    );
}
