//! Driving cucumber over the selection: the run that stops every server
//! when interrupted, and the teardown after each scenario.

use super::args::LibtestArgs;
use super::{Outcome, interrupt, parser, progress, relative, select};
use crate::error::{Error, Result};
use crate::settings::KeepPolicy;
use crate::world::ValkeyWorld;
use clap::Parser as _;
use cucumber::{event, gherkin};
use std::path::PathBuf;
use std::sync::Mutex;

/// Parses cucumber's own arguments and runs the selected scenarios,
/// stopping every server if the run is interrupted.
pub(super) async fn execute<W>(
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
            selection.runs(
                feature.path.as_deref(),
                scenario.position.line,
                &scenario.name,
            )
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
pub(super) fn keep_policy(name: &str) -> Result<KeepPolicy> {
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

pub(super) async fn after_scenario(
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
