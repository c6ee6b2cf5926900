//! Clusters: formed natively (`CLUSTER MEET`, `ADDSLOTSRANGE`,
//! `REPLICATE`), checked until every node agrees, and addressed by shard,
//! node or key.
//!
//! A cluster is *ready* when every node reports `cluster_state:ok`, knows
//! every other node (none still in handshake), every replica's link is up and
//! it has caught up with its primary, and all nodes hold the same view of
//! who serves which slots. A primary keeps `cluster_state:fail` for about
//! two seconds after it starts, whatever the harness does: that is the floor
//! of a cold formation.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

mod client;
mod mover;
mod slots;
mod spec;
mod view;

pub use client::{BackgroundWriter, ClusterClient, check_written};
pub use spec::ClusterSpec;
use view::shard_roles;
pub use view::{NodeLine, NodesView, cluster_info};

/// The number of hash slots.
pub const SLOTS: u16 = 16384;
/// The node timeout the harness sets unless the scenario sets one: small,
/// so that failures are detected quickly.
const NODE_TIMEOUT_MS: u32 = 2000;
/// The node timeout while pooled nodes form a cluster: the shortest rejoin
/// delay a primary applies (see [`Cluster::start`]).
const FORMING_NODE_TIMEOUT_MS: u32 = 500;

/// Where cluster nodes started ahead of need come from, declared with
/// `inventory::submit!` by the module that keeps them ([`crate::pool`]):
/// a cluster of the default configuration takes its nodes there first.
pub struct NodeSource {
    /// Takes up to `n` idle nodes of the default configuration
    /// ([`ClusterSpec::node_spec`]); fewer when it is short.
    pub take: fn(usize) -> Vec<Server>,
}

inventory::collect!(NodeSource);

/// Up to `n` nodes started ahead of need, from the declared sources.
fn started_ahead(n: usize) -> Vec<Server> {
    let mut nodes = Vec::new();
    for source in inventory::iter::<NodeSource> {
        if nodes.len() < n {
            nodes.extend((source.take)(n - nodes.len()));
        }
    }
    nodes
}

/// One shard: a primary and its replicas, as formed.
#[derive(Debug, Clone)]
pub struct Shard {
    /// The primary it was formed with.
    pub primary: Arc<Server>,
    /// Its replicas.
    pub replicas: Vec<Arc<Server>>,
}

/// A running cluster.
#[derive(Debug)]
pub struct Cluster {
    /// Every node, `node 1` first; nodes join and leave while resharding.
    nodes: RwLock<Vec<Arc<Server>>>,
    /// The shards, as formed or added.
    shards: RwLock<Vec<Shard>>,
    /// How nodes added later are configured.
    spec: ClusterSpec,
}

impl Cluster {
    /// A cluster of nodes already formed (someone else's:
    /// `Cluster::external`, [`crate::external`]).
    pub(crate) fn assembled(
        spec: ClusterSpec,
        nodes: Vec<Arc<Server>>,
        shards: Vec<Shard>,
    ) -> Cluster {
        Cluster {
            nodes: RwLock::new(nodes),
            shards: RwLock::new(shards),
            spec,
        }
    }

