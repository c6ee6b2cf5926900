//! Clients of the whole cluster: the cluster-aware client, and a
//! background writer for checking that no write is lost.

use std::sync::Arc;
use std::time::Duration;

use super::Cluster;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

/// A client of the whole cluster (the `redis` crate's async cluster client).
pub struct ClusterClient {
    conn: redis::cluster_async::ClusterConnection,
    timeout: Duration,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterClient")
    }
}

impl ClusterClient {
    pub(super) async fn connect(nodes: &[Arc<Server>]) -> Result<ClusterClient> {
        let timeout = crate::settings::command_timeout()?;
        let tls = nodes.first().is_some_and(|n| n.tls().is_some());
        let scheme = if tls { "rediss" } else { "redis" };
        let urls: Vec<String> = nodes
            .iter()
            .map(|n| format!("{scheme}://{}:{}", n.host(), n.port()))
            .collect();
        let fail = |e: redis::RedisError| Error::Connection {
            target: "the cluster".into(),
            action: "connecting".into(),
            detail: e.to_string(),
            hint: "is every node running? see their logs".into(),
        };
        let mut builder = redis::cluster::ClusterClient::builder(urls)
            .connection_timeout(Duration::from_secs(2))
            .response_timeout(timeout);
        if tls {
            let m = crate::tls::material()?;
            builder = builder.certs(m.certificates(&crate::tls::Identity::default())?);
        }
        // The harness's own client: it authenticates as the harness does
        // (the run's password, unless the scenario set its own).
        if let Some(c) = nodes.first().and_then(|n| n.admin_credentials()) {
            builder = builder.password(c.password);
            if let Some(u) = c.user {
                builder = builder.username(u);
            }
        }
        let client = builder.build().map_err(fail)?;
        let conn = client.get_async_connection().await.map_err(fail)?;
        Ok(ClusterClient { conn, timeout })
    }

    /// Runs one command line, routed by the cluster client.
    pub async fn run(&mut self, line: &str) -> Result<Reply> {
        use redis::aio::ConnectionLike as _;
        let args = crate::command::split(line)?;
        let mut cmd = redis::Cmd::new();
        for a in &args {
            cmd.arg(a.as_slice());
        }
        match tokio::time::timeout(self.timeout, self.conn.req_packed_command(&cmd)).await {
            Err(_) => Err(Error::CommandTimeout {
                target: "the cluster".into(),
                command: line.to_string(),
                timeout: self.timeout,
            }),
            Ok(Ok(v)) => Ok(Reply::from(v)),
            Ok(Err(e)) => match e.code() {
                Some(code) if !e.is_io_error() => Ok(Reply::Error(match e.detail() {
                    Some(d) => format!("{code} {d}"),
                    None => code.to_string(),
                })),
                _ => Err(Error::Connection {
                    target: "the cluster".into(),
                    action: format!("running `{line}`"),
                    detail: e.to_string(),
                    hint: "did a node stop or the cluster lose a slot's owner?".into(),
                }),
            },
        }
    }
}

/// A client writing keys to the cluster in the background, for checking
/// that no write is lost while the cluster changes under it.
pub struct BackgroundWriter {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<Vec<String>>>,
}

impl BackgroundWriter {
    /// Starts writing `SET bg:<n> <n>`, one write at a time, until stopped.
    /// Any write that fails stops the writer with that error.
    pub async fn start(cluster: &Cluster) -> Result<BackgroundWriter> {
        let mut client = cluster.client().await?;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut written = Vec::new();
            for n in 0u64.. {
                if *stopped.borrow_and_update() {
                    break;
                }
                let key = format!("bg:{n}");
                match client.run(&format!("SET {key} {n}")).await? {
                    Reply::Status(s) if s == "OK" => written.push(key),
                    other => {
                        return Err(Error::Expectation(format!(
                            "the background write `SET {key} {n}` answered {other}"
                        )));
                    }
                }
            }
            Ok(written)
        });
        Ok(BackgroundWriter { stop, task })
    }

    /// Stops writing; returns the keys written (`bg:<n>` holds `<n>`).
    pub async fn stop(self) -> Result<Vec<String>> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| Error::Expectation(format!("the background writer failed: {e}")))?
    }
}

/// Checks that every key a [`BackgroundWriter`] wrote reads back with its value.
pub async fn check_written(cluster: &Cluster, keys: &[String]) -> Result<()> {
    let mut client = cluster.client().await?;
    let mut lost = Vec::new();
    for key in keys {
        let want = key.trim_start_matches("bg:");
        match client.run(&format!("GET {key}")).await? {
            r if r.cell() == want => {}
            other => lost.push(format!("{key} = {other}")),
        }
    }
    if keys.is_empty() {
        return Err(Error::Expectation(
            "the background writer wrote nothing".into(),
        ));
    }
    if lost.is_empty() {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "{} of {} background writes were lost or changed, first ones:\n{}",
        lost.len(),
        keys.len(),
        crate::error::indent(&lost.iter().take(10).cloned().collect::<Vec<_>>().join("\n"))
    )))
}
