//! What a node says about the cluster: `CLUSTER INFO`, `CLUSTER NODES`,
//! `CLUSTER SHARDS`.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::info::Info;
use crate::reply::Reply;
use crate::server::Server;

/// `CLUSTER INFO` as fields.
pub async fn cluster_info(server: &Server) -> Result<Info> {
    match server.command("CLUSTER INFO").await? {
        r @ (Reply::Bulk(_) | Reply::Verbatim(_)) => Ok(Info::parse(&r.text().unwrap_or_default())),
        other => Err(Error::Expectation(format!(
            "CLUSTER INFO on {} answered {other}",
            server.describe()
        ))),
    }
}

/// The roles of the nodes of each shard `server` knows (`CLUSTER SHARDS`),
/// or `None` when it cannot tell (an older server without the command).
pub(super) async fn shard_roles(server: &Server) -> Option<Vec<Vec<String>>> {
    fn field<'a>(pairs: &'a Reply, key: &str) -> Option<&'a Reply> {
        match pairs {
            Reply::Array(items) => items
                .chunks(2)
                .find(|kv| kv[0].text().as_deref() == Some(key))
                .map(|kv| &kv[1]),
            Reply::Map(kvs) => kvs
                .iter()
                .find(|(k, _)| k.text().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    let Ok(Reply::Array(shards)) = server.command("CLUSTER SHARDS").await else {
        return None;
    };
    Some(
        shards
            .iter()
            .map(|shard| match field(shard, "nodes") {
                Some(Reply::Array(nodes)) => nodes
                    .iter()
                    .filter_map(|node| field(node, "role").and_then(|r| r.text()))
                    .collect(),
                _ => Vec::new(),
            })
            .collect(),
    )
}

/// One node's view of the cluster (`CLUSTER NODES`), without what changes
/// from node to node (`myself`, ping times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodesView {
    /// Every known node, by id.
    pub nodes: Vec<NodeLine>,
    /// Whether a handshake is still under way.
    pub handshaking: bool,
}

/// One line of `CLUSTER NODES`, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeLine {
    /// The node id.
    pub id: String,
    /// Its client port.
    pub port: u16,
    /// The id of its primary, when it is a replica.
    pub primary: Option<String>,
    /// The slot ranges it serves.
    pub slots: Vec<(u16, u16)>,
    /// Whether it is flagged failing (`fail` or `fail?`).
    pub failing: bool,
    /// Its config epoch.
    pub epoch: u64,
    /// The shard id it advertises (Valkey 8 and later).
    pub shard_id: Option<String>,
}

impl NodesView {
    /// Who serves what, at which epoch: the view without the flags that
    /// differ from node to node, for comparing views.
    pub fn map(&self) -> Vec<NodeLine> {
        self.nodes
            .iter()
            .map(|l| NodeLine {
                failing: false,
                ..l.clone()
            })
            .collect()
    }

    /// Reads `CLUSTER NODES` of `server`.
    pub async fn of(server: &Server) -> Result<NodesView> {
        let text = match server.command("CLUSTER NODES").await? {
            r @ (Reply::Bulk(_) | Reply::Verbatim(_)) => r.text().unwrap_or_default(),
            other => {
                return Err(Error::Expectation(format!(
                    "CLUSTER NODES on {} answered {other}",
                    server.describe()
                )));
            }
        };
        Ok(NodesView::parse(&text))
    }

    /// Parses the text of `CLUSTER NODES`.
    pub fn parse(text: &str) -> NodesView {
        let mut handshaking = false;
        let mut nodes: BTreeMap<String, NodeLine> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                continue;
            }
            let flags = f[2];
            if flags.contains("handshake") || flags.contains("noaddr") {
                handshaking = true;
                continue;
            }
            let port = f[1]
                .split('@')
                .next()
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let slots = f[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|x| (x, x)),
                })
                .collect();
            nodes.insert(
                f[0].to_string(),
                NodeLine {
                    id: f[0].to_string(),
                    port,
                    primary: (f[3] != "-").then(|| f[3].to_string()),
                    slots,
                    failing: flags.split(',').any(|x| x == "fail" || x == "fail?"),
                    epoch: f[6].parse().unwrap_or(0),
                    shard_id: f[1]
                        .split(',')
                        .find_map(|aux| aux.strip_prefix("shard-id="))
                        .map(str::to_string),
                },
            );
        }
        NodesView {
            nodes: nodes.into_values().collect(),
            handshaking,
        }
    }
}
