//! The Gherkin vocabulary of valkey-bdd, one file per capability.
//!
//! Each step is a thin sentence over one engine call plus an assertion; the
//! logic lives in the engine (`src/`). `STEPS.md` is generated from these
//! files: the doc comment of a step is its glossary entry.

use std::str::FromStr;

use cucumber::Parameter;
use cucumber::gherkin::Step;

use crate::error::{Error, Result};

pub mod command;
pub mod introspection;
pub mod replication;
pub mod reply;
pub mod server;

/// An optional name captured by a sentence: empty means "the default one".
fn name(captured: &str) -> Option<&str> {
    (!captured.is_empty()).then_some(captured)
}

/// `{server}` in a sentence: `the server` (the default one), `server "cache"`,
/// `the primary`, `replica 2`, or `the replica` (the only one).
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(
    name = "server",
    regex = r#"the server|server "[^"]+"|the primary|the replica|replica \d+"#
)]
pub struct ServerRef(String);

impl ServerRef {
    /// The name of the server in the scenario.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl FromStr for ServerRef {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let name = match s {
            "the server" => crate::world::DEFAULT_SERVER.to_string(),
            "the primary" => "primary".to_string(),
            "the replica" => "the replica".to_string(),
            quoted if quoted.starts_with("server \"") => quoted
                .trim_start_matches("server \"")
                .trim_end_matches('"')
                .to_string(),
            other => other.to_string(),
        };
        Ok(ServerRef(name))
    }
}

/// `{command}` in a sentence: a command between backticks, written as in
/// `valkey-cli`.
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(name = "command", regex = r"`[^`]+`")]
pub struct CommandLine(String);

impl CommandLine {
    /// The command line without its backticks.
    pub fn line(&self) -> &str {
        &self.0
    }
}

impl FromStr for CommandLine {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(CommandLine(s.trim_matches('`').to_string()))
    }
}

/// Reads a `| directive | value |` table. A header row `| directive | value |`
/// is allowed and skipped.
pub fn config_table(step: &Step) -> Result<Vec<(String, String)>> {
    let table = step.table.as_ref().ok_or_else(|| Error::Config {
        what: format!(
            "the step `{}` needs a table of directives below it",
            step.value
        ),
        hint: "add rows such as | maxmemory | 1kb |".into(),
    })?;
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        if i == 0 && row.len() == 2 && row[0] == "directive" && row[1] == "value" {
            continue;
        }
        if row.len() != 2 {
            return Err(Error::Config {
                what: format!(
                    "row {} of the config table has {} cell(s) ({}), not 2",
                    i + 1,
                    row.len(),
                    row.iter()
                        .map(|c| format!("{c:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                hint: "each row is | directive | value |; a directive with several arguments \
                       keeps them in one cell: | save | 900 1 |"
                    .into(),
            });
        }
        if row[0].trim().is_empty() {
            return Err(Error::Config {
                what: format!("row {} of the config table has no directive name", i + 1),
                hint: "each row is | directive | value |".into(),
            });
        }
        out.push((row[0].trim().to_string(), row[1].trim().to_string()));
    }
    Ok(out)
}

/// The single column of a table, as a list of values.
pub fn list_table(step: &Step) -> Result<Vec<String>> {
    let table = step.table.as_ref().ok_or_else(|| Error::Config {
        what: format!(
            "the step `{}` needs a one-column table below it",
            step.value
        ),
        hint: "one row per element: | a |".into(),
    })?;
    table
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| match row.as_slice() {
            [cell] => Ok(cell.clone()),
            _ => Err(Error::Config {
                what: format!(
                    "row {} of the list table has {} cells, not 1",
                    i + 1,
                    row.len()
                ),
                hint: "one element per row: | a |".into(),
            }),
        })
        .collect()
}

/// The doc string below a step.
fn doc_string(step: &Step) -> Result<&str> {
    step.docstring
        .as_deref()
        .map(|d| d.trim_matches('\n'))
        .ok_or_else(|| Error::Config {
            what: format!(
                "the step `{}` needs a doc string (between \"\"\" lines) below it",
                step.value
            ),
            hint: "put the text between two lines of three double quotes".into(),
        })
}
