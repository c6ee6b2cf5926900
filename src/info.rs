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

    /// Runs `CLUSTER INFO` on the server and reads its fields
    /// (`cluster_state`, `cluster_stats_messages_module_received`, ...).
    pub async fn fetch_cluster(server: &Server) -> Result<Info> {
        match server.command("CLUSTER INFO").await? {
            r @ (Reply::Bulk(_) | Reply::Verbatim(_)) => {
                Ok(Info::parse(&r.text().unwrap_or_default()))
            }
            other => Err(Error::Expectation(format!(
                "CLUSTER INFO on {} answered {other}",
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

    /// The `cmdstat_<command>` line of `INFO commandstats` for a command,
    /// whatever the case it is written in: the server names native commands
    /// in lower case (`cmdstat_set`) and a module's commands as the module
    /// declared them (`cmdstat_BF.ADD`), while commands themselves are
    /// case-insensitive. `None` when the server has no such line — a command
    /// it does not know, or one it has never run, which is not "0 calls".
    pub fn command_stat(&self, command: &str) -> Option<CommandStat> {
        let wanted = format!("cmdstat_{command}");
        let (field, value) = self
            .fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&wanted))?;
        Some(CommandStat {
            field: field.clone(),
            line: value.clone(),
            calls: value
                .split(',')
                .find_map(|p| p.strip_prefix("calls="))
                .and_then(|c| c.parse::<u64>().ok()),
        })
    }
}

/// One `cmdstat_...` line of `INFO commandstats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandStat {
    /// The field, as the server spells it (`cmdstat_TALLY.INCRBY`).
    pub field: String,
    /// Its value (`calls=2,usec=5,...`).
    pub line: String,
    /// Its `calls=`; `None` when the line has no readable count.
    pub calls: Option<u64>,
}

/// How many times a server has run a command, as [`executed`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executed {
    /// `INFO commandstats` counts these calls.
    Calls(u64, CommandStat),
    /// The server knows the command (`COMMAND INFO`) but has no
    /// commandstats line for it: it has never run it since its start (or
    /// the last `CONFIG RESETSTAT`).
    Never,
    /// The server has no such command.
    Unknown,
}

/// How many times `server` has run `command`: its `INFO commandstats`
/// line, found whatever the case (see [`Info::command_stat`]); without one,
/// `COMMAND INFO` tells a command never run from a command the server does
/// not have.
pub async fn executed(server: &Server, command: &str) -> Result<Executed> {
    let info = Info::fetch(server, "commandstats").await?;
    if let Some(stat) = info.command_stat(command) {
        return match stat.calls {
            Some(n) => Ok(Executed::Calls(n, stat)),
            None => Err(Error::Expectation(format!(
                "{} shows no call count for {command:?} in INFO commandstats: {}:{}",
                server.describe(),
                stat.field,
                stat.line
            ))),
        };
    }
    let reply = server
        .command(&format!(
            "COMMAND INFO {}",
            crate::command::join(&[command.as_bytes().to_vec()])
        ))
        .await?;
    match &reply {
        Reply::Array(items) if items.len() == 1 && items[0] == Reply::Nil => Ok(Executed::Unknown),
        Reply::Array(items) if items.len() == 1 => Ok(Executed::Never),
        other => Err(Error::Expectation(format!(
            "COMMAND INFO {command} on {} answered:\n{}",
            server.describe(),
            crate::error::indent(&other.to_string())
        ))),
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

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = "# Commandstats\r\n\
        cmdstat_set:calls=3,usec=9,usec_per_call=3.00,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_TALLY.INCRBY:calls=1,usec=4,usec_per_call=4.00,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_config|get:calls=2,usec=1,usec_per_call=0.50,rejected_calls=0,failed_calls=0\r\n";

    #[test]
    fn a_command_is_found_whatever_its_case() {
        let info = Info::parse(STATS);
        let stat = info.command_stat("tally.incrby").expect("found");
        assert_eq!(stat.field, "cmdstat_TALLY.INCRBY");
        assert_eq!(stat.calls, Some(1));
        assert_eq!(info.command_stat("TALLY.INCRBY").unwrap().calls, Some(1));
        assert_eq!(info.command_stat("SET").unwrap().calls, Some(3));
        assert_eq!(info.command_stat("CONFIG|GET").unwrap().calls, Some(2));
    }

    #[test]
    fn a_command_without_a_line_is_absent_not_zero() {
        let info = Info::parse(STATS);
        assert_eq!(info.command_stat("get"), None);
        assert_eq!(info.command_stat("tally"), None, "no prefix match");
    }

    #[test]
    fn a_line_without_calls_has_no_count() {
        let info = Info::parse("cmdstat_get:usec=1\r\n");
        assert_eq!(info.command_stat("get").unwrap().calls, None);
    }
}
