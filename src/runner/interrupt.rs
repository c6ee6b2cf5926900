//! An interrupted run (Ctrl-C, SIGTERM, or the process that started it
//! gone): every server is killed and every directory of the run removed
//! (unless `VALKEY_BDD_KEEP=always`) before the process exits. No report is
//! written: a report is written whole once the run is over, or not at all.
//!
//! A run whose parent dies (`kill -9` of `cargo test`, of a CI step's shell)
//! is re-parented, to pid 1 or a subreaper, and nothing would ever tell it to
//! stop. So a run notes its parent when it starts and stops as on SIGTERM
//! once its parent is another process: the kernel signals it at once
//! (`PR_SET_PDEATHSIG`, with [`PARENT_GONE`], whose handler looks again,
//! since the signal also comes when merely the parent *thread* ends), and a
//! look every [`PARENT_CHECK`] covers anything the signal misses. A run
//! started with SIGHUP ignored (`nohup valkey-bdd run …`) was asked to
//! outlive its terminal, and does not watch its parent.

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

/// What ends a run before its end.
#[derive(Debug, Clone, Copy)]
pub(super) enum Interrupt {
    /// SIGINT (Ctrl-C).
    Int,
    /// SIGTERM.
    Term,
    /// The process that started the run is gone.
    Orphaned,
}

impl Interrupt {
    pub(super) fn what(self) -> &'static str {
        match self {
            Interrupt::Int => "interrupted",
            Interrupt::Term => "terminated",
            Interrupt::Orphaned => "the process that started the run is gone",
        }
    }

    /// 128 + the signal's number, as a shell reports a process it ended; an
    /// orphaned run ends as on SIGTERM.
    pub(super) fn exit_code(self) -> i32 {
        match self {
            Interrupt::Int => 130,
            Interrupt::Term | Interrupt::Orphaned => 143,
        }
    }
}

/// The signal the kernel sends the run when its parent ends
/// (`PR_SET_PDEATHSIG`); its handler only looks whether the parent changed.
const PARENT_GONE: nix::sys::signal::Signal = nix::sys::signal::Signal::SIGUSR2;
/// How often the run looks at its parent besides.
const PARENT_CHECK: std::time::Duration = std::time::Duration::from_millis(500);

/// The parent process the run started under, noted by the first call (made
/// as the run starts); `None` when the run does not watch it: SIGHUP is
/// ignored (`nohup`), or it has no parent of its own to lose (pid 1's
/// children, a container's init).
pub(super) fn parent() -> Option<i32> {
    static PARENT: std::sync::OnceLock<Option<i32>> = std::sync::OnceLock::new();
    *PARENT.get_or_init(|| {
        let ppid = nix::unistd::getppid().as_raw();
        (ppid > 1 && !sighup_ignored()).then_some(ppid)
    })
}

/// Whether SIGHUP is ignored, as `nohup` leaves it (the `SigIgn` mask of
/// `/proc/self/status`, whose lowest bit is signal 1).
fn sighup_ignored() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let mask = s.lines().find_map(|l| l.strip_prefix("SigIgn:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        .is_some_and(|mask| mask & 1 != 0)
}

/// Resolves once the run's parent ([`parent`]) is gone; never when the run
/// does not watch it.
async fn orphaned() {
    use tokio::signal::unix::{SignalKind, signal};
    let Some(parent) = parent() else {
        return std::future::pending().await;
    };
    let gone = || nix::unistd::getppid().as_raw() != parent;
    // The handler first, then the request: the signal never finds the
    // default action (which would end the process at once).
    let mut signalled = signal(SignalKind::from_raw(PARENT_GONE as i32)).ok();
    if signalled.is_some() {
        let _ = nix::sys::prctl::set_pdeathsig(PARENT_GONE);
    }
    let mut tick = tokio::time::interval(PARENT_CHECK);
    // The parent may have gone before the request: the look closes the race.
    while !gone() {
        tokio::select! {
            _ = async { signalled.as_mut()?.recv().await }, if signalled.is_some() => {}
            _ = tick.tick() => {}
        }
    }
}

/// Waits for SIGINT, SIGTERM or the loss of the run's parent.
pub(super) async fn interrupted() -> Interrupt {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Interrupt::Int,
        _ = term.recv() => Interrupt::Term,
        _ = orphaned() => Interrupt::Orphaned,
    }
}
