//! What a server says about itself: `CONFIG GET` and `INFO`.

use cucumber::{given, then, when};

use super::ServerRef;
use crate::error::{Error, Result};
use crate::world::{DEFAULT_SERVER, ValkeyWorld};

async fn config_is(w: &ValkeyWorld, server: &str, key: &str, value: &str) -> Result<()> {
    let server = w.server(Some(server))?;
    let actual = crate::info::config_get(server, key).await?;
    if actual == value {
        return Ok(());
    }
    // `masterauth` holds the run's password: never print it.
    let actual = crate::acl::redact(&actual);
    Err(Error::Expectation(format!(
        "the config {key:?} of {} is {actual:?}, expected {value:?}",
        server.describe()
    )))
}

/// `CONFIG GET` of the directive on the default server answers exactly this value.
#[then(expr = "the config {string} is {string}")]
async fn config(w: &mut ValkeyWorld, key: String, value: String) -> Result<()> {
    let (key, value) = (w.expand(&key).await?, w.expand(&value).await?);
    config_is(w, DEFAULT_SERVER, &key, &value).await
}

/// `CONFIG GET` of the directive on that server answers exactly this value.
#[then(expr = "the config {string} of {server} is {string}")]
async fn config_of(
    w: &mut ValkeyWorld,
    key: String,
    server: ServerRef,
    value: String,
) -> Result<()> {
    let (key, value) = (w.expand(&key).await?, w.expand(&value).await?);
    let server = w.resolve_name(&server).await?;
    config_is(w, &server, &key, &value).await
}

async fn info_is(w: &ValkeyWorld, server: &str, field: &str, value: &str) -> Result<()> {
    let server = w.server(Some(server))?;
    let info = crate::info::Info::fetch(server, "everything").await?;
    match info.get(field) {
        Some(actual) if actual == value => Ok(()),
        Some(actual) => Err(Error::Expectation(format!(
            "the INFO field {field:?} of {} is {actual:?}, expected {value:?}",
            server.describe()
        ))),
        None => Err(Error::Expectation(format!(
            "{} has no INFO field {field:?}; fields include: {}",
            server.describe(),
            info.fields().take(12).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The `INFO` field (from any section) of the default server has exactly this value.
#[then(expr = "the INFO field {string} is {string}")]
async fn info_field(w: &mut ValkeyWorld, field: String, value: String) -> Result<()> {
    let (field, value) = (w.expand(&field).await?, w.expand(&value).await?);
    info_is(w, DEFAULT_SERVER, &field, &value).await
}

/// The `INFO` field (from any section) of that server has exactly this value.
#[then(expr = "the INFO field {string} of {server} is {string}")]
async fn info_field_of(
    w: &mut ValkeyWorld,
    field: String,
    server: ServerRef,
    value: String,
) -> Result<()> {
    let (field, value) = (w.expand(&field).await?, w.expand(&value).await?);
    let server = w.resolve_name(&server).await?;
    info_is(w, &server, &field, &value).await
}

/// Waits until an `INFO` field of the default server has this value (a
/// background rewrite or save finishing: `aof_rewrite_in_progress` → `0`).
#[given(expr = "the INFO field {string} becomes {string}")]
#[when(expr = "the INFO field {string} becomes {string}")]
#[then(expr = "the INFO field {string} becomes {string}")]
async fn info_becomes(w: &mut ValkeyWorld, field: String, value: String) -> Result<()> {
    let (field, value) = (w.expand(&field).await?, w.expand(&value).await?);
    let subject = crate::world::Subject::Info {
        server: DEFAULT_SERVER.to_string(),
        field,
    };
    w.check_until(&subject, &crate::compare::Expected::Text(value))
        .await
}
