//! `valkey-bdd run`: the runner of `cargo test --test cucumber` behind a
//! command, for suites without Rust — its exit codes, its options, the step
//! libraries it finds, and `--module`.

mod common;

use std::path::Path;

use common::{BIN, assert_left_nothing, run, text};

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
    // The console: the inner step, at the user's line, then the user's own
    // step, the definition's place and the inner step's, then why.
    assert!(all.contains("✘  Then the reply is \"two\""), "{all}");
    assert!(
        all.contains("Defined: tests/fixtures/run/fail/keys.feature:11:5"),
        "{all}"
    );
    assert!(
        all.contains(
            "Step panicked. Captured output: Then reading \"k\" gives \"two\" \
             (tests/fixtures/run/fail/keys.feature:11), defined at \
             tests/fixtures/run/steps/keys.steps:9, failed at its step \
             Then the reply is \"two\" (tests/fixtures/run/steps/keys.steps:12):\n"
        ),
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
            "--module /nonexistent/m.so: no module at /nonexistent/m.so",
        ),
        (
            &["tests/fixtures/run/pass"],
            &[("VALKEY_BDD_MODULE", "/nonexistent/m.so")],
            "VALKEY_BDD_MODULE=/nonexistent/m.so: no module at /nonexistent/m.so",
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
    let runs = common::at_once(cases, |(args, env, _)| run(args, env));
    for ((args, env, expected), (out, tmp)) in cases.iter().zip(runs) {
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

/// `--module` and `VALKEY_BDD_MODULE` are two spellings of one setting:
/// either loads the module into a lone server, a primary and its replica,
/// and every node of a cluster (tests/fixtures/run_module names no module).
#[test]
fn the_module_option_and_the_module_variable_load_it_into_every_server() {
    let module = "/usr/lib/redis/modules/redisearch.so";
    assert!(
        Path::new(module).exists(),
        "{module} is missing: run .ci/install-server"
    );
    let suite = "tests/fixtures/run_module";
    let by_option: (&[&str], &[(&str, &str)]) = (
        &[
            suite,
            "--module",
            module,
            "--module-args",
            "SAFEMODE",
            "--keep",
            "never",
        ],
        &[],
    );
    let by_variable: (&[&str], &[(&str, &str)]) = (
        &[suite, "--keep", "never"],
        &[
            ("VALKEY_BDD_MODULE", module),
            ("VALKEY_BDD_MODULE_ARGS", "SAFEMODE"),
        ],
    );
    let without: (&[&str], &[(&str, &str)]) = (&[suite, "--keep", "never"], &[]);
    let mut runs = common::at_once([by_option, by_variable, without], |(args, env)| {
        run(args, env)
    });
    let (out, _tmp) = runs.pop().unwrap();
    // Without either the same scenarios fail: the module came from the setting.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    for (how, (out, tmp)) in ["--module", "VALKEY_BDD_MODULE"].into_iter().zip(runs) {
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{how}:\n{all}");
        assert!(
            all.contains("3 scenarios selected: 3 passed, 0 failed"),
            "{how}:\n{all}"
        );
        assert!(
            all.contains(&format!("every server loads the module {module} SAFEMODE")),
            "{how}:\n{all}"
        );
        assert_left_nothing(tmp.path());
    }
}

#[test]
fn run_help_shows_the_runners_options() {
    let (out, _tmp) = run(&["--help"], &[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    for needle in ["valkey-bdd run", "--module", "--steps", "--shard", "--tags"] {
        assert!(all.contains(needle), "{needle} in:\n{all}");
    }
    // Its own usage, not cargo's, and its positional arguments are paths.
    let usage = all.lines().find(|l| l.starts_with("Usage:"));
    assert_eq!(
        usage,
        Some("Usage: valkey-bdd run [OPTIONS] [PATH]..."),
        "{all}"
    );
    assert!(all.contains("  [PATH]...  "), "{all}");
    assert!(!all.contains("  [FILTER]...  "), "{all}");
    // The temporary root's default is the one a run takes.
    let tmpdir = all
        .lines()
        .find(|l| l.trim_start().starts_with("VALKEY_BDD_TMPDIR"))
        .unwrap_or_default();
    assert!(
        tmpdir.contains("[default: /dev/shm when it has 1 GiB free, else the system temp dir]"),
        "{tmpdir}"
    );
}

/// The cargo entry point: `cargo test --test cucumber -- <args>` (the cargo
/// running this test builds it if needed), as a user runs it.
fn cargo_cucumber(args: &[&str]) -> std::process::Command {
    let mut cargo = common::cargo();
    cargo
        .args(["test", "--quiet", "--test", "cucumber", "--"])
        .args(args)
        .env_remove("VALKEY_BDD_MATRIX")
        .env_remove("VALKEY_BDD_JUNIT");
    cargo
}

#[test]
fn cargo_test_and_valkey_bdd_run_select_the_same_tests_of_the_projects_features() {
    let cases: [(&[&str], &[&str]); 5] = [
        (&[], &[]),
        (&["--tags", "@serial"], &["--tags", "@serial"]),
        (&["--shard", "2/3"], &["--shard", "2/3"]),
        (&["--name", "^Killing"], &["--name", "^Killing"]),
        (&["persistence"], &["--filter", "persistence"]),
    ];
    let lists = common::at_once(cases, |(cargo_args, run_args)| {
        let mut a = vec!["--list"];
        a.extend(cargo_args);
        let by_cargo = cargo_cucumber(&a).output().unwrap();
        let mut a = vec!["features", "--list"];
        a.extend(run_args);
        (by_cargo, run(&a, &[]))
    });
    for ((cargo_args, _), (by_cargo, (by_run, _tmp))) in cases.iter().zip(lists) {
        assert!(by_cargo.status.success(), "{}", text(&by_cargo));
        assert_eq!(by_run.status.code(), Some(0), "{}", text(&by_run));
        let listed = String::from_utf8_lossy(&by_run.stdout).into_owned();
        assert!(
            listed.lines().count() > 1 || *cargo_args == ["--name", "^Killing"],
            "{listed}"
        );
        assert_eq!(
            String::from_utf8_lossy(&by_cargo.stdout),
            listed,
            "{cargo_args:?}"
        );
    }
}

/// A JUnit report without what differs from run to run: durations, times.
fn normalized_report(path: &Path) -> String {
    let xml = std::fs::read_to_string(path).unwrap();
    let re = regex::Regex::new(r#" (time|timestamp)="[^"]*""#).unwrap();
    re.replace_all(&xml, "").into_owned()
}

#[test]
fn cargo_test_and_valkey_bdd_run_run_skip_and_report_alike() {
    // The security features: TLS, ACLs, and a scenario that older servers skip.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("cargo.xml"), dir.path().join("run.xml"));
    let tmp = tempfile::tempdir().unwrap();
    let (by_cargo, (by_run, tmp2)) = std::thread::scope(|scope| {
        let by_cargo = scope.spawn(|| {
            cargo_cucumber(&[
                "-i",
                "features/security/*.feature",
                "--keep",
                "never",
                "--junit",
                a.to_str().unwrap(),
            ])
            .env("VALKEY_BDD_TMPDIR", tmp.path())
            .output()
            .unwrap()
        });
        let by_run = run(
            &[
                "features/security",
                "--keep",
                "never",
                "--junit",
                b.to_str().unwrap(),
            ],
            &[],
        );
        (by_cargo.join().unwrap(), by_run)
    });
    assert!(by_cargo.status.success(), "{}", text(&by_cargo));
    assert_eq!(by_run.status.code(), Some(0), "{}", text(&by_run));
    let (a, b) = (normalized_report(&a), normalized_report(&b));
    assert!(a.contains("<testcase"), "{a}");
    assert_eq!(a, b);
    assert_left_nothing(tmp.path());
    assert_left_nothing(tmp2.path());
}

#[test]
fn the_c_module_suite_passes_with_step_libraries_only() {
    let suite = Path::new("examples/c-modules");
    let rust: Vec<_> = walk(suite)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    assert!(rust.is_empty(), "Rust in the C-module suite: {rust:?}");
    assert!(
        Path::new(".build/modules/8.1.1/datatype.so").exists(),
        "Valkey's test modules are not built: run .ci/install-server"
    );
    // The modules are those of Valkey 8.1.1's tarball, and run on the server
    // built from the same tarball (8.0 crashes in one of propagate.c's calls).
    assert!(
        Path::new(".build/binaries/8.1.1/valkey-server").exists(),
        "Valkey 8.1.1 is not built: run .ci/install-server"
    );
    let (out, tmp) = run(
        &["examples/c-modules", "--keep", "never"],
        &[("SERVER_VERSION", "8.1.1")],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains(" 0 failed, 0 skipped"), "{all}");
    assert_left_nothing(tmp.path());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn valkey_bdd_steps_lists_the_defined_sentences_then_the_built_in_ones() {
    let out = std::process::Command::new(BIN)
        .args(["steps", "tests/fixtures/run/pass"])
        .env_remove("VALKEY_BDD_STEPS")
        .output()
        .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let defined = all
        .find("`` the key \"{key}\" holds \"{value}\" `` — Sets a key and checks that the server took it. (tests/fixtures/run/steps/keys.steps:4)")
        .unwrap_or_else(|| panic!("{all}"));
    let built_in = all
        .find("- **Then** `` the reply is \"…\" ``")
        .unwrap_or_else(|| panic!("{all}"));
    assert!(defined < built_in, "{all}");
}

#[test]
fn a_feature_outside_the_crate_is_taken_by_input_and_printed_with_its_whole_path() {
    let dir = tempfile::tempdir().unwrap();
    let feature = dir.path().join("outside.feature");
    std::fs::write(
        &feature,
        "Feature: Outside\n  Scenario: A wrong reply\n    Given a server\n    When I run `PING`\n    Then the reply is \"PANG\"\n",
    )
    .unwrap();
    let absolute = feature.display().to_string();
    // The same file through `..`: from the crate's folder up to `/`, then down.
    let cwd = std::env::current_dir().unwrap();
    let climbed = format!(
        "{}{}",
        "../".repeat(cwd.components().count() - 1),
        absolute.trim_start_matches('/')
    );
    let glob = format!("{}/*.feature", dir.path().display());
    let json = dir.path().join("report.json");
    for input in [absolute.as_str(), climbed.as_str(), glob.as_str()] {
        let (out, tmp) = run(
            &[
                "-i",
                input,
                "--keep",
                "never",
                "--json",
                json.to_str().unwrap(),
            ],
            &[],
        );
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "-i {input}: {all}");
        assert!(
            all.contains("1 scenarios selected: 0 passed, 1 failed")
                || all.contains("1 scenario selected: 0 passed, 1 failed"),
            "-i {input}: {all}"
        );
        if input != climbed {
            assert!(
                all.contains(&format!("Defined: {absolute}:5:5")),
                "-i {input}: {all}"
            );
            let report = std::fs::read_to_string(&json).unwrap();
            let uris: Vec<String> = serde_json::from_str::<serde_json::Value>(&report)
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["uri"].as_str().unwrap_or_default().to_string())
                .collect();
            assert_eq!(
                uris,
                std::slice::from_ref(&absolute),
                "-i {input}: {report}"
            );
        }
        assert_left_nothing(tmp.path());
    }
}

/// Every path under `tmp` that `all` names, each checked to exist; and no
/// directory under `tmp` still holds a run's mark.
fn printed_paths_exist(all: &str, tmp: &Path) -> Vec<std::path::PathBuf> {
    let names = regex::Regex::new(&format!(
        r#"{}[^\s,:()"'─]*"#,
        regex::escape(&tmp.display().to_string())
    ))
    .unwrap();
    let paths: Vec<std::path::PathBuf> = names
        .find_iter(all)
        .map(|m| std::path::PathBuf::from(m.as_str()))
        .collect();
    for path in &paths {
        assert!(
            path.exists(),
            "{} is printed, and gone:\n{all}",
            path.display()
        );
    }
    for entry in walkdir::WalkDir::new(tmp).into_iter().flatten() {
        assert_ne!(
            entry.file_name(),
            valkey_bdd::leftovers::MARK,
            "a kept directory still holds the run's mark: {}",
            entry.path().display()
        );
    }
    paths
}

/// The `kept N directories` line and the directories listed under it.
fn kept_lines(all: &str) -> (usize, Vec<String>) {
    let head = regex::Regex::new(r"valkey-bdd: kept (\d+) director(?:y|ies) \(").unwrap();
    let Some(m) = head.captures(all) else {
        return (0, Vec::new());
    };
    let after = &all[m.get(0).unwrap().end()..];
    let listed = after
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_string())
        .collect();
    (m[1].parse().unwrap(), listed)
}

#[test]
fn a_failure_on_a_reused_server_names_its_log_where_it_stays() {
    let (out, tmp) = run(
        &["tests/fixtures/run/reused", "--concurrency", "1"],
        &[("VALKEY_BDD_REUSE", "1"), ("VALKEY_BDD_KEEP", "failed")],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("1 server(s) reused"), "{all}");
    let paths = printed_paths_exist(&all, tmp.path());
    assert!(
        paths.iter().any(|p| p.ends_with("server.log")),
        "no server log named:\n{all}"
    );
    let (count, listed) = kept_lines(&all);
    assert_eq!(count, listed.len(), "{all}");
    // Everything left is what the run says it kept.
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect();
    assert_eq!(left.len(), count, "left {left:?}:\n{all}");
    for dir in &left {
        assert!(listed.contains(dir), "{dir} is left and not named:\n{all}");
    }
}

#[test]
fn a_server_that_fails_to_start_is_counted_among_the_kept_directories() {
    let (out, tmp) = run(
        &["tests/fixtures/run/start"],
        &[
            ("VALKEY_BDD_START_TIMEOUT", "0.001"),
            ("VALKEY_BDD_KEEP", "failed"),
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    printed_paths_exist(&all, tmp.path());
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(!left.is_empty(), "the failed start kept nothing:\n{all}");
    let (count, listed) = kept_lines(&all);
    assert_eq!(count, left.len(), "left {left:?}:\n{all}");
    for dir in &left {
        assert!(listed.contains(dir), "{dir} is left and not named:\n{all}");
    }
    // Told to keep nothing, it keeps nothing.
    let (out, tmp) = run(
        &["tests/fixtures/run/start", "--keep", "never"],
        &[("VALKEY_BDD_START_TIMEOUT", "0.001")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_left_nothing(tmp.path());
}
