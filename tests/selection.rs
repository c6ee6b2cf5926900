//! The selection gate: however scenarios are chosen (filters, `--name`,
//! `--tags`, `-i`), capability skips, the unknown-step check and the summary
//! apply; feature files that cannot be parsed and steps under the wrong
//! keyword say where and why.

use std::path::Path;

use valkey_bdd::runner::{Verdict, select};
use valkey_bdd::settings::KeepPolicy;
use valkey_bdd::{Error, Outcome, Runner};

async fn run(args: &[&str]) -> valkey_bdd::Result<Outcome> {
    let root = tempfile::tempdir().unwrap();
    let mut argv = vec!["selection"];
    argv.extend_from_slice(args);
    Runner::new("tests/fixtures/selection")
        .args(argv)
        .keep(KeepPolicy::Never)
        .tmp_root(root.path())
        .quiet()
        .run()
        .await
}

fn verdicts(o: &Outcome) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = o
        .scenarios
        .iter()
        .map(|s| {
            let verdict = match &s.verdict {
                Verdict::Passed => "passed".to_string(),
                Verdict::Failed => "failed".to_string(),
                Verdict::Skipped(why) => format!("skipped: {why}"),
            };
            (s.scenario.clone(), verdict)
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_way_of_selecting_applies_the_capability_skips() {
    for args in [
        &[][..],
        &["--tags", "not @serial"],
        &["-t", "not @slow or @slow"],
        &["--name", "scenario"],
        &["-n", "."],
        &["-i", "tests/fixtures/selection/*.feature"],
        &["--input=tests/fixtures/selection/requirements.feature"],
        &["scenario"],
    ] {
        let o = run(args).await.unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(!o.failed, "{args:?}: {o:#?}");
        assert_eq!(o.selected, 3, "{args:?}");
        let v = verdicts(&o);
        assert_eq!(v[0].1, "passed", "{args:?}: {v:?}");
        assert!(
            v[1].1
                .starts_with("skipped: @requires:no-such-directive-anywhere: ")
                && v[1].1.contains("does not know the directive"),
            "{args:?}: {v:?}"
        );
        assert!(
            v[2].1.starts_with("skipped: @min-version:99.0: ")
                && v[2].1.contains("older than 99.0"),
            "{args:?}: {v:?}"
        );
    }
}

#[tokio::test]
async fn harness_tags_can_be_selected_in_either_spelling() {
    for expr in [
        "@min-version(99.0)",
        "@min-version:99.0",
        "@min-version\\(99.0\\)",
    ] {
        let o = run(&["--tags", expr])
            .await
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(o.selected, 1, "{expr}: {o:#?}");
        assert!(
            matches!(&o.scenarios[0].verdict, Verdict::Skipped(_)),
            "{expr}: {o:#?}"
        );
    }
    let o = run(&[
        "--tags",
        "@requires:no-such-directive-anywhere or @min-version(99.0)",
    ])
    .await
    .unwrap();
    assert_eq!(o.selected, 2);
    assert_eq!(o.count(|v| matches!(v, Verdict::Skipped(_))), 2);
}

#[tokio::test]
async fn a_bad_selection_stops_the_run_with_the_reason() {
    let e = run(&["--tags", "@a and ("]).await.unwrap_err();
    assert!(e.to_string().contains("is not a tag expression"), "{e}");
    let e = run(&["--name", "("]).await.unwrap_err();
    assert!(e.to_string().contains("is not a regular expression"), "{e}");
    let e = run(&["-i", "tests/fixtures/no-such-folder/*.feature"])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("names no feature file"), "{e}");
}

#[tokio::test]
async fn the_summary_counts_skipped_scenarios_with_their_reasons() {
    let o = run(&[]).await.unwrap();
    let text = valkey_bdd::runner::summary(&o);
    assert!(
        text.starts_with("valkey-bdd: 3 scenarios selected: 1 passed, 0 failed, 2 skipped"),
        "{text}"
    );
    assert!(
        text.contains(
            "skipped \"A scenario needing a version from the future is skipped\" \
             (tests/fixtures/selection/requirements.feature:15): @min-version:99.0: "
        ),
        "{text}"
    );
}

#[tokio::test]
async fn input_globs_do_not_skip_the_unknown_step_check() {
    let e = Runner::new("tests/fixtures/selection")
        .args(["selection", "-i", "tests/fixtures/unknown_step/*.feature"])
        .quiet()
        .run()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unknown { .. }), "{e}");
    assert!(
        e.to_string().contains(
            "tests/fixtures/unknown_step/unknown.feature:5  When I runn `PING` on the server"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn the_pool_is_sized_by_the_selection_not_the_folder() {
    let binary = valkey_bdd::ServerBinary::resolve(None).await.unwrap();
    let criteria = |filters: &[&str]| select::Criteria {
        filters: filters.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let all = select::Gate::load(Path::new("features/cluster"), &criteria(&[])).unwrap();
    let everything = all.select(&Default::default(), false, &binary).unwrap();
    assert!(all.cluster_nodes_wanted(&everything) > 12);
    let one = select::Gate::load(
        Path::new("features/cluster"),
        &criteria(&["a manual failover swaps"]),
    )
    .unwrap();
    let selection = one.select(&Default::default(), false, &binary).unwrap();
    assert_eq!(selection.running(), 1);
    assert_eq!(one.cluster_nodes_wanted(&selection), 6);
}

#[tokio::test]
async fn a_feature_file_that_cannot_be_parsed_names_its_line_and_reason() {
    let e = Runner::new("tests/fixtures/parse_error")
        .args(["selection"])
        .quiet()
        .run()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Parse { .. }), "{text}");
    assert!(
        text.contains("tests/fixtures/parse_error/bad_table.feature:7: this table row is not closed\n    the line reads: | GET k"),
        "{text}"
    );
    assert!(
        text.contains("hint: a table row starts and ends with |"),
        "{text}"
    );
}

#[tokio::test]
async fn a_then_sentence_after_when_is_named_as_such() {
    let e = Runner::new("tests/fixtures/wrong_keyword")
        .args(["selection"])
        .quiet()
        .run()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("when_then.feature:6  When the reply is \"PONG\"")
            && text.contains("this sentence is a Then step: write it after Then"),
        "{text}"
    );
}

