//! No server outlives a run: not after a failed scenario, a panicking step or
//! a SIGKILL of the test process; and two test processes at once do not
//! collide on ports.
//!
//! The SIGKILL and two-process tests run this same test binary again as a
//! child process (`VALKEY_BDD_TEST_CHILD` says which part to play).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;
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

#[then(regex = r"^I print the process ids and wait to be killed$")]
async fn wait_to_be_killed(_: &mut ValkeyWorld) {
    let pids: Vec<String> = PIDS.lock().unwrap().iter().map(u32::to_string).collect();
    println!("PIDS {}", pids.join(" "));
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test]
async fn failing_and_panicking_scenarios_leave_no_server_behind() {
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
