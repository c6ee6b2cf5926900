//! The end of a scenario: servers, clients and programs stopped, reused
//! servers returned to the pool, directories kept or removed, and the
//! [`Teardown`] report.

use super::{ValkeyWorld, reused};
use crate::error::Error;
use crate::server::Server;
use crate::shared;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

impl ValkeyWorld {
    /// Stops everything the scenario started and decides about its
    /// directory. Returns what the user must see: the log tails of a failed
    /// scenario, the kept directory, and any server that died unexpectedly
    /// (which fails the scenario, when nothing else did).
    pub async fn teardown(&mut self, failed: bool) -> Teardown {
        let mut out = Teardown::default();
        self.stop_servos(failed, &mut out.report).await;
        self.end_faults(failed, &mut out.report).await;
        self.default_clients.clear();
        self.clients.clear();
        self.subscribers.clear();
        for (name, mut p) in std::mem::take(&mut self.processes) {
            if failed {
                out.report.push(format!(
                    "── process \"{name}\": last 30 lines of output ──\n{}",
                    p.output_tail(30)
                ));
            }
            let _ = p.kill().await;
        }
        self.cluster_client = None;
        if let (Some(snapshot), Some(external)) = (self.external.take(), crate::external::active())
        {
            // Its connections closed above: no transaction or blocked
            // command of the scenario's stands in the way.
            if let Err(e) = external.restore(&snapshot).await {
                out.deaths.push(e.to_string());
            }
        }
        let cluster = self.cluster.take();
        let reusable_cluster = self.reusable_cluster.take();
        let servers = std::mem::take(&mut self.servers);
        let reusable = std::mem::take(&mut self.reusable);
        // Servers that may go back to the pool are held running until the
        // scenario's verdict is known.
        let mut held = self
            .held_for_pool(
                failed,
                &servers,
                &reusable,
                cluster.as_ref(),
                reusable_cluster.is_some(),
            )
            .await;
        let owned: Vec<&Arc<Server>> = servers
            .iter()
            .filter(|(name, s)| !self.shared.contains(*name) && !s.is_external())
            .map(|(_, s)| s)
            .collect();
        let stopping: Vec<&Arc<Server>> = owned
            .iter()
            .filter(|s| !held.contains(&s.name()))
            .copied()
            .collect();
        let stops = futures::future::join_all(stopping.iter().map(|s| s.stop())).await;
        for (server, result) in stopping.iter().zip(stops) {
            if let Err(e) = result
                && !matches!(e, Error::Died { .. })
            {
                out.report
                    .push(format!("stopping {} failed: {e}", server.describe()));
            }
        }
        // After the stop, so that a crash during shutdown counts too.
        for (name, server) in &servers {
            if let Some(report) = server.checker_report() {
                out.deaths.push(report);
            }
            if self.expected_deaths.contains(name) {
                continue;
            }
            if let Err(e @ Error::Died { .. }) = server.check_running("the scenario ended").await {
                out.deaths.push(e.to_string());
            }
        }
        let failed = failed || !out.deaths.is_empty();
        if failed && !held.is_empty() {
            // Another server died: nothing goes back to the pool.
            for server in owned.iter().filter(|s| held.contains(&s.name())) {
                let _ = server.stop().await;
            }
            held.clear();
        }
        let keep = self.keep.keeps(failed);
        if keep && owned.iter().any(|s| reusable.contains_key(&s.name())) {
            // A reused server's directory is its own: a copy goes where a
            // fresh one's would have been, in the scenario's directory.
            let _ = self.dir();
        }
        let scenario_dir = self.dir.as_ref().map(|d| d.path().to_path_buf());
        // Reused servers' directories copied into the scenario's, by name.
        let mut copies: HashMap<String, PathBuf> = HashMap::new();
        if keep {
            // Servers whose directory is not under the scenario's (nodes
            // taken from the pool) are kept one by one.
            for server in &owned {
                if scenario_dir
                    .as_ref()
                    .is_none_or(|d| !server.dir().starts_with(d))
                {
                    match &scenario_dir {
                        Some(d) if reusable.contains_key(&server.name()) => {
                            let to = d.join(crate::server::sanitize(&server.name()));
                            if let Err(e) = copy_dir(server.dir(), &to) {
                                out.report.push(format!(
                                    "copying the directory of {} to {} failed: {e}",
                                    server.describe(),
                                    to.display()
                                ));
                                out.kept.push(server.keep_dir());
                            } else {
                                copies.insert(server.name(), to);
                            }
                        }
                        _ => out.kept.push(server.keep_dir()),
                    }
                }
            }
        }
        if failed {
            for server in servers.values().filter(|s| !s.is_external()) {
                // The log as it is on disk once the run is over: a reused
                // server's directory goes with it, its copy stays.
                let log = match copies.get(&server.name()) {
                    Some(copy) => match server.log_path().strip_prefix(server.dir()) {
                        Ok(file) => copy.join(file).display().to_string(),
                        Err(_) => server.log_path().display().to_string(),
                    },
                    None if !keep => format!(
                        "{} (not kept: VALKEY_BDD_KEEP={})",
                        server.log_path().display(),
                        self.keep.name()
                    ),
                    None => server.log_path().display().to_string(),
                };
                out.report.push(format!(
                    "── {} — {log} — last {} log lines ──\n{}",
                    server.describe(),
                    crate::server::LOG_TAIL_LINES,
                    server.log_tail(crate::server::LOG_TAIL_LINES)
                ));
            }
        }
        if failed {
            shared::mark_failed(&self.feature_key());
        }
        drop(owned);
        reused::give_back(servers, &held, &reusable, cluster, reusable_cluster).await;
        if let Some(dir) = self.dir.take() {
            if keep {
                out.kept.insert(0, crate::leftovers::keep(dir));
            } else if let Err(e) = dir.close() {
                out.report
                    .push(format!("removing the scenario directory failed: {e}"));
            }
        }
        out
    }
}

/// Copies a directory (a server's: files and folders, no special files)
/// with its modes, leaving out the run's mark.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    std::fs::set_permissions(to, std::fs::metadata(from)?.permissions())?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if entry.file_name() == crate::leftovers::MARK {
            // The copy is kept: no run may take it for one of its own.
            continue;
        }
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// What [`ValkeyWorld::teardown`] has to tell.
#[derive(Debug, Default)]
pub struct Teardown {
    /// Death reports of servers that died when nobody expected it, and what
    /// could not be put back on an external server: either fails the
    /// scenario.
    pub deaths: Vec<String>,
    /// Log tails and teardown problems, for a failed scenario.
    pub report: Vec<String>,
    /// The directories kept: the scenario's, and those of its servers that
    /// live elsewhere (nodes from the pool).
    pub kept: Vec<PathBuf>,
}
