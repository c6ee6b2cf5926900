//! What happened to each scenario, as cucumber's events tell it: the step
//! that failed with its message, each step's verdict and duration, and when
//! the scenario started and ended.
//!
//! [`Recorder`] wraps the writer that prints the run and passes every event
//! on unchanged; it sees events as they happen (before cucumber reorders
//! them for printing), so it also tells the [`Board`] of the progress line
//! which scenarios run. The runner reads the [`Log`] once the run is over.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cucumber::event::{self, Cucumber, Feature, Rule, Scenario, Step};
use cucumber::{Event, World, Writer, gherkin, parser, writer};

use super::progress::Board;

/// Where a step failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    /// The failing step's line in its feature file.
    pub line: usize,
    /// The step as written: keyword and text (`Then the reply is "OK"`).
    pub step: String,
    /// What the step said when it failed.
    pub message: String,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// It passed.
    Passed,
    /// It failed (the scenario's first failure, see [`StepFailure`]).
    Failed,
    /// It did not run: an earlier step failed.
    Skipped,
}

/// One step of a scenario as it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    /// Keyword and text (`When I run \`PING\``).
    pub step: String,
    /// Its line in the feature file.
    pub line: usize,
    /// How it ended.
    pub status: StepStatus,
    /// From its start to its end (`None` for a step that did not run).
    pub duration: Option<Duration>,
}

/// One scenario as seen through the events.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// When it started, counted from the start of the run.
    pub started_at: Option<Duration>,
    /// Its steps (background first) in the order they ended.
    pub steps: Vec<StepRecord>,
    /// The first step that failed (a background step counts).
    pub failure: Option<StepFailure>,
    /// A hook that failed: a server that died behind a passing scenario.
    pub hook_failure: Option<String>,
    /// From the scenario's start to its end.
    pub duration: Option<Duration>,
}

/// The scenarios of a run by `(feature file, line)`, filled in as events arrive.
pub type Log = Arc<Mutex<HashMap<(Option<PathBuf>, usize), Seen>>>;

/// A writer decorator that records each scenario's failure and duration in a
/// [`Log`], then passes the event on.
#[derive(Debug)]
pub struct Recorder<Wr> {
    inner: Wr,
    log: Log,
    board: Board,
    /// When the run started: scenarios' start times count from here.
    run_start: Instant,
    started: HashMap<(Option<PathBuf>, usize), Instant>,
    /// Steps running now, by scenario and step line.
    steps: HashMap<((Option<PathBuf>, usize), usize), Instant>,
    calls: super::library::Calls,
}

impl<Wr> Recorder<Wr> {
    /// Wraps `inner`, recording into `log` and telling `board` which
    /// scenarios start and end.
    pub fn new(inner: Wr, log: Log, board: Board) -> Self {
        Recorder {
            inner,
            log,
            board,
            run_start: Instant::now(),
            started: HashMap::new(),
            steps: HashMap::new(),
            calls: Default::default(),
        }
    }

    /// Names, for a failing step that a step-library definition stands for,
    /// the user's own step and where the definition is, before the inner
    /// step that failed.
    pub fn with_calls(mut self, calls: super::library::Calls) -> Self {
        self.calls = calls;
        self
    }

    fn observe<W>(&mut self, ev: &Cucumber<W>) {
        let (feature, scenario, ev) = match ev {
            Cucumber::Feature(f, Feature::Scenario(sc, r))
            | Cucumber::Feature(f, Feature::Rule(_, Rule::Scenario(sc, r))) => (f, sc, &r.event),
            _ => return,
        };
        let key = (feature.path.clone(), scenario.position.line);
        match ev {
            Scenario::Started => {
                let now = Instant::now();
                self.started.insert(key.clone(), now);
                let at = now.duration_since(self.run_start);
                self.board
                    .started(key.clone(), &scenario.name, &place_of(feature, scenario));
                self.with_seen(key, |seen| seen.started_at = Some(at));
            }
            Scenario::Finished => {
                let took = self.started.remove(&key).map(|t| t.elapsed());
                let mut failed = false;
                self.with_seen(key.clone(), |seen| {
                    seen.duration = took;
                    failed = seen.failure.is_some() || seen.hook_failure.is_some();
                });
                self.board.finished(&key, failed);
            }
            Scenario::Step(step, ev) | Scenario::Background(step, ev) => {
                self.observe_step(key, step, ev);
            }
            Scenario::Hook(_, event::Hook::Failed(_, info)) => {
                self.with_seen(key, |seen| seen.hook_failure = Some(panic_text(info)));
            }
            _ => {}
        }
    }

