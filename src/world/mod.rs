//! The state of one scenario: its servers, clients, last reply and the
//! user's own state.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::actors::{Actor, Subscriber};
use crate::client::Client;
use crate::cluster::{Cluster, ClusterClient, ClusterSpec};
use crate::error::{Error, Result};
use crate::replication::{ReplicaSet, ReplicaSetSpec};
use crate::reply::Reply;
use crate::server::{Server, ServerSpec, StopMode};
use crate::settings::KeepPolicy;
use crate::shared;

mod clients;
mod network;
mod observe;
pub mod remember;
mod replicates;

pub use observe::Subject;
mod modules;

/// The name of the server that sentences without a name refer to.
pub const DEFAULT_SERVER: &str = "default";

/// What the runner tells the world about the scenario it runs.
#[derive(Debug, Clone, Default)]
pub struct ScenarioInfo {
    /// The feature's name.
    pub feature: String,
    /// The feature file, when it came from one.
    pub feature_path: Option<PathBuf>,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario's line in the feature file.
    pub line: usize,
    /// Whether it states network faults ([`crate::network::scenario_states_faults`]):
    /// its servers then run inside the run's network namespace.
    pub network: bool,
}

/// The last command run and what it answered.
#[derive(Debug, Clone)]
pub struct LastReply {
    /// The command line.
    pub command: String,
    /// Who ran it: `server "default"`, `client "alice"`.
    pub by: String,
    /// The reply.
    pub reply: Reply,
}

/// The cucumber world of valkey-bdd: everything one scenario has started.
///
/// Steps of other crates use it as they use ours; their own state lives in
/// [`ValkeyWorld::state`].
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct ValkeyWorld {
    scenario: ScenarioInfo,
    /// The scenario's directory, holding one directory per server.
    dir: Option<tempfile::TempDir>,
    servers: BTreeMap<String, Arc<Server>>,
    /// Servers owned by the feature, not by this scenario.
    shared: HashSet<String>,
    /// Servers whose death the scenario expected (a crash it provoked).
    expected_deaths: HashSet<String>,
    /// The connection each server's sentences without a client use.
    default_clients: HashMap<String, Client>,
    /// Named clients and the server each one is connected to.
    clients: BTreeMap<String, Actor>,
    /// Named subscribers (pub/sub connections).
    subscribers: BTreeMap<String, Subscriber>,
    /// The user's own programs, by name.
    processes: BTreeMap<String, crate::process::UserProcess>,
    last: Option<LastReply>,
    /// The error of the last start that was expected to fail.
    start_error: Option<Error>,
    user: HashMap<TypeId, Box<dyn Any + Send>>,
    /// What to do with the scenario's directory at its end.
    keep: KeepPolicy,
    /// The scenario's cluster, whose nodes are also in `servers`.
    cluster: Option<Arc<Cluster>>,
    /// The cluster-aware connection of sentences that name no server.
    cluster_client: Option<ClusterClient>,
    /// Where the scenario's directory is made.
    tmp_root: PathBuf,
    /// How the last connection attempt that was allowed to fail ended:
    /// `Err` holds what the client saw.
    attempt: Option<std::result::Result<String, String>>,
    /// The values the scenario remembered (`I remember ... as "name"`),
    /// which `${name}` fills in.
    remembered: BTreeMap<String, String>,
    /// Modules every server started from now on loads (`Given every server
    /// loads the module ...`, typically in a Background), besides the run's.
    every_server: Vec<crate::modules::ModuleLoad>,
    /// Whether the scenario's sentences allow it to take and return reused
    /// servers ([`crate::reuse::classify`]).
    reuse: bool,
    /// The servers that go back to the pool if the scenario passes, with
    /// their state when fresh.
    reusable: HashMap<String, crate::reuse::Baseline>,
    /// The cluster's state when formed, when it goes back to the pool if
    /// the scenario passes.
    reusable_cluster: Option<crate::reuse::cluster::ClusterBaseline>,
    /// The network faults in force, once a server runs inside the run's
    /// network namespace.
    network: Option<crate::network::Faults>,
    /// The local ports of the client links given latency.
    delayed: Vec<u16>,
}

