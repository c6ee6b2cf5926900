//! Network faults between named servers: partitions, dropped links,
//! latency, healing. A scenario with any of these sentences runs its servers
//! inside the run's private network namespace, each on its own loopback
//! address, and is skipped with the reason where that cannot be made
//! (`@requires:network-faults`). The processes keep running; the harness's
//! own connections are never subject to the faults.

use cucumber::{given, then, when};

use super::{CompareTo, ServerRef};
use crate::error::{Error, Result};
use crate::world::ValkeyWorld;

/// Cuts a server off from every other server of the scenario: no packet
/// passes between them either way (replication links, cluster bus, their
/// connections to each other), while each keeps serving whoever still
/// reaches it.
#[given(expr = "{server} is cut off from the other nodes")]
#[when(expr = "{server} is cut off from the other nodes")]
async fn cut_off_from_all(w: &mut ValkeyWorld, node: ServerRef) -> Result<()> {
    let node = w.resolve_name(&node).await?;
    w.cut_off(&node, &[]).await
}

/// Cuts two servers off from each other, both ways: `the primary is cut off
/// from replica 1`.
#[given(expr = "{server} is cut off from {server}")]
#[when(expr = "{server} is cut off from {server}")]
async fn cut_off_from(w: &mut ValkeyWorld, node: ServerRef, other: ServerRef) -> Result<()> {
    let node = w.resolve_name(&node).await?;
    let other = w.resolve_name(&other).await?;
    w.cut_off(&node, &[other]).await
}

/// Drops what one server sends to another, one direction only: `the link
/// from replica 2 to the primary drops` loses replica 2's packets to the
/// primary (its acknowledgements, its requests) while the primary's still
/// arrive.
#[given(expr = "the link from {server} to {server} drops")]
#[when(expr = "the link from {server} to {server} drops")]
async fn link_drops(w: &mut ValkeyWorld, from: ServerRef, to: ServerRef) -> Result<()> {
    let from = w.resolve_name(&from).await?;
    let to = w.resolve_name(&to).await?;
    w.drop_link(&from, &to).await
}

/// Delays everything a named client sends and everything it receives by
/// that many milliseconds, each way (a round trip takes twice that), from
/// now on.
#[given(expr = "the link of client {string} has {int} ms of latency")]
#[when(expr = "the link of client {string} has {int} ms of latency")]
async fn client_latency(w: &mut ValkeyWorld, client: String, ms: u64) -> Result<()> {
    w.delay_client(&client, std::time::Duration::from_millis(ms))
        .await
}

/// Delays every link of a server to the scenario's other servers (its
/// replication links, the cluster bus) by that many milliseconds, each way,
/// from now on: the links open now are broken, and the servers make them
/// anew through a relay of the harness that holds what they carry. The
/// harness's own connections to the server are not delayed.
#[given(expr = "the links of {server} have {int} ms of latency")]
#[when(expr = "the links of {server} have {int} ms of latency")]
async fn server_latency(w: &mut ValkeyWorld, node: ServerRef, ms: u64) -> Result<()> {
    let node = w.resolve_name(&node).await?;
    w.delay_server_links(&node, std::time::Duration::from_millis(ms))
        .await
}

/// Lifts every fault and latency of the scenario: packets pass again, and
/// the servers reconnect by themselves as after a real partition. The links
/// of servers that had latency are broken and made anew, directly (a
/// replica's `master_link_status` is `down` until it has reconnected).
#[given(expr = "the network heals")]
#[when(expr = "the network heals")]
async fn heals(w: &mut ValkeyWorld) -> Result<()> {
    w.heal_network().await
}

/// Runs a command as a named client and checks how long its reply took, in
/// milliseconds: ``Then `PING` by client "far" takes at least 400 ms``.
#[then(expr = "{command} by client {string} takes {comparison} ms")]
async fn command_takes(
    w: &mut ValkeyWorld,
    command: super::CommandLine,
    client: String,
    cmp: CompareTo,
) -> Result<()> {
    let expected = w.comparison(&cmp.0).await?;
    let took = w.time_client_command(&client, command.line()).await?;
    let ms = format!("{:.1}", took.as_secs_f64() * 1000.0);
    expected.check(Some(&ms)).map_err(|why| {
        Error::Expectation(format!(
            "`{}` by client \"{client}\" took {ms} ms, expected {expected}: it {why}",
            command.line()
        ))
    })
}

/// Runs a command as two named clients in turn, 3 times each, and checks how
/// much longer the first one's fastest reply took than the second one's, in
/// milliseconds: ``Then `PING` by client "far" takes at least 300 ms more
/// than by client "near"``. The second client is the baseline the scenario
/// measures itself: a claim that a link is slowed, or that it is not, holds
/// however busy the machine is, as no absolute time would. Load only adds
/// time to a try, and the fastest of several is what the link itself costs.
/// Run the command as each client once before if its first run differs (a
/// `WAIT` returns at once when nothing is left to acknowledge, so it is no
/// command to compare this way).
#[then(expr = "{command} by client {string} takes {comparison} ms more than by client {string}")]
async fn command_takes_more_than(
    w: &mut ValkeyWorld,
    command: super::CommandLine,
    client: String,
    cmp: CompareTo,
    baseline: String,
) -> Result<()> {
    let expected = w.comparison(&cmp.0).await?;
    let (slow, fast) = w
        .fastest_of_two_clients(&client, &baseline, command.line())
        .await?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let more = format!("{:.1}", ms(slow) - ms(fast));
    expected.check(Some(&more)).map_err(|why| {
        Error::Expectation(format!(
            "`{}` took {:.1} ms by client \"{client}\" and {:.1} ms by client \"{baseline}\" (the fastest of {} tries each): {more} ms more, expected {expected}: it {why}",
            command.line(),
            ms(slow),
            ms(fast),
            crate::world::network::TRIES
        ))
    })
}
