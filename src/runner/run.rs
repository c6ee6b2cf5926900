//! [`Runner::run`]: from the command line and settings to the selected
//! scenarios run against the chosen binary, and the [`Outcome`].

use super::args::LibtestArgs;
use super::execute::{after_scenario, execute, keep_policy};
use super::record::StepFailure;
use super::{
    Outcome, Runner, ScenarioResult, Verdict, durations, gather, help, init_tracing, interrupt,
    json, library, no_tests, parser, progress, record, relative, report, rooted, select, servos,
    shard, summary, unknown,
};
use crate::binary::ServerBinary;
use crate::error::{Error, Result};
use crate::glossary;
use crate::settings::KeepPolicy;
use crate::world::{ScenarioInfo, ValkeyWorld};
use cucumber::WriterExt as _;
use cucumber::{gherkin, writer};
use futures::FutureExt as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

impl Runner {
    /// Runs the features and reports what happened. `Err` means the run could
    /// not start (bad settings or arguments, a feature file that cannot be
    /// parsed, unknown steps, no server binary).
    pub async fn run(self) -> Result<Outcome> {
        // The parent the run is to outlive by nothing, noted before anything.
        let _ = interrupt::parent();
        init_tracing();
        crate::settings::validate()?;
        let started = std::time::SystemTime::now();
        let steps = glossary::self_check().map_err(|what| Error::Config {
            what,
            hint: "docs/src/rust-api.md: \"Reusing the steps from another crate\"".into(),
        })?;
        tracing::debug!(steps, "steps registered");
        let mut args = LibtestArgs::from(self.raw_args());
        if args.help {
            let text = if self.paths_from_args {
                help::render_run()
            } else {
                help::render()
            };
            print!("{text}");
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
        /// The run's keep policy is the process's for the run's length only.
        struct RunKeep;
        impl Drop for RunKeep {
            fn drop(&mut self) {
                crate::settings::set_run_keep_policy(None);
            }
        }
        crate::settings::set_run_keep_policy(Some(keep));
        let _keep = RunKeep;
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
        let mut gate = select::Gate::load_with(&features, &criteria, &library)?;
        let run_roles = Arc::new(gate.roles.clone());
        let combined: Vec<&select::Candidate> = gate
            .selected()
            .filter(|c| !c.combination.is_empty())
            .collect();
        if !combined.is_empty() && !args.list && !self.quiet {
            let scenarios: std::collections::HashSet<(&PathBuf, usize)> =
                combined.iter().map(|c| (&c.path, c.line)).collect();
            eprintln!(
                "valkey-bdd: {} scenario(s) naming roles with several implementations run as {} combination(s) (--combinations {})",
                scenarios.len(),
                combined.len(),
                criteria.choice.mode.name()
            );
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
        if args.list {
            self.list(&gate, args.ignored, strict).await?;
            return Ok(Outcome::default());
        }
        if let Some(shard) = &criteria.shard {
            eprintln!(
                "valkey-bdd: shard {}/{} ({}): {} of the selection's {} scenarios",
                shard.index,
                shard.total,
                shard.source,
                gate.selected().count(),
                gate.whole.0
            );
        }
        self.sweep_leftovers();
        unknown::check_steps(&gate)?;
        no_tests::check(&gate, &args, &features)?;
        servos::check(
            &gate,
            &run_roles,
            &self
                .tmp_root
                .clone()
                .unwrap_or_else(crate::settings::tmp_root),
        )
        .await?;
        let part = shard::Part {
            index: criteria.shard.as_ref().map_or(1, |s| s.index),
            total: criteria.shard.as_ref().map_or(1, |s| s.total),
            size: gate.whole.0,
            digest: gate.whole.1.clone(),
        };
        let named_exactly = args.exact;
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
                if let Some(note) = x.databases_note() {
                    eprintln!("valkey-bdd: external server: {note}");
                }
                x.binary.clone()
            }
            None => {
                let binary = ServerBinary::resolve(None).await?;
                eprintln!("valkey-bdd: server {binary}");
                binary
            }
        };
        let selection = self
            .selection(&gate, &binary, external.as_deref(), strict, false)
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
                world.set_roles(
                    run_roles.for_feature(feature.path.as_deref()),
                    super::combinations::combination_of_tags(&scenario.tags),
                );
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
                    let why = super::classify::why_not(&steps, &reuse_safe);
                    tracing::debug!(scenario = %scenario.name, "reuse: {}", why.as_deref().unwrap_or("allowed"));
                    world.set_reuse(why.is_none());
                    let why_cluster = super::classify::why_not_cluster(&steps);
                    tracing::debug!(scenario = %scenario.name, "cluster reuse: {}", why_cluster.as_deref().unwrap_or("allowed"));
                    world.set_cluster_reuse(why_cluster.is_none());
                }
                world.set_scenario(ScenarioInfo {
                    feature: feature.name.clone(),
                    feature_path: feature.path.clone(),
                    scenario: scenario.name.clone(),
                    line: scenario.position.line,
                    tags: scenario
                        .tags
                        .iter()
                        .chain(rule.iter().flat_map(|r| r.tags.iter()))
                        .chain(feature.tags.iter())
                        .cloned()
                        .collect(),
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
                            let step_logs = world.servo_logs().to_vec();
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
                                    step_logs,
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
        reports.json.describe(&gate.features);
        let writer = writer::Basic::raw(
            rooted::Rooted::new(
                progress::Output::new(board.clone(), self.output()),
                &gate.features,
            ),
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
        // Longest first: the features whose scenarios took longest last
        // time start now, not after everything else. Not against an
        // external server: its scenarios run one at a time, and their
        // durations there are not the suite's own.
        let durations_path = match &self.durations {
            _ if external.is_some() => None,
            Some(p) => p.clone(),
            None => crate::settings::durations_path()?,
        };
        // The run keeps one copy of each step, cucumber's: the features are
        // handed over, and the candidates' copies, which served choosing and
        // checking, are let go (a 50 MB literal would be held twice more).
        let mut features = std::mem::take(&mut gate.features);
        for c in &mut gate.candidates {
            c.steps = Vec::new();
        }
        if let Some(path) = &durations_path {
            durations::Durations::load(path).order(
                &mut features,
                gate.candidates
                    .iter()
                    .filter(|c| selection.runs_candidate(c)),
            );
        }
        let mut outcome = execute(cucumber, features, args, selection, keep).await;
        drop(shown);
        let wall = run_start.elapsed();
        crate::pool::drain().await;
        crate::reuse::drain().await;
        if let Some(x) = external.as_deref().filter(|x| x.may_flush) {
            // The last scenario's keys are not left on a server the harness
            // was allowed to flush.
            if let Err(e) = x.make_empty("the run ends").await {
                eprintln!(
                    "valkey-bdd: warning: could not empty the external server after the run: {e}"
                );
            }
        }
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
        kept.extend(crate::leftovers::take_kept_aside());
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
                    put_logs_under_steps(r);
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
                key: (Some(c.path.clone()), c.line, c.combination.clone()),
                test_name: c.test_name.clone(),
                details: String::new(),
                started_at: None,
                steps: Vec::new(),
                servers: Vec::new(),
                tags: Vec::new(),
                step_logs: Vec::new(),
            }));
            let candidates: std::collections::HashMap<_, _> = gate
                .candidates
                .iter()
                .map(|c| ((c.path.clone(), c.line, c.combination.as_str()), c))
                .collect();
            for r in &mut scenarios {
                if let Some(path) = &r.key.0 {
                    let path = path.canonicalize().unwrap_or_else(|_| path.clone());
                    if let Some(c) = candidates.get(&(path, r.key.1, r.key.2.as_str())) {
                        if r.test_name.is_empty() {
                            r.test_name = c.test_name.clone();
                        }
                        r.tags = c.tags.iter().map(|t| format!("@{t}")).collect();
                    }
                }
            }
            o.scenarios = scenarios;
            o.part = Some(part);
            if let Some(path) = &durations_path {
                durations::record(path, &o.scenarios);
            }
            if named_exactly {
                skipped_is_no_pass(o);
            }
            match (gather::run_id(named_exactly), reports.first()) {
                (Some(id), Some(first)) => {
                    let json = reports
                        .wants_json()
                        .then(|| reports.json.text())
                        .transpose()?;
                    gather::gather(first, &id, o, json, started, |all, json| {
                        reports.write_with(all, &binary.to_string(), json)
                    })?
                }
                _ => reports.write(o, &binary.to_string())?,
            }
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
        quiet: bool,
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
            if !quiet {
                report_skips(&selection);
            }
            return Ok(selection);
        }
        if used.contains("mixed-versions") {
            match crate::binary::older_and_newer().await {
                Ok(_) if quiet => {}
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
                Ok(_) if quiet => {}
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
        if !quiet {
            report_skips(&selection);
        }
        Ok(selection)
    }

    /// `--list`, nextest's custom-harness protocol: every test as
    /// `name: test`; with `--ignored`, the tests of which the run would skip
    /// a scenario — a capability tag the server binary does not meet, a
    /// sentence an external server cannot run — so that nextest shows them
    /// as SKIP instead of running them into a pass. Nothing is started and
    /// an external server's data is not touched.
    async fn list(&self, gate: &select::Gate, ignored: bool, strict: bool) -> Result<()> {
        let names = gate.test_names();
        if !ignored {
            for name in names {
                println!("{name}: test");
            }
            return Ok(());
        }
        // Under VALKEY_BDD_STRICT an unmet capability fails the test's run:
        // it must run, not be ignored.
        if strict || names.is_empty() {
            return Ok(());
        }
        let external = match crate::external::Endpoint::from_env()? {
            Some(endpoint) => Some(crate::external::External::probe(endpoint).await?),
            None => None,
        };
        let binary = match &external {
            Some(x) => x.binary.clone(),
            None => ServerBinary::resolve(None).await?,
        };
        let selection = self
            .selection(gate, &binary, external.as_ref(), false, true)
            .await?;
        let skipped: std::collections::HashSet<&str> = selection
            .skipped
            .iter()
            .map(|(c, _)| c.test_name.as_str())
            .collect();
        for name in names.into_iter().filter(|n| skipped.contains(n)) {
            println!("{name}: test");
        }
        Ok(())
    }
}

