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
