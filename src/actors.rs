//! Clients as actors: a command left running in the background, and
//! checkpoints that wait for what the server says about a client — blocked,
//! inside a transaction — instead of sleeping.
//!
//! ```no_run
//! # async fn demo(server: &valkey_bdd::Server) -> valkey_bdd::Result<()> {
//! use std::time::Duration;
//! use valkey_bdd::actors::{Actor, Flag};
//! let mut alice = Actor::connect("alice", server).await?;
//! alice.start("BLPOP queue 0").await?;                     // alice blocks ...
//! alice.wait_for(server, Flag::Blocked, Duration::from_secs(5)).await?;
//! server.command("RPUSH queue job").await?;                // ... then bob writes ...
//! let reply = alice.finish(Duration::from_secs(5)).await?; // ... and alice wakes.
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::client::Client;
use crate::client_state::{ClientLine, ClientState};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

/// How long a background command may take at most: it is bounded by the
/// step that waits for it, and aborted when its client goes.
const BACKGROUND_LIMIT: Duration = Duration::from_secs(3600);

/// What `CLIENT LIST` says of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// `b`: blocked (a blocking command, `WAIT`, `CLIENT PAUSE`).
    Blocked,
    /// `x`: inside `MULTI`.
    InTransaction,
}

impl Flag {
    fn letter(self) -> char {
        match self {
            Flag::Blocked => 'b',
            Flag::InTransaction => 'x',
        }
    }
}

/// A command running in the background.
struct Background {
    line: String,
    started: Instant,
    task: tokio::task::JoinHandle<Result<Reply>>,
}

/// A connection, named on the server, with its server-side id.
#[derive(Clone)]
struct Open {
    client: Client,
    /// `CLIENT ID`; `None` when the server would not tell (`NOAUTH`).
    id: Option<i64>,
}

/// Where an actor's connection stands.
enum Link {
    /// Not connected yet: the first command connects the ordinary way (a
    /// command in the background connects in the background).
    Idle(Arc<Server>),
    /// Being connected by the background task, which hands the connection
    /// over here once made; a closed channel means it could not connect.
    Opening {
        handover: oneshot::Receiver<Open>,
        server: Arc<Server>,
    },
    /// Connected.
    Open(Open),
}

/// One named client: its own connection, named after it on the server
/// (`CLIENT LIST` shows `name=alice`, see [`server_side_name`]), at most one
/// command in the background, and its server-side id for checkpoints.
///
/// A client made with [`Actor::new`] connects on first use; when that use is
/// a command in the background, connecting (and naming) happens in the
/// background too, so that the step returns at once whatever the server is
/// doing.
pub struct Actor {
    name: String,
    server: String,
    link: Link,
    background: Option<Background>,
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("name", &self.name)
            .field("server", &self.server)
            .field("id", &self.id())
            .field("background", &self.background.as_ref().map(|b| &b.line))
            .finish()
    }
}

impl Drop for Actor {
    fn drop(&mut self) {
        if let Some(b) = self.background.take() {
            b.task.abort();
        }
    }
}

/// The name a client called `name` has on the server (`CLIENT SETNAME`).
///
/// A client name may only hold visible ASCII characters (`!` to `~`): every
/// other character (a space, a tab, a non-ASCII letter) becomes `_`, and an
/// empty name is `_`. So `client "the reader"` shows as `name=the_reader`.
pub fn server_side_name(name: &str) -> String {
    if name.is_empty() {
        return "_".into();
    }
    name.chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect()
}

/// Names a fresh connection on the server and asks its id. Any reply,
/// NOAUTH included, proves the connection; only a broken one is an error.
/// `limit` bounds each of the two commands.
async fn name_connection(name: &str, client: Client, limit: Option<Duration>) -> Result<Open> {
    let mut asking = client.clone();
    if let Some(limit) = limit {
        asking.set_timeout(limit);
    }
    // An unauthenticated client of a server with a password cannot be
    // named (NOAUTH): it stays unnamed, as it would in a program.
    asking
        .run_args(&["CLIENT", "SETNAME", &server_side_name(name)])
        .await?;
    let id = match asking.run("CLIENT ID").await? {
        Reply::Integer(id) => Some(id),
        _ => None,
    };
    Ok(Open { client, id })
}

