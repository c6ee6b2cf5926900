//! A [`Cluster`] someone else runs ([`crate::external`]): its nodes named
//! as the harness names the nodes it forms — primaries by first slot as
//! `node 1` …, then the replicas, shard by shard.

use std::sync::{Arc, RwLock};

use super::{Cluster, ClusterSpec, Shard};
use crate::external::External;
use crate::server::Server;

impl Cluster {
    /// A handle on the external cluster, shaped as `spec` asks (the caller
    /// checked that the shapes agree); `dir` is the scenario's directory.
    pub fn external(spec: ClusterSpec, external: &External, dir: &std::path::Path) -> Cluster {
        let names = spec.names();
        let mut order: Vec<&crate::external::Node> =
            external.shards.iter().map(|s| &s[0]).collect();
        order.extend(external.shards.iter().flat_map(|s| s.iter().skip(1)));
        let nodes: Vec<Arc<Server>> = order
            .iter()
            .zip(&names)
            .map(|(node, name)| {
                Arc::new(Server::external(
                    name,
                    external,
                    node,
                    dir.join(crate::server::sanitize(name)),
                ))
            })
            .collect();
        let primaries = external.shards.len();
        let shards = (0..primaries)
            .map(|s| Shard {
                primary: nodes[s].clone(),
                replicas: (0..spec.replicas)
                    .map(|r| nodes[primaries + s * spec.replicas + r].clone())
                    .collect(),
            })
            .collect();
        Cluster {
            nodes: RwLock::new(nodes),
            shards: RwLock::new(shards),
            spec,
        }
    }

    /// Whether `spec` asks for the shape of the external cluster, with the
    /// harness's defaults.
    pub fn fits_external(spec: &ClusterSpec, external: &External) -> bool {
        spec.is_default()
            && spec.shards == external.shards.len()
            && Some(spec.replicas) == external.replicas_per_shard()
    }
}
