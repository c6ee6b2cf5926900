//! `VALKEY_BDD_EXTERNAL`: the suite against servers the harness did not
//! start. A plain `valkey-server` and a 3-shard cluster formed with
//! `valkey-cli --cluster create` — started here, as a user's script would —
//! pass the standalone, streams, concurrency and cluster-routing scenarios
//! that apply; every other one is skipped with its reason, in the summary
//! and in the JUnit report. Without a flush, the databases holding keys are
//! left alone, and the server is left as found: keys, functions, scripts,
//! configuration, slow log.
//!
//! Each run is a child process of this test binary (`child_process_entry`):
//! the setting is read from the environment, which tests in one process
//! share.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use valkey_bdd::Runner;
use valkey_bdd::runner::Verdict;
use valkey_bdd::settings::KeepPolicy;

/// Servers started the way a user's script would; killed when dropped,
/// a failing assertion included.
struct Deployment {
    children: Vec<Child>,
    ports: Vec<u16>,
    // The harness's port leases keep other test processes off these ports.
    _leases: Vec<valkey_bdd::ports::PortLease>,
    _dir: tempfile::TempDir,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Deployment {
    fn start(nodes: usize, extra: &[&str]) -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        let mut d = Deployment {
            children: Vec::new(),
            ports: Vec::new(),
            _leases: Vec::new(),
            _dir: dir,
        };
        for i in 0..nodes {
            let lease = valkey_bdd::ports::lease().unwrap();
            let port = lease.port();
            let node_dir = d._dir.path().join(format!("node{i}"));
            std::fs::create_dir(&node_dir).unwrap();
            let log = std::fs::File::create(node_dir.join("server.log")).unwrap();
            let child = Command::new("valkey-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(extra)
                .current_dir(&node_dir)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            d.children.push(child);
            d.ports.push(port);
            d._leases.push(lease);
        }
        for port in &d.ports {
            wait_for(
                || cli(*port, &["PING"]) == "PONG",
                &format!("port {port} to answer"),
            );
        }
        d
    }

    fn standalone() -> Deployment {
        Deployment::start(1, &["--enable-debug-command", "yes"])
    }

    fn cluster() -> Deployment {
        let d = Deployment::start(
            3,
            &[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
            ],
        );
        let nodes: Vec<String> = d.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let out = Command::new("valkey-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .arg("--cluster-yes")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        for port in &d.ports {
            wait_for(
                || cli(*port, &["CLUSTER", "INFO"]).contains("cluster_state:ok"),
                &format!("node {port} to report cluster_state:ok"),
            );
        }
        d
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.ports[0])
    }
}

fn cli(port: u16, args: &[&str]) -> String {
    Command::new("valkey-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn wait_for(ok: impl Fn() -> bool, what: &str) {
    let started = Instant::now();
    while !ok() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "waited 20 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The child's part: runs the features named by `VALKEY_BDD_TEST_CHILD`
/// (`path,path`) and prints each scenario's verdict; does nothing in a
/// normal run.
#[tokio::test]
async fn child_process_entry() {
    let Ok(paths) = std::env::var("VALKEY_BDD_TEST_CHILD") else {
        return;
    };
    // One glob: cucumber takes `-i` once.
    let globs: Vec<String> = paths
        .split(',')
        .map(|p| {
            if p.ends_with(".feature") {
                p.to_string()
            } else {
                format!("{p}/*.feature")
            }
        })
        .collect();
    let glob = format!("{{{}}}", globs.join(","));
    let args = ["external", "-i", &glob];
    let root = std::env::var("VALKEY_BDD_TEST_ROOT").unwrap();
    match Runner::new("features")
        .args(args)
        .keep(KeepPolicy::Never)
        .tmp_root(root)
        .run()
        .await
    {
        Ok(o) => {
            for s in &o.scenarios {
                let verdict = match &s.verdict {
                    Verdict::Passed => "passed".to_string(),
                    Verdict::Failed => format!("FAILED {:?}", s.failure),
                    Verdict::Skipped(why) => format!("skipped: {why}"),
                };
                println!("SCENARIO {} | {verdict}", s.place);
            }
            println!("OUTCOME failed={}", o.failed);
        }
        Err(e) => println!("ERROR {e}"),
    }
}

/// Runs the child on `inputs` (folders or feature files) against `external`, with extra variables.
fn run(
    inputs: &[&str],
    external: &str,
    env: &[(&str, &str)],
) -> (String, PathBuf, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("junit.xml");
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let mut c = common::this_test("child_process_entry");
    c.env("VALKEY_BDD_TEST_CHILD", inputs.join(","))
        .env("VALKEY_BDD_TEST_ROOT", &root)
        .env("VALKEY_BDD_EXTERNAL", external)
        .env("VALKEY_BDD_JUNIT", &junit)
        .env_remove("VALKEY_BDD_EXTERNAL_FLUSH")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let text = common::text(&out);
    // Shown when the test fails (or under --nocapture).
    println!("{text}");
    assert_eq!(
        std::fs::read_dir(&root).unwrap().count(),
        0,
        "nothing left behind:\n{text}"
    );
    (text, junit, tmp)
}

fn verdict<'a>(text: &'a str, place: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("SCENARIO {place} | ")))
        .unwrap_or_else(|| panic!("no verdict for {place}:\n{text}"))
}