#[test]
fn help_lists_the_filters_the_settings_and_the_real_concurrency_default() {
    let text = valkey_bdd::runner::help_text();
    for needle in [
        "[FILTER]...",
        "-t, --tags <expr>",
        "@requires:tls",
        "VALKEY_BDD_PORT_BASE",
        "VALKEY_BDD_KEEP",
        "VALKEY_SERVER_PATH",
        "--shard <i/n>",
        "--exact <name>",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let n = valkey_bdd::settings::concurrency().unwrap();
    assert!(text.contains(&format!("[default here: {n},")), "{text}");
}

/// The tests a run lists for nextest, through the same gate as a run.
async fn list(args: &[&str]) -> Vec<String> {
    let gate = select::Gate::load(
        Path::new("features"),
        &valkey_bdd::runner::LibtestArgs::from(
            std::iter::once("selection")
                .chain(args.iter().copied())
                .map(String::from)
                .collect::<Vec<_>>(),
        )
        .criteria()
        .unwrap(),
    )
    .unwrap();
    gate.test_names().into_iter().map(String::from).collect()
}

#[tokio::test]
async fn three_shards_hold_every_test_once_and_a_shared_feature_whole() {
    let all = list(&[]).await;
    let mut union: Vec<String> = Vec::new();
    for i in 1..=3 {
        let part = list(&["--shard", &format!("{i}/3")]).await;
        assert!(!part.is_empty(), "shard {i} is empty");
        union.extend(part);
    }
    let mut sorted_all = all.clone();
    sorted_all.sort();
    union.sort();
    assert_eq!(
        union, sorted_all,
        "the shards' union is the selection, with no overlap"
    );
    assert!(
        all.contains(
            &"features/standalone/rfc17_shared_server.feature: (whole feature)".to_string()
        ),
        "{all:#?}"
    );
    assert!(
        !all.iter().any(
            |n| n.starts_with("features/standalone/rfc17_shared_server.feature: ")
                && !n.ends_with("(whole feature)")
        ),
        "a feature sharing servers is never split: {all:#?}"
    );
}

#[tokio::test]
async fn adding_a_scenario_moves_no_other_one_between_shards() {
    let dir = tempfile::tempdir().unwrap();
    let one = "Feature: F\n\n  Scenario: first\n    Given a server\n\n  Scenario: second\n    Given a server\n";
    std::fs::write(dir.path().join("f.feature"), one).unwrap();
    let names = |extra: &str| {
        std::fs::write(dir.path().join("f.feature"), format!("{one}{extra}")).unwrap();
        let mut parts = Vec::new();
        for i in 1..=3 {
            let criteria = valkey_bdd::runner::LibtestArgs::from(
                ["selection", "--shard", &format!("{i}/3")]
                    .map(String::from)
                    .to_vec(),
            )
            .criteria()
            .unwrap();
            let gate = select::Gate::load(dir.path(), &criteria).unwrap();
            parts.push(
                gate.test_names()
                    .into_iter()
                    .map(|n| n.rsplit(": ").next().unwrap().to_string())
                    .collect::<Vec<_>>(),
            );
        }
        parts
    };
    let before = names("");
    let after = names("\n  Scenario: third\n    Given a server\n");
    for (b, a) in before.iter().zip(&after) {
        for name in b {
            assert!(a.contains(name), "{name} moved: {before:?} -> {after:?}");
        }
    }
    assert_eq!(after.iter().map(Vec::len).sum::<usize>(), 3);
}

#[tokio::test]
async fn an_exact_name_runs_that_scenario_only() {
    let o = run(&[
        "--exact",
        "tests/fixtures/selection/requirements.feature: A plain scenario runs",
    ])
    .await
    .unwrap();
    assert_eq!(o.selected, 1, "{o:#?}");
    assert_eq!(o.scenarios[0].verdict, Verdict::Passed);
    let e = run(&["--exact", "A plain scenario runs"])
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::NoTests { .. }),
        "a part of a name is not an exact name: {e}"
    );
}

