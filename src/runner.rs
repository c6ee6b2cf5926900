//! Running feature files: the entry point of `tests/cucumber.rs`, ours and
//! downstream crates' alike.
//!
//! On top of cucumber's own runner this adds what a suite of real servers
//! needs: a check that the vocabulary is linked, a banner naming the server
//! binary, a scan that reports unknown steps before anything starts, libtest
//! arguments (`cargo test -- --nocapture`, `cargo test <filter>`) accepted,
//! teardown of every scenario's servers in the `after` hook, and an
//! interrupted run (Ctrl-C, SIGTERM) that kills its servers before it exits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clap::Parser as _;
use cucumber::{World as _, WriterExt as _, event, gherkin, writer};
use futures::FutureExt as _;

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
    features: PathBuf,
    concurrency: Option<usize>,
    junit: Option<PathBuf>,
    args: Option<Vec<String>>,
    keep: Option<KeepPolicy>,
    quiet: bool,
    tmp_root: Option<PathBuf>,
    binary: Option<(PathBuf, String)>,
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
    /// Every scenario selected, with how it ended, in no particular order.
    pub scenarios: Vec<ScenarioResult>,
}

impl Runner {
    /// A run of the features under `features` (a file or a directory).
    pub fn new(features: impl Into<PathBuf>) -> Self {
        Runner {
            features: features.into(),
            concurrency: None,
            junit: None,
            args: None,
            keep: None,
            quiet: false,
            tmp_root: None,
            binary: None,
        }
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
        if let Some(spec) = std::env::var(crate::matrix::ENV_MATRIX)
            .ok()
            .filter(|s| !s.is_empty())
        {
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
    /// not start (no server binary, unknown steps, bad arguments).
    pub async fn run(self) -> Result<Outcome> {
        init_tracing();
        let steps = glossary::self_check().map_err(|what| Error::Config {
            what,
            hint: "see the README section on reusing the steps from another crate".into(),
        })?;
        let args = LibtestArgs::from(
            self.args
                .clone()
                .unwrap_or_else(|| std::env::args().collect()),
        );
        if args.list {
            // `cargo nextest` and IDEs ask test binaries to list their tests;
            // scenarios are not libtest tests, so there is nothing to list.
            return Ok(Outcome::default());
        }
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
        let binary = ServerBinary::resolve(None).await?;
        eprintln!("valkey-bdd: server {binary}");
        let mut unmet = Vec::new();
        match crate::binary::older_and_newer().await {
            Ok((older, newer)) => eprintln!(
                "valkey-bdd: @mixed-versions scenarios run {} {} against {} {}",
                older.engine,
                older.version_string(),
                newer.engine,
                newer.version_string()
            ),
            Err(why) => unmet.push(("mixed-versions".to_string(), why)),
        }
        match crate::binary::with_atomic_slot_migration().await {
            Ok(b) => eprintln!(
                "valkey-bdd: @atomic-slot-migration scenarios run {} {}",
                b.engine,
                b.version_string()
            ),
            Err(why) => unmet.push(("atomic-slot-migration".to_string(), why)),
        }
        check_steps(&self.features)?;
        let used = scenario_tags(&self.features, &args.filters);
        for tag in &used {
            if let Some(Err(why)) = requirement(tag, &binary).await {
                unmet.push((tag.clone(), why));
            }
        }
        for (tag, why) in &unmet {
            if used.contains(tag) {
                eprintln!("valkey-bdd: @{tag} is not met: {why}");
            }
        }
        if crate::settings::strict()? {
            let failing: Vec<String> = unmet
                .iter()
                .filter(|(tag, _)| used.contains(tag))
                .map(|(tag, why)| format!("@{tag}: {why}"))
                .collect();
            if !failing.is_empty() {
                return Err(Error::Config {
                    what: format!(
                        "VALKEY_BDD_STRICT is set and scenarios ask for what {} cannot give:\n  {}",
                        binary.path.display(),
                        failing.join("\n  ")
                    ),
                    hint: "use a server binary that has it (VALKEY_SERVER_PATH), or unset VALKEY_BDD_STRICT to skip those scenarios".into(),
                });
            }
        }
        let pool = match crate::settings::cluster_pool()? {
            Some(n) => n,
            None => cluster_nodes_wanted(&self.features, &args.filters).min(32),
        };
        if pool > 0 {
            crate::pool::enable(pool);
            eprintln!("valkey-bdd: keeping {pool} cluster nodes started ahead of need");
        }
        tracing::debug!(steps, "steps registered");

        let concurrency = match self.concurrency {
            Some(n) => n,
            None => crate::settings::concurrency()?,
        };
        let junit = self.junit.clone().or_else(crate::settings::junit_path);
        let kept: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
        let results: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
        let tmp_root = self
            .tmp_root
            .clone()
            .unwrap_or_else(crate::settings::tmp_root);
        let keep = match self.keep {
            Some(k) => k,
            None => KeepPolicy::from_env()?,
        };
        let cucumber = ValkeyWorld::cucumber()
            .max_concurrent_scenarios(concurrency)
            .before(move |feature, _rule, scenario, world| {
                world.set_keep_policy(keep);
                world.set_tmp_root(tmp_root.clone());
                world.set_scenario(ScenarioInfo {
                    feature: feature.name.clone(),
                    feature_path: feature.path.clone(),
                    scenario: scenario.name.clone(),
                    line: scenario.position.line,
                });
                futures::future::ready(()).boxed_local()
            })
            .after({
                let kept = kept.clone();
                let results = results.clone();
                move |feature, _rule, scenario, finished, world| {
                    let kept = kept.clone();
                    let results = results.clone();
                    async move {
                        if let Some(world) = world {
                            let (failed, death) =
                                after_scenario(scenario, finished, world, &kept).await;
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
        let mut outcome = match junit {
            None => {
                let cucumber = cucumber
                    .with_writer(
                        writer::Basic::new(
                            self.output(),
                            writer::Coloring::Auto,
                            writer::Verbosity::Default,
                        )
                        .summarized(),
                    )
                    .fail_on_skipped();
                execute(cucumber, &self.features, args, unmet, results.clone()).await
            }
            Some(path) => {
                let file = create_report(&path)?;
                let cucumber = cucumber
                    .with_writer(
                        writer::Basic::raw(self.output(), writer::Coloring::Auto, 0)
                            .summarized()
                            .tee::<ValkeyWorld, _>(writer::JUnit::for_tee(file, 0))
                            .normalized(),
                    )
                    .fail_on_skipped();
                let o = execute(cucumber, &self.features, args, unmet, results.clone()).await;
                eprintln!("valkey-bdd: JUnit report written to {}", path.display());
                o
            }
        };
        crate::pool::drain().await;
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
            o.scenarios = std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
        }
        outcome
    }
}

impl Runner {
    fn output(&self) -> Box<dyn std::io::Write> {
        if self.quiet {
            Box::new(std::io::sink())
        } else {
            Box::new(std::io::stdout())
        }
    }
}

/// Parses the arguments and runs, stopping every server if the run is
/// interrupted.
async fn execute<W>(
    cucumber: cucumber::Cucumber<
        ValkeyWorld,
        cucumber::parser::Basic,
        PathBuf,
        impl cucumber::Runner<ValkeyWorld, Cli = cucumber::runner::basic::Cli>,
        W,
        cucumber::cli::Empty,
    >,
    features: &Path,
    args: LibtestArgs,
    unmet: Vec<(String, String)>,
    results: Arc<Mutex<Vec<ScenarioResult>>>,
) -> Result<Outcome>
where
    W: cucumber::Writer<ValkeyWorld>
        + cucumber::writer::Stats<ValkeyWorld>
        + cucumber::writer::Normalized,
    W::Cli: clap::Args,
{
    let LibtestArgs { args, filters, .. } = args;
    let opts = cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::try_parse_from(&args)
        .map_err(|e| {
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) {
                let _ = e.print();
                std::process::exit(0);
            }
            Error::Config {
                what: format!("bad command-line arguments {:?}:\n{e}", &args[1..]),
                hint: "see `cargo test --test cucumber -- --help`".into(),
            }
        })?;
    let skipped: Mutex<std::collections::HashSet<String>> = Mutex::default();
    let run = cucumber.with_cli(opts).filter_run(
        features.to_path_buf(),
        move |feature, rule, scenario| {
            let wanted = matches_filters(&filters, feature, scenario);
            if !wanted {
                return false;
            }
            let mut tags = scenario
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| r.tags.iter()))
                .chain(feature.tags.iter());
            match tags.find_map(|tag| unmet.iter().find(|(t, _)| t == tag)) {
                None => true,
                Some((tag, why)) => {
                    let place = format!(
                        "{}:{}",
                        feature.path.as_ref().map_or("?".into(), |p| relative(p)),
                        scenario.position.line
                    );
                    if skipped
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(place.clone())
                    {
                        results
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(ScenarioResult {
                                feature: feature.name.clone(),
                                scenario: scenario.name.clone(),
                                place: place.clone(),
                                verdict: Verdict::Skipped(format!("@{tag}: {why}")),
                            });
                        eprintln!(
                            "valkey-bdd: skipped \"{}\" ({place}): @{tag}: {why}",
                            scenario.name
                        );
                    }
                    false
                }
            }
        },
    );
    let writer = tokio::select! {
        w = run => w,
        what = interrupted() => {
            // Dropping the run drops every world: their servers are killed
            // and their directories removed. Kill what is left regardless.
            crate::spawn::kill_all();
            crate::shared::teardown_all(KeepPolicy::Failed).await;
            crate::spawn::kill_all();
            eprintln!("valkey-bdd: {what}: stopped every server, exiting");
            std::process::exit(130);
        }
    };
    Ok(Outcome {
        passed_steps: writer.passed_steps(),
        failed_steps: writer.failed_steps(),
        skipped_steps: writer.skipped_steps(),
        parsing_errors: writer.parsing_errors(),
        hook_errors: writer.hook_errors(),
        failed: writer.execution_has_failed(),
        kept: Vec::new(),
        scenarios: Vec::new(),
    })
}

async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term.recv() => "terminated",
    }
}

async fn after_scenario(
    scenario: &gherkin::Scenario,
    finished: &event::ScenarioFinished,
    world: &mut ValkeyWorld,
    kept: &Mutex<Vec<PathBuf>>,
) -> (bool, Option<String>) {
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
        eprintln!("{msg}");
    }
    // A server that crashed during a passing scenario fails it: the caller
    // panics with this, once it has recorded the result.
    let death = (!t.deaths.is_empty() && !failed).then(|| t.deaths.join("\n"));
    (failed || !t.deaths.is_empty(), death)
}

