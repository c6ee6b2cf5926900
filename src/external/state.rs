//! Leaving the external server as the run found it: its keys, functions,
//! script cache and pauses.
//!
//! Keys: with `VALKEY_BDD_EXTERNAL_FLUSH=1` the harness `FLUSHALL`s the
//! server at the start, before and after every scenario. Without it, the
//! databases that held keys when the run started are the server's own and
//! no scenario reaches them (a scenario naming another database is
//! skipped); the scenarios use the first database that was empty, and every
//! database that was empty is emptied again (`FLUSHDB`) at each scenario's
//! end — it held nothing of anyone else's when the run started.
//!
//! The rest is read when a scenario attaches the server ([`Snapshot`]) and
//! put back at its end, exactly: `CLIENT UNPAUSE`; the function libraries,
//! when they changed, by `FUNCTION RESTORE … FLUSH` of their `FUNCTION
//! DUMP` (or `FUNCTION FLUSH` when there were none); the script cache by
//! `SCRIPT FLUSH` when it held none of the server's own scripts (a scenario
//! that would cache one next to them is skipped before it starts).

use super::{ENV_EXTERNAL, ENV_FLUSH, External, Node, text};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::reply::Reply;

/// What a scenario may change of one node, as it was when the scenario
/// attached the server.
#[derive(Debug)]
struct NodeState {
    node: Node,
    primary: bool,
    /// `FUNCTION DUMP`, and whether any library was loaded; `None` when
    /// the server refuses it.
    functions: Option<(Vec<u8>, bool)>,
    /// `number_of_cached_scripts` of `INFO memory`.
    scripts: Option<u64>,
}

/// The external server as a scenario found it ([`External::snapshot`]),
/// to be put back at its end ([`External::restore`]).
#[derive(Debug)]
pub struct Snapshot {
    nodes: Vec<NodeState>,
}

/// The databases listed by `INFO keyspace` of every node, with the node
/// and the number of keys: `db3:keys=1,...`.
type Keyspace = Vec<(Node, u32, String)>;

impl Snapshot {
    /// The scripts cached on every node together.
    pub fn cached_scripts(&self) -> u64 {
        self.nodes.iter().filter_map(|n| n.scripts).sum()
    }
}

impl External {
    pub(super) async fn connect_node(&self, node: &Node) -> Result<Client> {
        self.endpoint.connect(&node.host, node.port).await
    }

    /// The databases holding keys, node by node.
    pub(super) async fn keyspace(&self) -> Result<Keyspace> {
        let mut found = Vec::new();
        for node in self.nodes() {
            let mut c = self.connect_node(node).await?;
            found.extend(
                keyspace_of(&mut c)
                    .await?
                    .into_iter()
                    .map(|(db, keys)| (node.clone(), db, keys)),
            );
        }
        Ok(found)
    }

    /// Decides, when the run starts, which databases are the server's own
    /// (those holding keys, when the harness may not flush them) and which
    /// one the scenarios use; flushes the server when allowed.
    pub(super) async fn claim_databases(&mut self) -> Result<()> {
        let found = self.keyspace().await?;
        if self.may_flush {
            if !found.is_empty() {
                self.flush_all().await?;
            }
            return Ok(());
        }
        self.theirs = found.iter().map(|(_, db, _)| *db).collect();
        self.database = (0..).find(|db| !self.theirs.contains(db)).unwrap_or(0);
        let refuse = |why: String| Error::Config {
            what: format!(
                "the external server {} is not empty when the run starts: {}; {why}",
                self.endpoint.url(),
                listed(&found)
            ),
            hint: format!(
                "point {ENV_EXTERNAL} at a server you can spare and set {ENV_FLUSH}=1 to let the harness FLUSHALL it at the start and around every scenario"
            ),
        };
        if self.database != 0 && self.endpoint.cluster {
            return Err(refuse(
                "a cluster's scenarios use database 0, which holds keys".into(),
            ));
        }
        if self.database != 0 {
            let node = &self.shards[0][0];
            let mut c = self.connect_node(node).await?;
            if let Reply::Error(e) = c.run(&format!("SELECT {}", self.database)).await? {
                return Err(refuse(format!(
                    "no database is empty (`SELECT {}` answered {e})",
                    self.database
                )));
            }
        }
        Ok(())
    }

