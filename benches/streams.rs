//! Entries per second of a stream drained by 5 consumers of one group:
//! through the harness (`valkey_bdd::streams::drain`, what the drain step
//! runs) against the same loop on bare `redis` crate connections, and
//! `valkey-benchmark` reading with XREADGROUP, on the same server.
//!
//! `cargo bench --bench streams` (runs: `VALKEY_BDD_BENCH_RUNS`, default 10).

use std::time::{Duration, Instant};

mod common;

use valkey_bdd::{Server, ServerBinary, ServerSpec, streams};

const ENTRIES: usize = 10_000;
const CONSUMERS: usize = 5;
const BATCH: usize = 100;

async fn fill(server: &Server, key: &str) -> Vec<String> {
    let ids = streams::add_numbered(server, key, ENTRIES)
        .await
        .expect("XADD");
    server
        .command(&format!("XGROUP CREATE {key} g 0"))
        .await
        .expect("XGROUP");
    ids
}

async fn harness(server: &Server, key: &str) -> Duration {
    let ids = fill(server, key).await;
    let drained = streams::drain(server, key, "g", CONSUMERS, BATCH, Duration::from_secs(60))
        .await
        .expect("drain");
    drained.check_exactly_once(&ids).expect("exactly once");
    drained.elapsed
}

async fn raw(server: &Server, key: &str) -> Duration {
    fill(server, key).await;
    let url = server.authenticated_url();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..CONSUMERS {
        let client = redis::Client::open(url.as_str()).expect("url");
        let key = key.to_string();
        tasks.push(tokio::spawn(async move {
            let mut conn = client
                .get_multiplexed_async_connection()
                .await
                .expect("connect");
            let name = format!("raw-{i}");
            let mut read = 0usize;
            loop {
                let reply: redis::Value = redis::cmd("XREADGROUP")
                    .arg(&["GROUP", "g", &name, "COUNT"])
                    .arg(BATCH)
                    .arg(&["STREAMS", &key, ">"])
                    .query_async(&mut conn)
                    .await
                    .expect("XREADGROUP");
                let ids = streams::entry_ids(&valkey_bdd::Reply::from(reply)).expect("ids");
                if ids.is_empty() {
                    return read;
                }
                read += ids.len();
                let _: i64 = redis::cmd("XACK")
                    .arg(&key)
                    .arg("g")
                    .arg(&ids)
                    .query_async(&mut conn)
                    .await
                    .expect("XACK");
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    assert_eq!(total, ENTRIES);
    started.elapsed()
}

/// `valkey-benchmark` reading the stream one entry per XREADGROUP, 5
/// clients, 16 commands pipelined: requests (= entries) per second.
async fn valkey_benchmark(server: &Server) -> Option<f64> {
    fill(server, "bench-stream").await;
    let out = tokio::process::Command::new("valkey-benchmark")
        .args(["-p", &server.port().to_string(), "-c", "5", "-P", "16"])
        .args(["-n", &ENTRIES.to_string(), "--csv"])
        .args([
            "XREADGROUP",
            "GROUP",
            "g",
            "bench",
            "COUNT",
            "1",
            "STREAMS",
            "bench-stream",
            ">",
        ])
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "XREADGROUP ...","<requests per second>",...
    let line = text.lines().nth(1)?;
    line.split(',').nth(1)?.trim_matches('"').parse().ok()
}

fn rate(d: Duration) -> f64 {
    ENTRIES as f64 / d.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let runs = common::runs(10);
    let binary = ServerBinary::resolve(None).await.expect("a server binary");
    println!("binary: {binary}");
    println!(
        "drain of {ENTRIES} entries by {CONSUMERS} consumers (COUNT {BATCH} + XACK), {runs} runs each"
    );
    let server = Server::start(ServerSpec::new("bench"))
        .await
        .expect("start");
    let (mut h, mut r) = (Vec::new(), Vec::new());
    for i in 0..runs {
        h.push(harness(&server, &format!("h{i}")).await);
        r.push(raw(&server, &format!("r{i}")).await);
    }
    let h = common::describe("harness drain", h);
    let r = common::describe("bare redis crate drain", r);
    println!("harness: {:>9.0} entries/s", rate(h));
    println!("bare:    {:>9.0} entries/s", rate(r));
    println!(
        "harness / bare time: {:.2}×",
        h.as_secs_f64() / r.as_secs_f64()
    );
    match valkey_benchmark(&server).await {
        Some(rps) => println!(
            "valkey-benchmark, XREADGROUP COUNT 1, -c 5 -P 16: {rps:>9.0} entries/s (no XACK)"
        ),
        None => println!("valkey-benchmark: not found or no figure"),
    }
    server.stop().await.expect("stop");
}
