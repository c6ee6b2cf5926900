//! The servo libraries' own tests, run by `cargo test`: `servo/python` with pytest and
//! `servo/node` with `node --test` (each drives a real servo subprocess over a Unix socket);
//! `servo/rust` is a workspace crate with its own `cargo test`. Then the orders example
//! (`examples/orders`) through `valkey-bdd run`: every combination of its roles' Python and
//! Node implementations against real servers.
//!
//! pytest and the `valkey` client come from the venv `.ci/install-server` makes
//! (`~/.cache/valkey-bdd/servo-venv`, or the Python `SERVO_PYTHON` names); Node and the
//! example's packages (`npm ci` in examples/orders) from it too.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, text};

const HINT: &str = "run `bash .ci/install-server` (it installs Node, and pytest and the `valkey` \
                    client into ~/.cache/valkey-bdd/servo-venv), or set SERVO_PYTHON to a \
                    Python that has pytest";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv `.ci/install-server` makes for the servos.
fn servo_venv_python() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("valkey-bdd/servo-venv/bin/python")
}

/// The first Python that can import these modules: `SERVO_PYTHON`, the servo venv,
/// `python3`.
fn python_with(modules: &str) -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("SERVO_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([servo_venv_python(), PathBuf::from("python3")])
        .collect();
    for python in &candidates {
        let ok = Command::new(python)
            .args(["-c", &format!("import {modules}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return python.clone();
        }
    }
    panic!("no Python with {modules} among {candidates:?}\nhint: {HINT}");
}

fn output(cmd: &mut Command, what: &str) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("could not run {what}: {e}\nhint: {HINT}"))
}

#[test]
fn the_python_servo_library_passes_its_tests() {
    let python = python_with("pytest");
    let out = output(
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(root().join("servo/python"))
            // Nothing left in the tree: no __pycache__.
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "pytest",
    );
    let all = text(&out);
    assert!(
        out.status.success(),
        "pytest in servo/python failed ({python:?}):\n{all}"
    );
    assert!(all.contains(" passed"), "{all}");
}

#[test]
fn the_node_servo_library_passes_its_tests() {
    let out = output(
        Command::new("node")
            .arg("--test")
            .current_dir(root().join("servo/node")),
        "node --test (Node 18 or later)",
    );
    let all = text(&out);
    assert!(
        out.status.success(),
        "node --test in servo/node failed:\n{all}"
    );
    assert!(all.contains("# fail 0"), "{all}");
}

/// Runs the orders features under `path` with `valkey-bdd run`, the Python
/// servos on the venv's python that has the `valkey` client.
fn run_orders(path: &str, tmp: &std::path::Path) -> std::process::Output {
    let python = python_with("valkey");
    output(
        Command::new(BIN)
            .args(["run", path, "--keep", "never"])
            .current_dir(root())
            .env("VALKEY_BDD_TMPDIR", tmp)
            .env("SERVO_PYTHON", &python)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("VALKEY_BDD_ROLES")
            .env_remove("VALKEY_BDD_MATRIX"),
        "valkey-bdd run",
    )
}

#[test]
fn the_orders_example_runs_every_combination_of_its_roles() {
    let example = root().join("examples/orders");
    assert!(
        example.join("node_modules/ioredis").is_dir(),
        "examples/orders/node_modules has no ioredis\nhint: run `npm ci` in examples/orders ({HINT})"
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = run_orders("examples/orders/features", tmp.path());
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    // 4 scenarios × 2 consumers × 2 producers.
    assert!(
        all.contains("16 scenarios selected: 16 passed, 0 failed"),
        "{all}"
    );
    for combination in [
        "[consumer=node, producer=node]",
        "[consumer=node, producer=python]",
        "[consumer=python, producer=node]",
        "[consumer=python, producer=python]",
    ] {
        assert!(
            all.contains(&format!(
                "A primary fails over mid-flow and no acknowledged order is lost {combination}"
            )),
            "{combination} missing:\n{all}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn the_orders_examples_checks_fail_with_their_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_orders("tests/fixtures/orders_must_fail", tmp.path());
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    // 4 scenarios × the Python and the Node consumer, each failing at its last step.
    assert!(
        all.contains("8 scenarios selected: 0 passed, 8 failed"),
        "{all}"
    );
    // Each message once per consumer (a message is shown twice: as the step's message and
    // in the traceback or stack of the servo's log).
    for (line, message) in [
        (10, "handled the orders [1, 2, 3], not [1, 2, 3, 4]"),
        (17, "1 orders are pending: "),
        (24, "\"doomed\" has 1 orders pending, not 2"),
        (30, "handled 1 of 2 orders in 10 s: no more came"),
    ] {
        assert!(all.contains(message), "{message:?} missing:\n{all}");
        for consumer in ["node", "python"] {
            let failed = format!(
                "the \"consumer\" process (implementation \"{consumer}\": `cd ../../../examples/orders && "
            );
            let at = format!(
                "failed the step at tests/fixtures/orders_must_fail/orders.feature:{line} "
            );
            assert!(
                all.lines().any(|l| l.contains(&failed) && l.contains(&at)),
                "the {consumer} consumer did not fail at line {line}:\n{all}"
            );
        }
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
