//! The command installed without this repository's cargo build: through
//! `cargo install` under a fresh CARGO_HOME, and through the Python wheel in
//! a fresh virtualenv, which then runs the C-module suite. Both share one
//! release build (`target/release`, under the clean CARGO_HOME of
//! `.ci/packaging-env`): the first packaging pays for it, the second and
//! later runs reuse it. A test is skipped, saying why, when a tool it needs
//! is missing from the machine (python3's venv for the wheel), and when
//! `TEST_PACKAGING=0` asks to leave packaging out: the first run pays for a
//! release build (about 8 minutes cold on a 2-core machine, a second when
//! nothing changed), which a developer iterating on something else may skip.

use std::process::Command;
use std::sync::Mutex;

/// One packaging at a time: both build in the same release folder, and the
/// second reuses what the first compiled instead of waiting on its lock.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn has(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `.ci/<name>` and returns what it printed; fails when it failed or
/// did not print the version of this crate.
fn script(name: &str, args: &[&str]) -> String {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let out = Command::new("bash")
        .arg(format!(".ci/{name}"))
        .args(args)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), ".ci/{name} failed:\n{all}");
    let version = format!("valkey-bdd {}", env!("CARGO_PKG_VERSION"));
    assert!(all.contains(&version), "{version} in:\n{all}");
    all
}

/// The `N scenarios selected: P passed, 0 failed, 0 skipped` line: `P`,
/// when every selected scenario passed.
fn all_passed(output: &str) -> usize {
    let line = output
        .lines()
        .find(|l| l.contains(" scenarios selected: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{output}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers.as_slice() {
        [selected, passed, 0, 0] if selected == passed => *passed,
        _ => panic!("not every scenario passed: {line}\n{output}"),
    }
}

/// Whether packaging runs: always, unless `TEST_PACKAGING=0` leaves it out
/// (said on stderr, so a skipped packaging test is never silent).
fn asked() -> bool {
    let asked = std::env::var("TEST_PACKAGING").as_deref() != Ok("0");
    if !asked {
        eprintln!("skipped: TEST_PACKAGING=0 leaves out the packaging tests (a release build)");
    }
    asked
}

#[test]
fn cargo_install_from_a_fresh_cargo_home_gives_a_working_command() {
    if !asked() {
        return;
    }
    let out = script("cargo-install", &[]);
    assert!(all_passed(&out) > 0, "{out}");
}

#[test]
fn the_wheel_installs_the_command_into_a_fresh_venv_and_runs_the_c_module_suite() {
    if !asked() {
        return;
    }
    if !has("python3", &["-c", "import venv, ensurepip"]) {
        eprintln!(
            "skipped: python3 with its venv module is not installed (apt-get install python3-venv)"
        );
        return;
    }
    if !std::path::Path::new(".build/modules/8.1.1/datatype.so").exists() {
        eprintln!("skipped: Valkey's test modules are not built (.ci/install-server builds them)");
        return;
    }
    let out = script("wheel", &["examples/c-modules"]);
    // Every scenario of the suite, run by the venv's valkey-bdd.
    assert!(all_passed(&out) >= 95, "{out}");
}
