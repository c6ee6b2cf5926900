//! The run's HTML report: one self-contained file (styles, script and
//! charts inline, nothing fetched when it is opened) made from the
//! [`Outcome`] with the `minijinja` template `templates/report.html`.
//!
//! It shows the failed scenarios first, each with its message, the
//! servers' log tails and the kept directory; then the features with the
//! scenarios that passed, their steps and durations; skipped scenarios
//! last, folded, with their reasons; a timeline of the
//! run in inline SVG (one bar per scenario, coloured by verdict, placed by
//! when it ran, so that what ran concurrently stands one above the other);
//! and filters by verdict and tag. The scenarios' names, verdicts and
//! durations are also embedded as JSON (`<script id="valkey-bdd-data">`),
//! for tools and for the test that compares the reports of one run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use super::summary::seconds;
use super::{Outcome, ScenarioResult, StepStatus, Verdict};
use crate::error::{Error, Result};

/// The template, compiled into the library so that a downstream crate's
/// runs can write reports too.
const TEMPLATE: &str = include_str!("../../templates/report.html");

/// The timeline's width in SVG units; bars scale to the window.
const WIDTH: f64 = 1000.0;
/// One lane of the timeline, in SVG units.
const LANE: f64 = 18.0;

#[derive(Serialize)]
struct Page {
    binary: String,
    /// Why the report is incomplete, shown as a banner.
    partial: Option<String>,
    wall: String,
    selected: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    spent: Vec<String>,
    tags: Vec<String>,
    /// The failed scenarios, first on the page: what a reader opens it for.
    failures: Vec<ScenarioView>,
    /// The others that ran, by feature.
    features: Vec<FeatureView>,
    /// The skipped scenarios, last and folded.
    skips: Vec<ScenarioView>,
    timeline: Timeline,
    data: String,
}

#[derive(Serialize)]
struct FeatureView {
    name: String,
    file: String,
    scenarios: Vec<ScenarioView>,
}

#[derive(Serialize)]
struct ScenarioView {
    id: String,
    name: String,
    /// Its feature's name, shown on the cards outside their feature.
    feature: String,
    place: String,
    verdict: &'static str,
    reason: Option<String>,
    duration: String,
    tags: Vec<String>,
    steps: Vec<StepView>,
    failure: Option<FailureView>,
    details: String,
    kept: Vec<String>,
    servers: Vec<String>,
}

#[derive(Serialize)]
struct StepView {
    step: String,
    line: usize,
    status: &'static str,
    duration: String,
    log: Vec<String>,
}

#[derive(Serialize)]
struct FailureView {
    step: String,
    line: usize,
    message: String,
}

#[derive(Serialize)]
struct Timeline {
    width: f64,
    height: f64,
    bars: Vec<Bar>,
    ticks: Vec<Tick>,
}

#[derive(Serialize)]
struct Bar {
    id: String,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    verdict: &'static str,
    tags: String,
    title: String,
    /// The scenario's name and how many servers it had, written on the bar.
    label: String,
}

#[derive(Serialize)]
struct Tick {
    x: f64,
    label: String,
}

/// What the embedded JSON says of each scenario.
#[derive(Serialize)]
struct Datum<'a> {
    place: &'a str,
    feature: &'a str,
    scenario: &'a str,
    verdict: &'static str,
    reason: Option<&'a str>,
    duration_ms: Option<f64>,
    started_ms: Option<f64>,
    servers: &'a [String],
}

fn verdict(v: &Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::Skipped(_) => "skipped",
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The report of a run, as one HTML page; `binary` names the server binary.
pub fn render(o: &Outcome, binary: &str) -> Result<String> {
    let mut results: Vec<&ScenarioResult> = o.scenarios.iter().collect();
    results.sort_by(|a, b| a.key.cmp(&b.key));
    // The combinations of one scenario share its place: the key tells them apart.
    let ids: BTreeMap<&super::record::Key, String> = results
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.key, format!("s{i}")))
        .collect();
    let mut failures = Vec::new();
    let mut skips = Vec::new();
    let mut features: Vec<FeatureView> = Vec::new();
    for r in &results {
        let view = || scenario_view(r, ids[&r.key].clone());
        match r.verdict {
            Verdict::Failed => {
                failures.push(view());
                continue;
            }
            Verdict::Skipped(_) => {
                skips.push(view());
                continue;
            }
            Verdict::Passed => {}
        }
        let file = r.place.rsplit_once(':').map_or(r.place.as_str(), |p| p.0);
        if features.last().is_none_or(|f| f.file != file) {
            features.push(FeatureView {
                name: r.feature.clone(),
                file: file.to_string(),
                scenarios: Vec::new(),
            });
        }
        if let Some(f) = features.last_mut() {
            f.scenarios.push(view());
        }
    }
    let tags: BTreeSet<String> = results.iter().flat_map(|r| r.tags.clone()).collect();
    let data: Vec<Datum> = results
        .iter()
        .map(|r| Datum {
            place: &r.place,
            feature: &r.feature,
            scenario: &r.scenario,
            verdict: verdict(&r.verdict),
            reason: match &r.verdict {
                Verdict::Skipped(why) => Some(why),
                _ => None,
            },
            duration_ms: r.duration.map(ms),
            started_ms: r.started_at.map(ms),
            servers: &r.servers,
        })
        .collect();
    let data = serde_json::to_string(&data)
        .map_err(|e| bug(format!("its data cannot be written as JSON: {e}")))?
        // Inside <script>, `</` could end the element early.
        .replace("</", "<\\/");
    let spent = &o.spent;
    let page = Page {
        binary: binary.to_string(),
        partial: o.partial.clone(),
        wall: seconds(o.wall),
        selected: o.selected,
        passed: o.count(|v| matches!(v, Verdict::Passed)),
        failed: o.count(|v| matches!(v, Verdict::Failed)),
        skipped: o.count(|v| matches!(v, Verdict::Skipped(_))),
        spent: vec![
            format!(
                "starting {} servers: {}",
                spent.starting_servers.count,
                seconds(spent.starting_servers.time)
            ),
            format!(
                "forming {} clusters: {}",
                spent.forming_clusters.count,
                seconds(spent.forming_clusters.time)
            ),
            format!(
                "{} waits for a state: {}",
                spent.waiting.count,
                seconds(spent.waiting.time)
            ),
        ],
        tags: tags.into_iter().collect(),
        failures,
        features,
        skips,
        timeline: timeline(&results, &ids, o.wall),
        data,
    };
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| bug(format!("its template does not parse: {e}")))?;
    env.get_template("report.html")
        .and_then(|t| t.render(minijinja::value::Serde(&page)))
        .map_err(|e| bug(format!("its template cannot be rendered: {e}")))
}

