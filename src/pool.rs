//! Cluster nodes started ahead of need.
//!
//! A node in cluster mode refuses `cluster_state:ok` for about 2 s after it
//! starts, so a cluster formed from cold nodes costs at least that. When a
//! run has clusters to form, the runner asks for a pool: idle cluster-mode
//! nodes started in the background, while other scenarios run. A cluster
//! with the default configuration takes its nodes from the pool (the oldest
//! first) and forms in the time it takes them to meet and sync; every node
//! taken is replaced in the background.
//!
//! What "safely" means here:
//! - a pooled node is handed out **once**, fresh: it has never served a
//!   scenario, and it is never reset and handed out again, so nothing a
//!   scenario did (data, configuration, ACL users, scripts, cluster state)
//!   can leak into another;
//! - only clusters with the default configuration use the pool, because a
//!   directive that needs a restart cannot be applied to a running node;
//!   a cluster with a config table starts cold;
//! - pooled nodes are servers like any other: PDEATHSIG, the watchdog and
//!   `Drop` take them down with the run, and the runner stops the idle ones
//!   when the run ends ([`drain`], which also waits for the nodes still
//!   starting), or kills them when it is interrupted ([`abandon`]). Their
//!   directories go with them: a pooled node's directory is never kept.

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};

use crate::server::Server;

#[derive(Default)]
struct Pool {
    /// Idle nodes, oldest first.
    idle: VecDeque<Server>,
    /// How many idle nodes to keep.
    target: usize,
    /// Nodes being started now.
    starting: usize,
}

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Keeps `target` idle cluster nodes from now on, started in the
/// background. Must be called within a Tokio runtime.
pub fn enable(target: usize) {
    pool().target = target;
    refill();
}

/// Whether a pool is kept.
pub fn enabled() -> bool {
    pool().target > 0
}

inventory::submit! {
    crate::cluster::NodeSource { take }
}

/// Takes up to `n` idle nodes, oldest first, and starts their replacements.
/// Fewer than `n` come back when the pool is short.
pub fn take(n: usize) -> Vec<Server> {
    // A node started for another binary (the previous column of a matrix
    // run) is of no use: dropping it kills it.
    let want = crate::binary::locate(None).ok().map(|(path, _)| path);
    let taken: Vec<Server> = {
        let mut p = pool();
        if let Some(want) = &want {
            p.idle.retain(|n| &n.binary().path == want);
        }
        let k = n.min(p.idle.len());
        p.idle.drain(..k).collect()
    };
    if !taken.is_empty() {
        refill();
    }
    taken
}

/// How many nodes are idle now.
pub fn idle() -> usize {
    pool().idle.len()
}

fn refill() {
    let missing = {
        let mut p = pool();
        let missing = p.target.saturating_sub(p.idle.len() + p.starting);
        p.starting += missing;
        missing
    };
    /// Counts a start as over however it ends, cancelled runtime included.
    struct Starting;
    impl Drop for Starting {
        fn drop(&mut self) {
            pool().starting -= 1;
        }
    }
    for _ in 0..missing {
        let guard = Starting;
        tokio::spawn(async move {
            let started =
                Server::start(crate::cluster::ClusterSpec::node_spec("pooled node")).await;
            let unwanted = {
                let mut p = pool();
                match started {
                    Ok(node) if p.target > 0 => {
                        p.idle.push_back(node);
                        None
                    }
                    // Disabled meanwhile (the run is ending).
                    Ok(node) => Some(node),
                    Err(e) => {
                        if p.target > 0 {
                            tracing::warn!("a pooled cluster node failed to start: {e}");
                        }
                        None
                    }
                }
            };
            // Dropping a node kills it and removes its directory; only then
            // is its start over, for `drain`.
            drop(unwanted);
            drop(guard);
        });
    }
}

/// How long [`drain`] waits for the nodes still starting.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Stops keeping a pool, stops the idle nodes and removes their
/// directories. Nodes still starting are waited for (at most 15 s): each
/// one goes, with its directory, as its start ends, so none is left running
/// or on disk when the process exits.
pub async fn drain() {
    let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    pool().target = 0;
    loop {
        let (idle, starting): (Vec<Server>, usize) = {
            let mut p = pool();
            (p.idle.drain(..).collect(), p.starting)
        };
        futures::future::join_all(idle.iter().map(|n| n.stop())).await;
        drop(idle);
        if starting == 0 {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                "{starting} pooled cluster node(s) still starting after {DRAIN_TIMEOUT:?}; \
                 they are killed when the process exits"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Stops keeping a pool and kills the idle nodes at once, removing their
/// directories: the way out of an interrupted run, which cannot wait.
/// Nodes still starting are the runner's to clean up
/// ([`crate::leftovers::remove_own`]).
pub fn abandon() {
    let idle: Vec<Server> = {
        let mut p = pool();
        p.target = 0;
        p.idle.drain(..).collect()
    };
    // Dropping a server kills its process group and removes its directory.
    drop(idle);
}
