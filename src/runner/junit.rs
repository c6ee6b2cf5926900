//! The run's JUnit report, made from the [`Outcome`] with `quick-junit`: one
//! suite per feature file, one case per scenario with its duration, a failed
//! one with its failing step, message and server log tails, a skipped one
//! with its reason. Shards' reports merge into one ([`merge`]), and a
//! report's durations pack later shards ([`timings`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use quick_junit::Report;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::{Outcome, Verdict};
use crate::error::{Error, Result};

/// The property that carries a case's test name (see
/// [`super::select::Candidate::test_name`]).
const TEST_NAME: &str = "valkey-bdd.test";
/// The suite property that says which part of the selection a report holds
/// (`2/3`).
const PART: &str = "valkey-bdd.part";
/// The suite property that names the whole selection: its size and digest
/// (`176 <sha256 hex>`).
const SELECTION: &str = "valkey-bdd.selection";
/// The suite property of an incomplete merged report: what is missing.
const PARTIAL: &str = "valkey-bdd.partial";
/// The name of the suite that carries the marks of a report without
/// scenarios (a part the selection left empty).
const EMPTY_PART: &str = "(no scenario in this part)";

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
        // What servos logged, under the step they logged it with.
        let logged: Vec<String> = r
            .steps
            .iter()
            .filter(|s| !s.log.is_empty())
            .map(|s| format!("{}:{} {}\n  {}", file, s.line, s.step, s.log.join("\n  ")))
            .collect();
        if !logged.is_empty() {
            case.set_system_out(logged.join("\n"));
        }
        suites.entry(file.to_string()).or_default().push(case);
    }
    let mut report = Report::new("valkey-bdd");
    report.set_time(outcome.wall);
    finish(
        &mut report,
        suites,
        outcome.part.as_ref(),
        outcome.partial.as_deref(),
    );
    report
}

/// Adds the suites to the report, each marked with the part it holds and
/// the partial report's note; a part without scenarios still has one
/// (empty) suite to carry its marks.
fn finish(
    report: &mut Report,
    mut suites: BTreeMap<String, Vec<TestCase>>,
    part: Option<&super::shard::Part>,
    partial: Option<&str>,
) {
    if suites.is_empty() && part.is_some() {
        suites.insert(EMPTY_PART.to_string(), Vec::new());
    }
    if let Some(note) = partial {
        report.name = Some(format!("valkey-bdd (partial: {note})").into());
    }
    for (file, cases) in suites {
        let mut suite = TestSuite::new(file);
        if let Some(part) = part {
            suite.add_property(Property::new(PART, part.fraction()));
            suite.add_property(Property::new(
                SELECTION,
                format!("{} {}", part.size, part.digest),
            ));
        }
        if let Some(note) = partial {
            suite.add_property(Property::new(PARTIAL, note.to_string()));
        }
        suite.add_test_cases(cases);
        report.add_test_suite(suite);
    }
}