/// Connects a client called `name` to `server` the ordinary way (as a
/// program given the server's URL) and names it.
async fn open(name: &str, server: &Server, limit: Option<Duration>) -> Result<Open> {
    let client = server
        .connect(&server.address(), server.client_credentials().as_ref())
        .await?;
    name_connection(name, client, limit).await
}

impl Actor {
    /// A client called `name` of `server` that connects the ordinary way
    /// (as a program given the server's URL, over the server's transport:
    /// [`Server::client_credentials`]) on first use.
    pub fn new(name: impl Into<String>, server: Arc<Server>) -> Actor {
        Actor {
            name: name.into(),
            server: server.name(),
            link: Link::Idle(server),
            background: None,
        }
    }

    /// Connects a client called `name` to `server` the ordinary way, now.
    pub async fn connect(name: impl Into<String>, server: &Server) -> Result<Actor> {
        let client = server
            .connect(&server.address(), server.client_credentials().as_ref())
            .await?;
        Actor::attach(name, server.name(), client).await
    }

    /// Makes an actor of a connected, idle client of the server called
    /// `server`: names it on the server (`CLIENT SETNAME`) and asks its id
    /// (`CLIENT ID`) now, as a blocked or transacting client cannot tell it
    /// any more. Any reply, NOAUTH included, proves the connection; only a
    /// broken one is an error.
    pub async fn attach(
        name: impl Into<String>,
        server: impl Into<String>,
        client: Client,
    ) -> Result<Actor> {
        let name = name.into();
        let open = name_connection(&name, client, None).await?;
        Ok(Actor {
            name,
            server: server.into(),
            link: Link::Open(open),
            background: None,
        })
    }

    /// Its name in the scenario.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its name on the server, as `CLIENT LIST` shows it.
    pub fn server_side_name(&self) -> String {
        server_side_name(&self.name)
    }

    /// Its id on the server (`CLIENT ID`), once connected; `None` before, or
    /// when the server would not tell (an unauthenticated client of a server
    /// with a password). [`Actor::learn_id`] waits for it.
    pub fn id(&self) -> Option<i64> {
        match &self.link {
            Link::Open(o) => o.id,
            _ => None,
        }
    }

    /// The name of the server it is connected to.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The line of the command running in the background, if any.
    pub fn pending(&self) -> Option<&str> {
        self.background.as_ref().map(|b| b.line.as_str())
    }

    /// Whether the background command has answered (or failed). A command
    /// whose client is still connecting has not.
    pub fn is_done(&self) -> bool {
        self.background
            .as_ref()
            .is_none_or(|b| b.task.is_finished())
    }

    /// Runs a command and waits for its reply (connecting first if need
    /// be). Refused while a background command is still running: the reply
    /// would queue behind it.
    pub async fn run(&mut self, line: &str) -> Result<Reply> {
        self.check_idle(line)?;
        let open = self.open_link(None).await?;
        open.client.run(line).await
    }

    /// Starts a command in the background and returns at once;
    /// [`Actor::finish`] collects its reply. A client not connected yet
    /// connects in the background task, before the command.
    pub async fn start(&mut self, line: &str) -> Result<()> {
        self.check_idle(line)?;
        self.settle();
        let owned = line.to_string();
        let task = match &self.link {
            Link::Open(o) => {
                let mut client = o.client.clone();
                client.set_timeout(BACKGROUND_LIMIT);
                tokio::spawn(async move { client.run(&owned).await })
            }
            Link::Idle(server) | Link::Opening { server, .. } => {
                let server = server.clone();
                let (tx, rx) = oneshot::channel();
                let name = self.name.clone();
                let dialled = server.clone();
                let task = tokio::spawn(async move {
                    let open = open(&name, &dialled, Some(BACKGROUND_LIMIT)).await?;
                    let mut client = open.client.clone();
                    // The actor may be gone; the command still runs.
                    let _ = tx.send(open);
                    client.set_timeout(BACKGROUND_LIMIT);
                    client.run(&owned).await
                });
                self.link = Link::Opening {
                    handover: rx,
                    server,
                };
                task
            }
        };
        self.background = Some(Background {
            line: line.to_string(),
            started: Instant::now(),
            task,
        });
        Ok(())
    }

