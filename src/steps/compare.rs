//! Checks on values: comparisons (`greater than`, `at least`, `less
//! than`, `at most`, `equal to`, `between … and …`) of replies, `INFO`
//! fields, config values and remembered values; the same answer on two
//! servers; an answer unchanged since it was remembered; whether a key
//! exists; and `… becomes …`, which waits up to the run's deadline
//! (`VALKEY_BDD_WAIT_TIMEOUT`) and fails with the last value seen.

use cucumber::{given, then, when};

use super::{CommandLine, CompareTo, ServerRef};
use crate::compare::Expected;
use crate::error::{Error, Result};
use crate::world::{DEFAULT_SERVER, Subject, ValkeyWorld};

fn info(server: &str, field: String) -> Subject {
    Subject::Info {
        server: server.to_string(),
        field,
    }
}

fn config(server: &str, key: String) -> Subject {
    Subject::Config {
        server: server.to_string(),
        key,
    }
}

/// The last reply, a number, compares as written: `the reply is greater
/// than 5`, `... is between 1 and ${max}`. A reply that is no number fails,
/// showing it.
#[then(expr = "the reply is {comparison}")]
async fn reply_is(w: &mut ValkeyWorld, cmp: CompareTo) -> Result<()> {
    let expected = w.comparison(&cmp.0).await?;
    w.check(&Subject::LastReply, &expected).await
}

/// An `INFO` field of the default server, a number, compares as written.
#[then(expr = "the INFO field {string} is {comparison}")]
async fn info_is(w: &mut ValkeyWorld, field: String, cmp: CompareTo) -> Result<()> {
    let (field, expected) = (w.expand(&field).await?, w.comparison(&cmp.0).await?);
    w.check(&info(DEFAULT_SERVER, field), &expected).await
}

/// An `INFO` field of that server, a number, compares as written.
#[then(expr = "the INFO field {string} of {server} is {comparison}")]
async fn info_of_is(
    w: &mut ValkeyWorld,
    field: String,
    server: ServerRef,
    cmp: CompareTo,
) -> Result<()> {
    let (field, expected) = (w.expand(&field).await?, w.comparison(&cmp.0).await?);
    let server = w.resolve_name(&server).await?;
    w.check(&info(&server, field), &expected).await
}

/// A config value (`CONFIG GET`) of the default server, a number, compares
/// as written.
#[then(expr = "the config {string} is {comparison}")]
async fn config_is(w: &mut ValkeyWorld, key: String, cmp: CompareTo) -> Result<()> {
    let (key, expected) = (w.expand(&key).await?, w.comparison(&cmp.0).await?);
    w.check(&config(DEFAULT_SERVER, key), &expected).await
}

/// A config value (`CONFIG GET`) of that server, a number, compares as
/// written.
#[then(expr = "the config {string} of {server} is {comparison}")]
async fn config_of_is(
    w: &mut ValkeyWorld,
    key: String,
    server: ServerRef,
    cmp: CompareTo,
) -> Result<()> {
    let (key, expected) = (w.expand(&key).await?, w.comparison(&cmp.0).await?);
    let server = w.resolve_name(&server).await?;
    w.check(&config(&server, key), &expected).await
}

/// A remembered value, a number, compares as written: `the remembered
/// "after" is greater than ${before}`.
#[then(expr = "the remembered {string} is {comparison}")]
async fn remembered_is(w: &mut ValkeyWorld, name: String, cmp: CompareTo) -> Result<()> {
    let expected = w.comparison(&cmp.0).await?;
    w.check(&Subject::Remembered(name), &expected).await
}

/// A remembered value is exactly this text.
#[then(expr = "the remembered {string} is {string}")]
async fn remembered_is_text(w: &mut ValkeyWorld, name: String, text: String) -> Result<()> {
    let expected = Expected::Text(w.expand(&text).await?);
    w.check(&Subject::Remembered(name), &expected).await
}

/// Runs the command on the default server (the cluster in a cluster
/// scenario) and checks that it answers exactly what was remembered:
/// "unchanged since". The reply does not become the last reply.
#[then(expr = "the reply to {command} is the same as the remembered {string}")]
async fn unchanged_since(w: &mut ValkeyWorld, command: CommandLine, name: String) -> Result<()> {
    let expected = Expected::Text(w.remembered(&name)?.to_string());
    let command = w.expand(command.line()).await?;
    w.check(
        &Subject::Reply {
            server: None,
            command,
        },
        &expected,
    )
    .await
}

