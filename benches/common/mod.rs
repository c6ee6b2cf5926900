//! What the benchmarks share: the raw floor and the statistics.

// Each benchmark uses a part of this module.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Spawns the binary by hand and polls until it answers PING, as the
/// simplest possible harness would; the kill afterwards is not timed.
pub async fn raw_spawn_to_pong(binary: &std::path::Path) -> Duration {
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

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn describe(name: &str, mut samples: Vec<Duration>) -> Duration {
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

/// Runs per benchmark: `VALKEY_BDD_BENCH_RUNS`, default `default`.
pub fn runs(default: usize) -> usize {
    std::env::var("VALKEY_BDD_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
