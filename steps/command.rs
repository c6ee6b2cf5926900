//! Running commands, written as in `valkey-cli`, through named or default clients.

use cucumber::gherkin::Step;
use cucumber::{given, when};

use super::{doc_string, name};
use crate::error::{Error, Result};
use crate::world::ValkeyWorld;

/// Runs a command on the default server; its reply (an error reply too) is
/// kept for the `Then the reply ...` sentences.
#[given(regex = r"^I run `(.+)`$")]
#[when(regex = r"^I run `(.+)`$")]
async fn run(w: &mut ValkeyWorld, command: String) -> Result<()> {
    w.run(None, &command).await.map(drop)
}

/// Runs a command on a named server, through that server's own connection.
#[given(regex = r#"^I run `(.+)` on server "([^"]+)"$"#)]
#[when(regex = r#"^I run `(.+)` on server "([^"]+)"$"#)]
async fn run_on(w: &mut ValkeyWorld, command: String, server: String) -> Result<()> {
    w.run(Some(&server), &command).await.map(drop)
}

/// Runs one command per line of the doc string on the default server; any
/// error reply fails the step. For setting up data.
#[given(regex = r"^I ran the commands:$")]
async fn ran_commands(w: &mut ValkeyWorld, #[step] s: &Step) -> Result<()> {
    for line in doc_string(s)?
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

/// Opens a connection of its own for a named client, to the default server
/// or a named one.
#[given(regex = r#"^client "([^"]+)" is connected to (?:the server|server "([^"]+)")$"#)]
async fn client_connected(w: &mut ValkeyWorld, client: String, server: String) -> Result<()> {
    w.connect_client(&client, name(&server)).await
}

/// Runs a command through a named client (connected to the default server
/// on first use).
#[given(regex = r#"^client "([^"]+)" runs `(.+)`$"#)]
#[when(regex = r#"^client "([^"]+)" runs `(.+)`$"#)]
async fn client_runs(w: &mut ValkeyWorld, client: String, command: String) -> Result<()> {
    w.client_run(&client, &command).await.map(drop)
}
