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
mod help;
pub mod html;
mod interrupt;
pub mod json;
pub mod junit;
pub mod library;
mod parser;
pub mod progress;
mod record;
mod report;
pub mod select;
pub mod shard;
mod summary;
mod unknown;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clap::Parser as _;
use cucumber::{WriterExt as _, event, gherkin, writer};
use futures::FutureExt as _;

pub use args::LibtestArgs;
pub use help::render as help_text;
pub use record::{StepFailure, StepRecord, StepStatus};
pub use select::requirement;
pub use summary::render as summary;
pub use unknown::check_steps;

use crate::binary::ServerBinary;
use crate::error::{Error, Result};
use crate::glossary;
use crate::settings::KeepPolicy;
use crate::world::{ScenarioInfo, ValkeyWorld};

/// Runs every feature under `features` and exits the process: status 0 when
/// everything passed, 1 when something failed, 2 when the run could not start.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every step passed and no server died.
    Passed,
    /// A step failed, or a server died unexpectedly.
    Failed,
    /// Not run: the server cannot do what its tags ask, for this reason.
    Skipped(String),
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub key: (Option<PathBuf>, usize),
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
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// the table of scenario × server ([`crate::matrix`]).
    pub async fn run_and_exit(self) -> ! {
        let matrix = LibtestArgs::from(self.raw_args())
            .matrix
            .or_else(|| std::env::var(crate::matrix::ENV_MATRIX).ok());
        if let Some(spec) = matrix.filter(|s| !s.is_empty()) {
            let result = match crate::matrix::parse_columns(&spec) {
                Ok(columns) => crate::matrix::run(&self, &columns).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(m) => {
                    println!("\n{}", m.render());
                    std::process::exit(if m.failed() { 1 } else { 0 })
                }
                Err(e) => {
                    eprintln!("valkey-bdd: {e}");
                    std::process::exit(2)
                }
            }
        }
        match self.run().await {
            Ok(o) if !o.failed => std::process::exit(0),
            Ok(_) => std::process::exit(1),
            Err(e) => {
                eprintln!("valkey-bdd: {e}");
                std::process::exit(2)
            }
        }
    }

    /// Runs the features and reports what happened. `Err` means the run could
    /// not start (bad settings or arguments, a feature file that cannot be
    /// parsed, unknown steps, no server binary).
    pub async fn run(self) -> Result<Outcome> {
        init_tracing();
        crate::settings::validate()?;
        self.sweep_leftovers();
        let steps = glossary::self_check().map_err(|what| Error::Config {
            what,
            hint: "see the README section on reusing the steps from another crate".into(),
        })?;
        tracing::debug!(steps, "steps registered");
        let mut args = LibtestArgs::from(self.raw_args());
        if args.help {
            print!("{}", help::render());
            return Ok(Outcome::default());
        }
        let mut features = self.features.clone();
        if self.paths_from_args && !args.filters.is_empty() {
            features = std::mem::take(&mut args.filters)
                .into_iter()
                .map(PathBuf::from)
                .collect();
        }
        let criteria = args.criteria()?;
        let keep = match (&args.keep, self.keep) {
            (Some(k), _) => keep_policy(k)?,
            (None, Some(k)) => k,
            (None, None) => KeepPolicy::from_env()?,
        };
        let strict = args.strict || crate::settings::strict()?;
        let mut modules = self.modules.clone();
        modules.extend(args.modules.iter().map(|(p, a)| (p.into(), a.clone())));
        /// The command line's modules are the run's setting for its length only.
        struct CommandLineModules;
        impl Drop for CommandLineModules {
            fn drop(&mut self) {
                crate::settings::set_command_line_modules(None);
            }
        }
        let _modules = (!modules.is_empty()).then(|| {
            crate::settings::set_command_line_modules(Some(modules));
            CommandLineModules
        });
        let modules = crate::settings::run_modules()?;
        let mut extra_steps = self.steps.clone();
        extra_steps.extend(args.steps.iter().map(PathBuf::from));
        extra_steps.extend(crate::settings::step_libraries());
        let roots = if criteria.inputs.is_empty() {
            features.clone()
        } else {
            select::feature_files_of(&features, &criteria)?
        };
        let library = library::Library::discover(&roots, &extra_steps)?;
        library.check(glossary::registered())?;
        let gate = select::Gate::load_with(&features, &criteria, &library)?;
        if args.list {
            // nextest's custom-harness protocol: every test as `name: test`;
            // with --ignored, the ignored ones (there are none).
            if !args.ignored {
                for name in gate.test_names() {
                    println!("{name}: test");
                }
            }
            return Ok(Outcome::default());
        }
        unknown::check_steps(&gate)?;

        /// Puts the search order back however the run ends.
        struct MainBinary;
        impl Drop for MainBinary {
            fn drop(&mut self) {
                crate::binary::set_main(None);
            }
        }
        let _main = self.binary.clone().map(|b| {
            crate::binary::set_main(Some(b));
            MainBinary
        });
        for (path, margs) in &modules {
            eprintln!(
                "valkey-bdd: every server loads the module {} {margs}",
                path.display()
            );
        }
        /// Forgets the external deployment however the run ends.
        struct ExternalRun;
        impl Drop for ExternalRun {
            fn drop(&mut self) {
                crate::external::set_active(None);
            }
        }
        let external = match crate::external::Endpoint::from_env()? {
            Some(endpoint) => Some(Arc::new(
                crate::external::External::connect(endpoint).await?,
            )),
            None => None,
        };
        let _external = external.clone().map(|x| {
            crate::external::set_active(Some(x));
            ExternalRun
        });
        let binary = match &external {
            Some(x) => {
                eprintln!(
                    "valkey-bdd: external server {} ({} {}, {} node(s)); scenarios run one at a time",
                    x.endpoint.url(),
                    x.binary.engine,
                    x.binary.version_string(),
                    x.nodes().count()
                );
                x.binary.clone()
            }
            None => {
                let binary = ServerBinary::resolve(None).await?;
                eprintln!("valkey-bdd: server {binary}");
                binary
            }
        };
        let selection = self
            .selection(&gate, &binary, external.as_deref(), strict)
            .await?;
        let pool = match crate::settings::cluster_pool()? {
            _ if external.is_some() => 0,
            Some(n) => n,
            // Pooled nodes are started without the run's module: no cluster
            // of this run could use them.
            None if !modules.is_empty() => 0,
            None => gate.cluster_nodes_wanted(&selection).min(32),
        };
        if pool > 0 {
            crate::pool::enable(pool);
            eprintln!("valkey-bdd: keeping {pool} cluster nodes started ahead of need");
        }
        let reuse_safe: Vec<regex::Regex> = self
            .reuse_safe
            .iter()
            .map(|p| {
                regex::Regex::new(p).map_err(|e| Error::Config {
                    what: format!("the reuse-safe sentence /{p}/ is not a regular expression: {e}"),
                    hint: "pass regular expressions on the step's text to Runner::reuse_safe_steps"
                        .into(),
                })
            })
            .collect::<Result<_>>()?;
        let reuse = self.reuse.map_or_else(crate::settings::reuse, Ok)?
            && external.is_none()
            && crate::settings::wrapper()?.is_none()
            && keep != KeepPolicy::Always;

        let concurrency = match self.concurrency {
            // Scenarios share the one external database.
            _ if external.is_some() => 1,
            Some(n) => n,
            None => crate::settings::concurrency()?,
        };
        if reuse {
            // Enough for every scenario running at once to find one.
            crate::reuse::enable(concurrency.max(1) * 2);
        }
        let reuse_safe = Arc::new(reuse_safe);
        let reports = report::Reports::prepare(
            args.junit
                .clone()
                .map(PathBuf::from)
                .or_else(|| self.junit.clone())
                .or_else(crate::settings::junit_path),
            args.json
                .clone()
                .map(PathBuf::from)
                .or_else(|| self.json.clone())
                .or_else(crate::settings::json_path),
            args.report
                .clone()
                .map(PathBuf::from)
                .or_else(|| self.report.clone())
                .or_else(crate::settings::report_path),
        )?;
        let board = progress::Board::new(
            selection.running(),
            progress::Mode::detect(self.quiet, crate::settings::slow_notice()?),
        );
        let kept: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
        let results: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
        let log = record::Log::default();
        let tmp_root = self
            .tmp_root
            .clone()
            .unwrap_or_else(crate::settings::tmp_root);
        let cucumber = cucumber::Cucumber::<ValkeyWorld, _, PathBuf, _, _, _>::new()
            .steps(crate::glossary::collection_for(&gate.features))
            .with_parser::<parser::Parsed, Vec<gherkin::Feature>>(parser::Parsed)
            .max_concurrent_scenarios(concurrency)
            .before(move |feature, rule, scenario, world| {
                world.set_keep_policy(keep);
                world.set_tmp_root(tmp_root.clone());
                if reuse {
                    let steps: Vec<gherkin::Step> = feature
                        .background
                        .iter()
                        .chain(rule.and_then(|r| r.background.as_ref()))
                        .flat_map(|b| b.steps.iter())
                        .chain(scenario.steps.iter())
                        .cloned()
                        .collect();
                    let why = crate::reuse::classify::why_not(&steps, &reuse_safe);
                    tracing::debug!(scenario = %scenario.name, "reuse: {}", why.as_deref().unwrap_or("allowed"));
                    world.set_reuse(why.is_none());
                }
                world.set_scenario(ScenarioInfo {
                    feature: feature.name.clone(),
                    feature_path: feature.path.clone(),
                    scenario: scenario.name.clone(),
                    line: scenario.position.line,
                    network: crate::network::scenario_states_faults(feature, rule, scenario),
                });
                futures::future::ready(()).boxed_local()
            })
            .after({
                let kept = kept.clone();
                let results = results.clone();
                let board = board.clone();
                move |feature, _rule, scenario, finished, world| {
                    let kept = kept.clone();
                    let results = results.clone();
                    let board = board.clone();
                    async move {
                        if let Some(world) = world {
                            let servers = world
                                .servers()
                                .map(|(name, s)| {
                                    let shared = if world.is_shared(name) {
                                        " (shared)"
                                    } else {
                                        ""
                                    };
                                    format!("{}{shared}", s.describe())
                                })
                                .collect();
                            let (failed, death, details) =
                                after_scenario(scenario, finished, world, &kept, &board).await;
                            results.lock().unwrap_or_else(|p| p.into_inner()).push(
                                ScenarioResult {
                                    feature: feature.name.clone(),
                                    scenario: scenario.name.clone(),
                                    place: format!(
                                        "{}:{}",
                                        feature.path.as_ref().map_or("?".into(), |p| relative(p)),
                                        scenario.position.line
                                    ),
                                    verdict: if failed {
                                        Verdict::Failed
                                    } else {
                                        Verdict::Passed
                                    },
                                    failure: None,
                                    duration: None,
                                    key: record::key_of(feature, scenario),
                                    test_name: String::new(),
                                    details,
                                    started_at: None,
                                    steps: Vec::new(),
                                    servers,
                                    tags: Vec::new(),
                                },
                            );
                            if let Some(death) = death {
                                panic!("{death}");
                            }
                        }
                    }
                    .boxed_local()
                }
            });
        let selected = selection.selected;
        let skipped = selection.skipped.clone();
        let writer = writer::Basic::raw(
            progress::Output::new(board.clone(), self.output()),
            writer::Coloring::Auto,
            writer::Verbosity::Default,
        )
        .summarized()
        .tee::<ValkeyWorld, _>(json::IfAsked(
            reports
                .wants_json()
                .then(|| writer::Json::for_tee(reports.json.clone())),
        ))
        .normalized()
        .fail_on_skipped();
        let cucumber = cucumber.with_writer(
            record::Recorder::new(writer, log.clone(), board.clone())
                .with_calls(gate.calls.clone()),
        );
        let spent_before = crate::spent::totals();
        let reuse_before = crate::reuse::counts();
        let run_start = std::time::Instant::now();
        let shown = board.spawn();
        let mut outcome = execute(cucumber, gate.features.clone(), args, selection, keep).await;
        drop(shown);
        let wall = run_start.elapsed();
        crate::pool::drain().await;
        crate::reuse::drain().await;
        let reused = crate::reuse::counts();
        if reused.reused > reuse_before.reused && !self.quiet {
            eprintln!(
                "valkey-bdd: {} server(s) reused after a verified reset{}",
                reused.reused - reuse_before.reused,
                match reused.rejected - reuse_before.rejected {
                    0 => String::new(),
                    n => format!("; {n} failed the check after their reset and were stopped"),
                }
            );
        }
        let mut kept = std::mem::take(&mut *kept.lock().unwrap_or_else(|p| p.into_inner()));
        kept.extend(crate::shared::teardown_all(keep).await);
        if !kept.is_empty() {
            eprintln!(
                "valkey-bdd: kept {} director{} (VALKEY_BDD_KEEP={}):",
                kept.len(),
                if kept.len() == 1 { "y" } else { "ies" },
                keep.name()
            );
            for dir in &kept {
                eprintln!("  {}", dir.display());
            }
        }
        if let Ok(o) = outcome.as_mut() {
            o.kept = kept;
            o.selected = selected;
            o.wall = wall;
            o.spent = crate::spent::totals().since(spent_before);
            let mut scenarios =
                std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
            let log = log.lock().unwrap_or_else(|p| p.into_inner());
            for r in &mut scenarios {
                if let Some(seen) = log.get(&r.key) {
                    r.failure = seen.failure.clone();
                    r.duration = seen.duration;
                    r.started_at = seen.started_at;
                    r.steps = seen.steps.clone();
                    if r.failure.is_none() {
                        r.failure = seen.hook_failure.clone().map(|message| StepFailure {
                            line: r.key.1,
                            step: "(after the scenario)".into(),
                            message,
                        });
                    }
                }
            }
            scenarios.extend(skipped.into_iter().map(|(c, reason)| ScenarioResult {
                feature: c.feature.clone(),
                scenario: c.scenario.clone(),
                place: c.place(),
                verdict: Verdict::Skipped(reason),
                failure: None,
                duration: None,
                key: (Some(c.path.clone()), c.line),
                test_name: c.test_name.clone(),
                details: String::new(),
                started_at: None,
                steps: Vec::new(),
                servers: Vec::new(),
                tags: Vec::new(),
            }));
            let candidates: std::collections::HashMap<_, _> = gate
                .candidates
                .iter()
                .map(|c| ((c.path.clone(), c.line), c))
                .collect();
            for r in &mut scenarios {
                if let Some(path) = &r.key.0 {
                    let path = path.canonicalize().unwrap_or_else(|_| path.clone());
                    if let Some(c) = candidates.get(&(path, r.key.1)) {
                        if r.test_name.is_empty() {
                            r.test_name = c.test_name.clone();
                        }
                        r.tags = c.tags.iter().map(|t| format!("@{t}")).collect();
                    }
                }
            }
            o.scenarios = scenarios;
            reports.write(o, &binary.to_string())?;
            if !self.quiet {
                eprintln!("{}", summary::render(o));
            }
        }
        outcome
    }

    /// Checks the harness tags of the selected scenarios against the binary
    /// and splits the selection into what runs and what is skipped.
    async fn selection(
        &self,
        gate: &select::Gate,
        binary: &ServerBinary,
        external: Option<&crate::external::External>,
        strict: bool,
    ) -> Result<select::Selection> {
        let used = gate.tags_used();
        let mut unmet = std::collections::BTreeMap::new();
        if let Some(external) = external {
            for tag in &used {
                if let Some(Err(why)) = crate::external::requirement(tag, external).await {
                    unmet.insert(tag.clone(), why);
                } else if (tag.starts_with("min-version:") || tag.starts_with("engine:"))
                    && let Some(Err(why)) = select::requirement(tag, binary).await
                {
                    unmet.insert(tag.clone(), why);
                }
            }
            let mut selection = gate.select(&unmet, crate::settings::strict()?, binary)?;
            for c in gate.selected() {
                if let Some(why) = crate::external::why_not(&c.tags, &c.steps, external) {
                    selection.skip(c, why);
                }
            }
            report_skips(&selection);
            return Ok(selection);
        }
        if used.contains("mixed-versions") {
            match crate::binary::older_and_newer().await {
                Ok((older, newer)) => eprintln!(
                    "valkey-bdd: @mixed-versions scenarios run {} {} against {} {}",
                    older.engine,
                    older.version_string(),
                    newer.engine,
                    newer.version_string()
                ),
                Err(why) => {
                    unmet.insert("mixed-versions".to_string(), why);
                }
            }
        }
        if used.contains("atomic-slot-migration") {
            match crate::binary::with_atomic_slot_migration().await {
                Ok(b) => eprintln!(
                    "valkey-bdd: @atomic-slot-migration scenarios run {} {}",
                    b.engine,
                    b.version_string()
                ),
                Err(why) => {
                    unmet.insert("atomic-slot-migration".to_string(), why);
                }
            }
        }
        for tag in &used {
            if let Some(Err(why)) = select::requirement(tag, binary).await {
                unmet.insert(tag.clone(), why);
            }
        }
        let selection = gate.select(&unmet, strict, binary)?;
        report_skips(&selection);
        Ok(selection)
    }
}

