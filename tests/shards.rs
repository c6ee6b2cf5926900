//! The commands the book's CI examples run (docs/src/ci-and-shards.md), run here: the cucumber test
//! binary as 3 shard processes each writing its JUnit report, then
//! `valkey-bdd report merge`; `cargo nextest run --partition hash:i/2`; and
//! a `cargo nextest archive` run from another directory.
//!
//! These tests call cargo themselves (the cucumber binary is found through
//! `cargo nextest list`, which builds it when it is stale) on a subset of
//! the features, to stay cheap.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use valkey_bdd::runner::junit;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs cargo as a user would ([`common::cargo`]), failing when it fails.
fn cargo(args: &[&str], dir: &Path) -> Output {
    let out = cargo_with(args, dir, &[]);
    assert!(
        out.status.success(),
        "cargo {args:?} failed:\n{}",
        common::text(&out)
    );
    out
}

/// [`cargo`] with these variables set, whatever its status.
fn cargo_with(args: &[&str], dir: &Path, vars: &[(&str, &str)]) -> Output {
    let mut c = common::cargo();
    // The runs below choose their reports and servers themselves.
    for name in [
        "VALKEY_BDD_EXTERNAL",
        "VALKEY_BDD_REPORT",
        "VALKEY_BDD_JUNIT",
        "VALKEY_BDD_JSON",
        "NEXTEST_RUN_ID",
    ] {
        c.env_remove(name);
    }
    c.envs(vars.iter().copied())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
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
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // The whole selection and its three parts, run at once.
    let one = dir.path().join("one.xml");
    let parts: Vec<PathBuf> = (1..=3)
        .map(|i| dir.path().join(format!("shard-{i}.xml")))
        .collect();
    let mut runs: Vec<(Option<String>, &Path)> = vec![(None, &one)];
    for (i, part) in parts.iter().enumerate() {
        runs.push((Some(format!("{}/3", i + 1)), part));
    }
    let stderrs = common::at_once(runs, |(shard, report)| run(shard.as_deref(), report));
    let first_lines: Vec<String> = stderrs[1..]
        .iter()
        .map(|stderr| stderr.lines().next().unwrap_or("").to_string())
        .collect();
    let merge = |output: &Path, reports: &[&Path], extra: &[&str]| {
        Command::new(common::BIN)
            .args(["report", "merge", "-o"])
            .arg(output)
            .args(extra)
            .args(reports)
            .output()
            .unwrap()
    };
    let merged = dir.path().join("merged.xml");
    let all: Vec<&Path> = parts.iter().map(PathBuf::as_path).collect();
    let out = merge(&merged, &all, &[]);
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
    // The first line of each shard's output: its part and its count.
    for (i, line) in first_lines.iter().enumerate() {
        let want = format!(
            "valkey-bdd: shard {}/3 (--shard {}/3): {} of the selection's {} scenarios",
            i + 1,
            i + 1,
            counts[i],
            one.tests
        );
        assert_eq!(line, &want);
    }
    // The merged report's time is the run's, not 0.
    let longest = parts
        .iter()
        .map(|p| junit::read(p).unwrap().time.unwrap_or_default())
        .max()
        .unwrap();
    assert!(
        longest > std::time::Duration::from_millis(100),
        "{longest:?}"
    );
    assert_eq!(merged.time, Some(longest));

    // Two of three parts, a part twice, a report of another selection:
    // refused with status 2, naming what is wrong.
    let refused = |reports: &[&Path], says: &str| {
        let out = merge(&dir.path().join("refused.xml"), reports, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "wanted {says:?} in: {stderr}");
        assert!(!dir.path().join("refused.xml").exists());
    };
    refused(&all[..2], "part 3/3 of the selection of");
    refused(&[all[0], all[1], all[1]], "part 2/3 is given twice");
    let whole = dir.path().join("one.xml");
    refused(&[all[0], all[1], &whole], "are not parts of one run");
    // Allowed, a partial report says so in JUnit and HTML.
    let partial = dir.path().join("partial.xml");
    let html = dir.path().join("partial.html");
    let html_arg = html.to_str().unwrap();
    let out = merge(
        &partial,
        &all[..2],
        &["--allow-partial", "--html", html_arg],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("PARTIAL report") && stderr.contains("part 3/3"),
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&partial).unwrap();
    assert!(
        xml.contains(r#"name="valkey-bdd (partial: part 3/3"#),
        "{xml}"
    );
    assert!(xml.contains(r#"name="valkey-bdd.partial""#), "{xml}");
    let page = std::fs::read_to_string(&html).unwrap();
    // minijinja escapes the note's `/` as `&#x2f;`.
    assert!(
        page.contains(r#"id="partial"><strong>partial report:</strong> part 3&#x2f;3"#),
        "the HTML says partial"
    );
    assert_eq!(junit::read(&partial).unwrap().tests, counts[0] + counts[1]);
}

/// `--shard auto` refuses sources that disagree, naming both, and an
/// index beyond the total, named as the variable gave it.
#[test]
fn auto_shards_refuse_contradictions() {
    let binary = cucumber_binary();
    let run = |spec: &str, vars: &[(&str, &str)]| {
        let mut c = Command::new(&binary);
        for v in [
            "CI_NODE_INDEX",
            "CI_NODE_TOTAL",
            "BUILDKITE_PARALLEL_JOB",
            "BUILDKITE_PARALLEL_JOB_COUNT",
            "JOB_COMPLETION_INDEX",
        ] {
            c.env_remove(v);
        }
        let out = c
            .args(["--list", "--shard", spec])
            .envs(vars.iter().copied())
            .current_dir(ROOT)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run("auto/4", &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("auto/") && err.contains("4 parts") && err.contains("CI_NODE_TOTAL=3"),
        "{err}"
    );
    let (code, err) = run("auto/3", &[("JOB_COMPLETION_INDEX", "3")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("JOB_COMPLETION_INDEX=3"), "{err}");
    assert!(!err.contains("part 4 of 3"), "{err}");
    let (code, err) = run("auto/3", &[("JOB_COMPLETION_INDEX", "2")]);
    assert_eq!(code, Some(0), "{err}");
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

/// A subset of the suite: streams, a feature whose scenarios share a
/// server (one test, never split), and the servos' scenarios, each a test
/// per implementation of its role (names with brackets and commas).
const FILTER: &str =
    "test(~features/streams/) | test(~rfc17_shared_server) | test(~features/servos/)";

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
            && listed.contains("features/standalone/rfc17_shared_server.feature: (whole feature)")
            && listed.contains(
                "features/servos/servos.feature: a servo writes to the scenario's server with its own client [app=plain]"
            ),
        "{listed:?}"
    );
    let mut union = Vec::new();
    let partitions = ["hash:1/2", "hash:2/2"];
    let runs = common::at_once(partitions, |part| {
        cargo(
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
        )
    });
    for (part, out) in partitions.into_iter().zip(runs) {
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

/// Names of the tests nextest reports with this status (`PASS`, `SKIP`,
/// `FAIL`).
fn with_status(out: &Output, status: &str) -> BTreeSet<String> {
    let text = String::from_utf8_lossy(&out.stderr);
    let re = regex::Regex::new(&format!(
        r"^\s*{status} \[[^\]]*\](?: \([^)]*\))? valkey-bdd::cucumber (.+)$"
    ))
    .unwrap();
    text.lines()
        .filter_map(|l| re.captures(l).map(|c| c[1].trim().to_string()))
        .collect()
}

/// The test names of a report's cases with this verdict.
fn tests_with(r: &junit::Report, verdict: &str) -> BTreeSet<String> {
    r.test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .filter(|c| {
            matches!(
                (&c.status, verdict),
                (quick_junit::TestCaseStatus::Success { .. }, "passed")
                    | (quick_junit::TestCaseStatus::Skipped { .. }, "skipped")
                    | (quick_junit::TestCaseStatus::NonSuccess { .. }, "failed")
            )
        })
        .filter_map(|c| {
            c.properties
                .iter()
                .find(|p| p.name.as_str() == "valkey-bdd.test")
                .map(|p| p.value.as_str().to_string())
        })
        .collect()
}

/// How many scenarios an HTML report shows.
fn html_scenarios(path: &Path) -> usize {
    let page = std::fs::read_to_string(path).unwrap();
    let data = page
        .split(r#"<script type="application/json" id="valkey-bdd-data">"#)
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap_or_else(|| panic!("no data in {}", path.display()));
    serde_json::from_str::<Vec<serde_json::Value>>(data)
        .unwrap()
        .len()
}

fn on_path(program: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
}

/// Under nextest, a scenario whose capability tag the binary does not meet
/// is SKIP, not PASS (`--list --ignored` names it); run anyway
/// (`--run-ignored`), it fails saying it was skipped. The run's processes
/// write one HTML and one JUnit report of the whole run, not each its own
/// over the last.
#[test]
fn nextest_skips_an_unmet_capability_and_never_passes_a_skip() {
    let root = Path::new(ROOT);
    let dir = tempfile::tempdir().unwrap();
    let (html, xml) = (dir.path().join("run.html"), dir.path().join("run.xml"));
    let redis = on_path("redis-server");
    let vars = [
        ("VALKEY_SERVER_PATH", redis.to_str().unwrap()),
        ("VALKEY_BDD_REPORT", html.to_str().unwrap()),
        ("VALKEY_BDD_JUNIT", xml.to_str().unwrap()),
    ];
    let filter = "test(~features/concurrency/client_states)";
    let args = [
        "nextest",
        "run",
        "--test",
        "cucumber",
        "-E",
        filter,
        "--no-fail-fast",
        "--status-level",
        "all",
    ];
    let out = cargo_with(&args, root, &vars);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // redis-server 7.0.15 is older than the @min-version:7.4 scenario.
    let watches = "features/concurrency/client_states.feature: Alice watches two keys; Bob's write dooms her transaction";
    let skipped: BTreeSet<String> = with_status(&out, "SKIP")
        .into_iter()
        .filter(|n| n.starts_with("features/concurrency/client_states"))
        .collect();
    assert_eq!(skipped, BTreeSet::from([watches.to_string()]), "{stderr}");
    let passed = with_status(&out, "PASS");
    assert_eq!(passed.len(), 2, "{stderr}");
    // One report of the run: both processes' scenarios.
    assert_eq!(tests_with(&junit::read(&xml).unwrap(), "passed"), passed);
    assert_eq!(html_scenarios(&html), 2);

    let mut ignored = args.to_vec();
    ignored.extend(["--run-ignored", "only"]);
    let out = cargo_with(&ignored, root, &vars);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert_eq!(
        with_status(&out, "FAIL"),
        BTreeSet::from([watches.to_string()]),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped at run time") && stderr.contains("older than 7.4"),
        "{stderr}"
    );
}

/// A plain server started here, as a user's deployment.
struct Deployed {
    child: std::process::Child,
    port: u16,
    _lease: valkey_bdd::ports::PortLease,
    _dir: tempfile::TempDir,
}

impl Drop for Deployed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Under nextest against an external server, what the run would skip there
/// is SKIP, and the rest passes: the same split as a run of the binary.
#[test]
fn nextest_against_an_external_server_skips_what_a_run_skips() {
    let root = Path::new(ROOT);
    let dir = tempfile::tempdir().unwrap();
    let lease = valkey_bdd::ports::lease().unwrap();
    let port = lease.port();
    let child = Command::new("valkey-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Deployed {
        child,
        port,
        _lease: lease,
        _dir: dir,
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", server.port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let url = format!("redis://127.0.0.1:{}", server.port);
    let reports = tempfile::tempdir().unwrap();
    let xml = reports.path().join("run.xml");
    let vars = [
        ("VALKEY_BDD_EXTERNAL", url.as_str()),
        ("VALKEY_BDD_EXTERNAL_FLUSH", "1"),
    ];
    let out = cargo_with(
        &[
            "nextest",
            "run",
            "--test",
            "cucumber",
            "-E",
            "test(~features/standalone/errors) | test(~features/standalone/persistence)",
            "--test-threads",
            "1",
            "--no-fail-fast",
            "--status-level",
            "all",
        ],
        root,
        &vars,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let passed = with_status(&out, "PASS");
    let skipped: BTreeSet<String> = with_status(&out, "SKIP")
        .into_iter()
        .filter(|n| {
            n.starts_with("features/standalone/errors")
                || n.starts_with("features/standalone/persistence")
        })
        .collect();
    // The binary run alone, against the same server.
    let run = Command::new(cucumber_binary())
        .args([
            "features/standalone/errors",
            "features/standalone/persistence",
        ])
        .envs(vars)
        .env("VALKEY_BDD_JUNIT", &xml)
        .env_remove("NEXTEST_RUN_ID")
        .current_dir(ROOT)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = junit::read(&xml).unwrap();
    assert!(!skipped.is_empty() && !passed.is_empty(), "{stderr}");
    assert_eq!(skipped, tests_with(&report, "skipped"), "{stderr}");
    assert_eq!(passed, tests_with(&report, "passed"), "{stderr}");
}
