//! The runner: what it keeps, what it reports, what fails a run.

mod common;

use valkey_bdd::cucumber::when;
use valkey_bdd::settings::KeepPolicy;
use valkey_bdd::{Runner, ValkeyWorld};

use common::entries;

#[when(regex = r#"^server "([^"]+)" gets SIGSEGV from outside$"#)]
async fn segv(w: &mut ValkeyWorld, name: String) -> valkey_bdd::Result<()> {
    let server = w.server(Some(&name))?.clone();
    server.signal(nix::sys::signal::Signal::SIGSEGV).await
}

#[tokio::test]
async fn a_failed_scenario_keeps_its_directory_and_a_passed_one_does_not() {
    let root = tempfile::tempdir().unwrap();
    let outcome = common::run_here(
        "tests/fixtures/keep",
        "runner",
        KeepPolicy::Failed,
        root.path(),
    )
    .await;
    assert!(outcome.failed);
    assert_eq!(outcome.failed_steps, 1);
    assert_eq!(outcome.kept.len(), 1, "{outcome:?}");
    let kept = &outcome.kept[0];
    // The failing scenario is on line 8 of the fixture.
    assert!(
        kept.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("valkey-bdd-keep-8-"),
        "{}",
        kept.display()
    );
    assert!(kept.join("default/server.log").exists());
    assert!(kept.join("default/valkey.conf").exists());
    assert_eq!(
        entries(root.path()).len(),
        1,
        "only the failed scenario's directory is left: {:?}",
        entries(root.path())
    );
}

#[tokio::test]
async fn keep_always_and_never() {
    for (policy, left) in [(KeepPolicy::Always, 2), (KeepPolicy::Never, 0)] {
        let root = tempfile::tempdir().unwrap();
        let outcome = common::run_here("tests/fixtures/keep", "runner", policy, root.path()).await;
        assert_eq!(outcome.kept.len(), left, "{policy:?}");
        assert_eq!(entries(root.path()).len(), left, "{policy:?}");
    }
}

#[tokio::test]
async fn the_junit_report_lists_every_scenario() {
    let root = tempfile::tempdir().unwrap();
    let report = root.path().join("reports/junit.xml");
    Runner::new("tests/fixtures/keep")
        .args(["runner"])
        .keep(KeepPolicy::Never)
        .junit(&report)
        .quiet()
        .run()
        .await
        .unwrap();
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"tests="2""#) && xml.contains(r#"failures="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="passes""#) && xml.contains(r#"<testcase name="fails""#),
        "{xml}"
    );
    // The failed case names its step and carries the message and log tails.
    assert!(
        xml.contains(r#"<failure message="tests/fixtures/keep/keep.feature:"#),
        "{xml}"
    );
    assert!(
        xml.contains("server.log"),
        "the log tail is in the case:\n{xml}"
    );
    let back = valkey_bdd::runner::junit::read(&report).unwrap();
    assert_eq!(back.tests, 2);
    assert_eq!(valkey_bdd::runner::junit::timings(&back).len(), 2);
}

#[tokio::test]
async fn a_server_that_dies_unexpectedly_fails_a_passing_scenario() {
    let root = tempfile::tempdir().unwrap();
    let outcome = common::run_here(
        "tests/fixtures/death",
        "runner",
        KeepPolicy::Failed,
        root.path(),
    )
    .await;
    assert_eq!(outcome.failed_steps, 0, "{outcome:?}");
    assert_eq!(
        outcome.hook_errors, 1,
        "the after hook reports the death: {outcome:?}"
    );
    assert!(outcome.failed);
    // The death makes the scenario a failed one: its directory is kept.
    assert_eq!(outcome.kept.len(), 1, "{outcome:?}");
    assert!(outcome.kept[0].join("b/server.log").exists());
}

/// The child's part of the test below; does nothing in a normal run.
#[tokio::test]
async fn child_process_entry() {
    if std::env::var_os("VALKEY_BDD_TEST_CHILD").is_some() {
        let outcome = Runner::new("features/replication/mixed_versions.feature")
            .args(["runner"])
            .run()
            .await
            .unwrap();
        assert!(!outcome.failed, "{outcome:?}");
        assert_eq!(
            outcome.passed_steps, 0,
            "the scenario was skipped: {outcome:?}"
        );
    }
}

#[test]
fn a_mixed_versions_scenario_without_two_versions_is_skipped_with_the_reason() {
    let main = valkey_bdd::binary::locate(None).unwrap().0;
    let out = common::this_test("child_process_entry")
        .env("VALKEY_BDD_TEST_CHILD", "1")
        .env("VALKEY_BDD_OTHER_SERVER_PATH", &main)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(
            "valkey-bdd: skipped \"Replicas on the newer binary sync from a primary on the older one\" \
             (features/replication/mixed_versions.feature:8): @mixed-versions: its two server binaries"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("are the same version"), "{stderr}");
}

