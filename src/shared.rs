//! Servers shared by the scenarios of one feature.
//!
//! RFC 17's first and fourth examples start servers once, use them from
//! several ordered tests and stop them in the last one. In Gherkin: tag the
//! feature `@serial` (cucumber then runs its scenarios one at a time, in
//! order) and begin each scenario with a "shared by the scenarios of this
//! feature" sentence. The first scenario starts the servers; the others
//! attach to them. They stop when a scenario stops them, and in any case
//! when the run ends.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::Result;
use crate::server::Server;
use crate::settings::KeepPolicy;

struct Entry {
    servers: Vec<Arc<Server>>,
    failed: bool,
}

type Registry = Mutex<HashMap<(String, String), Entry>>;

fn lock() -> std::sync::MutexGuard<'static, HashMap<(String, String), Entry>> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The servers that `feature` shares under `key`, started by `start` if this
/// is the first scenario to ask. Scenarios of one feature run one at a time
/// (`@serial`), so two never start the same servers.
pub async fn get_or_start<F, Fut>(feature: &str, key: &str, start: F) -> Result<Vec<Arc<Server>>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Vec<Arc<Server>>>>,
{
    let k = (feature.to_string(), key.to_string());
    if let Some(e) = lock().get(&k) {
        return Ok(e.servers.clone());
    }
    let servers = start().await?;
    lock().insert(
        k,
        Entry {
            servers: servers.clone(),
            failed: false,
        },
    );
    Ok(servers)
}

/// Notes that a scenario using a feature's shared servers failed, so that
/// their directories are kept (under the default keep policy).
pub fn mark_failed(feature: &str) {
    for ((f, _), e) in lock().iter_mut() {
        if f == feature {
            e.failed = true;
        }
    }
}

/// Stops every shared server still running; called when the run ends.
/// Returns the directories kept.
pub async fn teardown_all(policy: KeepPolicy) -> Vec<std::path::PathBuf> {
    let entries: Vec<Entry> = lock().drain().map(|(_, e)| e).collect();
    let mut kept = Vec::new();
    for e in &entries {
        for server in &e.servers {
            if let Err(err) = server.stop().await {
                eprintln!(
                    "valkey-bdd: stopping the shared {} failed: {err}",
                    server.describe()
                );
            }
            if policy.keeps(e.failed) {
                kept.push(server.keep_dir());
            }
        }
    }
    kept
}
