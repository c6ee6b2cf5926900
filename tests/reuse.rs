//! Reused servers are safe: the features run in random orders with reuse
//! give the verdicts they give cold, and a server whose reset cannot be
//! verified is stopped, not handed out again.

use std::collections::BTreeMap;
use std::path::PathBuf;

use valkey_bdd::info::Info;
use valkey_bdd::reuse::{self, Skip};
use valkey_bdd::runner::Verdict;
use valkey_bdd::{Reply, Runner, ServerSpec};

/// How long a probe of a port that should be closed may take to connect.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A small xorshift generator: the order must be reproducible from the
/// printed seed, nothing more.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Every feature file but the slow rebalance one and the modules' (which
/// build a module crate and never reuse: modules opt out).
fn feature_files() -> Vec<PathBuf> {
    let mut files = valkey_bdd::runner::select::feature_files("features".as_ref()).unwrap();
    files.retain(|f| {
        let s = f.to_string_lossy();
        !s.contains("resharding") && !s.contains("/modules/")
    });
    files
}

async fn verdicts(
    files: &[PathBuf],
    reuse: bool,
    concurrency: usize,
) -> (BTreeMap<String, String>, reuse::Counts) {
    let before = reuse::counts();
    let mut args = vec!["reuse".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let outcome = Runner::new("features")
        .paths_from_args()
        .args(args)
        .reuse(reuse)
        .concurrency(concurrency)
        // The order given is the shuffled one: keep it.
        .without_durations()
        .quiet()
        .run()
        .await
        .expect("the run starts");
    let after = reuse::counts();
    let verdicts = outcome
        .scenarios
        .iter()
        .map(|s| {
            let v = match &s.verdict {
                Verdict::Passed => "passed".to_string(),
                Verdict::Failed => format!(
                    "FAILED: {}",
                    s.failure.as_ref().map_or("?".into(), |f| f.message.clone())
                ),
                Verdict::Skipped(why) => format!("skipped: {why}"),
            };
            (s.place.clone(), v)
        })
        .collect();
    (
        verdicts,
        reuse::Counts {
            reused: after.reused - before.reused,
            returned: after.returned - before.returned,
            rejected: after.rejected - before.rejected,
        },
    )
}

/// The pool is the process's: one test at a time uses it.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_orders_with_reuse_give_the_cold_verdicts() {
    let _serial = SERIAL.lock().await;
    let files = feature_files();
    let (cold, counts) = verdicts(&files, false, 8).await;
    assert_eq!(counts.reused, 0, "a cold run reused servers");
    let first = std::env::var("VALKEY_BDD_REUSE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let mut total_reused = 0;
    for (round, concurrency) in [1usize, 3, 8].into_iter().enumerate() {
        let seed = first.wrapping_add(round as u64 * 0x9e37_79b9) | 1;
        let mut order = files.clone();
        Shuffle(seed).shuffle(&mut order);
        println!("seed {seed} (VALKEY_BDD_REUSE_SEED={seed}), {concurrency} at once");
        let (warm, counts) = verdicts(&order, true, concurrency).await;
        println!("  {counts:?}");
        total_reused += counts.reused;
        assert_eq!(counts.rejected, 0, "seed {seed}: a reset failed its check");
        let differ: Vec<String> = cold
            .iter()
            .filter(|(place, v)| warm.get(*place) != Some(*v))
            .map(|(place, v)| {
                format!(
                    "{place}: cold {v}, reused {}",
                    warm.get(place).map_or("not run", String::as_str)
                )
            })
            .collect();
        assert!(
            differ.is_empty(),
            "seed {seed}: verdicts differ with reuse:\n{}",
            differ.join("\n")
        );
        assert_eq!(warm.len(), cold.len(), "seed {seed}");
    }
    assert!(total_reused > 20, "only {total_reused} servers were reused");
}

/// Leaves real state behind that the (partial) reset does not undo: the
/// check catches it, and the server is stopped, its directory removed.
#[tokio::test]
async fn a_reset_that_does_not_verify_stops_the_server() {
    let _serial = SERIAL.lock().await;
    reuse::enable(4);
    let before = reuse::counts();

    // A full reset verifies: the server is pooled and handed out again,
    // empty, with its configuration back, and a log tail of its own.
    let (server, baseline) = reuse::start(ServerSpec::new("fresh")).await.unwrap();
    server.command("SET k v").await.unwrap();
    server.command("CONFIG SET maxmemory 1mb").await.unwrap();
    server
        .command("ACL SETUSER bob on >pw +@all ~*")
        .await
        .unwrap();
    let port = server.port();
    assert!(
        reuse::give_back(server, baseline).await,
        "a full reset verifies"
    );
    let binary = reuse::binary_of_run().expect("the run's binary");
    let (server, baseline) = reuse::take(&binary).expect("the server comes back");
    assert_eq!(server.port(), port);
    assert_eq!(server.command("DBSIZE").await.unwrap(), Reply::Integer(0));
    let maxmemory = server.command("CONFIG GET maxmemory").await.unwrap();
    assert_eq!(maxmemory.items().unwrap()[1], "0");
    assert!(
        !server.log_tail(100).contains("Ready to accept connections"),
        "the log tail of a reused server holds an earlier scenario's lines:\n{}",
        server.log_tail(100)
    );

    // A reset that leaves the configuration: stopped.
    server.command("CONFIG SET maxmemory 2mb").await.unwrap();
    let dir = server.dir().to_path_buf();
    assert!(
        !reuse::give_back_skipping(
            server,
            baseline,
            Skip {
                config: true,
                ..Skip::default()
            }
        )
        .await,
        "a server whose configuration differs from its baseline was pooled"
    );
    assert_eq!(reuse::idle(), 0);
    assert!(
        !dir.exists(),
        "the stopped server's directory is left: {}",
        dir.display()
    );
    assert!(
        valkey_bdd::Client::connect("probe", "127.0.0.1", port, PROBE_TIMEOUT)
            .await
            .is_err(),
        "the server still answers on port {port}"
    );

    // A reset that leaves the keys: stopped.
    let (server, baseline) = reuse::start(ServerSpec::new("data")).await.unwrap();
    server.command("SELECT 3").await.unwrap();
    server.command("SET k v").await.unwrap();
    assert!(
        !reuse::give_back_skipping(
            server,
            baseline,
            Skip {
                data: true,
                ..Skip::default()
            }
        )
        .await,
        "a server holding keys was pooled"
    );

    // A reset that leaves the count of changes since the last save (a fresh
    // server counts none): stopped.
    let (server, baseline) = reuse::start(ServerSpec::new("changes")).await.unwrap();
    server.command("SET k v").await.unwrap();
    assert!(
        !reuse::give_back_skipping(
            server,
            baseline,
            Skip {
                save: true,
                ..Skip::default()
            }
        )
        .await,
        "a server counting changes since its last save was pooled"
    );
    let after = reuse::counts();
    assert_eq!(after.rejected - before.rejected, 3);
    assert_eq!(after.returned - before.returned, 1);
    reuse::drain().await;
}

/// A formed 3×1 cluster goes back reset and checked, comes out again in
/// well under 100 ms, and one whose reset leaves keys is stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_cluster_is_reset_checked_and_cheap() {
    use valkey_bdd::cluster::{Cluster, ClusterSpec};
    use valkey_bdd::reuse::cluster::{self as clusters, ClusterBaseline};
    let _serial = SERIAL.lock().await;
    reuse::enable(4);
    let before = reuse::counts();
    let cluster = Cluster::start(ClusterSpec::new(3, 1)).await.unwrap();
    let baseline = ClusterBaseline::of(&cluster).await.unwrap();
    let mut client = cluster.client().await.unwrap();
    for k in ["a", "b", "c", "d"] {
        client.run(&format!("SET {k} v")).await.unwrap();
    }
    cluster.nodes()[0]
        .command("CONFIG SET maxmemory 5mb")
        .await
        .unwrap();
    drop(client);
    let ports: Vec<u16> = cluster.nodes().iter().map(|n| n.port()).collect();
    let started = std::time::Instant::now();
    assert!(
        clusters::give_back(cluster, baseline).await,
        "the reset verifies"
    );
    println!("reset and check of a 3x1 cluster: {:?}", started.elapsed());

    let binary = reuse::binary_of_run().unwrap();
    let started = std::time::Instant::now();
    let (cluster, baseline) = clusters::take(&binary, 3, 1).await.expect("it comes back");
    let mut client = cluster.client().await.unwrap();
    assert_eq!(
        client.run("SET x 1").await.unwrap(),
        Reply::Status("OK".into())
    );
    let cost = started.elapsed();
    println!("a reused 3x1 cluster, taken and written to: {cost:?} (target ≤ 100 ms)");
    assert!(cost < std::time::Duration::from_millis(100), "{cost:?}");
    assert_eq!(
        cluster.nodes().iter().map(|n| n.port()).collect::<Vec<_>>(),
        ports
    );
    for node in cluster.nodes() {
        let maxmemory = node.command("CONFIG GET maxmemory").await.unwrap();
        assert_eq!(maxmemory.items().unwrap()[1], "0", "{}", node.describe());
    }
    assert_eq!(client.run("GET a").await.unwrap(), Reply::Nil);
    drop(client);

    // Once more: primaries and replicas alike count no change since a save,
    // as when fresh (the writes before the reset are not counted).
    assert!(clusters::give_back(cluster, baseline).await);
    let (cluster, baseline) = clusters::take(&binary, 3, 1).await.expect("it comes back");
    for node in cluster.nodes() {
        assert_eq!(
            info_of(&node).await.get("rdb_changes_since_last_save"),
            Some("0"),
            "{}",
            node.describe()
        );
    }

    // Keys left behind: the check finds them, the cluster is stopped.
    let mut client = cluster.client().await.unwrap();
    client.run("SET k v").await.unwrap();
    drop(client);
    assert!(
        !clusters::give_back_skipping(
            cluster,
            baseline,
            Skip {
                data: true,
                ..Skip::default()
            }
        )
        .await,
        "a cluster holding a key was pooled"
    );
    assert_eq!(clusters::idle(), 0);
    for port in ports {
        assert!(
            valkey_bdd::Client::connect("probe", "127.0.0.1", port, PROBE_TIMEOUT)
                .await
                .is_err(),
            "a node of the rejected cluster still answers on port {port}"
        );
    }
    let after = reuse::counts();
    assert_eq!(after.rejected - before.rejected, 1);
    reuse::drain().await;
}

