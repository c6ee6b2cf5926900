//! `INFO` as fields.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

/// The fields of one `INFO` reply.
#[derive(Debug, Clone, Default)]
pub struct Info {
    fields: BTreeMap<String, String>,
}

impl Info {
    /// Runs `INFO <section>` on the server and reads its fields.
    pub async fn fetch(server: &Server, section: &str) -> Result<Info> {
        match server.command(&format!("INFO {section}")).await? {
            r @ (Reply::Bulk(_) | Reply::Verbatim(_)) => {
                Ok(Info::parse(&r.text().unwrap_or_default()))
            }
            other => Err(Error::Expectation(format!(
                "INFO {section} on {} answered {other}",
                server.describe()
            ))),
        }
    }

    /// Reads `field:value` lines; section headers and blank lines are skipped.
    pub fn parse(text: &str) -> Info {
        let fields = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Info { fields }
    }

    /// One field's value.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// The names of all fields, sorted.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }
}

/// `CONFIG GET key` on the server: the value, or an error naming the server
/// when it has no such directive.
pub async fn config_get(server: &Server, key: &str) -> Result<String> {
    let reply = server
        .command(&format!(
            "CONFIG GET {}",
            crate::command::join(&[key.as_bytes().to_vec()])
        ))
        .await?;
    match &reply {
        Reply::Array(items) if items.len() == 2 => Ok(items[1].cell()),
        Reply::Map(pairs) if pairs.len() == 1 => Ok(pairs[0].1.cell()),
        Reply::Array(items) if items.is_empty() => Err(Error::Expectation(format!(
            "{} has no configuration directive {key:?}",
            server.describe()
        ))),
        other => Err(Error::Expectation(format!(
            "CONFIG GET {key} on {} answered:\n{}",
            server.describe(),
            crate::error::indent(&other.to_string())
        ))),
    }
}
