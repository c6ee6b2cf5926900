//! Formed clusters reused between scenarios, safely.
//!
//! Forming a 3×1 cluster costs ~0.6 s even from pooled nodes. A scenario
//! that passed with a default-configuration cluster whose topology it did
//! not change ([`crate::runner::classify`]: no failover, kill, resharding, slot
//! moves, `CLUSTER` commands that write) hands the cluster back; the next
//! scenario asking for the same shape takes it.
//!
//! The reset flushes the primaries (the replicas follow), flushes scripts
//! and functions, puts every node's configuration and ACL users back and
//! kills every client but the replication links. The check then reads
//! every node again: its configuration and ACL users as formed, no key, no
//! other client; every node's `CLUSTER NODES` the map it had when formed
//! (same ids, roles, slots, config epochs), `cluster_state:ok`, each
//! replica caught up with its primary. A cluster that fails is stopped. At
//! hand-out, every node is asked once more that it runs and says `ok`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::reset::{self, Baseline, Skip};
use crate::cluster::{Cluster, NodeLine, NodesView};
use crate::error::{Error, Result};
use crate::server::{Server, Status};

/// What a formed cluster looked like: every node's baseline, and the map.
#[derive(Debug, Clone)]
pub struct ClusterBaseline {
    /// Each node's configuration and ACL users, `node 1` first.
    nodes: Vec<Baseline>,
    /// Who serves what, at which epoch, as `node 1` saw it.
    map: Vec<NodeLine>,
}

impl ClusterBaseline {
    /// Reads the baseline of a freshly formed, ready cluster.
    pub async fn of(cluster: &Cluster) -> Result<ClusterBaseline> {
        let nodes = cluster.nodes();
        let baselines =
            futures::future::try_join_all(nodes.iter().map(|n| Baseline::of(n))).await?;
        Ok(ClusterBaseline {
            nodes: baselines,
            map: NodesView::of(&nodes[0]).await?.map(),
        })
    }
}

/// The shape a pooled cluster has: binary, shards, replicas per shard.
type Shape = (PathBuf, usize, usize);

struct Idle {
    shape: Shape,
    cluster: Cluster,
    baseline: ClusterBaseline,
}

#[derive(Default)]
struct Pool {
    idle: VecDeque<Idle>,
}

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// How many formed clusters are kept idle at most.
const ROOM: usize = 4;

/// How many clusters are idle now.
pub fn idle() -> usize {
    pool().idle.len()
}

/// Takes an idle cluster of this shape, checked: every node runs and says
/// `cluster_state:ok`. A cluster failing that is stopped, and the next one
/// tried.
pub async fn take(
    binary: &std::path::Path,
    shards: usize,
    replicas: usize,
) -> Option<(Cluster, ClusterBaseline)> {
    loop {
        let taken = {
            let mut p = pool();
            let at = p
                .idle
                .iter()
                .position(|i| i.shape == (binary.to_path_buf(), shards, replicas))?;
            p.idle.remove(at)?
        };
        let nodes = taken.cluster.nodes();
        let checks = futures::future::join_all(nodes.iter().map(|n| still_ok(n))).await;
        if checks.iter().all(|ok| *ok) {
            for n in &nodes {
                n.mark_log_start();
            }
            super::count_reused();
            return Some((taken.cluster, taken.baseline));
        }
        stop(&taken.cluster).await;
    }
}

async fn still_ok(node: &Server) -> bool {
    !node.is_frozen()
        && matches!(node.status().await, Status::Running { .. })
        && crate::cluster::cluster_info(node)
            .await
            .is_ok_and(|i| i.get("cluster_state") == Some("ok"))
}

async fn stop(cluster: &Cluster) {
    futures::future::join_all(cluster.nodes().iter().map(|n| n.stop())).await;
}

/// Resets a cluster a passed scenario is done with and pools it when the
/// check passes; stops it otherwise. Returns whether it was pooled.
pub async fn give_back(cluster: Cluster, baseline: ClusterBaseline) -> bool {
    give_back_skipping(cluster, baseline, Skip::default()).await
}