/// `INFO everything` of the server.
async fn info_of(server: &valkey_bdd::Server) -> Info {
    Info::fetch(server, "everything").await.unwrap()
}

/// `INFO` fields that differ between two reads of the same untouched server
/// (clocks, memory, CPU, rates) or count the harness's own traffic (its
/// probes and the reset's commands): what a scenario cannot hold still.
fn volatile(field: &str) -> bool {
    const VOLATILE: &[&str] = &[
        "uptime_",
        "lru_clock",
        "server_time_usec",
        "used_",
        "mem_",
        "allocator_",
        "rss_",
        "total_system_memory",
        "maxmemory_human",
        "lazyfree",
        "instantaneous_",
        "eventloop_",
        "total_net_",
        "total_reads_processed",
        "total_writes_processed",
        "total_connections_received",
        "total_commands_processed",
        "client_recent_max_",
        "cmdstat_",
        "latency_percentiles_usec_",
        "rdb_last_save_time",
        "expire_cycle_cpu_milliseconds",
        "io_threaded_",
        "reply_buffer_",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "expired_stale_perc",
    ];
    VOLATILE.iter().any(|p| field.starts_with(p))
}

/// A server used by a scenario, reset and handed out again, reads as a fresh
/// one: every `INFO` field a scenario could assert on has its fresh value
/// (a scenario asserting `rdb_changes_since_last_save` once saw the writes
/// of the scenario before it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_server_reads_as_a_fresh_one() {
    let _serial = SERIAL.lock().await;
    reuse::enable(4);
    let (server, baseline) = reuse::start(ServerSpec::new("fresh")).await.unwrap();
    let fresh = info_of(&server).await;
    let mut c = server.client().await.unwrap();
    for line in [
        "SET a 1",
        "INCR n",
        "EXPIRE a 100",
        "SET gone 1 PX 1",
        "LPUSH l x y z",
        "HSET h f v",
        "GET missing",
        "PUBLISH ch m",
        "EVAL \"return 1\" 0",
        "SELECT 2",
        "SET b 2",
        "CLIENT SETNAME user",
        "CONFIG SET maxmemory 100mb",
        "ACL SETUSER bob on >pw +@all ~*",
    ] {
        c.run(line).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let _ = c.run("GET gone").await.unwrap();
    drop(c);
    let port = server.port();
    assert!(
        reuse::give_back(server, baseline).await,
        "the reset verifies"
    );
    let binary = reuse::binary_of_run().unwrap();
    let (server, baseline) = reuse::take(&binary).expect("the server comes back");
    assert_eq!(server.port(), port);
    let reused = info_of(&server).await;
    let fields: std::collections::BTreeSet<&str> = fresh.fields().chain(reused.fields()).collect();
    let differ: Vec<String> = fields
        .into_iter()
        .filter(|k| !volatile(k))
        .filter(|k| fresh.get(k) != reused.get(k))
        .map(|k| format!("{k}: fresh {:?}, reused {:?}", fresh.get(k), reused.get(k)))
        .collect();
    assert!(
        differ.is_empty(),
        "a reused server's INFO differs from a fresh one's:\n{}",
        differ.join("\n")
    );
    assert!(reuse::give_back(server, baseline).await);
    reuse::drain().await;
}

/// A scenario reading `INFO` forms its own cluster: what forming leaves
/// (the count of full syncs) is not what a reused cluster's reset leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_reading_info_gets_a_freshly_formed_cluster() {
    let _serial = SERIAL.lock().await;
    let fixture = PathBuf::from("tests/fixtures/reuse/formation.feature");
    let (verdicts, counts) = verdicts(&[fixture], true, 1).await;
    assert_eq!(
        counts.returned, 1,
        "the first scenario's cluster was pooled"
    );
    assert_eq!(counts.reused, 0, "{verdicts:?}");
    assert!(verdicts.values().all(|v| v == "passed"), "{verdicts:#?}");
    reuse::drain().await;
}