fn create_report(path: &Path) -> Result<std::fs::File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
    }
    std::fs::File::create(path)
        .map_err(|e| Error::io(format!("creating the JUnit report {}", path.display()), e))
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("VALKEY_BDD_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Reads every feature file and reports the steps no definition matches,
/// before any server starts, with the closest known sentences.
pub fn check_steps(features: &Path) -> Result<()> {
    let steps = glossary::registered();
    let mut unknown = Vec::new();
    for file in feature_files(features)? {
        let feature = match gherkin::Feature::parse_path(&file, gherkin::GherkinEnv::default()) {
            Ok(f) => f,
            // cucumber reports parse errors itself, with their position.
            Err(_) => continue,
        };
        let scenarios = feature
            .scenarios
            .iter()
            .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()));
        let backgrounds = feature
            .background
            .iter()
            .chain(feature.rules.iter().filter_map(|r| r.background.as_ref()));
        let all_steps = backgrounds
            .flat_map(|b| b.steps.iter())
            .chain(scenarios.flat_map(|s| s.steps.iter()));
        for step in all_steps {
            let keyword = match step.ty {
                gherkin::StepType::Given => "Given",
                gherkin::StepType::When => "When",
                gherkin::StepType::Then => "Then",
            };
            // Outline placeholders are filled in at run time.
            if step.value.contains('<') {
                continue;
            }
            if !steps
                .iter()
                .any(|s| s.keyword == keyword && s.regex.is_match(&step.value))
            {
                unknown.push(format!(
                    "  {}:{}  {}{}\n    closest known sentences:\n{}",
                    file.display(),
                    step.position.line,
                    step.keyword,
                    step.value,
                    closest(keyword, &step.value, &steps)
                ));
            }
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Error::Unknown {
        what: format!(
            "{} step(s) match no step definition:\n{}",
            unknown.len(),
            unknown.join("\n")
        ),
        hint: "STEPS.md lists every sentence valkey-bdd knows; a crate can add its own with #[given]/#[when]/#[then] on ValkeyWorld".into(),
    })
}

