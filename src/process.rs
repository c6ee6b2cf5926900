//! The user's own programs, run beside the servers: an application, a
//! worker, a script. Started through `sh -c` in a process group of their
//! own (they cannot outlive the harness, see [`crate::spawn`]), with their
//! output captured line by line, readiness by an output line or a port, and
//! a bounded stop.
//!
//! A program is told where a server is and how to get in through its
//! environment ([`ProcessSpec::server`]), never its command line: every
//! local user can read a command line (`ps`), only its own user a
//! program's environment. Whatever is shown of it (its command, its output)
//! has the run's password hidden.

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::error::{Error, Result};
use crate::ports::PortLease;
use crate::server::Server;

/// How long SIGTERM has before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How many output lines an error shows.
const TAIL: usize = 20;

/// How to start a program.
#[derive(Clone)]
pub struct ProcessSpec {
    name: String,
    command: String,
    env: Vec<(String, String)>,
    dir: Option<std::path::PathBuf>,
    port: bool,
}

impl std::fmt::Debug for ProcessSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The environment's values may hold the run's password.
        f.debug_struct("ProcessSpec")
            .field("name", &self.name)
            .field("command", &crate::acl::redact(&self.command))
            .field("env", &self.env.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .field("dir", &self.dir)
            .field("port", &self.port)
            .finish()
    }
}

impl ProcessSpec {
    /// A program called `name` running `command` through `sh -c`.
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> Self {
        ProcessSpec {
            name: name.into(),
            command: command.into(),
            env: Vec::new(),
            dir: None,
            port: false,
        }
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Tells it where `server` is and how to get in: `VALKEY_HOST`,
    /// `VALKEY_PORT`, `VALKEY_URL` (with the run's password while the server
    /// is guarded by it, [`Server::authenticated_url`]) and `REDISCLI_AUTH`
    /// (the password, which `valkey-cli` and `redis-cli` read, so that
    /// `valkey-cli -p <port>` gets in).
    pub fn server(mut self, server: &Server) -> Self {
        self = self
            .env("VALKEY_HOST", server.host())
            .env("VALKEY_PORT", server.port().to_string())
            .env("VALKEY_URL", server.authenticated_url());
        if let Some(c) = server.client_credentials() {
            self = self.env("REDISCLI_AUTH", c.password);
        }
        self
    }

    /// Runs it in this directory (default: the current one).
    pub fn current_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Leases a free port for it: `{free_port}` in the command and
    /// `FREE_PORT` in its environment; [`UserProcess::wait_port`] waits for
    /// it to listen there.
    pub fn with_port(mut self) -> Self {
        self.port = true;
        self
    }

    /// The command, as given.
    pub fn command(&self) -> &str {
        &self.command
    }
}

/// Its output so far, one entry per line.
type Lines = Arc<crate::feed::Feed<String>>;

/// A running (or finished) program of the user's.
pub struct UserProcess {
    name: String,
    command: String,
    child: Option<tokio::process::Child>,
    pid: u32,
    exit: Option<ExitStatus>,
    lines: Lines,
    port: Option<PortLease>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for UserProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserProcess")
            .field("name", &self.name)
            .field("pid", &self.pid)
            .field("exit", &self.exit)
            .finish()
    }
}

impl Drop for UserProcess {
    fn drop(&mut self) {
        if self.child.is_some() && self.pid != 0 {
            let _ = crate::spawn::signal_group(self.pid, Signal::SIGKILL);
            crate::spawn::forget_group(self.pid);
        }
        for r in &self.readers {
            r.abort();
        }
    }
}

