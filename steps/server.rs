//! Starting, stopping and checking servers.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::{config_table, name};
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
    for (k, v) in config_table(s)? {
        spec = spec.config(k, v);
    }
    w.start_server(spec).await.map(drop)
}

/// Starts a server from the given binary instead of the one found by search.
#[given(regex = r#"^a server(?: "([^"]+)")? using the binary "([^"]+)"$"#)]
async fn a_server_using_binary(w: &mut ValkeyWorld, server: String, binary: String) -> Result<()> {
    w.start_server(spec(&server).binary(binary)).await.map(drop)
}

/// Starts a server that loads a module (`loadmodule`), with its arguments.
/// A relative path is taken from the directory `cargo test` runs in.
#[given(
    regex = r#"^a server(?: "([^"]+)")? with the module "([^"]+)"(?: and the arguments "([^"]*)")?$"#
)]
async fn a_server_with_module(
    w: &mut ValkeyWorld,
    server: String,
    module: String,
    args: String,
) -> Result<()> {
    w.start_server(spec(&server).module(module, &args))
        .await
        .map(drop)
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
    for (k, v) in config_table(s)? {
        spec = spec.config(k, v);
    }
    w.start_server_expecting_failure(spec).await
}

/// Checks that the last start failed and that the server's log says why.
#[then(regex = r#"^the server fails to start and its log contains "(.*)"$"#)]
async fn fails_to_start(w: &mut ValkeyWorld, text: String) -> Result<()> {
    match w.start_error()? {
        Error::StartFailed { report, .. } if crate::logfile::contains(&report.log, &text) => Ok(()),
        other => Err(Error::Expectation(format!(
            "expected a failed start whose log contains {text:?}, got:\n{other}"
        ))),
    }
}

/// Stops (plain `SHUTDOWN`), kills (SIGKILL) or restarts (plain `SHUTDOWN`,
/// then start on the same port and directory) a server.
#[when(regex = r#"^I (stop|kill|restart) (?:the server|server "([^"]+)")$"#)]
async fn stop_kill_restart(w: &mut ValkeyWorld, action: String, server: String) -> Result<()> {
    let server = name(&server);
    match action.as_str() {
        "stop" => w.stop_server(server, StopMode::Graceful).await,
        "kill" => w.stop_server(server, StopMode::Kill).await,
        _ => w.restart_server(server, StopMode::Graceful).await,
    }
}

/// Checks whether a server's process runs (and, when it does not, that its
/// port no longer answers).
#[then(regex = r#"^(?:the server|server "([^"]+)") is (running|not running)$"#)]
async fn is_running(w: &mut ValkeyWorld, server: String, state: String) -> Result<()> {
    let server = w.server(name(&server))?.clone();
    let status = server.status().await;
    let running = matches!(status, Status::Running { .. });
    let port_free = crate::ports::is_free(server.port());
    match (state.as_str(), running) {
        ("running", true) => Ok(()),
        ("not running", false) if port_free => Ok(()),
        ("not running", false) => Err(Error::Expectation(format!(
            "{} has exited, but something still listens on port {}",
            server.describe(),
            server.port()
        ))),
        _ => Err(Error::Expectation(format!(
            "expected {} to be {state}; it is {status:?}",
            server.describe()
        ))),
    }
}

/// Runs a command that makes a server die (`DEBUG SEGFAULT`), and waits until
/// its process has ended. The death is expected: it does not fail the
/// scenario at teardown.
#[when(regex = r#"^I run `(.+)` and (?:the server|server "([^"]+)") dies$"#)]
async fn run_and_die(w: &mut ValkeyWorld, command: String, server: String) -> Result<()> {
    let server_name = name(&server);
    w.expect_death(server_name)?;
    let outcome = w.run(server_name, &command).await.cloned();
    match outcome {
        Err(Error::Died { .. }) => Ok(()),
        Ok(reply) => Err(Error::Expectation(format!(
            "`{command}` answered {reply} and the server is still running"
        ))),
        Err(other) => Err(other),
    }
}

/// Checks that a server's log (everything it printed) contains the text.
#[then(regex = r#"^the log of (?:the server|server "([^"]+)") contains "(.*)"$"#)]
async fn log_contains(w: &mut ValkeyWorld, server: String, text: String) -> Result<()> {
    let server = w.server(name(&server))?;
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
