//! Moving slots between primaries with their keys, in batches: what
//! resharding, rebalancing and removing a node share.

use std::sync::Arc;

use super::{Cluster, node_id};
use crate::client::Credentials;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

/// Moves slots as resharding tools do, over one connection per node, in
/// batches: the `SETSLOT`s of a batch go to each node as one pipeline (the
/// server saves its config once per batch, not once per slot), and only the
/// slots that hold keys take `MIGRATE` round trips.
pub(super) struct Mover {
    clients: std::collections::HashMap<u16, crate::client::Client>,
    ids: std::collections::HashMap<u16, String>,
    /// Every running primary, told of each slot's new owner.
    primaries: Vec<Arc<Server>>,
}

impl Mover {
    pub(super) async fn new(cluster: &Cluster) -> Result<Mover> {
        let mut primaries = Vec::new();
        for n in cluster.running().await {
            if crate::replication::Role::of(&n)
                .await?
                .primary_port
                .is_none()
            {
                primaries.push(n);
            }
        }
        Ok(Mover {
            clients: Default::default(),
            ids: Default::default(),
            primaries,
        })
    }

    async fn run(&mut self, server: &Server, args: &[Vec<u8>]) -> Result<Reply> {
        let client = match self.clients.entry(server.port()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(server.client().await?),
        };
        match client.run_args(args).await {
            Ok(r) => Ok(r),
            Err(e) => Err(server.explain(e, "moving slots").await),
        }
    }

    /// Sends commands to `server` as one pipeline.
    async fn pipeline(&mut self, server: &Server, commands: &[Vec<Vec<u8>>]) -> Result<Vec<Reply>> {
        let client = match self.clients.entry(server.port()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(server.client().await?),
        };
        match client.run_pipeline(commands).await {
            Ok(r) => Ok(r),
            Err(e) => Err(server.explain(e, "moving slots").await),
        }
    }

    async fn id(&mut self, server: &Server) -> Result<String> {
        if let Some(id) = self.ids.get(&server.port()) {
            return Ok(id.clone());
        }
        let id = node_id(server).await?;
        self.ids.insert(server.port(), id.clone());
        Ok(id)
    }

    /// Moves each `(slot, from, to)`, in order; consecutive moves between
    /// the same two nodes go as one batch. Returns how many keys moved.
    pub(super) async fn move_all(
        &mut self,
        moves: Vec<(u16, Arc<Server>, Arc<Server>)>,
    ) -> Result<usize> {
        const BATCH: usize = 1024;
        let mut moved = 0;
        let mut i = 0;
        while i < moves.len() {
            let (_, source, target) = &moves[i];
            let mut slots = Vec::new();
            while i < moves.len()
                && slots.len() < BATCH
                && moves[i].1.port() == source.port()
                && moves[i].2.port() == target.port()
            {
                slots.push(moves[i].0);
                i += 1;
            }
            moved += self.move_batch(&slots, source, target).await?;
        }
        Ok(moved)
    }

    /// Sends one command per slot to `server` as one pipeline and checks
    /// that every reply is OK. `args` gives a slot's command, argument by
    /// argument: thousands of them go in a batch, and parsing each from a
    /// command line would cost more than the round trip saves.
    async fn all_ok(
        &mut self,
        server: &Server,
        slots: &[u16],
        args: impl Fn(u16) -> Vec<Vec<u8>>,
    ) -> Result<()> {
        let commands: Vec<Vec<Vec<u8>>> = slots.iter().map(|s| args(*s)).collect();
        let replies = self.pipeline(server, &commands).await?;
        for (command, reply) in commands.iter().zip(replies) {
            if !matches!(&reply, Reply::Status(s) if s == "OK") {
                return Err(Error::Expectation(format!(
                    "`{}` on {} answered {reply}",
                    crate::command::join(command),
                    server.describe()
                )));
            }
        }
        Ok(())
    }

