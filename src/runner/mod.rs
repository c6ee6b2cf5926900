//! Running feature files: the entry point of `tests/cucumber.rs`, ours and
//! downstream crates' alike.
//!
//! On top of cucumber's own runner this adds what a suite of real servers
//! needs: a check that the vocabulary is linked, a banner naming the server
//! binary, a scan that reports unknown steps before anything starts, libtest
//! arguments (`cargo test -- --nocapture`, `cargo test <filter>`) accepted,
//! teardown of every scenario's servers in the `after` hook, an interrupted
//! run (Ctrl-C, SIGTERM) that kills its servers and removes its directories
//! before it exits, and, first of all, the removal of what runs killed
//! earlier left on disk ([`crate::leftovers`]).

mod args;
pub mod classify;
mod clipped;
pub mod combinations;
pub mod durations;
mod execute;
mod gather;
mod help;
pub mod html;
mod interrupt;
pub mod json;
pub mod junit;
pub mod library;
mod lint;
pub mod matrix;
mod names;
mod no_tests;
mod parser;
pub mod progress;
mod record;
pub mod report;
mod rooted;
mod run;
pub mod select;
pub mod servos;
pub mod shard;
mod summary;
mod unknown;

use std::path::{Path, PathBuf};

pub use args::LibtestArgs;
pub use help::render as help_text;
pub use record::{StepFailure, StepRecord, StepStatus};
pub use select::requirement;
pub use summary::render as summary;
pub use unknown::check_steps;

use crate::error::{Error, Result};
use crate::settings::KeepPolicy;

/// Runs every feature under `features` and exits the process: status 0 when
/// everything passed, 1 when something failed, 2 when the run could not
/// start, 4 when it selected no scenario ([`Error::NoTests`]).
///
/// ```no_run
/// #[tokio::main]
/// async fn main() {
///     valkey_bdd::run("tests/features").await;
/// }
/// ```
pub async fn run(features: impl Into<PathBuf>) {
    Runner::new(features).run_and_exit().await
}

/// A configurable run of feature files.
#[derive(Debug, Clone)]
pub struct Runner {
    features: Vec<PathBuf>,
    /// Positional arguments name feature files and folders (`valkey-bdd
    /// run`), not name filters (`cargo test persistence`).
    paths_from_args: bool,
    modules: Vec<(PathBuf, String)>,
    steps: Vec<PathBuf>,
    concurrency: Option<usize>,
    junit: Option<PathBuf>,
    /// `Some(None)`: no record, the order given.
    durations: Option<Option<PathBuf>>,
    json: Option<PathBuf>,
    report: Option<PathBuf>,
    args: Option<Vec<String>>,
    keep: Option<KeepPolicy>,
    quiet: bool,
    tmp_root: Option<PathBuf>,
    binary: Option<(PathBuf, String)>,
    /// Sentences of the crate's own steps declared unable to leave lasting
    /// state behind ([`Runner::reuse_safe_steps`]).
    reuse_safe: Vec<String>,
    /// Whether servers are reused ([`Runner::reuse`]); `None`: as
    /// `VALKEY_BDD_REUSE` says.
    reuse: Option<bool>,
}

/// How one scenario ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    /// Every step passed and no server died.
    Passed,
    /// A step failed, or a server died unexpectedly.
    Failed,
    /// Not run: the server cannot do what its tags ask, for this reason.
    Skipped(String),
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScenarioResult {
    /// The feature's name.
    pub feature: String,
    /// The scenario's name.
    pub scenario: String,
    /// `features/x.feature:12`.
    pub place: String,
    /// How it ended.
    pub verdict: Verdict,
    /// Where and why it failed: the failing step (or the teardown, for a
    /// server that died behind a passing scenario).
    pub failure: Option<StepFailure>,
    /// How long it ran (`None` when it did not).
    pub duration: Option<std::time::Duration>,
    /// The feature file (as cucumber read it) and the scenario's line.
    pub key: record::Key,
    /// Its name as a test (nextest, shards, reports).
    pub test_name: String,
    /// What its teardown reported: servers' log tails, a kept directory.
    pub details: String,
    /// When it started, counted from the start of the run (`None` when it
    /// did not run).
    pub started_at: Option<std::time::Duration>,
    /// Its steps as they ran, background first.
    pub steps: Vec<StepRecord>,
    /// The servers it had at its end (`server "cache" at 127.0.0.1:16003`),
    /// the feature's shared ones marked so.
    pub servers: Vec<String>,
    /// Its tags and its feature's, with their `@`.
    pub tags: Vec<String>,
    /// What servos logged with the steps that passed, by the step's line,
    /// until the run's end puts them under their steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_logs: Vec<(usize, Vec<String>)>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Steps that passed.
    pub passed_steps: usize,
    /// Steps that failed.
    pub failed_steps: usize,
    /// Steps that were skipped (an unknown step fails the run).
    pub skipped_steps: usize,
    /// Feature files that could not be parsed.
    pub parsing_errors: usize,
    /// Hooks that failed: a server that died unexpectedly fails the `after` hook.
    pub hook_errors: usize,
    /// Whether the run as a whole failed.
    pub failed: bool,
    /// Scenario and shared-server directories kept on disk, per the keep policy.
    pub kept: Vec<PathBuf>,
    /// How many scenarios the command line selected (run and skipped).
    pub selected: usize,
    /// Every scenario selected, with how it ended, in no particular order.
    pub scenarios: Vec<ScenarioResult>,
    /// The run's wall time: from cucumber reading the features to the end
    /// of the last scenario (the timeline of the HTML report spans it).
    pub wall: std::time::Duration,
    /// Time spent starting servers, forming clusters and waiting, summed
    /// over the run's scenarios ([`crate::spent`]).
    pub spent: crate::spent::Totals,
    /// Which part of which selection the run ran (1 of 1 unless sharded),
    /// recorded in its JUnit report for `report merge`.
    pub part: Option<shard::Part>,
    /// Why a report of it is incomplete (a `report merge --allow-partial`
    /// of some of the parts): every report format says so.
    pub partial: Option<String>,
}

