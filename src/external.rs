//! Servers the harness did not start: `VALKEY_BDD_EXTERNAL`.
//!
//! A suite can run against a server someone deployed (a container, a managed
//! service, a staging cluster): `VALKEY_BDD_EXTERNAL=redis://host:port`
//! (`rediss://` for TLS, checked against the system's trusted roots; a user
//! and password in the URL are sent with `AUTH`), or
//! `VALKEY_BDD_EXTERNAL=cluster:redis://host:port` for a cluster reached
//! through one of its nodes. The scenario's default server (`Given a
//! server`) — or its cluster (`Given a cluster of 3 shards`, when the
//! external cluster has that shape) — is then the external one.
//!
//! What cannot run there is skipped with the reason, decided from the
//! sentences themselves ([`why_not`]: a step that starts a server with its
//! own configuration, restarts, kills or freezes one, reads its log or its
//! files, sets up replicas or TLS, changes the cluster's slot map, ...) and
//! from tags in the Valkey Tcl suite's spelling: `@external:skip`,
//! `@needs:debug` (skipped when the server refuses `DEBUG`), `@needs:repl`,
//! `@cluster:skip`.
//!
//! A command with lasting effects is read from the server's own `COMMAND`
//! table ([`commands`]): a scenario running one that the harness cannot
//! undo is skipped with the reason too.
//!
//! Scenarios run one at a time there, and the server is left as they found
//! it ([`state`]): `VALKEY_BDD_EXTERNAL_FLUSH=1` lets the harness
//! `FLUSHALL` it at the start and around every scenario; without it, the
//! databases that hold keys are the server's own, the scenarios use the
//! first empty one, emptied again after each. Functions, the script cache
//! and pauses are put back at each scenario's end.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub mod commands;
mod handles;
pub mod state;

pub use commands::CommandTable;
pub use state::Snapshot;

use crate::binary::{Engine, ServerBinary};
use crate::client::{Address, Client, Credentials};
use crate::error::{Error, Result};
use crate::reply::Reply;

/// The variable naming the external endpoint.
pub const ENV_EXTERNAL: &str = "VALKEY_BDD_EXTERNAL";
/// The variable allowing the harness to flush the external server.
pub const ENV_FLUSH: &str = "VALKEY_BDD_EXTERNAL_FLUSH";

/// Where the external server is, as `VALKEY_BDD_EXTERNAL` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// Client port.
    pub port: u16,
    /// Whether it speaks TLS (`rediss://`).
    pub tls: bool,
    /// Whether it is a cluster (`cluster:` before the URL).
    pub cluster: bool,
    /// Who the harness authenticates as (from the URL).
    pub credentials: Option<Credentials>,
}

impl Endpoint {
    /// Parses `redis://[user:password@]host:port`, `rediss://…`, or either
    /// after `cluster:`.
    pub fn parse(spec: &str) -> Result<Endpoint> {
        use redis::IntoConnectionInfo as _;
        let bad = |why: String| {
            Error::Config {
            what: format!("{ENV_EXTERNAL}={:?}: {why}", redact(spec)),
            hint: "write redis://host:port, rediss://host:port for TLS, or cluster:redis://host:port for a cluster reached through one of its nodes".into(),
        }
        };
        let (cluster, url) = match spec.strip_prefix("cluster:") {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(bad("the URL must start with redis:// or rediss://".into()));
        }
        let info = url
            .into_connection_info()
            .map_err(|e| bad(format!("not a server URL: {e}")))?;
        let (host, port, tls) = match info.addr() {
            redis::ConnectionAddr::Tcp(host, port) => (host.clone(), *port, false),
            redis::ConnectionAddr::TcpTls { host, port, .. } => (host.clone(), *port, true),
            other => return Err(bad(format!("{other} is not a TCP address"))),
        };
        if host.is_empty() {
            return Err(bad("the URL names no host".into()));
        }
        if info.redis_settings().db() != 0 {
            return Err(bad(
                "scenarios use database 0 and SELECT others themselves: leave the database out of the URL".into(),
            ));
        }
        if cluster && tls {
            return Err(bad(
                "a TLS cluster (cluster:rediss://) is not supported yet".into(),
            ));
        }
        let settings = info.redis_settings();
        let credentials = settings.password().map(|p| Credentials {
            user: settings
                .username()
                .filter(|u| !u.is_empty() && *u != "default")
                .map(str::to_string),
            password: p.to_string(),
        });
        Ok(Endpoint {
            host,
            port,
            tls,
            cluster,
            credentials,
        })
    }

