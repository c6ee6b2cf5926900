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
        if let Ok(mut c) = valkey_bdd::Client::connect(
            "raw",
            "127.0.0.1",
            port,
            std::time::Duration::from_secs(10),
        )
        .await
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

/// One line of the table `.ci/bench` prints: appended to the file named by
/// `VALKEY_BDD_BENCH_TABLE` (when set) as tab-separated fields — the
/// figure, what was measured, what it is held against (a floor measured in
/// the same run, or an old value or target given as a constant and labelled
/// so), whether it met that, and the load average when it was measured.
pub fn row(figure: &str, measured: &str, against: &str, met: Option<bool>) {
    let Some(path) = std::env::var_os("VALKEY_BDD_BENCH_TABLE") else {
        return;
    };
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split(' ').next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    let met = match met {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    };
    let line = format!("{figure}\t{measured}\t{against}\t{met}\t{load}\n");
    use std::io::Write as _;
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "writing the table row to {}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}

/// A duration as the table shows it: seconds from one second up, else
/// milliseconds, else microseconds.
pub fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}
