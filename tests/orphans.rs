//! Nothing outlives a run: no server after a failed scenario, a panicking
//! step or a SIGKILL of the test process; no server, directory or key file
//! after Ctrl-C or SIGTERM; and what a SIGKILLed run left on disk is removed
//! by the next run, while a live run's files are never touched. Two test
//! processes at once do not collide on ports.
//!
//! The signal and two-process tests run this same test binary again as a
//! child process (`VALKEY_BDD_TEST_CHILD` says which part to play), each with
//! a private `VALKEY_BDD_TMPDIR`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use valkey_bdd::cucumber::{then, when};
use valkey_bdd::settings::KeepPolicy;
use valkey_bdd::{Runner, Status, ValkeyWorld};

static PIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

fn wait_all_dead(pids: &[u32], within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[when(regex = r"^I note the process ids of the servers( and their children)?$")]
async fn note_pids(w: &mut ValkeyWorld, children: String) {
    let mut pids = Vec::new();
    for (_, server) in w.servers() {
        if let Status::Running { pid } = server.status().await {
            pids.push(pid);
        }
    }
    let mut forks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !children.is_empty() && forks.is_empty() && Instant::now() < deadline {
        forks = pids.iter().flat_map(|p| children_of(*p)).collect();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        children.is_empty() || !forks.is_empty(),
        "no server has forked"
    );
    PIDS.lock().unwrap().extend(pids.into_iter().chain(forks));
}

#[when(regex = r"^the step panics$")]
async fn panics(_: &mut ValkeyWorld) {
    panic!("this step panics on purpose");
}

#[when(regex = r"^I wait for an idle node in the pool$")]
async fn wait_for_pool(_: &mut ValkeyWorld) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while valkey_bdd::pool::idle() == 0 {
        assert!(Instant::now() < deadline, "the pool has no idle node");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[then(regex = r"^I print the process ids and wait to be killed$")]
async fn wait_to_be_killed(_: &mut ValkeyWorld) {
    let pids: Vec<String> = PIDS.lock().unwrap().iter().map(u32::to_string).collect();
    println!("PIDS {}", pids.join(" "));
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test]
async fn failing_and_panicking_scenarios_leave_no_server_behind() {
    let _turn = TURNS.lock().await;
    let outcome = Runner::new("tests/fixtures/orphans")
        .args(["orphans"])
        .quiet()
        .keep(KeepPolicy::Never)
        .run()
        .await
        .unwrap();
    assert!(outcome.failed);
    assert_eq!(outcome.failed_steps, 3, "{outcome:?}");
    let pids = PIDS.lock().unwrap().clone();
    // Two servers, one server, one server and its BGSAVE child.
    assert!(pids.len() >= 5, "noted {pids:?}");
    let left = wait_all_dead(&pids, Duration::from_millis(200));
    assert!(left.is_empty(), "still running after teardown: {left:?}");
}

/// The child's part of the tests below; does nothing in a normal run.
#[tokio::test]
async fn child_process_entry() {
    match std::env::var("VALKEY_BDD_TEST_CHILD").as_deref() {
        Ok("hold") => {
            let _ = Runner::new("tests/fixtures/hold")
                .args(["hold"])
                .run()
                .await;
        }
        Ok("interrupt") => {
            let _ = Runner::new("tests/fixtures/interrupt")
                .args(["interrupt"])
                .run()
                .await;
        }
        Ok("suite") => {
            let outcome = Runner::new("features/standalone")
                .args(["suite"])
                .run()
                .await
                .unwrap();
            assert!(!outcome.failed, "{outcome:?}");
        }
        _ => {}
    }
}

fn child(part: &str, tmp: &std::path::Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        "child_process_entry",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env("VALKEY_BDD_TEST_CHILD", part)
    .env("VALKEY_BDD_TMPDIR", tmp)
    .stdin(Stdio::null());
    c
}

#[test]
fn sigkill_of_the_test_process_leaves_no_server_behind() {
    let _turn = TURNS.blocking_lock();
    // Orphans of the killed child come to us, so we can reap them and leave
    // no zombie behind either.
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut proc = child("hold", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = proc.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(pids) = line.strip_prefix("PIDS ") {
                let _ = tx.send(pids.to_string());
            }
        }
    });
    let pids: Vec<u32> = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect(),
        Err(_) => Vec::new(),
    };
    // Two servers and the BGSAVE fork of the second.
    if pids.len() < 3 || !pids.iter().all(|p| alive(*p)) {
        let _ = proc.kill();
        panic!("the child did not report two servers and a fork alive: {pids:?}");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(proc.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    proc.wait().unwrap();
    let left = wait_all_dead(&pids, Duration::from_secs(5));
    for pid in &pids {
        let _ = nix::sys::wait::waitpid(
            nix::unistd::Pid::from_raw(*pid as i32),
            Some(nix::sys::wait::WaitPidFlag::WNOHANG),
        );
    }
    reap_orphans();
    assert!(
        left.is_empty(),
        "servers outlived a SIGKILLed test process: {left:?}"
    );
}

#[test]
fn two_test_processes_at_once_do_not_collide() {
    let tmp = tempfile::tempdir().unwrap();
    let spawn = || {
        child("suite", tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for (name, p) in [("first", a), ("second", b)] {
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "the {name} run failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("scenarios ("),
            "the {name} run ran no scenario"
        );
    }
}

/// The entries of `dir` (not recursive), sorted.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

/// Every file named `name` below `dir`.
fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                todo.push(e.path());
            } else if e.file_name() == name {
                out.push(e.path());
            }
        }
    }
    out
}

