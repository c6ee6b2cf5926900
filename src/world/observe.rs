//! What a sentence can look at, remember, compare and wait for: the last
//! reply, the reply of a command, an `INFO` field, a config value, a
//! remembered value — one [`Subject`], looked at by
//! [`ValkeyWorld::observe`], checked against a [`crate::compare::Expected`]
//! at once ([`ValkeyWorld::check`]) or until the deadline
//! ([`ValkeyWorld::check_until`]).

use crate::compare::{Comparison, Expected, Number};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

use super::{DEFAULT_SERVER, ValkeyWorld};

/// A value a sentence names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `the reply`: the last command's.
    LastReply,
    /// `the reply to `LLEN q``: the command, run on a server (`None`: the
    /// default server, or the cluster in a cluster scenario) without
    /// becoming the last reply.
    Reply {
        /// The server, by name.
        server: Option<String>,
        /// The command line, placeholders filled in.
        command: String,
    },
    /// `the INFO field "used_memory" of ...`.
    Info {
        /// The server, by name.
        server: String,
        /// The field, from any section.
        field: String,
    },
    /// `the config "maxmemory" of ...` (`CONFIG GET`).
    Config {
        /// The server, by name.
        server: String,
        /// The directive.
        key: String,
    },
    /// `the CLUSTER INFO field "cluster_state" of ...`.
    ClusterInfo {
        /// The server, by name.
        server: String,
        /// The field of `CLUSTER INFO`.
        field: String,
    },
    /// `the remembered "size"`.
    Remembered(String),
}

/// One look at a [`Subject`].
#[derive(Debug, Clone)]
pub struct Observed {
    /// What was looked at, for messages: `the INFO field "x" of server "primary"`.
    pub what: String,
    /// Its value as text; `None` when it is absent (an `INFO` field the
    /// server does not print, a nil reply).
    pub value: Option<String>,
}

impl ValkeyWorld {
    /// Runs a command on a server (`None`: the default server, or the
    /// cluster when the scenario has one and no default server) without
    /// making it the last reply. The line is run as given: fill in its
    /// placeholders first ([`ValkeyWorld::expand`]).
    pub async fn query(&mut self, server: Option<&str>, line: &str) -> Result<Reply> {
        if server.is_none() && !self.servers.contains_key(DEFAULT_SERVER) && self.cluster.is_some()
        {
            if self.cluster_client.is_none() {
                self.cluster_client = Some(self.cluster()?.client().await?);
            }
            let client = self.cluster_client.as_mut().expect("connected above");
            return client.run(line).await;
        }
        let server = self.server(server)?.clone();
        self.ask(&server, line).await
    }

    /// Runs a command on one server without making it the last reply. In a
    /// cluster scenario it goes over a connection of its own in `READONLY`
    /// mode, so that a replica answers for its shard's keys instead of
    /// redirecting.
    pub async fn ask(&self, server: &Server, line: &str) -> Result<Reply> {
        if self.cluster.is_none() {
            return server.command(line).await;
        }
        let mut client = server.client().await?;
        let result = match client.run("READONLY").await {
            Ok(_) => client.run(line).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(r) => Ok(r),
            Err(e) => Err(server.explain(e, &format!("running `{line}`")).await),
        }
    }

    /// Looks at a subject once.
    pub async fn observe(&mut self, subject: &Subject) -> Result<Observed> {
        let absent_if_nil = |r: &Reply| (!matches!(r, Reply::Nil)).then(|| r.cell());
        Ok(match subject {
            Subject::LastReply => {
                let last = self.last()?;
                Observed {
                    what: format!("the reply to `{}` run by {}", last.command, last.by),
                    value: absent_if_nil(&last.reply),
                }
            }
            Subject::Reply { server, command } => {
                let reply = self.query(server.as_deref(), command).await?;
                let on = match server {
                    Some(s) => format!(" on {}", self.server(Some(s))?.describe()),
                    None => String::new(),
                };
                Observed {
                    what: format!("the reply to `{command}`{on}"),
                    value: absent_if_nil(&reply),
                }
            }
            Subject::Info { server, field } => {
                let server = self.server(Some(server))?;
                let info = crate::info::Info::fetch(server, "everything").await?;
                Observed {
                    what: format!("the INFO field {field:?} of {}", server.describe()),
                    value: info.get(field).map(str::to_string),
                }
            }
            Subject::Config { server, key } => {
                let server = self.server(Some(server))?;
                let value = crate::info::config_get(server, key).await?;
                Observed {
                    what: format!("the config {key:?} of {}", server.describe()),
                    value: Some(value),
                }
            }
            Subject::ClusterInfo { server, field } => {
                let server = self.server(Some(server))?;
                let info = crate::info::Info::fetch_cluster(server).await?;
                Observed {
                    what: format!("the CLUSTER INFO field {field:?} of {}", server.describe()),
                    value: info.get(field).map(str::to_string),
                }
            }
            Subject::Remembered(name) => Observed {
                what: format!("the remembered \"{name}\""),
                value: Some(self.remembered(name)?.to_string()),
            },
        })
    }