fn report_skips(selection: &select::Selection) {
    for (c, reason) in &selection.skipped {
        eprintln!(
            "valkey-bdd: skipped \"{}\" ({}): {reason}",
            c.scenario,
            c.place()
        );
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

/// Parses cucumber's own arguments and runs the selected scenarios,
/// stopping every server if the run is interrupted.
async fn execute<W>(
    cucumber: cucumber::Cucumber<
        ValkeyWorld,
        parser::Parsed,
        Vec<gherkin::Feature>,
        impl cucumber::Runner<ValkeyWorld, Cli = cucumber::runner::basic::Cli>,
        W,
        cucumber::cli::Empty,
    >,
    features: Vec<gherkin::Feature>,
    args: LibtestArgs,
    selection: select::Selection,
    keep: KeepPolicy,
) -> Result<Outcome>
where
    W: cucumber::Writer<ValkeyWorld>
        + cucumber::writer::Stats<ValkeyWorld>
        + cucumber::writer::Normalized,
    W::Cli: clap::Args,
{
    let opts =
        cucumber::cli::Opts::<cucumber::cli::Empty, _, _, cucumber::cli::Empty>::try_parse_from(
            &args.args,
        )
        .map_err(|e| Error::Config {
            what: format!("bad command-line arguments {:?}:\n{e}", &args.args[1..]),
            hint: "see `cargo test --test cucumber -- --help`".into(),
        })?;
    let run = cucumber
        .with_cli(opts)
        .filter_run(features, move |feature, _rule, scenario| {
            selection.runs(feature.path.as_deref(), scenario.position.line)
        });
    let writer = tokio::select! {
        w = run => w,
        signal = interrupt::interrupted() => {
            // `exit` runs no destructor: everything is cleaned up here.
            let left = interrupt::clean_up_interrupted(keep).await;
            eprintln!(
                "valkey-bdd: {}: stopped every server and removed the run's directories, exiting",
                signal.what()
            );
            if !left.kept.is_empty() {
                eprintln!("valkey-bdd: kept (VALKEY_BDD_KEEP=always):");
                for dir in &left.kept {
                    eprintln!("  {}", dir.display());
                }
            }
            for failed in &left.failed {
                eprintln!("valkey-bdd: could not remove {failed}");
            }
            std::process::exit(signal.exit_code());
        }
    };
    Ok(Outcome {
        passed_steps: writer.passed_steps(),
        failed_steps: writer.failed_steps(),
        skipped_steps: writer.skipped_steps(),
        parsing_errors: writer.parsing_errors(),
        hook_errors: writer.hook_errors(),
        failed: writer.execution_has_failed(),
        ..Outcome::default()
    })
}

/// `--keep failed|always|never`.
fn keep_policy(name: &str) -> Result<KeepPolicy> {
    match name {
        "failed" => Ok(KeepPolicy::Failed),
        "always" => Ok(KeepPolicy::Always),
        "never" => Ok(KeepPolicy::Never),
        other => Err(Error::Config {
            what: format!("--keep {other:?} is not a keep policy"),
            hint: "use failed (the default), always or never".into(),
        }),
    }
}

async fn after_scenario(
    scenario: &gherkin::Scenario,
    finished: &event::ScenarioFinished,
    world: &mut ValkeyWorld,
    kept: &Mutex<Vec<PathBuf>>,
    board: &progress::Board,
) -> (bool, Option<String>, String) {
    let failed = matches!(
        finished,
        event::ScenarioFinished::StepFailed(..) | event::ScenarioFinished::BeforeHookFailed(_)
    );
    let t = world.teardown(failed).await;
    let where_ = format!(
        "{}:{}",
        world
            .scenario()
            .feature_path
            .as_ref()
            .map_or("?".into(), |p| relative(p)),
        scenario.position.line
    );
    let mut details = String::new();
    if !t.report.is_empty() || !t.kept.is_empty() {
        let mut msg = format!("\nvalkey-bdd: scenario \"{}\" ({where_})", scenario.name);
        if failed || !t.deaths.is_empty() {
            msg.push_str(" failed");
        }
        for r in &t.report {
            msg.push_str(&format!("\n{r}"));
        }
        for dir in &t.kept {
            msg.push_str(&format!("\n── kept its directory: {} ──", dir.display()));
            kept.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(dir.clone());
        }
        board.suspend(|| eprintln!("{msg}"));
        details = msg.trim_start().to_string();
    }
    // A server that crashed during a passing scenario fails it: the caller
    // panics with this, once it has recorded the result.
    let death = (!t.deaths.is_empty() && !failed).then(|| t.deaths.join("\n"));
    (failed || !t.deaths.is_empty(), death, details)
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