    /// Whether no database held keys of the server's own when the run
    /// started (or the harness may flush them): scenarios may then name
    /// any database.
    pub fn owns_every_database(&self) -> bool {
        self.theirs.is_empty()
    }

    /// The databases holding the server's own keys, for messages: `db0, db3`.
    pub fn their_databases(&self) -> String {
        let dbs: Vec<String> = self.theirs.iter().map(|db| format!("db{db}")).collect();
        dbs.join(", ")
    }

    /// What the run tells the user about the databases it uses, when it
    /// keeps off the server's own.
    pub fn databases_note(&self) -> Option<String> {
        if self.theirs.is_empty() {
            return None;
        }
        let theirs: Vec<String> = self.theirs.iter().map(u32::to_string).collect();
        let (noun, verb) = if theirs.len() == 1 {
            ("database", "holds")
        } else {
            ("databases", "hold")
        };
        Some(format!(
            "{noun} {} {verb} keys: scenarios use database {}, emptied after each one, and those naming another database are skipped ({ENV_FLUSH}=1 lets the harness FLUSHALL the server instead)",
            theirs.join(", "),
            self.database
        ))
    }

    /// Makes the scenarios' databases empty before a scenario: flushes the
    /// server when allowed; otherwise checks that none of them holds keys,
    /// naming what it found. `when` says at which point of the run.
    pub async fn make_empty(&self, when: &str) -> Result<()> {
        let found: Keyspace = self
            .keyspace()
            .await?
            .into_iter()
            .filter(|(_, db, _)| !self.theirs.contains(db))
            .collect();
        if found.is_empty() {
            return Ok(());
        }
        if !self.may_flush {
            return Err(Error::Config {
                what: format!(
                    "the external server {} is not empty when {when}: {} (the run emptied {} after the last scenario: does another client write there?)",
                    self.endpoint.url(),
                    listed(&found),
                    if found.len() == 1 { "it" } else { "them" }
                ),
                hint: format!(
                    "point {ENV_EXTERNAL} at a server you can spare and set {ENV_FLUSH}=1 to let the harness FLUSHALL it at the start and around every scenario"
                ),
            });
        }
        self.flush_all().await
    }

    /// Removes what the scenarios wrote: `FLUSHALL` when allowed, else
    /// `FLUSHDB` of every database that held nothing when the run started.
    pub async fn clean_up(&self) -> Result<()> {
        if self.may_flush {
            return self.make_empty("the scenario ends").await;
        }
        for shard in &self.shards {
            let primary = &shard[0];
            let mut c = self.connect_node(primary).await?;
            for (db, _) in keyspace_of(&mut c).await? {
                if self.theirs.contains(&db) {
                    continue;
                }
                for command in [format!("SELECT {db}"), "FLUSHDB".to_string()] {
                    if let Reply::Error(e) = c.run(&command).await? {
                        return Err(Error::Expectation(format!(
                            "emptying database {db} of the external server {}:{} after the scenario: `{command}` answered {e}",
                            primary.host, primary.port
                        )));
                    }
                }
            }
        }
        self.replicas_follow().await
    }

    async fn flush_all(&self) -> Result<()> {
        for shard in &self.shards {
            let primary = &shard[0];
            let mut c = self.connect_node(primary).await?;
            if let Reply::Error(e) = c.run("FLUSHALL").await? {
                return Err(Error::Expectation(format!(
                    "FLUSHALL on the external server {}:{} answered {e}",
                    primary.host, primary.port
                )));
            }
        }
        self.replicas_follow().await
    }

