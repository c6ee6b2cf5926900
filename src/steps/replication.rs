//! Primaries and replicas: topologies, exact waits, failover, data checks.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::{CommandLine, ServerRef, config_table};
use crate::error::{Error, Result};
use crate::replication::{self, ReplicaSetSpec};
use crate::reply::Reply;
use crate::settings::wait_timeout;
use crate::world::ValkeyWorld;

/// Starts a primary (`the primary`) and replicas (`replica 1`, ...) at once,
/// and waits until every replica has synced.
#[given(expr = "a primary with {int} replica(s)")]
async fn primary_with_replicas(w: &mut ValkeyWorld, n: usize) -> Result<()> {
    w.start_replica_set(ReplicaSetSpec::new(n)).await
}

/// The same, with the table's directives on every node.
#[given(expr = "a primary with {int} replica(s) and the config:")]
async fn primary_with_replicas_config(
    w: &mut ValkeyWorld,
    n: usize,
    #[step] s: &Step,
) -> Result<()> {
    let mut spec = ReplicaSetSpec::new(n);
    for (k, v) in config_table(w, s).await? {
        spec = spec.config(k, v);
    }
    w.start_replica_set(spec).await
}

/// The same, with directives per node: `| node | directive | value |`, the
/// node being `primary`, `replica 1`, ... or `all`.
#[given(expr = "a primary with {int} replica(s) and the config per node:")]
async fn primary_with_replicas_node_config(
    w: &mut ValkeyWorld,
    n: usize,
    #[step] s: &Step,
) -> Result<()> {
    let mut spec = ReplicaSetSpec::new(n);
    for (node, k, v) in node_table(s)? {
        spec = spec.node_config(node, k, v);
    }
    w.start_replica_set(spec).await
}

/// A chain: replica 1 replicates the primary, replica 2 replicates
/// replica 1, and so on; synced before the next step.
#[given(expr = "a chain of a primary and {int} replica(s)")]
async fn chain(w: &mut ValkeyWorld, n: usize) -> Result<()> {
    w.start_replica_set(ReplicaSetSpec::new(n).chain()).await
}

/// A primary on the older of two server binaries and replicas on the newer
/// one (tag the scenario `@mixed-versions`: it is skipped, with the reason,
/// when there are not two binaries of different versions).
#[given(expr = "a primary on the older server binary with {int} replica(s) on the newer")]
async fn mixed_versions(w: &mut ValkeyWorld, n: usize) -> Result<()> {
    let (older, newer) = crate::binary::older_and_newer()
        .await
        .map_err(|why| Error::Config {
            what: format!("this scenario cannot run: {why}"),
            hint: "tag it @mixed-versions so that it is skipped instead".into(),
        })?;
    w.start_replica_set(
        ReplicaSetSpec::new(n).binaries(Some(older.path.clone()), Some(newer.path.clone())),
    )
    .await
}

/// Makes a server replicate another (`REPLICAOF`) and waits until it has
/// caught up.
#[given(expr = "{server} replicates {server}")]
#[when(expr = "{server} replicates {server}")]
async fn replicates(w: &mut ValkeyWorld, replica: ServerRef, primary: ServerRef) -> Result<()> {
    let replica = w.resolve(&replica).await?;
    let primary = w.resolve(&primary).await?;
    replication::replicate(&replica, &primary).await?;
    let timeout = wait_timeout()?;
    replication::wait_caught_up(&replica, &primary, timeout).await?;
    replication::ensure_streaming(&replica, &primary, timeout).await
}

/// Turns a replica into a primary (`REPLICAOF NO ONE`).
#[when(expr = "{server} is promoted to primary")]
async fn promoted(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    replication::promote(&server).await
}

/// Waits until every running replica of the scenario has processed
/// everything its primary had when the step began (link up, offset reached).
#[given(expr = "the replicas have caught up")]
#[when(expr = "the replicas have caught up")]
#[then(expr = "the replicas have caught up")]
async fn caught_up(w: &mut ValkeyWorld) -> Result<()> {
    let servers = w.running_servers().await;
    replication::wait_all_caught_up(&servers, wait_timeout()?).await
}

/// Runs a writing command on the primary (server "primary", else the
/// default server, else through the cluster), waits until every replica of
/// the primary that serves its keys has caught up, and checks that each
/// holds what the write wrote: every key the command touches (`COMMAND
/// GETKEYS`) has the same type, value and expiry time there. Fails with
/// each differing replica's last value, and when there is no replica.
#[given(expr = "{command} replicates")]
#[when(expr = "{command} replicates")]
#[then(expr = "{command} replicates")]
async fn write_replicates(w: &mut ValkeyWorld, command: CommandLine) -> Result<()> {
    w.write_replicates(command.line()).await
}

/// Waits until one server has processed everything another had when the
/// step began.
#[then(expr = "{server} has caught up with {server}")]
async fn has_caught_up(w: &mut ValkeyWorld, replica: ServerRef, primary: ServerRef) -> Result<()> {
    let replica = w.resolve(&replica).await?;
    let primary = w.resolve(&primary).await?;
    replication::wait_caught_up(&replica, &primary, wait_timeout()?).await
}

