//! Modules built from a crate of the workspace, and what module authors
//! check: commands counted on replicas, values copied with DUMP/RESTORE,
//! background rewrites finished.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::{ServerRef, config_table, name};
use crate::cluster::ClusterSpec;
use crate::error::{Error, Result};
use crate::modules::ModuleLoad;
use crate::replication::ReplicaSetSpec;
use crate::reply::Reply;
use crate::server::ServerSpec;
use crate::world::{DEFAULT_SERVER, ValkeyWorld};

/// The module a sentence names: `the module "path/to/lib.so"` (relative to
/// the working directory), or `the module of the crate "name"` (built by
/// cargo first, once per run).
/// Placeholders (`${dir}`, remembered values) are filled in first.
async fn module(w: &mut ValkeyWorld, of_crate: &str, name: &str, args: &str) -> Result<ModuleLoad> {
    let name = w.expand(name).await?;
    let args = w.expand(args).await?;
    if of_crate.is_empty() {
        ModuleLoad::at_path(&name, &args).await
    } else {
        ModuleLoad::of_crate(&name, &args).await
    }
}

fn server_spec(server: &str, module: &ModuleLoad) -> ServerSpec {
    ServerSpec::new(name(server).unwrap_or(DEFAULT_SERVER)).load(module)
}

/// Starts a server that loads a module (`loadmodule`), with its arguments:
/// a shared library by its path (a relative path is taken from the directory
/// `cargo test` runs in, the package's root; no file there fails the step
/// with the path tried), or `of the crate "…"`, the module of a `cdylib`
/// crate of the workspace, which the harness builds with `cargo build -p`
/// first (once per run).
#[given(
    regex = r#"^a server(?: "([^"]+)")? with the module( of the crate)? "([^"]+)"(?: and the arguments "([^"]*)")?$"#
)]
async fn server_with_module(
    w: &mut ValkeyWorld,
    server: String,
    of_crate: String,
    path: String,
    args: String,
) -> Result<()> {
    let module = module(w, &of_crate, &path, &args).await?;
    w.start_server(server_spec(&server, &module))
        .await
        .map(drop)
}

/// The same, with directives from a table (`| appendonly | yes |`).
#[given(
    regex = r#"^a server(?: "([^"]+)")? with the module( of the crate)? "([^"]+)"(?: and the arguments "([^"]*)")? and the config:$"#
)]
async fn server_with_module_config(
    w: &mut ValkeyWorld,
    server: String,
    of_crate: String,
    path: String,
    args: String,
    #[step] s: &Step,
) -> Result<()> {
    let module = module(w, &of_crate, &path, &args).await?;
    let mut spec = server_spec(&server, &module);
    for (k, v) in config_table(w, s).await? {
        spec = spec.config(k, v);
    }
    w.start_server(spec).await.map(drop)
}

/// Starts a server loading a module with arguments it should refuse;
/// `the server fails to start and its log contains ...` checks why. A path
/// with no file fails this step: that is no refusal of the module's.
#[when(
    regex = r#"^I try to start a server with the module( of the crate)? "([^"]+)" and the arguments "([^"]*)"$"#
)]
async fn try_server_with_module(
    w: &mut ValkeyWorld,
    of_crate: String,
    path: String,
    args: String,
) -> Result<()> {
    let module = module(w, &of_crate, &path, &args).await?;
    w.start_server_expecting_failure(server_spec("", &module))
        .await
}

/// Starts a primary and replicas that all load the module, with its
/// arguments.
#[given(
    regex = r#"^a primary with (\d+) replicas? loading the module( of the crate)? "([^"]+)"(?: and the arguments "([^"]*)")?$"#
)]
async fn replicas_with_module(
    w: &mut ValkeyWorld,
    replicas: usize,
    of_crate: String,
    path: String,
    args: String,
) -> Result<()> {
    let module = module(w, &of_crate, &path, &args).await?;
    w.start_replica_set(ReplicaSetSpec::new(replicas).load(&module))
        .await
}

/// The same, with the table's directives on every node.
#[given(
    regex = r#"^a primary with (\d+) replicas? loading the module( of the crate)? "([^"]+)"(?: and the arguments "([^"]*)")? and the config:$"#
)]
async fn replicas_with_module_config(
    w: &mut ValkeyWorld,
    replicas: usize,
    of_crate: String,
    path: String,
    args: String,
    #[step] s: &Step,
) -> Result<()> {
    let module = module(w, &of_crate, &path, &args).await?;
    let mut spec = ReplicaSetSpec::new(replicas).load(&module);
    for (k, v) in config_table(w, s).await? {
        spec = spec.config(k, v);
    }
    w.start_replica_set(spec).await
}

/// Forms a cluster whose every node loads the module, with its arguments
/// (a cluster loading a module starts its nodes afresh: pooled nodes lack
/// it).
#[given(
    regex = r#"^a cluster of (\d+) shards?(?: with (\d+) replicas? each)? loading the module( of the crate)? "([^"]+)"(?: and the arguments "([^"]*)")?$"#
)]
async fn cluster_with_module(
    w: &mut ValkeyWorld,
    shards: usize,
    replicas: String,
    of_crate: String,
    path: String,
    args: String,
) -> Result<()> {
    let replicas = if replicas.is_empty() {
        0
    } else {
        replicas.parse().map_err(|_| Error::Config {
            what: format!("{replicas:?} replicas per shard is not a number"),
            hint: "write a cluster of 3 shards with 1 replica each".into(),
        })?
    };
    let module = module(w, &of_crate, &path, &args).await?;
    w.start_cluster(ClusterSpec::new(shards, replicas).load(&module))
        .await
}

/// Has every server the scenario starts after this step load the module —
/// alone, primaries and replicas, cluster nodes. Written once in a feature's
/// `Background`, it holds for each of its scenarios; to load a module in
/// every server of a whole run, run with `--module` (or set
/// `VALKEY_BDD_MODULE`, the same setting) instead.
#[given(
    regex = r#"^every server loads the module( of the crate)? "([^"]+)"(?: and the arguments "([^"]*)")?$"#
)]
async fn every_server_loads(
    w: &mut ValkeyWorld,
    of_crate: String,
    path: String,
    args: String,
) -> Result<()> {
    let module = module(w, &of_crate, &path, &args).await?;
    w.load_in_every_server(module);
    Ok(())
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
