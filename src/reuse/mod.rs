//! Standalone servers reused between scenarios, safely.
//!
//! Starting a server costs ~12 ms; resetting one that a scenario has used
//! costs about a millisecond. When a run keeps a pool ([`enable`]), a
//! scenario that passed hands its default-configuration servers back
//! instead of stopping them, and the next scenario that asks for such a
//! server (`Given a server`, `Given a server "cache"`) takes one.
//!
//! What "safely" means here:
//! - only servers of the harness's defaults are pooled ([`ServerSpec::is_plain`]
//!   after the scenario's modules: no directive, binary, TLS, socket,
//!   password or module of its own), keyed by their binary;
//! - only scenarios whose sentences cannot leave behind what a reset cannot
//!   undo take or return one ([`crate::runner::classify`]: restarts, kills, freezes,
//!   modules, TLS, replication, `DEBUG`, programs, file-writing commands …
//!   opt out, and so does any sentence the harness does not know, unless
//!   the run declares it safe);
//! - a scenario that failed (or whose server died) returns nothing: its
//!   servers are stopped as always;
//! - a returned server is reset ([`reset`]: clients, data, scripts,
//!   functions, configuration, ACL users, statistics) and the reset is
//!   **verified** against the baseline taken when the server was fresh
//!   (`CONFIG GET *`, `ACL LIST`, no key in any database, only the
//!   harness's own connection, no pub/sub, no fork, role primary). A server
//!   that fails the check is stopped, not pooled;
//! - what a scenario sees of a reused server is its own: its name, the log
//!   tail of a failure (from the hand-out on, [`Server::mark_log_start`]),
//!   `${port}` and `${dir}` (the scenario's directory) as for a fresh one.
//!   A run that keeps every directory (`VALKEY_BDD_KEEP=always`) reuses
//!   nothing;
//! - pooled servers are servers like any other: PDEATHSIG, the watchdog and
//!   `Drop` take them down with the run; the runner stops the idle ones
//!   when the run ends ([`drain`]) and kills them when it is interrupted
//!   ([`abandon`]). Their directories (their own, never a scenario's) go
//!   with them.
//!
//! Formed clusters are reused the same way ([`cluster`]).
//!
//! `VALKEY_BDD_REUSE=0` turns reuse off.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::server::{Server, ServerSpec};

pub mod cluster;
pub mod reset;

pub use reset::{Baseline, Skip};

/// One idle server and what it looked like when it was fresh.
struct Idle {
    server: Server,
    baseline: Baseline,
}

#[derive(Default)]
struct Pool {
    /// Whether servers are pooled at all (the runner turns it on).
    on: bool,
    /// How many idle servers to keep at most; more are stopped.
    room: usize,
    idle: VecDeque<Idle>,
}

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// What reuse did in this process, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Servers (and clusters) handed out again.
    pub reused: usize,
    /// Servers (and clusters) reset, verified and pooled.
    pub returned: usize,
    /// Servers (and clusters) whose reset could not be verified: stopped.
    pub rejected: usize,
}

static REUSED: AtomicUsize = AtomicUsize::new(0);
static RETURNED: AtomicUsize = AtomicUsize::new(0);
static REJECTED: AtomicUsize = AtomicUsize::new(0);

fn count_reused() {
    REUSED.fetch_add(1, Ordering::SeqCst);
}

fn count_returned() {
    RETURNED.fetch_add(1, Ordering::SeqCst);
}

fn count_rejected() {
    REJECTED.fetch_add(1, Ordering::SeqCst);
}

/// What reuse has done so far in this process.
pub fn counts() -> Counts {
    Counts {
        reused: REUSED.load(Ordering::SeqCst),
        returned: RETURNED.load(Ordering::SeqCst),
        rejected: REJECTED.load(Ordering::SeqCst),
    }
}

/// Pools servers from now on, at most `room` idle ones.
pub fn enable(room: usize) {
    let mut p = pool();
    p.on = room > 0;
    p.room = room;
}

/// Whether servers are pooled now.
pub fn enabled() -> bool {
    pool().on
}

/// Takes an idle server that runs `binary`, if one is pooled.
pub fn take(binary: &Path) -> Option<(Server, Baseline)> {
    let taken = {
        let mut p = pool();
        let at = p
            .idle
            .iter()
            .position(|i| i.server.binary().path == binary)?;
        p.idle.remove(at)?
    };
    count_reused();
    taken.server.mark_log_start();
    Some((taken.server, taken.baseline))
}

/// How many servers are idle now.
pub fn idle() -> usize {
    pool().idle.len()
}

/// The binary a plain server of this run would use, when one can be
/// found without building anything.
pub fn binary_of_run() -> Option<PathBuf> {
    crate::binary::locate(None).ok().map(|(path, _)| path)
}

/// Starts a server for the pool's use: in a directory of its own (not the
/// scenario's, which goes with the scenario), with its baseline taken while
/// it is fresh.
pub async fn start(spec: ServerSpec) -> crate::Result<(Server, Baseline)> {
    let server = Server::start(spec).await?;
    match Baseline::of(&server).await {
        Ok(b) => Ok((server, b)),
        Err(e) => {
            let _ = server.stop().await;
            Err(e)
        }
    }
}

/// Resets a server a passed scenario is done with and pools it when the
/// reset verifies; stops it otherwise (and when the pool is off or full).
/// Returns whether it was pooled.
pub async fn give_back(server: Server, baseline: Baseline) -> bool {
    give_back_skipping(server, baseline, Skip::default()).await
}

/// [`give_back`] with parts of the reset left out, for the test that shows
/// that a reset which does not verify stops the server.
#[doc(hidden)]
pub async fn give_back_skipping(server: Server, baseline: Baseline, skip: Skip) -> bool {
    if !enabled() {
        let _ = server.stop().await;
        return false;
    }
    match reset::reset_and_verify(&server, &baseline, skip).await {
        Ok(()) => {
            let refused = {
                let mut p = pool();
                if p.on && p.idle.len() < p.room {
                    p.idle.push_back(Idle { server, baseline });
                    None
                } else {
                    Some(server)
                }
            };
            match refused {
                None => {
                    count_returned();
                    true
                }
                Some(server) => {
                    let _ = server.stop().await;
                    false
                }
            }
        }
        Err(e) => {
            count_rejected();
            tracing::warn!(
                "{} was not reused: its reset did not verify: {e}",
                server.describe()
            );
            let _ = server.stop().await;
            false
        }
    }
}

/// Stops pooling, stops the idle servers and removes their directories.
pub async fn drain() {
    let idle: Vec<Idle> = {
        let mut p = pool();
        p.on = false;
        p.idle.drain(..).collect()
    };
    futures::future::join_all(idle.iter().map(|i| i.server.stop())).await;
    cluster::drain().await;
}

/// Stops pooling and kills the idle servers at once, removing their
/// directories: the way out of an interrupted run, which cannot wait.
pub fn abandon() {
    let idle: Vec<Idle> = {
        let mut p = pool();
        p.on = false;
        p.idle.drain(..).collect()
    };
    // Dropping a server kills its process group and removes its directory.
    drop(idle);
    cluster::abandon();
}
