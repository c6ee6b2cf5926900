//! Slots: who serves them, and moving them (resharding, rebalancing,
//! adding and removing shards).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::mover::Mover;
use super::{
    Cluster, ClusterClient, FORMING_NODE_TIMEOUT_MS, NodesView, SLOTS, Shard, expect_ok, node_id,
    set_node_timeout,
};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

impl Cluster {
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
        // A pooled node, when one fits, is past the 2 s a fresh node waits
        // before it turns `ok`; it joins with the shortest rejoin delay
        // (see `Cluster::start`) and gets the harness's node timeout back
        // once the cluster is ready.
        let pooled = if self.spec.is_default() {
            super::started_ahead(1).pop()
        } else {
            None
        };
        let quick = pooled.is_some();
        let node = Arc::new(match pooled {
            Some(node) => {
                node.rename(&name);
                node
            }
            None => Server::start(self.spec.spec_for(&name)).await?,
        });
        if quick {
            set_node_timeout(
                std::slice::from_ref(&node),
                &FORMING_NODE_TIMEOUT_MS.to_string(),
            )
            .await?;
        }
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
        if quick {
            set_node_timeout(std::slice::from_ref(&node), &self.spec.node_timeout()).await?;
        }
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
