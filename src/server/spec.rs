//! How a server is asked for: [`ServerSpec`], the configuration and
//! transport a [`Server`](super::Server) starts with.

use std::path::{Path, PathBuf};

use crate::client::Credentials;
use crate::error::{Error, Result};
use crate::tls::ServerTls;

/// How a server should be configured and started.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub(super) name: String,
    pub(super) binary: Option<PathBuf>,
    pub(super) config: Vec<(String, String)>,
    pub(super) parent_dir: Option<PathBuf>,
    pub(super) transport: Transport,
    pub(super) admin: Option<Credentials>,
    pub(super) seat: Option<crate::network::Seat>,
}

/// How clients reach a server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Transport {
    /// Plain TCP on 127.0.0.1.
    #[default]
    Tcp,
    /// TLS only: the leased port is the `tls-port`, `port` is 0.
    Tls(ServerTls),
    /// A unix socket only (`unixsocket` in the server's directory, `port 0`),
    /// with this `unixsocketperm`.
    Unix {
        /// The socket file's mode, such as `0o700`.
        perm: u32,
    },
}

/// The longest unix socket path the kernel takes (`sun_path` less its NUL).
pub(super) const MAX_SOCKET_PATH: usize = 107;

impl Default for ServerSpec {
    fn default() -> Self {
        ServerSpec::new("default")
    }
}

impl ServerSpec {
    /// Whether it asks for nothing but the harness's defaults (no
    /// directive, binary, TLS, socket or credentials of its own).
    pub fn is_plain(&self) -> bool {
        self.config.is_empty()
            && self.binary.is_none()
            && self.transport == Transport::Tcp
            && self.admin.is_none()
    }

    /// A server called `name` (used in messages and as its directory name),
    /// with the harness's defaults.
    pub fn new(name: impl Into<String>) -> Self {
        ServerSpec {
            name: name.into(),
            binary: None,
            config: Vec::new(),
            parent_dir: None,
            transport: Transport::Tcp,
            admin: None,
            seat: None,
        }
    }

    /// Runs inside the run's network namespace, on the seat's own loopback
    /// address ([`crate::network`]), where network faults can reach it.
    pub fn seat(mut self, seat: crate::network::Seat) -> Self {
        self.seat = Some(seat);
        self
    }

    /// Speaks TLS only, with certificates of the run ([`crate::tls`]).
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.transport = Transport::Tls(tls);
        self
    }

    /// Listens on a unix socket only, with this `unixsocketperm` (`0o700`).
    pub fn unix_socket(mut self, perm: u32) -> Self {
        self.transport = Transport::Unix { perm };
        self
    }

    /// How clients will reach the server.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Sets `requirepass`; the harness's own connections authenticate with it.
    /// The default user then needs this password instead of the run's, and
    /// programs given the server's URL are not told it.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        let password = password.into();
        self.admin = Some(Credentials {
            user: None,
            password: password.clone(),
        });
        self.config("requirepass", password)
    }

    /// Has the harness's own connections (readiness, `SHUTDOWN`, waits)
    /// authenticate as this user: for configurations where the default user
    /// cannot run everything.
    pub fn admin(mut self, credentials: Credentials) -> Self {
        self.admin = Some(credentials);
        self
    }

    /// Uses this binary instead of searching for one.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Adds one configuration directive, written to `valkey.conf` as
    /// `key value`. The value is taken as in `valkey.conf` (so `save ""` is
    /// written `("save", "\"\"")`); an empty value is written as `""`.
    /// A key given here replaces the harness's default for it.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.push((key.into(), value.into()));
        self
    }

    /// Loads a module at start, with its arguments.
    pub fn module(self, path: impl AsRef<Path>, args: &str) -> Self {
        let path = std::path::absolute(path.as_ref()).unwrap_or_else(|_| path.as_ref().into());
        let value = format!("{} {}", path.display(), args)
            .trim_end()
            .to_string();
        self.config("loadmodule", value)
    }

    /// Loads a module (see [`crate::modules::ModuleLoad`]), unless a
    /// `loadmodule` directive given already loads its library: a server
    /// cannot load one library twice.
    pub fn load(mut self, module: &crate::modules::ModuleLoad) -> Self {
        module.add_to(&mut self.config);
        self
    }

    /// Makes the server's directory inside `parent` instead of in a temporary
    /// directory of its own. The caller then owns the directory's removal.
    pub fn in_dir(mut self, parent: impl Into<PathBuf>) -> Self {
        self.parent_dir = Some(parent.into());
        self
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directives given so far.
    pub fn directives(&self) -> &[(String, String)] {
        &self.config
    }

    /// Whether the default user gets the run's password: unless the scenario
    /// guards the server its own way (`requirepass`, `user` directives or an
    /// `aclfile`).
    pub(super) fn guarded(&self) -> bool {
        !self.config.iter().any(|(k, _)| {
            ["requirepass", "user", "aclfile"]
                .iter()
                .any(|own| k.eq_ignore_ascii_case(own))
        })
    }

    /// Validates the directives without starting anything.
    pub fn validate(&self) -> Result<()> {
        for (k, v) in &self.config {
            if k.is_empty() || k.contains(char::is_whitespace) {
                return Err(Error::Config {
                    what: format!("{k:?} is not a configuration directive name (value {v:?})"),
                    hint: "write one directive per row: | maxmemory | 1kb |".into(),
                });
            }
            if v.contains('\n') || v.contains('\r') {
                return Err(Error::Config {
                    what: format!("the value of {k:?} spans several lines"),
                    hint: "a directive's value is one line, as in valkey.conf".into(),
                });
            }
        }
        Ok(())
    }
}