impl fmt::Debug for ValkeyWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let servers: Vec<String> = self
            .servers
            .values()
            .map(|s| format!("{} ({})", s.describe(), s.dir().display()))
            .collect();
        f.debug_struct("ValkeyWorld")
            .field("servers", &servers)
            .field("clients", &self.clients.keys().collect::<Vec<_>>())
            .field(
                "last",
                &self
                    .last
                    .as_ref()
                    .map(|l| format!("`{}` → {}", l.command, l.reply)),
            )
            .finish()
    }
}

impl ValkeyWorld {
    /// An empty world. The runner calls [`ValkeyWorld::set_scenario`] before
    /// the first step.
    pub fn new() -> Self {
        ValkeyWorld {
            scenario: ScenarioInfo::default(),
            dir: None,
            servers: BTreeMap::new(),
            shared: HashSet::new(),
            expected_deaths: HashSet::new(),
            default_clients: HashMap::new(),
            clients: BTreeMap::new(),
            subscribers: BTreeMap::new(),
            processes: BTreeMap::new(),
            last: None,
            start_error: None,
            user: HashMap::new(),
            keep: KeepPolicy::Failed,
            cluster: None,
            cluster_client: None,
            tmp_root: crate::settings::tmp_root(),
            attempt: None,
            remembered: BTreeMap::new(),
            every_server: Vec::new(),
            reuse: false,
            reusable: HashMap::new(),
            reusable_cluster: None,
            network: None,
            delayed: Vec::new(),
        }
    }

    /// Lets the scenario take servers from the pool of reused ones and
    /// return them when it passes ([`crate::reuse`]); the runner allows it
    /// for scenarios whose sentences cannot leave lasting state behind.
    pub fn set_reuse(&mut self, allowed: bool) {
        self.reuse = allowed;
    }

    /// Records which scenario this world belongs to.
    pub fn set_scenario(&mut self, info: ScenarioInfo) {
        self.scenario = info;
    }

    /// Sets what happens to the scenario's directory when it ends.
    pub fn set_keep_policy(&mut self, keep: KeepPolicy) {
        self.keep = keep;
    }

    /// Sets where the scenario's directory is made.
    pub fn set_tmp_root(&mut self, root: PathBuf) {
        self.tmp_root = root;
    }

    /// The scenario this world belongs to.
    pub fn scenario(&self) -> &ScenarioInfo {
        &self.scenario
    }