    /// Waits at most `timeout` for the background command's reply.
    pub async fn finish(&mut self, timeout: Duration) -> Result<Reply> {
        let Some(mut b) = self.background.take() else {
            return Err(Error::Unknown {
                what: format!(
                    "client \"{}\" has no command running in the background",
                    self.name
                ),
                hint: format!(
                    "start one first: When client \"{}\" runs `BLPOP q 0` in the background",
                    self.name
                ),
            });
        };
        let waited = tokio::time::timeout(timeout, &mut b.task).await;
        // A connection made in the background is taken over (its id known).
        self.settle();
        match waited {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(Error::Expectation(format!(
                "the background command `{}` of client \"{}\" did not finish: {join}",
                b.line, self.name
            ))),
            Err(_) => {
                let line = b.line.clone();
                let waited = b.started.elapsed();
                let connected = matches!(self.link, Link::Open(_));
                self.background = Some(b);
                Err(Error::Timeout {
                    what: format!("client \"{}\" to get the reply of `{line}`", self.name),
                    waited,
                    last: if connected {
                        "no reply yet".into()
                    } else {
                        "not even connected yet: the server has not answered the connection".into()
                    },
                    hint: "is the client still blocked? a checkpoint such as `client \"…\" is blocked` \
                           shows what it waits for; VALKEY_BDD_WAIT_TIMEOUT sets the deadline"
                        .into(),
                })
            }
        }
    }

    /// Its id on the server, connecting first if need be; waits at most
    /// `timeout` for a connection being made in the background.
    pub async fn learn_id(&mut self, timeout: Duration) -> Result<i64> {
        if let Some(id) = self.id() {
            return Ok(id);
        }
        self.open_link(Some(timeout)).await?;
        if let Some(id) = self.id() {
            return Ok(id);
        }
        self.check_idle("CLIENT ID")?;
        let Link::Open(open) = &mut self.link else {
            unreachable!("open_link leaves the link open");
        };
        let Reply::Integer(id) = open.client.run("CLIENT ID").await? else {
            return Err(Error::Expectation(format!(
                "client \"{}\" could not learn its id (CLIENT ID): is it authenticated?",
                self.name
            )));
        };
        open.id = Some(id);
        Ok(id)
    }

    /// Waits until `CLIENT LIST` shows this client with `flag`.
    pub async fn wait_for(&mut self, server: &Server, flag: Flag, timeout: Duration) -> Result<()> {
        self.wait_state(server, &ClientState::Flag(flag.letter()), timeout)
            .await
    }

