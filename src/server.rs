//! One `valkey-server` process: started, checked, stopped.
//!
//! Lifecycle:
//! - **start**: lease a port ([`crate::ports`]), make a private 0700
//!   directory, write `valkey.conf` there, spawn the binary on it with all of
//!   its output in `server.log` ([`crate::spawn`] makes sure it cannot outlive
//!   us), then wait until it is *ready*: alive, answering `PING` and not
//!   loading. A port that turns out taken (another program bound it after our
//!   check) is retried on a new port.
//! - **stop**: `SHUTDOWN NOSAVE` (or `SAVE`) → SIGTERM → SIGKILL to the whole
//!   process group, each step bounded.
//! - **restart**: stop and start again on the same port and directory, so
//!   data persisted by `SAVE` or AOF is loaded again.
//! - A server that dies when nobody asked it to is reported with its exit
//!   status, the tail of its log and its `BUG REPORT`.
//!
//! Secure by default: unless the scenario sets `requirepass` or ACL users of
//! its own, the default user needs the run's password ([`crate::acl`]); the
//! harness's own connections and the clients of [`Server::client_credentials`]
//! send it, another local user cannot.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::sync::Mutex;

use crate::binary::{Engine, ServerBinary};
use crate::client::{Address, Client, Credentials};
use crate::error::{Error, Result, ServerReport, indent};
use crate::logfile;
use crate::ports::{self, PortLease};
use crate::reply::Reply;
use crate::spawn;
use crate::tls::ServerTls;

mod external;
mod pipeline;
mod readiness;

/// How many log lines an error shows.
pub const LOG_TAIL_LINES: usize = 30;
/// How many times a start is retried on a new port when the port was taken.
const PORT_RETRIES: u32 = 5;
/// How long `SHUTDOWN` gets before SIGTERM, and SIGTERM before SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
const TERM_GRACE: Duration = Duration::from_secs(2);
const KILL_GRACE: Duration = Duration::from_secs(5);
/// How long a failed connection to a TLS server waits for the server's log
/// line about it (written before the server closes the connection, so it is
/// normally there already).
pub const REFUSAL_LOG_WAIT: Duration = Duration::from_secs(1);

/// How a server should be configured and started.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    name: String,
    binary: Option<PathBuf>,
    config: Vec<(String, String)>,
    parent_dir: Option<PathBuf>,
    transport: Transport,
    admin: Option<Credentials>,
    seat: Option<crate::network::Seat>,
}

/// How clients reach a server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Transport {
    /// Plain TCP on 127.0.0.1.
    #[default]
    Tcp,
    /// TLS only: the leased port is the `tls-port`, `port` is 0.
    Tls(ServerTls),
    /// A unix socket only (`unixsocket` in the server's directory, `port 0`),
    /// with this `unixsocketperm`.
    Unix {
        /// The socket file's mode, such as `0o700`.
        perm: u32,
    },
}

/// The longest unix socket path the kernel takes (`sun_path` less its NUL).
const MAX_SOCKET_PATH: usize = 107;

impl Default for ServerSpec {
    fn default() -> Self {
        ServerSpec::new("default")
    }
}

impl ServerSpec {
    /// Whether it asks for nothing but the harness's defaults (no
    /// directive, binary, TLS, socket or credentials of its own).
    pub fn is_plain(&self) -> bool {
        self.config.is_empty()
            && self.binary.is_none()
            && self.transport == Transport::Tcp
            && self.admin.is_none()
    }

    /// A server called `name` (used in messages and as its directory name),
    /// with the harness's defaults.
    pub fn new(name: impl Into<String>) -> Self {
        ServerSpec {
            name: name.into(),
            binary: None,
            config: Vec::new(),
            parent_dir: None,
            transport: Transport::Tcp,
            admin: None,
            seat: None,
        }
    }

    /// Runs inside the run's network namespace, on the seat's own loopback
    /// address ([`crate::network`]), where network faults can reach it.
    pub fn seat(mut self, seat: crate::network::Seat) -> Self {
        self.seat = Some(seat);
        self
    }

