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
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::sync::Mutex;

use crate::binary::ServerBinary;
use crate::client::{Address, Client, Credentials};
use crate::error::{Error, Result};
use crate::logfile;
use crate::ports::{self, PortLease};
use crate::spawn;
use crate::tls::ServerTls;

mod config;
mod connect;
mod external;
mod lifecycle;
mod pipeline;
mod readiness;
mod spec;
mod users;

pub(crate) use external::Borrowed;

pub use lifecycle::{StopMode, describe_exit};
pub use spec::{ServerSpec, Transport};

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
        /// The database the scenarios use ([`crate::external::state`]):
        /// every connection selects it.
        db: u32,
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
                    // otherwise. In a scenario's directory the scenario
                    // decides; a directory of its own the run names as kept.
                    if spec.parent_dir.is_none()
                        && crate::settings::keep_policy().is_ok_and(|k| k.keeps(true))
                    {
                        crate::leftovers::note_kept_aside(server.keep_dir());
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
            return match self.external_database() {
                0 => format!("{scheme}://{}:{}", self.host(), self.port()),
                db => format!("{scheme}://{}:{}/{db}", self.host(), self.port()),
            };
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

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