/// The live processes working below `dir`: the servers started there (each
/// runs in its own directory; one whose directory was removed still counts).
fn processes_in(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
        })
        .filter(|pid| alive(*pid))
        .collect()
}

/// Tests that run servers in this process and tests that reap what killed
/// children left to us take turns: reaping a zombie that an in-process
/// run's runtime is about to wait for would break that run.
static TURNS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Reaps the zombies that came to us (we are their subreaper) from a child
/// run that ended: its servers and its watchdog, which exits a moment later.
fn reap_orphans() {
    let me = std::process::id().to_string();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(50));
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some((head, tail)) = stat.rsplit_once(')') else {
                continue;
            };
            let comm = head.split_once('(').map_or("", |(_, c)| c);
            let mut f = tail.split_whitespace();
            let (state, ppid) = (f.next(), f.next());
            if state == Some("Z")
                && ppid == Some(me.as_str())
                && ["valkey-server", "sh"].contains(&comm)
            {
                let _ = nix::sys::wait::waitpid(
                    nix::unistd::Pid::from_raw(pid),
                    Some(nix::sys::wait::WaitPidFlag::WNOHANG),
                );
            }
        }
    }
}

/// A child run of `tests/fixtures/interrupt` in `tmp` (under the keep policy
/// `keep`), once it holds a TLS
/// server, a shared server and idle pooled nodes. Returns the child, its
/// stderr (collected as it comes) and its servers' process ids.
fn held_run(tmp: &Path, keep: &str) -> (Child, Arc<Mutex<String>>, Vec<u32>) {
    held_run_of(child("interrupt", tmp), tmp, keep)
}