    /// Reads `VALKEY_BDD_EXTERNAL`: `None` when unset or empty.
    pub fn from_env() -> Result<Option<Endpoint>> {
        match std::env::var(ENV_EXTERNAL) {
            Ok(v) if !v.is_empty() => Endpoint::parse(&v).map(Some),
            _ => Ok(None),
        }
    }

    /// How the harness reaches `host:port` of this endpoint.
    pub fn address_of(&self, host: &str, port: u16) -> Address {
        if self.tls {
            Address::TlsSystem {
                host: host.to_string(),
                port,
            }
        } else {
            Address::Tcp {
                host: host.to_string(),
                port,
            }
        }
    }

    /// `redis://host:port`, without credentials (safe to show).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let prefix = if self.cluster { "cluster:" } else { "" };
        format!("{prefix}{scheme}://{}:{}", self.host, self.port)
    }

    async fn connect(&self, host: &str, port: u16) -> Result<Client> {
        Client::open(
            format!("the external server at {host}:{port}"),
            &self.address_of(host, port),
            self.credentials.as_ref(),
            crate::settings::command_timeout()?,
        )
        .await
    }
}

/// `redis://user:secret@host` → `redis://user:***@host`.
fn redact(spec: &str) -> String {
    match (spec.find("://"), spec.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &spec[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &spec[..s + 3], &spec[at..]),
                None => format!("{}***{}", &spec[..s + 3], &spec[at..]),
            }
        }
        _ => spec.to_string(),
    }
}

/// Whether `VALKEY_BDD_EXTERNAL_FLUSH` allows the harness to flush the
/// external server.
pub fn may_flush() -> Result<bool> {
    match std::env::var(ENV_FLUSH) {
        Err(_) => Ok(false),
        Ok(v) => match v.as_str() {
            "" | "0" | "no" | "false" => Ok(false),
            "1" | "yes" | "true" => Ok(true),
            _ => Err(Error::Config {
                what: format!("{ENV_FLUSH}={v:?} is neither 1 nor 0"),
                hint: format!(
                    "use {ENV_FLUSH}=1 to let the harness FLUSHALL the external server, or leave it unset"
                ),
            }),
        },
    }
}

inventory::submit! {
    crate::settings::Check {
        variable: ENV_EXTERNAL,
        check: || Endpoint::from_env().map(drop),
    }
}

inventory::submit! {
    crate::settings::Check {
        variable: ENV_FLUSH,
        check: || may_flush().map(drop),
    }
}

/// One node of the external deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Where it listens, as the cluster announces it.
    pub host: String,
    /// Its client port.
    pub port: u16,
}

/// The external deployment, as found at the start of the run.
#[derive(Debug)]
pub struct External {
    /// Where it is.
    pub endpoint: Endpoint,
    /// What it runs (from `INFO server`), standing in for a binary.
    pub binary: Arc<ServerBinary>,
    /// Its shards, ordered by first slot: each primary then its replicas.
    /// A standalone server is one shard of one node.
    pub shards: Vec<Vec<Node>>,
    /// Whether it answers `DEBUG` (often disabled: `enable-debug-command`).
    pub debug: bool,
    /// Whether the harness may flush it.
    pub may_flush: bool,
    /// What it says of its commands (`COMMAND`): which have lasting effects.
    pub commands: CommandTable,
    /// The databases that held keys when the run started, when the harness
    /// may not flush them: the server's own, which no scenario reaches.
    pub theirs: BTreeSet<u32>,
    /// The database the scenarios use: 0, or the first that was empty.
    pub database: u32,
    /// Scripts in its cache when the run started (`number_of_cached_scripts`,
    /// every node): the server's own, which only `SCRIPT FLUSH` would drop.
    pub cached_scripts: u64,
    /// Whether it answers `FUNCTION DUMP`: the harness can then put its
    /// functions back after a scenario.
    pub functions: bool,
}

static ACTIVE: RwLock<Option<Arc<External>>> = RwLock::new(None);