/// Runs the command on both servers until they answer the same (a replica
/// catching up), or fails at the deadline with both last answers: `replica
/// 1 answers `BF.INFO k` as the primary does`.
#[then(expr = "{server} answers {command} as {server} does")]
async fn answers_as(
    w: &mut ValkeyWorld,
    server: ServerRef,
    command: CommandLine,
    reference: ServerRef,
) -> Result<()> {
    let (server, reference) = (w.resolve(&server).await?, w.resolve(&reference).await?);
    let line = w.expand(command.line()).await?;
    let mut deadline = crate::wait::Deadline::start(crate::settings::wait_timeout()?);
    loop {
        let want = w.ask(&reference, &line).await?;
        let got = w.ask(&server, &line).await?;
        if got == want {
            return Ok(());
        }
        let hint = if deadline.expired() {
            crate::replication::likeness_hint(&server, &reference).await
        } else {
            String::new()
        };
        deadline
            .pause(
                &format!(
                    "`{line}` on {} to answer as on {}",
                    server.describe(),
                    reference.describe()
                ),
                &format!(
                    "{} answered:\n{}\n  {} answered:\n{}",
                    server.describe(),
                    crate::error::indent(&got.to_string()),
                    reference.describe(),
                    crate::error::indent(&want.to_string())
                ),
                &hint,
            )
            .await?;
    }
}

async fn key_exists(
    w: &mut ValkeyWorld,
    server: Option<&str>,
    key: &str,
    wanted: bool,
) -> Result<()> {
    let key = w.expand(key).await?;
    let line = format!(
        "EXISTS {}",
        crate::command::join(&[key.as_bytes().to_vec()])
    );
    let reply = w.query(server, &line).await?;
    let exists = match reply {
        crate::reply::Reply::Integer(n) => n > 0,
        other => {
            return Err(Error::Expectation(format!("`{line}` answered {other}")));
        }
    };
    if exists == wanted {
        return Ok(());
    }
    let on = match server {
        Some(s) => w.server(Some(s))?.describe(),
        None => "the server".into(),
    };
    Err(Error::Expectation(if exists {
        let kind = w
            .query(
                server,
                &format!("TYPE {}", crate::command::join(&[key.as_bytes().to_vec()])),
            )
            .await?;
        format!(
            "the key {key:?} exists on {on} (a {}), expected it not to",
            kind.cell()
        )
    } else {
        format!("the key {key:?} does not exist on {on}, expected it to")
    }))
}

/// The key exists on the default server (the cluster in a cluster scenario).
#[then(expr = "the key {string} exists")]
async fn exists(w: &mut ValkeyWorld, key: String) -> Result<()> {
    key_exists(w, None, &key, true).await
}

/// The key does not exist on the default server (the cluster in a cluster
/// scenario).
#[then(expr = "the key {string} does not exist")]
async fn does_not_exist(w: &mut ValkeyWorld, key: String) -> Result<()> {
    key_exists(w, None, &key, false).await
}

/// The key exists on that server.
#[then(expr = "the key {string} exists on {server}")]
async fn exists_on(w: &mut ValkeyWorld, key: String, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    key_exists(w, Some(&server), &key, true).await
}

/// The key does not exist on that server.
#[then(expr = "the key {string} does not exist on {server}")]
async fn does_not_exist_on(w: &mut ValkeyWorld, key: String, server: ServerRef) -> Result<()> {
    let server = w.resolve_name(&server).await?;
    key_exists(w, Some(&server), &key, false).await
}

// --- eventually ----------------------------------------------------------

/// Waits until an `INFO` field of that server has exactly this value.
#[given(expr = "the INFO field {string} of {server} becomes {string}")]
#[when(expr = "the INFO field {string} of {server} becomes {string}")]
#[then(expr = "the INFO field {string} of {server} becomes {string}")]
async fn info_of_becomes(
    w: &mut ValkeyWorld,
    field: String,
    server: ServerRef,
    value: String,
) -> Result<()> {
    let (field, value) = (w.expand(&field).await?, w.expand(&value).await?);
    let server = w.resolve_name(&server).await?;
    w.check_until(&info(&server, field), &Expected::Text(value))
        .await
}

/// Waits until an `INFO` field of the default server, a number, compares as
/// written: `the INFO field "connected_clients" becomes at least 3`.
#[given(expr = "the INFO field {string} becomes {comparison}")]
#[when(expr = "the INFO field {string} becomes {comparison}")]
#[then(expr = "the INFO field {string} becomes {comparison}")]
async fn info_becomes_cmp(w: &mut ValkeyWorld, field: String, cmp: CompareTo) -> Result<()> {
    let (field, expected) = (w.expand(&field).await?, w.comparison(&cmp.0).await?);
    w.check_until(&info(DEFAULT_SERVER, field), &expected).await
}