/// A run that names its tests exactly (`--exact`, as cargo nextest runs
/// each test) and skips one of their scenarios fails: its status is all
/// nextest sees, and 0 would show the skipped scenario as passed. `--list
/// --ignored` names such tests beforehand, so that nextest skips them; this
/// is for a skip that list could not foresee, or an ignored test run anyway
/// (`--run-ignored`).
fn skipped_is_no_pass(o: &mut Outcome) {
    let skipped: Vec<&ScenarioResult> = o
        .scenarios
        .iter()
        .filter(|s| matches!(s.verdict, Verdict::Skipped(_)))
        .collect();
    if skipped.is_empty() {
        return;
    }
    o.failed = true;
    eprintln!(
        "valkey-bdd: FAILED: {} scenario{} of the test{} named with --exact (how cargo nextest runs a test) {} skipped at run time, and a skip must not count as a pass:",
        skipped.len(),
        if skipped.len() == 1 { "" } else { "s" },
        if skipped.len() == 1 { "" } else { "s" },
        if skipped.len() == 1 { "was" } else { "were" }
    );
    for s in skipped {
        if let Verdict::Skipped(why) = &s.verdict {
            eprintln!("  \"{}\" ({}): {why}", s.scenario, s.place);
        }
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

/// Moves what servos logged with passing steps under those steps; lines of
/// a step the record does not hold go to the scenario's details instead,
/// never nowhere.
fn put_logs_under_steps(r: &mut ScenarioResult) {
    for (line, lines) in std::mem::take(&mut r.step_logs) {
        match r.steps.iter_mut().rev().find(|s| s.line == line) {
            Some(step) => step.log.extend(lines),
            None => {
                for l in lines {
                    r.details.push_str(&format!(
                        "\n{}:{line} {l}",
                        r.place.rsplit_once(':').map_or(r.place.as_str(), |p| p.0)
                    ));
                }
            }
        }
    }
}
