//! One set of reports per nextest run. `cargo nextest run` starts a process
//! per test (`--exact NAME`); each would write the run's reports over the
//! last one's, leaving the last test's. The processes of one nextest run
//! (the same `NEXTEST_RUN_ID`) instead each leave their outcome in a
//! folder beside the reports (`.valkey-bdd-nextest/<run id>/`), then,
//! under a lock, write the reports of every outcome that folder holds: the
//! last process to end writes the whole run's. A new run's first process
//! removes the folders of earlier runs.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{Outcome, shard::Part};
use crate::error::{Error, Result};

/// The nextest run this process is a test of: `NEXTEST_RUN_ID`, when the
/// command line names its test exactly, as nextest does (a run started by
/// a test that itself runs under nextest inherits the variable, not the
/// `--exact`).
pub(super) fn run_id(exact: bool) -> Option<String> {
    exact
        .then(|| std::env::var("NEXTEST_RUN_ID").ok())
        .flatten()
        .filter(|id| !id.is_empty() && !id.contains(['/', '\\']) && id != "." && id != "..")
}

/// What one process leaves for the others.
#[derive(Serialize, Deserialize)]
struct Fragment {
    /// When the process's run started, since the epoch.
    started: Duration,
    outcome: Outcome,
    /// Its Cucumber JSON (an array of features), when one was asked for.
    json: Option<serde_json::Value>,
}

/// Leaves this process's outcome (and Cucumber JSON) in the run's folder
/// beside `report`, then calls `write` with the outcome and Cucumber JSON
/// of every process of the run so far, under a lock.
pub(super) fn gather(
    report: &Path,
    run_id: &str,
    own: &Outcome,
    json: Option<String>,
    started: SystemTime,
    write: impl FnOnce(&Outcome, Option<&str>) -> Result<()>,
) -> Result<()> {
    let io = |what: String| move |e: std::io::Error| Error::io(what, e);
    let base = report
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(".valkey-bdd-nextest");
    let dir = base.join(run_id);
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let lock = std::fs::File::create(base.join(".lock"))
        .map_err(io(format!("creating {}", base.join(".lock").display())))?;
    // Held until the reports are written (dropped at the end).
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive).map_err(
        |(_, errno)| {
            Error::io(
                format!("locking {}", base.join(".lock").display()),
                std::io::Error::from(errno),
            )
        },
    )?;
    // Earlier runs' outcomes: the reports are this run's now.
    for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
        if entry.file_name() != *run_id && entry.path().is_dir() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let fragment = Fragment {
        started: started
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default(),
        outcome: own.clone(),
        json: match json {
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| bug(e.to_string()))?),
            None => None,
        },
    };
    let text = serde_json::to_string(&fragment).map_err(|e| bug(e.to_string()))?;
    let own_file = dir.join(format!(
        "{}-{}.json",
        std::process::id(),
        fragment.started.as_nanos()
    ));
    super::report::write_whole(&own_file, &text)?;
    let mut fragments = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(io(format!("reading {}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(io(format!("reading {}", file.display())))?;
        // Another process's fragment that cannot be read is left out of
        // the report, not a reason to fail this test.
        match serde_json::from_str::<Fragment>(&text) {
            Ok(f) => fragments.push(f),
            Err(e) => eprintln!(
                "valkey-bdd: warning: {} is not a run's outcome ({e}); left out of the report",
                file.display()
            ),
        }
    }
    let (outcome, json) = combine(fragments);
    let json = json.map(|j| j.to_string());
    write(&outcome, json.as_deref())
}

/// The outcome of every process together: scenarios side by side, start
/// times on one clock, the wall time from the first start to the last end.
fn combine(mut fragments: Vec<Fragment>) -> (Outcome, Option<serde_json::Value>) {
    fragments.sort_by_key(|f| f.started);
    let first = fragments.first().map_or(Duration::ZERO, |f| f.started);
    let mut all = Outcome::default();
    let mut json: Option<Vec<serde_json::Value>> = None;
    for f in fragments {
        let shift = f.started.saturating_sub(first);
        let o = f.outcome;
        all.passed_steps += o.passed_steps;
        all.failed_steps += o.failed_steps;
        all.skipped_steps += o.skipped_steps;
        all.parsing_errors += o.parsing_errors;
        all.hook_errors += o.hook_errors;
        all.failed |= o.failed;
        all.kept.extend(o.kept);
        all.selected += o.selected;
        all.wall = all.wall.max(shift + o.wall);
        for (mine, theirs) in [
            (&mut all.spent.starting_servers, o.spent.starting_servers),
            (&mut all.spent.forming_clusters, o.spent.forming_clusters),
            (&mut all.spent.waiting, o.spent.waiting),
        ] {
            mine.time += theirs.time;
            mine.count += theirs.count;
        }
        all.scenarios.extend(o.scenarios.into_iter().map(|mut s| {
            s.started_at = s.started_at.map(|t| t + shift);
            s
        }));
        if let Some(serde_json::Value::Array(features)) = f.json {
            json.get_or_insert_with(Vec::new).extend(features);
        }
    }
    // What the run's processes ran is the whole of it: one part.
    all.part = Some(Part {
        index: 1,
        total: 1,
        size: all.scenarios.len(),
        digest: Part::digest(
            all.scenarios
                .iter()
                .map(|s| (s.test_name.as_str(), s.key.1)),
        ),
    });
    (all, json.map(serde_json::Value::Array))
}

fn bug(what: String) -> Error {
    Error::Config {
        what: format!("the run's outcome cannot be kept for the nextest run's reports: {what}"),
        hint: "report this as a bug of valkey-bdd".into(),
    }
}
