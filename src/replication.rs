//! Primaries and replicas: forming them, waits that can be trusted, and
//! comparing their data.
//!
//! A replica has *caught up* when its link to its primary is up and the
//! offset it has processed (`slave_repl_offset`) has reached the offset of
//! the root primary taken when the wait began. Checking only that the link is
//! up — what simpler harnesses do — is already true before a write reaches
//! the replica, so it proves nothing.
//!
//! The topology is read from the servers themselves (`INFO replication`),
//! never remembered on the side: a promotion made with a raw `REPLICAOF NO
//! ONE` is seen like one made through the vocabulary.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::info::Info;
use crate::reply::Reply;
use crate::server::{Server, ServerSpec};
use crate::tls::ServerTls;

/// A primary notices that a sync's fork has ended only at its next cron
/// tick — every 100 ms at the default `hz` of 10 — and a replica that came
/// during that sync waits for it. While a set forms its nodes tick at this
/// rate (a changed `hz` applies only after the pending tick, so it is set at
/// start), then go back to [`DEFAULT_HZ`]. A scenario that sets `hz` keeps
/// its own value throughout.
const FORMING_HZ: u32 = 500;
/// The servers' default `hz`.
const DEFAULT_HZ: u32 = 10;

/// How to build a primary with replicas.
#[derive(Debug, Clone)]
pub struct ReplicaSetSpec {
    replicas: usize,
    chain: bool,
    all: Vec<(String, String)>,
    per_node: Vec<(String, String, String)>,
    primary_binary: Option<std::path::PathBuf>,
    replica_binary: Option<std::path::PathBuf>,
    parent_dir: Option<std::path::PathBuf>,
    tls: Option<ServerTls>,
    /// The run's network namespace, when the nodes run inside it.
    network: Option<std::sync::Arc<crate::network::Namespace>>,
}

impl ReplicaSetSpec {
    /// A primary called `primary` with `replicas` replicas called
    /// `replica 1`, `replica 2`, ...
    pub fn new(replicas: usize) -> Self {
        ReplicaSetSpec {
            replicas,
            chain: false,
            all: Vec::new(),
            per_node: Vec::new(),
            primary_binary: None,
            replica_binary: None,
            parent_dir: None,
            tls: None,
            network: None,
        }
    }

    /// Every node speaks TLS only, and replicas reach their primary over TLS
    /// (`tls-replication yes` is set whatever `tls` says: with the plaintext
    /// port off there is no other way).
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(ServerTls {
            replication: true,
            ..tls
        });
        self
    }

    /// Makes a chain instead: replica 1 replicates the primary, replica 2
    /// replicates replica 1, and so on.
    pub fn chain(mut self) -> Self {
        self.chain = true;
        self
    }

    /// A directive for every node.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.all.push((key.into(), value.into()));
        self
    }

    /// Loads a module (see [`crate::modules::ModuleLoad`]), unless a
    /// `loadmodule` directive given already loads its library: a server
    /// cannot load one library twice.
    pub fn load(mut self, module: &crate::modules::ModuleLoad) -> Self {
        module.add_to(&mut self.all);
        self
    }

    /// A directive for one node (`primary`, `replica 2`) or, with `all`, for
    /// every node.
    pub fn node_config(
        mut self,
        node: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.per_node.push((node.into(), key.into(), value.into()));
        self
    }

    /// Runs the primary and the replicas from different binaries.
    pub fn binaries(
        mut self,
        primary: Option<std::path::PathBuf>,
        replicas: Option<std::path::PathBuf>,
    ) -> Self {
        self.primary_binary = primary;
        self.replica_binary = replicas;
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

    /// The names of the nodes, primary first.
    pub fn names(&self) -> Vec<String> {
        std::iter::once("primary".to_string())
            .chain((1..=self.replicas).map(|i| format!("replica {i}")))
            .collect()
    }

    /// Checks that per-node directives name nodes of this set.
    pub fn validate(&self) -> Result<()> {
        let names = self.names();
        for (node, key, _) in &self.per_node {
            if node != "all" && !names.contains(node) {
                return Err(Error::Config {
                    what: format!(
                        "the directive {key:?} is for {node:?}, which is not a node of this set"
                    ),
                    hint: format!("the nodes are: all, {}", names.join(", ")),
                });
            }
        }
        Ok(())
    }

    /// Whether the scenario sets `key` for the node `name`.
    fn sets(&self, name: &str, key: &str) -> bool {
        self.all.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
            || self
                .per_node
                .iter()
                .any(|(n, k, _)| (n == name || n == "all") && k.eq_ignore_ascii_case(key))
    }

    fn spec_for(&self, name: &str) -> ServerSpec {
        let mut spec = ServerSpec::new(name);
        if !self.sets(name, "hz") {
            spec = spec.config("hz", FORMING_HZ.to_string());
        }
        let binary = if name == "primary" {
            &self.primary_binary
        } else {
            &self.replica_binary
        };
        if let Some(b) = binary {
            spec = spec.binary(b);
        }
        if let Some(dir) = &self.parent_dir {
            spec = spec.in_dir(dir);
        }
        if let Some(namespace) = &self.network {
            spec = spec.seat(namespace.seat());
        }
        if let Some(tls) = &self.tls {
            spec = spec.tls(tls.clone());
        }
        for (k, v) in &self.all {
            spec = spec.config(k, v);
        }
        for (node, k, v) in &self.per_node {
            if node == name || node == "all" {
                spec = spec.config(k, v);
            }
        }
        spec
    }
}

