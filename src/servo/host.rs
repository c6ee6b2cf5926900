//! One running servo: its process (in a process group of its own, bound to
//! die with the harness), its socket, its output files, and how it is
//! stopped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::{Value, json};
use tokio::net::UnixListener;

use super::connection::{CallError, Connection, seconds};
use super::roles::{Implementation, Roles};
use super::{ENV_IMPLEMENTATION, ENV_ROLE, ENV_SOCKET, PROTOCOL};

/// How long `initialize`, `discover` and `match` may take, and a servo to
/// connect after its start.
pub const SETUP_DEADLINE: Duration = Duration::from_secs(10);
/// How long `shutdown` may take before the servo's group is signalled.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);
/// How many lines of a servo's stderr a failure message shows.
pub const STDERR_TAIL: usize = 20;

/// Which servo: a role in one implementation, and how it is started.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The role's name.
    pub role: String,
    /// The implementation.
    pub implementation: Implementation,
    /// Where the command runs (the roles file's directory).
    pub cwd: PathBuf,
}

impl Launch {
    /// The launch of `role` in `implementation` as `roles` declares them.
    pub fn of(roles: &Roles, role: &str, implementation: &str) -> Option<Launch> {
        let r = roles.role(role)?;
        Some(Launch {
            role: role.to_string(),
            implementation: r.implementation(implementation)?.clone(),
            cwd: roles.dir.clone(),
        })
    }

    /// `the "producer" process (python: `python3 app/producer.py`)`.
    pub fn describe(&self) -> String {
        format!(
            "the \"{}\" process (implementation \"{}\": `{}`)",
            self.role,
            self.implementation.name,
            crate::acl::redact(&self.implementation.command)
        )
    }
}

/// A servo that failed: what happened, ready to be shown.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Which servo, what happened, its exit and its stderr tail.
    pub message: String,
    /// The protocol's error, when a call failed.
    pub call: Option<CallError>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A started servo.
#[derive(Debug)]
pub struct Servo {
    launch: Launch,
    child: Option<tokio::process::Child>,
    pid: u32,
    connection: Option<Connection>,
    socket: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
    /// What `initialize` answered as the servo's name.
    pub name: String,
}

