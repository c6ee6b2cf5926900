//! Named clients as actors: background commands, checkpoints on what the
//! server says about a client, pub/sub subscribers.
//!
//! A checkpoint waits (up to `VALKEY_BDD_WAIT_TIMEOUT`) for an observable
//! state, never for a fixed time, so that "alice blocks, then bob writes,
//! then alice wakes" happens in exactly that order.

use cucumber::{given, then, when};

use super::{CommandLine, ServerRef};
use crate::actors::Flag;
use crate::error::{Error, Result};
use crate::world::{DEFAULT_SERVER, ValkeyWorld};

/// Sends a command through a named client without waiting for its reply
/// (`BLPOP`, `XREADGROUP ... BLOCK`, `WAIT`, a busy script), and returns at
/// once: a client not connected yet connects in the background too. The
/// client runs nothing else until `client "…" gets its reply`.
#[given(expr = "client {string} runs {command} in the background")]
#[when(expr = "client {string} runs {command} in the background")]
async fn runs_in_background(
    w: &mut ValkeyWorld,
    client: String,
    command: CommandLine,
) -> Result<()> {
    w.client_start(&client, command.line()).await
}

/// Checkpoint: waits until `CLIENT LIST` shows the client blocked (flag `b`:
/// a blocking command, `WAIT`, a paused write).
#[given(expr = "client {string} is blocked")]
#[when(expr = "client {string} is blocked")]
#[then(expr = "client {string} is blocked")]
async fn is_blocked(w: &mut ValkeyWorld, client: String) -> Result<()> {
    w.client_wait_for(&client, Flag::Blocked).await
}

/// Checkpoint: waits until `CLIENT LIST` shows the client inside `MULTI`
/// (flag `x`).
#[given(expr = "client {string} is inside a transaction")]
#[when(expr = "client {string} is inside a transaction")]
#[then(expr = "client {string} is inside a transaction")]
async fn in_transaction(w: &mut ValkeyWorld, client: String) -> Result<()> {
    w.client_wait_for(&client, Flag::InTransaction).await
}

/// Waits for the reply of the client's background command; the reply
/// sentences then check it.
#[when(expr = "client {string} gets its reply")]
async fn gets_its_reply(w: &mut ValkeyWorld, client: String) -> Result<()> {
    w.client_finish(&client).await.map(drop)
}

/// Checks that the client's background command has not answered yet (a
/// client still connecting for it has not).
#[then(expr = "client {string} is still waiting for its reply")]
async fn still_waiting(w: &mut ValkeyWorld, client: String) -> Result<()> {
    let actor = w.actor(&client).await?;
    match actor.pending() {
        None => Err(Error::Expectation(format!(
            "client \"{client}\" runs nothing in the background"
        ))),
        Some(line) if actor.is_done() => Err(Error::Expectation(format!(
            "client \"{client}\" already has the reply of `{line}`"
        ))),
        Some(_) => Ok(()),
    }
}

/// Closes the client's connection, as a crashing program would; the server
/// drops what the client left half done (a `MULTI` without `EXEC`).
#[when(expr = "client {string} disconnects")]
async fn disconnects(w: &mut ValkeyWorld, client: String) -> Result<()> {
    w.disconnect_client(&client)
}

/// Subscribes a named client to a channel of the default server on a
/// pub/sub connection of its own; returns once the server confirmed.
#[given(expr = "client {string} subscribes to {string}")]
#[when(expr = "client {string} subscribes to {string}")]
async fn subscribes(w: &mut ValkeyWorld, client: String, channel: String) -> Result<()> {
    w.subscribe(&client, DEFAULT_SERVER, &[channel]).await
}

/// Checkpoint: waits until the subscriber has received the message on the
/// channel.
#[then(expr = "client {string} receives {string} on {string}")]
async fn receives(
    w: &mut ValkeyWorld,
    client: String,
    payload: String,
    channel: String,
) -> Result<()> {
    let timeout = crate::settings::wait_timeout()?;
    w.subscriber(&client)?
        .wait_message(&channel, &payload, timeout)
        .await
}

/// Checkpoint: waits until the server stops answering — a `PING` of the
/// harness gets no reply within 100 ms, or a `BUSY` error — because a client
/// keeps it busy (`DEBUG SLEEP`, a long script).
#[when(expr = "{server} is busy")]
async fn server_busy(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    let timeout = crate::settings::wait_timeout()?;
    server
        .wait_busy(std::time::Duration::from_millis(100), timeout)
        .await
}
