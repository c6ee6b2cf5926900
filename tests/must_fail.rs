//! The must-fail corpus: every assertion sentence, put in a situation where
//! its claim is false, fails — at that sentence, with the message a user
//! needs. A harness whose checks could pass vacuously would fail here.
//!
//! Convention of `tests/must_fail/*.feature` (one file per capability):
//!
//! - the claim under test is the **last step** of its scenario; every step
//!   before it sets the situation up and must pass;
//! - the scenario's description (free text directly under `Scenario:`) has
//!   one line `Fails with: <text>` or more; the failure message must contain
//!   each text;
//! - scenario names are unique across the corpus.
//!
//! ```gherkin
//! Scenario: nil is not the integer 0
//!   Fails with: expected (integer) 0
//!   When I run `GET missing`
//!   Then the reply is the integer 0
//! ```
//!
//! `tests/glossary.rs` checks that every assertion sentence (each `Then`,
//! and the checkpoints listed there) is the last step of some scenario here.
//!
//! Deadlines: the run sets `VALKEY_BDD_WAIT_TIMEOUT=3` unless it is set
//! already, so the twins of the sentences that wait ("eventually", "is
//! blocked", "becomes") give up after 3 s; they run at the same time. So
//! does `VALKEY_BDD_SERVO_TIMEOUT`, for the twin of a servo that hangs.

use std::path::{Path, PathBuf};

use valkey_bdd::Runner;
use valkey_bdd::cucumber::gherkin;
use valkey_bdd::runner::Verdict;
use valkey_bdd::settings::KeepPolicy;

const CORPUS: &str = "tests/must_fail";

/// One scenario of the corpus, as written.
#[derive(Debug)]
struct Twin {
    feature: String,
    scenario: String,
    place: String,
    /// The line and text of its last step: the claim.
    last_line: usize,
    last_step: String,
    /// The texts the failure message must contain.
    expected: Vec<String>,
}

fn feature_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    out.sort();
    out
}

/// The texts of a scenario's `Fails with:` lines.
fn expected_texts(description: Option<&str>) -> Vec<String> {
    description
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Fails with:"))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn corpus() -> Vec<Twin> {
    let mut twins = Vec::new();
    for file in feature_files(Path::new(CORPUS)) {
        let feature = gherkin::Feature::parse_path(&file, gherkin::GherkinEnv::default())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let scenarios = feature
            .scenarios
            .iter()
            .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()));
        for s in scenarios {
            let place = format!("{}:{}", file.display(), s.position.line);
            let last = s
                .steps
                .last()
                .unwrap_or_else(|| panic!("{place}: a scenario without steps"));
            let expected = expected_texts(s.description.as_deref());
            assert!(
                !expected.is_empty(),
                "{place}: \"{}\" says nothing of its failure: put a line `Fails with: <text>` under `Scenario:`",
                s.name
            );
            twins.push(Twin {
                feature: feature.name.clone(),
                scenario: s.name.clone(),
                place,
                last_line: last.position.line,
                last_step: format!("{}{}", last.keyword, last.value),
                expected,
            });
        }
    }
    twins
}

#[test]
fn the_corpus_is_well_formed() {
    let twins = corpus();
    assert!(twins.len() > 50, "only {} scenarios", twins.len());
    let mut names: Vec<(&str, &str)> = twins
        .iter()
        .map(|t| (t.feature.as_str(), t.scenario.as_str()))
        .collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "two scenarios share a name");
}

#[tokio::test]
async fn every_twin_fails_at_its_last_step_with_its_message() {
    if std::env::var_os("VALKEY_BDD_WAIT_TIMEOUT").is_none() {
        // SAFETY: set before the run starts anything that reads the
        // environment; the other test of this binary does not read it.
        unsafe { std::env::set_var("VALKEY_BDD_WAIT_TIMEOUT", "3") };
    }
    if std::env::var_os("VALKEY_BDD_SERVO_TIMEOUT").is_none() {
        // SAFETY: as above; the twin of a servo that hangs gives up after 3 s.
        unsafe { std::env::set_var("VALKEY_BDD_SERVO_TIMEOUT", "3") };
    }
    let twins = corpus();
    let started = std::time::Instant::now();
    let outcome = Runner::new(CORPUS)
        .quiet()
        .keep(KeepPolicy::Never)
        .args(["must_fail"])
        .run()
        .await
        .expect("the corpus runs");
    eprintln!(
        "must-fail corpus: {} scenarios in {:.1?}",
        outcome.scenarios.len(),
        started.elapsed()
    );
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    for twin in &twins {
        let Some(result) = outcome
            .scenarios
            .iter()
            .find(|r| r.feature == twin.feature && r.scenario == twin.scenario)
        else {
            problems.push(format!("{}: \"{}\" did not run", twin.place, twin.scenario));
            continue;
        };
        match &result.verdict {
            Verdict::Failed => {}
            Verdict::Skipped(why) => {
                // The server cannot do what the scenario's tags ask: nothing
                // is proven here, and the run says so.
                skipped.push(format!("{}: {why}", twin.place));
                continue;
            }
            Verdict::Passed => {
                problems.push(format!(
                    "{}: \"{}\" PASSED although its claim is false: `{}`",
                    twin.place, twin.scenario, twin.last_step
                ));
                continue;
            }
        }
        let Some(failure) = &result.failure else {
            problems.push(format!(
                "{}: \"{}\" failed, but not at a step (a hook?)",
                twin.place, twin.scenario
            ));
            continue;
        };
        if failure.line != twin.last_line {
            problems.push(format!(
                "{}: \"{}\" failed at line {} (`{}`), not at its claim on line {} (`{}`):\n{}",
                twin.place,
                twin.scenario,
                failure.line,
                failure.step,
                twin.last_line,
                twin.last_step,
                indent(&failure.message)
            ));
            continue;
        }
        for text in &twin.expected {
            if !failure.message.contains(text.as_str()) {
                problems.push(format!(
                    "{}: \"{}\" failed at its claim, but its message lacks {text:?}:\n{}",
                    twin.place,
                    twin.scenario,
                    indent(&failure.message)
                ));
            }
        }
    }
    for s in &skipped {
        eprintln!("must-fail corpus: skipped {s}");
    }
    assert!(
        problems.is_empty(),
        "{} of {} must-fail scenarios did not fail as they must:\n\n{}",
        problems.len(),
        twins.len(),
        problems.join("\n\n")
    );
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
