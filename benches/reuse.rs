//! What reused servers save: 200 one-server scenarios through the runner
//! with reuse on and off, next to the raw spawn floor (200 bare
//! `valkey-server` processes spawned to their first PONG, 8 at once, as the
//! runner's scenarios would run on this machine); and one reused server's
//! cost alone (reset + check + hand-out) next to a fresh start.
//!
//! And a reused default 3×1 cluster: taken from the pool (checked) and
//! written to, next to forming one (target ≤ 100 ms).
//!
//! `cargo bench --bench reuse` (scenarios: `VALKEY_BDD_BENCH_RUNS`, default 200).
//! Target: 200 scenarios with reuse ≤ 0.6 s.

use std::time::{Duration, Instant};

mod common;

use common::{describe, raw_spawn_to_pong, show};
use valkey_bdd::runner::Verdict;
use valkey_bdd::{Runner, Server, ServerBinary, ServerSpec, reuse};

const AT_ONCE: usize = 8;

fn feature(dir: &std::path::Path, scenarios: usize) -> std::path::PathBuf {
    let mut text = String::from("Feature: many one-server scenarios\n");
    for n in 0..scenarios {
        text.push_str(&format!(
            "  Scenario: scenario {n}\n    Given a server\n    When I run `SET k{n} v`\n    Then the reply is \"OK\"\n"
        ));
    }
    let path = dir.join("many.feature");
    std::fs::write(&path, text).expect("write the feature");
    path
}

async fn run(path: &std::path::Path, reuse: bool, scenarios: usize) -> Duration {
    let started = Instant::now();
    let outcome = Runner::new(path)
        .reuse(reuse)
        .concurrency(AT_ONCE)
        .quiet()
        .run()
        .await
        .expect("the run");
    let elapsed = started.elapsed();
    assert_eq!(
        outcome.count(|v| matches!(v, Verdict::Passed)),
        scenarios,
        "every scenario passes"
    );
    elapsed
}

async fn raw_floor(binary: &std::path::Path, n: usize) -> Duration {
    use futures::StreamExt as _;
    let started = Instant::now();
    futures::stream::iter(0..n)
        .for_each_concurrent(AT_ONCE, |_| async {
            raw_spawn_to_pong(binary).await;
        })
        .await;
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let scenarios = common::runs(200);
    let binary = ServerBinary::resolve(None).await.expect("a server binary");
    let dir = tempfile::tempdir().expect("a directory");
    let many = feature(dir.path(), scenarios);
    println!("binary: {binary}");
    println!("{scenarios} one-server scenarios, {AT_ONCE} at once; median of 3, interleaved");
    // Warm the page cache, the binary probe and the runner.
    raw_floor(&binary.path, AT_ONCE).await;
    run(&many, true, scenarios).await;
    let (mut floor, mut on, mut off) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        floor.push(raw_floor(&binary.path, scenarios).await);
        on.push(run(&many, true, scenarios).await);
        off.push(run(&many, false, scenarios).await);
    }
    let floor = describe("raw spawn floor (whole run)", floor);
    let off = describe("runner, reuse off (whole run)", off);
    let on = describe("runner, reuse on (whole run)", on);
    println!(
        "reuse on: {:.2} s (target ≤ 0.60 s; floor {:.2} s; reuse off {:.2} s)",
        on.as_secs_f64(),
        floor.as_secs_f64(),
        off.as_secs_f64()
    );
    common::row(
        &format!("{scenarios} standalone scenarios, reuse on"),
        &show(on),
        &format!(
            "target ≤ 0.60 s; raw spawn floor {} (measured, {AT_ONCE} at once); old: 1.85 s",
            show(floor)
        ),
        Some(on <= Duration::from_millis(600)),
    );
    common::row(
        &format!("{scenarios} standalone scenarios, reuse off"),
        &show(off),
        &format!(
            "raw spawn floor {} (measured, {AT_ONCE} at once); old: 1.85 s",
            show(floor)
        ),
        None,
    );

    // One server alone: a fresh start against a reset, check and hand-out.
    reuse::enable(4);
    let (server, baseline) = reuse::start(ServerSpec::new("bench")).await.expect("start");
    assert!(reuse::give_back(server, baseline).await);
    let path = reuse::binary_of_run().expect("the binary");
    let (mut fresh, mut reused) = (Vec::new(), Vec::new());
    for n in 0..common::runs(100).min(100) {
        let started = Instant::now();
        let (server, baseline) = reuse::take(&path).expect("an idle server");
        server.command(&format!("SET k{n} v")).await.expect("SET");
        assert!(
            reuse::give_back(server, baseline).await,
            "the reset verifies"
        );
        reused.push(started.elapsed());

        let started = Instant::now();
        let server = Server::start(ServerSpec::new("fresh"))
            .await
            .expect("start");
        server.command(&format!("SET k{n} v")).await.expect("SET");
        server.stop().await.expect("stop");
        fresh.push(started.elapsed());
        drop(server);
    }
    let fresh = describe("one fresh server: start → stop", fresh);
    let reused = describe("one reused server: take → reset", reused);
    common::row(
        "one reused server: take → SET → reset, verified",
        &show(reused),
        &format!(
            "a fresh server: start → SET → stop {} (measured)",
            show(fresh)
        ),
        Some(reused < fresh),
    );
    println!(
        "a reused server costs {:.2} ms, a fresh one {:.2} ms",
        reused.as_secs_f64() * 1e3,
        fresh.as_secs_f64() * 1e3
    );

    // A 3×1 cluster: formed (from cold nodes) against taken from the pool.
    use valkey_bdd::cluster::{Cluster, ClusterSpec};
    use valkey_bdd::reuse::cluster::{self as clusters, ClusterBaseline};
    let started = Instant::now();
    let cluster = Cluster::start(ClusterSpec::new(3, 1))
        .await
        .expect("a cluster");
    let formed = started.elapsed();
    let baseline = ClusterBaseline::of(&cluster).await.expect("its baseline");
    assert!(
        clusters::give_back(cluster, baseline).await,
        "the reset verifies"
    );
    let mut taken = Vec::new();
    for n in 0..common::runs(20).min(20) {
        let started = Instant::now();
        let (cluster, baseline) = clusters::take(&path, 3, 1).await.expect("an idle cluster");
        let mut client = cluster.client().await.expect("a cluster client");
        client.run(&format!("SET k{n} v")).await.expect("SET");
        taken.push(started.elapsed());
        drop(client);
        assert!(
            clusters::give_back(cluster, baseline).await,
            "the reset verifies"
        );
    }
    let taken = describe("reused 3x1 cluster: take → SET", taken);
    common::row(
        "reused 3x1 cluster: take → SET",
        &show(taken),
        &format!("target ≤ 100 ms; formed cold {} (measured)", show(formed)),
        Some(taken <= Duration::from_millis(100)),
    );
    println!(
        "a reused 3x1 cluster costs {:.1} ms (target ≤ 100 ms; formed cold: {:.0} ms)",
        taken.as_secs_f64() * 1e3,
        formed.as_secs_f64() * 1e3
    );
    reuse::drain().await;
}