    /// Waits until no replica holds keys in the scenarios' databases:
    /// replicas follow a flush asynchronously.
    async fn replicas_follow(&self) -> Result<()> {
        let waited = crate::settings::wait_timeout()?;
        let deadline = tokio::time::Instant::now() + waited;
        for node in self.shards.iter().flat_map(|s| s.iter().skip(1)) {
            let mut c = self.connect_node(node).await?;
            loop {
                let left: Vec<(u32, String)> = keyspace_of(&mut c)
                    .await?
                    .into_iter()
                    .filter(|(db, _)| !self.theirs.contains(db))
                    .collect();
                if left.is_empty() {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(Error::Timeout {
                        what: format!(
                            "the external replica {}:{} to follow its primary's flush",
                            node.host, node.port
                        ),
                        waited,
                        last: format!("INFO keyspace lists {left:?}"),
                        hint: "is its replication link up?".into(),
                    });
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
        Ok(())
    }

    /// Reads what a scenario may change and the harness puts back.
    pub async fn snapshot(&self) -> Result<Snapshot> {
        let mut nodes = Vec::new();
        for shard in &self.shards {
            for (i, node) in shard.iter().enumerate() {
                let mut c = self.connect_node(node).await?;
                let functions = if i == 0 && self.functions {
                    match (c.run("FUNCTION DUMP").await?, c.run("FUNCTION LIST").await?) {
                        (Reply::Bulk(dump), Reply::Array(libs) | Reply::Set(libs)) => {
                            Some((dump, !libs.is_empty()))
                        }
                        _ => None,
                    }
                } else {
                    None
                };
                nodes.push(NodeState {
                    node: node.clone(),
                    primary: i == 0,
                    functions,
                    scripts: cached_scripts(&mut c).await?,
                });
            }
        }
        Ok(Snapshot { nodes })
    }

    /// Puts back what the scenario changed since `snapshot` and removes the
    /// keys it wrote; `Err` says what could not be put back.
    pub async fn restore(&self, snapshot: &Snapshot) -> Result<()> {
        let mut problems = Vec::new();
        // A pause would hold the flush and the restore behind it.
        for state in &snapshot.nodes {
            let mut c = self.connect_node(&state.node).await?;
            let _ = c.run("CLIENT UNPAUSE").await?;
        }
        if let Err(e) = self.clean_up().await {
            problems.push(e.to_string());
        }
        for state in &snapshot.nodes {
            let mut c = self.connect_node(&state.node).await?;
            let at = format!("{}:{}", state.node.host, state.node.port);
            if let (true, Some((dump, any))) = (state.primary, &state.functions) {
                let now = c.run("FUNCTION DUMP").await?;
                if now != Reply::Bulk(dump.clone()) {
                    let put_back = if *any {
                        let args: [&[u8]; 4] = [b"FUNCTION", b"RESTORE", dump, b"FLUSH"];
                        c.run_args(&args).await?
                    } else {
                        c.run("FUNCTION FLUSH SYNC").await?
                    };
                    if let Reply::Error(e) = put_back {
                        problems.push(format!("putting back the functions of {at}: {e}"));
                    }
                }
            }
            if let Some(before) = state.scripts {
                let after = cached_scripts(&mut c).await?.unwrap_or(before);
                if after > before && before == 0 {
                    if let Reply::Error(e) = c.run("SCRIPT FLUSH SYNC").await? {
                        problems.push(format!("emptying the script cache of {at}: {e}"));
                    }
                } else if after > before {
                    problems.push(format!(
                        "the scenario cached {} script(s) on {at}, next to the server's own: only SCRIPT FLUSH drops them, and it would drop the server's too",
                        after - before
                    ));
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::Expectation(format!(
            "the external server {} is not as the scenario found it: {}",
            self.endpoint.url(),
            problems.join("; ")
        )))
    }
}

/// `INFO keyspace` of one node: each database holding keys, with its count.
async fn keyspace_of(c: &mut Client) -> Result<Vec<(u32, String)>> {
    let keyspace = text(c.run("INFO keyspace").await?, "INFO keyspace")?;
    // `db0:keys=3,expires=0,avg_ttl=0`: one line per database with keys.
    Ok(keyspace
        .lines()
        .filter_map(|l| {
            let (db, rest) = l.trim().strip_prefix("db")?.split_once(':')?;
            let keys = rest
                .split(',')
                .find_map(|kv| kv.strip_prefix("keys="))
                .unwrap_or("?");
            Some((db.parse().ok()?, keys.to_string()))
        })
        .filter(|(_, keys)| keys != "0")
        .collect())
}

/// `number_of_cached_scripts` of `INFO memory`, when the server shows it.
async fn cached_scripts(c: &mut Client) -> Result<Option<u64>> {
    let memory = text(c.run("INFO memory").await?, "INFO memory")?;
    Ok(memory.lines().find_map(|l| {
        l.trim()
            .strip_prefix("number_of_cached_scripts:")?
            .parse()
            .ok()
    }))
}

/// `127.0.0.1:6379 db3: 1 keys, …`.
fn listed(found: &Keyspace) -> String {
    let listed: Vec<String> = found
        .iter()
        .map(|(n, db, keys)| format!("{}:{} db{db}: {keys} keys", n.host, n.port))
        .collect();
    listed.join(", ")
}
