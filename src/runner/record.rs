//! What happened to each scenario, as cucumber's events tell it: the step
//! that failed with its message, each step's verdict and duration, and when
//! the scenario started and ended.
//!
//! [`Recorder`] wraps the writer that prints the run and passes every event
//! on, its long values clipped ([`super::clipped`]); it sees events as they happen (before cucumber reorders
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepFailure {
    /// The failing step's line in its feature file.
    pub line: usize,
    /// The step as written: keyword and text (`Then the reply is "OK"`).
    pub step: String,
    /// What the step said when it failed.
    pub message: String,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StepStatus {
    /// It passed.
    Passed,
    /// It failed (the scenario's first failure, see [`StepFailure`]).
    Failed,
    /// It did not run: an earlier step failed.
    Skipped,
}

/// One step of a scenario as it ran.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepRecord {
    /// Keyword and text (`When I run \`PING\``).
    pub step: String,
    /// Its line in the feature file.
    pub line: usize,
    /// How it ended.
    pub status: StepStatus,
    /// From its start to its end (`None` for a step that did not run).
    pub duration: Option<Duration>,
    /// What a servo logged with it, each line prefixed by
    /// `[role/implementation]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
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
pub type Log = Arc<Mutex<HashMap<Key, Seen>>>;

/// What tells a scenario apart: its feature file, its line, and the
/// combination of roles' implementations its name carries (empty for none;
/// [`super::combinations`]).
pub type Key = (Option<PathBuf>, usize, String);

/// A writer decorator that records each scenario's failure and duration in a
/// [`Log`], then passes the event on.
#[derive(Debug)]
pub struct Recorder<Wr> {
    inner: Wr,
    log: Log,
    board: Board,
    /// When the run started: scenarios' start times count from here.
    run_start: Instant,
    /// Scenarios running now, by the address of their parsed form.
    open: HashMap<usize, Open>,
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
            open: HashMap::new(),
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
        // A running scenario is known by the address of its parsed form,
        // which cucumber keeps alive while it runs: a step's event costs a
        // lookup by an integer, not a clone and hash of its file's path.
        let id = &**scenario as *const gherkin::Scenario as usize;
        match ev {
            Scenario::Started => {
                let now = Instant::now();
                let key = key_of(feature, scenario);
                self.board
                    .started(key.clone(), &scenario.name, &place_of(feature, scenario));
                let seen = Seen {
                    started_at: Some(now.duration_since(self.run_start)),
                    ..Seen::default()
                };
                self.open.insert(
                    id,
                    Open {
                        key,
                        started: now,
                        step: None,
                        seen,
                    },
                );
            }
            Scenario::Finished => {
                let Some(mut open) = self.open.remove(&id) else {
                    return;
                };
                open.seen.duration = Some(open.started.elapsed());
                let failed = open.seen.failure.is_some() || open.seen.hook_failure.is_some();
                self.board.finished(&open.key, failed);
                let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
                let entry = log.entry(open.key).or_default();
                entry.started_at = entry.started_at.or(open.seen.started_at);
                entry.steps.extend(open.seen.steps);
                entry.failure = entry.failure.take().or(open.seen.failure);
                entry.hook_failure = entry.hook_failure.take().or(open.seen.hook_failure);
                entry.duration = open.seen.duration;
            }
            Scenario::Step(step, ev) | Scenario::Background(step, ev) => {
                let path = feature.path.as_deref();
                if let Some(open) = self.open.get_mut(&id) {
                    observe_step(open, &self.calls, path, step, ev);
                }
            }
            Scenario::Hook(_, event::Hook::Failed(_, info)) => {
                let text = panic_text(info);
                match self.open.get_mut(&id) {
                    Some(open) => open.seen.hook_failure = Some(text),
                    None => {
                        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
                        log.entry(key_of(feature, scenario))
                            .or_default()
                            .hook_failure = Some(text);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A scenario that has started and not yet finished: what the [`Log`] will
/// get when it finishes.
#[derive(Debug)]
struct Open {
    key: Key,
    started: Instant,
    /// The step running now: its line and when it started.
    step: Option<(usize, Instant)>,
    seen: Seen,
}

fn observe_step<W>(
    open: &mut Open,
    calls: &super::library::Calls,
    path: Option<&std::path::Path>,
    step: &gherkin::Step,
    ev: &Step<W>,
) {
    let status = match ev {
        Step::Started => {
            open.step = Some((step.position.line, Instant::now()));
            return;
        }
        Step::Passed(..) => StepStatus::Passed,
        Step::Skipped => StepStatus::Skipped,
        Step::Failed(_, _, _, err) => {
            // A step of a step-library definition: the user's own step
            // and where the definition is, then the inner step.
            let inner = format!("{}{}", step.keyword, step.value);
            let path = path.map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf()));
            let step_text = match path.and_then(|p| calls.get(&(p, step.position.line))) {
                Some(call) => format!("{call}, at its step: {inner}"),
                None => inner,
            };
            open.seen.failure.get_or_insert(StepFailure {
                line: step.position.line,
                step: step_text,
                message: step_error(err),
            });
            StepStatus::Failed
        }
    };
    let duration = match open.step.take() {
        Some((line, at)) if line == step.position.line => Some(at.elapsed()),
        other => {
            open.step = other;
            None
        }
    };
    open.seen.steps.push(StepRecord {
        step: format!("{}{}", step.keyword, step.value),
        line: step.position.line,
        status,
        duration,
        log: Vec::new(),
    });
}

impl<Wr> Recorder<Wr> {
    /// A failed step of a step-library definition: its message, as the
    /// writers after this one print it, starts with the user's own step,
    /// where that is and where the definition is, then the inner step —
    /// the console otherwise shows only the inner step, at the user's line.
    fn tell_the_call<W>(&self, ev: &mut Cucumber<W>) {
        let (feature, ev) = match ev {
            Cucumber::Feature(f, Feature::Scenario(_, r))
            | Cucumber::Feature(f, Feature::Rule(_, Rule::Scenario(_, r))) => (f, &mut r.event),
            _ => return,
        };
        let (Scenario::Step(step, Step::Failed(_, _, _, err))
        | Scenario::Background(step, Step::Failed(_, _, _, err))) = ev
        else {
            return;
        };
        let Some(path) = feature.path.as_deref() else {
            return;
        };
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let Some(call) = self.calls.get(&(canonical, step.position.line)) else {
            return;
        };
        let inner = format!("{}{}", step.keyword, step.value);
        let told = format!(
            "{} ({}:{}), defined at {}, failed at its step {}{}:\n{}",
            call.step,
            super::relative(path),
            step.position.line,
            call.defined_at,
            inner,
            call.place_of(&inner)
                .map(|p| format!(" ({p})"))
                .unwrap_or_default(),
            step_error(err)
        );
        *err = event::StepError::Panic(Arc::new(told));
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
        // Long steps and messages are clipped for every writer and report.
        let mut event = super::clipped::clipped(event);
        if let Ok(ev) = &mut event {
            self.observe(&ev.value);
            self.tell_the_call(&mut ev.value);
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
pub fn key_of(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Key {
    (
        feature.path.clone(),
        scenario.position.line,
        super::combinations::label_of(&scenario.name).to_string(),
    )
}
