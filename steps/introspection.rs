//! What a server says about itself: `CONFIG GET` and `INFO`.

use cucumber::then;

use super::name;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::world::ValkeyWorld;

/// `CONFIG GET` of the directive, on the default server or a named one,
/// answers exactly this value.
#[then(regex = r#"^the config "([^"]+)"(?: of server "([^"]+)")? is "(.*)"$"#)]
async fn config_is(w: &mut ValkeyWorld, key: String, server: String, value: String) -> Result<()> {
    let server = w.server(name(&server))?.clone();
    let reply = server.command(&format!("CONFIG GET {key}")).await?;
    let actual = match &reply {
        Reply::Array(items) if items.len() == 2 => items[1].cell(),
        Reply::Map(pairs) if pairs.len() == 1 => pairs[0].1.cell(),
        Reply::Array(items) if items.is_empty() => {
            return Err(Error::Expectation(format!(
                "{} has no configuration directive {key:?}",
                server.describe()
            )));
        }
        other => {
            return Err(Error::Expectation(format!(
                "CONFIG GET {key} on {} answered:\n{}",
                server.describe(),
                crate::error::indent(&other.to_string())
            )));
        }
    };
    if actual == value {
        return Ok(());
    }
    Err(Error::Expectation(format!(
        "the config {key:?} of {} is {actual:?}, expected {value:?}",
        server.describe()
    )))
}

/// The `INFO` field (from any section) of the default server or a named one
/// has exactly this value.
#[then(regex = r#"^the INFO field "([^"]+)"(?: of server "([^"]+)")? is "(.*)"$"#)]
async fn info_field_is(
    w: &mut ValkeyWorld,
    field: String,
    server: String,
    value: String,
) -> Result<()> {
    let server = w.server(name(&server))?.clone();
    let info = crate::info::Info::fetch(&server, "everything").await?;
    match info.get(&field) {
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
