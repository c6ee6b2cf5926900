//! One suite, several server binaries: every scenario is run against each
//! and the results are printed as a table of scenario × server.
//!
//! `VALKEY_BDD_MATRIX="valkey-8.0=/usr/bin/valkey-server,redis-7.0=/usr/bin/redis-server" cargo test --test cucumber`
//! (or `valkey-bdd matrix --servers ...`) runs the columns one after the
//! other and fails when any scenario failed on any server; a scenario a
//! server cannot run (its tags) is skipped there, with the reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::runner::{Outcome, Runner, Verdict};

/// The environment variable listing the columns.
pub const ENV_MATRIX: &str = "VALKEY_BDD_MATRIX";

inventory::submit! {
    crate::settings::Check {
        variable: ENV_MATRIX,
        check: || match std::env::var(ENV_MATRIX) {
            Ok(spec) if !spec.is_empty() => parse_columns(&spec).map(drop),
            _ => Ok(()),
        },
    }
}

/// One server binary of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name in the table.
    pub name: String,
    /// Its path.
    pub path: PathBuf,
}

/// Reads `name=path,name=path`.
pub fn parse_columns(spec: &str) -> Result<Vec<Column>> {
    let columns: Vec<Column> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((name, path)) if !name.trim().is_empty() && !path.trim().is_empty() => Ok(Column {
                name: name.trim().to_string(),
                path: PathBuf::from(path.trim()),
            }),
            _ => Err(Error::Config {
                what: format!("{entry:?} is not a matrix column"),
                hint: "write name=path pairs separated by commas: valkey-8.0=/usr/bin/valkey-server,redis-7.0=/usr/bin/redis-server".into(),
            }),
        })
        .collect::<Result<_>>()?;
    if columns.is_empty() {
        return Err(Error::Config {
            what: "the matrix has no columns".into(),
            hint: "write name=path pairs separated by commas".into(),
        });
    }
    Ok(columns)
}

/// The results of a matrix run.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The columns, in order, with each one's outcome.
    pub columns: Vec<(Column, Outcome)>,
}

/// Runs `base` once per column, with that column's binary.
pub async fn run(base: &Runner, columns: &[Column]) -> Result<Matrix> {
    let mut out = Vec::new();
    for column in columns {
        eprintln!(
            "valkey-bdd: matrix column {} ({})",
            column.name,
            column.path.display()
        );
        let outcome = base
            .clone()
            .server_binary(&column.path, format!("matrix column {}", column.name))
            .run()
            .await?;
        out.push((column.clone(), outcome));
    }
    Ok(Matrix { columns: out })
}

impl Matrix {
    /// Whether a scenario failed on any server.
    pub fn failed(&self) -> bool {
        self.columns.iter().any(|(_, o)| o.failed)
    }

    /// The table: one row per scenario, one column per server, `pass`,
    /// `FAIL` or `skip` with a numbered reason listed below the table.
    pub fn render(&self) -> String {
        let mut rows: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        let mut reasons: Vec<String> = Vec::new();
        let n = self.columns.len();
        for (i, (_, outcome)) in self.columns.iter().enumerate() {
            for r in &outcome.scenarios {
                let row = rows
                    .entry(format!("{}\t{}", r.place, r.scenario))
                    .or_insert_with(|| (r.scenario.clone(), vec!["-".to_string(); n]));
                row.1[i] = match &r.verdict {
                    Verdict::Passed => "pass".into(),
                    Verdict::Failed => "FAIL".into(),
                    Verdict::Skipped(why) => {
                        let k = match reasons.iter().position(|x| x == why) {
                            Some(k) => k,
                            None => {
                                reasons.push(why.clone());
                                reasons.len() - 1
                            }
                        };
                        format!("skip [{}]", k + 1)
                    }
                };
            }
        }
        let mut header = vec!["scenario".to_string()];
        header.extend(self.columns.iter().map(|(c, _)| c.name.clone()));
        let lines: Vec<Vec<String>> = rows
            .iter()
            .map(|(key, (name, cells))| {
                let place = key.split_once('\t').map_or(key.as_str(), |(p, _)| p);
                let mut line = vec![format!("{name} ({place})")];
                line.extend(cells.iter().cloned());
                line
            })
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                std::iter::once(&header)
                    .chain(lines.iter())
                    .map(|l| l[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let row = |cells: &[String], out: &mut String| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "| {} |", padded.join(" | "));
        };
        row(&header, &mut out);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        row(&rule, &mut out);
        for l in &lines {
            row(l, &mut out);
        }
        let totals: Vec<String> = self
            .columns
            .iter()
            .map(|(c, o)| {
                let count =
                    |f: fn(&Verdict) -> bool| o.scenarios.iter().filter(|r| f(&r.verdict)).count();
                format!(
                    "{}: {} passed, {} failed, {} skipped",
                    c.name,
                    count(|v| *v == Verdict::Passed),
                    count(|v| *v == Verdict::Failed),
                    count(|v| matches!(v, Verdict::Skipped(_)))
                )
            })
            .collect();
        let _ = writeln!(out, "\n{}", totals.join("\n"));
        for (k, why) in reasons.iter().enumerate() {
            let _ = writeln!(out, "[{}] {why}", k + 1);
        }
        out
    }
}
