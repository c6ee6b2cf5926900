//! The process's lifecycle after start: stopping, killing, restarting,
//! signals, and how an end is told apart from a crash and reported.

use super::{
    KILL_GRACE, LOG_TAIL_LINES, Proc, SHUTDOWN_GRACE, Server, Status, TERM_GRACE, Workdir,
};
use crate::error::{Error, Result, ServerReport, indent};
use crate::reply::Reply;
use crate::{logfile, spawn};
use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Server {
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

    /// Spawns the process on the written configuration and waits for ready.
    pub(super) async fn launch(&self) -> Result<()> {
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
    pub(super) fn poll(&self, p: &mut Proc) {
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
    pub(super) async fn end(&self, p: &mut Proc, grace: Duration) -> Result<()> {
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

    pub(super) fn port_was_taken(&self) -> bool {
        self.log_contains("Address already in use")
    }

    pub(super) fn start_failed(&self, status: ExitStatus) -> Error {
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

    pub(super) fn died(&self, status: String, during: &str) -> Error {
        Error::Died {
            report: self.report(status),
            during: during.to_string(),
            bug_report: logfile::bug_report(&self.log),
        }
    }

    pub(super) fn report(&self, status: String) -> Box<ServerReport> {
        Box::new(ServerReport {
            name: self.name(),
            port: self.port(),
            status,
            log: self.log.clone(),
            tail: indent(&self.log_tail(LOG_TAIL_LINES)),
        })
    }

    /// Throws away a server that never became ready (port retry).
    pub(super) fn discard(self) {
        // Drop kills the process, if any, and removes an own directory.
        drop(self);
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

pub(super) fn status_of(p: &Proc) -> Status {
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