    /// Starts every node at once, forms the cluster and waits until it is
    /// ready.
    pub async fn start(spec: ClusterSpec) -> Result<Cluster> {
        let _spent = crate::spent::track(crate::spent::Activity::FormingClusters);
        spec.validate()?;
        let names = spec.names();
        // Nodes started ahead of need, when they fit (see `crate::pool`).
        let pooled = if spec.is_default() {
            started_ahead(names.len())
        } else {
            Vec::new()
        };
        for (node, name) in pooled.iter().zip(&names) {
            node.rename(name);
        }
        let cold = futures::future::join_all(
            names[pooled.len()..]
                .iter()
                .map(|n| Server::start(spec.spec_for(n))),
        )
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        let from_pool = pooled.len() == names.len();
        let nodes: Vec<Arc<Server>> = pooled.into_iter().chain(cold).map(Arc::new).collect();
        // A primary turning `ok` waits min(max(node timeout, 500 ms), 5 s)
        // after it last saw itself in a minority, which a lone node always
        // does; a node fresh from start also waits 2 s. Pooled nodes are past
        // the latter, and a config may set a node timeout longer than 2 s:
        // those clusters form with the shortest rejoin delay and get their
        // node timeout back once ready. (Others gain nothing from it, and a
        // short node timeout is best kept short-lived.)
        let quick = spec.forms_quickly() && (from_pool || spec.sets("cluster-node-timeout"));
        if quick {
            set_node_timeout(&nodes, &FORMING_NODE_TIMEOUT_MS.to_string()).await?;
        }
        let ids = futures::future::try_join_all(nodes.iter().map(|n| node_id(n))).await?;
        // Distinct config epochs before anyone meets, as `valkey-cli --cluster
        // create` does: left to collide at 0, epochs settle by bumping over
        // seconds, and a failover meanwhile is refused its votes ("slot
        // epoch > request epoch").
        futures::future::try_join_all(
            nodes
                .iter()
                .take(spec.shards)
                .enumerate()
                .map(|(i, n)| expect_ok(n, format!("CLUSTER SET-CONFIG-EPOCH {}", i + 1))),
        )
        .await?;
        // Everyone meets the first node; gossip does the rest.
        let first = &nodes[0];
        futures::future::try_join_all(
            nodes
                .iter()
                .skip(1)
                .map(|n| expect_ok(first, format!("CLUSTER MEET {} {}", n.host(), n.port()))),
        )
        .await?;
        let mut shards = Vec::with_capacity(spec.shards);
        for s in 0..spec.shards {
            let first_slot = (s * usize::from(SLOTS) / spec.shards) as u16;
            let last_slot = ((s + 1) * usize::from(SLOTS) / spec.shards - 1) as u16;
            let primary = nodes[s].clone();
            expect_ok(
                &primary,
                format!("CLUSTER ADDSLOTSRANGE {first_slot} {last_slot}"),
            )
            .await?;
            let replicas = (0..spec.replicas)
                .map(|r| nodes[spec.shards + s * spec.replicas + r].clone())
                .collect();
            shards.push(Shard { primary, replicas });
        }
        let timeout = crate::settings::wait_timeout()?.max(Duration::from_secs(15));
        wait_all_known(&nodes, timeout).await?;
        for (s, shard) in shards.iter().enumerate() {
            for replica in &shard.replicas {
                expect_ok(replica, format!("CLUSTER REPLICATE {}", ids[s])).await?;
            }
        }
        let cluster = Cluster {
            nodes: RwLock::new(nodes),
            shards: RwLock::new(shards),
            spec,
        };
        cluster.wait_ready(timeout).await?;
        if quick {
            set_node_timeout(&cluster.nodes(), &cluster.spec.node_timeout()).await?;
        }
        Ok(cluster)
    }