    /// A comparison of a sentence with its bounds filled in (placeholders
    /// first, then read as numbers). A bound that is no number is the
    /// sentence's mistake, and says so.
    pub async fn comparison(&mut self, written: &Comparison<String>) -> Result<Expected> {
        let mut filled = std::collections::HashMap::new();
        for b in written.bounds() {
            let value = self.expand(b).await?;
            filled.insert(b.clone(), value);
        }
        let numbers = written.try_map(|b| {
            let value = &filled[b];
            Number::parse(value).ok_or_else(|| Error::Config {
                what: format!(
                    "the comparison \"{written}\" needs numbers, and {} is not one",
                    if value == b {
                        format!("{b:?}")
                    } else {
                        format!("{b} ({value:?})")
                    }
                ),
                hint: "compare with an integer or a decimal number: at least 5, less than 0.5"
                    .into(),
            })
        })?;
        Ok(Expected::Number(numbers))
    }

    /// Checks a subject now: fails with what it is and what was expected.
    pub async fn check(&mut self, subject: &Subject, expected: &Expected) -> Result<()> {
        let seen = self.observe(subject).await?;
        expected
            .check(seen.value.as_deref())
            .map_err(|why| self.expectation(&seen, why, expected))
    }

    fn expectation(&mut self, seen: &Observed, why: String, expected: &Expected) -> Error {
        // `masterauth` holds the run's password: never print it.
        let why = self.shown(&crate::acl::redact(&why));
        Error::Expectation(format!("{} {why}, expected {expected}", seen.what))
    }

    /// Waits until a subject is as expected (`... becomes ...`), looking
    /// again and again up to the run's wait deadline; the failure shows the
    /// last value seen.
    pub async fn check_until(&mut self, subject: &Subject, expected: &Expected) -> Result<()> {
        let mut deadline = crate::wait::Deadline::start(crate::settings::wait_timeout()?);
        loop {
            let seen = self.observe(subject).await?;
            let why = match expected.check(seen.value.as_deref()) {
                Ok(()) => return Ok(()),
                Err(why) => why,
            };
            let last = crate::acl::redact(why.strip_prefix("is ").unwrap_or(&why)).into_owned();
            deadline
                .pause(
                    &format!("{} to become {expected}", seen.what),
                    &last,
                    &wait_hint(subject, &seen),
                )
                .await?;
        }
    }
}

/// What to check when a subject never became what was expected: it depends
/// on what was looked at, and on whether it was there at all.
fn wait_hint(subject: &Subject, seen: &Observed) -> String {
    let absent = seen.value.is_none();
    match subject {
        Subject::LastReply => "the last reply does not change by waiting: \
             `the reply to `…` becomes …` runs the command again at each look"
            .into(),
        Subject::Remembered(name) => format!(
            "a remembered value does not change by waiting: \
             remember \"{name}\" again, or wait on what it was taken from"
        ),
        Subject::Reply { command, .. } if absent => format!(
            "`{command}` answered nil at every look: does anything in the scenario create what it reads?"
        ),
        Subject::Reply { command, .. } => format!(
            "`{command}` ran again at each look: does anything in the scenario still change what it answers?"
        ),
        Subject::Info { field, .. } if absent => format!(
            "INFO never showed a field {field:?}: is it spelled as INFO prints it, \
             and does this server version have it?"
        ),
        Subject::ClusterInfo { field, .. } if absent => format!(
            "CLUSTER INFO never showed a field {field:?}: is it spelled as CLUSTER INFO prints it?"
        ),
        Subject::Info { .. } | Subject::ClusterInfo { .. } | Subject::Config { .. } => {
            "the value was read again at each look: does anything in the scenario still change it, \
             and is the expected value written as the server prints it?"
                .into()
        }
    }
}
