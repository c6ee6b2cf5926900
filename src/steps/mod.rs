//! The Gherkin vocabulary of valkey-bdd, one file per capability.
//!
//! Each step is a thin sentence over one engine call plus an assertion; the
//! logic lives in the engine (`src/`). `STEPS.md` is generated from these
//! files: the doc comment of a step is its glossary entry.

use std::str::FromStr;
use std::sync::Arc;

use cucumber::Parameter;
use cucumber::gherkin::Step;

use crate::compare::Comparison;
use crate::error::{Error, Result};
use crate::server::Server;
use crate::world::ValkeyWorld;

pub mod cluster;
pub mod cluster_info;
pub mod command;
pub mod compare;
pub mod concurrency;
pub mod introspection;
pub mod modules;
pub mod network;
pub mod processes;
pub mod pubsub;
pub mod remember;
pub mod replication;
pub mod reply;
pub mod security;
pub mod server;
pub mod servos;
pub mod streams;

/// An optional name captured by a sentence: empty means "the default one".
fn name(captured: &str) -> Option<&str> {
    (!captured.is_empty()).then_some(captured)
}

/// `{server}` in a sentence: `the server` (the default one), `server "cache"`,
/// `the primary`, `replica 2`, `the replica` (the only one), `node 3`,
/// `the node that owns "key"`, `the primary of shard 2`, `the replica of
/// shard 1`.
///
/// A step of your own takes it as a parameter of an `expr` sentence, and
/// [`ValkeyWorld::resolve`](crate::ValkeyWorld::resolve)s it:
///
/// ```no_run
/// use valkey_bdd::steps::ServerRef;
/// use valkey_bdd::{Result, ValkeyWorld};
///
/// /// Flushes the server the sentence names.
/// #[cucumber::when(expr = "I flush {server}")]
/// async fn flush(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
///     let name = w.resolve_name(&server).await?;
///     w.run(Some(&name), "FLUSHALL").await.map(drop)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(
    name = "server",
    regex = r#"the server|server "[^"]+"|the primary of shard \d+|the replica of shard \d+|the primary|the replica|replica \d+|node \d+|the node that owns "[^"]+""#
)]
pub enum ServerRef {
    /// A server known by its name in the scenario.
    Named(String),
    /// `the replica`: the scenario's only `replica <n>`.
    TheReplica,
    /// `the node that owns "key"`: the cluster node serving the key's slot now.
    OwnerOf(String),
    /// `the primary of shard <n>`: the node a shard was formed with.
    ShardPrimary(usize),
    /// `the replica of shard <n>`: the shard's only replica, as formed.
    ShardReplica(usize),
}

impl FromStr for ServerRef {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let quoted = |prefix: &str| {
            s.strip_prefix(prefix)
                .map(|r| r.trim_end_matches('"').to_string())
        };
        let number = |prefix: &str| s.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
        Ok(if s == "the server" {
            ServerRef::Named(crate::world::DEFAULT_SERVER.to_string())
        } else if s == "the primary" {
            ServerRef::Named("primary".to_string())
        } else if s == "the replica" {
            ServerRef::TheReplica
        } else if let Some(name) = quoted("server \"") {
            ServerRef::Named(name)
        } else if let Some(key) = quoted("the node that owns \"") {
            ServerRef::OwnerOf(key)
        } else if let Some(n) = number("the primary of shard ") {
            ServerRef::ShardPrimary(n)
        } else if let Some(n) = number("the replica of shard ") {
            ServerRef::ShardReplica(n)
        } else {
            ServerRef::Named(s.to_string())
        })
    }
}

/// Sentences name servers; the World finds them (here, beside
/// [`ServerRef`], so that the World knows nothing of sentences).
impl ValkeyWorld {
    /// The server a sentence names.
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// use valkey_bdd::steps::ServerRef;
    /// let replica: ServerRef = "replica 2".parse().expect("a server reference");
    /// let server = w.resolve(&replica).await?;
    /// println!("{} on port {}", server.describe(), server.port());
    /// # Ok(()) }
    /// ```
    pub async fn resolve(&self, r: &ServerRef) -> Result<Arc<Server>> {
        match r {
            ServerRef::Named(name) => self.server(Some(name)).cloned(),
            ServerRef::TheReplica => self.only_replica().cloned(),
            ServerRef::OwnerOf(key) => {
                let cluster = self.cluster()?;
                let slot = cluster.keyslot(key).await?;
                cluster.owner_of_slot(slot).await
            }
            ServerRef::ShardPrimary(n) => Ok(self.shard(*n)?.primary.clone()),
            ServerRef::ShardReplica(n) => match self.shard(*n)?.replicas.as_slice() {
                [one] => Ok(one.clone()),
                [] => Err(Error::Unknown {
                    what: format!("shard {n} has no replica"),
                    hint:
                        "form the cluster with replicas: a cluster of 3 shards with 1 replica each"
                            .into(),
                }),
                many => Err(Error::Unknown {
                    what: format!(
                        "\"the replica of shard {n}\" is ambiguous: it has {} replicas",
                        many.len()
                    ),
                    hint: "name the node instead: node 4".into(),
                }),
            },
        }
    }

