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

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::info::Info;
use crate::reply::Reply;
use crate::server::{Server, ServerSpec};
use crate::tls::ServerTls;

mod external;
mod mover;
use mover::Mover;

/// The number of hash slots.
pub const SLOTS: u16 = 16384;
/// The node timeout the harness sets unless the scenario sets one: small,
/// so that failures are detected quickly.
const NODE_TIMEOUT_MS: u32 = 2000;
/// The node timeout while pooled nodes form a cluster: the shortest rejoin
/// delay a primary applies (see [`Cluster::start`]).
const FORMING_NODE_TIMEOUT_MS: u32 = 500;

/// How to build a cluster. A cluster with the default configuration takes
/// its nodes from the pool when the run keeps one ([`crate::pool`]).
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    shards: usize,
    replicas: usize,
    config: Vec<(String, String)>,
    parent_dir: Option<std::path::PathBuf>,
    binary: Option<std::path::PathBuf>,
    tls: Option<ServerTls>,
    /// The run's network namespace, when the nodes run inside it.
    network: Option<std::sync::Arc<crate::network::Namespace>>,
}

impl ClusterSpec {
    /// `shards` primaries (`node 1` … `node <shards>`), each with `replicas`
    /// replicas (numbered after the primaries: with 3 shards and 1 replica
    /// each, `node 4` replicates `node 1`).
    pub fn new(shards: usize, replicas: usize) -> Self {
        ClusterSpec {
            shards,
            replicas,
            config: Vec::new(),
            parent_dir: None,
            binary: None,
            tls: None,
            network: None,
        }
    }