fn closest(keyword: &str, text: &str, steps: &[glossary::RegisteredStep]) -> String {
    let text = &as_template(text);
    let mut scored: Vec<(f64, String)> = steps
        .iter()
        .filter(|s| s.keyword == keyword)
        .map(|s| {
            let sentence = glossary::sentence_of(&s.regex);
            (
                strsim::normalized_levenshtein(text, &sentence),
                format!("      {keyword} {sentence}"),
            )
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(3)
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A step's text with its values replaced by the parameters a sentence
/// shows (`{command}`, `{string}`, `{server}`, `{int}`), so that a typo is
/// measured against sentences, not against the values it carries.
fn as_template(text: &str) -> String {
    let rules = [
        (r"`[^`]*`", "{command}"),
        (r#"(?:server |the node that owns )"[^"]*""#, "{server}"),
        (r#""[^"]*""#, "{string}"),
        (
            r"\b(?:the server|the primary of shard \d+|the replica of shard \d+|the primary|the replica|replica \d+|node \d+)\b",
            "{server}",
        ),
        (r"\b\d+\b", "{int}"),
    ];
    let mut out = text.to_string();
    for (pattern, to) in rules {
        out = regex::Regex::new(pattern)
            .expect("valid regex")
            .replace_all(&out, to)
            .into_owned();
    }
    out
}

/// How many cluster nodes the scenarios under `features` that the name
/// filters let through form with the default configuration: the ones the
/// pool can serve.
/// Checks one tag against the server binary: `None` when the tag asks for
/// nothing, else whether the binary has it (`Err` says why not).
///
/// - `@requires(tls)`: built with TLS; `@requires(debug)`: `DEBUG` available;
/// - `@requires(<directive>)`: knows a configuration directive, such as
///   `@requires(tls-auth-clients-user)`;
/// - `@min-version(8.1)`: at least that version;
/// - `@engine(valkey)` or `@engine(redis)`.
pub async fn requirement(
    tag: &str,
    binary: &ServerBinary,
) -> Option<std::result::Result<(), String>> {
    let arg = |prefix: &str| {
        tag.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(')'))
            .map(str::trim)
    };
    let what = format!(
        "{} is {} {}",
        binary.path.display(),
        binary.engine,
        binary.version_string()
    );
    if let Some(cap) = arg("requires(") {
        let ok = match cap {
            "tls" => binary.supports_tls().await,
            "debug" => binary.supports_debug().await,
            directive => binary.knows_directive(directive).await,
        };
        return Some(if ok {
            Ok(())
        } else if cap == "tls" {
            Err(format!(
                "{what}, built without TLS; set VALKEY_SERVER_PATH to a binary built with TLS"
            ))
        } else {
            Err(format!(
                "{what}, which does not know the directive `{cap}`; set VALKEY_SERVER_PATH to a newer binary"
            ))
        });
    }
    if let Some(v) = arg("min-version(") {
        let mut parts = v.split('.').map(|p| p.parse::<u32>());
        let wanted = match (parts.next(), parts.next(), parts.next()) {
            (Some(Ok(a)), b, c) => (
                a,
                b.and_then(|x| x.ok()).unwrap_or(0),
                c.and_then(|x| x.ok()).unwrap_or(0),
            ),
            _ => {
                return Some(Err(format!(
                    "@min-version({v}) is not a version such as 8.1"
                )));
            }
        };
        return Some(if binary.version >= wanted {
            Ok(())
        } else {
            Err(format!("{what}, older than {v}"))
        });
    }
    if let Some(engine) = arg("engine(") {
        return Some(
            if binary.engine.to_string() == engine.to_ascii_lowercase() {
                Ok(())
            } else {
                Err(format!("{what}, not {engine}"))
            },
        );
    }
    None
}

/// The tags of the scenarios the filters select, with those of their
/// features and rules.
fn scenario_tags(features: &Path, filters: &[String]) -> std::collections::BTreeSet<String> {
    let mut tags = std::collections::BTreeSet::new();
    for file in feature_files(features).unwrap_or_default() {
        let Ok(feature) = gherkin::Feature::parse_path(&file, gherkin::GherkinEnv::default())
        else {
            continue;
        };
        let plain = feature.scenarios.iter().map(|s| (None, s));
        let ruled = feature
            .rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s)));
        for (rule, scenario) in plain.chain(ruled) {
            if !matches_filters(filters, &feature, scenario) {
                continue;
            }
            tags.extend(
                scenario
                    .tags
                    .iter()
                    .chain(rule.iter().flat_map(|r| r.tags.iter()))
                    .chain(feature.tags.iter())
                    .cloned(),
            );
        }
    }
    tags
}

fn cluster_nodes_wanted(features: &Path, filters: &[String]) -> usize {
    let re = regex::Regex::new(r"^a cluster of (\d+) shards?(?: with (\d+) replicas? each)?$")
        .expect("valid regex");
    let mut total = 0;
    for file in feature_files(features).unwrap_or_default() {
        let Ok(feature) = gherkin::Feature::parse_path(&file, gherkin::GherkinEnv::default())
        else {
            continue;
        };
        let wanted = |s: &gherkin::Scenario| matches_filters(filters, &feature, s);
        let scenarios = feature.scenarios.iter().filter(|s| wanted(s)).count();
        let steps = feature
            .background
            .iter()
            .flat_map(|b| b.steps.iter().map(move |s| (s, scenarios)))
            .chain(
                feature
                    .scenarios
                    .iter()
                    .filter(|s| wanted(s))
                    .flat_map(|s| s.steps.iter().map(|st| (st, 1))),
            );
        for (step, times) in steps {
            if let Some(c) = re.captures(&step.value) {
                let shards: usize = c[1].parse().unwrap_or(0);
                let replicas: usize = c.get(2).map_or(0, |m| m.as_str().parse().unwrap_or(0));
                total += shards * (1 + replicas) * times;
            }
        }
    }
    total
}

/// Whether a scenario passes libtest-style name filters: one of them occurs,
/// ignoring case, in its name, its feature's name or its feature file's path.
fn matches_filters(
    filters: &[String],
    feature: &gherkin::Feature,
    scenario: &gherkin::Scenario,
) -> bool {
    let haystacks = [
        scenario.name.to_lowercase(),
        feature.name.to_lowercase(),
        feature
            .path
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string().to_lowercase()),
    ];
    filters.is_empty()
        || filters
            .iter()
            .any(|f| haystacks.iter().any(|h| h.contains(f)))
}

