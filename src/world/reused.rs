//! The scenario's side of reused servers ([`crate::reuse`]): whether it may
//! take a server or a cluster from the pool, taking it, and at its end which
//! go back (held running until the verdict is known) and giving them back.

use super::ValkeyWorld;
use crate::cluster::{Cluster, ClusterSpec};
use crate::error::Result;
use crate::reuse::Baseline;
use crate::reuse::cluster::ClusterBaseline;
use crate::server::{Server, ServerSpec, Status};
use crate::settings::KeepPolicy;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

impl ValkeyWorld {
    /// Whether this scenario may take servers from the pool: its sentences
    /// allow it, none of its servers runs in the run's network namespace,
    /// not every directory is kept (a reused server's is not the
    /// scenario's), and the run reuses.
    fn may_reuse(&self) -> bool {
        self.reuse
            && !self.scenario.network
            && self.keep != KeepPolicy::Always
            && crate::reuse::enabled()
    }

    /// A plain server taken from the pool, or started to go back to it,
    /// named as `spec` names it; `None` when this one may not be reused.
    pub(super) async fn reused_server(&mut self, spec: &ServerSpec) -> Result<Option<Arc<Server>>> {
        if !(spec.is_plain() && self.may_reuse()) {
            return Ok(None);
        }
        let (server, baseline) =
            match crate::reuse::binary_of_run().and_then(|b| crate::reuse::take(&b)) {
                Some(taken) => taken,
                None => crate::reuse::start(spec.clone()).await?,
            };
        server.rename(spec.name());
        let server = Arc::new(server);
        self.reusable.insert(spec.name().to_string(), baseline);
        self.servers
            .insert(server.name().to_string(), server.clone());
        Ok(Some(server))
    }

    /// A cluster of the default shape taken from the pool, or formed to go
    /// back to it; `None` when this one may not be reused.
    pub(super) async fn reused_cluster(&mut self, spec: &ClusterSpec) -> Result<Option<Cluster>> {
        if !(self.reuse_cluster && spec.is_default() && self.may_reuse()) {
            return Ok(None);
        }
        let (shards, replicas) = spec.shape();
        let taken = match crate::reuse::binary_of_run() {
            Some(b) => crate::reuse::cluster::take(&b, shards, replicas).await,
            None => None,
        };
        let (cluster, baseline) = match taken {
            Some(taken) => taken,
            None => {
                // Its nodes' directories are their own: the scenario's goes
                // with the scenario.
                let cluster = Cluster::start(spec.clone()).await?;
                let baseline = ClusterBaseline::of(&cluster).await?;
                (cluster, baseline)
            }
        };
        self.reusable_cluster = Some(baseline);
        Ok(Some(cluster))
    }

    /// The servers of a passed scenario that may go back to the pool, by
    /// name: those taken for reuse, not shared, running and not frozen; and
    /// a reused cluster's nodes when all of them are so.
    pub(super) async fn held_for_pool(
        &self,
        failed: bool,
        servers: &BTreeMap<String, Arc<Server>>,
        reusable: &HashMap<String, Baseline>,
        cluster: Option<&Arc<Cluster>>,
        reusable_cluster: bool,
    ) -> HashSet<String> {
        let mut held = HashSet::new();
        if failed {
            return held;
        }
        for (name, server) in servers {
            if reusable.contains_key(name) && !self.shared.contains(name) && runs(server).await {
                held.insert(name.clone());
            }
        }
        if let (Some(cluster), true) = (cluster, reusable_cluster) {
            let nodes = cluster.nodes();
            let mut running = true;
            for node in &nodes {
                running &= runs(node).await;
            }
            if running {
                held.extend(nodes.iter().map(|n| n.name()));
            }
        }
        held
    }
}

/// Whether a server's process runs and is not frozen.
async fn runs(server: &Server) -> bool {
    !server.is_frozen() && matches!(server.status().await, Status::Running { .. })
}

/// Gives the `held` servers back to the pool, and the cluster when all its
/// nodes are held; stops the held ones that cannot go back (still used
/// elsewhere, or taken without a baseline) and a cluster not all held.
pub(super) async fn give_back(
    servers: BTreeMap<String, Arc<Server>>,
    held: &HashSet<String>,
    reusable: &HashMap<String, Baseline>,
    cluster: Option<Arc<Cluster>>,
    reusable_cluster: Option<ClusterBaseline>,
) {
    let cluster_nodes: HashSet<String> = cluster
        .iter()
        .flat_map(|c| c.nodes())
        .map(|n| n.name())
        .collect();
    let mut returning = Vec::new();
    for (name, server) in servers {
        if !held.contains(&name) || cluster_nodes.contains(&name) {
            continue;
        }
        let baseline = reusable.get(&name).cloned();
        match (Arc::try_unwrap(server), baseline) {
            (Ok(server), Some(baseline)) => {
                returning.push(crate::reuse::give_back(server, baseline))
            }
            // Still used elsewhere: dropping the last handle kills it.
            (Err(server), _) => {
                let _ = server.stop().await;
            }
            (Ok(server), None) => {
                let _ = server.stop().await;
            }
        }
    }
    let cluster_back = async {
        if let Some(cluster) = cluster {
            let held_cluster = cluster.nodes().iter().all(|n| held.contains(&n.name()));
            match (Arc::try_unwrap(cluster), reusable_cluster) {
                (Ok(cluster), Some(baseline)) if held_cluster => {
                    crate::reuse::cluster::give_back(cluster, baseline).await;
                }
                (Ok(cluster), _) => {
                    futures::future::join_all(cluster.nodes().iter().map(|n| n.stop())).await;
                }
                (Err(cluster), _) => {
                    futures::future::join_all(cluster.nodes().iter().map(|n| n.stop())).await;
                }
            }
        }
    };
    futures::future::join(futures::future::join_all(returning), cluster_back).await;
}