/// The external deployment of this run, if any.
pub fn active() -> Option<Arc<External>> {
    ACTIVE.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Makes `external` the run's deployment (`None`: servers are started again).
pub fn set_active(external: Option<Arc<External>>) {
    *ACTIVE.write().unwrap_or_else(|p| p.into_inner()) = external;
}

impl External {
    /// Connects to the endpoint, finds its nodes, what it runs, whether it
    /// answers `DEBUG` and `FUNCTION DUMP`, what it says of its commands and
    /// the scripts it caches, and which databases the scenarios use
    /// (flushing it when allowed; refusing it when no database is free).
    pub async fn connect(endpoint: Endpoint) -> Result<External> {
        let mut external = External::probe(endpoint).await?;
        external.claim_databases().await?;
        let snapshot = external.snapshot().await?;
        external.cached_scripts = snapshot.cached_scripts();
        Ok(external)
    }

    /// [`External::connect`] without touching the data: what `--list`
    /// needs to tell the scenarios that will be skipped (nextest lists
    /// before it runs, and a list changes nothing).
    pub async fn probe(endpoint: Endpoint) -> Result<External> {
        let mut seed = endpoint.connect(&endpoint.host, endpoint.port).await?;
        let info = text(seed.run("INFO server").await?, "INFO server")?;
        let field = |k: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(k)?.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        };
        let engine = if field("server_name").as_deref() == Some("valkey")
            || field("valkey_version").is_some()
        {
            Engine::Valkey
        } else {
            Engine::Redis
        };
        let version_text = field("valkey_version")
            .or_else(|| field("redis_version"))
            .unwrap_or_default();
        let mut v = version_text
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let version = (
            v.next().unwrap_or(0),
            v.next().unwrap_or(0),
            v.next().unwrap_or(0),
        );
        let binary = Arc::new(ServerBinary {
            path: PathBuf::from(endpoint.url()),
            found_by: ENV_EXTERNAL.into(),
            engine,
            version,
        });
        let clustered = field("server_mode").as_deref() == Some("cluster")
            || matches!(
                seed.run("CLUSTER INFO").await?,
                Reply::Bulk(_) | Reply::Verbatim(_)
            );
        let shards = match (endpoint.cluster, clustered) {
            (false, false) => vec![vec![Node {
                host: endpoint.host.clone(),
                port: endpoint.port,
            }]],
            (true, true) => cluster_shards(&mut seed, &endpoint.host).await?,
            (false, true) => {
                return Err(Error::Config {
                    what: format!("{ENV_EXTERNAL}={} is a node of a cluster", endpoint.url()),
                    hint: format!("write {ENV_EXTERNAL}=cluster:{}", endpoint.url()),
                });
            }
            (true, false) => {
                return Err(Error::Config {
                    what: format!(
                        "{ENV_EXTERNAL}={} names a cluster, but the server is not in cluster mode",
                        endpoint.url()
                    ),
                    hint: format!(
                        "leave out cluster: for a standalone server: {ENV_EXTERNAL}={}",
                        endpoint.url().trim_start_matches("cluster:")
                    ),
                });
            }
        };
        let debug = !matches!(seed.run("DEBUG HELP").await?, Reply::Error(_));
        let commands = CommandTable::read(&mut seed, &endpoint.url()).await?;
        let functions = matches!(seed.run("FUNCTION DUMP").await?, Reply::Bulk(_));
        Ok(External {
            endpoint,
            binary,
            shards,
            debug,
            may_flush: may_flush()?,
            commands,
            theirs: BTreeSet::new(),
            database: 0,
            cached_scripts: 0,
            functions,
        })
    }

    /// Every node, shard by shard.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.shards.iter().flatten()
    }

    /// How many replicas each shard has, when they all have as many.
    pub fn replicas_per_shard(&self) -> Option<usize> {
        let n = self.shards.first()?.len() - 1;
        self.shards.iter().all(|s| s.len() == n + 1).then_some(n)
    }
}

pub(crate) fn text(reply: Reply, what: &str) -> Result<String> {
    match reply {
        r @ (Reply::Bulk(_) | Reply::Verbatim(_) | Reply::Status(_)) => {
            Ok(r.text().unwrap_or_default())
        }
        other => Err(Error::Expectation(format!(
            "`{what}` on the external server answered {other}"
        ))),
    }
}

/// The cluster's shards from `CLUSTER NODES` of the seed: primaries ordered
/// by their first slot, each followed by its replicas (ordered by port).
async fn cluster_shards(seed: &mut Client, seed_host: &str) -> Result<Vec<Vec<Node>>> {
    let nodes = text(seed.run("CLUSTER NODES").await?, "CLUSTER NODES")?;
    let view = crate::cluster::NodesView::parse(&nodes);
    // `id ip:port@bus[,hostname] ...`: the host the view leaves out.
    let host_of = |id: &str| {
        nodes
            .lines()
            .find(|l| l.starts_with(id))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|a| a.split('@').next())
            .and_then(|a| a.rsplit_once(':'))
            .map(|(h, _)| h.to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| seed_host.to_string())
    };
    let mut primaries: Vec<_> = view
        .nodes
        .iter()
        .filter(|n| n.primary.is_none() && !n.slots.is_empty())
        .collect();
    primaries.sort_by_key(|n| n.slots.iter().map(|(a, _)| *a).min());
    if primaries.is_empty() {
        return Err(Error::Expectation(format!(
            "the external cluster serves no slot (CLUSTER NODES of {seed_host}):\n{nodes}"
        )));
    }
    Ok(primaries
        .iter()
        .map(|p| {
            let mut replicas: Vec<_> = view
                .nodes
                .iter()
                .filter(|n| n.primary.as_deref() == Some(p.id.as_str()))
                .collect();
            replicas.sort_by_key(|n| n.port);
            std::iter::once(*p)
                .chain(replicas)
                .map(|n| Node {
                    host: host_of(&n.id),
                    port: n.port,
                })
                .collect()
        })
        .collect())
}

