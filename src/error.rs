//! The one error type of the engine.
//!
//! Every message stands alone: what was attempted, where (server name, port),
//! what was last observed, a hint, and the server's log tail when a server is
//! involved. Steps return these errors as they are, so the text below is what a
//! user reads when a scenario fails.

use std::path::PathBuf;
use std::time::Duration;

/// Shorthand for results of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One place searched for a server binary, and why it was not used.
#[derive(Debug, Clone)]
pub struct Searched {
    /// Which rule of the search this was (`VALKEY_SERVER_PATH`, `PATH`, ...).
    pub rule: String,
    /// The path looked at.
    pub path: PathBuf,
    /// Why it did not qualify ("does not exist", "not executable", ...).
    pub why: String,
}

/// What the harness knows of a server when something went wrong with it.
#[derive(Debug, Clone)]
pub struct ServerReport {
    /// The server's name in the scenario.
    pub name: String,
    /// Its port.
    pub port: u16,
    /// How its process ended ("exited with status 1"), or "running".
    pub status: String,
    /// Its log file.
    pub log: PathBuf,
    /// The last lines of the log, indented.
    pub tail: String,
}

/// Everything that can go wrong while driving servers and clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No usable `valkey-server` was found.
    #[error(
        "no valkey-server binary found\n  looked at:\n{}\n  hint: install one (`bash .ci/install-server` on Debian/Ubuntu), \
         or point VALKEY_SERVER_PATH at a valkey-server (or redis-server) binary",
        searched_list(.searched)
    )]
    BinaryNotFound {
        /// Every place looked at, in order.
        searched: Vec<Searched>,
    },

    /// A binary was named explicitly but cannot be used.
    #[error("the server binary {path} cannot be used: {why}\n  hint: {hint}")]
    BinaryUnusable {
        /// The binary that was asked for.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
        /// What to do about it.
        hint: String,
    },

    /// Every port of the block was busy or locked by another process.
    #[error(
        "no free port in {first}..{last} (with port+10000 free as well) after trying {tried} ports\n  \
         hint: other valkey-bdd runs or services hold this block; lower the concurrency or set VALKEY_BDD_PORT_BASE"
    )]
    NoFreePort {
        /// First port of the block.
        first: u16,
        /// One past the last port of the block.
        last: u16,
        /// How many ports were tried.
        tried: usize,
    },

    /// The port block cannot be placed below the kernel's ephemeral range.
    #[error(
        "cannot place a port block: {reason}\n  hint: set VALKEY_BDD_PORT_BASE to a free block (each port p needs p+10000 free too)"
    )]
    PortBlock {
        /// What is wrong.
        reason: String,
    },

    /// The server process exited before it became ready.
    #[error(
        "server \"{}\" (port {}) failed to start: the process {}\n  binary: {}\n  log {}, last lines:\n{}\n  hint: {hint}",
        .report.name, .report.port, .report.status, .binary.display(), .report.log.display(), .report.tail
    )]
    StartFailed {
        /// The server, its log and how it ended.
        report: Box<ServerReport>,
        /// The binary that was run.
        binary: PathBuf,
        /// What to look at.
        hint: String,
    },

    /// The server did not become ready before the deadline.
    #[error(
        "server \"{}\" (port {}) was not ready after {waited:?}: last seen: {last}\n  log {}, last lines:\n{}\n  \
         hint: a slow machine or a large dataset to load; raise VALKEY_BDD_START_TIMEOUT (seconds)",
        .report.name, .report.port, .report.log.display(), .report.tail
    )]
    NotReady {
        /// The server and its log.
        report: Box<ServerReport>,
        /// How long we waited.
        waited: Duration,
        /// The last thing observed (connection refused, LOADING, ...).
        last: String,
    },

    /// The server died while the scenario still needed it.
    #[error(
        "server \"{}\" (port {}) is not running: the process {}\n  while: {during}\n  log {}, last lines:\n{}{}",
        .report.name, .report.port, .report.status, .report.log.display(), .report.tail,
        bug_report_section(.bug_report)
    )]
    Died {
        /// The server, its log and how it ended.
        report: Box<ServerReport>,
        /// What the harness was doing when it noticed.
        during: String,
        /// The `BUG REPORT` section of the log, when the server wrote one.
        bug_report: Option<String>,
    },

    /// A server could not be stopped, even with SIGKILL.
    #[error(
        "server \"{name}\" (pid {pid}) did not exit after SIGKILL within {waited:?}\n  hint: the process may be stuck in the kernel (D state); check `ps -o stat,pid,cmd {pid}`"
    )]
    StopFailed {
        /// The server's name.
        name: String,
        /// Its process id.
        pid: u32,
        /// How long we waited in total.
        waited: Duration,
    },

    /// Building a server from source failed.
    #[error("building valkey {version} failed: {what}\n{tail}\n  hint: {hint}")]
    Build {
        /// The version being built.
        version: String,
        /// Which step failed, and how.
        what: String,
        /// The last lines of the build log, indented.
        tail: String,
        /// What to do.
        hint: String,
    },

    /// A wait reached its deadline.
    #[error("timed out after {waited:?} waiting for {what}\n  last seen: {last}\n  hint: {hint}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        waited: Duration,
        /// The last state observed.
        last: String,
        /// What to check, or how to wait longer.
        hint: String,
    },

    /// An operation on the file system or on a process failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done ("creating the directory /tmp/...").
        action: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// A connection to a server could not be made or broke.
    #[error("{target}: {action} failed: {detail}\n  hint: {hint}")]
    Connection {
        /// Who we talked to (`server "default" at 127.0.0.1:16001`).
        target: String,
        /// What was being done (`connecting`, `` running `GET k` ``).
        action: String,
        /// What the client library said.
        detail: String,
        /// What to check.
        hint: String,
    },

    /// A command got no reply before its deadline.
    #[error(
        "{target}: `{command}` got no reply within {timeout:?}\n  hint: the server may be blocked (DEBUG SLEEP, a busy script, SIGSTOP) or the command blocks by design; raise VALKEY_BDD_COMMAND_TIMEOUT (seconds)"
    )]
    CommandTimeout {
        /// Who we talked to.
        target: String,
        /// The command line.
        command: String,
        /// The deadline.
        timeout: Duration,
    },

    /// A command line typed as in `valkey-cli` could not be split into arguments.
    #[error("cannot read the command `{line}`: {reason}\n  hint: {hint}")]
    CommandSyntax {
        /// The line as written.
        line: String,
        /// What is wrong with it.
        reason: String,
        /// How to write it instead (the quoting rules, by example).
        hint: String,
    },

    /// A configuration value given by the user is not acceptable.
    #[error("bad configuration: {what}\n  hint: {hint}")]
    Config {
        /// What is wrong.
        what: String,
        /// How to fix it.
        hint: String,
    },

    /// A feature file cannot be parsed.
    #[error("feature files cannot be parsed:\n{what}\n  hint: {hint}")]
    Parse {
        /// Each file with its line, column, the reason and the line as written.
        what: String,
        /// How to fix it.
        hint: String,
    },

    /// A scenario refers to a server, client or value that does not exist.
    #[error("{what}\n  hint: {hint}")]
    Unknown {
        /// What was not found.
        what: String,
        /// What exists, or how to create it.
        hint: String,
    },

    /// The run selected no scenario: it would check nothing
    /// ([`crate::settings::NoTests`]).
    #[error("no tests to run: {what}\n  hint: {hint}")]
    NoTests {
        /// What was read and what selected none of it.
        what: String,
        /// How to select something, or accept an empty run.
        hint: String,
    },

    /// An expectation of a step was not met.
    #[error("{0}")]
    Expectation(String),
}

impl Error {
    /// The exit status of a run that ends with this error: 4 for
    /// [`Error::NoTests`] (nextest's "no tests to run"), else 2 (the run
    /// could not start).
    pub fn exit_status(&self) -> i32 {
        match self {
            Error::NoTests { .. } => 4,
            _ => 2,
        }
    }

    /// Wraps an I/O error with the action that caused it.
    pub fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            action: action.into(),
            source,
        }
    }
}

fn searched_list(searched: &[Searched]) -> String {
    searched
        .iter()
        .map(|s| format!("    - {}: {} ({})", s.rule, s.path.display(), s.why))
        .collect::<Vec<_>>()
        .join("\n")
}

fn bug_report_section(report: &Option<String>) -> String {
    match report {
        Some(r) => format!("\n  bug report:\n{}", indent(r)),
        None => String::new(),
    }
}

/// Indents every line of `text` by four spaces, for nesting in messages.
pub(crate) fn indent(text: &str) -> String {
    if text.trim().is_empty() {
        return "    (empty)".to_string();
    }
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
