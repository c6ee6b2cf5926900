//! Talking to a server: its addresses, the credentials clients use, the
//! harness's own connections and commands, and explaining a failure by
//! the server's state.

use super::lifecycle::status_of;
use super::spec::Transport;
use super::{Place, REFUSAL_LOG_WAIT, Server, Status, first_line, run_credentials};
use crate::client::{Address, Client, Credentials};
use crate::error::{Error, Result};
use crate::logfile;
use crate::reply::Reply;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl Server {
    /// Who a program given the server's URL authenticates as: the default
    /// user with the run's password while the server is guarded by it;
    /// `None` when the scenario guards it its own way (`requirepass`, ACL
    /// users), has disabled the default user, or has certificates log
    /// clients in (`tls-auth-clients-user`). Named clients connect with
    /// these.
    pub fn client_credentials(&self) -> Option<Credentials> {
        if self.is_external() {
            return self.admin_credentials();
        }
        (self.guarded.load(Ordering::SeqCst) && !self.certificate_logins).then(run_credentials)
    }

    /// Records whether the default user still has the run's password (a
    /// scenario that disables it takes it away from programs).
    pub fn set_guarded(&self, guarded: bool) {
        self.guarded.store(guarded, Ordering::SeqCst);
    }

    /// Where its unix socket is (or would be): `valkey.sock` in its directory.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join("valkey.sock")
    }

    /// How a client reaches it the ordinary way: over its transport,
    /// presenting the default client certificate when it speaks TLS.
    pub fn address(&self) -> Address {
        self.address_as(crate::tls::Identity::default())
    }

    /// How a client presenting `identity` reaches it (the identity matters
    /// only when it speaks TLS).
    pub fn address_as(&self, identity: crate::tls::Identity) -> Address {
        if let Place::External { address, .. } = &self.place {
            return address.clone();
        }
        match &self.transport {
            Transport::Tcp => self.plaintext_address(),
            Transport::Tls(_) => Address::Tls {
                host: self.host().to_string(),
                port: self.port(),
                identity,
                verify: true,
            },
            Transport::Unix { .. } => Address::Unix(self.socket_path()),
        }
    }

    /// Plain TCP to its port, whatever it speaks there.
    pub fn plaintext_address(&self) -> Address {
        Address::Tcp {
            host: self.host().to_string(),
            port: self.port(),
        }
    }

    /// The harness's own way in: the ordinary address, except that a server
    /// serving an expired certificate (on purpose) is not checked.
    fn admin_address(&self) -> Address {
        match self.address() {
            Address::Tls {
                host,
                port,
                identity,
                ..
            } => Address::Tls {
                host,
                port,
                identity,
                verify: !self.tls().is_some_and(|t| t.expired_certificate),
            },
            other => other,
        }
    }

    /// Who the harness's own connections authenticate as, if anyone.
    pub fn admin_credentials(&self) -> Option<Credentials> {
        self.admin.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes who the harness's own connections authenticate as: after a
    /// scenario changed the password or disabled the default user.
    pub fn set_admin_credentials(&self, credentials: Option<Credentials>) {
        *self.admin.write().unwrap_or_else(|p| p.into_inner()) = credentials;
        self.forget_connection();
    }

    /// Opens a new client connection of the harness's own: over the server's
    /// transport, authenticated when the harness knows credentials.
    pub async fn client(&self) -> Result<Client> {
        match self.admin_client().await {
            Ok(c) => Ok(c),
            Err(e) => Err(self.explain(e, "connecting a client").await),
        }
    }

    /// Opens a connection to `address` as a user would: authenticated only
    /// with `auth`. A refused connection is an error that says why.
    ///
    /// A refused TLS client often sees no more than a broken pipe, or, on a
    /// loaded machine, no reply at all: the server's alert races with the
    /// client's first command. So the server's own account of a refusal (its
    /// `Error accepting a client connection` line) settles the attempt: it
    /// ends the wait for the first reply as soon as it is logged, and when
    /// the client saw an error first — connection error, I/O error or
    /// timeout — it is waited for up to [`REFUSAL_LOG_WAIT`]. Either way the
    /// error is then an [`Error::Connection`] whose detail quotes it.
    pub async fn connect(&self, address: &Address, auth: Option<&Credentials>) -> Result<Client> {
        self.connect_within(address, auth, crate::settings::command_timeout()?)
            .await
    }

    /// [`Server::connect`], with the deadline of the first command (the
    /// `PING` that settles a TLS client certificate) given: a zero deadline
    /// does not wait for its reply at all, so that a refusal is known by the
    /// server's log line alone.
    pub async fn connect_within(
        &self,
        address: &Address,
        auth: Option<&Credentials>,
        first_reply: Duration,
    ) -> Result<Client> {
        let offset = logfile::size(&self.log);
        // `Ok(Err(line))`: the server logged a refusal before any reply.
        let attempt = async {
            let c = self.open_client(address, auth).await?;
            if self.tls().is_some() {
                // TLS 1.3 settles a client certificate after the handshake,
                // and a plaintext client learns nothing at connect: a
                // refusal shows at the first command, or only in the log.
                let mut first = c.clone();
                first.set_timeout(first_reply);
                // Biased: when the reply (or its failure) and the log line
                // are both there, the client's own evidence comes first and
                // the line is quoted beside it.
                tokio::select! {
                    biased;
                    reply = first.run("PING") => { reply?; }
                    line = self.refusal_logged_after(offset) => return Ok(Err(line)),
                }
            }
            Ok(Ok(c))
        };
        let e = match attempt.await {
            Ok(Ok(mut c)) => {
                self.select_external_database(&mut c).await?;
                return Ok(c);
            }
            Ok(Err(line)) => return Err(self.refused(None, line)),
            Err(e) => self.explain(e, "connecting a client").await,
        };
        let logged = match (self.tls(), &e) {
            (
                Some(_),
                Error::Connection { .. } | Error::CommandTimeout { .. } | Error::Io { .. },
            ) => tokio::time::timeout(REFUSAL_LOG_WAIT, self.refusal_logged_after(offset))
                .await
                .ok(),
            _ => None,
        };
        match logged {
            Some(line) => Err(self.refused(Some(e), line)),
            None => Err(e),
        }
    }

    /// The error of a connection the server refused, quoting its log `line`;
    /// `seen` is what the client saw, if it saw anything before the line.
    fn refused(&self, seen: Option<Error>, line: String) -> Error {
        match seen {
            Some(Error::Connection {
                target,
                action,
                detail,
                hint,
            }) => Error::Connection {
                target,
                action,
                detail: format!("{detail}\n  the server logged: {line}"),
                hint,
            },
            seen => Error::Connection {
                target: self.describe(),
                action: "connecting".into(),
                detail: format!(
                    "{}\n  the server logged: {line}",
                    seen.map_or("no reply to the first command yet".to_string(), |e| {
                        first_line(&e.to_string())
                    })
                ),
                hint: "the server refused the connection (its log line above): does it require a client certificate (tls-auth-clients) of an authority it trusts?".into(),
            },
        }
    }

    /// The server's log line about a refused connection, written after
    /// `offset`: waits for it as long as it is polled (callers bound it).
    async fn refusal_logged_after(&self, offset: u64) -> String {
        loop {
            let text = logfile::since(&self.log, offset);
            if let Some(line) = text
                .lines()
                .find(|l| l.contains("Error accepting a client connection"))
            {
                // `12:M 23 Nov 2026 17:41:35.194 # Error accepting ...`
                let line = line.split_once(" # ").map_or(line, |(_, rest)| rest);
                return line.trim().to_string();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A connection to `address`: for a server inside the run's network
    /// namespace, a socket made there, whose traffic passes the link's
    /// latency relay ([`crate::network`]).
    async fn open_client(&self, address: &Address, auth: Option<&Credentials>) -> Result<Client> {
        let timeout = crate::settings::command_timeout()?;
        if let Address::Tcp { host, port } = address
            && let Some(stream) = crate::network::connect_inside(host, *port, timeout).await
        {
            let relayed = stream.and_then(crate::network::latency::relay);
            return Client::open_stream(self.describe(), address, relayed, auth, timeout).await;
        }
        Client::open(self.describe(), address, auth, timeout).await
    }

    pub(super) async fn admin_client(&self) -> Result<Client> {
        let auth = self.admin_credentials();
        let mut c = self
            .open_client(&self.admin_address(), auth.as_ref())
            .await?;
        self.select_external_database(&mut c).await?;
        Ok(c)
    }

    /// What the process is doing.
    pub async fn status(&self) -> Status {
        if self.is_external() {
            // Someone else's: as far as the harness can tell, it runs.
            return Status::Running { pid: 0 };
        }
        let mut p = self.proc.lock().await;
        self.poll(&mut p);
        status_of(&p)
    }

    /// `Ok` while the server runs; the [`Error::Died`] report when it ended by
    /// itself. `during` says what the caller was doing, for the report.
    pub async fn check_running(&self, during: &str) -> Result<()> {
        match self.status().await {
            Status::Running { .. } => Ok(()),
            Status::Stopped => Err(Error::Expectation(format!(
                "{} is stopped (while {during})\n  hint: start it again with a restart step",
                self.describe()
            ))),
            Status::Died(status) => Err(self.died(status, during)),
        }
    }

    /// Turns a client error into the server's death report when the server
    /// turns out to be dead; other errors pass unchanged.
    pub async fn explain(&self, err: Error, during: &str) -> Error {
        if self.is_external()
            || !matches!(err, Error::Connection { .. } | Error::CommandTimeout { .. })
        {
            return err;
        }
        // A crashing server may still be writing its report.
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match self.status().await {
                Status::Died(status) => return self.died(status, during),
                Status::Running { .. } if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                _ => return err,
            }
        }
    }

    /// Sends one command on the harness's own connection (kept between
    /// commands; do not change its state with `SELECT`, `MULTI` or
    /// `CLIENT REPLY`: use [`Server::client`] for that).
    ///
    /// A kept connection that turns out closed (a scenario's `CLIENT KILL`,
    /// a `timeout` directive, a restart behind the harness's back) is
    /// replaced once by a fresh one.
    pub async fn command(&self, line: &str) -> Result<Reply> {
        self.on_kept(&format!("running `{line}`"), async |c| c.run(line).await)
            .await
    }

    /// Runs `op` on the harness's kept connection ([`Server::command`]'s);
    /// a kept connection found closed on a running server is replaced once
    /// by a fresh one and `op` runs again. `what` names the work in errors.
    pub(super) async fn on_kept<T>(
        &self,
        what: &str,
        mut op: impl AsyncFnMut(&mut Client) -> Result<T>,
    ) -> Result<T> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(mut c) = kept {
            match op(&mut c).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    self.forget_connection();
                    let e = self.explain(e, what).await;
                    // A server that died (the command crashed it) is
                    // reported as such; only a closed connection to a
                    // running server is worth another one.
                    if !matches!(e, Error::Connection { .. })
                        || !matches!(self.status().await, Status::Running { .. })
                    {
                        return Err(e);
                    }
                }
            }
        }
        let mut c = self.client().await?;
        *self.kept.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
        match op(&mut c).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.forget_connection();
                Err(self.explain(e, what).await)
            }
        }
    }

    /// Waits until the server is busy: a `PING` of the harness gets no reply
    /// within `probe` while the server's main thread is not waiting for
    /// events (it runs a long script, sleeps in `DEBUG SLEEP`, or is frozen),
    /// or a `BUSY` error. A slow answer of an idle server on a loaded machine
    /// is not busy: its main thread is still in `epoll_wait`. `Err` after
    /// `timeout` says what it answered.
    pub async fn wait_busy(&self, probe: Duration, timeout: Duration) -> Result<()> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let started = Instant::now();
        loop {
            let last = match tokio::time::timeout(probe, self.command("PING")).await {
                Err(_) => {
                    // Its late PONG would sit in the kept connection.
                    self.forget_connection();
                    let idle = match self.status().await {
                        Status::Running { pid } => settles_idle(pid).await,
                        _ => None,
                    };
                    if idle != Some(true) {
                        return Ok(());
                    }
                    format!(
                        "PING took over {} ms, but the server was waiting for events (a slow machine, not a busy server)",
                        probe.as_millis()
                    )
                }
                Ok(Ok(Reply::Error(e))) if e.starts_with("BUSY") => return Ok(()),
                Ok(Ok(r)) => format!("PING answered {r}"),
                Ok(Err(e)) => return Err(e),
            };
            if started.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what: format!("{} to be busy", self.describe()),
                    waited: started.elapsed(),
                    last,
                    hint: "start what keeps it busy (DEBUG SLEEP, a long script) in the background first".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Drops the connection kept for [`Server::command`].
    pub(super) fn forget_connection(&self) {
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Whether a server whose `PING` stalled is idle after all: a loaded
/// machine may not have scheduled it yet, or it may still be reading what
/// came before (the very command meant to keep it busy). Watched for up to
/// [`SETTLE`]: back in its event wait means idle (`Some(true)`); stopped, or
/// asleep elsewhere than in the event wait (inside `DEBUG SLEEP`), means
/// busy at once; running for the whole time means busy too (a script).
async fn settles_idle(pid: u32) -> Option<bool> {
    let started = Instant::now();
    loop {
        match crate::spawn::waits_for_events(pid) {
            Some(true) => return Some(true),
            None => return None,
            Some(false) if crate::spawn::sleeps_outside_event_wait(pid) => return Some(false),
            Some(false) if started.elapsed() >= SETTLE => return Some(false),
            Some(false) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// How long a stalled server is watched before it counts as busy.
const SETTLE: Duration = Duration::from_millis(300);