/// Sentences that need a server process of the harness's own, with why:
/// (a regular expression on the step's text, the reason).
const NEEDS_OWN_PROCESS: &[(&str, &str)] = &[
    (
        r"shared by the scenarios of this feature$",
        "shares a server the harness starts between the feature's scenarios",
    ),
    (
        r#"^a server "[^"]+"$"#,
        "a named server: the external endpoint is the scenario's one default server",
    ),
    (
        r"^a server(?: .+)? (?:with|using|on a unix socket|shared by)",
        "starts a server with its own configuration, binary, module, TLS, socket or password",
    ),
    (
        r"^I try to start ",
        "starts a server that is expected to fail",
    ),
    (
        r"^the server fails to start",
        "reads the log of a failed start",
    ),
    (
        r"^I (?:stop|kill|restart|start) (?:the |server |node |replica |primary )",
        "stops, kills or restarts a server",
    ),
    (
        r"^I (?:freeze|thaw) ",
        "freezes a server's process (SIGSTOP)",
    ),
    (r" is (?:not )?running$", "checks a server's process"),
    (r" dies$", "crashes a server"),
    (r"^the log of ", "reads a server's log file"),
    (
        r"^the unix socket of |accepts no plaintext TCP",
        "checks a server's socket files or ports",
    ),
    (
        r"TLS|certificate",
        "sets up TLS with the run's own certificates",
    ),
    (
        r"module of the crate",
        "loads a module built by the harness",
    ),
    (
        r"^a primary |^a chain of | replicates |promoted to primary|replicas have caught up|has caught up with|all replicas hold| is a replica of | is a primary$",
        "sets up or checks replicas (needs:repl)",
    ),
    (
        r"starts migrating|^slots \d+ to \d+ (?:move|migrate)|^I fail over|becomes a primary of the cluster|new empty shard|rebalanced|removed from the cluster|atomic slot migration|^the cluster is ready",
        "changes the cluster's slot map or roles, which would outlive the scenario",
    ),
    (
        r"ACL users|default user of .* is disabled|connects? to .* (?:as|with|without|over)",
        "changes the server's users or connects with credentials of the harness's own",
    ),
];

/// Why a scenario cannot run against `external`, if it cannot: from its
/// tags (Tcl suite spelling) and its steps (text and doc strings).
pub fn why_not(
    tags: &[String],
    steps: &[cucumber::gherkin::Step],
    external: &External,
) -> Option<String> {
    let cluster = external.endpoint.cluster;
    for tag in tags {
        let reason = match tag.as_str() {
            "external:skip" => Some("tagged @external:skip".to_string()),
            "needs:repl" => {
                Some("tagged @needs:repl: replication needs servers of the harness's own".into())
            }
            "needs:debug" if !external.debug => Some(
                "tagged @needs:debug, and the external server refuses DEBUG (enable-debug-command)"
                    .into(),
            ),
            "cluster:skip" if cluster => {
                Some("tagged @cluster:skip, and the external server is a cluster".into())
            }
            "mixed-versions" | "atomic-slot-migration" => Some(format!(
                "tagged @{tag}: it starts servers of other binaries"
            )),
            _ => None,
        };
        if let Some(r) = reason {
            return Some(format!("external server: {r}"));
        }
    }
    let patterns = compiled();
    let plain_cluster =
        regex::Regex::new(r"^a cluster of (\d+) shards?(?: with (\d+) replicas? each)?$")
            .expect("valid regex");
    for step in steps {
        let text = step.value.as_str();
        let said = |why: &str| Some(format!("external server: step \"{text}\" {why}"));
        if let Some((_, why)) = patterns.iter().find(|(re, _)| re.is_match(text)) {
            return said(why);
        }
        if text.starts_with("a cluster of ") {
            let Some(c) = plain_cluster.captures(text) else {
                return said("forms a cluster with its own configuration");
            };
            if !cluster {
                return said(&format!(
                    "needs a cluster, and {ENV_EXTERNAL} names a standalone server (write cluster:redis://host:port for a cluster)"
                ));
            }
            let shards: usize = c[1].parse().unwrap_or(0);
            let replicas: usize = c.get(2).map_or(0, |m| m.as_str().parse().unwrap_or(0));
            if shards != external.shards.len() || Some(replicas) != external.replicas_per_shard() {
                return said(&format!(
                    "needs {shards} shard(s) with {replicas} replica(s) each; the external cluster has {} shard(s) with {} replica(s) each",
                    external.shards.len(),
                    external
                        .replicas_per_shard()
                        .map_or("unequal numbers of".to_string(), |n| n.to_string())
                ));
            }
        }
        if cluster && text == "a server" {
            return said(&format!(
                "needs a standalone server, and {ENV_EXTERNAL} names a cluster"
            ));
        }
        for command in commands_of(step) {
            let upper = command.trim().to_ascii_uppercase();
            if upper.starts_with("DEBUG") && !external.debug {
                return said(
                    "runs DEBUG, which the external server refuses (enable-debug-command)",
                );
            }
            if let Some(why) = commands::lasting(&command, external) {
                return said(&format!("runs `{}`, which {why}", command.trim()));
            }
        }
    }
    None
}