    /// Every node speaks TLS only; the cluster bus and replication too
    /// (`tls-cluster yes`, `tls-replication yes`: with the plaintext port
    /// off there is no other way). Such a cluster does not use pooled nodes.
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(ServerTls {
            replication: true,
            cluster: true,
            ..tls
        });
        self
    }

    /// Runs every node from this binary.
    pub fn binary(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// A directive for every node.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.push((key.into(), value.into()));
        self
    }

    /// Loads a module (see [`crate::modules::ModuleLoad`]), unless a
    /// `loadmodule` directive given already loads its library: a server
    /// cannot load one library twice.
    pub fn load(mut self, module: &crate::modules::ModuleLoad) -> Self {
        module.add_to(&mut self.config);
        self
    }

    /// Makes the nodes' directories inside `parent`.
    pub fn in_dir(mut self, parent: impl Into<std::path::PathBuf>) -> Self {
        self.parent_dir = Some(parent.into());
        self
    }

    /// Runs every node inside the run's network namespace, each on its own
    /// address ([`crate::network`]); `None` leaves them outside.
    pub fn in_network(
        mut self,
        namespace: Option<std::sync::Arc<crate::network::Namespace>>,
    ) -> Self {
        self.network = namespace;
        self
    }

    /// The nodes' names, primaries first.
    pub fn names(&self) -> Vec<String> {
        (1..=self.shards * (1 + self.replicas))
            .map(|i| format!("node {i}"))
            .collect()
    }

    fn spec_for(&self, name: &str) -> ServerSpec {
        let mut spec = ServerSpec::new(name)
            .config("cluster-enabled", "yes")
            .config("cluster-config-file", "nodes.conf");
        if !self.sets("cluster-node-timeout") {
            spec = spec.config("cluster-node-timeout", NODE_TIMEOUT_MS.to_string());
        }
        if let Some(dir) = &self.parent_dir {
            spec = spec.in_dir(dir);
        }
        if let Some(namespace) = &self.network {
            spec = spec.seat(namespace.seat());
        }
        if let Some(b) = &self.binary {
            spec = spec.binary(b);
        }
        if let Some(tls) = &self.tls {
            spec = spec.tls(tls.clone());
        }
        for (k, v) in &self.config {
            spec = spec.config(k, v);
        }
        spec
    }

    /// How a node of a cluster with the default configuration starts: what
    /// the node pool keeps ready.
    pub fn node_spec(name: &str) -> ServerSpec {
        ClusterSpec::new(0, 0).spec_for(name)
    }

    /// Its shape: shards, and replicas per shard.
    pub fn shape(&self) -> (usize, usize) {
        (self.shards, self.replicas)
    }

    /// Whether the configuration is the default (no directive, binary, TLS
    /// or network namespace of its own), so that pooled nodes and reused
    /// clusters fit.
    pub fn is_default(&self) -> bool {
        self.config.is_empty()
            && self.binary.is_none()
            && self.tls.is_none()
            && self.network.is_none()
    }

    fn sets(&self, key: &str) -> bool {
        self.config.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    fn validate(&self) -> Result<()> {
        if self.shards == 0 || self.shards > usize::from(SLOTS) {
            return Err(Error::Config {
                what: format!("a cluster of {} shards", self.shards),
                hint: "a cluster has at least 1 shard".into(),
            });
        }
        if let Some((k, _)) = self
            .config
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("cluster-enabled"))
        {
            return Err(Error::Config {
                what: format!("the cluster's config sets {k:?}"),
                hint: "every node of a cluster has cluster mode on; leave it out".into(),
            });
        }
        Ok(())
    }
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
    /// Starts every node at once, forms the cluster and waits until it is
    /// ready.
    pub async fn start(spec: ClusterSpec) -> Result<Cluster> {
        let _spent = crate::spent::track(crate::spent::Activity::FormingClusters);
        spec.validate()?;
        let names = spec.names();
        // Nodes started ahead of need, when they fit (see `crate::pool`).
        let pooled = if spec.is_default() {
            crate::pool::take(names.len())
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
        // the latter, so they form with the shortest rejoin delay and get the
        // harness's node timeout back once ready.
        if from_pool {
            futures::future::try_join_all(nodes.iter().map(|n| {
                expect_ok(
                    n,
                    format!("CONFIG SET cluster-node-timeout {FORMING_NODE_TIMEOUT_MS}"),
                )
            }))
            .await?;
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
        if from_pool {
            futures::future::try_join_all(cluster.nodes().iter().map(|n| {
                expect_ok(
                    n,
                    format!("CONFIG SET cluster-node-timeout {NODE_TIMEOUT_MS}"),
                )
            }))
            .await?;
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

    /// The slot a key hashes to, as the cluster computes it.
    pub async fn keyslot(&self, key: &str) -> Result<u16> {
        let line = format!(
            "CLUSTER KEYSLOT {}",
            crate::command::join(&[key.as_bytes().to_vec()])
        );
        let node = self.any_running().await?;
        match node.command(&line).await? {
            Reply::Integer(i) => Ok(i as u16),
            other => Err(Error::Expectation(format!("`{line}` answered {other}"))),
        }
    }

    /// The node serving `slot` now, as the first running node sees it.
    pub async fn owner_of_slot(&self, slot: u16) -> Result<Arc<Server>> {
        let mut last = None;
        for n in &self.running().await {
            match NodesView::of(n).await {
                Ok(view) => {
                    let port = view
                        .nodes
                        .iter()
                        .find(|v| {
                            v.primary.is_none()
                                && v.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot))
                        })
                        .map(|v| v.port);
                    return match port.and_then(|p| self.by_port(p)) {
                        Some(owner) => Ok(owner),
                        None => Err(Error::Expectation(format!("no node serves slot {slot}"))),
                    };
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Expectation("the cluster has no node".into())))
    }

    /// A node that runs (and is not frozen), to ask about the cluster.
    async fn any_running(&self) -> Result<Arc<Server>> {
        self.running()
            .await
            .into_iter()
            .next()
            .ok_or_else(|| Error::Expectation("no node of the cluster is running".into()))
    }

    /// Which node serves each slot now, as a running node sees it.
    pub async fn slot_owners(&self) -> Result<Vec<Option<u16>>> {
        let node = self.any_running().await?;
        let view = NodesView::of(&node).await?;
        let mut owners = vec![None; usize::from(SLOTS)];
        for line in view.nodes.iter().filter(|l| l.primary.is_none()) {
            for (a, b) in &line.slots {
                for slot in *a..=*b {
                    owners[usize::from(slot)] = Some(line.port);
                }
            }
        }
        Ok(owners)
    }

    /// Moves `first..=last` to `target`, each slot from the node serving it,
    /// keys included (`MIGRATE`), the way resharding tools do; waits until
    /// the cluster is ready again. Returns how many keys moved.
    pub async fn move_slots(&self, first: u16, last: u16, target: &Server) -> Result<usize> {
        let owners = self.slot_owners().await?;
        let target = self.by_port(target.port()).ok_or_else(|| {
            Error::Expectation(format!(
                "{} is not a node of the cluster",
                target.describe()
            ))
        })?;
        let mut moves = Vec::new();
        for slot in first..=last {
            let Some(source) = owners[usize::from(slot)].and_then(|p| self.by_port(p)) else {
                return Err(Error::Expectation(format!("no node serves slot {slot}")));
            };
            if source.port() != target.port() {
                moves.push((slot, source, target.clone()));
            }
        }
        let moved = Mover::new(self).await?.move_all(moves).await?;
        self.wait_ready(crate::settings::wait_timeout()?).await?;
        Ok(moved)
    }

    /// Moves `first..=last` to `target` with atomic slot migration (Valkey
    /// 9): one `CLUSTER MIGRATESLOTS` per contiguous range of each current
    /// owner, then waits until the target serves them all and the cluster is
    /// ready.
    pub async fn migrate_slots_atomically(
        &self,
        first: u16,
        last: u16,
        target: &Server,
    ) -> Result<()> {
        let owners = self.slot_owners().await?;
        let target_id = node_id(target).await?;
        let mut ranges: Vec<(u16, u16, u16)> = Vec::new();
        for slot in first..=last {
            let Some(owner) = owners[usize::from(slot)] else {
                return Err(Error::Expectation(format!("no node serves slot {slot}")));
            };
            if owner == target.port() {
                continue;
            }
            match ranges.last_mut() {
                Some((port, _, end)) if *port == owner && *end + 1 == slot => *end = slot,
                _ => ranges.push((owner, slot, slot)),
            }
        }
        for (port, a, b) in &ranges {
            let source = self.by_port(*port).ok_or_else(|| {
                Error::Expectation(format!("no node of the cluster has port {port}"))
            })?;
            expect_ok(
                &source,
                format!("CLUSTER MIGRATESLOTS SLOTSRANGE {a} {b} NODE {target_id}"),
            )
            .await?;
        }
        let timeout = crate::settings::wait_timeout()?;
        let started = Instant::now();
        loop {
            let view = NodesView::of(target).await?;
            let mine: Vec<(u16, u16)> = view
                .nodes
                .iter()
                .find(|l| l.port == target.port())
                .map(|l| l.slots.clone())
                .unwrap_or_default();
            let missing = (first..=last).find(|s| !mine.iter().any(|(a, b)| (*a..=*b).contains(s)));
            let Some(missing) = missing else { break };
            if started.elapsed() >= timeout {
                let progress = target.command("CLUSTER GETSLOTMIGRATIONS").await?;
                return Err(Error::Timeout {
                    what: format!("{} to own slots {first} to {last}", target.describe()),
                    waited: started.elapsed(),
                    last: format!("slot {missing} not yet; CLUSTER GETSLOTMIGRATIONS:\n{progress}"),
                    hint: "see the source and target nodes' logs".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.wait_ready(timeout).await
    }

    /// Starts a new node (configured like the others), makes it meet the
    /// cluster as an empty primary, and waits until the cluster is ready.
    /// Returns it; it is also the last shard.
    pub async fn add_empty_shard(&self) -> Result<Arc<Server>> {
        let _spent = crate::spent::track(crate::spent::Activity::FormingClusters);
        let name = format!("node {}", self.nodes().len() + 1);
        let node = Arc::new(Server::start(self.spec.spec_for(&name)).await?);
        let anchor = self.any_running().await?;
        expect_ok(
            &anchor,
            format!("CLUSTER MEET {} {}", node.host(), node.port()),
        )
        .await?;
        self.nodes
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(node.clone());
        self.shards
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(Shard {
                primary: node.clone(),
                replicas: Vec::new(),
            });
        self.wait_ready(crate::settings::wait_timeout()?.max(Duration::from_secs(15)))
            .await?;
        Ok(node)
    }

    /// Moves slots so that every primary serves as many as the others (to
    /// one slot): each primary with too many gives its highest slots to
    /// those with too few. Returns how many keys moved.
    pub async fn rebalance(&self) -> Result<usize> {
        let owners = self.slot_owners().await?;
        let node = self.any_running().await?;
        let view = NodesView::of(&node).await?;
        let primaries: Vec<u16> = view
            .nodes
            .iter()
            .filter(|l| l.primary.is_none() && !l.failing)
            .map(|l| l.port)
            .collect();
        let n = primaries.len();
        let mut slots: Vec<Vec<u16>> = primaries
            .iter()
            .map(|p| {
                (0..SLOTS)
                    .filter(|s| owners[usize::from(*s)] == Some(*p))
                    .collect()
            })
            .collect();
        let target = |i: usize| usize::from(SLOTS) / n + usize::from(i < usize::from(SLOTS) % n);
        let mut moves: Vec<(u16, usize)> = Vec::new();
        for receiver in 0..n {
            while slots[receiver].len() < target(receiver) {
                let Some(donor) = (0..n).find(|d| slots[*d].len() > target(*d)) else {
                    break;
                };
                let slot = slots[donor].pop().expect("a donor has slots");
                slots[receiver].push(slot);
                moves.push((slot, receiver));
            }
        }
        let moves = moves
            .into_iter()
            .filter_map(|(slot, receiver)| {
                let source = owners[usize::from(slot)].and_then(|p| self.by_port(p))?;
                let target = self.by_port(primaries[receiver])?;
                Some((slot, source, target))
            })
            .collect();
        let moved = Mover::new(self).await?.move_all(moves).await?;
        self.wait_ready(crate::settings::wait_timeout()?).await?;
        Ok(moved)
    }

    /// Takes a node out of the cluster: its slots (if it is a primary) go to
    /// the other primaries, every other node forgets it, and it stops.
    pub async fn remove_node(&self, server: &Server) -> Result<()> {
        let view = NodesView::of(server).await?;
        let me = view
            .nodes
            .iter()
            .find(|l| l.port == server.port())
            .ok_or_else(|| {
                Error::Expectation(format!("{} does not know itself", server.describe()))
            })?;
        if view
            .nodes
            .iter()
            .any(|l| l.primary.as_deref() == Some(me.id.as_str()))
        {
            return Err(Error::Config {
                what: format!("{} still has replicas", server.describe()),
                hint: "remove its replicas first".into(),
            });
        }
        let others: Vec<u16> = view
            .nodes
            .iter()
            .filter(|l| l.primary.is_none() && l.port != server.port() && !l.failing)
            .map(|l| l.port)
            .collect();
        // A primary that loses its last slot would turn itself into a replica
        // of the node that took it, and refuse the last SETSLOT.
        expect_ok(
            server,
            "CONFIG SET cluster-allow-replica-migration no".into(),
        )
        .await?;
        let source = self.by_port(server.port()).ok_or_else(|| {
            Error::Expectation(format!(
                "{} is not a node of the cluster",
                server.describe()
            ))
        })?;
        let mut moves = Vec::new();
        // Each slot goes to the primary serving the slot just below it (or,
        // for slot 0, the first other primary): ranges merge into their
        // neighbours, predictably. `the slots are rebalanced` evens them out.
        let mut owners = self.slot_owners().await?;
        let mine: Vec<u16> = me.slots.iter().flat_map(|(a, b)| *a..=*b).collect();
        for slot in mine {
            let below = slot
                .checked_sub(1)
                .and_then(|b| owners[usize::from(b)])
                .filter(|p| *p != server.port());
            let port = below.or_else(|| others.first().copied()).ok_or_else(|| {
                Error::Expectation(format!(
                    "no other primary can take the slots of {}",
                    server.describe()
                ))
            })?;
            let target = self.by_port(port).ok_or_else(|| {
                Error::Expectation(format!("no node of the cluster has port {port}"))
            })?;
            moves.push((slot, source.clone(), target));
            owners[usize::from(slot)] = Some(port);
        }
        Mover::new(self).await?.move_all(moves).await?;
        let id = me.id.clone();
        self.nodes
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|n| n.port() != server.port());
        self.shards
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| s.primary.port() != server.port());
        for shard in self
            .shards
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .iter_mut()
        {
            shard.replicas.retain(|r| r.port() != server.port());
        }
        for n in self.running().await {
            expect_ok(&n, format!("CLUSTER FORGET {id}")).await?;
        }
        server.stop().await?;
        self.wait_ready(crate::settings::wait_timeout()?).await
    }

    /// Shard `n` (1-based), as formed or added.
    pub fn shard(&self, n: usize) -> Result<Shard> {
        let shards = self.shards();
        shards
            .get(n.wrapping_sub(1))
            .cloned()
            .ok_or_else(|| Error::Unknown {
                what: format!("the cluster has no shard {n}"),
                hint: format!("its shards are 1 to {}", shards.len()),
            })
    }

    /// Marks `slot` as migrating from shard `from`'s primary to shard `to`'s
    /// (`IMPORTING` on the target first, then `MIGRATING` on the source, as
    /// a resharding tool does).
    pub async fn start_migrating(&self, slot: u16, from: usize, to: usize) -> Result<()> {
        let (source, target) = (self.shard(from)?.primary, self.shard(to)?.primary);
        let (source_id, target_id) = (node_id(&source).await?, node_id(&target).await?);
        expect_ok(
            &target,
            format!("CLUSTER SETSLOT {slot} IMPORTING {source_id}"),
        )
        .await?;
        expect_ok(
            &source,
            format!("CLUSTER SETSLOT {slot} MIGRATING {target_id}"),
        )
        .await
    }

    /// A cluster-aware client: it follows redirects and routes each command
    /// by its keys.
    pub async fn client(&self) -> Result<ClusterClient> {
        ClusterClient::connect(&self.nodes()).await
    }
}

/// A client of the whole cluster (the `redis` crate's async cluster client).
pub struct ClusterClient {
    conn: redis::cluster_async::ClusterConnection,
    timeout: Duration,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterClient")
    }
}

impl ClusterClient {
    async fn connect(nodes: &[Arc<Server>]) -> Result<ClusterClient> {
        let timeout = crate::settings::command_timeout()?;
        let tls = nodes.first().is_some_and(|n| n.tls().is_some());
        let scheme = if tls { "rediss" } else { "redis" };
        let urls: Vec<String> = nodes
            .iter()
            .map(|n| format!("{scheme}://{}:{}", n.host(), n.port()))
            .collect();
        let fail = |e: redis::RedisError| Error::Connection {
            target: "the cluster".into(),
            action: "connecting".into(),
            detail: e.to_string(),
            hint: "is every node running? see their logs".into(),
        };
        let mut builder = redis::cluster::ClusterClient::builder(urls)
            .connection_timeout(Duration::from_secs(2))
            .response_timeout(timeout);
        if tls {
            let m = crate::tls::material()?;
            builder = builder.certs(m.certificates(&crate::tls::Identity::default())?);
        }
        // The harness's own client: it authenticates as the harness does
        // (the run's password, unless the scenario set its own).
        if let Some(c) = nodes.first().and_then(|n| n.admin_credentials()) {
            builder = builder.password(c.password);
            if let Some(u) = c.user {
                builder = builder.username(u);
            }
        }
        let client = builder.build().map_err(fail)?;
        let conn = client.get_async_connection().await.map_err(fail)?;
        Ok(ClusterClient { conn, timeout })
    }

    /// Runs one command line, routed by the cluster client.
    pub async fn run(&mut self, line: &str) -> Result<Reply> {
        use redis::aio::ConnectionLike as _;
        let args = crate::command::split(line)?;
        let mut cmd = redis::Cmd::new();
        for a in &args {
            cmd.arg(a.as_slice());
        }
        match tokio::time::timeout(self.timeout, self.conn.req_packed_command(&cmd)).await {
            Err(_) => Err(Error::CommandTimeout {
                target: "the cluster".into(),
                command: line.to_string(),
                timeout: self.timeout,
            }),
            Ok(Ok(v)) => Ok(Reply::from(v)),
            Ok(Err(e)) => match e.code() {
                Some(code) if !e.is_io_error() => Ok(Reply::Error(match e.detail() {
                    Some(d) => format!("{code} {d}"),
                    None => code.to_string(),
                })),
                _ => Err(Error::Connection {
                    target: "the cluster".into(),
                    action: format!("running `{line}`"),
                    detail: e.to_string(),
                    hint: "did a node stop or the cluster lose a slot's owner?".into(),
                }),
            },
        }
    }
}

/// A client writing keys to the cluster in the background, for checking
/// that no write is lost while the cluster changes under it.
pub struct BackgroundWriter {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<Vec<String>>>,
}

impl BackgroundWriter {
    /// Starts writing `SET bg:<n> <n>`, one write at a time, until stopped.
    /// Any write that fails stops the writer with that error.
    pub async fn start(cluster: &Cluster) -> Result<BackgroundWriter> {
        let mut client = cluster.client().await?;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut written = Vec::new();
            for n in 0u64.. {
                if *stopped.borrow_and_update() {
                    break;
                }
                let key = format!("bg:{n}");
                match client.run(&format!("SET {key} {n}")).await? {
                    Reply::Status(s) if s == "OK" => written.push(key),
                    other => {
                        return Err(Error::Expectation(format!(
                            "the background write `SET {key} {n}` answered {other}"
                        )));
                    }
                }
            }
            Ok(written)
        });
        Ok(BackgroundWriter { stop, task })
    }

    /// Stops writing; returns the keys written (`bg:<n>` holds `<n>`).
    pub async fn stop(self) -> Result<Vec<String>> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| Error::Expectation(format!("the background writer failed: {e}")))?
    }
}