    /// Speaks TLS only, with certificates of the run ([`crate::tls`]).
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.transport = Transport::Tls(tls);
        self
    }

    /// Listens on a unix socket only, with this `unixsocketperm` (`0o700`).
    pub fn unix_socket(mut self, perm: u32) -> Self {
        self.transport = Transport::Unix { perm };
        self
    }

    /// How clients will reach the server.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Sets `requirepass`; the harness's own connections authenticate with it.
    /// The default user then needs this password instead of the run's, and
    /// programs given the server's URL are not told it.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        let password = password.into();
        self.admin = Some(Credentials {
            user: None,
            password: password.clone(),
        });
        self.config("requirepass", password)
    }

    /// Has the harness's own connections (readiness, `SHUTDOWN`, waits)
    /// authenticate as this user: for configurations where the default user
    /// cannot run everything.
    pub fn admin(mut self, credentials: Credentials) -> Self {
        self.admin = Some(credentials);
        self
    }

    /// Uses this binary instead of searching for one.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Adds one configuration directive, written to `valkey.conf` as
    /// `key value`. The value is taken as in `valkey.conf` (so `save ""` is
    /// written `("save", "\"\"")`); an empty value is written as `""`.
    /// A key given here replaces the harness's default for it.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.push((key.into(), value.into()));
        self
    }

    /// Loads a module at start, with its arguments.
    pub fn module(self, path: impl AsRef<Path>, args: &str) -> Self {
        let path = std::path::absolute(path.as_ref()).unwrap_or_else(|_| path.as_ref().into());
        let value = format!("{} {}", path.display(), args)
            .trim_end()
            .to_string();
        self.config("loadmodule", value)
    }

    /// Loads a module (see [`crate::modules::ModuleLoad`]), unless a
    /// `loadmodule` directive given already loads its library: a server
    /// cannot load one library twice.
    pub fn load(mut self, module: &crate::modules::ModuleLoad) -> Self {
        module.add_to(&mut self.config);
        self
    }

    /// Makes the server's directory inside `parent` instead of in a temporary
    /// directory of its own. The caller then owns the directory's removal.
    pub fn in_dir(mut self, parent: impl Into<PathBuf>) -> Self {
        self.parent_dir = Some(parent.into());
        self
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directives given so far.
    pub fn directives(&self) -> &[(String, String)] {
        &self.config
    }

    /// Whether the default user gets the run's password: unless the scenario
    /// guards the server its own way (`requirepass`, `user` directives or an
    /// `aclfile`).
    fn guarded(&self) -> bool {
        !self.config.iter().any(|(k, _)| {
            ["requirepass", "user", "aclfile"]
                .iter()
                .any(|own| k.eq_ignore_ascii_case(own))
        })
    }

    /// Validates the directives without starting anything.
    pub fn validate(&self) -> Result<()> {
        for (k, v) in &self.config {
            if k.is_empty() || k.contains(char::is_whitespace) {
                return Err(Error::Config {
                    what: format!("{k:?} is not a configuration directive name (value {v:?})"),
                    hint: "write one directive per row: | maxmemory | 1kb |".into(),
                });
            }
            if v.contains('\n') || v.contains('\r') {
                return Err(Error::Config {
                    what: format!("the value of {k:?} spans several lines"),
                    hint: "a directive's value is one line, as in valkey.conf".into(),
                });
            }
        }
        Ok(())
    }
}

/// Where a server's directory lives and who removes it.
enum Workdir {
    /// A temporary directory of the server's own, removed with it unless kept.
    Own(tempfile::TempDir),
    /// A directory inside the caller's (the scenario's), removed by the caller.
    Borrowed(PathBuf),
    /// A kept directory: left on disk.
    Kept(PathBuf),
}

impl Workdir {
    fn path(&self) -> &Path {
        match self {
            Workdir::Own(t) => t.path(),
            Workdir::Borrowed(p) | Workdir::Kept(p) => p,
        }
    }
}

/// Where a server listens.
enum Place {
    /// A port leased for a process of the harness's own.
    Leased(PortLease),
    /// A server someone else runs ([`crate::external`]): no process, no
    /// directory, no log of ours.
    External {
        host: String,
        port: u16,
        address: Address,
    },
}

/// The running (or stopped) process.
#[derive(Default)]
struct Proc {
    child: Option<tokio::process::Child>,
    /// How the last process ended, once it has.
    exit: Option<ExitStatus>,
    /// Whether that end was asked for (stop, kill), as opposed to a crash.
    expected: bool,
}

/// What a server is doing, as far as the harness can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The process runs.
    Running {
        /// Its process id.
        pid: u32,
    },
    /// The process was stopped or killed on purpose.
    Stopped,
    /// The process ended by itself: `exited with status 1`, `was killed by
    /// signal 11 (SIGSEGV)`.
    Died(String),
}

/// One server process with its port, directory, configuration and log.
pub struct Server {
    /// Its name in the scenario; a node taken from the pool is renamed.
    name: std::sync::RwLock<String>,
    transport: Transport,
    /// Who the harness's own connections authenticate as.
    admin: std::sync::RwLock<Option<Credentials>>,
    /// Whether the default user's password is the run's, so that a program
    /// given the server's URL is given it too.
    guarded: std::sync::atomic::AtomicBool,
    /// Whether a client certificate logs the client in as the user it names
    /// (`tls-auth-clients-user`): then clients send no password, which
    /// would log them in as `default` instead.
    certificate_logins: bool,
    binary: Arc<ServerBinary>,
    place: Place,
    workdir: std::sync::Mutex<Workdir>,
    dir: PathBuf,
    log: PathBuf,
    conf: PathBuf,
    start_timeout: Duration,
    /// Process id while running, 0 otherwise; read by `Drop`, which cannot
    /// take the async lock.
    pid: AtomicU32,
    proc: Mutex<Proc>,
    attempts: u32,
    /// Whether the harness has stopped the process with SIGSTOP.
    frozen: std::sync::atomic::AtomicBool,
    /// Its address and namespace when it runs inside the run's network
    /// namespace ([`crate::network`]).
    seat: Option<(String, crate::network::Seat)>,
    /// The harness's connection for [`Server::command`], kept between
    /// commands (a TLS handshake per check adds up); dropped whenever the
    /// process stops or an error leaves it in doubt.
    kept: std::sync::Mutex<Option<Client>>,
    /// Where the current scenario's part of the log begins: a server reused
    /// from [`crate::reuse`] holds earlier scenarios' lines before it.
    log_from: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name())
            .field("port", &self.port())
            .field("dir", &self.dir)
            .finish()
    }
}