/// A started primary and its replicas.
#[derive(Debug)]
pub struct ReplicaSet {
    /// The primary, called `primary`.
    pub primary: Arc<Server>,
    /// The replicas, `replica 1` first.
    pub replicas: Vec<Arc<Server>>,
}

impl ReplicaSet {
    /// Starts every node at once, points the replicas at their primaries and
    /// waits until they have caught up.
    pub async fn start(spec: ReplicaSetSpec) -> Result<ReplicaSet> {
        spec.validate()?;
        let started = futures::future::join_all(
            spec.names()
                .iter()
                .map(|name| Server::start(spec.spec_for(name))),
        )
        .await;
        // If one fails, the others are dropped, which kills them.
        let mut servers = started
            .into_iter()
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .map(Arc::new);
        let primary = servers.next().expect("the primary is the first node");
        let replicas: Vec<Arc<Server>> = servers.collect();
        let upstreams: Vec<&Arc<Server>> = (0..replicas.len())
            .map(|i| {
                if spec.chain && i > 0 {
                    &replicas[i - 1]
                } else {
                    &primary
                }
            })
            .collect();
        let timeout = crate::settings::wait_timeout()?;
        if spec.chain {
            // A replica refuses to feed another until it has synced itself.
            for (replica, upstream) in replicas.iter().zip(&upstreams) {
                replicate(replica, upstream).await?;
                wait_caught_up(replica, upstream, timeout).await?;
            }
        } else {
            futures::future::try_join_all(
                replicas
                    .iter()
                    .zip(&upstreams)
                    .map(|(r, up)| replicate(r, up)),
            )
            .await?;
        }
        let set = ReplicaSet { primary, replicas };
        let all: Vec<Arc<Server>> = std::iter::once(set.primary.clone())
            .chain(set.replicas.iter().cloned())
            .collect();
        if !set.replicas.is_empty() {
            wait_all_caught_up(&all, timeout).await?;
            futures::future::try_join_all(set.replicas.iter().enumerate().map(|(i, r)| {
                let up = if spec.chain && i > 0 {
                    &set.replicas[i - 1]
                } else {
                    &set.primary
                };
                ensure_streaming(r, up, timeout)
            }))
            .await?;
        }
        for server in set.servers() {
            if !spec.sets(&server.name(), "hz") {
                server
                    .command(&format!("CONFIG SET hz {DEFAULT_HZ}"))
                    .await?;
            }
        }
        Ok(set)
    }

    /// Every node, primary first.
    pub fn servers(&self) -> impl Iterator<Item = &Arc<Server>> {
        std::iter::once(&self.primary).chain(self.replicas.iter())
    }
}

/// Makes `replica` replicate `primary` (`REPLICAOF`), also in its
/// `valkey.conf`, so that it is still a replica after a restart. Returns once
/// the replica has accepted; use a wait to know it has synced.
pub async fn replicate(replica: &Server, primary: &Server) -> Result<()> {
    let line = format!("REPLICAOF {} {}", primary.host(), primary.port());
    match replica.command(&line).await? {
        Reply::Status(s) if s.starts_with("OK") => replica.persist_directive(
            "replicaof",
            Some(&format!("{} {}", primary.host(), primary.port())),
        ),
        other => Err(Error::Expectation(format!(
            "`{line}` on {} answered {other}",
            replica.describe()
        ))),
    }
}

