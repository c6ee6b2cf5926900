//! What the harness costs per server: start → ready → stop through the
//! engine, against the floor of raw spawn → first PONG of the same binary.
//!
//! `cargo bench --bench lifecycle` (runs: `VALKEY_BDD_BENCH_RUNS`, default 100).
//! Prints medians and percentiles; the target is a ratio of medians ≤ 1.3.

use std::time::{Duration, Instant};

use valkey_bdd::{Server, ServerBinary, ServerSpec};

/// Spawns the binary by hand and polls until it answers PING, as the
/// simplest possible harness would; the kill afterwards is not timed.
async fn raw_spawn_to_pong(binary: &std::path::Path) -> Duration {
    let lease = valkey_bdd::ports::lease().expect("a port");
    let port = lease.port();
    let dir = tempfile::tempdir().expect("a directory");
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut pause = Duration::from_micros(500);
    loop {
        if let Ok(mut c) = valkey_bdd::Client::connect("raw", "127.0.0.1", port).await
            && c.run("PING").await.is_ok()
        {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let _ = child.kill().await;
    elapsed
}

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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn describe(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let median = percentile(&samples, 0.5);
    println!(
        "{name:<34} median {:>7.2} ms   p10 {:>7.2} ms   p90 {:>7.2} ms",
        median.as_secs_f64() * 1e3,
        percentile(&samples, 0.1).as_secs_f64() * 1e3,
        percentile(&samples, 0.9).as_secs_f64() * 1e3,
    );
    median
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let runs: usize = std::env::var("VALKEY_BDD_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
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