    /// The name of the server a sentence names.
    pub async fn resolve_name(&self, r: &ServerRef) -> Result<String> {
        Ok(self.resolve(r).await?.name().to_string())
    }
}

/// `{command}` in a sentence: a command between backticks, written as in
/// `valkey-cli`.
///
/// ```no_run
/// use valkey_bdd::steps::CommandLine;
/// use valkey_bdd::{Result, ValkeyWorld};
///
/// /// Runs the command twice on the default server.
/// #[cucumber::when(expr = "I run {command} twice")]
/// async fn twice(w: &mut ValkeyWorld, command: CommandLine) -> Result<()> {
///     w.run(None, command.line()).await?;
///     w.run(None, command.line()).await.map(drop)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "command", regex = r"`[^`]+`")]
pub struct CommandLine(String);

impl CommandLine {
    /// The command line without its backticks.
    pub fn line(&self) -> &str {
        &self.0
    }
}

impl FromStr for CommandLine {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(CommandLine(s.trim_matches('`').to_string()))
    }
}

/// `{comparison}` in a sentence: `greater than X`, `at least X`, `less
/// than X`, `at most X`, `equal to X`, `between X and Y` — each bound a
/// number or a `${placeholder}` holding one.
#[derive(Debug, Clone, PartialEq, Parameter)]
#[param(
    name = "comparison",
    regex = r"(?:greater than|at least|less than|at most|equal to) \S+|between \S+ and \S+"
)]
pub struct CompareTo(pub Comparison<String>);

impl FromStr for CompareTo {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        s.parse().map(CompareTo)
    }
}

/// Reads a `| directive | value |` table. A header row `| directive | value |`
/// is allowed and skipped. `${...}` placeholders are filled in.
pub async fn config_table(w: &mut ValkeyWorld, step: &Step) -> Result<Vec<(String, String)>> {
    pair_table(
        w,
        step,
        ["directive", "value"],
        "| maxmemory | 1kb |",
        "a directive with several arguments keeps them in one cell: | save | 900 1 |",
    )
    .await
}

/// Reads a two-column table whose optional header row is `header`.
/// `example` shows a row; `more` says what else to know about a row.
/// `${...}` placeholders are filled in.
pub async fn pair_table(
    w: &mut ValkeyWorld,
    step: &Step,
    header: [&str; 2],
    example: &str,
    more: &str,
) -> Result<Vec<(String, String)>> {
    let [first, second] = header;
    let table = step.table.as_ref().ok_or_else(|| Error::Config {
        what: format!(
            "the step `{}` needs a table of {first}s below it",
            step.value
        ),
        hint: format!("add rows such as {example}"),
    })?;
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        if i == 0 && row.len() == 2 && row[0] == first && row[1] == second {
            continue;
        }
        if row.len() != 2 {
            return Err(Error::Config {
                what: format!(
                    "row {} of the table has {} cell(s) ({}), not 2",
                    i + 1,
                    row.len(),
                    row.iter()
                        .map(|c| format!("{c:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                hint: format!("each row is | {first} | {second} |; {more}"),
            });
        }
        if row[0].trim().is_empty() {
            return Err(Error::Config {
                what: format!("row {} of the table has no {first}", i + 1),
                hint: format!("each row is | {first} | {second} |"),
            });
        }
        out.push((
            w.expand(row[0].trim()).await?,
            w.expand(row[1].trim()).await?,
        ));
    }
    Ok(out)
}

/// The single column of a table, as a list of values, `${...}`
/// placeholders filled in.
pub async fn list_table(w: &mut ValkeyWorld, step: &Step) -> Result<Vec<String>> {
    let table = step.table.as_ref().ok_or_else(|| Error::Config {
        what: format!(
            "the step `{}` needs a one-column table below it",
            step.value
        ),
        hint: "one row per element: | a |".into(),
    })?;
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        match row.as_slice() {
            [cell] => out.push(w.expand(cell).await?),
            _ => {
                return Err(Error::Config {
                    what: format!(
                        "row {} of the list table has {} cells, not 1",
                        i + 1,
                        row.len()
                    ),
                    hint: "one element per row: | a |".into(),
                });
            }
        }
    }
    Ok(out)
}

/// The doc string below a step, `${...}` placeholders filled in.
async fn doc_string(w: &mut ValkeyWorld, step: &Step) -> Result<String> {
    let text = raw_doc_string(step)?;
    w.expand(text).await
}

/// The doc string below a step as written, for steps that fill in its
/// placeholders piece by piece (each command as it runs).
fn raw_doc_string(step: &Step) -> Result<&str> {
    step.docstring
        .as_deref()
        .map(|d| d.trim_matches('\n'))
        .ok_or_else(|| Error::Config {
            what: format!(
                "the step `{}` needs a doc string (between \"\"\" lines) below it",
                step.value
            ),
            hint: "put the text between two lines of three double quotes".into(),
        })
}
