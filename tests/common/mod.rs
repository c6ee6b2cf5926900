//! What the tests that run the harness as a child process share: the
//! `valkey-bdd` command run with a scenario directory of its own, this test
//! binary run again with one test selected and the environment under test,
//! and what a child printed.
//!
//! Each test target compiles this module on its own and uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The `valkey-bdd` command cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_valkey-bdd");

/// The settings a developer's shell may hold that would change what a child
/// run does: each run here says itself what it wants of them.
const RUN_SETTINGS: &[&str] = &[
    "VALKEY_BDD_MATRIX",
    "VALKEY_BDD_JUNIT",
    "VALKEY_BDD_STEPS",
    "VALKEY_BDD_MODULE",
    "MODULE_PATH",
    "VALKEY_BDD_MODULE_ARGS",
];

/// Runs `valkey-bdd run <args>` with `env` set and its scenario directories
/// in a directory of its own, returned for the caller to check (see
/// [`assert_left_nothing`]).
pub fn run(args: &[&str], env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .args(args)
        .env("VALKEY_BDD_TMPDIR", tmp.path());
    for name in RUN_SETTINGS {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().copied());
    (cmd.output().unwrap(), tmp)
}

/// This test binary again, running only the test `entry` (a test that does
/// nothing unless its variable is set) and printing what it prints.
pub fn this_test(entry: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", entry, "--nocapture"]);
    cmd
}

/// What a child printed: its stdout, then its stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What a child printed on stdout.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The names in a directory, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A run's directory holds nothing once the run is over.
pub fn assert_left_nothing(tmp: &Path) {
    let left = entries(tmp);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Runs the features at `path` in this process, quietly, as the test target
/// `target` (its name is the runner's first argument), keeping the scenario
/// directories `keep` says under `root`; the run must start.
pub async fn run_here(
    path: impl Into<std::path::PathBuf>,
    target: &str,
    keep: valkey_bdd::settings::KeepPolicy,
    root: &Path,
) -> valkey_bdd::runner::Outcome {
    valkey_bdd::Runner::new(path)
        .args([target])
        .keep(keep)
        .tmp_root(root)
        .quiet()
        .run()
        .await
        .unwrap()
}

/// The cargo running these tests, as a user would run it: without the
/// variables cargo sets for the test that runs it (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_NAME`, ...), which build scripts watch (ring's does): with
/// them, the nested build would rebuild the dependencies, and the next
/// `cargo test` rebuild them back. The user's own cargo settings stay.
pub fn cargo() -> Command {
    const USER_CONFIG: &[&str] = &[
        "CARGO_HOME",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_",
        "CARGO_TERM_",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTR",
        "CARGO_PROFILE_",
        "CARGO_INCREMENTAL",
    ];
    let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("CARGO_") && !USER_CONFIG.iter().any(|p| name.starts_with(p)) {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// `f` of each item, each in a thread of its own and all at once, in the
/// items' order: child runs that wait on servers more than they compute
/// take the time of the longest, not of all together. A panic in one is
/// the caller's.
pub fn at_once<T: Send, R: Send>(
    items: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    std::thread::scope(|scope| {
        let f = &f;
        let running: Vec<_> = items
            .into_iter()
            .map(|item| scope.spawn(move || f(item)))
            .collect();
        running
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}
