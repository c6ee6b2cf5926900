//! Starting child processes that cannot outlive the harness.
//!
//! This is the one module that needs `unsafe`: `pre_exec` hooks.
//!
//! Three nets, from the inside out:
//! 1. Each child leads its own process group, so a stop signal reaches the
//!    forks it makes too (BGSAVE, AOF rewrite, module threads' children), and a
//!    Ctrl-C in the terminal does not hit servers mid-teardown.
//! 2. `PR_SET_PDEATHSIG(SIGKILL)`: the kernel kills the child when its parent
//!    *thread* exits. Tokio runs futures on worker and blocking threads that
//!    come and go, so every spawn is done by one dedicated thread that lives as
//!    long as the process: the signal then fires exactly when the test process
//!    dies, whether it exits, panics or is SIGKILLed.
//! 3. Every live process group is listed in [`live_groups`], so that an
//!    interrupted run can kill them all before it exits.
//! 4. PDEATHSIG reaches the server, not the children it forks: a BGSAVE or
//!    AOF-rewrite child outlives a SIGKILLed server and keeps running. So a
//!    small watchdog (`sh`, in a process group of its own, deaf to Ctrl-C)
//!    is told of every group as it comes and goes over a pipe; when the pipe
//!    closes — this process ended, however it ended — the watchdog kills
//!    every group still listed, forks included, and exits.

#![allow(unsafe_code)]

use std::collections::HashSet;
use std::io::{self, Write as _};
use std::os::unix::process::CommandExt;
use std::sync::{Mutex, OnceLock, mpsc};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

struct Request {
    command: std::process::Command,
    runtime: tokio::runtime::Handle,
    reply: tokio::sync::oneshot::Sender<io::Result<tokio::process::Child>>,
}

fn spawner() -> &'static Mutex<mpsc::Sender<Request>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("valkey-bdd-spawner".into())
            .spawn(move || {
                // Never returns while the process lives: see the module docs.
                for req in rx {
                    let _guard = req.runtime.enter();
                    let child = tokio::process::Command::from(req.command).spawn();
                    let _ = req.reply.send(child);
                }
            })
            .expect("cannot start the spawner thread");
        Mutex::new(tx)
    })
}

/// Spawns `command` in its own process group, bound to die with this process.
///
/// Must be called from within a Tokio runtime; the child is registered with it.
pub async fn spawn(mut command: std::process::Command) -> io::Result<tokio::process::Child> {
    let parent = std::process::id();
    command.process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls (prctl, getppid); it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
            // The parent may have died between fork and prctl.
            if nix::unistd::getppid().as_raw() as u32 != parent {
                return Err(io::Error::from(nix::errno::Errno::ESRCH));
            }
            Ok(())
        });
    }
    let (reply, rx) = tokio::sync::oneshot::channel();
    let req = Request {
        command,
        runtime: tokio::runtime::Handle::current(),
        reply,
    };
    spawner()
        .lock()
        .expect("spawner lock poisoned")
        .send(req)
        .map_err(|_| io::Error::other("the spawner thread is gone"))?;
    let child = rx
        .await
        .map_err(|_| io::Error::other("the spawner thread dropped the request"))??;
    if let Some(pid) = child.id() {
        groups()
            .lock()
            .expect("groups lock poisoned")
            .insert(pid as i32);
        tell_watchdog('+', pid);
    }
    Ok(child)
}

/// Makes `command` start inside the network namespace open as `namespace`
/// ([`crate::network`]): it enters it between fork and exec. The
/// descriptor must stay open until the command has started.
pub fn enter_network_namespace(command: &mut std::process::Command, namespace: std::os::fd::RawFd) {
    // SAFETY: the closure runs in the forked child before exec and makes one
    // async-signal-safe system call (setns); it allocates nothing. The
    // descriptor is open in the child: it was inherited at fork, and exec,
    // which would close it, has not happened yet.
    unsafe {
        command.pre_exec(move || {
            let fd = std::os::fd::BorrowedFd::borrow_raw(namespace);
            nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
        });
    }
}

