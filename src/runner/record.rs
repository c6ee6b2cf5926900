//! What happened to each scenario, as cucumber's events tell it: the step
//! that failed with its message, and when the scenario started and ended.
//!
//! [`Recorder`] wraps the writer that prints the run and passes every event
//! on unchanged; the runner reads the [`Log`] once the run is over.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cucumber::event::{self, Cucumber, Feature, Rule, Scenario, Step};
use cucumber::{Event, World, Writer, gherkin, parser, writer};

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

/// One scenario as seen through the events.
#[derive(Debug, Clone, Default)]
pub struct Seen {
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
    started: HashMap<(Option<PathBuf>, usize), Instant>,
    calls: super::library::Calls,
}

impl<Wr> Recorder<Wr> {
    /// Wraps `inner`, recording into `log`.
    pub fn new(inner: Wr, log: Log) -> Self {
        Recorder {
            inner,
            log,
            started: HashMap::new(),
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
                self.started.insert(key, Instant::now());
            }
            Scenario::Finished => {
                let took = self.started.remove(&key).map(|t| t.elapsed());
                self.with_seen(key, |seen| seen.duration = took);
            }
            Scenario::Step(step, Step::Failed(_, _, _, err))
            | Scenario::Background(step, Step::Failed(_, _, _, err)) => {
                let inner = format!("{}{}", step.keyword, step.value);
                let path = feature
                    .path
                    .as_ref()
                    .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()));
                let step_text = match path.and_then(|p| self.calls.get(&(p, step.position.line))) {
                    Some(call) => format!("{call}, at its step: {inner}"),
                    None => inner,
                };
                self.with_seen(key, |seen| {
                    seen.failure.get_or_insert_with(|| StepFailure {
                        line: step.position.line,
                        step: step_text,
                        message: step_error(err),
                    });
                });
            }
            Scenario::Hook(_, event::Hook::Failed(_, info)) => {
                self.with_seen(key, |seen| seen.hook_failure = Some(panic_text(info)));
            }
            _ => {}
        }
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

/// The key of a scenario in the [`Log`].
pub fn key_of(
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
) -> (Option<PathBuf>, usize) {
    (feature.path.clone(), scenario.position.line)
}