    /// The user's own state of type `T`, created with `T::default()` on first
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// #[derive(Default)]
    /// struct Created { keys: Vec<String> }
    /// w.state::<Created>().keys.push("f".into());
    /// assert_eq!(w.state::<Created>().keys.len(), 1);
    /// # Ok(()) }
    /// ```
    /// use. One value per type per scenario.
    pub fn state<T: Default + Send + 'static>(&mut self) -> &mut T {
        self.user
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()))
            .downcast_mut::<T>()
            .expect("the slot of a type holds that type")
    }

    /// The scenario's directory, made on first use.
    pub fn dir(&mut self) -> Result<PathBuf> {
        if self.dir.is_none() {
            let root = self.tmp_root.clone();
            let label = format!(
                "valkey-bdd-{}-{}-",
                crate::server::sanitize(
                    &self
                        .scenario
                        .feature_path
                        .as_ref()
                        .and_then(|p| p.file_stem())
                        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned())
                ),
                self.scenario.line
            );
            let mut dir =
                crate::leftovers::tempdir(&root, &label, crate::leftovers::Kind::Scenario)
                    .map_err(|e| {
                        Error::io(
                            format!("creating a scenario directory in {}", root.display()),
                            e,
                        )
                    })?;
            // Kept however the scenario ends, an interrupted run included
            // (which drops the world without a teardown).
            dir.disable_cleanup(self.keep == KeepPolicy::Always);
            self.dir = Some(dir);
        }
        Ok(self
            .dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default())
    }

    // --- servers ---------------------------------------------------------

    /// Starts a server for this scenario, in the scenario's directory.
    pub async fn start_server(&mut self, spec: ServerSpec) -> Result<Arc<Server>> {
        self.ensure_new_name(spec.name())?;
        if let Some(external) = crate::external::active() {
            return self.attach_external(spec, &external).await;
        }
        let spec = self.with_every_module(spec, ServerSpec::load)?;
        if self.reuse
            && !self.scenario.network
            && spec.is_plain()
            && self.keep != KeepPolicy::Always
            && crate::reuse::enabled()
        {
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
            return Ok(server);
        }
        let dir = self.dir()?;
        let spec = self.seated(spec.in_dir(dir)).await?;
        let server = Arc::new(Server::start(spec).await?);
        self.servers
            .insert(server.name().to_string(), server.clone());
        Ok(server)
    }

    /// Under `VALKEY_BDD_EXTERNAL`, the scenario's default server is the
    /// external one, emptied first (or checked empty); any other server
    /// would need a process of the harness's own.
    async fn attach_external(
        &mut self,
        spec: ServerSpec,
        external: &crate::external::External,
    ) -> Result<Arc<Server>> {
        if spec.name() != DEFAULT_SERVER || !spec.is_plain() || external.endpoint.cluster {
            return Err(external_refusal(&format!("server \"{}\"", spec.name())));
        }
        external.make_empty("the scenario starts").await?;
        let node = &external.shards[0][0];
        let dir = self.dir()?.join(DEFAULT_SERVER);
        let server = Arc::new(Server::external(DEFAULT_SERVER, external, node, dir));
        self.servers
            .insert(DEFAULT_SERVER.to_string(), server.clone());
        Ok(server)
    }

    /// Starts a server that is expected to fail, and remembers the error for
    /// [`ValkeyWorld::start_error`]. Starting successfully is an error.
    pub async fn start_server_expecting_failure(&mut self, spec: ServerSpec) -> Result<()> {
        self.ensure_new_name(spec.name())?;
        let spec = self.with_every_module(spec, ServerSpec::load)?;
        let spec = spec.in_dir(self.dir()?);
        match Server::start(spec).await {
            Ok(server) => {
                let port = server.port();
                let name = server.name().to_string();
                self.servers.insert(name.clone(), Arc::new(server));
                Err(Error::Expectation(format!(
                    "server \"{name}\" was expected to fail to start, but it is running on port {port}"
                )))
            }
            Err(e) => {
                self.start_error = Some(e);
                Ok(())
            }
        }
    }

    /// The error of the last start that was expected to fail.
    pub fn start_error(&self) -> Result<&Error> {
        self.start_error.as_ref().ok_or_else(|| Error::Unknown {
            what: "no server start has failed in this scenario".into(),
            hint: "use `When I try to start a server with the config:` before asserting on a failed start".into(),
        })
    }

    /// Starts a primary with replicas (see [`ReplicaSetSpec`]) in the
    /// scenario's directory, synced before this returns.
    pub async fn start_replica_set(&mut self, spec: ReplicaSetSpec) -> Result<()> {
        for name in spec.names() {
            self.ensure_new_name(&name)?;
        }
        if crate::external::active().is_some() {
            return Err(external_refusal("replicas"));
        }
        let spec = self.with_every_module(spec, ReplicaSetSpec::load)?;
        let network = self.network_namespace().await?;
        let set = ReplicaSet::start(spec.in_dir(self.dir()?).in_network(network)).await?;
        for server in set.servers() {
            self.servers
                .insert(server.name().to_string(), server.clone());
        }
        Ok(())
    }

    /// The scenario's servers whose process runs.
    pub async fn running_servers(&self) -> Vec<Arc<Server>> {
        let mut out = Vec::new();
        for server in self.servers.values() {
            if let crate::server::Status::Running { .. } = server.status().await {
                out.push(server.clone());
            }
        }
        out
    }

    /// Attaches the feature's shared server `spec.name()`, starting it when
    /// this is the first scenario of the feature to ask for it.
    pub async fn attach_shared_server(&mut self, spec: ServerSpec) -> Result<Arc<Server>> {
        self.ensure_new_name(spec.name())?;
        if crate::external::active().is_some() {
            return Err(external_refusal(&format!(
                "shared server \"{}\"",
                spec.name()
            )));
        }
        let spec = self.with_every_module(spec, ServerSpec::load)?;
        let key = format!("server {}", spec.name());
        let servers = shared::get_or_start(&self.feature_key(), &key, || async move {
            Ok(vec![Arc::new(Server::start(spec).await?)])
        })
        .await?;
        self.attach(&servers);
        Ok(servers[0].clone())
    }

    /// Attaches the feature's shared primary and replicas, starting them
    /// when this is the first scenario of the feature to ask for them.
    pub async fn attach_shared_replica_set(&mut self, spec: ReplicaSetSpec) -> Result<()> {
        for name in spec.names() {
            self.ensure_new_name(&name)?;
        }
        if crate::external::active().is_some() {
            return Err(external_refusal("shared replicas"));
        }
        let spec = self.with_every_module(spec, ReplicaSetSpec::load)?;
        let key = format!("replica set {}", spec.names().join(","));
        let servers = shared::get_or_start(&self.feature_key(), &key, || async move {
            let set = ReplicaSet::start(spec).await?;
            Ok(set.servers().cloned().collect())
        })
        .await?;
        self.attach(&servers);
        Ok(())
    }

    fn attach(&mut self, servers: &[Arc<Server>]) {
        for server in servers {
            self.shared.insert(server.name().to_string());
            self.servers
                .insert(server.name().to_string(), server.clone());
        }
    }

    fn feature_key(&self) -> String {
        self.scenario.feature_path.as_ref().map_or_else(
            || self.scenario.feature.clone(),
            |p| p.display().to_string(),
        )
    }

    fn ensure_new_name(&self, name: &str) -> Result<()> {
        if self.servers.contains_key(name) {
            return Err(Error::Config {
                what: format!("this scenario already has a server called \"{name}\""),
                hint: "give the second server another name: Given a server \"other\"".into(),
            });
        }
        Ok(())
    }

    /// The server called `name`, or the default server for `None`.
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// let cache = w.server(Some("cache"))?.clone();
    /// let reply = cache.command("DBSIZE").await?; // a connection of the harness's, no last reply
    /// # Ok(()) }
    /// ```
    pub fn server(&self, name: Option<&str>) -> Result<&Arc<Server>> {
        let name = name.unwrap_or(DEFAULT_SERVER);
        self.servers.get(name).ok_or_else(|| {
            let known: Vec<String> = self.servers.keys().map(|k| format!("\"{k}\"")).collect();
            Error::Unknown {
                what: if name == DEFAULT_SERVER {
                    "this scenario has no default server".to_string()
                } else {
                    format!("this scenario has no server called \"{name}\"")
                },
                hint: if known.is_empty() {
                    "start one first: Given a server".into()
                } else {
                    format!(
                        "its servers are {}; a sentence without a name means the server started by `Given a server`",
                        known.join(", ")
                    )
                },
            }
        })
    }

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
    pub async fn resolve(&self, r: &crate::steps::ServerRef) -> Result<Arc<Server>> {
        use crate::steps::ServerRef;
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
    pub async fn resolve_name(&self, r: &crate::steps::ServerRef) -> Result<String> {
        Ok(self.resolve(r).await?.name().to_string())
    }

    /// The scenario's cluster.
    pub fn cluster(&self) -> Result<&Arc<Cluster>> {
        self.cluster.as_ref().ok_or_else(|| Error::Unknown {
            what: "this scenario has no cluster".into(),
            hint: "form one first: Given a cluster of 3 shards".into(),
        })
    }

    fn shard(&self, n: usize) -> Result<crate::cluster::Shard> {
        self.cluster()?.shard(n)
    }

    /// Forms a cluster in the scenario's directory; its nodes join the
    /// scenario's servers as `node 1`, `node 2`, ...
    pub async fn start_cluster(&mut self, spec: ClusterSpec) -> Result<()> {
        if self.cluster.is_some() {
            return Err(Error::Config {
                what: "this scenario already has a cluster".into(),
                hint: "one cluster per scenario".into(),
            });
        }
        for name in spec.names() {
            self.ensure_new_name(&name)?;
        }
        let spec = self.with_every_module(spec, ClusterSpec::load)?;
        let cluster = match crate::external::active() {
            Some(external)
                if external.endpoint.cluster && Cluster::fits_external(&spec, &external) =>
            {
                external.make_empty("the scenario starts").await?;
                Cluster::external(spec, &external, &self.dir()?)
            }
            Some(_) => return Err(external_refusal("a cluster of this shape")),
            None if self.reuse
                && !self.scenario.network
                && spec.is_default()
                && self.keep != KeepPolicy::Always
                && crate::reuse::enabled() =>
            {
                let (shards, replicas) = spec.shape();
                let taken = match crate::reuse::binary_of_run() {
                    Some(b) => crate::reuse::cluster::take(&b, shards, replicas).await,
                    None => None,
                };
                let (cluster, baseline) = match taken {
                    Some(taken) => taken,
                    None => {
                        // Its nodes' directories are their own: the
                        // scenario's goes with the scenario.
                        let cluster = Cluster::start(spec).await?;
                        let baseline = crate::reuse::cluster::ClusterBaseline::of(&cluster).await?;
                        (cluster, baseline)
                    }
                };
                self.reusable_cluster = Some(baseline);
                cluster
            }
            None => {
                let network = self.network_namespace().await?;
                Cluster::start(spec.in_dir(self.dir()?).in_network(network)).await?
            }
        };
        for node in &cluster.nodes() {
            self.servers.insert(node.name().to_string(), node.clone());
        }
        self.cluster = Some(Arc::new(cluster));
        Ok(())
    }

    /// Adds an empty primary to the scenario's cluster; it joins the
    /// scenario's servers as the next `node <n>`.
    pub async fn add_empty_shard(&mut self) -> Result<()> {
        let cluster = self.cluster()?.clone();
        let node = cluster.add_empty_shard().await?;
        self.servers.insert(node.name().to_string(), node);
        Ok(())
    }

    /// The one server called `replica <n>`, for sentences saying "the replica".
    fn only_replica(&self) -> Result<&Arc<Server>> {
        let replicas: Vec<&String> = self
            .servers
            .keys()
            .filter(|k| {
                k.strip_prefix("replica ")
                    .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .collect();
        match replicas.as_slice() {
            [one] => Ok(&self.servers[*one]),
            [] => Err(Error::Unknown {
                what: "this scenario has no replica".into(),
                hint: "start one first: Given a primary with 1 replica".into(),
            }),
            many => Err(Error::Unknown {
                what: format!(
                    "\"the replica\" is ambiguous: this scenario has {} replicas",
                    many.len()
                ),
                hint: "name it: replica 1, replica 2, ...".into(),
            }),
        }
    }

    /// Whether the server called `name` belongs to the feature (shared by
    /// its scenarios) rather than to this scenario.
    pub fn is_shared(&self, name: &str) -> bool {
        self.shared.contains(name)
    }

    /// Every server of the scenario, by name.
    pub fn servers(&self) -> impl Iterator<Item = (&str, &Arc<Server>)> {
        self.servers.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Stops, kills or restarts a server. Its default client reconnects on
    /// the next command; named clients stay disconnected, as real ones would.
    pub async fn stop_server(&mut self, name: Option<&str>, mode: StopMode) -> Result<()> {
        let server = self.server(name)?.clone();
        self.default_clients.remove(&server.name());
        server.stop_with(mode).await
    }

    /// Restarts a server on the same port and directory.
    pub async fn restart_server(&mut self, name: Option<&str>, mode: StopMode) -> Result<()> {
        let server = self.server(name)?.clone();
        self.default_clients.remove(&server.name());
        server.restart(mode).await
    }

    /// Starts a stopped or killed server again on its port and directory.
    pub async fn start_again(&mut self, name: Option<&str>) -> Result<()> {
        let server = self.server(name)?.clone();
        self.default_clients.remove(&server.name());
        server.start_again().await
    }

    /// Records that the scenario expects this server to die, so that its
    /// death does not fail the scenario at teardown.
    pub fn expect_death(&mut self, name: Option<&str>) -> Result<()> {
        let server = self.server(name)?.name().to_string();
        self.expected_deaths.insert(server);
        Ok(())
    }

    // --- commands --------------------------------------------------------

    /// Runs a command on a server through its default client.
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// w.run(None, r#"SET "my key" "a b""#).await?;       // the default server
    /// let reply = w.run(Some("primary"), "GET k").await?; // a named one
    /// assert!(reply.error().is_none());
    /// # Ok(()) }
    /// ```
    pub async fn run(&mut self, server: Option<&str>, line: &str) -> Result<&Reply> {
        let expanded = self.expand(line).await?;
        let line = expanded.as_str();
        if server.is_none() && !self.servers.contains_key(DEFAULT_SERVER) && self.cluster.is_some()
        {
            return self.cluster_run(line).await;
        }
        let server = self.server(server)?.clone();
        let name = server.name().to_string();
        if !self.default_clients.contains_key(&name) {
            let client = server.client().await?;
            self.default_clients.insert(name.clone(), client);
        }
        let client = self.default_clients.get_mut(&name).expect("inserted above");
        let result = client.run(line).await;
        self.record(line, format!("server \"{name}\""), &server, result)
            .await
    }

    /// Runs a command through the cluster-aware client.
    async fn cluster_run(&mut self, line: &str) -> Result<&Reply> {
        if self.cluster_client.is_none() {
            self.cluster_client = Some(self.cluster()?.client().await?);
        }
        let client = self.cluster_client.as_mut().expect("connected above");
        let reply = client.run(line).await?;
        self.last = Some(LastReply {
            command: line.to_string(),
            by: "the cluster".into(),
            reply,
        });
        Ok(&self.last.as_ref().expect("just set").reply)
    }

    async fn record(
        &mut self,
        line: &str,
        by: String,
        server: &Server,
        result: Result<Reply>,
    ) -> Result<&Reply> {
        match result {
            Ok(reply) => {
                self.last = Some(LastReply {
                    command: line.to_string(),
                    by,
                    reply,
                });
                Ok(&self.last.as_ref().expect("just set").reply)
            }
            Err(e) => {
                self.last = None;
                Err(server.explain(e, &format!("{by} ran `{line}`")).await)
            }
        }
    }

    /// The last command's reply, and what it was.
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// use valkey_bdd::Reply;
    /// w.run(None, "INCR hits").await?;
    /// let last = w.last()?;
    /// assert_eq!(last.reply, Reply::Integer(1), "{} ran `{}`", last.by, last.command);
    /// # Ok(()) }
    /// ```
    pub fn last(&self) -> Result<&LastReply> {
        self.last.as_ref().ok_or_else(|| Error::Unknown {
            what: "no command has been run yet in this scenario".into(),
            hint: "run one first: When I run `PING`".into(),
        })
    }

    // --- teardown --------------------------------------------------------

    /// Stops everything the scenario started and decides about its
    /// directory. Returns what the user must see: the log tails of a failed
    /// scenario, the kept directory, and any server that died unexpectedly
    /// (which fails the scenario, when nothing else did).
    pub async fn teardown(&mut self, failed: bool) -> Teardown {
        let mut out = Teardown::default();
        self.end_faults(failed, &mut out.report).await;
        self.default_clients.clear();
        self.clients.clear();
        self.subscribers.clear();
        for (name, mut p) in std::mem::take(&mut self.processes) {
            if failed {
                out.report.push(format!(
                    "── process \"{name}\": last 30 lines of output ──\n{}",
                    p.output_tail(30)
                ));
            }
            let _ = p.kill().await;
        }
        self.cluster_client = None;
        let cluster = self.cluster.take();
        let reusable_cluster = self.reusable_cluster.take();
        let servers = std::mem::take(&mut self.servers);
        let reusable = std::mem::take(&mut self.reusable);
        // Servers that may go back to the pool are held running until the
        // scenario's verdict is known.
        let mut held: HashSet<String> = HashSet::new();
        if !failed {
            for (name, server) in &servers {
                if reusable.contains_key(name)
                    && !self.shared.contains(name)
                    && !server.is_frozen()
                    && matches!(server.status().await, crate::server::Status::Running { .. })
                {
                    held.insert(name.clone());
                }
            }
            if let (Some(cluster), Some(_)) = (&cluster, &reusable_cluster) {
                let nodes = cluster.nodes();
                let mut running = true;
                for node in &nodes {
                    running &= !node.is_frozen()
                        && matches!(node.status().await, crate::server::Status::Running { .. });
                }
                if running {
                    held.extend(nodes.iter().map(|n| n.name()));
                }
            }
        }
        let owned: Vec<&Arc<Server>> = servers
            .iter()
            .filter(|(name, s)| !self.shared.contains(*name) && !s.is_external())
            .map(|(_, s)| s)
            .collect();
        let stopping: Vec<&Arc<Server>> = owned
            .iter()
            .filter(|s| !held.contains(&s.name()))
            .copied()
            .collect();
        let stops = futures::future::join_all(stopping.iter().map(|s| s.stop())).await;
        for (server, result) in stopping.iter().zip(stops) {
            if let Err(e) = result
                && !matches!(e, Error::Died { .. })
            {
                out.report
                    .push(format!("stopping {} failed: {e}", server.describe()));
            }
        }
        // After the stop, so that a crash during shutdown counts too.
        for (name, server) in &servers {
            if let Some(report) = server.checker_report() {
                out.deaths.push(report);
            }
            if self.expected_deaths.contains(name) {
                continue;
            }
            if let Err(e @ Error::Died { .. }) = server.check_running("the scenario ended").await {
                out.deaths.push(e.to_string());
            }
        }
        let failed = failed || !out.deaths.is_empty();
        if failed && !held.is_empty() {
            // Another server died: nothing goes back to the pool.
            for server in owned.iter().filter(|s| held.contains(&s.name())) {
                let _ = server.stop().await;
            }
            held.clear();
        }
        if failed {
            for server in servers.values().filter(|s| !s.is_external()) {
                out.report.push(format!(
                    "── {} — {} — last {} log lines ──\n{}",
                    server.describe(),
                    server.log_path().display(),
                    crate::server::LOG_TAIL_LINES,
                    server.log_tail(crate::server::LOG_TAIL_LINES)
                ));
            }
        }
        if failed {
            shared::mark_failed(&self.feature_key());
        }
        let keep = self.keep.keeps(failed);
        if keep && owned.iter().any(|s| reusable.contains_key(&s.name())) {
            // A reused server's directory is its own: a copy goes where a
            // fresh one's would have been, in the scenario's directory.
            let _ = self.dir();
        }
        let scenario_dir = self.dir.as_ref().map(|d| d.path().to_path_buf());
        if keep {
            // Servers whose directory is not under the scenario's (nodes
            // taken from the pool) are kept one by one.
            for server in &owned {
                if scenario_dir
                    .as_ref()
                    .is_none_or(|d| !server.dir().starts_with(d))
                {
                    match &scenario_dir {
                        Some(d) if reusable.contains_key(&server.name()) => {
                            let to = d.join(crate::server::sanitize(&server.name()));
                            if let Err(e) = copy_dir(server.dir(), &to) {
                                out.report.push(format!(
                                    "copying the directory of {} to {} failed: {e}",
                                    server.describe(),
                                    to.display()
                                ));
                                out.kept.push(server.keep_dir());
                            }
                        }
                        _ => out.kept.push(server.keep_dir()),
                    }
                }
            }
        }
        drop(owned);
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
        if let Some(dir) = self.dir.take() {
            if keep {
                out.kept.insert(0, crate::leftovers::keep(dir));
            } else if let Err(e) = dir.close() {
                out.report
                    .push(format!("removing the scenario directory failed: {e}"));
            }
        }
        out
    }
}

/// Copies a directory (a server's: files and folders, no special files)
/// with its modes.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    std::fs::set_permissions(to, std::fs::metadata(from)?.permissions())?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// What a step that needs a server of the harness's own says under
/// `VALKEY_BDD_EXTERNAL` (the selection gate skips such scenarios; this is
/// the net for steps it does not know, such as a downstream crate's).
fn external_refusal(what: &str) -> Error {
    Error::Config {
        what: format!(
            "this scenario asks for {what}, which needs a server process of the harness's own, and VALKEY_BDD_EXTERNAL runs against a server the harness did not start"
        ),
        hint: "tag the scenario @external:skip, or run it without VALKEY_BDD_EXTERNAL".into(),
    }
}

impl Default for ValkeyWorld {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`ValkeyWorld::teardown`] has to tell.
#[derive(Debug, Default)]
pub struct Teardown {
    /// Death reports of servers that died when nobody expected it.
    pub deaths: Vec<String>,
    /// Log tails and teardown problems, for a failed scenario.
    pub report: Vec<String>,
    /// The directories kept: the scenario's, and those of its servers that
    /// live elsewhere (nodes from the pool).
    pub kept: Vec<PathBuf>,
}
