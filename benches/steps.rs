//! What one step costs the harness, above the client's own round trip.
//!
//! A scenario of `N` × ``When I run `ECHO i` `` (each text different) runs through the runner (the
//! same path as `cargo test --test cucumber`), next to a scenario with no
//! such step; the difference divided by `N` is one step. The floor is the
//! same `ECHO` sent `N` times on one of the harness's clients.
//!
//! Release: `cargo bench --bench steps`. The debug build `cargo test` uses:
//! `cargo test --release=false --bench steps` — i.e. `cargo test --bench steps`.
//! Steps per scenario: `VALKEY_BDD_BENCH_STEPS` (default 2000).
//! Target: the harness's overhead per step ≤ 50 µs in the debug build.

use std::time::{Duration, Instant};

mod common;

use valkey_bdd::{Runner, Server, ServerSpec};

fn feature(
    dir: &std::path::Path,
    name: &str,
    steps: usize,
    step: impl Fn(usize) -> String,
) -> std::path::PathBuf {
    // Every step's text differs, as in a real suite: nothing the harness
    // might cache per sentence makes the figure smaller than it is.
    let mut text = String::from(
        "Feature: step cost\n  Scenario: steps\n    Given a server\n    When I run `PING`\n",
    );
    for i in 0..steps {
        text.push_str("    ");
        text.push_str(&step(i));
        text.push('\n');
    }
    text.push_str("    When I run `PING`\n    Then the reply is \"PONG\"\n");
    let path = dir.join(format!("{name}.feature"));
    std::fs::write(&path, text).expect("write the feature");
    path
}

async fn through_runner(path: &std::path::Path) -> Duration {
    let started = Instant::now();
    let outcome = Runner::new(path).quiet().run().await.expect("the run");
    assert_eq!(
        outcome.count(|v| matches!(v, valkey_bdd::runner::Verdict::Passed)),
        1,
        "the scenario passes"
    );
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let steps: usize = std::env::var("VALKEY_BDD_BENCH_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let dir = tempfile::tempdir().expect("a directory");
    let many = feature(dir.path(), "many", steps, |i| {
        format!("When I run `ECHO {i}`")
    });
    let checks = feature(dir.path(), "checks", steps, |i| {
        format!("Then the reply is not \"{i}\"")
    });
    let none = feature(dir.path(), "none", 0, |_| String::new());

    // The floor: the client's own round trip, on a server of the harness.
    let server = Server::start(ServerSpec::new("floor"))
        .await
        .expect("start");
    let mut client = server.client().await.expect("a client");
    for _ in 0..200 {
        client.run("ECHO 1").await.expect("ECHO");
    }
    let started = Instant::now();
    for _ in 0..steps {
        client.run("ECHO 1").await.expect("ECHO");
    }
    let floor = started.elapsed() / steps as u32;
    server.stop().await.expect("stop");

    through_runner(&none).await;
    let (mut per_step, mut per_check) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let base = through_runner(&none).await;
        let full = through_runner(&many).await;
        let check = through_runner(&checks).await;
        per_step.push(full.saturating_sub(base) / steps as u32);
        per_check.push(check.saturating_sub(base) / steps as u32);
    }
    per_step.sort();
    per_check.sort();
    let step = per_step[1];
    let check = per_check[1];
    let overhead = step.saturating_sub(floor);
    println!("build: {build}, {steps} steps per scenario, median of 3");
    println!(
        "client round trip (floor)   {:>8.1} µs",
        floor.as_secs_f64() * 1e6
    );
    println!(
        "one step through the runner {:>8.1} µs",
        step.as_secs_f64() * 1e6
    );
    println!(
        "a step with no round trip   {:>8.1} µs   (`Then the reply is not \"N\"`)",
        check.as_secs_f64() * 1e6
    );
    println!(
        "harness overhead per step   {:>8.1} µs   (target ≤ 50 µs in debug; was ~150 µs)",
        overhead.as_secs_f64() * 1e6
    );
    let measured = format!(
        "{:.1} µs (step {:.1} µs − round trip {:.1} µs)",
        overhead.as_secs_f64() * 1e6,
        step.as_secs_f64() * 1e6,
        floor.as_secs_f64() * 1e6
    );
    if build == "debug" {
        common::row(
            "per-step overhead, debug build",
            &measured,
            "target ≤ 50 µs (old: ~150 µs; a step was ~211 µs)",
            Some(overhead <= Duration::from_micros(50)),
        );
    } else {
        common::row(
            "per-step overhead, release build",
            &measured,
            "old: ~25 µs (a step was ~67 µs)",
            Some(overhead <= Duration::from_micros(25)),
        );
    }
}
