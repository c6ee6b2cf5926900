//! Step libraries (`*.steps`): each mistake a library can hold is refused
//! when it loads, before any server starts, with its file and line; a
//! failure inside a defined step names the user's step and the inner one.

mod common;

use valkey_bdd::Runner;
use valkey_bdd::runner::library::Library;
use valkey_bdd::settings::KeepPolicy;

/// Loads `text` as a library and checks it against the vocabulary; the error
/// text, with the library's path shown as `lib.steps`.
fn refused(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lib.steps");
    std::fs::write(&file, text).unwrap();
    let vocabulary = valkey_bdd::glossary::registered();
    let err = Library::read(std::slice::from_ref(&file))
        .and_then(|lib| lib.check(vocabulary))
        .expect_err("the library must be refused")
        .to_string();
    err.replace(&file.display().to_string(), "lib.steps")
}

const GOOD: &str = "Step: the key \"{key}\" holds \"{value}\"
  When I run `SET {key} {value}`
  Then the reply is \"OK\"
";

#[test]
fn a_good_library_loads_and_lists_its_sentences_with_their_descriptions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lib.steps");
    std::fs::write(
        &file,
        format!(
            "# comment\n\n{}",
            GOOD.replace("\n  When", "\n  Sets a key.\n  When")
        ),
    )
    .unwrap();
    let lib = Library::read(std::slice::from_ref(&file)).unwrap();
    lib.check(valkey_bdd::glossary::registered()).unwrap();
    let d = &lib.definitions[0];
    assert_eq!(d.line, 3);
    assert_eq!(d.params, ["key", "value"]);
    assert_eq!(d.doc, "Sets a key.");
    let listed = valkey_bdd::runner::library::render(&lib);
    assert!(
        listed.contains("`` the key \"{key}\" holds \"{value}\" `` — Sets a key."),
        "{listed}"
    );
}

#[test]
fn an_unknown_inner_sentence_is_refused_with_its_line_and_the_closest_ones() {
    let err = refused(
        "Step: the key \"{key}\" is set\n  When I run `SET {key} 1`\n  Then the reply iz \"OK\"\n",
    );
    assert!(
        err.contains("lib.steps:3: Then the reply iz \"OK\" (inside \"the key \"{key}\" is set\") matches no sentence"),
        "{err}"
    );
    assert!(
        err.contains("closest known sentences:\n      Then the reply is"),
        "{err}"
    );
}

#[test]
fn recursion_is_refused_directly_and_through_another_definition() {
    let err =
        refused("Step: a loop on \"{k}\"\n  When I run `GET {k}`\n  Given a loop on \"{k}\"\n");
    assert!(
        err.contains("lib.steps:1: \"a loop on \"{k}\"\" calls itself: \"a loop on \"{k}\"\" (lib.steps:1) → \"a loop on \"{k}\"\" (lib.steps:1)"),
        "{err}"
    );
    let err = refused(
        "Step: ping {n}\n  Given pong {n}\n\nStep: pong {n}\n  When I run `ECHO {n}`\n  Given ping {n}\n",
    );
    assert!(
        err.contains(
            "\"ping {n}\" (lib.steps:1) → \"pong {n}\" (lib.steps:4) → \"ping {n}\" (lib.steps:1)"
        ),
        "{err}"
    );
}

#[test]
fn a_parameter_declared_and_unused_or_used_and_undeclared_is_refused() {
    let err = refused("Step: a key {k} and {unused}\n  When I run `SET {k} 1`\n");
    assert!(
        err.contains("lib.steps:1: \"a key {k} and {unused}\" declares {unused}, which none of its steps uses"),
        "{err}"
    );
    let err = refused("Step: a key {k}\n  When I run `SET {k} {v}`\n");
    assert!(
        err.contains("lib.steps:2: {v} is not a parameter of \"a key {k}\" (it has {k})"),
        "{err}"
    );
    let err = refused("Step: {k} and {k}\n  When I run `SET {k} 1`\n");
    assert!(
        err.contains("lib.steps:1: \"{k} and {k}\" declares {k} twice"),
        "{err}"
    );
}

#[test]
fn a_sentence_defined_twice_or_already_built_in_is_refused() {
    let err = refused(&format!("{GOOD}\n{}", GOOD.replace("{value}", "{v}")));
    assert!(
        err.contains("lib.steps:5: \"the key \"{key}\" holds \"{v}\"\" is defined twice: lib.steps:1 defines \"the key \"{key}\" holds \"{value}\"\" first, and both match the step \"the key \"1\" holds \"1\"\""),
        "{err}"
    );
    let err = refused("Step: the reply is \"{text}\"\n  When I run `ECHO {text}`\n");
    assert!(
        err.contains("lib.steps:1: \"the reply is \"{text}\"\" is already a built-in sentence: Then the reply is \"…\""),
        "{err}"
    );
}

#[test]
fn a_library_that_is_not_step_blocks_is_refused_with_its_line() {
    let err = refused("Step: empty\n\nStep: x {k}\n  When I run `GET {k}`\n");
    assert!(
        err.contains("lib.steps:1: `Step: empty` needs a sentence and at least one step"),
        "{err}"
    );
    let err = refused("Step: a\n  When I run `GET k`\n  | a |\n  | b\n");
    assert!(
        err.contains("lib.steps:4: this table row is not closed"),
        "{err}"
    );
}

