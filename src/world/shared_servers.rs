//! Servers shared by the scenarios of a feature ([`crate::shared`]):
//! started by the first scenario that asks, attached by the others.

use super::{ValkeyWorld, external_refusal};
use crate::error::Result;
use crate::replication::{ReplicaSet, ReplicaSetSpec};
use crate::server::{Server, ServerSpec};
use crate::shared;
use std::sync::Arc;

impl ValkeyWorld {
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

    pub(super) fn feature_key(&self) -> String {
        self.scenario.feature_path.as_ref().map_or_else(
            || self.scenario.feature.clone(),
            |p| p.display().to_string(),
        )
    }
}
