//! What TLS costs a scenario: the same work over plaintext TCP, TLS and
//! mutual TLS, through the engine.
//!
//! `cargo bench --bench tls` (runs: `VALKEY_BDD_BENCH_RUNS`, default 50).
//! Twins: a standalone scenario (start → a client connects → 20 commands →
//! stop) and a replication scenario (a primary and 1 replica form, the
//! replica caught up → stop). The target: TLS ≤ 1.5× plaintext.

use std::time::{Duration, Instant};

mod common;

use common::describe;
use valkey_bdd::replication::{ReplicaSet, ReplicaSetSpec};
use valkey_bdd::tls::{AuthClients, ServerTls};
use valkey_bdd::{Server, ServerBinary, ServerSpec};

#[derive(Clone, Copy)]
enum Kind {
    Plain,
    Tls,
    Mutual,
}

fn tls(kind: Kind) -> Option<ServerTls> {
    match kind {
        Kind::Plain => None,
        Kind::Tls => Some(ServerTls::new()),
        Kind::Mutual => Some(ServerTls::new().auth_clients(AuthClients::Yes)),
    }
}

async fn standalone(kind: Kind) -> Duration {
    let started = Instant::now();
    let mut spec = ServerSpec::new("bench");
    if let Some(t) = tls(kind) {
        spec = spec.tls(t);
    }
    let server = Server::start(spec).await.expect("start");
    let mut c = server
        .connect(&server.address(), None)
        .await
        .expect("connect");
    for i in 0..10 {
        c.run(&format!("SET key{i} value{i}")).await.expect("SET");
        c.run(&format!("GET key{i}")).await.expect("GET");
    }
    server.stop().await.expect("stop");
    let elapsed = started.elapsed();
    drop(server);
    elapsed
}

async fn replicated(kind: Kind) -> Duration {
    // Formation ends with the replica caught up; a write right after it can
    // wait up to a second for the replica's first acknowledgement (see the
    // README), which would drown what TLS costs.
    let started = Instant::now();
    let mut spec = ReplicaSetSpec::new(1);
    if let Some(t) = tls(kind) {
        spec = spec.tls(t);
    }
    let set = ReplicaSet::start(spec).await.expect("start");
    for s in set.servers() {
        s.stop().await.expect("stop");
    }
    let elapsed = started.elapsed();
    drop(set);
    elapsed
}

#[tokio::main]
async fn main() {
    let runs = common::runs(50);
    let binary = ServerBinary::resolve(None).await.expect("a server binary");
    println!("binary: {binary}");
    if !binary.supports_tls().await {
        println!("this binary was built without TLS: nothing to compare");
        return;
    }
    println!("runs:   {runs} of each, interleaved");
    // Warm up: the certificates are made once per run, here.
    standalone(Kind::Tls).await;
    replicated(Kind::Tls).await;
    let kinds = [
        (Kind::Plain, "plaintext"),
        (Kind::Tls, "TLS"),
        (Kind::Mutual, "mutual TLS"),
    ];
    for (name, twin) in [("standalone", 0), ("primary + 1 replica", 1)] {
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
        for _ in 0..runs {
            for (i, (kind, _)) in kinds.iter().enumerate() {
                samples[i].push(match twin {
                    0 => standalone(*kind).await,
                    _ => replicated(*kind).await,
                });
            }
        }
        println!("-- {name}");
        let medians: Vec<Duration> = samples
            .into_iter()
            .zip(kinds.iter())
            .map(|(s, (_, label))| describe(&format!("{name}, {label}"), s))
            .collect();
        for (m, (_, label)) in medians.iter().zip(kinds.iter()).skip(1) {
            println!(
                "{label} / plaintext: {:.2}× (target ≤ 1.50×)",
                m.as_secs_f64() / medians[0].as_secs_f64()
            );
        }
    }
}