    fn observe_step<W>(
        &mut self,
        key: (Option<PathBuf>, usize),
        step: &gherkin::Step,
        ev: &Step<W>,
    ) {
        let at = (key.clone(), step.position.line);
        let status = match ev {
            Step::Started => {
                self.steps.insert(at, Instant::now());
                return;
            }
            Step::Passed(..) => StepStatus::Passed,
            Step::Skipped => StepStatus::Skipped,
            Step::Failed(_, _, _, err) => {
                // A step of a step-library definition: the user's own step
                // and where the definition is, then the inner step.
                let inner = format!("{}{}", step.keyword, step.value);
                let path = key
                    .0
                    .as_ref()
                    .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()));
                let step_text = match path.and_then(|p| self.calls.get(&(p, step.position.line))) {
                    Some(call) => format!("{call}, at its step: {inner}"),
                    None => inner,
                };
                let failure = StepFailure {
                    line: step.position.line,
                    step: step_text,
                    message: step_error(err),
                };
                self.with_seen(key.clone(), |seen| {
                    seen.failure.get_or_insert(failure);
                });
                StepStatus::Failed
            }
        };
        let duration = self.steps.remove(&at).map(|t| t.elapsed());
        self.with_seen(key, |seen| {
            seen.steps.push(StepRecord {
                step: format!("{}{}", step.keyword, step.value),
                line: step.position.line,
                status,
                duration,
            })
        });
    }

    fn with_seen(&self, key: (Option<PathBuf>, usize), f: impl FnOnce(&mut Seen)) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        f(log.entry(key).or_default());
    }
}

fn step_error(err: &event::StepError) -> String {
    match err {
        event::StepError::Panic(info) => panic_text(info),
        other => other.to_string(),
    }
}

/// The text of a panic payload (steps fail by panicking with their error).
pub fn panic_text(info: &event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(a panic without a message)".into())
}

impl<W: World, Wr: Writer<W>> Writer<W> for Recorder<Wr> {
    type Cli = Wr::Cli;

    async fn handle_event(&mut self, event: parser::Result<Event<Cucumber<W>>>, cli: &Self::Cli) {
        if let Ok(ev) = &event {
            self.observe(&ev.value);
        }
        self.inner.handle_event(event, cli).await;
    }
}

impl<W: World, Wr: writer::Stats<W>> writer::Stats<W> for Recorder<Wr> {
    fn passed_steps(&self) -> usize {
        self.inner.passed_steps()
    }
    fn skipped_steps(&self) -> usize {
        self.inner.skipped_steps()
    }
    fn failed_steps(&self) -> usize {
        self.inner.failed_steps()
    }
    fn retried_steps(&self) -> usize {
        self.inner.retried_steps()
    }
    fn parsing_errors(&self) -> usize {
        self.inner.parsing_errors()
    }
    fn hook_errors(&self) -> usize {
        self.inner.hook_errors()
    }
    fn execution_has_failed(&self) -> bool {
        self.inner.execution_has_failed()
    }
}

impl<W: World, Wr: writer::Arbitrary<W, V>, V> writer::Arbitrary<W, V> for Recorder<Wr> {
    async fn write(&mut self, val: V) {
        self.inner.write(val).await;
    }
}

impl<Wr: writer::Normalized> writer::Normalized for Recorder<Wr> {}

/// `features/x.feature:12`, relative to the current directory.
fn place_of(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> String {
    format!(
        "{}:{}",
        feature
            .path
            .as_ref()
            .map_or("?".into(), |p| super::relative(p)),
        scenario.position.line
    )
}

/// The key of a scenario in the [`Log`].
pub fn key_of(
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
) -> (Option<PathBuf>, usize) {
    (feature.path.clone(), scenario.position.line)
}