/// Runs the command on the server until it answers this text (a string, or
/// a number written as digits; nil is not the text "(nil)"), or fails with
/// the last answer when the wait times out.
#[then(expr = "{server} returns {string} for {command}")]
async fn returns(
    w: &mut ValkeyWorld,
    server: ServerRef,
    text: String,
    command: CommandLine,
) -> Result<()> {
    let server = w.resolve(&server).await?;
    let text = w.expand(&text).await?;
    let line = w.expand(command.line()).await?;
    let expected = format!("{text:?}");
    replication::eventually(
        &server,
        &line,
        &expected,
        // A string, a status or an integer: not nil read as "(nil)", nor an
        // error or a list read as valkey-cli prints it.
        |r| {
            matches!(
                r,
                Reply::Bulk(_) | Reply::Status(_) | Reply::Verbatim(_) | Reply::Integer(_)
            ) && r.cell() == text
        },
        None,
        wait_timeout()?,
    )
    .await
    .map(drop)
}

/// Runs the command on the server until it answers nil, or fails with the
/// last answer when the wait times out.
#[then(expr = "{server} returns nil for {command}")]
async fn returns_nil(w: &mut ValkeyWorld, server: ServerRef, command: CommandLine) -> Result<()> {
    let server = w.resolve(&server).await?;
    let line = w.expand(command.line()).await?;
    replication::eventually(
        &server,
        &line,
        "(nil)",
        |r| *r == Reply::Nil,
        None,
        wait_timeout()?,
    )
    .await
    .map(drop)
}

/// Waits for the replicas of `the primary` to catch up, then compares their
/// `DEBUG DIGEST` with the primary's. A primary without replicas fails.
#[then(expr = "all replicas hold the same data as the primary")]
async fn same_data(w: &mut ValkeyWorld) -> Result<()> {
    let primary = w.server(Some("primary"))?.clone();
    let replicas: Vec<_> = w
        .servers()
        .filter(|(name, _)| name.starts_with("replica "))
        .map(|(_, s)| s.clone())
        .collect();
    if replicas.is_empty() {
        return Err(Error::Expectation(format!(
            "{} has no replicas in this scenario: there is no data to compare",
            primary.describe()
        )));
    }
    replication::assert_same_data(&primary, &replicas, wait_timeout()?).await
}

/// Checks a server's role, waiting for it to settle: `a primary`, or
/// `a replica of` another server of the scenario.
#[then(expr = "{server} is a primary")]
async fn is_primary(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    replication::eventually(&server, "ROLE", "the role master", |r| {
        matches!(r, Reply::Array(items) if items.first().and_then(Reply::text).as_deref() == Some("master"))
    }, Some("a replica becomes a primary by `REPLICAOF NO ONE` or a failover: did one happen?"), wait_timeout()?)
    .await
    .map(drop)
}

/// Checks that a server is a replica of another, with its link up.
#[then(expr = "{server} is a replica of {server}")]
async fn is_replica_of(w: &mut ValkeyWorld, replica: ServerRef, primary: ServerRef) -> Result<()> {
    let replica = w.resolve(&replica).await?;
    let primary = w.resolve(&primary).await?;
    let port = primary.port().to_string();
    replication::eventually(
        &replica,
        "ROLE",
        &format!("a replica of port {port}, connected"),
        |r| match r {
            Reply::Array(items) => {
                items.first().and_then(Reply::text).as_deref() == Some("slave")
                    && items.get(2).map(Reply::cell).as_deref() == Some(port.as_str())
                    && items.get(3).and_then(Reply::text).as_deref() == Some("connected")
            }
            _ => false,
        },
        Some("is the link up? the replica's log says why a sync did not start or failed"),
        wait_timeout()?,
    )
    .await
    .map(drop)
}

/// Freezes a server with SIGSTOP: it answers nothing and acknowledges no
/// replication until thawed.
#[when(expr = "I freeze {server}")]
async fn freeze(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    server.signal(nix::sys::signal::Signal::SIGSTOP).await
}

/// Thaws a frozen server with SIGCONT.
#[when(expr = "I thaw {server}")]
async fn thaw(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    server.signal(nix::sys::signal::Signal::SIGCONT).await
}

/// Reads a `| node | directive | value |` table.
fn node_table(step: &Step) -> Result<Vec<(String, String, String)>> {
    let table = step.table.as_ref().ok_or_else(|| Error::Config {
        what: format!(
            "the step `{}` needs a table of | node | directive | value | rows",
            step.value
        ),
        hint: "for example: | replica 1 | replica-read-only | no |".into(),
    })?;
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        if i == 0 && row.first().map(String::as_str) == Some("node") {
            continue;
        }
        match row.as_slice() {
            [node, k, v] => out.push((
                node.trim().to_string(),
                k.trim().to_string(),
                v.trim().to_string(),
            )),
            _ => {
                return Err(Error::Config {
                    what: format!("row {} of the per-node config table has {} cell(s), not 3", i + 1, row.len()),
                    hint: "each row is | node | directive | value |, the node being primary, replica 1, ... or all".into(),
                });
            }
        }
    }
    Ok(out)
}

/// Attaches a primary with replicas shared by every scenario of the feature;
/// the first scenario to ask starts them. Tag the feature `@serial` to run
/// its scenarios in order.
#[given(expr = "a primary with {int} replica(s) shared by the scenarios of this feature")]
async fn shared_replica_set(w: &mut ValkeyWorld, n: usize) -> Result<()> {
    w.attach_shared_replica_set(ReplicaSetSpec::new(n)).await
}
