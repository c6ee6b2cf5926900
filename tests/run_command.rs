//! `valkey-bdd run`: the runner of `cargo test --test cucumber` behind a
//! command, for suites without Rust — its exit codes, its options, the step
//! libraries it finds, and `--module`.

use std::path::Path;
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_valkey-bdd");

/// Runs `valkey-bdd run <args>` with its scenario directories in a
/// directory of its own, which the caller checks is left empty.
fn run(args: &[&str], env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("run")
        .args(args)
        .env("VALKEY_BDD_TMPDIR", tmp.path())
        .env_remove("VALKEY_BDD_MATRIX")
        .env_remove("VALKEY_BDD_JUNIT")
        .env_remove("VALKEY_BDD_STEPS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd.output().unwrap(), tmp)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_left_nothing(tmp: &Path) {
    let left: Vec<_> = std::fs::read_dir(tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_passing_suite_exits_0_with_the_step_library_found_above_the_features() {
    let (out, tmp) = run(&["tests/fixtures/run/pass", "--keep", "never"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("2 scenarios selected: 2 passed, 0 failed"),
        "{all}"
    );
    // The inner steps ran through the vocabulary, nested definitions too.
    assert!(all.contains("When I run `COPY a b`"), "{all}");
    assert_left_nothing(tmp.path());
}

#[test]
fn a_failing_scenario_exits_1_and_names_the_users_line_and_the_inner_step() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("junit.xml");
    let (out, tmp) = run(
        &[
            "tests/fixtures/run/fail/keys.feature",
            "--keep",
            "never",
            "--junit",
            report.to_str().unwrap(),
        ],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    // cucumber's own output: the inner step, at the user's line.
    assert!(all.contains("Then the reply is \"two\""), "{all}");
    assert!(
        all.contains("tests/fixtures/run/fail/keys.feature:11"),
        "{all}"
    );
    // The report names the user's step, the definition and the inner step.
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains("tests/fixtures/run/fail/keys.feature:11")
            && xml.contains("Then reading &quot;k&quot; gives &quot;two&quot; (defined at tests/fixtures/run/steps/keys.steps:9), at its step: Then the reply is &quot;two&quot;"),
        "{xml}"
    );
    assert_left_nothing(tmp.path());
}

#[test]
fn a_run_that_cannot_start_exits_2() {
    /// Arguments, environment, and what the error must say.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (
            &["tests/fixtures/run/unknown"],
            &[],
            "tests/fixtures/run/unknown/unknown.feature:5",
        ),
        (
            &["tests/fixtures/run/pass"],
            &[("VALKEY_BDD_KEEP", "sometimes")],
            "VALKEY_BDD_KEEP",
        ),
        (
            &["tests/fixtures/run/pass", "--keep", "sometimes"],
            &[],
            "--keep \"sometimes\"",
        ),
        (
            &["tests/fixtures/run/pass"],
            &[("VALKEY_SERVER_PATH", "/nonexistent/valkey-server")],
            "/nonexistent/valkey-server",
        ),
        (&["tests/fixtures/run/nowhere"], &[], "does not exist"),
        (
            &["tests/fixtures/run/pass", "--module", "/nonexistent/m.so"],
            &[],
            "the module /nonexistent/m.so does not exist",
        ),
        (
            &[
                "tests/fixtures/run/pass",
                "--steps",
                "/nonexistent/lib.steps",
            ],
            &[],
            "/nonexistent/lib.steps does not exist",
        ),
        (
            &["tests/fixtures/run/pass", "--no-such-option"],
            &[],
            "--no-such-option",
        ),
    ];
    for (args, env, expected) in cases {
        let (out, tmp) = run(args, env);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}:\n{all}");
        assert!(all.contains(expected), "{args:?}: {expected:?} in:\n{all}");
        assert_left_nothing(tmp.path());
    }
}

#[test]
fn the_unknown_step_names_the_closest_defined_sentence() {
    let (out, _tmp) = run(&["tests/fixtures/run/unknown"], &[]);
    let all = text(&out);
    assert!(
        all.contains("Given the key \"{key}\" holds \"{value}\"   (a step library's)"),
        "{all}"
    );
}

#[test]
fn filters_tags_and_names_select_as_in_cargo_test() {
    let list = |args: &[&str]| {
        let mut a = vec!["tests/fixtures/run/pass", "--list"];
        a.extend(args);
        let (out, _tmp) = run(&a, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let all = list(&[]);
    assert_eq!(all.lines().count(), 2, "{all}");
    let named = list(&["--name", "^A definition"]);
    assert_eq!(
        named,
        "tests/fixtures/run/pass/keys.feature: A definition made of definitions: test\n"
    );
    assert_eq!(list(&["--filter", "made of"]), named);
    assert_eq!(list(&["--tags", "@nothing"]), "");
}

#[test]
fn a_module_given_on_the_command_line_is_loaded_into_every_server() {
    let module = "/usr/lib/redis/modules/redisearch.so";
    assert!(
        Path::new(module).exists(),
        "{module} is missing: run .ci/install-server"
    );
    let (out, tmp) = run(
        &[
            "tests/fixtures/run/module",
            "--module",
            module,
            "--module-args",
            "SAFEMODE",
            "--keep",
            "never",
        ],
        &[],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("2 passed, 0 failed"), "{all}");
    assert_left_nothing(tmp.path());
    // Without it the same scenarios fail: the module came from the option.
    let (out, _tmp) = run(&["tests/fixtures/run/module", "--keep", "never"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn run_help_shows_the_runners_options() {
    let (out, _tmp) = run(&["--help"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    for needle in ["valkey-bdd run", "--module", "--steps", "--shard", "--tags"] {
        assert!(all.contains(needle), "{needle} in:\n{all}");
    }
}