fn compiled() -> &'static [(regex::Regex, &'static str)] {
    static COMPILED: std::sync::OnceLock<Vec<(regex::Regex, &'static str)>> =
        std::sync::OnceLock::new();
    COMPILED.get_or_init(|| {
        NEEDS_OWN_PROCESS
            .iter()
            .map(|(re, why)| (regex::Regex::new(re).expect("valid regex"), *why))
            .collect()
    })
}

/// The commands between backticks of a sentence.
pub(crate) fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The commands a step runs: those written in backticks in its sentence,
/// and each line of its doc string.
pub(crate) fn commands_of(step: &cucumber::gherkin::Step) -> impl Iterator<Item = String> + '_ {
    backticked(&step.value).into_iter().chain(
        step.docstring
            .iter()
            .flat_map(|d| d.lines().map(str::to_string)),
    )
}

/// Checks a capability tag against the external server: `None` when the
/// tag asks for nothing the external server can be asked about.
pub async fn requirement(
    tag: &str,
    external: &External,
) -> Option<std::result::Result<(), String>> {
    let (kind, arg) = tag.split_once(':')?;
    if kind != "requires" {
        return None;
    }
    let what = format!("the external server {}", external.endpoint.url());
    Some(match arg {
        "tls" => Err(format!(
            "{what}: TLS scenarios serve the run's own certificates"
        )),
        "network-faults" => Err(format!(
            "{what}: network faults reach servers of the harness's own only"
        )),
        "debug" if external.debug => Ok(()),
        "debug" => Err(format!("{what} refuses DEBUG (enable-debug-command)")),
        directive => {
            let node = &external.shards[0][0];
            let known = match external.endpoint.connect(&node.host, node.port).await {
                Ok(mut c) => match c.run(&format!("CONFIG GET {directive}")).await {
                    Ok(Reply::Array(items) | Reply::Set(items)) => !items.is_empty(),
                    Ok(Reply::Map(items)) => !items.is_empty(),
                    _ => false,
                },
                Err(_) => false,
            };
            if known {
                Ok(())
            } else {
                Err(format!("{what} does not know the directive `{directive}`"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_and_bad_ones_say_why() {
        let e = Endpoint::parse("redis://127.0.0.1:6379").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.tls, e.cluster),
            ("127.0.0.1", 6379, false, false)
        );
        assert!(e.credentials.is_none());
        let e = Endpoint::parse("cluster:redis://app:s3cret@10.0.0.5:7000").unwrap();
        assert!(e.cluster);
        assert_eq!(e.credentials.as_ref().unwrap().user.as_deref(), Some("app"));
        assert_eq!(e.url(), "cluster:redis://10.0.0.5:7000");
        let e = Endpoint::parse("rediss://cache.example:6380").unwrap();
        assert!(e.tls);
        for (bad, says) in [
            ("localhost:6379", "must start with redis://"),
            ("redis://", "not a server URL"),
            ("unix:///tmp/v.sock", "must start with redis://"),
            ("redis://h:6379/2", "database 0"),
            ("cluster:rediss://h:1", "TLS cluster"),
        ] {
            let e = Endpoint::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(e.contains("VALKEY_BDD_EXTERNAL"), "{bad}: {e}");
        }
        let e = Endpoint::parse("redis://u:topsecret@h:1/3")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("topsecret"), "{e}");
    }
}
