//! The server's configuration file: the harness's defaults, the
//! scenario's directives, and changes persisted for a restart.

use super::Server;
use super::spec::{MAX_SOCKET_PATH, ServerSpec, Transport};
use crate::binary::Engine;
use crate::client::Credentials;
use crate::error::{Error, Result};
use std::path::Path;
use std::sync::atomic::Ordering;

impl Server {
    /// Sets (or, with `None`, removes) a directive in the server's
    /// `valkey.conf`, so that it holds after a restart. The running server
    /// is not told: pair this with the command that changes it live.
    pub fn persist_directive(&self, key: &str, value: Option<&str>) -> Result<()> {
        self.own_process("change its configuration file")?;
        let text = std::fs::read_to_string(&self.conf)
            .map_err(|e| Error::io(format!("reading {}", self.conf.display()), e))?;
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .next()
                    .is_none_or(|k| !k.eq_ignore_ascii_case(key))
            })
            .map(str::to_string)
            .collect();
        if let Some(v) = value {
            lines.push(format!("{key} {v}"));
        }
        lines.push(String::new());
        write_private(&self.conf, &lines.join("\n"))
    }

    pub(super) fn write_config(&self, spec: &ServerSpec) -> Result<()> {
        let user_keys: Vec<String> = spec
            .config
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        let mut lines = vec![format!(
            "# Written by valkey-bdd for server \"{}\". Defaults first, then the scenario's directives.",
            self.name()
        )];
        let mut defaults = self.defaults();
        match &self.transport {
            Transport::Tcp => {}
            Transport::Tls(tls) => {
                let files = crate::tls::write_server_files(&self.dir, tls.expired_certificate)?;
                defaults.retain(|(k, _)| *k != "port");
                defaults.extend(tls.directives(self.port(), &files));
            }
            Transport::Unix { perm } => {
                let path = self.socket_path();
                let len = path.as_os_str().len();
                if len > MAX_SOCKET_PATH {
                    return Err(Error::Config {
                        what: format!(
                            "the unix socket path {} is {len} bytes long; the kernel takes at most {MAX_SOCKET_PATH}",
                            path.display()
                        ),
                        hint: "set VALKEY_BDD_TMPDIR to a shorter directory, such as /tmp".into(),
                    });
                }
                defaults.retain(|(k, _)| *k != "port");
                defaults.push(("port", "0".into()));
                defaults.push(("unixsocket", quote_path(&path)));
                defaults.push(("unixsocketperm", format!("{perm:o}")));
            }
        }
        for (k, v) in defaults {
            let alias = if k == "masterauth" { "primaryauth" } else { k };
            if !user_keys.iter().any(|u| u == k || u == alias) {
                lines.push(format!("{k} {v}"));
            }
        }
        for (k, v) in &spec.config {
            let v = if v.is_empty() { "\"\"" } else { v.as_str() };
            lines.push(format!("{k} {v}"));
        }
        lines.push(String::new());
        write_private(&self.conf, &lines.join("\n"))
    }

    /// Valkey, or Redis 7 and later: `SHUTDOWN ... NOW`, `enable-debug-command`.
    pub(super) fn speaks_redis_7(&self) -> bool {
        self.binary.engine == Engine::Valkey || self.binary.version.0 >= 7
    }

    /// The directives every server gets unless the scenario sets them.
    fn defaults(&self) -> Vec<(&'static str, String)> {
        let mut d = vec![
            ("port", self.port().to_string()),
            ("bind", self.host().to_string()),
            ("dir", quote_path(&self.dir)),
            ("daemonize", "no".to_string()),
            // Empty: log to standard output, which goes to server.log.
            ("logfile", "\"\"".to_string()),
            // No snapshots unless asked for: SAVE still works.
            ("save", "\"\"".to_string()),
            ("appendonly", "no".to_string()),
            ("repl-diskless-sync-delay", "0".to_string()),
        ];
        if self.seat.is_some() {
            // Its replication links and cluster bus leave from its own
            // address, which the network faults name.
            d.push(("bind-source-addr", self.host().to_string()));
        }
        if self.speaks_redis_7() {
            d.push(("enable-debug-command", "local".to_string()));
            d.push(("enable-module-command", "local".to_string()));
        }
        // "local" is every local user: only the run's password lets one in.
        if self.guarded.load(Ordering::SeqCst) {
            d.push(if self.speaks_redis_7() {
                // Only the hash is written: `CONFIG GET requirepass` stays
                // empty, as on a server nobody configured.
                ("user", crate::acl::default_user_directive())
            } else {
                // Older Redis lacks some of the ACL rules.
                ("requirepass", crate::acl::run_password().to_string())
            });
        }
        // Replicas authenticate to their primary as the harness does: with
        // the run's password, the same on every server, or the scenario's
        // own `requirepass` (given to every node of a replica set, say).
        let masterauth = match self.admin_credentials() {
            Some(Credentials {
                user: None,
                password,
            }) => password,
            _ => crate::acl::run_password().to_string(),
        };
        d.push(("masterauth", crate::reply::quote(masterauth.as_bytes())));
        d
    }
}

/// Writes a configuration file only its owner can read (it holds the run's
/// password): mode 0600, whatever the umask.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

fn quote_path(p: &Path) -> String {
    crate::reply::quote(p.as_os_str().as_encoded_bytes())
}