fn bug(what: String) -> Error {
    Error::Config {
        what: format!("the HTML report cannot be made: {what}"),
        hint: "report this as a bug of valkey-bdd".into(),
    }
}

fn scenario_view(r: &ScenarioResult, id: String) -> ScenarioView {
    const KEPT: &str = "── kept its directory: ";
    ScenarioView {
        id,
        name: r.scenario.clone(),
        feature: r.feature.clone(),
        place: r.place.clone(),
        verdict: verdict(&r.verdict),
        reason: match &r.verdict {
            Verdict::Skipped(why) => Some(why.clone()),
            _ => None,
        },
        duration: r.duration.map(seconds).unwrap_or_default(),
        tags: r.tags.clone(),
        steps: r
            .steps
            .iter()
            .map(|s| StepView {
                step: s.step.clone(),
                line: s.line,
                status: match s.status {
                    StepStatus::Passed => "passed",
                    StepStatus::Failed => "failed",
                    StepStatus::Skipped => "skipped",
                },
                duration: s.duration.map(seconds).unwrap_or_default(),
                log: s.log.clone(),
            })
            .collect(),
        failure: r.failure.as_ref().map(|f| FailureView {
            step: f.step.clone(),
            line: f.line,
            message: f.message.clone(),
        }),
        details: r.details.clone(),
        kept: r
            .details
            .lines()
            .filter_map(|l| l.strip_prefix(KEPT))
            .map(|l| l.trim_end_matches(" ──").to_string())
            .collect(),
        servers: r.servers.clone(),
    }
}

/// One bar per scenario that ran, each in the first lane free when it
/// started: lanes show what ran at the same time.
fn timeline(
    results: &[&ScenarioResult],
    ids: &BTreeMap<&super::record::Key, String>,
    wall: Duration,
) -> Timeline {
    let mut ran: Vec<(Duration, Duration, &ScenarioResult)> = results
        .iter()
        .filter_map(|r| Some((r.started_at?, r.duration?, *r)))
        .collect();
    ran.sort_by_key(|(start, _, _)| *start);
    let end = ran
        .iter()
        .map(|(s, d, _)| *s + *d)
        .max()
        .unwrap_or_default()
        .max(wall)
        .max(Duration::from_millis(1));
    let scale = WIDTH / end.as_secs_f64();
    let mut lanes: Vec<Duration> = Vec::new();
    let mut bars = Vec::new();
    for (start, took, r) in ran {
        let lane = match lanes.iter().position(|free| *free <= start) {
            Some(i) => i,
            None => {
                lanes.push(Duration::ZERO);
                lanes.len() - 1
            }
        };
        lanes[lane] = start + took;
        let mut title = format!(
            "{} ({}) — {}, {} from {}",
            r.scenario,
            r.place,
            verdict(&r.verdict),
            seconds(took),
            seconds(start)
        );
        if r.servers.is_empty() {
            title.push_str("\nno server");
        }
        for s in &r.servers {
            title.push_str(&format!("\n{s}"));
        }
        let label = format!(
            "{} · {} server{}",
            r.scenario,
            r.servers.len(),
            if r.servers.len() == 1 { "" } else { "s" }
        );
        bars.push(Bar {
            id: ids[&r.key].clone(),
            x: start.as_secs_f64() * scale,
            y: lane as f64 * LANE,
            w: (took.as_secs_f64() * scale).max(2.0),
            h: LANE - 3.0,
            verdict: verdict(&r.verdict),
            tags: r.tags.join(" "),
            title,
            label,
        });
    }
    let step = tick_step(end);
    let ticks = (0..)
        .map(|i| step * i)
        .take_while(|t| *t <= end)
        .map(|t| Tick {
            x: t.as_secs_f64() * scale,
            label: seconds(t),
        })
        .collect();
    Timeline {
        width: WIDTH,
        height: (lanes.len().max(1) as f64) * LANE,
        bars,
        ticks,
    }
}

/// A round interval giving at most ten ticks over `end`.
fn tick_step(end: Duration) -> Duration {
    const STEPS_MS: &[u64] = &[
        10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000,
        300_000, 600_000,
    ];
    STEPS_MS
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .find(|s| end.as_secs_f64() / s.as_secs_f64() <= 10.0)
        .unwrap_or(Duration::from_secs(1800))
}
