//! The commands the README's CI examples run, run here: the cucumber test
//! binary as 3 shard processes each writing its JUnit report, then
//! `valkey-bdd report merge`; `cargo nextest run --partition hash:i/2`; and
//! a `cargo nextest archive` run from another directory.
//!
//! These tests call cargo themselves (the cucumber binary is found through
//! `cargo nextest list`, which builds it when it is stale) on a subset of
//! the features, to stay cheap.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use valkey_bdd::runner::junit;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs cargo as a user would: without the variables cargo sets for the
/// test that runs it (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ...), which
/// build scripts watch (ring's does): with them, the nested build would
/// rebuild the dependencies, and the next `cargo test` rebuild them back.
fn cargo(args: &[&str], dir: &Path) -> Output {
    let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let user_config = [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_",
            "CARGO_TERM_",
            "CARGO_NET_",
            "CARGO_HTTP_",
            "CARGO_REGISTR",
            "CARGO_PROFILE_",
            "CARGO_INCREMENTAL",
        ]
        .iter()
        .any(|p| name.starts_with(p));
        if name.starts_with("CARGO_") && !user_config {
            c.env_remove(name);
        }
    }
    let out = c
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The cucumber test binary, as nextest finds (and, when stale, builds) it.
fn cucumber_binary() -> PathBuf {
    let out = cargo(
        &[
            "nextest",
            "list",
            "--test",
            "cucumber",
            "--list-type",
            "binaries-only",
            "--message-format",
            "json",
        ],
        Path::new(ROOT),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    PathBuf::from(
        v["rust-binaries"]["valkey-bdd::cucumber"]["binary-path"]
            .as_str()
            .unwrap(),
    )
}

/// (test name, verdict) of every test case of a report.
fn verdicts(r: &junit::Report) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .map(|c| {
            let status = match &c.status {
                quick_junit::TestCaseStatus::Success { .. } => "passed",
                quick_junit::TestCaseStatus::NonSuccess { .. } => "failed",
                quick_junit::TestCaseStatus::Skipped { .. } => "skipped",
            };
            (c.name.as_str().to_string(), status.to_string())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn three_shard_processes_merge_into_the_report_of_one_run() {
    let binary = cucumber_binary();
    let dir = tempfile::tempdir().unwrap();
    let run = |shard: Option<&str>, report: &Path| {
        let mut c = Command::new(&binary);
        c.arg("features/standalone")
            .current_dir(ROOT)
            .env("VALKEY_BDD_JUNIT", report)
            .env_remove("VALKEY_BDD_EXTERNAL")
            .stdin(Stdio::null());
        if let Some(s) = shard {
            c.args(["--shard", s]);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{shard:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let one = dir.path().join("one.xml");
    run(None, &one);
    let mut parts = Vec::new();
    for i in 1..=3 {
        let part = dir.path().join(format!("shard-{i}.xml"));
        run(Some(&format!("{i}/3")), &part);
        parts.push(part);
    }
    let merged = dir.path().join("merged.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_valkey-bdd"))
        .args(["report", "merge", "-o"])
        .arg(&merged)
        .args(&parts)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let one = junit::read(&one).unwrap();
    let merged = junit::read(&merged).unwrap();
    assert!(
        one.tests > 20,
        "the subset is worth sharding: {}",
        one.tests
    );
    assert_eq!(verdicts(&merged), verdicts(&one));
    // No overlap: the shards' test counts add up to one run's.
    let counts: Vec<usize> = parts
        .iter()
        .map(|p| junit::read(p).unwrap().tests)
        .collect();
    assert!(counts.iter().all(|n| *n > 0), "{counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), one.tests, "{counts:?}");
}

/// Names of the tests nextest reports as passed.
fn passed(out: &Output) -> Vec<String> {
    let text = String::from_utf8_lossy(&out.stderr);
    let re =
        regex::Regex::new(r"^\s*PASS \[[^\]]*\](?: \(\s*\d+/\d+\))? valkey-bdd::cucumber (.+)$")
            .unwrap();
    text.lines()
        .filter_map(|l| re.captures(l).map(|c| c[1].trim().to_string()))
        .collect()
}

/// A subset of the suite: streams, and a feature whose scenarios share a
/// server (one test, never split).
const FILTER: &str = "test(~features/streams/) | test(~rfc17_shared_server)";

#[test]
fn nextest_partitions_run_every_scenario_once_and_an_archive_runs_elsewhere() {
    let root = Path::new(ROOT);
    let listed = cargo(
        &[
            "nextest",
            "list",
            "--test",
            "cucumber",
            "-E",
            FILTER,
            "--message-format",
            "oneline",
        ],
        root,
    );
    let listed: BTreeSet<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("valkey-bdd::cucumber "))
        .map(str::to_string)
        .collect();
    assert!(
        listed.len() > 10
            && listed.contains("features/standalone/rfc17_shared_server.feature: (whole feature)"),
        "{listed:?}"
    );
    let mut union = Vec::new();
    for part in ["hash:1/2", "hash:2/2"] {
        let out = cargo(
            &[
                "nextest",
                "run",
                "--test",
                "cucumber",
                "-E",
                FILTER,
                "--partition",
                part,
                "--no-fail-fast",
            ],
            root,
        );
        let ran = passed(&out);
        assert!(
            !ran.is_empty(),
            "{part} ran nothing:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        union.extend(ran);
    }
    union.sort();
    let once: BTreeSet<String> = union.iter().cloned().collect();
    assert_eq!(union.len(), once.len(), "a scenario ran twice: {union:?}");
    assert_eq!(once, listed, "every scenario ran once");

    // An archive made here runs from another directory, the checkout
    // remapped (the features are read from there).
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("cucumber.tar.zst");
    cargo(
        &[
            "nextest",
            "archive",
            "--test",
            "cucumber",
            "--archive-file",
            archive.to_str().unwrap(),
        ],
        root,
    );
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let out = cargo(
        &[
            "nextest",
            "run",
            "--archive-file",
            archive.to_str().unwrap(),
            "--workspace-remap",
            ROOT,
            "-E",
            FILTER,
        ],
        &elsewhere,
    );
    let ran: BTreeSet<String> = passed(&out).into_iter().collect();
    assert_eq!(ran, listed, "{}", String::from_utf8_lossy(&out.stderr));
}