/// Makes sure a replica that has just synced receives writes at once.
///
/// After a diskless sync, a primary streams writes to the replica only once
/// it has seen an `ACK` from it *after* noticing that the fork which sent
/// the snapshot ended. The replica sends one ACK as soon as it has loaded
/// the snapshot — often before the primary noticed — and the next one only
/// at its once-a-second cron: the first write then reaches the replica up to
/// a second late, while every check (`master_link_status:up`, the offsets)
/// already says it is synced. So: wait until the upstream has no snapshot
/// fork left, then ask the replica for one more ACK (`REPLCONF GETACK *`).
pub async fn ensure_streaming(
    replica: &Server,
    upstream: &Server,
    timeout: Duration,
) -> Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_micros(500);
    loop {
        let info = Info::fetch(upstream, "persistence").await?;
        let saving = info.get("rdb_bgsave_in_progress").map(str::to_string);
        match saving.as_deref() {
            Some("0") | None => break,
            _ if started.elapsed() >= timeout => {
                return Err(Error::Timeout {
                    what: format!(
                        "{} to end the snapshot it sends {}",
                        upstream.describe(),
                        replica.describe()
                    ),
                    waited: started.elapsed(),
                    last: "rdb_bgsave_in_progress:1".into(),
                    hint: "see the primary's log: a large dataset takes long to snapshot".into(),
                });
            }
            _ => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    replica.client().await?.ask_for_ack().await
}

/// Turns a replica into a primary (`REPLICAOF NO ONE`), also in its
/// `valkey.conf`.
pub async fn promote(server: &Server) -> Result<()> {
    match server.command("REPLICAOF NO ONE").await? {
        Reply::Status(s) if s.starts_with("OK") => server.persist_directive("replicaof", None),
        other => Err(Error::Expectation(format!(
            "`REPLICAOF NO ONE` on {} answered {other}",
            server.describe()
        ))),
    }
}

/// What `INFO replication` says of one server's place in a topology.
#[derive(Debug, Clone)]
pub struct Role {
    /// The port of its primary, when it is a replica.
    pub primary_port: Option<u16>,
    /// `master_link_status` of a replica.
    pub link_up: bool,
    /// The offset it has processed: `slave_repl_offset` for a replica,
    /// `master_repl_offset` for a primary.
    pub offset: i64,
    /// Whether a full sync is under way on this replica.
    pub syncing: bool,
}

impl Role {
    /// Reads a server's role.
    pub async fn of(server: &Server) -> Result<Role> {
        let info = Info::fetch(server, "replication").await?;
        let int = |k: &str| info.get(k).and_then(|v| v.parse::<i64>().ok());
        Ok(match info.get("role") {
            Some("slave") => Role {
                primary_port: info.get("master_port").and_then(|p| p.parse().ok()),
                link_up: info.get("master_link_status") == Some("up"),
                offset: int("slave_repl_offset").unwrap_or(-1),
                syncing: info.get("master_sync_in_progress") == Some("1"),
            },
            _ => Role {
                primary_port: None,
                link_up: false,
                offset: int("master_repl_offset").unwrap_or(0),
                syncing: false,
            },
        })
    }

    fn describe(&self) -> String {
        match self.primary_port {
            None => format!("a primary at offset {}", self.offset),
            Some(p) => format!(
                "replica of port {p}, link {}, offset {}{}",
                if self.link_up { "up" } else { "down" },
                self.offset,
                if self.syncing {
                    ", full sync in progress"
                } else {
                    ""
                }
            ),
        }
    }
}

/// A hint for two servers that never answered alike: whether one replicates
/// the other (and its link), read now. Two servers of which neither
/// replicates the other answer alike only when the scenario writes alike to
/// both, and the hint says so instead of asking about a link there is none of.
pub async fn likeness_hint(server: &Server, reference: &Server) -> String {
    let look = async { (Role::of(server).await, Role::of(reference).await) };
    let Ok((Ok(a), Ok(b))) = tokio::time::timeout(Duration::from_secs(2), look).await else {
        return "one of them did not answer INFO within 2 s: is it frozen or busy?".into();
    };
    let named = |s: &Server| format!("server {:?}", s.name());
    let pair = [(server, &a, reference), (reference, &b, server)];
    for (replica, role, primary) in pair {
        if role.primary_port == Some(primary.port()) {
            return if role.link_up {
                format!(
                    "{} replicates {} with its link up: does the reply depend on the server \
                     that answers (its role, id or address), or does a write reach only one?",
                    named(replica),
                    named(primary)
                )
            } else {
                format!(
                    "{} replicates {}, but its link is down: see its log",
                    named(replica),
                    named(primary)
                )
            };
        }
    }
    format!(
        "neither replicates the other ({}: {}; {}: {}): they answer alike only when \
         the scenario writes the same to both",
        named(server),
        a.describe(),
        named(reference),
        b.describe()
    )
}

/// The role of each server, by port, read within what is left of a wait that
/// began at `started`: a frozen replica answers nothing, and must fail as not
/// caught up, in time.
pub async fn roles_of(
    servers: &[Arc<Server>],
    started: Instant,
    timeout: Duration,
) -> Result<HashMap<u16, Role>> {
    let mut roles = HashMap::new();
    for s in servers {
        let left = timeout.saturating_sub(started.elapsed());
        let role = tokio::time::timeout(left, Role::of(s))
            .await
            .map_err(|_| Error::Timeout {
                what: format!("{} to catch up with its primary", s.describe()),
                waited: started.elapsed(),
                last: format!("no answer to INFO within {left:?} (is it frozen or busy?)"),
                hint: "a frozen or busy server never catches up".into(),
            })??;
        roles.insert(s.port(), role);
    }
    Ok(roles)
}

/// Waits until every replica among `servers` has caught up with the root
/// primary of its chain, as it stood when the wait began. Without any
/// replica among them this is an error, not a vacuous success.
pub async fn wait_all_caught_up(servers: &[Arc<Server>], timeout: Duration) -> Result<()> {
    let _spent = crate::spent::track(crate::spent::Activity::Waiting);
    let started = Instant::now();
    let roles = roles_of(servers, started, timeout).await?;
    let by_port: HashMap<u16, &Arc<Server>> = servers.iter().map(|s| (s.port(), s)).collect();
    // The target of each replica: its root primary's offset, now.
    let mut targets = Vec::new();
    for s in servers {
        if roles[&s.port()].primary_port.is_none() {
            continue;
        }
        let mut port = s.port();
        let mut hops = 0;
        while let Some(up) = roles.get(&port).and_then(|r| r.primary_port) {
            port = up;
            hops += 1;
            if !roles.contains_key(&port) || hops > servers.len() {
                return Err(Error::Unknown {
                    what: format!(
                        "{} replicates port {up}, which is not a server of this scenario (or the chain loops)",
                        s.describe()
                    ),
                    hint: "point it at a server of the scenario: `server \"b\" replicates server \"a\"`".into(),
                });
            }
        }
        targets.push((s, by_port[&port], roles[&port].offset));
    }
    if targets.is_empty() {
        // "Every replica caught up" of no replica at all is no claim.
        return Err(Error::Expectation(format!(
            "no running server of this scenario is a replica, so none can have caught up (running: {})",
            if servers.is_empty() {
                "none".to_string()
            } else {
                servers
                    .iter()
                    .map(|s| s.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )));
    }
    let left = timeout.saturating_sub(started.elapsed());
    futures::future::try_join_all(
        targets
            .into_iter()
            .map(|(replica, root, target)| wait_offset(replica, root, target, left)),
    )
    .await
    .map(drop)
}

/// Waits until `replica` has caught up with `primary` (its primary, or the
/// root of its chain) as it stands now.
pub async fn wait_caught_up(replica: &Server, primary: &Server, timeout: Duration) -> Result<()> {
    let _spent = crate::spent::track(crate::spent::Activity::Waiting);
    let target = Role::of(primary).await?.offset;
    wait_offset(replica, primary, target, timeout).await
}

async fn wait_offset(
    replica: &Server,
    root: &Server,
    target: i64,
    timeout: Duration,
) -> Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_micros(500);
    loop {
        // The wait's deadline bounds each look too: a frozen replica does
        // not answer INFO at all.
        let remaining = timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(50));
        let last = match tokio::time::timeout(remaining, Role::of(replica)).await {
            Ok(role) => {
                let role = role?;
                if role.primary_port.is_some()
                    && role.link_up
                    && !role.syncing
                    && role.offset >= target
                {
                    return Ok(());
                }
                role.describe()
            }
            Err(_) => format!("no answer to INFO within {remaining:?} (is it frozen or busy?)"),
        };
        if started.elapsed() >= timeout {
            return Err(Error::Timeout {
                what: format!(
                    "{} to catch up with {} (offset {target})",
                    replica.describe(),
                    root.describe()
                ),
                waited: started.elapsed(),
                last,
                hint: "see the replica's log for the sync; a frozen or lagging replica, or a replica of \
                       another primary, never catches up"
                    .into(),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// The digest of a server's whole dataset (`DEBUG DIGEST`).
pub async fn digest(server: &Server) -> Result<String> {
    match server.command("DEBUG DIGEST").await? {
        r @ (Reply::Status(_) | Reply::Bulk(_)) => Ok(r.text().unwrap_or_default()),
        Reply::Error(e) if e.contains("not allowed") => Err(Error::Config {
            what: format!("{} refuses DEBUG DIGEST: {e}", server.describe()),
            hint: "comparing data needs DEBUG: valkey-bdd sets `enable-debug-command local` unless the \
                   scenario's config overrides it; remove that override (or set it to local or yes)"
                .into(),
        }),
        other => Err(Error::Expectation(format!(
            "DEBUG DIGEST on {} answered {other}",
            server.describe()
        ))),
    }
}

/// Checks that every replica holds exactly the primary's data: waits for
/// them to catch up, then compares digests.
pub async fn assert_same_data(
    primary: &Server,
    replicas: &[Arc<Server>],
    timeout: Duration,
) -> Result<()> {
    let mut all = vec![];
    for r in replicas {
        wait_caught_up(r, primary, timeout).await?;
        all.push(r);
    }
    let want = digest(primary).await?;
    let mut differ = Vec::new();
    for r in all {
        let got = digest(r).await?;
        if got != want {
            differ.push(format!(
                "{}: digest {got}, {} keys (the primary: digest {want}, {} keys)",
                r.describe(),
                dbsize(r).await,
                dbsize(primary).await
            ));
        }
    }
    if differ.is_empty() {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "replicas hold other data than {}:\n{}",
        primary.describe(),
        crate::error::indent(&differ.join("\n"))
    )))
}

/// Why a write may not have reached `server`, from its role now: a replica
/// whose link is down, a replica of another primary, or no replica at all.
pub async fn replication_hint(server: &Server) -> String {
    match Role::of(server).await {
        Ok(Role {
            primary_port: Some(port),
            link_up: true,
            ..
        }) => format!(
            "it is a replica of port {port}, its link up: was the write made on that primary?"
        ),
        Ok(Role {
            primary_port: Some(port),
            ..
        }) => format!(
            "it is a replica of port {port} whose link is down (master_link_status): \
             the write has not reached it; the primary's log says why"
        ),
        Ok(_) => "it is a primary, not a replica: nothing reaches it by replication; \
                  does anything in the scenario still write what the command reads?"
            .into(),
        Err(e) => format!("its role could not be read: {e}"),
    }
}

async fn dbsize(server: &Server) -> String {
    match server.command("DBSIZE").await {
        Ok(r) => r.cell(),
        Err(e) => e.to_string(),
    }
}

/// Runs `command` on `server` until `accept` likes the reply or the deadline
/// passes; the error shows the last reply seen, and `hint` (the caller
/// knows what the wait was for), or, without one, what the server's role
/// says of why a write has not reached it ([`replication_hint`]).
pub async fn eventually(
    server: &Server,
    command: &str,
    expected: &str,
    accept: impl Fn(&Reply) -> bool,
    hint: Option<&str>,
    timeout: Duration,
) -> Result<Reply> {
    let _spent = crate::spent::track(crate::spent::Activity::Waiting);
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let last = server.command(command).await?;
        if accept(&last) {
            return Ok(last);
        }
        if started.elapsed() >= timeout {
            let hint = match hint {
                Some(h) => h.to_string(),
                None => replication_hint(server).await,
            };
            return Err(Error::Timeout {
                what: format!("`{command}` on {} to answer {expected}", server.describe()),
                waited: started.elapsed(),
                last: last.to_string(),
                hint,
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
