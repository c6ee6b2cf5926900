//! Network faults ([`valkey_bdd::network`]): a run leaves the machine's
//! network as it found it, a failed scenario lists the faults in force, and
//! where namespaces cannot be made the scenarios are skipped with the reason.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use valkey_bdd::runner::Verdict;
use valkey_bdd::settings::KeepPolicy;

/// The machine's own network configuration and the network namespaces any
/// process is in.
fn host_network() -> (Vec<String>, BTreeSet<String>) {
    let sh = |line: &str| {
        let out = Command::new("sh").args(["-c", line]).output().unwrap();
        format!(
            "{line}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let config = vec![
        sh("ip -all netns list"),
        sh("ls /run/netns /var/run/netns 2>&1"),
        sh("nft list ruleset"),
        sh("tc qdisc show"),
        sh("ip addr show"),
        sh("ip route show table all"),
    ];
    let mut namespaces = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(ns) = std::fs::read_link(entry.path().join("ns/net")) {
            namespaces.insert(ns.display().to_string());
        }
    }
    (config, namespaces)
}

/// The child's part of the tests below; does nothing in a normal run.
#[tokio::test]
async fn child_entry() {
    let Ok(feature) = std::env::var("VALKEY_BDD_NETWORK_CHILD") else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let outcome = common::run_here(&feature, "network", KeepPolicy::Never, root.path()).await;
    for s in &outcome.scenarios {
        let verdict = match &s.verdict {
            Verdict::Passed => "passed".to_string(),
            Verdict::Failed => "failed".to_string(),
            Verdict::Skipped(why) => format!("skipped: {why}"),
        };
        println!("SCENARIO {} => {verdict}", s.scenario);
        if let Some(f) = &s.failure {
            println!("FAILURE {}", f.message);
        }
        println!("DETAILS {}", s.details);
    }
}

/// The tests here run one child at a time: a namespace of one child's run
/// must not count as left behind by another's.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run_child(feature: &str, wrap: &[&str]) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = if wrap.is_empty() {
        Command::new(&exe)
    } else {
        let mut c = Command::new(wrap[0]);
        c.args(&wrap[1..]).arg(&exe);
        c
    };
    let out = cmd
        .args(["--exact", "child_entry", "--nocapture"])
        .env("VALKEY_BDD_NETWORK_CHILD", feature)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn is_root() -> bool {
    // The effective uid is the owner of this process's /proc entry.
    std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0
}

#[test]
fn a_run_with_faults_leaves_the_machine_network_as_it_was() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    if !is_root() {
        eprintln!("skipped: network namespaces need root here");
        return;
    }
    let before = host_network();
    let (ok, out) = run_child("features/network/replication.feature", &[]);
    assert!(ok, "{out}");
    assert_eq!(out.matches("=> passed").count(), 3, "{out}");
    let after = host_network();
    assert_eq!(
        before.0, after.0,
        "the machine's network configuration changed"
    );
    let left: Vec<&String> = after.1.difference(&before.1).collect();
    assert!(left.is_empty(), "network namespaces left behind: {left:?}");
}

#[test]
fn a_scenario_failing_under_a_fault_lists_the_faults_in_force() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    if !is_root() {
        eprintln!("skipped: network namespaces need root here");
        return;
    }
    let (_, out) = run_child("tests/fixtures/network/fails_while_cut_off.feature", &[]);
    assert!(out.contains("=> failed"), "{out}");
    assert!(out.contains("network faults in force"), "{out}");
    assert!(
        out.contains("primary (127.0.") && out.contains("and replica 1 (127.0."),
        "{out}"
    );
    assert!(out.contains("are cut off from each other"), "{out}");
}

#[test]
fn where_namespaces_cannot_be_made_the_scenarios_are_skipped_with_the_reason() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    if !is_root() {
        // Already unprivileged: the path is the normal one.
        let (ok, out) = run_child("features/network", &[]);
        assert!(ok, "{out}");
        assert!(out.contains("network faults cannot be made here"), "{out}");
        return;
    }
    // A real unprivileged user: unshare(CLONE_NEWNET) is refused.
    let (ok, out) = run_child(
        "features/network",
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ],
    );
    assert!(ok, "{out}");
    let skipped = out.matches("=> skipped: @requires:network-faults: network faults cannot be made here: cannot make a network namespace: unshare(CLONE_NEWNET) failed: EPERM").count();
    let scenarios = out.matches("SCENARIO ").count();
    assert!(
        scenarios >= 8,
        "fewer scenarios than features/network holds: {out}"
    );
    assert_eq!(skipped, scenarios, "{out}");
    assert!(
        !out.contains("=> passed") && !out.contains("=> failed"),
        "{out}"
    );
}