#[tokio::test]
async fn a_failure_inside_a_defined_step_names_the_users_step_the_definition_and_the_inner_step() {
    let root = tempfile::tempdir().unwrap();
    let outcome = common::run_here(
        "tests/fixtures/run/fail",
        "step_library",
        KeepPolicy::Never,
        root.path(),
    )
    .await;
    assert!(outcome.failed);
    let failed: Vec<_> = outcome
        .scenarios
        .iter()
        .filter_map(|s| s.failure.as_ref())
        .collect();
    assert_eq!(failed.len(), 1, "{outcome:?}");
    assert_eq!(failed[0].line, 11);
    assert_eq!(
        failed[0].step,
        "Then reading \"k\" gives \"two\" (defined at tests/fixtures/run/steps/keys.steps:9), at its step: Then the reply is \"two\""
    );
    assert!(
        failed[0].message.contains("expected the text \"two\""),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_library_named_by_the_runner_is_read_and_a_call_with_a_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.steps"), GOOD).unwrap();
    std::fs::write(
        dir.path().join("t.feature"),
        "Feature: F\n  Scenario: S\n    Given a server\n    And the key \"a\" holds \"b\"\n      | x |\n",
    )
    .unwrap();
    let err = Runner::new(dir.path().join("t.feature"))
        .args(["step_library"])
        .steps(dir.path().join("lib.steps"))
        .quiet()
        .run()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "t.feature:4: And the key \"a\" holds \"b\": \"the key \"{key}\" holds \"{value}\"\""
        ) && err.contains("takes no table or doc string"),
        "{err}"
    );
}

#[test]
fn a_quoted_parameter_takes_no_quote_so_a_longer_sentence_is_another_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lib.steps");
    std::fs::write(
        &file,
        "Step: a thing \"{a}\"\n  When I run `ECHO {a}`\n\n\
         Step: a thing \"{a}\" and the arguments \"{b}\"\n  When I run `ECHO {a} {b}`\n",
    )
    .unwrap();
    let lib = Library::read(std::slice::from_ref(&file)).unwrap();
    lib.check(valkey_bdd::glossary::registered())
        .expect("two sentences, not one defined twice");
    let long = &lib.definitions[1].regex;
    let c = long
        .captures(r#"a thing "x y" and the arguments "say \"hi\"""#)
        .unwrap();
    assert_eq!((&c[1], &c[2]), ("x y", r#"say \"hi\""#));
    assert!(
        !lib.definitions[0]
            .regex
            .is_match(r#"a thing "x" and the arguments "y""#)
    );
}

#[test]
fn a_remembered_value_named_against_the_rule_is_refused_when_the_library_is_read() {
    let err = refused(
        "Step: the uptime is kept\n  When I remember the INFO field \"uptime_in_seconds\" as \"uptime before\"\n",
    );
    assert!(
        err.contains("lib.steps:2: When I remember the INFO field \"uptime_in_seconds\" as \"uptime before\": \"uptime before\" cannot be the name of a remembered value: a remembered value's name is a word of letters, digits and _, not starting with a digit (\"uptime_before\")"),
        "{err}"
    );
    let err = refused(
        "Step: the uptime grew\n  Then the remembered \"a\" is at least ${uptime before}\n",
    );
    assert!(
        err.contains("lib.steps:2: Then the remembered \"a\" is at least ${uptime before}: ${uptime before}: \"uptime before\" is not a name: a remembered value's name is a word of letters, digits and _, not starting with a digit (${uptime_before})"),
        "{err}"
    );
    assert!(!err.contains("matches no sentence"), "{err}");
}

/// Runs the feature `text` (as `t.feature`) with the library `lib`; the
/// error that stops it before any server starts, the temporary folder's
/// path shown as `DIR`.
async fn refused_run(lib: &str, feature: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.steps"), lib).unwrap();
    std::fs::write(dir.path().join("t.feature"), feature).unwrap();
    let err = Runner::new(dir.path().join("t.feature"))
        .args(["step_library"])
        .steps(dir.path().join("lib.steps"))
        .quiet()
        .run()
        .await
        .unwrap_err()
        .to_string();
    let shown = dir.path().canonicalize().unwrap().display().to_string();
    err.replace(&shown, "DIR")
        .replace(&dir.path().display().to_string(), "DIR")
}

#[tokio::test]
async fn a_bad_argument_names_the_users_step_the_definition_and_the_argument() {
    let err = refused_run(
        "Step: the reply counts {n}\n  Then the reply is the integer {n}\n",
        "Feature: F\n  Scenario: S\n    Given a server\n    When I run `DBSIZE`\n    Then the reply counts one\n",
    )
    .await;
    assert!(
        err.contains(
            "  DIR/t.feature:5  Then the reply counts one
    calls \"the reply counts {n}\" (DIR/lib.steps:1), whose step DIR/lib.steps:2 becomes
      Then the reply is the integer one
    which matches no sentence: the argument {n} = \"one\" does not fit there
    closest known sentences:
      Then the reply is the integer "
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_remembered_value_named_against_the_rule_in_a_feature_is_refused_before_any_server() {
    let err = refused_run(
        GOOD,
        "Feature: F\n  Scenario: S\n    Given a server\n    When I remember the reply to `INFO` as \"uptime before\"\n    Then the remembered \"x\" is at least ${uptime before}\n",
    )
    .await;
    assert!(
        err.contains("2 step(s) name a remembered value against the rule:"),
        "{err}"
    );
    assert!(
        err.contains("  DIR/t.feature:4  When I remember the reply to `INFO` as \"uptime before\"\n    \"uptime before\" cannot be the name of a remembered value"),
        "{err}"
    );
    assert!(
        err.contains("  DIR/t.feature:5  Then the remembered \"x\" is at least ${uptime before}\n    ${uptime before}: \"uptime before\" is not a name"),
        "{err}"
    );
    assert!(!err.contains("match no step definition"), "{err}");
}