fn feature_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("reading the features in {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "feature") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The command line, cleaned of what `cargo test` passes for libtest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibtestArgs {
    /// What is left for cucumber.
    pub args: Vec<String>,
    /// `--list` was asked for.
    pub list: bool,
    /// libtest-style name filters (`cargo test persistence`): a scenario runs
    /// when one of them occurs, ignoring case, in its name, its feature's
    /// name or its feature file's path.
    pub filters: Vec<String>,
}

impl From<Vec<String>> for LibtestArgs {
    /// Drops libtest's flags (`--nocapture`, `--test-threads=2`, ...) and
    /// sets libtest's name filters (`cargo test persistence`) apart.
    fn from(raw: Vec<String>) -> Self {
        const LIBTEST_FLAGS: &[&str] = &[
            "--nocapture",
            "--no-capture",
            "--show-output",
            "--quiet",
            "-q",
            "--ignored",
            "--include-ignored",
            "--exact",
            "--test",
            "--bench",
            "--report-time",
            "--ensure-time",
            "--shuffle",
            "--force-run-in-process",
        ];
        const LIBTEST_VALUED: &[&str] = &[
            "--test-threads",
            "--format",
            "--skip",
            "--logfile",
            "--shuffle-seed",
            "-Z",
        ];
        const CUCUMBER_VALUED: &[&str] = &[
            "-n",
            "--name",
            "--scenario-name",
            "-t",
            "--tags",
            "-c",
            "--concurrency",
            "--retry",
            "--retry-after",
            "--retry-tag-filter",
            "--color",
            "-i",
            "--input",
            "--junit-v",
        ];
        let mut it = raw.into_iter();
        let mut args: Vec<String> = it.next().into_iter().collect();
        let mut filters = Vec::new();
        let mut list = false;
        while let Some(a) = it.next() {
            let flag = a.split('=').next().unwrap_or("").to_string();
            if a == "--" || LIBTEST_FLAGS.contains(&a.as_str()) {
                continue;
            } else if a == "--list" {
                list = true;
            } else if LIBTEST_VALUED.contains(&flag.as_str()) {
                if !a.contains('=') {
                    it.next();
                }
            } else if CUCUMBER_VALUED.contains(&flag.as_str()) {
                let has_value = a.contains('=');
                args.push(a);
                if !has_value {
                    args.extend(it.next());
                }
            } else if a.starts_with('-') {
                args.push(a);
            } else {
                filters.push(a.to_lowercase());
            }
        }
        LibtestArgs {
            args,
            list,
            filters,
        }
    }
}

/// A path as the user typed it: relative to the current directory when it
/// lies below it (cucumber makes feature paths absolute).
fn relative(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(a: &[&str]) -> Vec<String> {
        LibtestArgs::from(a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).args
    }

    #[test]
    fn libtest_arguments_are_dropped_or_translated() {
        assert_eq!(clean(&["t", "--nocapture"]), ["t"]);
        assert_eq!(
            clean(&["t", "--test-threads", "2", "--tags", "@x"]),
            ["t", "--tags", "@x"]
        );
        assert_eq!(
            clean(&["t", "--test-threads=2", "-t", "@x and not @y"]),
            ["t", "-t", "@x and not @y"]
        );
        let a = LibtestArgs::from(["t", "Persist", "--tags", "@x"].map(String::from).to_vec());
        assert_eq!(a.args, ["t", "--tags", "@x"]);
        assert_eq!(a.filters, ["persist"]);
        assert_eq!(
            clean(&["t", "-vv", "--concurrency", "3"]),
            ["t", "-vv", "--concurrency", "3"]
        );
        assert!(LibtestArgs::from(vec!["t".to_string(), "--list".into()]).list);
    }
}