#[test]
fn a_plain_server_passes_what_applies_and_skips_the_rest_with_reasons() {
    let server = Deployment::standalone();
    let (text, junit, _tmp) = run(
        &[
            "features/standalone",
            "features/streams",
            "features/concurrency",
            "tests/fixtures/external",
        ],
        &server.url(),
        &[("VALKEY_BDD_EXTERNAL_FLUSH", "1")],
    );
    assert!(text.contains("OUTCOME failed=false"), "{text}");
    assert!(!text.contains("| FAILED"), "{text}");
    assert!(text.contains("scenarios run one at a time"), "{text}");
    // Ran against the external server.
    for place in [
        "features/standalone/data_types.feature:8",
        "features/streams/basics.feature:6",
        "features/streams/drain.feature:7",
        "features/streams/groups.feature:45",
        "features/concurrency/blocking.feature:6",
        "features/concurrency/transactions.feature:5",
        "features/concurrency/holding.feature:17",
        "tests/fixtures/external/tags.feature:3",
    ] {
        assert_eq!(verdict(&text, place), "passed", "{place}:\n{text}");
    }
    // Skipped, each with the reason.
    for (place, why) in [
        (
            "features/standalone/lifecycle.feature:13",
            "checks a server's process",
        ),
        (
            "features/standalone/lifecycle.feature:3",
            "starts a server that is expected to fail",
        ),
        (
            "features/standalone/persistence.feature:22",
            "its own configuration",
        ),
        (
            "features/standalone/rfc17_shared_server.feature:7",
            "shares a server",
        ),
        (
            "features/concurrency/blocking.feature:41",
            "sets up or checks replicas",
        ),
        (
            "features/concurrency/holding.feature:54",
            "freezes a server's process",
        ),
        (
            "tests/fixtures/external/tags.feature:9",
            "tagged @external:skip",
        ),
        (
            "tests/fixtures/external/tags.feature:14",
            "tagged @needs:repl",
        ),
    ] {
        let v = verdict(&text, place);
        assert!(
            v.starts_with("skipped: external server: ") && v.contains(why),
            "{place}: {v}\n{text}"
        );
    }
    // The summary and the JUnit report show every skip with its reason.
    let skipped = text.lines().filter(|l| l.contains("| skipped: ")).count();
    assert!(skipped >= 8, "{text}");
    assert!(text.contains("tagged @external:skip"), "{text}");
    let xml = std::fs::read_to_string(junit).unwrap();
    assert_eq!(
        xml.matches("<skipped").count(),
        skipped,
        "every skip in the JUnit report:\n{xml}"
    );
    assert!(xml.contains("external server: step"), "{xml}");
    // Nothing of the scenarios is left in the server: the last one ran
    // (and left a key), then the run emptied the server.
    assert_eq!(
        verdict(&text, "tests/fixtures/external/zz_last.feature:5"),
        "passed",
        "{text}"
    );
    assert_eq!(cli(server.ports[0], &["DBSIZE"]), "0");
}

#[test]
fn a_cluster_formed_by_valkey_cli_passes_the_routing_scenarios_that_apply() {
    let cluster = Deployment::cluster();
    let (text, junit, _tmp) = run(
        &[
            "features/cluster",
            "features/standalone/data_types.feature",
            "tests/fixtures/external",
        ],
        &format!("cluster:{}", cluster.url()),
        &[("VALKEY_BDD_EXTERNAL_FLUSH", "1")],
    );
    assert!(text.contains("OUTCOME failed=false"), "{text}");
    assert!(text.contains("3 node(s)"), "{text}");
    for place in [
        "features/cluster/slots.feature:8",
        "features/cluster/slots.feature:20",
    ] {
        assert_eq!(verdict(&text, place), "passed", "{place}:\n{text}");
    }
    for (place, why) in [
        (
            "features/cluster/slots.feature:28",
            "changes the cluster's slot map",
        ),
        (
            "features/cluster/formation.feature:8",
            "the external cluster has 3 shard(s) with 0 replica(s) each",
        ),
        ("features/cluster/formation.feature:24", "needs 1 shard(s)"),
        (
            "features/standalone/data_types.feature:8",
            "needs a standalone server",
        ),
        (
            "tests/fixtures/external/tags.feature:18",
            "tagged @cluster:skip",
        ),
    ] {
        let v = verdict(&text, place);
        assert!(
            v.starts_with("skipped: external server: ") && v.contains(why),
            "{place}: {v}\n{text}"
        );
    }
    let xml = std::fs::read_to_string(junit).unwrap();
    assert!(xml.contains("tagged @cluster:skip"), "{xml}");
    // The routing scenarios wrote keys; the run emptied every node after.
    for port in &cluster.ports {
        assert_eq!(cli(*port, &["DBSIZE"]), "0", "node {port}");
    }
}