/// The part a report says it holds (`None` when it says none).
pub fn part_of(report: &Report) -> Option<super::shard::Part> {
    report.test_suites.iter().find_map(|suite| {
        let get = |name: &str| {
            suite
                .properties
                .iter()
                .find(|p| p.name.as_str() == name)
                .map(|p| p.value.as_str().to_string())
        };
        let (fraction, selection) = (get(PART)?, get(SELECTION)?);
        let (index, total) = fraction.split_once('/')?;
        let (size, digest) = selection.split_once(' ')?;
        Some(super::shard::Part {
            index: index.parse().ok()?,
            total: total.parse().ok()?,
            size: size.parse().ok()?,
            digest: digest.to_string(),
        })
    })
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

/// The report [`merge`] made, and what it lacks when it is partial.
#[derive(Debug)]
pub struct Merged {
    /// The joined report.
    pub report: Report,
    /// What is missing (`None`: every part of the selection is in).
    pub partial: Option<String>,
}

fn refused(what: String) -> Error {
    Error::Config {
        what,
        hint: "merge the JUnit reports of every shard of one run (--shard 1/n ... n/n, the same selection), each once; --allow-partial writes a report marked partial from the parts at hand".into(),
    }
}

/// One report of the cases of several (the shards of one run), as if one
/// machine had run them all: suites of the same file joined, counts
/// recomputed, the time the longest part's (the parts run at once).
///
/// Each report says which part of which selection it holds; a part that
/// is missing, a report that says none, a part given twice, a report of
/// another selection or a scenario found in two reports is refused, naming
/// it. `allow_partial` lets missing parts and unmarked reports through:
/// the report is then marked partial, saying what is missing. A repeated
/// or mismatched part is refused even so: the report would count a
/// scenario twice or mix two runs.
pub fn merge(reports: Vec<(PathBuf, Report)>, allow_partial: bool) -> Result<Merged> {
    let name = |p: &Path| p.display().to_string();
    let mut missing: Vec<String> = Vec::new();
    let mut whole: Option<(super::shard::Part, &Path)> = None;
    let mut given: BTreeMap<u64, &Path> = BTreeMap::new();
    for (path, report) in &reports {
        let Some(part) = part_of(report) else {
            missing.push(format!(
                "{} does not say which part of which selection it holds (a report of another tool, or of a valkey-bdd older than the part marks)",
                name(path)
            ));
            continue;
        };
        match &whole {
            None => whole = Some((part.clone(), path.as_path())),
            Some((first, at))
                if (first.total, first.size, &first.digest)
                    != (part.total, part.size, &part.digest) =>
            {
                return Err(refused(format!(
                    "{} is part {} of a selection of {}; {} is part {} of a selection of {}: they are not parts of one run",
                    name(at),
                    first.fraction(),
                    first.selection(),
                    name(path),
                    part.fraction(),
                    part.selection()
                )));
            }
            Some(_) => {}
        }
        if let Some(first) = given.insert(part.index, path.as_path()) {
            return Err(refused(format!(
                "part {} is given twice: {} and {}",
                part.fraction(),
                name(first),
                name(path)
            )));
        }
    }
    if let Some((part, _)) = &whole {
        let absent: Vec<String> = (1..=part.total)
            .filter(|i| !given.contains_key(i))
            .map(|i| format!("{i}/{}", part.total))
            .collect();
        if !absent.is_empty() {
            missing.insert(
                0,
                format!(
                    "part{} {} of the selection of {} {} missing",
                    if absent.len() == 1 { "" } else { "s" },
                    absent.join(", "),
                    part.selection(),
                    if absent.len() == 1 { "is" } else { "are" }
                ),
            );
        }
    }
    if !missing.is_empty() && !allow_partial {
        return Err(refused(missing.join("; ")));
    }
    let mut suites: BTreeMap<String, Vec<TestCase>> = BTreeMap::new();
    let mut seen: HashMap<String, &Path> = HashMap::new();
    let mut time = Duration::ZERO;
    let mut held: Vec<(String, usize)> = Vec::new();
    for (path, report) in &reports {
        time = time.max(report.time.unwrap_or_default());
        for suite in &report.test_suites {
            for case in &suite.test_cases {
                let place = property(case, "valkey-bdd.place")
                    .unwrap_or_else(|| format!("{}: {}", suite.name.as_str(), case.name.as_str()));
                // The combinations of one scenario share its place.
                let label = super::combinations::label_of(case.name.as_str());
                let scenario = if label.is_empty() {
                    place.clone()
                } else {
                    format!("{place} [{label}]")
                };
                if let Some(first) = seen.insert(scenario.clone(), path.as_path()) {
                    return Err(refused(format!(
                        "the scenario {scenario} is in {} and in {}",
                        name(first),
                        name(path)
                    )));
                }
                let line = place
                    .rsplit_once(':')
                    .and_then(|(_, l)| l.parse().ok())
                    .unwrap_or(0);
                held.push((property(case, TEST_NAME).unwrap_or_default(), line));
                suites
                    .entry(suite.name.as_str().to_string())
                    .or_default()
                    .push(case.clone());
            }
        }
    }
    suites.remove(EMPTY_PART);
    let mut whole_part = None;
    if missing.is_empty()
        && let Some((part, _)) = whole
    {
        let digest = super::shard::Part::digest(held.iter().map(|(n, l)| (n.as_str(), *l)));
        if held.len() != part.size || digest != part.digest {
            return Err(refused(format!(
                "the {} parts hold {} scenarios, not the {} their selection has (sha256 {}…, theirs {}…): a report was changed, or the shards ran different feature files",
                part.total,
                held.len(),
                part.size,
                &digest[..16],
                &part.digest[..part.digest.len().min(16)]
            )));
        }
        whole_part = Some(super::shard::Part {
            index: 1,
            total: 1,
            ..part
        });
    }
    let partial = (!missing.is_empty()).then(|| missing.join("; "));
    let mut report = Report::new("valkey-bdd");
    report.set_time(time);
    finish(&mut report, suites, whole_part.as_ref(), partial.as_deref());
    Ok(Merged { report, partial })
}

/// The outcome a report tells of, for the HTML report of merged parts:
/// scenarios with their verdicts, durations and failures (a JUnit report
/// keeps no steps, no start times and no server counts).
pub fn outcome(report: &Report, partial: Option<String>) -> super::Outcome {
    let mut scenarios = Vec::new();
    for suite in &report.test_suites {
        for case in &suite.test_cases {
            let place = property(case, "valkey-bdd.place").unwrap_or_default();
            let (file, line) = place
                .rsplit_once(':')
                .map(|(f, l)| (f.to_string(), l.parse().unwrap_or(0)))
                .unwrap_or((suite.name.as_str().to_string(), 0));
            let feature = case
                .classname
                .as_ref()
                .and_then(|c| c.as_str().split_once(": ").map(|(_, f)| f.to_string()))
                .unwrap_or_default();
            let (verdict, failure) = match &case.status {
                TestCaseStatus::Success { .. } => (Verdict::Passed, None),
                TestCaseStatus::Skipped { message, .. } => (
                    Verdict::Skipped(
                        message
                            .as_ref()
                            .map(|m| m.as_str().to_string())
                            .unwrap_or_default(),
                    ),
                    None,
                ),
                TestCaseStatus::NonSuccess {
                    message,
                    description,
                    ..
                } => {
                    // "file:line step", as `of` wrote it.
                    let message = message.as_ref().map_or("", |m| m.as_str());
                    let (at, step) = message.split_once(' ').unwrap_or((message, ""));
                    (
                        Verdict::Failed,
                        Some(super::StepFailure {
                            line: at
                                .rsplit_once(':')
                                .and_then(|(_, l)| l.parse().ok())
                                .unwrap_or(line),
                            step: step.to_string(),
                            message: description
                                .as_ref()
                                .map(|d| d.as_str().to_string())
                                .unwrap_or_default(),
                        }),
                    )
                }
            };
            scenarios.push(super::ScenarioResult {
                feature,
                scenario: case.name.as_str().to_string(),
                place: place.clone(),
                verdict,
                failure,
                duration: case.time,
                key: (
                    Some(PathBuf::from(file)),
                    line,
                    super::combinations::label_of(case.name.as_str()).to_string(),
                ),
                test_name: property(case, TEST_NAME).unwrap_or_default(),
                details: String::new(),
                started_at: None,
                steps: Vec::new(),
                servers: Vec::new(),
                tags: Vec::new(),
                step_logs: Vec::new(),
            });
        }
    }
    super::Outcome {
        selected: scenarios.len(),
        failed: scenarios.iter().any(|s| s.verdict == Verdict::Failed),
        scenarios,
        wall: report.time.unwrap_or_default(),
        part: part_of(report),
        partial,
        ..super::Outcome::default()
    }
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
