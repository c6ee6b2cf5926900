//! How to build a cluster: shape, configuration, binary, TLS, network.

use crate::error::{Error, Result};
use crate::server::ServerSpec;
use crate::tls::ServerTls;

use super::{NODE_TIMEOUT_MS, SLOTS};

/// How to build a cluster. A cluster with the default configuration takes
/// its nodes from the pool when the run keeps one ([`crate::pool`]).
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub(super) shards: usize,
    pub(super) replicas: usize,
    pub(super) config: Vec<(String, String)>,
    pub(super) parent_dir: Option<std::path::PathBuf>,
    pub(super) binary: Option<std::path::PathBuf>,
    pub(super) tls: Option<ServerTls>,
    /// The run's network namespace, when the nodes run inside it.
    pub(super) network: Option<std::sync::Arc<crate::network::Namespace>>,
}

impl ClusterSpec {
    /// `shards` primaries (`node 1` … `node <shards>`), each with `replicas`
    /// replicas (numbered after the primaries: with 3 shards and 1 replica
    /// each, `node 4` replicates `node 1`).
    pub fn new(shards: usize, replicas: usize) -> Self {
        ClusterSpec {
            shards,
            replicas,
            config: Vec::new(),
            parent_dir: None,
            binary: None,
            tls: None,
            network: None,
        }
    }

    /// Every node speaks TLS only; the cluster bus and replication too
    /// (`tls-cluster yes`, `tls-replication yes`: with the plaintext port
    /// off there is no other way). Such a cluster does not use pooled nodes.
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(ServerTls {
            replication: true,
            cluster: true,
            ..tls
        });
        self
    }

    /// Runs every node from this binary.
    pub fn binary(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// A directive for every node.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.push((key.into(), value.into()));
        self
    }

    /// Loads a module (see [`crate::modules::ModuleLoad`]), unless a
    /// `loadmodule` directive given already loads its library: a server
    /// cannot load one library twice.
    pub fn load(mut self, module: &crate::modules::ModuleLoad) -> Self {
        module.add_to(&mut self.config);
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

    /// The nodes' names, primaries first.
    pub fn names(&self) -> Vec<String> {
        (1..=self.shards * (1 + self.replicas))
            .map(|i| format!("node {i}"))
            .collect()
    }

    pub(super) fn spec_for(&self, name: &str) -> ServerSpec {
        let mut spec = ServerSpec::new(name)
            .config("cluster-enabled", "yes")
            .config("cluster-config-file", "nodes.conf");
        if !self.sets("cluster-node-timeout") {
            spec = spec.config("cluster-node-timeout", NODE_TIMEOUT_MS.to_string());
        }
        if let Some(dir) = &self.parent_dir {
            spec = spec.in_dir(dir);
        }
        if let Some(namespace) = &self.network {
            spec = spec.seat(namespace.seat());
        }
        if let Some(b) = &self.binary {
            spec = spec.binary(b);
        }
        if let Some(tls) = &self.tls {
            spec = spec.tls(tls.clone());
        }
        for (k, v) in &self.config {
            spec = spec.config(k, v);
        }
        spec
    }

    /// How a node of a cluster with the default configuration starts: what
    /// the node pool keeps ready.
    pub fn node_spec(name: &str) -> ServerSpec {
        ClusterSpec::new(0, 0).spec_for(name)
    }

    /// Its shape: shards, and replicas per shard.
    pub fn shape(&self) -> (usize, usize) {
        (self.shards, self.replicas)
    }

    /// Whether the configuration is the default (no directive, binary, TLS
    /// or network namespace of its own), so that pooled nodes and reused
    /// clusters fit.
    pub fn is_default(&self) -> bool {
        self.config.is_empty()
            && self.binary.is_none()
            && self.tls.is_none()
            && self.network.is_none()
    }

    /// The node timeout its nodes run with once formed: the config's, or
    /// the harness's.
    pub(super) fn node_timeout(&self) -> String {
        self.config
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("cluster-node-timeout"))
            .map_or_else(|| NODE_TIMEOUT_MS.to_string(), |(_, v)| v.clone())
    }

    /// Whether the harness may form it with a short node timeout, set with
    /// `CONFIG SET` and put back once ready: not when the config renames
    /// commands (`CONFIG` may be one of them).
    pub(super) fn forms_quickly(&self) -> bool {
        !self.sets("rename-command")
    }

    pub(super) fn sets(&self, key: &str) -> bool {
        self.config.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    pub(super) fn validate(&self) -> Result<()> {
        if self.shards == 0 || self.shards > usize::from(SLOTS) {
            return Err(Error::Config {
                what: format!("a cluster of {} shards", self.shards),
                hint: "a cluster has at least 1 shard".into(),
            });
        }
        if let Some((k, _)) = self
            .config
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("cluster-enabled"))
        {
            return Err(Error::Config {
                what: format!("the cluster's config sets {k:?}"),
                hint: "every node of a cluster has cluster mode on; leave it out".into(),
            });
        }
        Ok(())
    }
}