impl Drop for Servo {
    fn drop(&mut self) {
        if self.child.is_some() && self.pid != 0 {
            let _ = crate::spawn::signal_group(self.pid, Signal::SIGKILL);
            crate::spawn::forget_group(self.pid);
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Servo {
    /// Starts the servo with its socket and output files in `dir` (a
    /// private directory), waits for it to connect and sends `initialize`.
    pub async fn start(launch: Launch, dir: &Path) -> Result<Servo, Failure> {
        let stem = format!(
            "{}-{}",
            crate::server::sanitize(&launch.role),
            crate::server::sanitize(&launch.implementation.name)
        );
        let socket = dir.join(format!("{stem}.sock"));
        let stdout = dir.join(format!("{stem}.stdout"));
        let stderr = dir.join(format!("{stem}.stderr"));
        let early = |what: String| Failure {
            message: format!("{} could not start: {what}", launch.describe()),
            call: None,
        };
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)
            .map_err(|e| early(format!("listening on {}: {e}", socket.display())))?;
        let open = |path: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode_0600()
                .open(path)
                .map_err(|e| early(format!("creating {}: {e}", path.display())))
        };
        let out = open(&stdout)?;
        let err = open(&stderr)?;
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(&launch.implementation.command)
            .current_dir(&launch.cwd)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .env(ENV_SOCKET, &socket)
            .env(ENV_ROLE, &launch.role)
            .env(ENV_IMPLEMENTATION, &launch.implementation.name);
        for (k, v) in &launch.implementation.env {
            cmd.env(k, v);
        }
        let child = crate::spawn::spawn(cmd)
            .await
            .map_err(|e| early(format!("`sh` could not be run: {e}")))?;
        let pid = child.id().unwrap_or(0);
        let mut servo = Servo {
            launch,
            child: Some(child),
            pid,
            connection: None,
            socket,
            stdout,
            stderr,
            name: String::new(),
        };
        let child = servo.child.as_mut().expect("just started");
        let accepted = tokio::select! {
            a = tokio::time::timeout(SETUP_DEADLINE, listener.accept()) => a,
            status = child.wait() => {
                let status = status.map(crate::process::describe).unwrap_or_else(|e| e.to_string());
                return Err(servo.failed_now(&format!("it {status} before it connected to {ENV_SOCKET}"), None).await);
            }
        };
        let stream = match accepted {
            Ok(Ok((stream, _))) => stream,
            Ok(Err(e)) => {
                return Err(servo
                    .failed_now(&format!("accepting its connection failed: {e}"), None)
                    .await);
            }
            Err(_) => {
                return Err(servo
                    .failed_now(
                        &format!(
                            "it did not connect to the socket in ${ENV_SOCKET} within {}",
                            seconds(SETUP_DEADLINE)
                        ),
                        None,
                    )
                    .await);
            }
        };
        // Connected: no one else may connect, and nothing stays on disk.
        drop(listener);
        let _ = std::fs::remove_file(&servo.socket);
        servo.connection = Some(Connection::new(stream));
        let params = json!({
            "protocol": PROTOCOL,
            "role": servo.launch.role,
            "implementation": servo.launch.implementation.name,
        });
        match servo.call("initialize", params, SETUP_DEADLINE).await {
            Ok(result) => {
                if result.get("protocol").and_then(Value::as_u64) != Some(PROTOCOL) {
                    let what = format!(
                        "protocol mismatch: asked for protocol {PROTOCOL}, it answered initialize with {}",
                        result
                    );
                    return Err(servo.failed_now(&what, None).await);
                }
                servo.name = result
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                Ok(servo)
            }
            Err(CallError::Rpc { code: -32002, message }) => Err(servo
                .failed_now(
                    &format!(
                        "protocol mismatch: valkey-bdd speaks servo protocol {PROTOCOL}, and the servo answered: {message}"
                    ),
                    None,
                )
                .await),
            Err(e) => {
                let what = format!("initialize failed: {e}");
                Err(servo.failed_now(&what, Some(e)).await)
            }
        }
    }

    /// Which servo this is.
    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    /// Its stderr file.
    pub fn stderr_path(&self) -> &Path {
        &self.stderr
    }

    /// Its stdout file.
    pub fn stdout_path(&self) -> &Path {
        &self.stdout
    }

    /// Sends one request. A failure of the transport leaves the servo
    /// unusable: stop it with [`Servo::failed_now`].
    pub async fn call(
        &mut self,
        method: &str,
        params: Value,
        deadline: Duration,
    ) -> Result<Value, CallError> {
        match self.connection.as_mut() {
            Some(c) => c.call(method, params, deadline).await,
            None => Err(CallError::Closed),
        }
    }

    /// Whether its connection can still be used.
    pub fn is_usable(&self) -> bool {
        self.connection.as_ref().is_some_and(|c| !c.is_broken()) && self.child.is_some()
    }

    /// Kills the servo's group and describes what happened: `what`, how
    /// it exited, and its stderr tail.
    pub async fn failed_now(&mut self, what: &str, call: Option<CallError>) -> Failure {
        // A servo that exits on its own has a moment to be seen exiting.
        let exit = self.reap(Duration::from_millis(200)).await;
        Failure {
            message: format!(
                "{}: {what}{exit}\n{}",
                self.launch.describe(),
                self.stderr_tail()
            ),
            call,
        }
    }

    /// Asks the servo to shut down, then stops its process group: SIGTERM
    /// after [`SHUTDOWN_DEADLINE`], SIGKILL 2 s later.
    pub async fn stop(&mut self) {
        if self.is_usable() {
            let _ = self.call("shutdown", json!({}), SHUTDOWN_DEADLINE).await;
        }
        self.connection = None;
        self.reap(SHUTDOWN_DEADLINE).await;
    }

    /// Waits up to `grace` for the servo to exit, then SIGTERM, then
    /// SIGKILL; returns how it ended, for a message (`, and it exited
    /// with code 1`), or nothing when it was still running.
    async fn reap(&mut self, grace: Duration) -> String {
        let Some(mut child) = self.child.take() else {
            return String::new();
        };
        // Its own exit is told; one the harness forced is not news.
        let said = match tokio::time::timeout(grace, child.wait()).await {
            Ok(Ok(status)) => format!(", and it {}", crate::process::describe(status)),
            Ok(Err(_)) => String::new(),
            Err(_) => {
                let _ = crate::spawn::signal_group(self.pid, Signal::SIGTERM);
                if tokio::time::timeout(Duration::from_secs(2), child.wait())
                    .await
                    .is_err()
                {
                    let _ = crate::spawn::signal_group(self.pid, Signal::SIGKILL);
                    let _ = child.wait().await;
                }
                String::new()
            }
        };
        // What it forked goes with it.
        let _ = crate::spawn::signal_group(self.pid, Signal::SIGKILL);
        crate::spawn::forget_group(self.pid);
        said
    }

    /// The last lines of its stderr, indented, for a message.
    pub fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let shown = self.stderr.display();
        if lines.is_empty() {
            return format!("  its stderr ({shown}) is empty");
        }
        let start = lines.len().saturating_sub(STDERR_TAIL);
        let tail = lines[start..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            "  its stderr ({shown}), last {} line(s):\n{}",
            lines.len() - start,
            crate::acl::redact(&tail)
        )
    }
}

/// Files made for servos are readable by their owner only.
trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt as _;
        self.mode(0o600)
    }
}
