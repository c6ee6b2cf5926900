//! Clusters: formation, slots and keys, redirects.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::{ServerRef, config_table};
use crate::cluster::ClusterSpec;
use crate::error::{Error, Result};
use crate::world::ValkeyWorld;

/// Forms a cluster of primaries only (`node 1` …), slots split evenly;
/// ready when every node agrees. Sentences that name no server then go
/// through a cluster-aware client.
#[given(expr = "a cluster of {int} shard(s)")]
async fn cluster(w: &mut ValkeyWorld, shards: usize) -> Result<()> {
    w.start_cluster(ClusterSpec::new(shards, 0)).await
}

/// Forms a cluster whose shards have replicas: with 3 shards and 1 replica
/// each, `node 4` replicates `node 1` (also `the replica of shard 1`).
#[given(expr = "a cluster of {int} shard(s) with {int} replica(s) each")]
async fn cluster_with_replicas(w: &mut ValkeyWorld, shards: usize, replicas: usize) -> Result<()> {
    w.start_cluster(ClusterSpec::new(shards, replicas)).await
}

/// The same, with the table's directives on every node.
#[given(expr = "a cluster of {int} shard(s) with {int} replica(s) each and the config:")]
async fn cluster_with_config(
    w: &mut ValkeyWorld,
    shards: usize,
    replicas: usize,
    #[step] s: &Step,
) -> Result<()> {
    let mut spec = ClusterSpec::new(shards, replicas);
    for (k, v) in config_table(w, s).await? {
        spec = spec.config(k, v);
    }
    w.start_cluster(spec).await
}

/// Waits until the cluster is ready again: every node ok, known to all,
/// replicas synced, one slot map.
#[then(expr = "the cluster is ready")]
async fn ready(w: &mut ValkeyWorld) -> Result<()> {
    let cluster = w.cluster()?.clone();
    cluster.wait_ready(crate::settings::wait_timeout()?).await
}

/// The key hashes to this slot (`CLUSTER KEYSLOT`; `{tag}` hash tags count).
#[then(expr = "{string} hashes to slot {int}")]
async fn hashes_to(w: &mut ValkeyWorld, key: String, slot: u16) -> Result<()> {
    let key = w.expand(&key).await?;
    let actual = w.cluster()?.keyslot(&key).await?;
    if actual == slot {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "{key:?} hashes to slot {actual}, not {slot}"
    )))
}

/// Two keys hash to the same slot (for multi-key commands).
#[then(expr = "{string} and {string} hash to the same slot")]
async fn same_slot(w: &mut ValkeyWorld, a: String, b: String) -> Result<()> {
    let (a, b) = (w.expand(&a).await?, w.expand(&b).await?);
    let cluster = w.cluster()?;
    let (sa, sb) = (cluster.keyslot(&a).await?, cluster.keyslot(&b).await?);
    if sa == sb {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "{a:?} hashes to slot {sa}, {b:?} to slot {sb}"
    )))
}

/// The server (a node, `the primary of shard 2`, ...) serves this slot now.
#[then(expr = "{server} owns slot {int}")]
async fn owns(w: &mut ValkeyWorld, server: ServerRef, slot: u16) -> Result<()> {
    let server = w.resolve(&server).await?;
    let owner = w.cluster()?.owner_of_slot(slot).await?;
    if owner.port() == server.port() {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "slot {slot} is served by {}, not {}",
        owner.describe(),
        server.describe()
    )))
}

/// The last reply is a `MOVED` redirect naming this slot and the address of
/// the node that serves it.
#[then(expr = "the reply is a MOVED redirect to the owner of slot {int}")]
async fn moved(w: &mut ValkeyWorld, slot: u16) -> Result<()> {
    let owner = w.cluster()?.owner_of_slot(slot).await?;
    redirect(w, "MOVED", slot, &owner)
}

/// Marks a slot as migrating from one shard's primary to another's
/// (`CLUSTER SETSLOT … IMPORTING` / `MIGRATING`), as a resharding does.
#[when(expr = "slot {int} starts migrating from shard {int} to shard {int}")]
async fn migrating(w: &mut ValkeyWorld, slot: u16, from: usize, to: usize) -> Result<()> {
    let cluster = w.cluster()?.clone();
    cluster.start_migrating(slot, from, to).await
}

/// The last reply is an `ASK` redirect naming this slot and the primary of
/// the shard it is being migrated to.
#[then(expr = "the reply is an ASK redirect for slot {int} to shard {int}")]
async fn ask(w: &mut ValkeyWorld, slot: u16, shard: usize) -> Result<()> {
    let target = w.resolve(&ServerRef::ShardPrimary(shard)).await?;
    redirect(w, "ASK", slot, &target)
}

fn redirect(w: &ValkeyWorld, kind: &str, slot: u16, target: &crate::server::Server) -> Result<()> {
    let last = w.last()?;
    let expected = format!("{kind} {slot} {}:{}", target.host(), target.port());
    match last.reply.error() {
        Some(e) if e == expected => Ok(()),
        _ => Err(Error::Expectation(format!(
            "`{}` run by {} answered {}, expected the redirect {expected} (to {})",
            last.command,
            last.by,
            last.reply,
            target.describe()
        ))),
    }
}

