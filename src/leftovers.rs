//! Directories that outlive nothing: every directory the harness makes
//! under a temporary root is marked with the run that made it, so that it
//! can be removed whatever ends that run.
//!
//! - **A normal end**: each owner removes its own directory (a scenario at
//!   its end, a server when it goes, the pool when it drains), or keeps it
//!   by the keep policy; a kept directory loses its mark ([`keep`]) and is
//!   the user's from then on.
//! - **An interrupt** (Ctrl-C, SIGTERM): the runner exits without running
//!   destructors, so it first closes the door to new directories
//!   ([`close`]) and then removes every directory still marked with its own
//!   run ([`remove_own`]).
//! - **SIGKILL** (or anything else that ends the process at once): the next
//!   run removes the directories whose owner is gone ([`sweep`]).
//!
//! The mark is a file, [`MARK`], in the directory: the run's id and the kind
//! of directory. A run's id is `<pid>-<start time>`, and a run holds the
//! abstract unix socket `@valkey-bdd/run/<id>` for as long as it lives —
//! as port leases do ([`crate::ports`]): the kernel releases it when the
//! process ends, however it ends. An owner counts as alive while its socket
//! is bound **or** a process with its pid and start time runs (the socket
//! is per network namespace, the pid per pid namespace; either proves
//! life). The socket proves it only when held by this same user (its
//! credentials, `SO_PEERCRED`): anyone may bind an abstract name, and another
//! user holding a dead run's would otherwise keep its files forever. Only directories named `valkey-bdd-*`, owned by this user, not a
//! symbolic link, and holding a well-formed mark of a dead owner are ever
//! removed by another run.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The file that marks a directory as a run's own.
pub const MARK: &str = ".valkey-bdd-run";
/// How every directory the harness makes under a temporary root is named.
pub const PREFIX: &str = "valkey-bdd-";

/// What a marked directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scenario's directory, with its servers' directories inside.
    Scenario,
    /// A server's own directory (a pooled cluster node, a shared server).
    Server,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Scenario => "scenario",
            Kind::Server => "server",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "scenario" => Some(Kind::Scenario),
            "server" => Some(Kind::Server),
            _ => None,
        }
    }
}

struct State {
    /// The roots this process made directories in.
    roots: BTreeSet<PathBuf>,
    /// Set once the process is ending: no directory is made after.
    closed: bool,
}

fn state() -> std::sync::MutexGuard<'static, State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE
        .get_or_init(|| {
            Mutex::new(State {
                roots: BTreeSet::new(),
                closed: false,
            })
        })
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

fn socket_name(id: &str) -> String {
    format!("valkey-bdd/run/{id}")
}

/// This process's run id, `<pid>-<start time>`; the first call binds the
/// socket that tells other runs this one is alive.
pub fn run_id() -> &'static str {
    static ID: OnceLock<(String, Option<UnixListener>)> = OnceLock::new();
    let (id, _socket) = ID.get_or_init(|| {
        let pid = std::process::id();
        let base = format!("{pid}-{}", start_time(pid).unwrap_or(0));
        // Another pid namespace may hold the same pid and start time:
        // then a suffix tells the two apart.
        for n in 0..16u32 {
            let id = if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            if let Some(socket) = bind(&id) {
                accept_and_drop(&socket);
                return (id, Some(socket));
            }
        }
        tracing::warn!(
            "cannot hold the socket @{}: other runs will know this one is alive by its pid only",
            socket_name(&base)
        );
        (base, None)
    });
    id
}

fn bind(id: &str) -> Option<UnixListener> {
    let addr = SocketAddr::from_abstract_name(socket_name(id).as_bytes()).ok()?;
    UnixListener::bind_addr(&addr).ok()
}

/// Other runs connect to the socket to learn who holds it ([`held_by_me`]):
/// a thread takes each connection and drops it, so that they never fill
/// the socket's backlog.
fn accept_and_drop(socket: &UnixListener) {
    let Ok(socket) = socket.try_clone() else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("valkey-bdd-alive".into())
        .spawn(move || {
            for connection in socket.incoming() {
                drop(connection);
            }
        });
}

