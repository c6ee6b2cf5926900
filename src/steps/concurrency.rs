//! Named clients as actors: background commands, checkpoints on what the
//! server says about a client.
//!
//! A checkpoint waits (up to `VALKEY_BDD_WAIT_TIMEOUT`) for an observable
//! state, never for a fixed time, so that "alice blocks, then bob writes,
//! then alice wakes" happens in exactly that order.

use cucumber::{given, then, when};

use super::{CommandLine, ServerRef};
use crate::actors::Flag;
use crate::client_state::ClientState;
use crate::error::{Error, Result};
use crate::world::ValkeyWorld;

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

/// Checkpoint: waits until `CLIENT LIST` shows the client watching this many
/// keys (`watch=`, after `WATCH`; Valkey 8.0 and later show it — an older
/// server fails the step at once, saying so).
#[given(expr = "client {string} watches {int} key(s)")]
#[when(expr = "client {string} watches {int} key(s)")]
#[then(expr = "client {string} watches {int} key(s)")]
async fn watches(w: &mut ValkeyWorld, client: String, keys: u64) -> Result<()> {
    w.client_wait_state(&client, &ClientState::Watching(keys))
        .await
}

/// Checkpoint: waits until `CLIENT LIST` shows the client's transaction
/// doomed (flag `d`): a key it watches has changed, so its `EXEC` will
/// answer nil.
#[given(expr = "the transaction of client {string} is doomed")]
#[when(expr = "the transaction of client {string} is doomed")]
#[then(expr = "the transaction of client {string} is doomed")]
async fn doomed(w: &mut ValkeyWorld, client: String) -> Result<()> {
    w.client_wait_state(&client, &ClientState::flag('d')).await
}

/// Checkpoint: waits until `CLIENT LIST` shows the client with this flag,
/// one letter of its `flags=` field (`b` blocked, `x` in `MULTI`, `d`
/// doomed, `P` subscribed, `r` read-only in a cluster, `t` no-touch...).
#[given(expr = "client {string} has the flag {string}")]
#[when(expr = "client {string} has the flag {string}")]
#[then(expr = "client {string} has the flag {string}")]
async fn has_flag(w: &mut ValkeyWorld, client: String, flag: String) -> Result<()> {
    let mut letters = flag.chars();
    let (Some(letter), None) = (letters.next(), letters.next()) else {
        return Err(Error::Config {
            what: format!("{flag:?} is not one flag of CLIENT LIST"),
            hint: "a flag is one letter of the flags= field, such as \"b\" or \"d\"".into(),
        });
    };
    w.client_wait_state(&client, &ClientState::flag(letter))
        .await
}

/// Checkpoint: waits until the `CLIENT LIST` field of the client has exactly
/// this value (`db` → `0`, `name`, `resp`, `multi`, `sub`, `lib-name`). A
/// field the server does not show fails at once.
#[given(expr = "the CLIENT LIST field {string} of client {string} is {string}")]
#[when(expr = "the CLIENT LIST field {string} of client {string} is {string}")]
#[then(expr = "the CLIENT LIST field {string} of client {string} is {string}")]
async fn client_field(
    w: &mut ValkeyWorld,
    field: String,
    client: String,
    value: String,
) -> Result<()> {
    w.client_wait_state(&client, &ClientState::field(&field, &value))
        .await
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

/// Checkpoint: waits until the server stops answering — a `PING` of the
/// harness gets no reply within 100 ms, or a `BUSY` error — because a client
/// keeps it busy (`DEBUG SLEEP`, a long script). Fails at once when nothing
/// of the scenario can be keeping it busy: no named client has a command
/// running, it is not frozen and no program of the scenario runs (a slow
/// answer of an idle server on a loaded machine is not busy).
#[when(expr = "{server} is busy")]
async fn server_busy(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    if w.busy_keepers(&server).is_none() {
        return Err(crate::error::Error::Expectation(format!(
            "{} cannot be busy: no client of the scenario has a command running in the background, it is not frozen and no program of the scenario runs",
            server.describe()
        )));
    }
    let timeout = crate::settings::wait_timeout()?;
    server
        .wait_busy(std::time::Duration::from_millis(100), timeout)
        .await
}