/// Makes a replica take over its primary's slots with `CLUSTER FAILOVER`,
/// and waits until every node agrees.
#[when(expr = "I fail over to {server}")]
async fn failover(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    w.cluster()?.failover(&server, None).await
}

/// The same with `CLUSTER FAILOVER FORCE` (no handshake with the primary) or
/// `TAKEOVER` (no vote of the other primaries either).
#[when(expr = "I fail over to {server} with {word}")]
async fn failover_with(w: &mut ValkeyWorld, server: ServerRef, mode: String) -> Result<()> {
    if mode != "FORCE" && mode != "TAKEOVER" {
        return Err(Error::Config {
            what: format!("CLUSTER FAILOVER has no mode {mode:?}"),
            hint: "write FORCE or TAKEOVER".into(),
        });
    }
    let server = w.resolve(&server).await?;
    w.cluster()?.failover(&server, Some(&mode)).await
}

/// Waits until every running node sees the server as a primary serving
/// slots (after an automatic failover), and the cluster is ready.
#[then(expr = "{server} becomes a primary of the cluster")]
async fn becomes_primary(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    w.cluster()?
        .wait_primary(&server, crate::settings::wait_timeout()?)
        .await
}

/// Moves slots (with their keys) to a node, each from the node serving it,
/// as a resharding does, and waits until the cluster is ready.
#[when(expr = "slots {int} to {int} move to {server}")]
async fn move_slots(w: &mut ValkeyWorld, first: u16, last: u16, server: ServerRef) -> Result<()> {
    let target = w.resolve(&server).await?;
    w.cluster()?
        .move_slots(first, last, &target)
        .await
        .map(drop)
}

/// Keys written by a client while slots moved, for the check below.
#[derive(Default)]
struct WrittenDuringMove(Vec<String>);

/// Runs a change of the cluster while a background client writes, and keeps
/// the keys it wrote.
async fn while_writing<F, Fut>(w: &mut ValkeyWorld, change: F) -> Result<()>
where
    F: FnOnce(std::sync::Arc<crate::cluster::Cluster>) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let cluster = w.cluster()?.clone();
    let writer = crate::cluster::BackgroundWriter::start(&cluster).await?;
    let changed = change(cluster).await;
    let written = writer.stop().await?;
    changed?;
    w.state::<WrittenDuringMove>().0 = written;
    Ok(())
}

/// The same, while a client keeps writing keys through the cluster client;
/// the keys it wrote are kept for the check below.
#[when(expr = "slots {int} to {int} move to {server} while a client keeps writing")]
async fn move_slots_writing(
    w: &mut ValkeyWorld,
    first: u16,
    last: u16,
    server: ServerRef,
) -> Result<()> {
    let target = w.resolve(&server).await?;
    while_writing(w, |c| async move {
        c.move_slots(first, last, &target).await.map(drop)
    })
    .await
}

/// Every key the client wrote during the move reads back with its value.
#[then(expr = "every write made during the move reads back")]
async fn writes_read_back(w: &mut ValkeyWorld) -> Result<()> {
    let keys = std::mem::take(&mut w.state::<WrittenDuringMove>().0);
    crate::cluster::check_written(w.cluster()?, &keys).await
}

/// Starts a node configured like the others and makes it join as a primary
/// without slots (the next `node <n>`).
#[when(expr = "a new empty shard joins the cluster")]
async fn add_shard(w: &mut ValkeyWorld) -> Result<()> {
    w.add_empty_shard().await
}

/// Moves slots until every primary serves as many as the others; each
/// primary with too many gives its highest slots.
#[when(expr = "the slots are rebalanced")]
async fn rebalance(w: &mut ValkeyWorld) -> Result<()> {
    w.cluster()?.rebalance().await.map(drop)
}

/// Takes a node out: each of its slots goes to the primary serving the slot
/// just below it, the others forget it, and it stops.
#[when(expr = "{server} is removed from the cluster")]
async fn remove(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    w.cluster()?.remove_node(&server).await
}

/// Forms a cluster on the first known binary with atomic slot migration
/// (Valkey 9.0 or later). Tag the scenario `@atomic-slot-migration`: without
/// such a binary it is skipped, with the reason.
#[given(expr = "a cluster of {int} shard(s) on a server with atomic slot migration")]
async fn cluster_with_asm(w: &mut ValkeyWorld, shards: usize) -> Result<()> {
    let binary = crate::binary::with_atomic_slot_migration()
        .await
        .map_err(|why| Error::Config {
            what: format!("this scenario cannot run: {why}"),
            hint: "tag it @atomic-slot-migration so that it is skipped instead".into(),
        })?;
    w.start_cluster(ClusterSpec::new(shards, 0).binary(binary.path.clone()))
        .await
}

/// Moves slots to a node with atomic slot migration (`CLUSTER
/// MIGRATESLOTS`), while a client keeps writing; the keys it wrote are kept
/// for `every write made during the move reads back`.
#[when(expr = "slots {int} to {int} migrate atomically to {server} while a client keeps writing")]
async fn migrate_atomically(
    w: &mut ValkeyWorld,
    first: u16,
    last: u16,
    server: ServerRef,
) -> Result<()> {
    let target = w.resolve(&server).await?;
    while_writing(w, |c| async move {
        c.migrate_slots_atomically(first, last, &target).await
    })
    .await
}
