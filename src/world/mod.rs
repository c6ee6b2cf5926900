//! The state of one scenario: its servers, clients, last reply and the
//! user's own state.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::actors::{Actor, Subscriber};
use crate::client::Client;
use crate::cluster::{Cluster, ClusterClient};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;
use crate::settings::KeepPolicy;

mod clients;
mod commands;
pub(crate) mod network;
mod observe;
pub mod remember;
mod replicates;
mod reused;
mod servers;
mod servos;
pub use servos::{ServoStep, Servos};
mod shared_servers;
mod teardown;

pub use observe::Subject;
pub use teardown::Teardown;
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
    /// Its tags with its rule's and its feature's, without the `@`.
    pub tags: Vec<String>,
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
    /// How many long values were written to the scenario's directory.
    values_kept: usize,
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
    /// servers ([`crate::runner::classify`]).
    reuse: bool,
    /// Whether, besides, its sentences allow it to take a reused cluster
    /// ([`crate::runner::classify::why_not_cluster`]).
    reuse_cluster: bool,
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
    /// The external server as the scenario found it, put back at its end
    /// ([`crate::external::state`]).
    external: Option<crate::external::Snapshot>,
    /// The scenario's roles and the servos it started ([`crate::servo`]).
    servos: Servos,
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
            values_kept: 0,
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
            reuse_cluster: true,
            reusable: HashMap::new(),
            reusable_cluster: None,
            network: None,
            delayed: Vec::new(),
            external: None,
            servos: Servos::default(),
        }
    }

    /// Lets the scenario take servers from the pool of reused ones and
    /// return them when it passes ([`crate::reuse`]); the runner allows it
    /// for scenarios whose sentences cannot leave lasting state behind.
    pub fn set_reuse(&mut self, allowed: bool) {
        self.reuse = allowed;
    }

    /// Keeps a scenario that may reuse servers from reusing a cluster when
    /// `allowed` is false: it reads what a cluster's reset cannot give back
    /// (its replication offsets and the statistics of its forming).
    pub fn set_cluster_reuse(&mut self, allowed: bool) {
        self.reuse_cluster = allowed;
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
}

impl ValkeyWorld {
    /// A value as a failure message shows it ([`crate::shown`]): whole when
    /// short; else head, size and tail, the whole written to a file in the
    /// scenario's directory (which a failed scenario keeps) and named.
    /// Memory stays bounded: the value is read as it is written, twice for
    /// a long one (once to find it long, once into its file).
    pub fn shown(&mut self, value: &dyn std::fmt::Display) -> String {
        use crate::shown::{Clip, Whole};
        use std::fmt::Write as _;
        let mut look = Clip::new();
        let _ = write!(look, "{value}");
        if !look.is_long() {
            return look.finish(&Whole::Nowhere);
        }
        if !self.keep.keeps(true) {
            return look.finish(&Whole::NotKept(
                "VALKEY_BDD_KEEP=never removes the scenario's directory".into(),
            ));
        }
        let dir = match self.dir() {
            Ok(dir) => dir,
            Err(e) => return look.finish(&Whole::NotKept(e.to_string())),
        };
        self.values_kept += 1;
        let path = dir.join(format!("value-{}.txt", self.values_kept));
        let sink = Clip::new().spill_to(move || Ok((std::fs::File::create(&path)?, path)));
        crate::shown::render(value, sink, &Whole::Nowhere)
    }
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
