//! A run that selects nothing checks nothing: it stops with "no tests to
//! run" and exit status 4, as nextest does, unless `--no-tests` (or
//! `VALKEY_BDD_NO_TESTS`) says `warn` or `pass`.
//!
//! Two cases are no empty run: `--list` (nextest asking what a binary
//! holds applies its own rule to the whole run, over every binary), and a
//! shard whose part is empty while the selection is not (three scenarios
//! split five ways leave two parts empty; that machine passes with a note).

use std::path::PathBuf;

use super::LibtestArgs;
use super::select::Gate;
use crate::error::{Error, Result};
use crate::settings::NoTests;

/// Checks that the gate selected something, per the policy; names the
/// feature files that hold no scenario at all.
pub(super) fn check(gate: &Gate, args: &LibtestArgs, roots: &[PathBuf]) -> Result<()> {
    let policy = match &args.no_tests {
        Some(v) => NoTests::parse(v, "--no-tests")?,
        None => NoTests::from_env()?,
    };
    let empty: Vec<String> = gate
        .features
        .iter()
        .filter(|f| f.scenarios.is_empty() && f.rules.iter().all(|r| r.scenarios.is_empty()))
        .map(|f| f.path.as_deref().map_or("?".into(), super::relative))
        .collect();
    if !gate.test_names().is_empty() {
        for file in &empty {
            eprintln!("valkey-bdd: warning: {file} holds no scenario");
        }
        return Ok(());
    }
    if gate.whole.0 > 0 {
        eprintln!(
            "valkey-bdd: this shard holds none of the {} test(s) selected; the other parts run them",
            gate.whole.0
        );
        return Ok(());
    }
    let what = if gate.features.is_empty() {
        format!(
            "no feature file was found in {}",
            roots
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else if gate.candidates.is_empty() {
        format!(
            "the {} feature file(s) read hold no scenario: {}",
            gate.features.len(),
            empty.join(", ")
        )
    } else {
        format!(
            "none of the {} scenario(s) of {} feature file(s) is selected by {}",
            gate.candidates.len(),
            gate.features.len(),
            criteria(args)
        )
    };
    match policy {
        NoTests::Fail => Err(Error::NoTests {
            what,
            hint: "check the filters, --name, --tags and --exact (`--list --format terse` lists what a selection holds), and that each scenario starts with `Scenario:`; to accept a run that selects nothing, pass --no-tests=pass (or warn), or set VALKEY_BDD_NO_TESTS".into(),
        }),
        NoTests::Warn => {
            eprintln!("valkey-bdd: warning: no tests to run: {what}");
            Ok(())
        }
        NoTests::Pass => Ok(()),
    }
}

/// The command line's selection, as the user wrote it.
fn criteria(args: &LibtestArgs) -> String {
    let quoted = |v: &[String]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    let filters = args.name_filters();
    if !filters.is_empty() {
        parts.push(format!("the filter(s) {}", quoted(&filters)));
    }
    if args.exact {
        parts.push(format!("--exact {}", quoted(&args.filters)));
    }
    if let Some(n) = &args.name {
        parts.push(format!("--name {n:?}"));
    }
    if let Some(t) = &args.tags {
        parts.push(format!("--tags {t:?}"));
    }
    if !args.inputs.is_empty() {
        parts.push(format!("-i {}", quoted(&args.inputs)));
    }
    if parts.is_empty() {
        "the selection".into()
    } else {
        parts.join(" and ")
    }
}
