//! The scenario's servers: started for it (or taken from the pool of
//! reused ones), named, resolved from a step's reference, stopped and
//! restarted; its cluster and replica sets.

use super::{DEFAULT_SERVER, ValkeyWorld, external_refusal};
use crate::cluster::{Cluster, ClusterSpec};
use crate::error::{Error, Result};
use crate::replication::{ReplicaSet, ReplicaSetSpec};
use crate::server::{Server, ServerSpec, StopMode};
use std::sync::Arc;

impl ValkeyWorld {
    /// Starts a server for this scenario, in the scenario's directory.
    pub async fn start_server(&mut self, spec: ServerSpec) -> Result<Arc<Server>> {
        self.ensure_new_name(spec.name())?;
        if let Some(external) = crate::external::active() {
            return self.attach_external(spec, &external).await;
        }
        let spec = self.with_every_module(spec, ServerSpec::load)?;
        if let Some(server) = self.reused_server(&spec).await? {
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
    /// external one, emptied first (or checked empty) and read to be put
    /// back at the scenario's end; any other server would need a process of
    /// the harness's own.
    async fn attach_external(
        &mut self,
        spec: ServerSpec,
        external: &crate::external::External,
    ) -> Result<Arc<Server>> {
        if spec.name() != DEFAULT_SERVER || !spec.is_plain() || external.endpoint.cluster {
            return Err(external_refusal(&format!("server \"{}\"", spec.name())));
        }
        external.make_empty("the scenario starts").await?;
        self.external = Some(external.snapshot().await?);
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

    pub(super) fn ensure_new_name(&self, name: &str) -> Result<()> {
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

    /// The scenario's cluster.
    pub fn cluster(&self) -> Result<&Arc<Cluster>> {
        self.cluster.as_ref().ok_or_else(|| Error::Unknown {
            what: "this scenario has no cluster".into(),
            hint: "form one first: Given a cluster of 3 shards".into(),
        })
    }

    pub(crate) fn shard(&self, n: usize) -> Result<crate::cluster::Shard> {
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
                self.external = Some(external.snapshot().await?);
                Cluster::external(spec, &external, &self.dir()?)
            }
            Some(_) => return Err(external_refusal("a cluster of this shape")),
            None => match self.reused_cluster(&spec).await? {
                Some(cluster) => cluster,
                None => {
                    let network = self.network_namespace().await?;
                    Cluster::start(spec.in_dir(self.dir()?).in_network(network)).await?
                }
            },
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
    pub(crate) fn only_replica(&self) -> Result<&Arc<Server>> {
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
}