/// Whether the socket of run `id` is held by a process of this user: a
/// connection to it (without waiting: a full backlog proves nothing) finds
/// the holder's credentials. `None` when the name is unusable.
fn held_by_me(id: &str) -> Option<bool> {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockType, UnixAddr, connect, getsockopt, socket, sockopt,
    };
    use std::os::fd::AsRawFd as _;
    let addr = UnixAddr::new_abstract(socket_name(id).as_bytes()).ok()?;
    let Ok(fd) = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    ) else {
        return None;
    };
    if connect(fd.as_raw_fd(), &addr).is_err() {
        return Some(false);
    }
    let peer = getsockopt(&fd, sockopt::PeerCredentials).ok()?;
    Some(Some(peer.uid()) == own_uid())
}

/// The start time of process `pid` (clock ticks since boot), while it runs
/// and is not a zombie.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces and parentheses.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    // `starttime` is field 22; the state is field 3.
    fields.nth(22 - 4)?.parse().ok()
}

/// Whether the run with this id still lives: its socket is held by this
/// user, or its process runs.
fn alive(id: &str) -> bool {
    match held_by_me(id) {
        // Held by its owner (or the name is unusable: assume alive).
        Some(true) | None => return true,
        // Free, or held by another user, which proves nothing.
        Some(false) => {}
    }
    let mut parts = id.split('-');
    let (Some(pid), Some(start)) = (
        parts.next().and_then(|p| p.parse::<u32>().ok()),
        parts.next().and_then(|s| s.parse::<u64>().ok()),
    ) else {
        return true;
    };
    start_time(pid) == Some(start)
}

/// Makes a directory `<root>/<prefix>XXXXXX` (mode 0700), marked as this
/// run's own. `prefix` must start with [`PREFIX`]. Refused once the run
/// is ending ([`close`]).
pub fn tempdir(root: &Path, prefix: &str, kind: Kind) -> std::io::Result<tempfile::TempDir> {
    debug_assert!(prefix.starts_with(PREFIX));
    let id = run_id();
    // Held while the directory is made and marked, so that `close` either
    // comes before (nothing is made) or after (the mark is there to find).
    let mut s = state();
    if s.closed {
        return Err(std::io::Error::other(
            "the run is ending: no new directory is made",
        ));
    }
    let dir = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .prefix(prefix)
        .tempdir_in(root)?;
    let mut mark = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.path().join(MARK))?;
    writeln!(mark, "{id} {}", kind.name())?;
    s.roots.insert(root.to_path_buf());
    Ok(dir)
}

/// Keeps a directory made by [`tempdir`]: it loses its mark, so that no run
/// removes it, and stays on disk. Once the run is ending ([`close`]) the
/// mark stays: what an interrupted run keeps is decided in one place,
/// [`remove_own`] (a node killed mid-start must not keep its directory
/// because its start failed).
pub fn keep(dir: tempfile::TempDir) -> PathBuf {
    if !state().closed {
        let _ = std::fs::remove_file(dir.path().join(MARK));
    }
    dir.keep()
}

/// Directories kept that no scenario counts: a server that failed to start
/// in a directory of its own (a reused or pooled one). The run names them
/// with the scenarios' kept directories ([`take_kept_aside`]).
fn kept_aside() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static KEPT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    KEPT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Notes a directory kept outside any scenario, for the run's "kept" line.
pub fn note_kept_aside(dir: PathBuf) {
    kept_aside().push(dir);
}

/// The directories noted by [`note_kept_aside`] since the last call.
pub fn take_kept_aside() -> Vec<PathBuf> {
    std::mem::take(&mut *kept_aside())
}

/// Refuses every directory from now on: the run is ending.
pub fn close() {
    state().closed = true;
}

/// This process's effective user id: `/proc/self` belongs to it.
fn own_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The run id and kind in `dir`'s mark, if `dir` is a directory this user's
/// harness made and marked.
fn read_mark(dir: &Path) -> Option<(String, Kind)> {
    let name = dir.file_name()?.to_str()?;
    if !name.starts_with(PREFIX) {
        return None;
    }
    let meta = std::fs::symlink_metadata(dir).ok()?;
    if !meta.is_dir() || Some(meta.uid()) != own_uid() {
        return None;
    }
    let mark = dir.join(MARK);
    if !std::fs::symlink_metadata(&mark).ok()?.is_file() {
        return None;
    }
    let text = std::fs::read_to_string(mark).ok()?;
    let (id, kind) = text.trim_end().split_once(' ')?;
    Some((id.to_string(), Kind::parse(kind)?))
}