    async fn move_batch(
        &mut self,
        slots: &[u16],
        source: &Server,
        target: &Server,
    ) -> Result<usize> {
        let source_id = self.id(source).await?;
        let target_id = self.id(target).await?;
        self.all_ok(target, slots, |s| setslot(s, "IMPORTING", &source_id))
            .await?;
        self.all_ok(source, slots, |s| setslot(s, "MIGRATING", &target_id))
            .await?;
        // Once a slot is migrating, the source creates no new key in it (a
        // write of a new key is redirected with ASK): a slot counted empty
        // now stays empty, and the others are drained key by key.
        let commands: Vec<Vec<Vec<u8>>> = slots
            .iter()
            .map(|s| {
                ["CLUSTER", "COUNTKEYSINSLOT", &s.to_string()]
                    .map(|a| a.as_bytes().to_vec())
                    .to_vec()
            })
            .collect();
        let counts = self.pipeline(source, &commands).await?;
        let mut moved = 0;
        for (slot, count) in slots.iter().zip(counts) {
            match count {
                Reply::Integer(0) => {}
                Reply::Integer(_) => moved += self.drain(*slot, source, target).await?,
                other => {
                    return Err(Error::Expectation(format!(
                        "`CLUSTER COUNTKEYSINSLOT {slot}` on {} answered {other}",
                        source.describe()
                    )));
                }
            }
        }
        // The target first, then the source, then every other primary, as
        // valkey-cli does: a slot is never owned by nobody.
        let node = |s: u16| setslot(s, "NODE", &target_id);
        self.all_ok(target, slots, node).await?;
        self.all_ok(source, slots, node).await?;
        for other in self.primaries.clone() {
            if other.port() != source.port() && other.port() != target.port() && !other.is_frozen()
            {
                self.all_ok(&other, slots, node).await?;
            }
        }
        Ok(moved)
    }

    /// Migrates the keys of a migrating slot until the source has none.
    async fn drain(&mut self, slot: u16, source: &Server, target: &Server) -> Result<usize> {
        let mut moved = 0;
        loop {
            let line = format!("CLUSTER GETKEYSINSLOT {slot} 100");
            let keys = match self.run(source, &crate::command::split(&line)?).await? {
                Reply::Array(keys) => keys,
                other => {
                    return Err(Error::Expectation(format!(
                        "`{line}` on {} answered {other}",
                        source.describe()
                    )));
                }
            };
            if keys.is_empty() {
                return Ok(moved);
            }
            let port = target.port().to_string();
            let mut args: Vec<Vec<u8>> = ["MIGRATE", target.host(), &port, "", "0", "10000"]
                .iter()
                .map(|a| a.as_bytes().to_vec())
                .collect();
            // The source logs in to the target as the harness does.
            match target.admin_credentials() {
                Some(Credentials {
                    user: Some(u),
                    password,
                }) => args.extend([b"AUTH2".to_vec(), u.into_bytes(), password.into_bytes()]),
                Some(Credentials {
                    user: None,
                    password,
                }) => args.extend([b"AUTH".to_vec(), password.into_bytes()]),
                None => {}
            }
            args.push(b"KEYS".to_vec());
            args.extend(keys.iter().filter_map(|k| match k {
                Reply::Bulk(b) => Some(b.clone()),
                _ => None,
            }));
            match self.run(source, &args).await? {
                Reply::Status(s) if s == "OK" || s == "NOKEY" => moved += keys.len(),
                other => {
                    return Err(Error::Expectation(format!(
                        "MIGRATE of slot {slot} from {} to {} answered {other}",
                        source.describe(),
                        target.describe()
                    )));
                }
            }
        }
    }
}

/// `CLUSTER SETSLOT <slot> <how> <node id>`, argument by argument.
fn setslot(slot: u16, how: &str, id: &str) -> Vec<Vec<u8>> {
    ["CLUSTER", "SETSLOT", &slot.to_string(), how, id]
        .map(|a| a.as_bytes().to_vec())
        .to_vec()
}