impl Outcome {
    /// How many selected scenarios ended with this kind of verdict.
    pub fn count(&self, verdict: fn(&Verdict) -> bool) -> usize {
        self.scenarios
            .iter()
            .filter(|s| verdict(&s.verdict))
            .count()
    }
}

impl Runner {
    /// A run of the features under `features` (a file or a directory).
    pub fn new(features: impl Into<PathBuf>) -> Self {
        Runner {
            features: vec![features.into()],
            paths_from_args: false,
            modules: Vec::new(),
            steps: Vec::new(),
            concurrency: None,
            junit: None,
            durations: None,
            json: None,
            report: None,
            args: None,
            keep: None,
            quiet: false,
            tmp_root: None,
            binary: None,
            reuse_safe: Vec::new(),
            reuse: None,
        }
    }

    /// Whether default-configuration servers of passed scenarios are reset
    /// and handed to the next scenario (default: `VALKEY_BDD_REUSE`, on).
    pub fn reuse(mut self, on: bool) -> Self {
        self.reuse = Some(on);
        self
    }

    /// Declares sentences of the crate's own steps (regular expressions on
    /// the step's text) unable to leave behind state that a reset cannot
    /// undo, so that scenarios using them may take reused servers
    /// ([`crate::reuse`]). Without it, a scenario with a step valkey-bdd
    /// does not know starts its servers fresh and stops them.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// valkey_bdd::Runner::new("tests/features")
    ///     .reuse_safe_steps([r"^the cart of .* holds \d+ items?$"])
    ///     .run_and_exit()
    ///     .await
    /// # }
    /// ```
    pub fn reuse_safe_steps(
        mut self,
        patterns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.reuse_safe.extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Takes the command line's positional arguments as the feature files
    /// and folders to run (as `valkey-bdd run [PATH]...` does) instead of
    /// name filters; without any, the runner's own folder runs. Filters are
    /// then given with `--filter`.
    pub fn paths_from_args(mut self) -> Self {
        self.paths_from_args = true;
        self
    }

    /// Loads this module, with these arguments, into every server the
    /// scenarios start (also: `--module PATH --module-args "a b"`).
    pub fn module(mut self, path: impl Into<PathBuf>, args: impl Into<String>) -> Self {
        self.modules.push((path.into(), args.into()));
        self
    }

    /// Also reads this step library: a `*.steps` file, or a folder of them
    /// (also: `--steps PATH`, `VALKEY_BDD_STEPS`). Libraries beside and
    /// above the features are found without it ([`library::Library::discover`]).
    pub fn steps(mut self, path: impl Into<PathBuf>) -> Self {
        self.steps.push(path.into());
        self
    }

    /// How many scenarios run at once (the command line's `--concurrency`
    /// still wins). Default: [`crate::settings::concurrency`].
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Records each scenario's duration in `path` after the run, and starts
    /// the features with the longest scenarios first by the record found
    /// there (also: `VALKEY_BDD_DURATIONS`; by default a file in the cargo
    /// target directory).
    pub fn durations(mut self, path: impl Into<PathBuf>) -> Self {
        self.durations = Some(Some(path.into()));
        self
    }

    /// Keeps no durations record: features start in the order given (a
    /// test that shuffles them itself wants that order kept).
    pub fn without_durations(mut self) -> Self {
        self.durations = Some(None);
        self
    }

    /// Also writes a JUnit XML report to `path` (also: `VALKEY_BDD_JUNIT`).
    pub fn junit(mut self, path: impl Into<PathBuf>) -> Self {
        self.junit = Some(path.into());
        self
    }

    /// Also writes a Cucumber JSON report to `path` (also: `--json`,
    /// `VALKEY_BDD_JSON`).
    pub fn json(mut self, path: impl Into<PathBuf>) -> Self {
        self.json = Some(path.into());
        self
    }

    /// Also writes an HTML report of the run to `path` (also: `--report`,
    /// `VALKEY_BDD_REPORT`; see [`html`]).
    pub fn report(mut self, path: impl Into<PathBuf>) -> Self {
        self.report = Some(path.into());
        self
    }

    /// What to do with scenario directories (default: `VALKEY_BDD_KEEP`).
    pub fn keep(mut self, policy: KeepPolicy) -> Self {
        self.keep = Some(policy);
        self
    }

    /// Makes scenario directories under `root` (default: `VALKEY_BDD_TMPDIR`,
    /// else the system's temporary directory).
    pub fn tmp_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.tmp_root = Some(root.into());
        self
    }

