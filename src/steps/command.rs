//! Running commands, written as in `valkey-cli`, through named or default clients.

use cucumber::gherkin::Step;
use cucumber::{given, when};

use super::{CommandLine, ServerRef, raw_doc_string};
use crate::error::{Error, Result};
use crate::world::ValkeyWorld;

/// Runs a command on the default server; its reply (an error reply too) is
/// kept for the `Then the reply ...` sentences.
#[given(expr = "I run {command}")]
#[when(expr = "I run {command}")]
async fn run(w: &mut ValkeyWorld, command: CommandLine) -> Result<()> {
    w.run(None, command.line()).await.map(drop)
}

/// Runs a command on another server, through that server's own connection.
#[given(expr = "I run {command} on {server}")]
#[when(expr = "I run {command} on {server}")]
async fn run_on(w: &mut ValkeyWorld, command: CommandLine, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.run(Some(&server), command.line()).await.map(drop)
}

/// Runs one command per line of the doc string on the default server; any
/// error reply fails the step. For setting up data. Each line's `${...}`
/// placeholders are filled in as it runs.
#[given(expr = "I ran the commands:")]
async fn ran_commands(w: &mut ValkeyWorld, #[step] s: &Step) -> Result<()> {
    for line in raw_doc_string(s)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let reply = w.run(None, line).await?;
        if let Some(e) = reply.error() {
            return Err(Error::Expectation(format!(
                "`{line}` answered the error: {e}"
            )));
        }
    }
    Ok(())
}

/// Opens a connection of its own for a named client.
#[given(expr = "client {string} is connected to {server}")]
#[when(expr = "client {string} is connected to {server}")]
async fn client_connected(w: &mut ValkeyWorld, client: String, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.connect_client(&client, Some(&server)).await
}

/// Runs a command through a named client (connected to the default server
/// on first use).
#[given(expr = "client {string} runs {command}")]
#[when(expr = "client {string} runs {command}")]
async fn client_runs(w: &mut ValkeyWorld, client: String, command: CommandLine) -> Result<()> {
    w.client_run(&client, command.line()).await.map(drop)
}