#[tokio::test]
async fn the_reports_of_three_shards_merge_into_the_report_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let run_to = |args: Vec<String>, report: std::path::PathBuf| async move {
        Runner::new("tests/fixtures/keep")
            .args(std::iter::once("selection".to_string()).chain(args))
            .keep(KeepPolicy::Never)
            .junit(report)
            .quiet()
            .run()
            .await
            .unwrap()
    };
    let whole = dir.path().join("whole.xml");
    run_to(Vec::new(), whole.clone()).await;
    let mut parts = Vec::new();
    for i in 1..=3 {
        let part = dir.path().join(format!("part{i}.xml"));
        run_to(vec!["--shard".into(), format!("{i}/3")], part.clone()).await;
        parts.push((
            part.clone(),
            valkey_bdd::runner::junit::read(&part).unwrap(),
        ));
    }
    let merged = valkey_bdd::runner::junit::merge(parts.clone(), false).unwrap();
    assert_eq!(merged.partial, None, "every part is in");
    let merged = merged.report;
    let one = valkey_bdd::runner::junit::read(&whole).unwrap();
    let verdicts = |r: &valkey_bdd::runner::junit::Report| {
        let mut v: Vec<(String, String)> = r
            .test_suites
            .iter()
            .flat_map(|s| s.test_cases.iter())
            .map(|c| {
                (
                    c.name.as_str().to_string(),
                    format!("{:?}", std::mem::discriminant(&c.status)),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(verdicts(&merged), verdicts(&one));
    assert_eq!((merged.tests, merged.failures), (one.tests, one.failures));
    let some = parts.iter().find(|(_, p)| p.tests > 0).unwrap();
    let twice = valkey_bdd::runner::junit::merge(vec![some.clone(), some.clone()], true);
    assert!(twice.is_err(), "a scenario in two reports is refused");
}

/// Runs the features under `path` (no server is started when the run
/// stops first) and returns the error it stopped with.
async fn refused(path: &str, args: &[&str]) -> Error {
    let root = tempfile::tempdir().unwrap();
    let mut argv = vec!["selection"];
    argv.extend_from_slice(args);
    Runner::new(path)
        .args(argv)
        .keep(KeepPolicy::Never)
        .tmp_root(root.path())
        .quiet()
        .run()
        .await
        .map(|o| format!("{o:#?}"))
        .expect_err("the run must stop before it starts")
}

#[tokio::test]
async fn a_run_that_selects_nothing_fails_with_no_tests_to_run() {
    let e = refused("tests/fixtures/no_tests", &[]).await;
    assert_eq!(e.exit_status(), 4, "{e}");
    assert!(
        e.to_string().starts_with(
            "no tests to run: the 1 feature file(s) read hold no scenario: tests/fixtures/no_tests/description_only.feature"
        ),
        "{e}"
    );
    let e = refused("tests/fixtures/selection", &["no-such-scenario-anywhere"]).await;
    assert!(
        e.to_string().starts_with(
            "no tests to run: none of the 3 scenario(s) of 1 feature file(s) is selected by the filter(s) \"no-such-scenario-anywhere\""
        ),
        "{e}"
    );
    assert!(e.to_string().contains("--no-tests=pass"), "{e}");
    let e = refused("tests/fixtures/selection", &["--tags", "@no-such-tag"]).await;
    assert!(
        e.to_string()
            .contains("is selected by --tags \"@no-such-tag\""),
        "{e}"
    );
    let empty = tempfile::tempdir().unwrap();
    let e = refused(empty.path().to_str().unwrap(), &[]).await;
    assert!(
        e.to_string()
            .contains("no tests to run: no feature file was found in"),
        "{e}"
    );
    // Allowed on request, and never while listing.
    for args in [
        &["no-such-scenario-anywhere", "--no-tests=pass"][..],
        &["no-such-scenario-anywhere", "--no-tests", "warn"],
        &["no-such-scenario-anywhere", "--list", "--format", "terse"],
    ] {
        let o = run(args).await.unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(!o.failed && o.selected == 0, "{args:?}: {o:#?}");
    }
    let e = run(&["--no-tests=maybe"]).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("--no-tests=\"maybe\" is neither fail, warn nor pass"),
        "{e}"
    );
}

#[tokio::test]
async fn an_empty_shard_of_a_selection_passes_and_an_empty_selection_does_not() {
    let mut ran = 0;
    for i in 1..=4 {
        let shard = format!("{i}/4");
        let o = run(&["--shard", &shard, "A plain scenario runs"])
            .await
            .unwrap_or_else(|e| panic!("shard {shard}: {e}"));
        assert!(!o.failed, "{o:#?}");
        ran += o.selected;
    }
    assert_eq!(ran, 1, "one test, one part holds it");
    let e = run(&["--shard", "1/4", "no-such-scenario-anywhere"])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoTests { .. }), "{e}");
}

