//! Modules built from a crate of the workspace, and what module authors
//! check: commands counted on replicas, values copied with DUMP/RESTORE,
//! background rewrites finished.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::{ServerRef, config_table, name};
use crate::error::{Error, Result};
use crate::replication::ReplicaSetSpec;
use crate::reply::Reply;
use crate::server::ServerSpec;
use crate::world::{DEFAULT_SERVER, ValkeyWorld};

/// A server spec loading the module of a crate, built by cargo first.
async fn spec_with(server: &str, krate: &str, args: &str) -> Result<ServerSpec> {
    let path = crate::modules::cdylib(krate).await?;
    Ok(ServerSpec::new(name(server).unwrap_or(DEFAULT_SERVER)).module(path, args))
}

/// Starts a server loading the module of a `cdylib` crate of the
/// workspace, which the harness builds with `cargo build -p` first (once per
/// run), with its arguments.
#[given(
    regex = r#"^a server(?: "([^"]+)")? with the module of the crate "([^"]+)"(?: and the arguments "([^"]*)")?$"#
)]
async fn server_with_crate_module(
    w: &mut ValkeyWorld,
    server: String,
    krate: String,
    args: String,
) -> Result<()> {
    let spec = spec_with(&server, &krate, &args).await?;
    w.start_server(spec).await.map(drop)
}

/// The same, with directives from a table (`| appendonly | yes |`).
#[given(
    regex = r#"^a server(?: "([^"]+)")? with the module of the crate "([^"]+)" and the config:$"#
)]
async fn server_with_crate_module_config(
    w: &mut ValkeyWorld,
    server: String,
    krate: String,
    #[step] s: &Step,
) -> Result<()> {
    let mut spec = spec_with(&server, &krate, "").await?;
    for (k, v) in config_table(w, s).await? {
        spec = spec.config(k, v);
    }
    w.start_server(spec).await.map(drop)
}

/// Starts a server loading the crate's module with arguments it should
/// refuse; `the server fails to start and its log contains ...` checks why.
#[when(
    regex = r#"^I try to start a server with the module of the crate "([^"]+)" and the arguments "([^"]*)"$"#
)]
async fn try_server_with_crate_module(
    w: &mut ValkeyWorld,
    krate: String,
    args: String,
) -> Result<()> {
    let spec = spec_with("", &krate, &args).await?;
    w.start_server_expecting_failure(spec).await
}

/// Starts a primary and replicas that all load the crate's module.
#[given(regex = r#"^a primary with (\d+) replicas? loading the module of the crate "([^"]+)"$"#)]
async fn replicas_with_crate_module(
    w: &mut ValkeyWorld,
    replicas: usize,
    krate: String,
) -> Result<()> {
    let path = crate::modules::cdylib(&krate).await?;
    let path = std::path::absolute(&path).unwrap_or(path);
    w.start_replica_set(
        ReplicaSetSpec::new(replicas).config("loadmodule", path.display().to_string()),
    )
    .await
}

/// Checks how many times the server has run a command (`INFO
/// commandstats`, `calls=`): on a replica, the writes that reached it. The
/// name is found whatever its case (a module's commands keep the case it
/// declared); a command the server does not have fails, even for `0 times`.
#[then(expr = "{server} has executed {string} {int} time(s)")]
async fn executed(
    w: &mut ValkeyWorld,
    server: ServerRef,
    command: String,
    times: u64,
) -> Result<()> {
    use crate::info::Executed;
    let server = w.resolve(&server).await?;
    let (calls, seen) = match crate::info::executed(&server, &command).await? {
        Executed::Calls(n, stat) => (n, format!("{}:{}", stat.field, stat.line)),
        Executed::Never => (0, "no commandstats line: never run".to_string()),
        Executed::Unknown => {
            return Err(Error::Expectation(format!(
                "{} has no command {command:?} (COMMAND INFO knows none): is its module loaded?",
                server.describe()
            )));
        }
    };
    if calls == times {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "{} has executed {command:?} {calls} time(s), expected {times} ({seen})",
        server.describe()
    )))
}

/// Copies a key's value to a new key the way a migration would: `DUMP`,
/// then `RESTORE` of its payload (a module type goes through its RDB
/// save and load).
#[when(expr = "I copy {string} to {string} with DUMP and RESTORE")]
async fn dump_restore(w: &mut ValkeyWorld, from: String, to: String) -> Result<()> {
    let server = w.server(None)?.clone();
    let mut c = server.client().await?;
    let payload = match c.run_args(&[b"DUMP".as_slice(), from.as_bytes()]).await? {
        Reply::Bulk(p) => p,
        other => {
            return Err(Error::Expectation(format!(
                "DUMP {from} answered {other}, not a payload"
            )));
        }
    };
    match c
        .run_args(&[b"RESTORE".as_slice(), to.as_bytes(), b"0", &payload])
        .await?
    {
        Reply::Status(s) if s == "OK" => Ok(()),
        other => Err(Error::Expectation(format!("RESTORE {to} answered {other}"))),
    }
}