/// [`give_back`] with parts of the reset left out, for tests.
#[doc(hidden)]
pub async fn give_back_skipping(cluster: Cluster, baseline: ClusterBaseline, skip: Skip) -> bool {
    let shape = match (super::enabled(), shape_of(&cluster)) {
        (true, Some(shape)) => shape,
        _ => {
            stop(&cluster).await;
            return false;
        }
    };
    let work = reset_and_verify(&cluster, &baseline, skip);
    let result = match tokio::time::timeout(reset::RESET_DEADLINE, work).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            what: "the reset of a cluster".into(),
            waited: reset::RESET_DEADLINE,
            last: "it did not finish".into(),
            hint: "a busy node cannot be reused".into(),
        }),
    };
    match result {
        Ok(()) => {
            let refused = {
                let mut p = pool();
                if super::enabled() && p.idle.len() < ROOM {
                    p.idle.push_back(Idle {
                        shape,
                        cluster,
                        baseline,
                    });
                    None
                } else {
                    Some(cluster)
                }
            };
            match refused {
                None => {
                    super::count_returned();
                    true
                }
                Some(cluster) => {
                    stop(&cluster).await;
                    false
                }
            }
        }
        Err(e) => {
            super::count_rejected();
            tracing::warn!("a cluster was not reused: its reset did not verify: {e}");
            stop(&cluster).await;
            false
        }
    }
}

fn shape_of(cluster: &Cluster) -> Option<Shape> {
    let shards = cluster.shards();
    let replicas = shards.first()?.replicas.len();
    if shards.iter().any(|s| s.replicas.len() != replicas)
        || cluster.nodes().len() != shards.len() * (1 + replicas)
    {
        return None;
    }
    let binary = cluster.nodes().first()?.binary().path.clone();
    Some((binary, shards.len(), replicas))
}

async fn reset_and_verify(cluster: &Cluster, baseline: &ClusterBaseline, skip: Skip) -> Result<()> {
    let nodes = cluster.nodes();
    if nodes.len() != baseline.nodes.len() {
        return Err(Error::Expectation(format!(
            "the cluster has {} nodes, formed with {}",
            nodes.len(),
            baseline.nodes.len()
        )));
    }
    let primaries: Vec<bool> = nodes
        .iter()
        .map(|n| {
            cluster
                .shards()
                .iter()
                .any(|s| s.primary.port() == n.port())
        })
        .collect();
    futures::future::try_join_all(
        nodes
            .iter()
            .zip(&baseline.nodes)
            .zip(&primaries)
            .map(|((n, b), primary)| reset::reset_node(n, b, skip, *primary)),
    )
    .await?;
    // The map first: a replica that became a primary would make the rest moot.
    for node in &nodes {
        let map = NodesView::of(node).await?.map();
        if map != baseline.map {
            return Err(Error::Expectation(format!(
                "{} sees another cluster map than when formed: {map:?}",
                node.describe()
            )));
        }
        let info = crate::cluster::cluster_info(node).await?;
        if info.get("cluster_state") != Some("ok") {
            return Err(Error::Expectation(format!(
                "{} says cluster_state:{}",
                node.describe(),
                info.get("cluster_state").unwrap_or("?")
            )));
        }
    }
    let wait = crate::settings::wait_timeout()?.min(Duration::from_secs(2));
    for shard in cluster.shards() {
        for replica in &shard.replicas {
            crate::replication::wait_caught_up(replica, &shard.primary, wait).await?;
        }
    }
    futures::future::try_join_all(
        nodes
            .iter()
            .zip(&baseline.nodes)
            .zip(&primaries)
            .filter(|(_, primary)| !**primary && !skip.save)
            .map(|((n, b), _)| reset::save_replica(n, b)),
    )
    .await?;
    futures::future::try_join_all(
        nodes
            .iter()
            .zip(&baseline.nodes)
            .map(|(n, b)| reset::verify_node(n, b, false)),
    )
    .await?;
    Ok(())
}

/// Stops the idle clusters and removes their nodes' directories.
pub(super) async fn drain() {
    let idle: Vec<Idle> = pool().idle.drain(..).collect();
    futures::future::join_all(idle.iter().map(|i| stop(&i.cluster))).await;
}

/// Kills the idle clusters at once (an interrupted run).
pub(super) fn abandon() {
    let idle: Vec<Idle> = pool().idle.drain(..).collect();
    drop(idle);
}
