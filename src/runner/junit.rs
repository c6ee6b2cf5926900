//! The run's JUnit report, made from the [`Outcome`] with `quick-junit`: one
//! suite per feature file, one case per scenario with its duration, a failed
//! one with its failing step, message and server log tails, a skipped one
//! with its reason. Shards' reports merge into one ([`merge`]), and a
//! report's durations pack later shards ([`timings`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

pub use quick_junit::Report;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{Outcome, Verdict};
use crate::error::{Error, Result};

/// The property that carries a case's test name (see
/// [`super::select::Candidate::test_name`]).
const TEST_NAME: &str = "valkey-bdd.test";

/// The report of a run.
pub fn of(outcome: &Outcome) -> Report {
    let mut suites: BTreeMap<String, Vec<TestCase>> = BTreeMap::new();
    let mut results: Vec<_> = outcome.scenarios.iter().collect();
    results.sort_by(|a, b| a.key.cmp(&b.key));
    for r in results {
        let file = r
            .place
            .rsplit_once(':')
            .map_or(r.place.as_str(), |(f, _)| f);
        let status = match &r.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::Failed => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                match &r.failure {
                    Some(f) => {
                        s.set_message(format!("{}:{} {}", file, f.line, f.step));
                        s.set_description(format!("{}\n{}", f.message, r.details));
                    }
                    None => {
                        s.set_message("failed");
                        s.set_description(r.details.clone());
                    }
                }
                s
            }
            Verdict::Skipped(why) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(why.clone());
                s
            }
        };
        let mut case = TestCase::new(r.scenario.clone(), status);
        case.set_classname(format!("{}: {}", file, r.feature));
        if let Some(d) = r.duration {
            case.set_time(d);
        }
        case.add_property(Property::new(TEST_NAME, r.test_name.clone()));
        case.add_property(Property::new("valkey-bdd.place", r.place.clone()));
        suites.entry(file.to_string()).or_default().push(case);
    }
    let mut report = Report::new("valkey-bdd");
    for (file, cases) in suites {
        let mut suite = TestSuite::new(file);
        suite.add_test_cases(cases);
        report.add_test_suite(suite);
    }
    report
}

/// Reads a JUnit report written by valkey-bdd.
pub fn read(path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading the report {}", path.display()), e))?;
    Report::deserialize_from_str(&text).map_err(|e| Error::Config {
        what: format!("{} is not a JUnit report: {e}", path.display()),
        hint: "give the JUnit files that valkey-bdd runs wrote (VALKEY_BDD_JUNIT)".into(),
    })
}

/// One report of the cases of several (the shards of one run): suites of
/// the same file are joined, counts recomputed. A scenario that appears in
/// two reports is a mistake in the sharding and is refused.
pub fn merge(reports: Vec<Report>) -> Result<Report> {
    let mut suites: BTreeMap<String, Vec<TestCase>> = BTreeMap::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut time = Duration::ZERO;
    for (i, report) in reports.into_iter().enumerate() {
        time = time.max(report.time.unwrap_or_default());
        for suite in report.test_suites {
            for case in suite.test_cases {
                let place = property(&case, "valkey-bdd.place")
                    .unwrap_or_else(|| format!("{}: {}", suite.name.as_str(), case.name.as_str()));
                if let Some(first) = seen.insert(place.clone(), i) {
                    return Err(Error::Config {
                        what: format!(
                            "the scenario {place} is in report {} and in report {}",
                            first + 1,
                            i + 1
                        ),
                        hint: "merge the reports of the shards of one run, each once".into(),
                    });
                }
                suites
                    .entry(suite.name.as_str().to_string())
                    .or_default()
                    .push(case);
            }
        }
    }
    let mut report = Report::new("valkey-bdd");
    report.set_time(time);
    for (name, cases) in suites {
        let mut suite = TestSuite::new(name);
        suite.add_test_cases(cases);
        report.add_test_suite(suite);
    }
    Ok(report)
}

/// How long each test took in a report (a feature that shares servers is
/// one test: the sum of its scenarios).
pub fn timings(report: &Report) -> HashMap<String, Duration> {
    let mut out: HashMap<String, Duration> = HashMap::new();
    for case in report.test_suites.iter().flat_map(|s| s.test_cases.iter()) {
        if let (Some(name), Some(time)) = (property(case, TEST_NAME), case.time) {
            *out.entry(name).or_default() += time;
        }
    }
    out
}

fn property(case: &TestCase, name: &str) -> Option<String> {
    case.properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.value.as_str().to_string())
}

/// Writes a report whole: a temporary file beside it, renamed over it.
pub fn write(path: &Path, report: &Report) -> Result<()> {
    super::report::prepare(path)?;
    super::report::write_whole(path, &to_xml(report)?)
}

/// Serializes a report.
pub fn to_xml(report: &Report) -> Result<String> {
    report.to_string().map_err(|e| Error::Config {
        what: format!("the JUnit report cannot be written: {e}"),
        hint: "report this as a bug of valkey-bdd".into(),
    })
}