#[tokio::test]
async fn capability_tags_are_checked_against_the_binary() {
    use valkey_bdd::ServerBinary;
    use valkey_bdd::runner::requirement;
    let valkey = ServerBinary::resolve(Some(std::path::Path::new("/usr/bin/valkey-server")))
        .await
        .unwrap();
    let redis = ServerBinary::resolve(Some(std::path::Path::new("/usr/bin/redis-server")))
        .await
        .unwrap();
    assert_eq!(requirement("mixed-versions", &valkey).await, None);
    assert_eq!(requirement("min-version(8.0)", &valkey).await, Some(Ok(())));
    let older = requirement("min-version(8.1)", &valkey)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        older.ends_with("is valkey 8.0.1, older than 8.1"),
        "{older}"
    );
    assert_eq!(
        requirement("min-version:8.1", &valkey).await,
        Some(Err(older.clone())),
        "the spelling tag expressions accept means the same"
    );
    assert_eq!(requirement("engine(valkey)", &valkey).await, Some(Ok(())));
    let engine = requirement("engine(valkey)", &redis)
        .await
        .unwrap()
        .unwrap_err();
    assert!(engine.ends_with("is redis 7.0.15, not valkey"), "{engine}");
    assert_eq!(requirement("requires(tls)", &valkey).await, Some(Ok(())));
    assert_eq!(requirement("requires(debug)", &redis).await, Some(Ok(())));
    let directive = requirement("requires(no-such-directive)", &valkey)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        directive.contains("does not know the directive `no-such-directive`"),
        "{directive}"
    );
}

/// The child's part of the test below: a scenario that kills a cluster node.
#[tokio::test]
async fn noise_child_entry() {
    if std::env::var("VALKEY_BDD_TEST_CHILD").as_deref() == Ok("noise") {
        let outcome = Runner::new("features/cluster/failover.feature")
            .args(["runner", "killing a primary"])
            .keep(KeepPolicy::Never)
            .run()
            .await
            .unwrap();
        assert!(!outcome.failed, "{outcome:?}");
    }
}

#[test]
fn a_passing_run_that_kills_a_node_prints_no_other_crates_warnings_and_no_colour_off_a_terminal() {
    let out = common::this_test("noise_child_entry")
        .env("VALKEY_BDD_TEST_CHILD", "noise")
        .env_remove("VALKEY_BDD_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let noisy: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("redis::"))
        .collect();
    assert!(noisy.is_empty(), "{noisy:#?}");
    assert!(
        !stderr.contains('\x1b'),
        "colour codes off a terminal:\n{stderr}"
    );
    assert!(
        stderr.contains("valkey-bdd: 1 scenario selected: 1 passed, 0 failed, 0 skipped"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_features_whose_scenarios_took_longest_last_time_start_first() {
    let root = tempfile::tempdir().unwrap();
    let record = root.path().join("durations.tsv");
    let run = || {
        Runner::new("tests/fixtures/durations")
            .args(["runner"])
            .keep(KeepPolicy::Never)
            .tmp_root(root.path())
            .concurrency(1)
            .durations(&record)
            .quiet()
            .run()
    };
    let start_of = |o: &valkey_bdd::runner::Outcome, name: &str| {
        o.scenarios
            .iter()
            .find(|s| s.scenario == name)
            .and_then(|s| s.started_at)
            .unwrap_or_else(|| panic!("{name} did not run: {o:?}"))
    };
    // No record yet: file order, and the run writes one.
    let outcome = run().await.unwrap();
    assert!(!outcome.failed);
    assert!(start_of(&outcome, "The first scenario") < start_of(&outcome, "The second scenario"));
    let written = std::fs::read_to_string(&record).unwrap();
    for name in ["first", "second"] {
        assert!(
            written.contains(&format!(
                "\ttests/fixtures/durations/{name}.feature: The {name} scenario\n"
            )),
            "{written}"
        );
    }
    // A record that says the second took longest: it starts first, and
    // the run replaces its figure with this run's.
    std::fs::write(
        &record,
        "0.010\ttests/fixtures/durations/first.feature: The first scenario\n\
         9.000\ttests/fixtures/durations/second.feature: The second scenario\n\
         4.000\ttests/fixtures/elsewhere.feature: Not in this run\n",
    )
    .unwrap();
    let outcome = run().await.unwrap();
    assert!(!outcome.failed);
    assert!(start_of(&outcome, "The second scenario") < start_of(&outcome, "The first scenario"));
    let written = std::fs::read_to_string(&record).unwrap();
    assert!(!written.contains("9.000\t"), "{written}");
    assert!(
        written.contains("4.000\ttests/fixtures/elsewhere.feature: Not in this run\n"),
        "a scenario that did not run keeps its figure: {written}"
    );
}

#[tokio::test]
async fn the_time_summary_counts_every_becomes_wait() {
    let outcome = Runner::new("tests/fixtures/waits")
        .args(["runner"])
        .keep(KeepPolicy::Never)
        .quiet()
        .run()
        .await
        .unwrap();
    assert!(!outcome.failed, "{outcome:?}");
    let becomes: Vec<std::time::Duration> = outcome
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .filter(|s| s.step.contains(" becomes "))
        .map(|s| s.duration.expect("the step ran"))
        .collect();
    assert_eq!(becomes.len(), 2, "{outcome:?}");
    let took: std::time::Duration = becomes.iter().sum();
    assert!(took >= std::time::Duration::from_millis(500), "{becomes:?}");
    let waiting = outcome.spent.waiting;
    // Counters are the process's: other tests may add to them, never take.
    assert!(
        waiting.count >= 2 && waiting.time.as_secs_f64() >= took.as_secs_f64() * 0.9,
        "the summary says {waiting:?} while the `becomes` steps took {becomes:?}"
    );
}