    /// Every node, `node 1` first.
    pub fn nodes(&self) -> Vec<Arc<Server>> {
        self.nodes.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The shards, as formed or added (their roles may have changed since:
    /// read them from the nodes).
    pub fn shards(&self) -> Vec<Shard> {
        self.shards
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until the cluster is ready (see the module documentation). The
    /// roles are read from the nodes, so this holds after a failover too;
    /// nodes that are not running are left out, except that every node must
    /// still be known to the others.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        let pairs = loop {
            let last = match self.readiness().await {
                Ok(pairs) => break pairs,
                Err(why) => why,
            };
            if started.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what: format!("a cluster of {} nodes to be ready", self.nodes().len()),
                    waited: started.elapsed(),
                    last,
                    hint: "see the nodes' logs; a node that cannot reach the others' bus ports (port+10000) \
                           never joins"
                        .into(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        };
        for (replica, primary) in pairs {
            let left = timeout.saturating_sub(started.elapsed());
            crate::replication::wait_caught_up(&replica, &primary, left).await?;
            crate::replication::ensure_streaming(&replica, &primary, left).await?;
        }
        // Valkey 8.0 does not save nodes.conf when it learns another node's
        // shard id, and then refuses to load the stale file after a crash
        // ("corrupted cluster config file"). Every node saves what it knows
        // now that everyone agrees.
        for n in self.running().await {
            expect_ok(&n, "CLUSTER SAVECONFIG".into()).await?;
        }
        Ok(())
    }

    /// The nodes whose process runs and is not frozen.
    pub async fn running(&self) -> Vec<Arc<Server>> {
        let mut out = Vec::new();
        for n in &self.nodes() {
            if n.is_frozen() {
                continue;
            }
            if let crate::server::Status::Running { .. } = n.status().await {
                out.push(n.clone());
            }
        }
        out
    }

    fn by_port(&self, port: u16) -> Option<Arc<Server>> {
        self.nodes().into_iter().find(|n| n.port() == port)
    }

    /// `Ok` with the (replica, primary) pairs when ready, else what is not
    /// ready yet.
    async fn readiness(&self) -> std::result::Result<Vec<(Arc<Server>, Arc<Server>)>, String> {
        let running = self.running().await;
        let total = self.nodes().len();
        let mut views = Vec::with_capacity(running.len());
        for n in &running {
            let info = cluster_info(n).await.map_err(|e| e.to_string())?;
            if info.get("cluster_state") != Some("ok") {
                return Err(format!(
                    "{} reports cluster_state:{}",
                    n.describe(),
                    info.get("cluster_state").unwrap_or("?")
                ));
            }
            let view = NodesView::of(n).await.map_err(|e| e.to_string())?;
            if view.nodes.len() != total || view.handshaking {
                return Err(format!(
                    "{} knows {} of {} nodes{}",
                    n.describe(),
                    view.nodes.len(),
                    total,
                    if view.handshaking {
                        " (handshakes pending)"
                    } else {
                        ""
                    }
                ));
            }
            if let Some(f) = view
                .nodes
                .iter()
                .find(|l| l.failing && running.iter().any(|r| r.port() == l.port))
            {
                return Err(format!(
                    "{} still flags the running node on port {} as failing",
                    n.describe(),
                    f.port
                ));
            }
            // A replica advertises its primary's shard id once gossip has
            // settled; Valkey 8.0 writes a nodes.conf that it then refuses to
            // load ("corrupted cluster config file") if a node is killed
            // before that. Its CLUSTER NODES does not show shard ids, but
            // CLUSTER SHARDS groups by them: a replica whose shard id has
            // not settled shows up as a shard without a primary.
            if let Some(shards) = shard_roles(n).await
                && let Some(lonely) = shards
                    .iter()
                    .find(|roles| !roles.iter().any(|r| r == "master" || r == "primary"))
            {
                return Err(format!(
                    "{} sees a shard without a primary ({} node(s): {}); a replica's shard id has not settled yet",
                    n.describe(),
                    lonely.len(),
                    lonely.join(", ")
                ));
            }
            for line in view.nodes.iter().filter(|l| l.primary.is_some()) {
                let primary = view
                    .nodes
                    .iter()
                    .find(|p| Some(&p.id) == line.primary.as_ref());
                if let Some(p) = primary
                    && line.shard_id.is_some()
                    && line.shard_id != p.shard_id
                {
                    return Err(format!(
                        "{} does not see the replica on port {} in its primary's shard yet",
                        n.describe(),
                        line.port
                    ));
                }
            }
            views.push((n, view));
        }
        let Some((first, reference)) = views.first() else {
            return Err("no node of the cluster is running".into());
        };
        for (n, v) in &views[1..] {
            if v.map() != reference.map() {
                return Err(format!(
                    "{} and {} do not agree on the slot map yet",
                    first.describe(),
                    n.describe()
                ));
            }
        }
        let mut pairs = Vec::new();
        for line in &reference.nodes {
            let (Some(primary_id), Some(replica)) = (&line.primary, self.by_port(line.port)) else {
                continue;
            };
            if !running.iter().any(|r| r.port() == line.port) {
                continue;
            }
            let primary = reference
                .nodes
                .iter()
                .find(|l| &l.id == primary_id)
                .and_then(|l| self.by_port(l.port))
                .ok_or_else(|| {
                    format!(
                        "{} replicates an unknown node {primary_id}",
                        replica.describe()
                    )
                })?;
            let role = crate::replication::Role::of(&replica)
                .await
                .map_err(|e| e.to_string())?;
            if role.primary_port != Some(primary.port()) || !role.link_up {
                return Err(format!(
                    "{}: its replication link is not up yet",
                    replica.describe()
                ));
            }
            pairs.push((replica.clone(), primary.clone()));
        }
        Ok(pairs)
    }

    /// Makes a replica take over its primary's slots (`CLUSTER FAILOVER`,
    /// `FORCE` or `TAKEOVER` as `mode` says) and waits until the cluster
    /// agrees that it is a primary.
    pub async fn failover(&self, replica: &Server, mode: Option<&str>) -> Result<()> {
        let line = match mode {
            Some(m) => format!("CLUSTER FAILOVER {m}"),
            None => "CLUSTER FAILOVER".to_string(),
        };
        expect_ok(replica, line).await?;
        self.wait_primary(replica, crate::settings::wait_timeout()?)
            .await
    }

    /// Waits until every running node sees `server` as a primary serving
    /// slots, and the cluster is ready.
    pub async fn wait_primary(&self, server: &Server, timeout: Duration) -> Result<()> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let mut last = None;
            for n in self.running().await {
                let view = NodesView::of(&n).await?;
                let me = view.nodes.iter().find(|l| l.port == server.port());
                if !me.is_some_and(|l| l.primary.is_none() && !l.slots.is_empty()) {
                    last = Some(format!(
                        "{} sees it as {}",
                        n.describe(),
                        match me {
                            Some(l) if l.primary.is_some() => "a replica",
                            Some(_) => "a primary without slots",
                            None => "an unknown node",
                        }
                    ));
                    break;
                }
            }
            let Some(last) = last else {
                let left = timeout.saturating_sub(started.elapsed());
                return self.wait_ready(left).await;
            };
            if started.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what: format!("{} to become a primary of the cluster", server.describe()),
                    waited: started.elapsed(),
                    last,
                    hint: "an automatic failover needs the node timeout to pass and a majority of primaries \
                           to vote; see the nodes' logs"
                        .into(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

async fn node_id(server: &Server) -> Result<String> {
    match server.command("CLUSTER MYID").await? {
        r @ (Reply::Bulk(_) | Reply::Status(_)) => Ok(r.text().unwrap_or_default()),
        other => Err(Error::Expectation(format!(
            "CLUSTER MYID on {} answered {other}\n  hint: is cluster mode on (cluster-enabled yes)?",
            server.describe()
        ))),
    }
}

/// Sets `cluster-node-timeout` on every node at once.
async fn set_node_timeout(nodes: &[Arc<Server>], ms: &str) -> Result<()> {
    futures::future::try_join_all(
        nodes
            .iter()
            .map(|n| expect_ok(n, format!("CONFIG SET cluster-node-timeout {ms}"))),
    )
    .await
    .map(drop)
}

async fn expect_ok(server: &Server, line: String) -> Result<()> {
    match server.command(&line).await? {
        Reply::Status(s) if s == "OK" => Ok(()),
        other => Err(Error::Expectation(format!(
            "`{line}` on {} answered {other}",
            server.describe()
        ))),
    }
}

async fn wait_all_known(nodes: &[Arc<Server>], timeout: Duration) -> Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        let mut last = None;
        for n in nodes {
            let view = NodesView::of(n).await?;
            if view.nodes.len() != nodes.len() || view.handshaking {
                last = Some(format!(
                    "{} knows {} of {} nodes",
                    n.describe(),
                    view.nodes.len(),
                    nodes.len()
                ));
                break;
            }
        }
        let Some(last) = last else { return Ok(()) };
        if started.elapsed() >= timeout {
            return Err(Error::Timeout {
                what: format!("{} nodes to meet", nodes.len()),
                waited: started.elapsed(),
                last,
                hint: "a node's cluster bus (port+10000) may be unreachable; see the nodes' logs"
                    .into(),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
