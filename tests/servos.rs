//! Servos (the application's own processes serving a role's sentences):
//! what stops a run before any server starts — a roles file with a mistake,
//! a role no file declares, a sentence no servo knows, a servo speaking
//! another protocol version or never connecting — and that servos which
//! fail mid-run leave no process, socket or directory behind. The servos
//! are tests/fixtures/servos/servo.py, real processes speaking the
//! protocol; the failures of single steps are the must-fail corpus's
//! (tests/must_fail/servos.feature).

mod common;

use std::path::Path;
use std::process::Output;

use common::{BIN, text};

/// Runs `valkey-bdd run <feature>` keeping nothing, with its directories in
/// a directory of its own, which is returned for the caller to check.
fn run(feature: &str, env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let mut vars = vec![("VALKEY_BDD_KEEP", "never")];
    vars.extend_from_slice(env);
    common::run(&[feature], &vars)
}

/// Nothing in the run's directory, and no process left whose servo socket
/// was in it.
fn assert_left_nothing(tmp: &Path) {
    common::assert_left_nothing(tmp);
    let marker = format!("VALKEY_BDD_SERVO={}", tmp.display());
    let mut alive = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|v| v.starts_with(marker.as_bytes()))
        {
            alive.push(entry.file_name());
        }
    }
    assert!(alive.is_empty(), "servo processes left running: {alive:?}");
}

/// A run that could not start: status 2, and what it said.
fn refused(feature: &str) -> String {
    let (out, tmp) = run(feature, &[]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        !said.contains("valkey-bdd: server "),
        "the run went as far as choosing a server binary:\n{said}"
    );
    assert_left_nothing(tmp.path());
    said
}

#[test]
fn a_roles_file_with_an_empty_role_is_refused_with_its_line() {
    let said = refused("tests/fixtures/servos/bad_roles/app.feature");
    assert!(
        said.contains("tests/fixtures/servos/bad_roles/roles.toml:4")
            || said.contains("servos/bad_roles/roles.toml:4"),
        "{said}"
    );
    assert!(
        said.contains("the role \"empty\" has no implementation"),
        "{said}"
    );
}

#[test]
fn a_sentence_no_servo_knows_is_refused_with_its_place_and_the_nearest_patterns() {
    let said = refused("tests/fixtures/servos/unknown/app.feature");
    assert!(
        said.contains("tests/fixtures/servos/unknown/app.feature:5  And the \"app\" process adds 1 plus 1 and expects 2"),
        "{said}"
    );
    assert!(
        said.contains("has no pattern for \"adds 1 plus 1 and expects 2\"; nearest:\n      adds {int} and {int} and expects {int}"),
        "{said}"
    );
    assert!(said.contains("1 role step(s) match no sentence"), "{said}");
}

#[test]
fn a_role_the_file_does_not_declare_is_refused() {
    let said = refused("tests/fixtures/servos/undeclared/app.feature");
    assert!(
        said.contains("tests/fixtures/servos/undeclared/app.feature:4"),
        "{said}"
    );
    assert!(said.contains("no role \"ap\""), "{said}");
    assert!(said.contains("it declares \"app\""), "{said}");
}

#[test]
fn a_servo_of_another_protocol_version_is_a_clear_mismatch() {
    let said = refused("tests/fixtures/servos/mismatch/app.feature");
    assert!(said.contains("protocol mismatch"), "{said}");
    assert!(said.contains("speaks servo protocol 1"), "{said}");
    assert!(said.contains("this servo speaks protocol 2"), "{said}");
    assert!(
        said.contains("the \"app\" process (implementation \"python\""),
        "{said}"
    );
}

#[test]
fn a_servo_that_never_connects_is_given_up_with_its_stderr() {
    let said = refused("tests/fixtures/servos/no_connect/app.feature");
    assert!(
        said.contains("it did not connect to the socket in $VALKEY_BDD_SERVO within 10 s"),
        "{said}"
    );
    assert!(said.contains("not connecting, on purpose"), "{said}");
}

#[test]
fn servos_that_hang_or_exit_leave_nothing_behind() {
    let (out, tmp) = run(
        "tests/fixtures/servos/leftovers/app.feature",
        &[("VALKEY_BDD_SERVO_TIMEOUT", "1")],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("it did not answer within 1 s"), "{said}");
    assert!(said.contains("exited with code 3"), "{said}");
    assert!(said.contains("2 failed"), "{said}");
    assert_left_nothing(tmp.path());
}