#[tokio::test]
async fn a_near_miss_of_a_keyword_is_an_error_naming_the_line_and_the_keyword() {
    let e = refused("tests/fixtures/near_miss", &[]).await;
    let text = e.to_string();
    assert!(matches!(e, Error::Parse { .. }), "{text}");
    let file = "tests/fixtures/near_miss/misspelt.feature";
    for (line, written, keyword) in [
        (7, "Backgorund", "Background"),
        (10, "Scenaro", "Scenario"),
        (14, "Sceanrio Outline", "Scenario Outline"),
        (18, "Exmaples", "Examples"),
        (22, "Rlue", "Rule"),
    ] {
        let expected = format!("{file}:{line}: `{written}:` looks like a misspelt `{keyword}:`");
        assert!(text.contains(&expected), "{expected} missing from:\n{text}");
    }
    assert_eq!(
        text.matches("looks like a misspelt").count(),
        5,
        "the prose lines (`Note:`, `Role:`) are not keywords:\n{text}"
    );
}

#[tokio::test]
async fn a_ragged_table_is_an_error_at_the_row_that_differs() {
    let e = refused("tests/fixtures/ragged", &[]).await;
    let text = e.to_string();
    assert!(matches!(e, Error::Parse { .. }), "{text}");
    for (file, line, cells, first, width) in [
        ("list", 9, 2, 8, 1),
        ("config", 6, 3, 5, 2),
        ("any_order", 10, 2, 8, 1),
        ("short_row", 6, 1, 5, 2),
    ] {
        let expected = format!(
            "tests/fixtures/ragged/{file}.feature:{line}: this table row has {cells} cell(s), the table's first row (line {first}) has {width}"
        );
        assert!(text.contains(&expected), "{expected} missing from:\n{text}");
    }
}

#[tokio::test]
async fn a_doc_string_left_open_and_bytes_that_are_not_utf8_name_their_line() {
    let e = refused("tests/fixtures/open_doc_string", &[]).await;
    assert!(
        e.to_string().contains(
            "tests/fixtures/open_doc_string/open.feature:6: this doc string is never closed"
        ),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("latin1.feature"),
        b"Feature: f\n  Scenario: caf\xe9 au lait\n    Given a server\n",
    )
    .unwrap();
    let e = refused(dir.path().to_str().unwrap(), &[]).await;
    assert!(
        e.to_string().contains(
            "latin1.feature:2:16: is not UTF-8: the byte 0xE9 at byte offset 26 is not a character"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_table_or_doc_string_under_a_sentence_that_takes_none_is_an_error() {
    let e = refused("tests/fixtures/unused_block", &[]).await;
    let text = e.to_string();
    for expected in [
        "2 step(s) carry a table or doc string that their sentence does not take",
        "tests/fixtures/unused_block/unused.feature:5  When I run `PING`\n    this sentence takes no table or doc string: a table under it would never be read",
        "tests/fixtures/unused_block/unused.feature:7  Then the reply is \"PONG\"\n    this sentence takes no table or doc string: a doc string under it",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

#[tokio::test]
async fn a_scenario_in_a_step_library_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lib.steps"),
        "Step: a pinged server\n  Given a server\n  When I run `PING`\n\nScenario: not a step\n  When I run `PING`\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("f.feature"),
        "Feature: f\n  Scenario: s\n    Given a pinged server\n",
    )
    .unwrap();
    let e = refused(dir.path().to_str().unwrap(), &[]).await;
    assert!(
        e.to_string()
            .contains("lib.steps:5: a step library holds `Step:` blocks, not `Scenario:`"),
        "{e}"
    );
}
