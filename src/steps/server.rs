//! Starting, stopping and checking servers.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::{CommandLine, ServerRef, config_table, name};
use crate::error::{Error, Result};
use crate::server::{ServerSpec, Status, StopMode};
use crate::world::{DEFAULT_SERVER, ValkeyWorld};

fn spec(captured: &str) -> ServerSpec {
    ServerSpec::new(name(captured).unwrap_or(DEFAULT_SERVER))
}

/// Starts a server with the harness's defaults (loopback, a free port, a
/// private directory, no snapshots); without a name it is the scenario's
/// default server.
#[given(regex = r#"^a server(?: "([^"]+)")?$"#)]
async fn a_server(w: &mut ValkeyWorld, server: String) -> Result<()> {
    w.start_server(spec(&server)).await.map(drop)
}

/// Starts a server with the directives of the table (`| maxmemory | 1kb |`),
/// written as in `valkey.conf`.
#[given(regex = r#"^a server(?: "([^"]+)")? with the config:$"#)]
async fn a_server_with_config(w: &mut ValkeyWorld, server: String, #[step] s: &Step) -> Result<()> {
    let mut spec = spec(&server);
    for (k, v) in config_table(w, s).await? {
        spec = spec.config(k, v);
    }
    w.start_server(spec).await.map(drop)
}

/// Starts a server from the given binary instead of the one found by search.
#[given(regex = r#"^a server(?: "([^"]+)")? using the binary "([^"]+)"$"#)]
async fn a_server_using_binary(w: &mut ValkeyWorld, server: String, binary: String) -> Result<()> {
    w.start_server(spec(&server).binary(binary)).await.map(drop)
}

/// Attaches a server shared by every scenario of the feature; the first
/// scenario to ask starts it. Tag the feature `@serial` to run its scenarios
/// in order. It stops when a scenario stops it, or when the run ends.
#[given(regex = r#"^a server "([^"]+)" shared by the scenarios of this feature$"#)]
async fn a_shared_server(w: &mut ValkeyWorld, server: String) -> Result<()> {
    w.attach_shared_server(ServerSpec::new(server))
        .await
        .map(drop)
}

/// Starts a server that is expected not to come up; the next step checks why.
#[when(regex = r#"^I try to start a server(?: "([^"]+)")? with the config:$"#)]
async fn try_start_with_config(
    w: &mut ValkeyWorld,
    server: String,
    #[step] s: &Step,
) -> Result<()> {
    let mut spec = spec(&server);
    for (k, v) in config_table(w, s).await? {
        spec = spec.config(k, v);
    }
    w.start_server_expecting_failure(spec).await
}

/// Checks that the last start failed and that the server's log says why.
#[then(regex = r#"^the server fails to start and its log contains "(.*)"$"#)]
async fn fails_to_start(w: &mut ValkeyWorld, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    match w.start_error()? {
        Error::StartFailed { report, .. } if crate::logfile::contains(&report.log, &text) => Ok(()),
        other => Err(Error::Expectation(format!(
            "expected a failed start whose log contains {text:?}, got:\n{other}"
        ))),
    }
}

/// Stops a server with a plain `SHUTDOWN` (it saves if its configuration
/// has save points).
#[when(expr = "I stop {server}")]
async fn stop(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.stop_server(Some(&server), StopMode::Graceful).await
}

/// Kills a server with SIGKILL, as a crash would; its directory stays.
#[when(expr = "I kill {server}")]
async fn kill(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.stop_server(Some(&server), StopMode::Kill).await
}

/// Restarts a server: plain `SHUTDOWN`, then a start on the same port,
/// directory and configuration; what was persisted comes back.
#[when(expr = "I restart {server}")]
async fn restart(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.restart_server(Some(&server), StopMode::Graceful).await
}

/// Restarts a server after `SHUTDOWN SAVE`: an RDB snapshot (with a
/// replica's replication state) is written first.
#[when(expr = "I restart {server}, saving first")]
async fn restart_saving(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.restart_server(Some(&server), StopMode::Save).await
}

/// Stops a server after `SHUTDOWN SAVE`.
#[when(expr = "I stop {server}, saving first")]
async fn stop_saving(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.stop_server(Some(&server), StopMode::Save).await
}

/// Starts a stopped or killed server again, on its port, directory and
/// configuration.
#[when(expr = "I start {server} again")]
async fn start_again(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.start_again(Some(&server)).await
}

/// Checks that a server's process runs.
#[then(expr = "{server} is running")]
async fn is_running(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    match server.status().await {
        Status::Running { .. } => Ok(()),
        other => Err(Error::Expectation(format!(
            "expected {} to be running; it is {other:?}",
            server.describe()
        ))),
    }
}

/// Checks that a server's process has ended and its port no longer answers.
#[then(expr = "{server} is not running")]
async fn is_not_running(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    match server.status().await {
        Status::Running { pid } => Err(Error::Expectation(format!(
            "expected {} not to be running; it runs as pid {pid}",
            server.describe()
        ))),
        _ if !crate::ports::is_free(server.port()) => Err(Error::Expectation(format!(
            "{} has exited, but something still listens on port {}",
            server.describe(),
            server.port()
        ))),
        _ => Ok(()),
    }
}

/// Runs a command that makes a server die (`DEBUG SEGFAULT`), and waits until
/// its process has ended. The death is expected: it does not fail the
/// scenario at teardown.
#[when(expr = "I run {command} and {server} dies")]
async fn run_and_die(w: &mut ValkeyWorld, command: CommandLine, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    w.expect_death(Some(&server))?;
    match w.run(Some(&server), command.line()).await.cloned() {
        Err(Error::Died { .. }) => Ok(()),
        Ok(reply) => Err(Error::Expectation(format!(
            "`{}` answered {reply} and the server is still running",
            command.line()
        ))),
        Err(other) => Err(other),
    }
}

/// Checks that a server's log (everything it printed) contains the text.
#[then(expr = "the log of {server} contains {string}")]
async fn log_contains(w: &mut ValkeyWorld, server: ServerRef, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    let server = w.resolve(&server).await?;
    if server.log_contains(&text) {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "the log of {} ({}) does not contain {text:?}; its last lines:\n{}",
        server.describe(),
        server.log_path().display(),
        crate::error::indent(&server.log_tail(crate::server::LOG_TAIL_LINES))
    )))
}