impl UserProcess {
    /// Starts the program.
    pub async fn start(spec: ProcessSpec) -> Result<UserProcess> {
        let port = if spec.port {
            Some(crate::ports::lease()?)
        } else {
            None
        };
        let command = match &port {
            Some(p) => spec.command.replace("{free_port}", &p.port().to_string()),
            None => spec.command.clone(),
        };
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(&command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        if let Some(p) = &port {
            cmd.env("FREE_PORT", p.port().to_string());
        }
        if let Some(d) = &spec.dir {
            cmd.current_dir(d);
        }
        // Only its shown form is kept.
        let command = crate::acl::redact(&command).into_owned();
        let mut child = crate::spawn::spawn(cmd).await.map_err(|e| Error::Config {
            what: format!("process \"{}\" could not start `{command}`: {e}", spec.name),
            hint: "`sh` must be on PATH".into(),
        })?;
        let pid = child.id().unwrap_or(0);
        let lines: Lines = Arc::default();
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(tokio::spawn(collect(BufReader::new(out), lines.clone())));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(tokio::spawn(collect(BufReader::new(err), lines.clone())));
        }
        Ok(UserProcess {
            name: spec.name,
            command,
            child: Some(child),
            pid,
            exit: None,
            lines,
            port,
            readers,
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The port leased for it, if it asked for one.
    pub fn port(&self) -> Option<u16> {
        self.port.as_ref().map(PortLease::port)
    }

    /// Everything it printed so far (standard output and error, by line).
    pub fn output(&self) -> Vec<String> {
        self.lines.snapshot()
    }

    /// Its last `lines` lines of output, indented for a message (the run's
    /// password hidden).
    pub fn output_tail(&self, lines: usize) -> String {
        let all = self.output();
        if all.is_empty() {
            return "    (it printed nothing)".into();
        }
        let start = all.len().saturating_sub(lines);
        let tail = all[start..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n");
        crate::acl::redact(&tail).into_owned()
    }

    fn tail(&self) -> String {
        self.output_tail(TAIL)
    }

    /// How it ended, if it has.
    pub fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none()
            && let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            self.ended(status);
        }
        self.exit
    }

    fn ended(&mut self, status: ExitStatus) {
        self.exit = Some(status);
        self.child = None;
        if self.pid != 0 {
            // What it forked goes with it.
            let _ = crate::spawn::signal_group(self.pid, Signal::SIGKILL);
            crate::spawn::forget_group(self.pid);
        }
    }

    /// Waits until a line of its output contains `text`.
    pub async fn wait_line(&mut self, text: &str, timeout: Duration) -> Result<()> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let started = Instant::now();
        let lines = self.lines.clone();
        let printed = |lines: &[String]| lines.iter().any(|l| l.contains(text));
        // Woken by each new line; an exit is looked for every 50 ms too.
        lines
            .wait_until(started + timeout, Some(Duration::from_millis(50)), |l| {
                printed(l) || self.poll_exit().is_some()
            })
            .await;
        if printed(&lines.snapshot()) {
            return Ok(());
        }
        let exited = self.poll_exit();
        if exited.is_some() {
            // A line printed just before the exit may still be in flight.
            self.drain_output().await;
            if printed(&lines.snapshot()) {
                return Ok(());
            }
        }
        Err(Error::Timeout {
            what: format!("process \"{}\" to print {text:?}", self.name),
            waited: started.elapsed(),
            last: match exited {
                Some(s) => format!("it {} after printing:\n{}", describe(s), self.tail()),
                None => format!("its output so far:\n{}", self.tail()),
            },
            hint: format!("it runs `{}`", self.command),
        })
    }

    /// Waits until something accepts connections on its leased port.
    pub async fn wait_port(&mut self, timeout: Duration) -> Result<()> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let Some(port) = self.port() else {
            return Err(Error::Config {
                what: format!("process \"{}\" has no port of its own", self.name),
                hint: "put {free_port} in its command line so that the harness leases one".into(),
            });
        };
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            let exited = self.poll_exit();
            if exited.is_some() || started.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what: format!("process \"{}\" to listen on port {port}", self.name),
                    waited: started.elapsed(),
                    last: match exited {
                        Some(s) => format!("it {}; its output:\n{}", describe(s), self.tail()),
                        None => format!(
                            "nothing accepts connections there; its output so far:\n{}",
                            self.tail()
                        ),
                    },
                    hint: format!("it runs `{}`", self.command),
                });
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until it exits, and returns how.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        if let Some(s) = self.exit {
            return Ok(s);
        }
        let started = Instant::now();
        let waited = match self.child.as_mut() {
            Some(child) => tokio::time::timeout(timeout, child.wait()).await,
            None => unreachable!("a process without a child has exited"),
        };
        match waited {
            Ok(Ok(status)) => {
                self.ended(status);
                self.drain_output().await;
                Ok(status)
            }
            Ok(Err(e)) => Err(Error::io(
                format!("waiting for process \"{}\"", self.name),
                e,
            )),
            Err(_) => Err(Error::Timeout {
                what: format!("process \"{}\" to exit", self.name),
                waited: started.elapsed(),
                last: format!("still running; its output so far:\n{}", self.tail()),
                hint: format!(
                    "it runs `{}`; stop it with `I stop process \"{}\"`",
                    self.command, self.name
                ),
            }),
        }
    }

    /// Stops it: SIGTERM to its group, then SIGKILL after 5 s.
    pub async fn stop(&mut self) -> Result<ExitStatus> {
        self.signal_and_wait(Signal::SIGTERM).await
    }

    /// Kills it with SIGKILL.
    pub async fn kill(&mut self) -> Result<ExitStatus> {
        self.signal_and_wait(Signal::SIGKILL).await
    }

    async fn signal_and_wait(&mut self, signal: Signal) -> Result<ExitStatus> {
        if let Some(s) = self.poll_exit() {
            return Ok(s);
        }
        let _ = crate::spawn::signal_group(self.pid, signal);
        match self.wait_exit(STOP_GRACE).await {
            Ok(s) => Ok(s),
            Err(_) => {
                let _ = crate::spawn::signal_group(self.pid, Signal::SIGKILL);
                self.wait_exit(STOP_GRACE).await
            }
        }
    }

    /// Lets the output readers take what the pipes still hold.
    async fn drain_output(&mut self) {
        for r in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_millis(500), r).await;
        }
    }
}

async fn collect<R: tokio::io::AsyncRead + Unpin>(reader: BufReader<R>, lines: Lines) {
    let mut it = reader.lines();
    while let Ok(Some(line)) = it.next_line().await {
        lines.push(line);
    }
    lines.close();
}

pub use crate::spawn::describe;