/// [`held_run`] of `command`, which starts the child run.
fn held_run_of(
    mut command: Command,
    tmp: &Path,
    keep: &str,
) -> (Child, Arc<Mutex<String>>, Vec<u32>) {
    // The reports go into a folder of their own, beside the tmp dir.
    let reports = tmp.with_extension("reports");
    let mut proc = command
        .env("VALKEY_BDD_KEEP", keep)
        .env("VALKEY_BDD_JUNIT", reports.join("junit.xml"))
        .env("VALKEY_BDD_JSON", reports.join("cucumber.json"))
        .env("VALKEY_BDD_REPORT", reports.join("report.html"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = proc.stdout.take().unwrap();
    let stderr = proc.stderr.take().unwrap();
    let err = Arc::new(Mutex::new(String::new()));
    std::thread::spawn({
        let err = err.clone();
        move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut e = err.lock().unwrap();
                e.push_str(&line);
                e.push('\n');
            }
        }
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("PIDS") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(90)).is_err() {
        let _ = proc.kill();
        let _ = proc.wait();
        panic!("the child never held its servers:\n{}", err.lock().unwrap());
    }
    let pids = processes_in(tmp);
    // Not vacuous: a scenario directory, the shared server's, pooled nodes',
    // a private key, and their servers running.
    let names: Vec<String> = entries(tmp)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let ok = names.iter().any(|n| n.starts_with("valkey-bdd-interrupt-"))
        && names.iter().any(|n| n.starts_with("valkey-bdd-common-"))
        && names
            .iter()
            .any(|n| n.starts_with("valkey-bdd-pooled-node-"))
        && !files_named(tmp, "server.key").is_empty()
        && pids.len() >= 3;
    if !ok {
        let _ = proc.kill();
        let _ = proc.wait();
        panic!("the child does not hold what the test needs: {names:?}, servers {pids:?}");
    }
    (proc, err, pids)
}

fn wait_exit(proc: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = proc.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = proc.kill();
            let _ = proc.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn interrupt_leaves_nothing(signal: nix::sys::signal::Signal, code: i32) {
    let _turn = TURNS.blocking_lock();
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (mut proc, err, pids) = held_run(tmp.path(), "failed");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(proc.id() as i32), signal).unwrap();
    let status = wait_exit(&mut proc, Duration::from_secs(30));
    let left = wait_all_dead(&pids, Duration::from_secs(5));
    reap_orphans();
    let err = err.lock().unwrap().clone();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(code),
        "{signal} did not end the run with {code}: {status:?}\n{err}"
    );
    assert!(
        left.is_empty(),
        "servers outlived {signal}: {left:?}\n{err}"
    );
    assert_eq!(processes_in(tmp.path()), Vec::<u32>::new(), "{err}");
    assert_eq!(
        files_named(tmp.path(), "server.key"),
        Vec::<PathBuf>::new(),
        "a private key outlived {signal}"
    );
    assert_eq!(
        entries(tmp.path()),
        Vec::<PathBuf>::new(),
        "directories outlived {signal}\n{err}"
    );
    // A report is written whole or not at all: an interrupted run leaves
    // neither a half-written report nor its temporary file.
    let reports = tmp.path().with_extension("reports");
    assert_eq!(entries(&reports), Vec::<PathBuf>::new(), "{err}");
    let _ = std::fs::remove_dir(&reports);
}

#[test]
fn sigint_mid_suite_leaves_no_server_directory_or_key() {
    interrupt_leaves_nothing(nix::sys::signal::Signal::SIGINT, 130);
}

#[test]
fn sigterm_mid_suite_leaves_no_server_directory_or_key() {
    interrupt_leaves_nothing(nix::sys::signal::Signal::SIGTERM, 143);
}