#[test]
fn databases_with_keys_are_kept_off_or_flushed_and_a_server_with_no_free_one_is_refused() {
    let server = Deployment::standalone();
    assert_eq!(
        cli(server.ports[0], &["-n", "3", "SET", "precious", "data"]),
        "OK"
    );
    let inputs = ["features/standalone/data_types.feature"];
    // db3 is the server's own: the scenarios use db0 and leave db3 alone.
    let (text, _, _tmp) = run(&inputs, &server.url(), &[]);
    assert!(text.contains("OUTCOME failed=false"), "{text}");
    assert!(
        text.contains("database 3 holds keys: scenarios use database 0"),
        "{text}"
    );
    assert_eq!(
        cli(server.ports[0], &["-n", "3", "GET", "precious"]),
        "data"
    );
    assert_eq!(
        cli(server.ports[0], &["INFO", "keyspace"]).lines().count(),
        2
    );
    let (text, _, _tmp) = run(
        &inputs,
        &server.url(),
        &[("VALKEY_BDD_EXTERNAL_FLUSH", "1")],
    );
    assert!(text.contains("OUTCOME failed=false"), "{text}");
    assert_eq!(cli(server.ports[0], &["-n", "3", "DBSIZE"]), "0");
    // One database, holding keys: nowhere to go without a flush.
    let full = Deployment::start(1, &["--databases", "1"]);
    assert_eq!(cli(full.ports[0], &["SET", "precious", "data"]), "OK");
    let (text, _, _tmp) = run(&inputs, &full.url(), &[]);
    assert!(
        text.contains(&format!(
            "ERROR bad configuration: the external server {} is not empty when the run starts: 127.0.0.1:{} db0: 1 keys; no database is empty",
            full.url(),
            full.ports[0]
        )) && text.contains("VALKEY_BDD_EXTERNAL_FLUSH=1"),
        "{text}"
    );
    assert!(!text.contains("SCENARIO"), "nothing ran:\n{text}");
    assert_eq!(cli(full.ports[0], &["GET", "precious"]), "data");
    // A URL that is none stops the run before anything starts.
    let (text, _, _tmp) = run(&inputs, "localhost:6379", &[]);
    assert!(
        text.contains(
            "VALKEY_BDD_EXTERNAL=\"localhost:6379\": the URL must start with redis:// or rediss://"
        ),
        "{text}"
    );
}

/// What a user would check of their server: its keys (with values), its
/// functions, a script it cached, its configuration, its slow log, whether
/// it takes writes, and that nobody else is connected.
#[derive(Debug, PartialEq)]
struct Found {
    keyspace: String,
    keys: String,
    functions: String,
    script: String,
    config: String,
    slowlog: String,
}

fn found(port: u16, sha: &str) -> Found {
    // A paused server holds this write until the pause ends.
    let write = Command::new("timeout")
        .args(["5", "valkey-cli", "-p", &port.to_string()])
        .args(["SET", "user:key", "precious"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&write.stdout).trim(),
        "OK",
        "the server takes writes: {write:?}"
    );
    wait_for(
        || cli(port, &["INFO", "clients"]).contains("connected_clients:1\r"),
        "the run's connections to be gone",
    );
    let keyspace = cli(port, &["INFO", "keyspace"]);
    let mut keys = String::new();
    for line in keyspace.lines().filter(|l| l.starts_with("db")) {
        let db = line.split(':').next().unwrap().trim_start_matches("db");
        for key in cli(port, &["-n", db, "KEYS", "*"]).lines() {
            let value = cli(port, &["-n", db, "DUMP", key]);
            keys.push_str(&format!("db{db} {key} {value:?}\n"));
        }
    }
    Found {
        keyspace,
        keys,
        functions: cli(port, &["FUNCTION", "LIST", "WITHCODE"]),
        script: cli(port, &["SCRIPT", "EXISTS", sha]),
        config: cli(port, &["CONFIG", "GET", "*"]),
        slowlog: cli(port, &["SLOWLOG", "GET", "-1"]),
    }
}

