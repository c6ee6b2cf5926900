//! Remembering values for later sentences: `I remember the reply as
//! "size"`, then `${size}` anywhere a sentence takes text — commands,
//! expected values, tables, doc strings, programs' command lines.
//!
//! Built-in placeholders need no remembering: `${now}`, `${now_ms}`,
//! `${host}`, `${port}`, `${url}` (of the default server; `${port:cache}`
//! of server "cache"), `${dir}`, `${client.bob.id}`, `${client.bob.name}`;
//! integers take arithmetic: `${now+5}`, `${size-1}`. An unknown name fails
//! the step with the names the scenario knows. Values live in the scenario.

use cucumber::{given, when};

use super::{CommandLine, ServerRef};
use crate::error::{Error, Result};
use crate::world::{DEFAULT_SERVER, Subject, ValkeyWorld};

/// Remembers what a subject is now; absent (nil, a missing INFO field) is
/// no value, and fails.
async fn remember(w: &mut ValkeyWorld, subject: Subject, name: &str) -> Result<()> {
    let seen = w.observe(&subject).await?;
    let value = seen.value.ok_or_else(|| {
        Error::Expectation(format!(
            "{} is absent (nil), so there is nothing to remember as \"{name}\"",
            seen.what
        ))
    })?;
    w.remember(name, value)
}

/// Remembers the last reply when it is an error exactly when `error` says
/// so: an error kept as its text would make two failing commands compare
/// "the same".
async fn remember_last(w: &mut ValkeyWorld, name: &str, error: bool) -> Result<()> {
    let last = w.last()?;
    let what = format!("the reply to `{}` run by {}", last.command, last.by);
    let problem = match (last.reply.error(), error) {
        (Some(e), false) => Some(format!(
            "{what} is an error ({e}), not a value to remember as \"{name}\"; write `I remember the error reply ... as \"{name}\"` when the error is expected"
        )),
        (None, true) => Some(format!(
            "{what} is {} ({}), not an error, so there is no error to remember as \"{name}\"",
            last.reply.kind(),
            last.reply.cell()
        )),
        _ => None,
    };
    match problem {
        Some(why) => Err(Error::Expectation(why)),
        None => remember(w, Subject::LastReply, name).await,
    }
}

/// Remembers the last reply's text (a string or status as its text, a
/// number as its digits, anything else as `valkey-cli` prints it) as
/// `${name}`. A nil reply fails: there is nothing to remember; so does an
/// error reply (see `I remember the error reply as ...`).
#[given(expr = "I remember the reply as {string}")]
#[when(expr = "I remember the reply as {string}")]
async fn the_reply(w: &mut ValkeyWorld, name: String) -> Result<()> {
    remember_last(w, &name, false).await
}

/// Runs the command on the default server (the cluster in a cluster
/// scenario) and remembers its reply as `${name}`; the reply becomes the
/// last reply too. An error reply fails the step.
#[given(expr = "I remember the reply to {command} as {string}")]
#[when(expr = "I remember the reply to {command} as {string}")]
async fn the_reply_to(w: &mut ValkeyWorld, command: CommandLine, name: String) -> Result<()> {
    w.run(None, command.line()).await?;
    remember_last(w, &name, false).await
}

/// Remembers the last reply, which must be an error, as `valkey-cli`
/// prints it (`(error) ERR ...`); any other reply fails the step.
#[given(expr = "I remember the error reply as {string}")]
#[when(expr = "I remember the error reply as {string}")]
async fn the_error_reply(w: &mut ValkeyWorld, name: String) -> Result<()> {
    remember_last(w, &name, true).await
}

/// Runs the command on the default server (the cluster in a cluster
/// scenario), whose reply must be an error, and remembers it as
/// `valkey-cli` prints it (`(error) ERR ...`); the reply becomes the last
/// reply too.
#[given(expr = "I remember the error reply to {command} as {string}")]
#[when(expr = "I remember the error reply to {command} as {string}")]
async fn the_error_reply_to(w: &mut ValkeyWorld, command: CommandLine, name: String) -> Result<()> {
    w.run(None, command.line()).await?;
    remember_last(w, &name, true).await
}

/// Remembers an `INFO` field (from any section) of the default server; a
/// field the server does not print fails.
#[given(expr = "I remember the INFO field {string} as {string}")]
#[when(expr = "I remember the INFO field {string} as {string}")]
async fn info_field(w: &mut ValkeyWorld, field: String, name: String) -> Result<()> {
    let field = w.expand(&field).await?;
    let server = DEFAULT_SERVER.to_string();
    remember(w, Subject::Info { server, field }, &name).await
}

/// Remembers an `INFO` field (from any section) of that server.
#[given(expr = "I remember the INFO field {string} of {server} as {string}")]
#[when(expr = "I remember the INFO field {string} of {server} as {string}")]
async fn info_field_of(
    w: &mut ValkeyWorld,
    field: String,
    server: ServerRef,
    name: String,
) -> Result<()> {
    let field = w.expand(&field).await?;
    let server = w.resolve_name(&server).await?;
    remember(w, Subject::Info { server, field }, &name).await
}

/// Remembers what `CONFIG GET` answers for the directive on the default
/// server.
#[given(expr = "I remember the config {string} as {string}")]
#[when(expr = "I remember the config {string} as {string}")]
async fn config(w: &mut ValkeyWorld, key: String, name: String) -> Result<()> {
    let key = w.expand(&key).await?;
    let server = DEFAULT_SERVER.to_string();
    remember(w, Subject::Config { server, key }, &name).await
}

/// Remembers what `CONFIG GET` answers for the directive on that server.
#[given(expr = "I remember the config {string} of {server} as {string}")]
#[when(expr = "I remember the config {string} of {server} as {string}")]
async fn config_of(
    w: &mut ValkeyWorld,
    key: String,
    server: ServerRef,
    name: String,
) -> Result<()> {
    let key = w.expand(&key).await?;
    let server = w.resolve_name(&server).await?;
    remember(w, Subject::Config { server, key }, &name).await
}

/// Remembers a named client's `CLIENT ID` (what `${client.bob.id}` gives
/// at any time) under a name of the scenario's own.
#[given(expr = "I remember the id of client {string} as {string}")]
#[when(expr = "I remember the id of client {string} as {string}")]
async fn client_id(w: &mut ValkeyWorld, client: String, name: String) -> Result<()> {
    let id = w.placeholder(&format!("client.{client}.id")).await?;
    w.remember(&name, id)
}
