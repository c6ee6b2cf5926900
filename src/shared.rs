//! Servers shared by the scenarios of one feature.
//!
//! RFC 17's first example starts one server, uses it from several ordered
//! tests and stops it in the last one. In Gherkin: tag the feature `@serial`
//! (cucumber then runs its scenarios one at a time, in order) and begin each
//! scenario with `Given a server "common" shared by the scenarios of this
//! feature`. The first scenario starts it; the others attach to it. It stops
//! when a scenario stops it, and in any case when the run ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::Result;
use crate::server::{Server, ServerSpec};

struct Entry {
    server: Arc<Server>,
    failed: bool,
}

type Registry = Mutex<HashMap<(String, String), Entry>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<(String, String), Entry>> {
    registry().lock().unwrap_or_else(|p| p.into_inner())
}

/// The shared server `spec.name()` of `feature`, started now if it is not
/// running yet.
pub async fn get_or_start(feature: &str, spec: ServerSpec) -> Result<Arc<Server>> {
    let key = (feature.to_string(), spec.name().to_string());
    if let Some(e) = lock().get(&key) {
        return Ok(e.server.clone());
    }
    let server = Arc::new(Server::start(spec).await?);
    lock().insert(
        key,
        Entry {
            server: server.clone(),
            failed: false,
        },
    );
    Ok(server)
}

/// Forgets a shared server that a scenario stopped.
pub fn forget(feature: &str, name: &str) {
    lock().remove(&(feature.to_string(), name.to_string()));
}

/// Notes that a scenario using these shared servers failed, so that their
/// directories are kept (under the default keep policy).
pub fn mark_failed<'a>(feature: &str, names: impl Iterator<Item = &'a String>) {
    let mut reg = lock();
    for name in names {
        if let Some(e) = reg.get_mut(&(feature.to_string(), name.clone())) {
            e.failed = true;
        }
    }
}

/// Stops every shared server still running; called when the run ends.
/// Returns the directories kept.
pub async fn teardown_all(policy: crate::settings::KeepPolicy) -> Vec<std::path::PathBuf> {
    let entries: Vec<Entry> = lock().drain().map(|(_, e)| e).collect();
    let mut kept = Vec::new();
    for e in &entries {
        if let Err(err) = e.server.stop().await {
            eprintln!(
                "valkey-bdd: stopping the shared {} failed: {err}",
                e.server.describe()
            );
        }
        if policy.keeps(e.failed) {
            kept.push(e.server.keep_dir());
        }
    }
    kept
}