    /// Runs every server from this binary instead of the search order's
    /// (a column of a matrix run); `label` names it in the run's banner.
    pub fn server_binary(mut self, path: impl Into<PathBuf>, label: impl Into<String>) -> Self {
        self.binary = Some((path.into(), label.into()));
        self
    }

    /// Prints no scenario output (for runs inside tests of the harness).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Takes command-line arguments from here instead of the process's
    /// (the first one is the program name, as in `std::env::args`).
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// Runs and exits the process with the outcome's status. With
    /// `VALKEY_BDD_MATRIX` set, runs once per binary it lists and prints
    /// the table of scenario × server ([`matrix`]).
    pub async fn run_and_exit(self) -> ! {
        let matrix = LibtestArgs::from(self.raw_args())
            .matrix
            .or_else(|| std::env::var(matrix::ENV_MATRIX).ok());
        if let Some(spec) = matrix.filter(|s| !s.is_empty()) {
            let result = match matrix::parse_columns(&spec) {
                Ok(columns) => matrix::run(&self, &columns).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(m) => {
                    println!("\n{}", m.render());
                    std::process::exit(if m.failed() { 1 } else { 0 })
                }
                Err(e) => {
                    eprintln!("valkey-bdd: {e}");
                    std::process::exit(e.exit_status())
                }
            }
        }
        match self.run().await {
            Ok(o) if !o.failed => std::process::exit(0),
            Ok(_) => std::process::exit(1),
            Err(e) => {
                eprintln!("valkey-bdd: {e}");
                std::process::exit(e.exit_status())
            }
        }
    }
}

impl Runner {
    /// The command line: the one given, else the process's.
    fn raw_args(&self) -> Vec<String> {
        self.args
            .clone()
            .unwrap_or_else(|| std::env::args().collect())
    }

    /// Removes the directories that runs killed earlier left in the roots
    /// this run uses ([`crate::leftovers::sweep`]).
    fn sweep_leftovers(&self) {
        let roots = crate::leftovers::roots(self.tmp_root.clone());
        let removed = crate::leftovers::sweep(&roots);
        if !removed.is_empty() {
            eprintln!(
                "valkey-bdd: removed {} director{} left by earlier runs that were killed",
                removed.len(),
                if removed.len() == 1 { "y" } else { "ies" }
            );
        }
    }

    fn output(&self) -> Box<dyn std::io::Write> {
        if self.quiet {
            Box::new(std::io::sink())
        } else {
            Box::new(std::io::stdout())
        }
    }
}

/// The harness's own diagnostics go to stderr at `warn`; other crates stay
/// quiet unless `VALKEY_BDD_LOG` asks for them: the redis crate's cluster
/// client warns on every connection a scenario breaks on purpose (a killed
/// node), which would bury the harness's own messages. Colour only on a
/// terminal.
fn init_tracing() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("VALKEY_BDD_LOG")
        .unwrap_or_else(|_| EnvFilter::new("off,valkey_bdd=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// The files under `dir` whose extension is `extension`, sorted; `what`
/// names them in an error (`the features`).
fn files_under(dir: &Path, extension: &str, what: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = entry.map_err(|e| {
            let at = e.path().unwrap_or(dir).display().to_string();
            match e.into_io_error() {
                Some(io) => Error::io(format!("reading {what} in {at}"), io),
                None => Error::Config {
                    what: format!("reading {what} in {at}: a symbolic link loops"),
                    hint: "remove the link that points to a folder above it".into(),
                },
            }
        })?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == extension) {
            out.push(entry.into_path());
        }
    }
    out.sort();
    Ok(out)
}

/// A path as the user typed it: relative to the current directory when it
/// lies below it (cucumber makes feature paths absolute).
fn relative(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .or_else(|| path.strip_prefix(".").ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}