/// The marked directories directly under `roots`, with their marks.
fn marked(roots: &[PathBuf]) -> Vec<(PathBuf, String, Kind)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for root in roots {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !seen.insert(path.canonicalize().unwrap_or_else(|_| path.clone())) {
                continue;
            }
            if let Some((id, kind)) = read_mark(&path) {
                out.push((path, id, kind));
            }
        }
    }
    out
}

/// Removes a directory; a process that was killed an instant ago may still
/// add a file meanwhile, so a few tries.
fn remove(dir: &Path) -> std::io::Result<()> {
    let mut tries = 0;
    loop {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if tries >= 4 => return Err(e),
            Err(_) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10 * tries));
            }
        }
    }
}

/// The roots a run sweeps: `extra` (a runner's own root), the temporary
/// root of the settings and, when `VALKEY_BDD_TMPDIR` does not pin it, every
/// root the default may pick (`/dev/shm` or the system's temporary
/// directory, depending on the room left), since a killed run may have
/// picked the other one.
pub fn roots(extra: Option<PathBuf>) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = extra.into_iter().collect();
    roots.push(crate::settings::tmp_root());
    if std::env::var_os("VALKEY_BDD_TMPDIR").is_none_or(|v| v.is_empty()) {
        roots.push(PathBuf::from("/dev/shm"));
        roots.push(std::env::temp_dir());
    }
    let mut seen = BTreeSet::new();
    roots.retain(|r| seen.insert(r.clone()));
    roots
}

/// Removes the directories under `roots` left by runs that are gone (killed
/// by SIGKILL, or by anything else that skipped their cleanup). Returns the
/// directories removed. Directories of live runs, kept directories and
/// anything the harness did not make are left alone.
pub fn sweep(roots: &[PathBuf]) -> Vec<PathBuf> {
    let own = run_id();
    let mut removed = Vec::new();
    for (dir, id, _) in marked(roots) {
        if id == own || alive(&id) {
            continue;
        }
        match remove(&dir) {
            Ok(()) => removed.push(dir),
            Err(e) => tracing::warn!(
                "cannot remove {}, left by a run that is gone: {e}",
                dir.display()
            ),
        }
    }
    removed
}

/// What [`remove_own`] did.
#[derive(Debug, Default)]
pub struct Removed {
    /// How many directories it removed.
    pub removed: usize,
    /// The scenario directories it kept (unmarked), when asked to.
    pub kept: Vec<PathBuf>,
    /// Directories it could not remove, with why.
    pub failed: Vec<String>,
}

