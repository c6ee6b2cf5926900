//! Handles on the servers someone else runs ([`crate::external`]): a
//! [`Server`] per node, and a [`Cluster`] whose nodes are named as the
//! harness names the nodes it forms — primaries by first slot as `node 1`
//! …, then the replicas, shard by shard. Made here, above `server` and
//! `cluster`, which know nothing of `VALKEY_BDD_EXTERNAL`.

use std::path::PathBuf;
use std::sync::Arc;

use super::{External, Node};
use crate::cluster::{Cluster, ClusterSpec, Shard};
use crate::server::{Borrowed, Server};

impl Server {
    /// A handle on the external node `node`, called `name` in the scenario;
    /// `dir` is where its files would be (nothing is written there). The
    /// harness authenticates as the endpoint's URL says, and named clients
    /// too: the external server has no password of the run's.
    pub fn external(name: &str, external: &External, node: &Node, dir: PathBuf) -> Server {
        let place = Borrowed {
            host: node.host.clone(),
            port: node.port,
            address: external.endpoint.address_of(&node.host, node.port),
            credentials: external.endpoint.credentials.clone(),
            binary: external.binary.clone(),
            db: external.database,
        };
        Server::borrowed(name, place, dir)
    }
}

impl Cluster {
    /// A handle on the external cluster, shaped as `spec` asks (the caller
    /// checked that the shapes agree); `dir` is the scenario's directory.
    pub fn external(spec: ClusterSpec, external: &External, dir: &std::path::Path) -> Cluster {
        let names = spec.names();
        let (_, replicas) = spec.shape();
        let mut order: Vec<&Node> = external.shards.iter().map(|s| &s[0]).collect();
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
                replicas: (0..replicas)
                    .map(|r| nodes[primaries + s * replicas + r].clone())
                    .collect(),
            })
            .collect();
        Cluster::assembled(spec, nodes, shards)
    }

    /// Whether `spec` asks for the shape of the external cluster, with the
    /// harness's defaults.
    pub fn fits_external(spec: &ClusterSpec, external: &External) -> bool {
        let (shards, replicas) = spec.shape();
        spec.is_default()
            && shards == external.shards.len()
            && Some(replicas) == external.replicas_per_shard()
    }
}