/// Waits until an `INFO` field of that server, a number, compares as
/// written.
#[given(expr = "the INFO field {string} of {server} becomes {comparison}")]
#[when(expr = "the INFO field {string} of {server} becomes {comparison}")]
#[then(expr = "the INFO field {string} of {server} becomes {comparison}")]
async fn info_of_becomes_cmp(
    w: &mut ValkeyWorld,
    field: String,
    server: ServerRef,
    cmp: CompareTo,
) -> Result<()> {
    let (field, expected) = (w.expand(&field).await?, w.comparison(&cmp.0).await?);
    let server = w.resolve_name(&server).await?;
    w.check_until(&info(&server, field), &expected).await
}

/// Waits until `CONFIG GET` of the directive on the default server answers
/// exactly this value.
#[given(expr = "the config {string} becomes {string}")]
#[when(expr = "the config {string} becomes {string}")]
#[then(expr = "the config {string} becomes {string}")]
async fn config_becomes(w: &mut ValkeyWorld, key: String, value: String) -> Result<()> {
    let (key, value) = (w.expand(&key).await?, w.expand(&value).await?);
    w.check_until(&config(DEFAULT_SERVER, key), &Expected::Text(value))
        .await
}

/// Waits until `CONFIG GET` of the directive on that server answers exactly
/// this value.
#[given(expr = "the config {string} of {server} becomes {string}")]
#[when(expr = "the config {string} of {server} becomes {string}")]
#[then(expr = "the config {string} of {server} becomes {string}")]
async fn config_of_becomes(
    w: &mut ValkeyWorld,
    key: String,
    server: ServerRef,
    value: String,
) -> Result<()> {
    let (key, value) = (w.expand(&key).await?, w.expand(&value).await?);
    let server = w.resolve_name(&server).await?;
    w.check_until(&config(&server, key), &Expected::Text(value))
        .await
}

/// Waits until a config value of the default server, a number, compares as
/// written.
#[given(expr = "the config {string} becomes {comparison}")]
#[when(expr = "the config {string} becomes {comparison}")]
#[then(expr = "the config {string} becomes {comparison}")]
async fn config_becomes_cmp(w: &mut ValkeyWorld, key: String, cmp: CompareTo) -> Result<()> {
    let (key, expected) = (w.expand(&key).await?, w.comparison(&cmp.0).await?);
    w.check_until(&config(DEFAULT_SERVER, key), &expected).await
}

/// Runs the command on the default server (the cluster in a cluster
/// scenario) until it answers this text (a string or status as its text, a
/// number as its digits; nil is never a text): `the reply to `LLEN q`
/// becomes "3"`. The replies do not become the last reply.
#[given(expr = "the reply to {command} becomes {string}")]
#[when(expr = "the reply to {command} becomes {string}")]
#[then(expr = "the reply to {command} becomes {string}")]
async fn reply_becomes(w: &mut ValkeyWorld, command: CommandLine, value: String) -> Result<()> {
    let (command, value) = (w.expand(command.line()).await?, w.expand(&value).await?);
    w.check_until(
        &Subject::Reply {
            server: None,
            command,
        },
        &Expected::Text(value),
    )
    .await
}

/// Runs the command on the default server (the cluster in a cluster
/// scenario) until its reply, a number, compares as written: `the reply to
/// `DBSIZE` becomes at least 100`.
#[given(expr = "the reply to {command} becomes {comparison}")]
#[when(expr = "the reply to {command} becomes {comparison}")]
#[then(expr = "the reply to {command} becomes {comparison}")]
async fn reply_becomes_cmp(
    w: &mut ValkeyWorld,
    command: CommandLine,
    cmp: CompareTo,
) -> Result<()> {
    let (command, expected) = (w.expand(command.line()).await?, w.comparison(&cmp.0).await?);
    w.check_until(
        &Subject::Reply {
            server: None,
            command,
        },
        &expected,
    )
    .await
}

/// Runs the command on that server until it answers this text, as for
/// `the reply to … becomes …`: `the reply to `LLEN q` on replica 1 becomes
/// "3"`.
#[given(expr = "the reply to {command} on {server} becomes {string}")]
#[when(expr = "the reply to {command} on {server} becomes {string}")]
#[then(expr = "the reply to {command} on {server} becomes {string}")]
async fn reply_on_becomes(
    w: &mut ValkeyWorld,
    command: CommandLine,
    server: ServerRef,
    value: String,
) -> Result<()> {
    let (command, value) = (w.expand(command.line()).await?, w.expand(&value).await?);
    let server = Some(w.resolve_name(&server).await?);
    w.check_until(&Subject::Reply { server, command }, &Expected::Text(value))
        .await
}