/// Checks that every key a [`BackgroundWriter`] wrote reads back with its value.
pub async fn check_written(cluster: &Cluster, keys: &[String]) -> Result<()> {
    let mut client = cluster.client().await?;
    let mut lost = Vec::new();
    for key in keys {
        let want = key.trim_start_matches("bg:");
        match client.run(&format!("GET {key}")).await? {
            r if r.cell() == want => {}
            other => lost.push(format!("{key} = {other}")),
        }
    }
    if keys.is_empty() {
        return Err(Error::Expectation(
            "the background writer wrote nothing".into(),
        ));
    }
    if lost.is_empty() {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "{} of {} background writes were lost or changed, first ones:\n{}",
        lost.len(),
        keys.len(),
        crate::error::indent(&lost.iter().take(10).cloned().collect::<Vec<_>>().join("\n"))
    )))
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

async fn expect_ok(server: &Server, line: String) -> Result<()> {
    match server.command(&line).await? {
        Reply::Status(s) if s == "OK" => Ok(()),
        other => Err(Error::Expectation(format!(
            "`{line}` on {} answered {other}",
            server.describe()
        ))),
    }
}

/// `CLUSTER INFO` as fields.
pub async fn cluster_info(server: &Server) -> Result<Info> {
    match server.command("CLUSTER INFO").await? {
        r @ (Reply::Bulk(_) | Reply::Verbatim(_)) => Ok(Info::parse(&r.text().unwrap_or_default())),
        other => Err(Error::Expectation(format!(
            "CLUSTER INFO on {} answered {other}",
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

/// The roles of the nodes of each shard `server` knows (`CLUSTER SHARDS`),
/// or `None` when it cannot tell (an older server without the command).
async fn shard_roles(server: &Server) -> Option<Vec<Vec<String>>> {
    fn field<'a>(pairs: &'a Reply, key: &str) -> Option<&'a Reply> {
        match pairs {
            Reply::Array(items) => items
                .chunks(2)
                .find(|kv| kv[0].text().as_deref() == Some(key))
                .map(|kv| &kv[1]),
            Reply::Map(kvs) => kvs
                .iter()
                .find(|(k, _)| k.text().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    let Ok(Reply::Array(shards)) = server.command("CLUSTER SHARDS").await else {
        return None;
    };
    Some(
        shards
            .iter()
            .map(|shard| match field(shard, "nodes") {
                Some(Reply::Array(nodes)) => nodes
                    .iter()
                    .filter_map(|node| field(node, "role").and_then(|r| r.text()))
                    .collect(),
                _ => Vec::new(),
            })
            .collect(),
    )
}

/// One node's view of the cluster (`CLUSTER NODES`), without what changes
/// from node to node (`myself`, ping times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodesView {
    /// Every known node, by id.
    pub nodes: Vec<NodeLine>,
    /// Whether a handshake is still under way.
    pub handshaking: bool,
}

/// One line of `CLUSTER NODES`, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLine {
    /// The node id.
    pub id: String,
    /// Its client port.
    pub port: u16,
    /// The id of its primary, when it is a replica.
    pub primary: Option<String>,
    /// The slot ranges it serves.
    pub slots: Vec<(u16, u16)>,
    /// Whether it is flagged failing (`fail` or `fail?`).
    pub failing: bool,
    /// Its config epoch.
    pub epoch: u64,
    /// The shard id it advertises (Valkey 8 and later).
    pub shard_id: Option<String>,
}

impl NodesView {
    /// Who serves what, at which epoch: the view without the flags that
    /// differ from node to node, for comparing views.
    pub fn map(&self) -> Vec<NodeLine> {
        self.nodes
            .iter()
            .map(|l| NodeLine {
                failing: false,
                ..l.clone()
            })
            .collect()
    }

    /// Reads `CLUSTER NODES` of `server`.
    pub async fn of(server: &Server) -> Result<NodesView> {
        let text = match server.command("CLUSTER NODES").await? {
            r @ (Reply::Bulk(_) | Reply::Verbatim(_)) => r.text().unwrap_or_default(),
            other => {
                return Err(Error::Expectation(format!(
                    "CLUSTER NODES on {} answered {other}",
                    server.describe()
                )));
            }
        };
        Ok(NodesView::parse(&text))
    }

    /// Parses the text of `CLUSTER NODES`.
    pub fn parse(text: &str) -> NodesView {
        let mut handshaking = false;
        let mut nodes: BTreeMap<String, NodeLine> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                continue;
            }
            let flags = f[2];
            if flags.contains("handshake") || flags.contains("noaddr") {
                handshaking = true;
                continue;
            }
            let port = f[1]
                .split('@')
                .next()
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let slots = f[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|x| (x, x)),
                })
                .collect();
            nodes.insert(
                f[0].to_string(),
                NodeLine {
                    id: f[0].to_string(),
                    port,
                    primary: (f[3] != "-").then(|| f[3].to_string()),
                    slots,
                    failing: flags.split(',').any(|x| x == "fail" || x == "fail?"),
                    epoch: f[6].parse().unwrap_or(0),
                    shard_id: f[1]
                        .split(',')
                        .find_map(|aux| aux.strip_prefix("shard-id="))
                        .map(str::to_string),
                },
            );
        }
        NodesView {
            nodes: nodes.into_values().collect(),
            handshaking,
        }
    }
}
