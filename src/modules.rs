//! Modules built by cargo: a scenario names the crate of a module
//! (a `cdylib`), and the harness builds it — once per run, whatever the
//! number of scenarios asking — and loads the library it made.
//!
//! `cargo test` does not build a workspace's `cdylib`s, so a module's own
//! features would otherwise run against a stale or missing library.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

type Built = Arc<tokio::sync::OnceCell<std::result::Result<PathBuf, String>>>;

fn builds() -> &'static Mutex<HashMap<String, Built>> {
    static BUILDS: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();
    BUILDS.get_or_init(Default::default)
}

/// The path of the shared library of the `cdylib` crate `package`, built
/// with `cargo build -p <package>` (the cargo running the tests, `$CARGO`,
/// else `cargo` on `PATH`) on first use.
pub async fn cdylib(package: &str) -> Result<PathBuf> {
    let cell = builds()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(package.to_string())
        .or_default()
        .clone();
    cell.get_or_init(|| build(package.to_string()))
        .await
        .clone()
        .map_err(|why| Error::Config {
            what: format!("could not build the module crate {package:?}: {why}"),
            hint: "run `cargo build -p <crate>` to see the whole output; a module crate needs crate-type = [\"cdylib\"]".into(),
        })
}

async fn build(package: String) -> std::result::Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = tokio::process::Command::new(cargo)
        .args(["build", "--quiet", "--message-format=json", "-p", &package])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let messages: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if !out.status.success() {
        let errors: Vec<String> = messages
            .iter()
            .filter(|m| m["reason"] == "compiler-message" && m["message"]["level"] == "error")
            .filter_map(|m| m["message"]["rendered"].as_str().map(str::to_string))
            .take(3)
            .collect();
        return Err(format!(
            "cargo build -p {package} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            errors.join("\n")
        ));
    }
    // The artifact message of the package's cdylib lists its files.
    let target_name = package.replace('-', "_");
    messages
        .iter()
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["target"]["name"].as_str() == Some(target_name.as_str())
                && m["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "so"))
        .ok_or_else(|| {
            format!("cargo built {package}, but named no .so among its artifacts: is it a cdylib?")
        })
}

/// Modules every server of the run loads (`valkey-bdd run --module`), as
/// `(absolute path, arguments)`: set by the runner for the length of a run.
fn every_server() -> &'static Mutex<Vec<(PathBuf, String)>> {
    static EVERY: OnceLock<Mutex<Vec<(PathBuf, String)>>> = OnceLock::new();
    EVERY.get_or_init(Default::default)
}

/// Makes every server started from now on load these modules, each with its
/// arguments (`valkey-bdd run --module ./m.so --module-args "a b"`); an
/// empty list stops it. A server whose scenario loads the same file itself
/// keeps the scenario's arguments.
pub fn load_into_every_server(modules: Vec<(PathBuf, String)>) {
    *every_server().lock().unwrap_or_else(|p| p.into_inner()) = modules;
}

/// The modules every server loads ([`load_into_every_server`]).
pub fn loaded_into_every_server() -> Vec<(PathBuf, String)> {
    every_server()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}