/// The watchdog's script: keep the list of live groups from the pipe, kill
/// what is left when the pipe closes.
const WATCHDOG: &str = r#"trap '' INT TERM HUP
live=""
while read -r op g; do
  if [ "$op" = "+" ]; then live="$live $g"
  else next=""; for x in $live; do [ "$x" = "$g" ] || next="$next $x"; done; live="$next"; fi
done
for g in $live; do kill -s KILL -- "-$g" 2>/dev/null; done
"#;

fn watchdog() -> &'static Mutex<Option<std::process::ChildStdin>> {
    static PIPE: OnceLock<Mutex<Option<std::process::ChildStdin>>> = OnceLock::new();
    PIPE.get_or_init(|| {
        let started = std::process::Command::new("sh")
            .args(["-c", WATCHDOG])
            .process_group(0)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match started {
            // Deliberately never waited for: it must outlive this process.
            Ok(mut child) => Mutex::new(child.stdin.take()),
            Err(e) => {
                tracing::warn!(
                    "cannot start the watchdog (sh): {e}; forks of a server may outlive a killed test process"
                );
                Mutex::new(None)
            }
        }
    })
}

fn tell_watchdog(op: char, pgid: u32) {
    let mut pipe = watchdog().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(w) = pipe.as_mut() {
        // One short line, far below the pipe's buffer: the write does not block.
        if writeln!(w, "{op} {pgid}").is_err() {
            *pipe = None;
        }
    }
}

fn groups() -> &'static Mutex<HashSet<i32>> {
    static GROUPS: OnceLock<Mutex<HashSet<i32>>> = OnceLock::new();
    GROUPS.get_or_init(Default::default)
}

/// Forgets a process group whose leader has been reaped.
pub fn forget_group(pgid: u32) {
    let known = groups()
        .lock()
        .expect("groups lock poisoned")
        .remove(&(pgid as i32));
    if known {
        tell_watchdog('-', pgid);
    }
}

/// The process groups of every child spawned here and not yet reaped.
pub fn live_groups() -> Vec<u32> {
    groups()
        .lock()
        .expect("groups lock poisoned")
        .iter()
        .map(|g| *g as u32)
        .collect()
}

/// Sends `signal` to a whole process group. A group that no longer exists is
/// not an error.
pub fn signal_group(pgid: u32, signal: Signal) -> io::Result<()> {
    match killpg(Pid::from_raw(pgid as i32), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Kills every live process group at once: the last resort of an
/// interrupted run.
pub fn kill_all() {
    for pgid in live_groups() {
        let _ = signal_group(pgid, Signal::SIGKILL);
    }
}

/// Whether the main thread of `pid` is stopped in an event wait
/// (`epoll_wait`): an idle server, however slowly it is scheduled. `None`
/// when it cannot be told (`/proc/<pid>/syscall` unreadable); a stopped
/// (frozen) process is never counted as waiting.
pub fn waits_for_events(pid: u32) -> Option<bool> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat.rsplit(')').next()?.split_whitespace().next()?;
    if state == "T" || state == "t" {
        return Some(false);
    }
    let syscall = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let number = syscall.split_whitespace().next()?;
    let Ok(number) = number.parse::<i64>() else {
        // "running": it executes, so it is not waiting.
        return Some(false);
    };
    let waits: &[i64] = &[
        #[cfg(target_arch = "x86_64")]
        nix::libc::SYS_epoll_wait,
        nix::libc::SYS_epoll_pwait,
        nix::libc::SYS_epoll_pwait2,
    ];
    Some(waits.contains(&number))
}

/// Whether the main thread of `pid` is stopped or asleep in a system call
/// other than an event wait (`DEBUG SLEEP`'s `nanosleep`): inside a command,
/// not between them. A running or runnable thread is not.
pub fn sleeps_outside_event_wait(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|s| s.split_whitespace().next());
    match state {
        Some("T" | "t") => true,
        Some("S" | "D") => waits_for_events(pid) == Some(false),
        _ => false,
    }
}

/// `exited with code 3`, `was killed by signal 9 (SIGKILL)`.
pub fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!(
            "was killed by signal {s} ({})",
            Signal::try_from(s).map_or("?", |s| s.as_str())
        ),
        _ => "ended".into(),
    }
}
