//! An interrupted run (Ctrl-C, SIGTERM): every server is killed and every
//! directory of the run removed (unless `VALKEY_BDD_KEEP=always`) before the
//! process exits. No report is written: a report is written whole once the
//! run is over, or not at all.

use crate::settings::KeepPolicy;

/// How long an interrupted run waits for its shared servers to stop (they
/// are killed already; this bounds the bookkeeping).
const INTERRUPT_TEARDOWN: std::time::Duration = std::time::Duration::from_secs(5);

/// What an interrupted run leaves: no server, and no directory but those
/// `VALKEY_BDD_KEEP=always` keeps (scenario and shared-server directories;
/// pooled nodes' never). An interrupted scenario did not fail, so the default
/// policy (`failed`) keeps nothing of it.
pub(super) async fn clean_up_interrupted(keep: KeepPolicy) -> crate::leftovers::Removed {
    // Dropping the run dropped every world: their servers are killed and,
    // unless kept, their directories removed. Directories made from now on
    // (a pooled node starting in the background) would be left behind.
    crate::leftovers::close();
    crate::spawn::kill_all();
    crate::pool::abandon();
    crate::reuse::abandon();
    let keep_all = keep == KeepPolicy::Always;
    let policy = if keep_all {
        KeepPolicy::Always
    } else {
        KeepPolicy::Never
    };
    let shared = tokio::time::timeout(INTERRUPT_TEARDOWN, crate::shared::teardown_all(policy))
        .await
        .unwrap_or_default();
    crate::spawn::kill_all();
    crate::leftovers::remove_own(keep_all, &shared)
}

/// A signal that ends a run.
#[derive(Debug, Clone, Copy)]
pub(super) enum Interrupt {
    /// SIGINT (Ctrl-C).
    Int,
    /// SIGTERM.
    Term,
}

impl Interrupt {
    pub(super) fn what(self) -> &'static str {
        match self {
            Interrupt::Int => "interrupted",
            Interrupt::Term => "terminated",
        }
    }

    /// 128 + the signal's number, as a shell reports a process it ended.
    pub(super) fn exit_code(self) -> i32 {
        match self {
            Interrupt::Int => 130,
            Interrupt::Term => 143,
        }
    }
}

/// Waits for SIGINT or SIGTERM.
pub(super) async fn interrupted() -> Interrupt {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Interrupt::Int,
        _ = term.recv() => Interrupt::Term,
    }
}
