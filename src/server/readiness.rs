//! Readiness: when a spawned server counts as started.
//!
//! Ready means alive, answering `PING` *as itself* and not loading. "As
//! itself": `INFO server` must name the child's process id, so that another
//! program that took the port after the harness checked it — and answers
//! there, perhaps even as a server — is never taken for ours. Every probe
//! races the child's exit: a server that could not bind its port exits
//! within milliseconds, and that is noticed at once (the port is then
//! retried, see [`Server::start`]) instead of after a probe of someone
//! else's listener times out.

use std::process::ExitStatus;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{KILL_GRACE, Server, first_line};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::spawn;

/// How often readiness looks whether the process has exited meanwhile.
const EXIT_POLL: Duration = Duration::from_millis(5);

impl Server {
    /// Waits until the process is ready: alive, answering `PING` as itself
    /// (`INFO server` names our process id: another program that took the
    /// port is never taken for ours) and not loading. Every probe races the
    /// process's exit, so a server that exits at once (its port was taken)
    /// is reported at once, not after a probe of someone else's listener
    /// times out.
    pub(super) async fn wait_ready(&self) -> Result<()> {
        let started = Instant::now();
        let deadline = started + self.start_timeout;
        let pid = self.pid.load(Ordering::SeqCst);
        let mut pause = Duration::from_micros(500);
        let mut last = "nothing yet".to_string();
        loop {
            let probe = tokio::time::timeout_at(deadline.into(), self.probe_ready(pid));
            tokio::select! {
                biased;
                status = self.exited() => return Err(self.start_failed(status)),
                outcome = probe => match outcome {
                    Ok(Ok(c)) => {
                        *self.kept.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
                        return Ok(());
                    }
                    Ok(Err(seen)) => last = seen,
                    Err(_) => last = format!("no answer to the readiness probe (before that: {last})"),
                },
            }
            if Instant::now() >= deadline {
                let mut p = self.proc.lock().await;
                p.expected = true;
                let _ = spawn::signal_group(self.pid.load(Ordering::SeqCst), Signal::SIGKILL);
                let _ = self.end(&mut p, KILL_GRACE).await;
                return Err(Error::NotReady {
                    report: self.report("running".into()),
                    waited: started.elapsed(),
                    last,
                });
            }
            tokio::select! {
                biased;
                status = self.exited() => return Err(self.start_failed(status)),
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Resolves when the process has ended, with how it ended.
    async fn exited(&self) -> ExitStatus {
        loop {
            {
                let mut p = self.proc.lock().await;
                self.poll(&mut p);
                if let Some(status) = p.exit {
                    return status;
                }
            }
            tokio::time::sleep(EXIT_POLL).await;
        }
    }

    /// One readiness probe: a connection on which the server answers `PING`,
    /// says it is process `pid`, and is not loading; or what was seen instead.
    async fn probe_ready(&self, pid: u32) -> std::result::Result<Client, String> {
        let mut c = self
            .admin_client()
            .await
            .map_err(|e| format!("no connection ({})", first_line(&e.to_string())))?;
        match c.run("PING").await {
            Ok(Reply::Status(s)) if s == "PONG" => {}
            Ok(other) => return Err(format!("PING answered {other}")),
            Err(e) => return Err(format!("PING failed ({})", first_line(&e.to_string()))),
        }
        let info = |section: &'static str, reply: Result<Reply>| match reply {
            Ok(r @ (Reply::Bulk(_) | Reply::Verbatim(_))) => Ok(r.text().unwrap_or_default()),
            Ok(other) => Err(format!(
                "INFO {section}: {}",
                first_line(&other.to_string())
            )),
            Err(e) => Err(format!("INFO {section}: {}", first_line(&e.to_string()))),
        };
        let server = info("server", c.run("INFO server").await)?;
        match info_field(&server, "process_id") {
            Some(id) if id == pid.to_string() => {}
            Some(id) => {
                return Err(format!(
                    "port {} is answered by another process (process_id {id}), not by ours (pid {pid})",
                    self.port()
                ));
            }
            None => return Err("INFO server has no process_id".into()),
        }
        let persistence = info("persistence", c.run("INFO persistence").await)?;
        match info_field(&persistence, "loading") {
            Some("0") => Ok(c),
            Some(_) => Err("loading its data (INFO persistence: loading:1)".into()),
            None => Err("INFO persistence has no loading field".into()),
        }
    }
}

/// A field of an `INFO` reply's text (`loading:0` gives `0` for `loading`):
/// the two a probe reads, without the `INFO` reader of the layer above
/// ([`crate::info::Info`]).
fn info_field<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == field)
        .map(|(_, v)| v.trim())
}