#[test]
fn without_flush_a_run_leaves_the_server_as_it_found_it() {
    let server = Deployment::standalone();
    let port = server.ports[0];
    // The user's own: a key, a function library, a cached script, an entry
    // in the slow log.
    assert_eq!(cli(port, &["SET", "user:key", "precious"]), "OK");
    assert_eq!(
        cli(
            port,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=userlib\nredis.register_function('userfn', function() return 'theirs' end)",
            ],
        ),
        "userlib"
    );
    let sha = cli(port, &["SCRIPT", "LOAD", "return 'theirs'"]);
    assert_eq!(
        cli(port, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        "OK"
    );
    assert_eq!(cli(port, &["GET", "user:key"]), "precious");
    assert_eq!(
        cli(port, &["CONFIG", "SET", "slowlog-log-slower-than", "10000"]),
        "OK"
    );
    let before = found(port, &sha);
    assert_eq!(before.script, "1");
    assert!(before.slowlog.contains("user:key"), "{before:?}");
    for round in 1..=2 {
        let (text, _, _tmp) = run(
            &[
                "features/standalone",
                "features/streams",
                "tests/fixtures/external",
            ],
            &server.url(),
            &[],
        );
        assert!(
            text.contains("OUTCOME failed=false"),
            "round {round}:\n{text}"
        );
        assert!(!text.contains("| FAILED"), "round {round}:\n{text}");
        assert!(
            text.contains("database 0 holds keys: scenarios use database 1"),
            "round {round}:\n{text}"
        );
        for place in [
            "features/standalone/data_types.feature:8",
            "features/streams/basics.feature:6",
            "features/streams/groups.feature:45",
            "tests/fixtures/external/lasting.feature:5",
            "tests/fixtures/external/lasting.feature:12",
            "tests/fixtures/external/lasting.feature:24",
            "tests/fixtures/external/lasting.feature:29",
            "tests/fixtures/external/zz_last.feature:5",
        ] {
            assert_eq!(
                verdict(&text, place),
                "passed",
                "round {round}, {place}:\n{text}"
            );
        }
        for (place, why) in [
            (
                "tests/fixtures/external/lasting.feature:18",
                "caches scripts of its own",
            ),
            (
                "tests/fixtures/external/lasting.feature:34",
                "the server marks @admin",
            ),
            (
                "tests/fixtures/external/lasting.feature:39",
                "names a database",
            ),
        ] {
            let v = verdict(&text, place);
            assert!(
                v.starts_with("skipped: external server: ") && v.contains(why),
                "round {round}, {place}: {v}\n{text}"
            );
        }
        let after = found(port, &sha);
        // Newest first: what the slow log held is still its tail.
        assert!(
            after.slowlog.ends_with(&before.slowlog),
            "round {round}: the slow log lost entries:\n{}\nbefore:\n{}",
            after.slowlog,
            before.slowlog
        );
        assert_eq!(
            Found {
                slowlog: before.slowlog.clone(),
                ..after
            },
            before,
            "round {round}:\n{text}"
        );
    }
}

#[test]
fn an_empty_server_is_left_empty_run_after_run_with_or_without_flush() {
    let server = Deployment::standalone();
    let port = server.ports[0];
    for (round, flush) in [(1, "0"), (2, "0"), (3, "1"), (4, "1")] {
        let (text, _, _tmp) = run(
            &[
                "features/standalone",
                "features/streams",
                "tests/fixtures/external",
            ],
            &server.url(),
            &[("VALKEY_BDD_EXTERNAL_FLUSH", flush)],
        );
        assert!(
            text.contains("OUTCOME failed=false"),
            "round {round}:\n{text}"
        );
        assert!(!text.contains("| FAILED"), "round {round}:\n{text}");
        // Nothing of the server's own: every database is the run's, and
        // the script cache too.
        for place in [
            "tests/fixtures/external/lasting.feature:5",
            "tests/fixtures/external/lasting.feature:18",
            "tests/fixtures/external/lasting.feature:39",
            "tests/fixtures/external/zz_last.feature:5",
        ] {
            assert_eq!(
                verdict(&text, place),
                "passed",
                "round {round}, {place}:\n{text}"
            );
        }
        assert_eq!(
            cli(port, &["INFO", "keyspace"]),
            "# Keyspace",
            "round {round}"
        );
        assert_eq!(cli(port, &["FUNCTION", "LIST"]), "", "round {round}");
        assert!(
            cli(port, &["INFO", "memory"]).contains("number_of_cached_scripts:0"),
            "round {round}"
        );
    }
}