#[test]
fn sigint_under_keep_always_keeps_scenario_and_shared_directories_only() {
    let _turn = TURNS.blocking_lock();
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (mut proc, err, pids) = held_run(tmp.path(), "always");
    let reports = tmp.path().with_extension("reports");
    struct RemoveOnDrop(PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _reports = RemoveOnDrop(reports);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(proc.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = wait_exit(&mut proc, Duration::from_secs(30));
    let left = wait_all_dead(&pids, Duration::from_secs(5));
    reap_orphans();
    let err = err.lock().unwrap().clone();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(130),
        "{status:?}\n{err}"
    );
    assert!(left.is_empty(), "servers outlived SIGINT: {left:?}\n{err}");
    let names: Vec<String> = entries(tmp.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // Both scenarios' directories (the finished one's and the interrupted
    // one's) and the shared server's; no pooled node's, but for those the
    // finished cluster scenario took and kept as it ended.
    let kept = |prefix: &str| names.iter().filter(|n| n.starts_with(prefix)).count();
    assert_eq!(kept("valkey-bdd-interrupt-"), 2, "{names:?}\n{err}");
    assert_eq!(kept("valkey-bdd-common-"), 1, "{names:?}\n{err}");
    for name in &names {
        assert!(
            name.starts_with("valkey-bdd-interrupt-")
                || name.starts_with("valkey-bdd-common-")
                || err.contains(&format!(
                    "kept its directory: {}",
                    tmp.path().join(name).display()
                )),
            "{name} outlived SIGINT\n{err}"
        );
    }
    // Kept for the user: unmarked, so no later run removes them.
    assert_eq!(
        files_named(tmp.path(), valkey_bdd::leftovers::MARK),
        Vec::<PathBuf>::new()
    );
    assert!(err.contains("kept (VALKEY_BDD_KEEP=always)"), "{err}");
}

/// A run in `tmp`, in this process.
async fn next_run(tmp: &Path) {
    let outcome = Runner::new("tests/fixtures/sweep")
        .args(["sweep"])
        .tmp_root(tmp)
        .keep(KeepPolicy::Never)
        .quiet()
        .run()
        .await
        .unwrap();
    assert!(!outcome.failed, "{outcome:?}");
    assert_eq!(
        outcome.count(|v| *v == valkey_bdd::runner::Verdict::Passed),
        1
    );
}

#[tokio::test]
async fn a_killed_runs_directories_go_with_the_next_run_and_a_live_runs_stay() {
    let _turn = TURNS.lock().await;
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (mut proc, err, pids) = held_run(tmp.path(), "failed");
    let held = entries(tmp.path());
    let keys = files_named(tmp.path(), "server.key");

    // Another run in the same directory, while the first one lives, leaves
    // every file of it alone.
    next_run(tmp.path()).await;
    assert_eq!(
        entries(tmp.path()),
        held,
        "a run removed a live run's directories"
    );
    assert_eq!(files_named(tmp.path(), "server.key"), keys);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(proc.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    proc.wait().unwrap();
    let left = wait_all_dead(&pids, Duration::from_secs(5));
    reap_orphans();
    assert!(left.is_empty(), "servers outlived SIGKILL: {left:?}");
    // Nothing could run at SIGKILL: the directories are still there.
    let after_kill = entries(tmp.path());
    assert!(!after_kill.is_empty());

    next_run(tmp.path()).await;
    assert_eq!(
        entries(tmp.path()),
        Vec::<PathBuf>::new(),
        "the next run left what the killed one left ({after_kill:?})\n{}",
        err.lock().unwrap()
    );
    assert_eq!(files_named(tmp.path(), "server.key"), Vec::<PathBuf>::new());
}

/// `command` started by a shell that waits for it: the run's parent is the
/// shell, as a test binary's is `cargo test`.
fn under_a_parent(command: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.args(["-c", "\"$@\"; exit $?", "sh"])
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(Stdio::null());
    for (k, v) in command.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh
}

#[test]
fn sigkill_of_the_runs_parent_ends_the_run_as_sigterm_does() {
    let _turn = TURNS.blocking_lock();
    // The orphaned run comes to us: we can wait for it.
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (mut shell, err, pids) = held_run_of(
        under_a_parent(&child("interrupt", tmp.path())),
        tmp.path(),
        "failed",
    );
    let runs = children_of(shell.id());
    let [run] = runs[..] else {
        let _ = shell.kill();
        panic!("the shell should have one child, the run: {runs:?}");
    };
    let run = nix::unistd::Pid::from_raw(run as i32);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(shell.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    shell.wait().unwrap();
    // The run, orphaned, must end by itself, as on SIGTERM.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
        match waitpid(run, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(WaitStatus::StillAlive) => {
                let _ = nix::sys::signal::kill(run, nix::sys::signal::Signal::SIGKILL);
                let _ = waitpid(run, None);
                break None;
            }
            Ok(WaitStatus::Exited(_, code)) => break Some(code),
            other => panic!("waiting for the run: {other:?}"),
        }
    };
    let left = wait_all_dead(&pids, Duration::from_secs(5));
    reap_orphans();
    let err = err.lock().unwrap().clone();
    assert_eq!(
        status,
        Some(143),
        "the run outlived its parent's SIGKILL (it was killed after 30 s)\n{err}"
    );
    assert!(
        err.contains("the process that started the run is gone"),
        "{err}"
    );
    assert!(
        left.is_empty(),
        "servers outlived the parent: {left:?}\n{err}"
    );
    assert_eq!(processes_in(tmp.path()), Vec::<u32>::new(), "{err}");
    assert_eq!(
        entries(tmp.path()),
        Vec::<PathBuf>::new(),
        "directories outlived the parent\n{err}"
    );
    let reports = tmp.path().with_extension("reports");
    assert_eq!(entries(&reports), Vec::<PathBuf>::new(), "{err}");
    let _ = std::fs::remove_dir(&reports);
}
