//! "`SET K V` replicates": a write run on the primary (or through the
//! cluster), followed to every replica of the primary that holds its keys,
//! and checked there key by key.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::replication::Role;
use crate::reply::Reply;
use crate::server::Server;

use super::{DEFAULT_SERVER, ValkeyWorld};

impl ValkeyWorld {
    /// Runs a writing command where the scenario's writes go — server
    /// "primary", else the default server, else the cluster — and checks
    /// that it replicates: finds the keys it touches (`COMMAND GETKEYS`),
    /// waits until every replica of the primary serving each key has caught
    /// up, then compares each key there with the primary (type, value,
    /// expiry time). The reply becomes the last reply.
    ///
    /// Fails when the command has no keys, answers an error, the primary
    /// has no replica, a replica does not catch up, or a replica holds
    /// something else (each one's last value is in the message).
    pub async fn write_replicates(&mut self, line: &str) -> Result<()> {
        let written = line;
        let line = self.expand(line).await?;
        let primary = if self.servers.contains_key("primary") {
            Some("primary")
        } else if self.servers.contains_key(DEFAULT_SERVER) || self.cluster.is_none() {
            Some(DEFAULT_SERVER)
        } else {
            None
        };
        let keys = self.keys_of(primary, &line).await?;
        let reply = self.run(primary, written).await?;
        if let Some(e) = reply.error() {
            return Err(Error::Expectation(format!(
                "`{line}` answered the error {e:?}: a write that fails replicates nothing"
            )));
        }
        let running = self.running_servers().await;
        let timeout = crate::settings::wait_timeout()?;
        let started = std::time::Instant::now();
        let mut deadline = crate::wait::Deadline::start(timeout);
        let roles = crate::replication::roles_of(&running, started, timeout).await?;
        let mut checks: Vec<(String, Arc<Server>, Vec<Arc<Server>>)> = Vec::new();
        for key in &keys {
            let root = match primary {
                Some(name) => self.server(Some(name))?.clone(),
                None => {
                    let cluster = self.cluster()?;
                    cluster.owner_of_slot(cluster.keyslot(key).await?).await?
                }
            };
            let replicas: Vec<Arc<Server>> = running
                .iter()
                .filter(|s| s.port() != root.port() && root_of(s.port(), &roles) == root.port())
                .cloned()
                .collect();
            if replicas.is_empty() {
                return Err(Error::Expectation(format!(
                    "{} has no running replica, so `{line}` cannot be shown to replicate",
                    root.describe()
                )));
            }
            checks.push((key.clone(), root, replicas));
        }
        for (_, root, replicas) in &checks {
            for r in replicas {
                let left = timeout.saturating_sub(started.elapsed());
                crate::replication::wait_caught_up(r, root, left).await?;
            }
        }
        let cluster = primary.is_none();
        loop {
            let mut differ = Vec::new();
            for (key, root, replicas) in &checks {
                let want = key_state(root, key, cluster).await?;
                for r in replicas {
                    let got = key_state(r, key, cluster).await?;
                    if got != want {
                        differ.push(format!(
                            "{}: key {key:?} is {got}, while on {} it is {want}",
                            r.describe(),
                            root.describe()
                        ));
                    }
                }
            }
            if differ.is_empty() {
                return Ok(());
            }
            deadline
                .pause(
                    &format!("the replicas to hold what `{line}` wrote"),
                    &format!("\n{}", crate::error::indent(&differ.join("\n"))),
                    "a replica written to directly (replica-read-only no), or one of another primary, \
                     holds other data",
                )
                .await?;
        }
    }

    /// The keys a command touches, as the server finds them.
    async fn keys_of(&mut self, server: Option<&str>, line: &str) -> Result<Vec<String>> {
        let ask = format!("COMMAND GETKEYS {line}");
        match self.query(server, &ask).await? {
            Reply::Array(keys) if !keys.is_empty() => Ok(keys.iter().map(Reply::cell).collect()),
            other => Err(Error::Expectation(format!(
                "`{ask}` answered {}: the server finds no key that `{line}` writes",
                other.to_string().trim()
            ))),
        }
        .map_err(|e| match e {
            Error::Expectation(what) => Error::Config {
                what,
                hint: "this sentence checks commands that write keys (`SET k v`, `LPUSH q a`, a \
                       module's write); check other effects with `{server} returns ... for ...`"
                    .into(),
            },
            e => e,
        })
    }
}

/// The primary at the top of `port`'s chain of replication.
fn root_of(mut port: u16, roles: &HashMap<u16, Role>) -> u16 {
    for _ in 0..=roles.len() {
        match roles.get(&port).and_then(|r| r.primary_port) {
            Some(up) if roles.contains_key(&up) => port = up,
            _ => break,
        }
    }
    port
}

/// A key as a person compares it: its type, its value (members sorted
/// where the type has no order; a module's type as its `DUMP`), and when
/// it expires.
async fn key_state(server: &Server, key: &str, cluster: bool) -> Result<String> {
    let mut c = server.client().await?;
    if cluster {
        // Cluster replicas answer reads only on a READONLY connection.
        c.run("READONLY").await?;
    }
    let k = crate::command::join(&[key.as_bytes().to_vec()]);
    let kind = c.run(&format!("TYPE {k}")).await?.cell();
    let sorted = |r: Reply| {
        let mut items = r.items().unwrap_or_default();
        items.sort();
        format!("[{}]", items.join(", "))
    };
    let value = match kind.as_str() {
        "none" => return Ok("absent".into()),
        "string" => c.run(&format!("GET {k}")).await?.to_string(),
        "list" => c.run(&format!("LRANGE {k} 0 -1")).await?.to_string(),
        "set" => sorted(c.run(&format!("SMEMBERS {k}")).await?),
        "hash" => {
            let pairs = c
                .run(&format!("HGETALL {k}"))
                .await?
                .items()
                .unwrap_or_default();
            let mut fields: Vec<String> = pairs.chunks(2).map(|p| p.join("=")).collect();
            fields.sort();
            format!("{{{}}}", fields.join(", "))
        }
        "zset" => c
            .run(&format!("ZRANGE {k} 0 -1 WITHSCORES"))
            .await?
            .to_string(),
        "stream" => c.run(&format!("XRANGE {k} - +")).await?.to_string(),
        _ => format!("DUMP {}", c.run(&format!("DUMP {k}")).await?),
    };
    let expires = match c.run(&format!("PEXPIRETIME {k}")).await? {
        Reply::Integer(-1) => "no expiry".to_string(),
        Reply::Integer(t) => format!("expires at {t} ms"),
        other => format!("PEXPIRETIME answered {other}"),
    };
    Ok(format!("{kind} {value}, {expires}"))
}