    /// Waits until `CLIENT LIST` shows this client in `state` (a flag, the
    /// keys it watches, a field's value). A field the server does not show
    /// fails at once, as does waiting for `b` once the background command
    /// has answered.
    pub async fn wait_state(
        &mut self,
        server: &Server,
        state: &ClientState,
        timeout: Duration,
    ) -> Result<()> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let started = Instant::now();
        let id = self.learn_id(timeout).await?;
        let mut pause = Duration::from_millis(1);
        loop {
            let line = ClientLine::parse(&match server
                .command(&format!("CLIENT LIST ID {id}"))
                .await?
            {
                Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => other.to_string(),
            });
            let last = if line.is_empty() {
                format!("CLIENT LIST has no client with id {id}: it disconnected")
            } else {
                format!("CLIENT LIST: {}", line.raw())
            };
            let holds = match state.check(&line) {
                Ok(holds) => holds,
                Err(_) if line.is_empty() => false,
                Err(why) => {
                    return Err(Error::Expectation(format!(
                        "client \"{}\" cannot be seen {state}: {why}, on {}\n  {last}",
                        self.name,
                        server.describe()
                    )));
                }
            };
            if holds {
                return Ok(());
            }
            // A command that has answered can block nobody any more: no use
            // waiting out the deadline for it.
            if *state == ClientState::Flag('b')
                && let Some(b) = self.background.as_ref().filter(|b| b.task.is_finished())
            {
                return Err(Error::Expectation(format!(
                    "client \"{name}\" will never be {state}: its background command `{line}` \
                     has already answered, and nothing blocks a client \
                     that waits for nothing\n  {last}\n  hint: a checkpoint needs a command that \
                     blocks (`BLPOP q 0`) before it; to check the reply, say `client \"{name}\" gets its reply`",
                    name = self.name,
                    line = b.line,
                )));
            }
            if started.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what: format!("client \"{}\" to be {state}", self.name),
                    waited: started.elapsed(),
                    last,
                    hint: match &self.background {
                        Some(b) if b.task.is_finished() => format!(
                            "its background command `{}` has already answered",
                            b.line
                        ),
                        Some(b) => format!("it is running `{}` in the background", b.line),
                        None if *state == ClientState::Flag('b') => "it runs nothing in the background: start the command that should block it with `... in the background`".into(),
                        None => "it runs nothing in the background; VALKEY_BDD_WAIT_TIMEOUT sets the deadline".into(),
                    },
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Takes over a connection the background task has made; after a failed
    /// one, the next use connects again.
    fn settle(&mut self) {
        if let Link::Opening { handover, server } = &mut self.link {
            match handover.try_recv() {
                Ok(open) => self.link = Link::Open(open),
                Err(oneshot::error::TryRecvError::Closed) => self.link = Link::Idle(server.clone()),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
        }
    }

    /// The connection, made now if need be. A connection being made in the
    /// background is waited for at most `timeout` (`None`: until made).
    async fn open_link(&mut self, timeout: Option<Duration>) -> Result<&mut Open> {
        self.settle();
        if let Link::Opening { handover, server } = &mut self.link {
            let handed = match timeout {
                None => handover.await,
                Some(t) => match tokio::time::timeout(t, &mut *handover).await {
                    Ok(handed) => handed,
                    Err(_) => {
                        return Err(Error::Timeout {
                            what: format!("client \"{}\" to connect", self.name),
                            waited: t,
                            last: format!(
                                "{} has not answered its connection yet (CLIENT SETNAME, CLIENT ID)",
                                server.describe()
                            ),
                            hint: "is the server held (DEBUG SLEEP, a busy script, frozen)? \
                                   VALKEY_BDD_WAIT_TIMEOUT sets the deadline"
                                .into(),
                        });
                    }
                },
            };
            self.link = match handed {
                Ok(open) => Link::Open(open),
                Err(_) => Link::Idle(server.clone()),
            };
        }
        if let Link::Idle(server) = &self.link {
            let open = open(&self.name, server, None).await?;
            self.link = Link::Open(open);
        }
        match &mut self.link {
            Link::Open(open) => Ok(open),
            _ => unreachable!("connected above"),
        }
    }

    fn check_idle(&self, line: &str) -> Result<()> {
        match &self.background {
            Some(b) if !b.task.is_finished() => Err(Error::Config {
                what: format!(
                    "client \"{}\" cannot run `{line}`: it is still waiting for `{}`",
                    self.name, b.line
                ),
                hint: format!(
                    "collect that reply first (`client \"{}\" gets its reply`), or use another client",
                    self.name
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// Subscribers moved to [`crate::pubsub`]; the old path still names them.
pub use crate::pubsub::Subscriber;

#[cfg(test)]
mod tests {
    use super::server_side_name;

    #[test]
    fn a_name_the_server_refuses_is_mapped_to_one_it_takes() {
        assert_eq!(server_side_name("alice"), "alice");
        assert_eq!(server_side_name("the reader"), "the_reader");
        assert_eq!(server_side_name("zoë\t2"), "zo__2");
        assert_eq!(server_side_name(""), "_");
        assert_eq!(server_side_name("!~\"'"), "!~\"'");
    }
}