#[test]
fn valkey_bdd_steps_lists_the_sentences_each_servo_serves() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["steps", "features/servos"])
        .env("VALKEY_BDD_TMPDIR", tmp.path())
        .output()
        .unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("# Sentences of the roles of features/servos/roles.toml"),
        "{said}"
    );
    assert!(
        said.contains("## the \"app\" process — python (fixture servo.py)"),
        "{said}"
    );
    assert!(
        said.contains("- `` the \"app\" process adds {int} and {int} and expects {int} ``"),
        "{said}"
    );
    assert_left_nothing(tmp.path());
}

const COMBOS: &str = "tests/fixtures/servos/combos/app.feature";

/// `valkey-bdd run COMBOS <args>`: its status, what it said, and the
/// scenario names of its JUnit report with each test case's system-out.
fn run_combos(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, Vec<(String, String)>) {
    let tmp = tempfile::tempdir().unwrap();
    let junit = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["run", COMBOS, "--junit"])
        .arg(junit.path())
        .args(args)
        .env("VALKEY_BDD_TMPDIR", tmp.path())
        .env("VALKEY_BDD_KEEP", "never")
        .env_remove("VALKEY_BDD_MATRIX")
        .env_remove("VALKEY_BDD_ROLES")
        .env_remove("VALKEY_BDD_COMBINATIONS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let said = text(&out);
    assert_left_nothing(tmp.path());
    let cases = match valkey_bdd::runner::junit::read(junit.path()) {
        Ok(report) => report
            .test_suites
            .iter()
            .flat_map(|s| s.test_cases.iter())
            .map(|c| {
                (
                    c.name.to_string(),
                    c.system_out
                        .as_ref()
                        .map(|o| o.to_string())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    (out.status.code(), said, cases)
}

fn names(cases: &[(String, String)]) -> Vec<&str> {
    let mut n: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    n.sort();
    n
}

#[test]
fn every_combination_of_the_roles_implementations_is_a_scenario_of_its_own() {
    let (code, said, cases) = run_combos(&[], &[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("7 scenarios selected: 7 passed"), "{said}");
    let mut wanted = Vec::new();
    for reader in ["one", "three", "two"] {
        for writer in ["plain", "python"] {
            wanted.push(format!("both roles [reader={reader}, writer={writer}]"));
        }
    }
    wanted.push("no role".into());
    assert_eq!(names(&cases), wanted, "{said}");
    // Each ran its own implementations (the servo checks its scenario's
    // combination and tags), and what they logged is under the test case.
    let (_, out) = cases
        .iter()
        .find(|(n, _)| n == "both roles [reader=two, writer=plain]")
        .unwrap();
    assert!(out.contains("[reader/two] implementation=two"), "{out}");
    assert!(out.contains("[writer/plain] implementation=plain"), "{out}");
    assert!(out.contains("[writer/plain] SET k -> +OK"), "{out}");
    assert!(
        out.contains("tests/fixtures/servos/combos/app.feature:4 When the \"writer\" process sets \"k\" to \"v\""),
        "{out}"
    );
}

#[test]
fn the_options_choose_among_the_combinations_and_keep_their_names() {
    // As few as run each implementation once: as many as the reader has.
    let (code, said, cases) = run_combos(&["--combinations", "each"], &[]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(
        names(&cases),
        [
            "both roles [reader=one, writer=python]",
            "both roles [reader=three, writer=python]",
            "both roles [reader=two, writer=plain]",
            "no role"
        ],
        "{said}"
    );
    // One: each role's first implementation, the name unchanged.
    let (code, said, cases) = run_combos(&[], &[("VALKEY_BDD_COMBINATIONS", "one")]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(
        names(&cases),
        ["both roles [reader=one, writer=python]", "no role"],
        "{said}"
    );
    // --role keeps one implementation; a scenario without the role runs.
    let (code, said, cases) = run_combos(&["--role", "writer=plain"], &[]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(
        names(&cases),
        [
            "both roles [reader=one, writer=plain]",
            "both roles [reader=three, writer=plain]",
            "both roles [reader=two, writer=plain]",
            "no role"
        ],
        "{said}"
    );
    let (_, said, by_env) = run_combos(&[], &[("VALKEY_BDD_ROLES", "writer=plain, reader=three")]);
    assert_eq!(
        names(&by_env),
        ["both roles [reader=three, writer=plain]", "no role"],
        "{said}"
    );
    // Tags and name filters select combinations as they select scenarios.
    let (code, said, cases) = run_combos(&["--tags", "@role:reader=two"], &[]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(
        names(&cases),
        [
            "both roles [reader=two, writer=plain]",
            "both roles [reader=two, writer=python]"
        ],
        "{said}"
    );
    let (code, said, cases) = run_combos(
        &["--filter", "both roles [reader=three, writer=python]"],
        &[],
    );
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(
        names(&cases),
        ["both roles [reader=three, writer=python]"],
        "{said}"
    );
}

#[test]
fn combinations_are_listed_for_nextest_and_split_by_shards() {
    let list = std::process::Command::new(BIN)
        .args(["run", COMBOS, "--list", "--format", "terse"])
        .output()
        .unwrap();
    let listed = text(&list);
    assert!(list.status.success(), "{listed}");
    let tests: Vec<&str> = listed.lines().filter(|l| l.ends_with(": test")).collect();
    assert_eq!(tests.len(), 7, "{listed}");
    assert!(
        tests.contains(&"tests/fixtures/servos/combos/app.feature: both roles [reader=one, writer=python]: test"),
        "{listed}"
    );
    // The two parts hold every combination once.
    let mut all = Vec::new();
    for part in ["1/2", "2/2"] {
        let (code, said, cases) = run_combos(&["--shard", part], &[]);
        assert_eq!(code, Some(0), "{said}");
        all.extend(cases.into_iter().map(|(n, _)| n));
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!((before, all.len()), (7, 7), "{all:?}");
}

#[test]
fn a_choice_the_roles_files_cannot_meet_stops_the_run_before_it_starts() {
    for (args, env, says) in [
        (
            vec!["--role", "writer=java"],
            vec![],
            "--role writer=java: the role \"writer\" of tests/fixtures/servos/combos/roles.toml has no implementation \"java\" (it has python, plain)",
        ),
        (
            vec!["--role", "auditor=python"],
            vec![],
            "--role auditor=python: no roles file of this run declares the role \"auditor\"",
        ),
        (
            vec![],
            vec![("VALKEY_BDD_ROLES", "writer")],
            "VALKEY_BDD_ROLES \"writer\" is not role=implementation",
        ),
        (
            vec!["--combinations", "some"],
            vec![],
            "--combinations is \"some\", not all, each or one",
        ),
        (
            vec!["--role", "writer=plain", "--role", "writer=python"],
            vec![],
            "--role keeps two implementations of the role \"writer\": plain and python",
        ),
    ] {
        let (code, said, _) = run_combos(&args, &env);
        assert_eq!(code, Some(2), "{args:?} {env:?}:\n{said}");
        assert!(
            said.contains(says),
            "{args:?} {env:?}: {says:?} missing:\n{said}"
        );
        assert!(
            !said.contains("valkey-bdd: server "),
            "the run went as far as choosing a server binary:\n{said}"
        );
    }
}

#[test]
fn what_a_servo_logged_with_passing_steps_is_shown_when_the_scenario_fails() {
    let report = tempfile::NamedTempFile::new().unwrap();
    let (out, tmp) = run(
        "tests/fixtures/servos/logged/app.feature",
        &[("VALKEY_BDD_REPORT", report.path().to_str().unwrap())],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("what the servos logged with the steps that passed:"),
        "{said}"
    );
    assert!(
        said.contains("tests/fixtures/servos/logged/app.feature:4 [app/python] SET k -> +OK"),
        "{said}"
    );
    // The failing step's own log is in its message.
    assert!(said.contains("adding 1 and 1"), "{said}");
    let html = std::fs::read_to_string(report.path()).unwrap();
    assert!(
        html.contains("<pre class=\"log\">[app&#x2f;python] SET k -&gt; +OK"),
        "the HTML report has no log under the step"
    );
    assert_left_nothing(tmp.path());
}