impl Server {
    /// Starts a server and waits until it is ready.
    pub async fn start(spec: ServerSpec) -> Result<Server> {
        let _spent = crate::spent::track(crate::spent::Activity::StartingServers);
        spec.validate()?;
        let binary = ServerBinary::resolve(spec.binary.as_deref()).await?;
        if matches!(spec.transport, Transport::Tls(_)) && !binary.supports_tls().await {
            return Err(Error::BinaryUnusable {
                path: binary.path.clone(),
                why: format!(
                    "was built without TLS, and server \"{}\" needs it",
                    spec.name
                ),
                hint: "tag the scenario @requires:tls so that it is skipped on such a binary, \
                       or use a binary built with TLS (BUILD_TLS=yes; Debian's valkey-server has it)"
                    .into(),
            });
        }
        let guarded = spec.guarded();
        let admin = spec.admin.clone().or_else(|| {
            spec.config
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case("requirepass"))
                .map(|(_, v)| Credentials {
                    user: None,
                    password: v.trim_matches('"').to_string(),
                })
                .or_else(|| guarded.then(run_credentials))
        });
        let start_timeout = crate::settings::start_timeout()?;
        let pinned = spec
            .config
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case("port"))
            .map(|(_, v)| v.clone());
        let mut attempts = 0;
        loop {
            attempts += 1;
            let lease = match &pinned {
                None => ports::lease()?,
                Some(p) => pinned_lease(p)?,
            };
            let workdir = make_dir(&spec)?;
            let dir = workdir.path().to_path_buf();
            let server = Server {
                name: std::sync::RwLock::new(spec.name.clone()),
                transport: spec.transport.clone(),
                admin: std::sync::RwLock::new(admin.clone()),
                guarded: guarded.into(),
                certificate_logins: spec
                    .config
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("tls-auth-clients-user") && v != "off"),
                binary: binary.clone(),
                place: Place::Leased(lease),
                log: dir.join("server.log"),
                conf: dir.join("valkey.conf"),
                dir,
                workdir: std::sync::Mutex::new(workdir),
                start_timeout,
                pid: AtomicU32::new(0),
                proc: Mutex::new(Proc::default()),
                attempts,
                frozen: Default::default(),
                kept: Default::default(),
                log_from: Default::default(),
                seat: spec.seat.clone().map(|s| (s.address.to_string(), s)),
            };
            server.write_config(&spec)?;
            match server.launch().await {
                Ok(()) => return Ok(server),
                Err(e)
                    if pinned.is_none() && attempts < PORT_RETRIES && server.port_was_taken() =>
                {
                    tracing::info!(server = %server.name(), port = server.port(), "port taken, retrying: {e}");
                    server.discard();
                }
                Err(e) => {
                    // The error names the log: keep it on disk unless told
                    // otherwise. In a scenario's directory the scenario decides.
                    if crate::settings::KeepPolicy::from_env().is_ok_and(|k| k.keeps(true)) {
                        server.keep_dir();
                    }
                    return Err(e);
                }
            }
        }
    }

    /// The server's name in the scenario.
    pub fn name(&self) -> String {
        self.name.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Gives the server another name (a pooled node joining a scenario).
    pub fn rename(&self, name: impl Into<String>) {
        *self.name.write().unwrap_or_else(|p| p.into_inner()) = name.into();
    }

    /// The binary it runs.
    pub fn binary(&self) -> &ServerBinary {
        &self.binary
    }

    /// Its client port.
    pub fn port(&self) -> u16 {
        match &self.place {
            Place::Leased(lease) => lease.port(),
            Place::External { port, .. } => *port,
        }
    }

    /// `127.0.0.1`: the servers the harness starts listen on loopback only
    /// (a server inside the run's network namespace on its own loopback
    /// address); an external one is where `VALKEY_BDD_EXTERNAL` says.
    pub fn host(&self) -> &str {
        match &self.place {
            Place::Leased(_) => self.seat.as_ref().map_or("127.0.0.1", |(host, _)| host),
            Place::External { host, .. } => host,
        }
    }

    /// Whether someone else runs it ([`crate::external`]): the harness
    /// cannot stop, restart, freeze or read the log of such a server.
    pub fn is_external(&self) -> bool {
        matches!(self.place, Place::External { .. })
    }

    /// Its private directory (data, `valkey.conf`, `server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// How many starts it took (more than 1 when a port was taken).
    pub fn start_attempts(&self) -> u32 {
        self.attempts
    }

    /// The last `lines` lines of its log (of the current scenario's part,
    /// for a reused server).
    pub fn log_tail(&self, lines: usize) -> String {
        match self.log_from.load(Ordering::SeqCst) {
            0 => logfile::tail(&self.log, lines),
            from => logfile::tail_since(&self.log, from, lines),
        }
    }

    /// Whether its log (the current scenario's part, for a reused server)
    /// contains `text` anywhere.
    pub fn log_contains(&self, text: &str) -> bool {
        match self.log_from.load(Ordering::SeqCst) {
            0 => logfile::contains(&self.log, text),
            from => logfile::since(&self.log, from).contains(text),
        }
    }

    /// Starts the current scenario's part of the log here: what the log
    /// holds now belongs to earlier scenarios of a reused server.
    pub fn mark_log_start(&self) {
        self.log_from
            .store(logfile::size(&self.log), Ordering::SeqCst);
    }

    /// A short description for messages: `server "cache" at 127.0.0.1:16001`.
    pub fn describe(&self) -> String {
        if self.is_external() {
            return format!(
                "server \"{}\" at {}:{} (external)",
                self.name(),
                self.host(),
                self.port()
            );
        }
        match &self.transport {
            Transport::Tcp => format!(
                "server \"{}\" at {}:{}",
                self.name(),
                self.host(),
                self.port()
            ),
            Transport::Tls(_) => format!(
                "server \"{}\" at {}:{} (TLS)",
                self.name(),
                self.host(),
                self.port()
            ),
            Transport::Unix { .. } => format!(
                "server \"{}\" at {}",
                self.name(),
                self.socket_path().display()
            ),
        }
    }

    /// How clients reach it.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Its TLS settings, when it speaks TLS.
    pub fn tls(&self) -> Option<&ServerTls> {
        match &self.transport {
            Transport::Tls(t) => Some(t),
            _ => None,
        }
    }

    /// Where it is, as a URL without credentials (safe to show):
    /// `redis://127.0.0.1:16001`, `rediss://…` when it speaks TLS,
    /// `unix:///…/valkey.sock`.
    pub fn url(&self) -> String {
        if let Place::External { address, .. } = &self.place {
            let scheme = if matches!(address, Address::TlsSystem { .. }) {
                "rediss"
            } else {
                "redis"
            };
            return format!("{scheme}://{}:{}", self.host(), self.port());
        }
        match &self.transport {
            Transport::Tcp => format!("redis://{}:{}", self.host(), self.port()),
            Transport::Tls(_) => format!("rediss://{}:{}", self.host(), self.port()),
            Transport::Unix { .. } => format!("unix://{}", self.socket_path().display()),
        }
    }

    /// The URL a program is given to reach it: [`Server::url`] with the
    /// run's password while the server is guarded by it
    /// (`redis://default:<password>@127.0.0.1:16001`,
    /// `unix:///…/valkey.sock?pass=…`).
    /// Never show it: pass it in the environment, not on a command line,
    /// which every local user can read.
    pub fn authenticated_url(&self) -> String {
        let Some(c) = self.client_credentials() else {
            return self.url();
        };
        match &self.transport {
            Transport::Unix { .. } => format!("{}?pass={}", self.url(), c.password),
            // `default:` rather than an empty user name, which valkey-cli
            // would send as `AUTH "" <password>`.
            _ => self
                .url()
                .replacen("://", &format!("://default:{}@", c.password), 1),
        }
    }

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
    /// client's first command. So whenever a connection to a TLS server
    /// fails — connection error, I/O error or timeout — the server's own
    /// account of it (its `Error accepting a client connection` line, waited
    /// for up to [`REFUSAL_LOG_WAIT`]) is added to the error, which is then
    /// an [`Error::Connection`] whose detail quotes it.
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
        let attempt = async {
            let c = Client::open(self.describe(), address, auth).await?;
            if self.tls().is_some() {
                // TLS 1.3 settles a client certificate after the handshake,
                // and a plaintext client learns nothing at connect: a
                // refusal shows at the first command.
                let mut first = c.clone();
                first.set_timeout(first_reply);
                first.run("PING").await?;
            }
            Ok(c)
        };
        let e = match attempt.await {
            Ok(c) => return Ok(c),
            Err(e) => self.explain(e, "connecting a client").await,
        };
        let logged = match (self.tls(), &e) {
            (
                Some(_),
                Error::Connection { .. } | Error::CommandTimeout { .. } | Error::Io { .. },
            ) => self.refusal_logged_since(offset).await,
            _ => None,
        };
        let Some(line) = logged else {
            return Err(e);
        };
        Err(match e {
            Error::Connection {
                target,
                action,
                detail,
                hint,
            } => Error::Connection {
                target,
                action,
                detail: format!("{detail}\n  the server logged: {line}"),
                hint,
            },
            other => Error::Connection {
                target: self.describe(),
                action: "connecting".into(),
                detail: format!("{}\n  the server logged: {line}", first_line(&other.to_string())),
                hint: "the server refused the connection (its log line above): does it require a client certificate (tls-auth-clients) of an authority it trusts?".into(),
            },
        })
    }

    /// The server's log line about a refused connection, written after
    /// `offset`, if one appears within [`REFUSAL_LOG_WAIT`].
    async fn refusal_logged_since(&self, offset: u64) -> Option<String> {
        let deadline = Instant::now() + REFUSAL_LOG_WAIT;
        loop {
            let text = logfile::since(&self.log, offset);
            if let Some(line) = text
                .lines()
                .find(|l| l.contains("Error accepting a client connection"))
            {
                // `12:M 23 Nov 2026 17:41:35.194 # Error accepting ...`
                let line = line.split_once(" # ").map_or(line, |(_, rest)| rest);
                return Some(line.trim().to_string());
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn admin_client(&self) -> Result<Client> {
        let auth = self.admin_credentials();
        Client::open(self.describe(), &self.admin_address(), auth.as_ref()).await
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
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(mut c) = kept {
            match c.run(line).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    self.forget_connection();
                    let e = self.explain(e, &format!("running `{line}`")).await;
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
        match c.run(line).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.forget_connection();
                Err(self.explain(e, &format!("running `{line}`")).await)
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
                        Status::Running { pid } => crate::spawn::waits_for_events(pid),
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

    /// What the memory checker (`VALKEY_BDD_WRAPPER`) reported against the
    /// server's processes that have ended: `Some` with the report when it
    /// found memory errors or definite leaks.
    pub fn checker_report(&self) -> Option<String> {
        let mut bad = Vec::new();
        let entries = std::fs::read_dir(&self.dir).ok()?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !(name.starts_with("valgrind.") && name.ends_with(".log")) {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let errors = text
                .lines()
                .rev()
                .find_map(|l| l.split("ERROR SUMMARY: ").nth(1))
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            if errors > 0 {
                // The report without valgrind's `==pid==` prefixes, capped.
                let lines: Vec<String> = text
                    .lines()
                    .map(|l| l.split_once("== ").map_or(l, |(_, rest)| rest).to_string())
                    .collect();
                let shown = if lines.len() > 80 {
                    [
                        &lines[..70],
                        &["[...]".to_string()],
                        &lines[lines.len() - 8..],
                    ]
                    .concat()
                } else {
                    lines
                };
                bad.push(format!(
                    "valgrind found {errors} error(s) in {} ({}):\n{}",
                    self.describe(),
                    e.path().display(),
                    crate::error::indent(&shown.join("\n"))
                ));
            }
        }
        (!bad.is_empty()).then(|| bad.join("\n"))
    }

    /// Drops the connection kept for [`Server::command`].
    fn forget_connection(&self) {
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Stops the server without saving: `SHUTDOWN NOSAVE` → SIGTERM → SIGKILL.
    pub async fn stop(&self) -> Result<()> {
        self.stop_with(StopMode::NoSave).await
    }

    /// Stops the server the given way.
    pub async fn stop_with(&self, mode: StopMode) -> Result<()> {
        self.own_process("stop it")?;
        // A fresh connection says SHUTDOWN: the kept one may have been
        // closed by the scenario (CLIENT KILL, `timeout`), and a lost
        // SHUTDOWN costs the whole grace period.
        self.forget_connection();
        let mut p = self.proc.lock().await;
        self.poll(&mut p);
        if p.child.is_none() {
            return match status_of(&p) {
                Status::Died(status) => Err(self.died(status, "stopping it")),
                _ => Ok(()),
            };
        }
        // A frozen (SIGSTOPped) server answers nothing and ignores SIGTERM.
        let _ = spawn::signal_group(self.pid.load(Ordering::SeqCst), Signal::SIGCONT);
        self.frozen.store(false, Ordering::SeqCst);
        let grace = match mode {
            StopMode::Graceful | StopMode::NoSave | StopMode::Save => {
                let word = match mode {
                    StopMode::Save => " SAVE",
                    // NOW: do not wait for lagging replicas (Valkey, Redis 7+).
                    StopMode::NoSave if self.speaks_redis_7() => " NOSAVE NOW",
                    StopMode::NoSave => " NOSAVE",
                    _ => "",
                };
                // The server closes the connection when it exits: no reply is
                // the expected outcome. A refusal (an error reply) is logged
                // and the signals below take over.
                if let Ok(mut c) = self.admin_client().await {
                    c.set_timeout(Duration::from_secs(2));
                    if let Ok(Reply::Error(e)) = c.run(&format!("SHUTDOWN{word}")).await {
                        tracing::warn!(server = %self.name(), "SHUTDOWN{word} refused: {e}");
                    }
                }
                if mode != StopMode::NoSave {
                    self.start_timeout.max(SHUTDOWN_GRACE)
                } else {
                    SHUTDOWN_GRACE
                }
            }
            StopMode::Kill => {
                let _ = spawn::signal_group(self.pid.load(Ordering::SeqCst), Signal::SIGKILL);
                KILL_GRACE
            }
        };
        p.expected = true;
        let ended = self.end(&mut p, grace).await;
        // A crash while shutting down (a module's unload, say) is still a crash.
        if mode != StopMode::Kill && p.exit.is_some_and(is_crash) {
            p.expected = false;
        }
        ended
    }

    /// Kills the server with SIGKILL, as a crash would, keeping its directory.
    pub async fn kill(&self) -> Result<()> {
        self.stop_with(StopMode::Kill).await
    }

    /// Stops the server the given way and starts it again on the same port,
    /// directory and configuration file.
    pub async fn restart(&self, mode: StopMode) -> Result<()> {
        self.stop_with(mode).await?;
        self.launch().await
    }

    /// Starts a stopped (or crashed) server again on the same port, directory
    /// and configuration file.
    pub async fn start_again(&self) -> Result<()> {
        self.own_process("start it")?;
        if let Status::Running { .. } = self.status().await {
            return Err(Error::Expectation(format!(
                "{} is already running\n  hint: stop or kill it first, or restart it",
                self.describe()
            )));
        }
        self.launch().await
    }

    /// Sets (or, with `None`, removes) a directive in the server's
    /// `valkey.conf`, so that it holds after a restart. The running server
    /// is not told: pair this with the command that changes it live.
    pub fn persist_directive(&self, key: &str, value: Option<&str>) -> Result<()> {
        self.own_process("change its configuration file")?;
        let text = std::fs::read_to_string(&self.conf)
            .map_err(|e| Error::io(format!("reading {}", self.conf.display()), e))?;
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .next()
                    .is_none_or(|k| !k.eq_ignore_ascii_case(key))
            })
            .map(str::to_string)
            .collect();
        if let Some(v) = value {
            lines.push(format!("{key} {v}"));
        }
        lines.push(String::new());
        write_private(&self.conf, &lines.join("\n"))
    }

    /// Sends a signal to the server's process group (SIGSTOP, SIGCONT, ...).
    pub async fn signal(&self, signal: Signal) -> Result<()> {
        self.own_process(&format!("send it {signal}"))?;
        let pid = self.pid.load(Ordering::SeqCst);
        if pid == 0 {
            self.check_running(&format!("sending {signal}")).await?;
        }
        spawn::signal_group(pid, signal)
            .map_err(|e| Error::io(format!("sending {signal} to {}", self.describe()), e))?;
        match signal {
            Signal::SIGSTOP | Signal::SIGTSTP => self.frozen.store(true, Ordering::SeqCst),
            Signal::SIGCONT => self.frozen.store(false, Ordering::SeqCst),
            _ => {}
        }
        Ok(())
    }

    /// Whether the harness has frozen the server (SIGSTOP) and not thawed it:
    /// it answers nothing meanwhile.
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    /// Keeps the server's directory on disk when the server goes, and returns
    /// its path.
    pub fn keep_dir(&self) -> PathBuf {
        let mut w = self.workdir.lock().expect("workdir lock poisoned");
        if let Workdir::Own(_) = &*w {
            let Workdir::Own(t) = std::mem::replace(&mut *w, Workdir::Kept(PathBuf::new())) else {
                unreachable!()
            };
            *w = Workdir::Kept(crate::leftovers::keep(t));
        }
        self.dir.clone()
    }

    // --- internals -------------------------------------------------------

    fn write_config(&self, spec: &ServerSpec) -> Result<()> {
        let user_keys: Vec<String> = spec
            .config
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        let mut lines = vec![format!(
            "# Written by valkey-bdd for server \"{}\". Defaults first, then the scenario's directives.",
            self.name()
        )];
        let mut defaults = self.defaults();
        match &self.transport {
            Transport::Tcp => {}
            Transport::Tls(tls) => {
                let files = crate::tls::write_server_files(&self.dir, tls.expired_certificate)?;
                defaults.retain(|(k, _)| *k != "port");
                defaults.extend(tls.directives(self.port(), &files));
            }
            Transport::Unix { perm } => {
                let path = self.socket_path();
                let len = path.as_os_str().len();
                if len > MAX_SOCKET_PATH {
                    return Err(Error::Config {
                        what: format!(
                            "the unix socket path {} is {len} bytes long; the kernel takes at most {MAX_SOCKET_PATH}",
                            path.display()
                        ),
                        hint: "set VALKEY_BDD_TMPDIR to a shorter directory, such as /tmp".into(),
                    });
                }
                defaults.retain(|(k, _)| *k != "port");
                defaults.push(("port", "0".into()));
                defaults.push(("unixsocket", quote_path(&path)));
                defaults.push(("unixsocketperm", format!("{perm:o}")));
            }
        }
        for (k, v) in defaults {
            let alias = if k == "masterauth" { "primaryauth" } else { k };
            if !user_keys.iter().any(|u| u == k || u == alias) {
                lines.push(format!("{k} {v}"));
            }
        }
        for (k, v) in &spec.config {
            let v = if v.is_empty() { "\"\"" } else { v.as_str() };
            lines.push(format!("{k} {v}"));
        }
        lines.push(String::new());
        write_private(&self.conf, &lines.join("\n"))
    }

    /// Valkey, or Redis 7 and later: `SHUTDOWN ... NOW`, `enable-debug-command`.
    fn speaks_redis_7(&self) -> bool {
        self.binary.engine == Engine::Valkey || self.binary.version.0 >= 7
    }

    /// The directives every server gets unless the scenario sets them.
    fn defaults(&self) -> Vec<(&'static str, String)> {
        let mut d = vec![
            ("port", self.port().to_string()),
            ("bind", self.host().to_string()),
            ("dir", quote_path(&self.dir)),
            ("daemonize", "no".to_string()),
            // Empty: log to standard output, which goes to server.log.
            ("logfile", "\"\"".to_string()),
            // No snapshots unless asked for: SAVE still works.
            ("save", "\"\"".to_string()),
            ("appendonly", "no".to_string()),
            ("repl-diskless-sync-delay", "0".to_string()),
        ];
        if self.seat.is_some() {
            // Its replication links and cluster bus leave from its own
            // address, which the network faults name.
            d.push(("bind-source-addr", self.host().to_string()));
        }
        if self.speaks_redis_7() {
            d.push(("enable-debug-command", "local".to_string()));
            d.push(("enable-module-command", "local".to_string()));
        }
        // "local" is every local user: only the run's password lets one in.
        if self.guarded.load(Ordering::SeqCst) {
            d.push(if self.speaks_redis_7() {
                // Only the hash is written: `CONFIG GET requirepass` stays
                // empty, as on a server nobody configured.
                ("user", crate::acl::default_user_directive())
            } else {
                // Older Redis lacks some of the ACL rules.
                ("requirepass", crate::acl::run_password().to_string())
            });
        }
        // Replicas authenticate to their primary as the harness does: with
        // the run's password, the same on every server, or the scenario's
        // own `requirepass` (given to every node of a replica set, say).
        let masterauth = match self.admin_credentials() {
            Some(Credentials {
                user: None,
                password,
            }) => password,
            _ => crate::acl::run_password().to_string(),
        };
        d.push(("masterauth", crate::reply::quote(masterauth.as_bytes())));
        d
    }

    /// Spawns the process on the written configuration and waits for ready.
    async fn launch(&self) -> Result<()> {
        self.forget_connection();
        let mut cmd = match crate::settings::wrapper()? {
            None => std::process::Command::new(&self.binary.path),
            Some(crate::settings::Wrapper::Valgrind) => {
                let mut c = std::process::Command::new("valgrind");
                c.args([
                    "--tool=memcheck",
                    "--leak-check=full",
                    "--show-leak-kinds=definite",
                    "--errors-for-leak-kinds=definite",
                    "--num-callers=30",
                ])
                .arg(format!(
                    "--log-file={}",
                    self.dir.join("valgrind.%p.log").display()
                ))
                .arg(&self.binary.path);
                c
            }
        };
        cmd.arg(&self.conf)
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| Error::io(format!("opening {}", self.log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| Error::io(format!("opening {}", self.log.display()), e))?;
        cmd.stdout(out).stderr(err);
        if let Some((_, seat)) = &self.seat {
            spawn::enter_network_namespace(&mut cmd, seat.namespace.raw_handle());
        }
        let child = spawn::spawn(cmd).await.map_err(|e| Error::BinaryUnusable {
            path: self.binary.path.clone(),
            why: format!("cannot be started: {e}"),
            hint: "check that the file is a valkey-server binary for this machine".into(),
        })?;
        let pid = child.id().unwrap_or(0);
        {
            let mut p = self.proc.lock().await;
            *p = Proc {
                child: Some(child),
                exit: None,
                expected: false,
            };
            self.pid.store(pid, Ordering::SeqCst);
        }
        self.wait_ready().await
    }

    /// Notices a process that has ended, without waiting.
    fn poll(&self, p: &mut Proc) {
        if let Some(child) = p.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            self.reaped(p, status);
        }
    }

    fn reaped(&self, p: &mut Proc, status: ExitStatus) {
        let pid = self.pid.swap(0, Ordering::SeqCst);
        if pid != 0 {
            // Forks of the server (BGSAVE, AOF rewrite) share its group.
            let _ = spawn::signal_group(pid, Signal::SIGKILL);
            spawn::forget_group(pid);
        }
        p.child = None;
        p.exit = Some(status);
    }

    /// Waits `grace` for the process to exit, then SIGTERM, then SIGKILL.
    async fn end(&self, p: &mut Proc, grace: Duration) -> Result<()> {
        let pid = self.pid.load(Ordering::SeqCst);
        for (wait, next) in [
            (grace, Some(Signal::SIGTERM)),
            (TERM_GRACE, Some(Signal::SIGKILL)),
            (KILL_GRACE, None),
        ] {
            let Some(child) = p.child.as_mut() else {
                return Ok(());
            };
            if let Ok(Ok(status)) = tokio::time::timeout(wait, child.wait()).await {
                self.reaped(p, status);
                return Ok(());
            }
            match next {
                Some(sig) => {
                    let _ = spawn::signal_group(pid, sig);
                }
                None => {
                    return Err(Error::StopFailed {
                        name: self.name(),
                        pid,
                        waited: grace + TERM_GRACE + KILL_GRACE,
                    });
                }
            }
        }
        Ok(())
    }

    fn port_was_taken(&self) -> bool {
        self.log_contains("Address already in use")
    }

    fn start_failed(&self, status: ExitStatus) -> Error {
        let taken = self.port_was_taken();
        let hint = if taken {
            format!(
                "port {} is already in use by another program; leave `port` out of the configuration to let valkey-bdd choose one",
                self.port()
            )
        } else if self.log_contains("FATAL CONFIG FILE ERROR") {
            format!(
                "a directive was rejected: see the lines above, and {} for what was written",
                self.conf.display()
            )
        } else if self.log_contains("Module") && self.log_contains("failed to load") {
            "a module failed to load: check its path, that it is built for this server, and its arguments".into()
        } else {
            "read the log lines above".into()
        };
        Error::StartFailed {
            report: self.report(describe_exit(status)),
            binary: self.binary.path.clone(),
            hint,
        }
    }

    fn died(&self, status: String, during: &str) -> Error {
        Error::Died {
            report: self.report(status),
            during: during.to_string(),
            bug_report: logfile::bug_report(&self.log),
        }
    }

    fn report(&self, status: String) -> Box<ServerReport> {
        Box::new(ServerReport {
            name: self.name(),
            port: self.port(),
            status,
            log: self.log.clone(),
            tail: indent(&self.log_tail(LOG_TAIL_LINES)),
        })
    }

    /// Throws away a server that never became ready (port retry).
    fn discard(self) {
        // Drop kills the process, if any, and removes an own directory.
        drop(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The last net: the async stop did not run (a panic, a dropped
        // future). Kill the group synchronously; tokio reaps the zombie.
        let pid = self.pid.swap(0, Ordering::SeqCst);
        if pid != 0 {
            let _ = spawn::signal_group(pid, Signal::SIGKILL);
            spawn::forget_group(pid);
        }
    }
}

/// How to stop a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Plain `SHUTDOWN`, as an operator would: the server saves when its
    /// configuration has save points (the harness's default has none).
    Graceful,
    /// `SHUTDOWN NOSAVE`: data not persisted yet is lost.
    NoSave,
    /// `SHUTDOWN SAVE`: an RDB snapshot is written first.
    Save,
    /// SIGKILL, as a crash.
    Kill,
}

fn status_of(p: &Proc) -> Status {
    match (&p.child, p.exit) {
        (Some(c), _) => Status::Running {
            pid: c.id().unwrap_or(0),
        },
        (None, Some(s)) if !p.expected => Status::Died(describe_exit(s)),
        _ => Status::Stopped,
    }
}

/// Whether the process ended by a signal that means it crashed.
fn is_crash(status: ExitStatus) -> bool {
    matches!(
        status.signal().and_then(|s| Signal::try_from(s).ok()),
        Some(Signal::SIGSEGV | Signal::SIGABRT | Signal::SIGBUS | Signal::SIGFPE | Signal::SIGILL)
    )
}

/// `exited with status 1`, `was killed by signal 11 (SIGSEGV)`.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        format!("exited with status {code}")
    } else if let Some(sig) = status.signal() {
        let name =
            Signal::try_from(sig).map_or_else(|_| "?".to_string(), |s| s.as_str().to_string());
        format!("was killed by signal {sig} ({name})")
    } else {
        format!("ended ({status})")
    }
}

fn pinned_lease(value: &str) -> Result<PortLease> {
    let port: u16 = value.trim().parse().map_err(|_| Error::Config {
        what: format!("port {value:?} is not a port number"),
        hint: "leave `port` out to let valkey-bdd choose a free one".into(),
    })?;
    ports::try_lease(port).ok_or_else(|| Error::Config {
        what: format!("port {port} is already in use (or leased by another valkey-bdd run)"),
        hint: "leave `port` out of the configuration to let valkey-bdd choose a free one".into(),
    })
}

fn make_dir(spec: &ServerSpec) -> Result<Workdir> {
    use std::os::unix::fs::DirBuilderExt;
    match &spec.parent_dir {
        Some(parent) => {
            let mut path = parent.join(sanitize(&spec.name));
            let mut n = 1;
            while path.exists() {
                n += 1;
                path = parent.join(format!("{}-{n}", sanitize(&spec.name)));
            }
            std::fs::DirBuilder::new()
                .mode(0o700)
                .recursive(true)
                .create(&path)
                .map_err(|e| Error::io(format!("creating the directory {}", path.display()), e))?;
            Ok(Workdir::Borrowed(path))
        }
        None => {
            let root = crate::settings::tmp_root();
            let prefix = format!("valkey-bdd-{}-", sanitize(&spec.name));
            crate::leftovers::tempdir(&root, &prefix, crate::leftovers::Kind::Server)
                .map(Workdir::Own)
                .map_err(|e| Error::io(format!("creating a directory in {}", root.display()), e))
        }
    }
}

/// A name safe for a file name.
pub(crate) fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.chars().take(48).collect()
}

/// The default user with the run's password.
fn run_credentials() -> Credentials {
    Credentials {
        user: None,
        password: crate::acl::run_password().to_string(),
    }
}

/// Writes a configuration file only its owner can read (it holds the run's
/// password): mode 0600, whatever the umask.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

fn quote_path(p: &Path) -> String {
    crate::reply::quote(p.as_os_str().as_encoded_bytes())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