/// Removes every directory this run made and still holds: the interrupt
/// path, once every server is stopped and [`close`] has been called. With
/// `keep_scenarios`, scenario directories stay (and lose their mark), and so
/// do the directories in `keep_also`.
pub fn remove_own(keep_scenarios: bool, keep_also: &[PathBuf]) -> Removed {
    let roots: Vec<PathBuf> = state().roots.iter().cloned().collect();
    let own = run_id();
    let mut out = Removed::default();
    for (dir, id, kind) in marked(&roots) {
        if id != own {
            continue;
        }
        if (keep_scenarios && kind == Kind::Scenario) || keep_also.contains(&dir) {
            let _ = std::fs::remove_file(dir.join(MARK));
            out.kept.push(dir);
            continue;
        }
        match remove(&dir) {
            Ok(()) => out.removed += 1,
            Err(e) => out.failed.push(format!("{}: {e}", dir.display())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt as _;

    fn mark(root: &Path, name: &str, text: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(MARK), text).unwrap();
        dir
    }

    /// The id of a process that ran and is gone.
    fn dead_id() -> String {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let id = format!("{}-{}", child.id(), start_time(child.id()).unwrap());
        child.kill().unwrap();
        child.wait().unwrap();
        id
    }

    #[test]
    fn only_marked_directories_of_dead_runs_are_swept() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let dead = dead_id();
        let gone = mark(r, "valkey-bdd-gone-1", &format!("{dead} scenario\n"));
        std::fs::create_dir(gone.join("node")).unwrap();
        std::fs::write(gone.join("node/server.key"), "secret").unwrap();
        let mine = mark(r, "valkey-bdd-mine", &format!("{} server\n", run_id()));
        // Alive by its pid and start time, though it holds no socket.
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let live_id = format!("{}-{}", sleeper.id(), start_time(sleeper.id()).unwrap());
        let live = mark(r, "valkey-bdd-live", &format!("{live_id} scenario\n"));
        // Alive by its socket, though no such process exists.
        let held_id = "4194304-1";
        let _held = bind(held_id).unwrap();
        let held = mark(r, "valkey-bdd-held", &format!("{held_id} scenario\n"));
        let unmarked = r.join("valkey-bdd-kept");
        std::fs::create_dir(&unmarked).unwrap();
        let foreign = mark(r, "other-tool", &format!("{dead} scenario\n"));
        let garbled = mark(r, "valkey-bdd-garbled", "nonsense");
        let target = mark(r, "target", &format!("{dead} scenario\n"));
        let link = r.join("valkey-bdd-link");
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let removed = sweep(&[r.to_path_buf()]);
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
        assert_eq!(removed, vec![gone.clone()]);
        assert!(!gone.exists());
        for d in [&mine, &live, &held, &unmarked, &foreign, &garbled, &target] {
            assert!(d.exists(), "{} was removed", d.display());
        }
        assert!(link.symlink_metadata().is_ok());
        // Its owner gone now, the one kept alive by a process goes too.
        assert_eq!(sweep(&[r.to_path_buf()]), vec![live]);
    }

    #[test]
    fn a_kept_directory_loses_its_mark() {
        let root = tempfile::tempdir().unwrap();
        let dir = tempdir(root.path(), "valkey-bdd-t-", Kind::Scenario).unwrap();
        let (id, kind) = read_mark(dir.path()).unwrap();
        assert_eq!((id.as_str(), kind), (run_id(), Kind::Scenario));
        let path = keep(dir);
        assert!(path.is_dir());
        assert!(read_mark(&path).is_none());
        std::fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn a_run_sweeps_every_root_the_default_may_pick() {
        let extra = PathBuf::from("/somewhere/else");
        let roots = roots(Some(extra.clone()));
        assert_eq!(roots[0], extra);
        assert!(roots.contains(&crate::settings::tmp_root()));
        if std::env::var_os("VALKEY_BDD_TMPDIR").is_none() {
            assert!(roots.contains(&PathBuf::from("/dev/shm")));
            assert!(roots.contains(&std::env::temp_dir()));
        }
        let unique: BTreeSet<_> = roots.iter().collect();
        assert_eq!(unique.len(), roots.len(), "{roots:?}");
    }

    #[test]
    fn another_users_socket_does_not_keep_a_dead_runs_directory() {
        if own_uid() != Some(0) {
            eprintln!("skipped: binding the socket as another user needs root");
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let dead = dead_id();
        let dir = mark(root.path(), "valkey-bdd-x", &format!("{dead} scenario\n"));
        // `nobody` holds the dead run's name, listening.
        let hold = "import socket, sys, time\n\
                    s = socket.socket(socket.AF_UNIX)\n\
                    s.bind(b'\\0' + sys.argv[1].encode())\n\
                    s.listen(1)\n\
                    print('held', flush=True)\n\
                    time.sleep(60)\n";
        // The system's python3: one under root's home is not for `nobody`.
        let python = Path::new("/usr/bin/python3");
        if !python.exists() {
            eprintln!("skipped: no /usr/bin/python3 to bind the socket as another user");
            return;
        }
        let mut holder = std::process::Command::new(python)
            .args(["-c", hold, &socket_name(&dead)])
            .uid(65534)
            .gid(65534)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(holder.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let removed = sweep(&[root.path().to_path_buf()]);
        let held_by_nobody = bind(&dead).is_none();
        holder.kill().unwrap();
        holder.wait().unwrap();
        assert_eq!(line, "held\n");
        assert!(held_by_nobody, "the name was not held");
        assert_eq!(removed, vec![dir]);
    }

    #[test]
    fn a_run_is_alive_while_it_holds_its_socket() {
        assert!(alive(run_id()));
        let dead = dead_id();
        assert!(!alive(&dead));
    }
}
