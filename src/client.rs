//! A connection to one server, speaking commands as typed in `valkey-cli`.

use std::path::PathBuf;
use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;

use crate::command;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::tls::Identity;

/// One connection to one server.
///
/// One `Client` is one connection on the server side: `CLIENT LIST` shows it,
/// `SELECT` and `MULTI` state live on it. Each command has a deadline; a
/// command that does not answer in time is an error that says so, never a
/// hang.
///
/// A clone shares the connection (commands are pipelined on it), not a new
/// one.
#[derive(Clone)]
pub struct Client {
    /// Who this client talks to, for messages: `server "cache" at 127.0.0.1:16001`.
    target: String,
    conn: MultiplexedConnection,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.target)
            .finish()
    }
}

/// Where and how a client reaches a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// Plain TCP.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// TLS over TCP, trusting the run's certificate authority
    /// ([`crate::tls`]) and presenting `identity`.
    Tls {
        /// Host name or address; the server's certificate must name it.
        host: String,
        /// The server's `tls-port`.
        port: u16,
        /// The client certificate presented, if any.
        identity: Identity,
        /// Whether the server's certificate is checked (only the harness's
        /// own connections to a server with an expired certificate skip it).
        verify: bool,
    },
    /// A unix socket.
    Unix(PathBuf),
    /// TLS over TCP to a server the harness did not start
    /// ([`crate::external`]), trusting the system's roots, with no client
    /// certificate.
    TlsSystem {
        /// Host name or address; the server's certificate must name it.
        host: String,
        /// Port.
        port: u16,
    },
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Tls { host, port, .. } => write!(f, "{host}:{port} (TLS)"),
            Address::Unix(path) => write!(f, "unix socket {}", path.display()),
            Address::TlsSystem { host, port } => write!(f, "{host}:{port} (TLS)"),
        }
    }
}

/// A user name (none: `default`) and password sent with `AUTH` on connect.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The ACL user; `None` authenticates the default user (`AUTH <password>`).
    pub user: Option<String>,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Client {
    /// Connects to `host:port` over plain TCP. `target` names the server in
    /// messages; `timeout` bounds the connection and each command
    /// (`VALKEY_BDD_COMMAND_TIMEOUT`: [`crate::settings::command_timeout`]).
    pub async fn connect(
        target: impl Into<String>,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Client> {
        let address = Address::Tcp {
            host: host.to_string(),
            port,
        };
        Client::open(target, &address, None, timeout).await
    }

    /// Connects to `address`, authenticating with `auth` when given.
    /// `target` names the server in messages; `timeout` bounds the
    /// connection and each command ([`Client::set_timeout`] changes it).
    pub async fn open(
        target: impl Into<String>,
        address: &Address,
        auth: Option<&Credentials>,
        timeout: Duration,
    ) -> Result<Client> {
        let target = target.into();
        let conn = open_client(redis_client(address, None), timeout).await;
        Client::over(target, address, conn, timeout, auth).await
    }

    /// Connects over `stream`, already open to the server at `address`
    /// (plain TCP): one made inside the run's network namespace, through its
    /// link's latency relay ([`crate::network`] makes them, the server
    /// passes them here). Authenticates with `auth` when given.
    pub(crate) async fn open_stream<S>(
        target: impl Into<String>,
        address: &Address,
        stream: std::io::Result<S>,
        auth: Option<&Credentials>,
        timeout: Duration,
    ) -> Result<Client>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let target = target.into();
        let conn = async {
            let info = connection_info(address, None);
            let (conn, driver) = MultiplexedConnection::new_with_config(
                info.redis_settings(),
                stream?,
                config(timeout),
            )
            .await?;
            tokio::spawn(driver);
            Ok(conn)
        }
        .await;
        Client::over(target, address, conn, timeout, auth).await
    }

    /// The client on `conn` once open, authenticated with `auth`; a
    /// connection that could not be made says why.
    async fn over(
        target: String,
        address: &Address,
        conn: redis::RedisResult<MultiplexedConnection>,
        timeout: Duration,
        auth: Option<&Credentials>,
    ) -> Result<Client> {
        let conn = conn.map_err(|e| Error::Connection {
            target: target.clone(),
            action: "connecting".into(),
            detail: e.to_string(),
            hint: connect_hint(address, &e),
        })?;
        let mut client = Client {
            target,
            conn,
            timeout,
        };
        if let Some(c) = auth {
            client.authenticate(c).await?;
        }
        Ok(client)
    }

    /// Sends `AUTH`. Sent here rather than by the `redis` crate, so that a
    /// refusal shows the server's own words (WRONGPASS ...); no message
    /// shows the password.
    async fn authenticate(&mut self, c: &Credentials) -> Result<()> {
        let mut args = vec!["AUTH"];
        args.extend(c.user.as_deref());
        args.push(&c.password);
        let action = match &c.user {
            Some(u) => format!("authenticating as {u:?}"),
            None => "authenticating with the password".into(),
        };
        let reply = match self.run_args(&args).await {
            Ok(reply) => reply,
            // A TLS server that refuses the client says so at its first
            // command, this one: the error must not quote it.
            Err(Error::Connection {
                target,
                detail,
                hint,
                ..
            }) => {
                return Err(Error::Connection {
                    target,
                    action,
                    detail,
                    hint,
                });
            }
            Err(Error::CommandTimeout {
                target, timeout, ..
            }) => {
                return Err(Error::CommandTimeout {
                    target,
                    command: "AUTH".into(),
                    timeout,
                });
            }
            Err(e) => return Err(e),
        };
        match reply {
            Reply::Status(s) if s == "OK" => Ok(()),
            other => Err(Error::Connection {
                target: self.target.clone(),
                action,
                detail: format!("AUTH answered {other}"),
                hint: match &c.user {
                    Some(u) => {
                        format!("check user {u:?}'s ACL rules: is it `on`, with that `>password`?")
                    }
                    None => "check the server's `requirepass`".into(),
                },
            }),
        }
    }

    /// Who this client talks to.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs one command line, written as in `valkey-cli`.
    ///
    /// An error *reply* is an `Ok(Reply::Error(..))`; `Err` means the command
    /// could not be read, sent or answered.
    pub async fn run(&mut self, line: &str) -> Result<Reply> {
        // Each argument is freed as soon as the command holds its bytes: a
        // huge value is held by the command and its encoding only.
        let mut cmd = redis::Cmd::new();
        for a in command::split(line)? {
            cmd.arg(a);
        }
        self.send(cmd).await
    }

    /// Sends `REPLCONF GETACK *` to a replica, which answers nothing: the
    /// replica sends its primary a `REPLCONF ACK` at once. A `PING` sent
    /// behind it in the same write is the reply waited for.
    pub(crate) async fn ask_for_ack(&mut self) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.cmd("REPLCONF").arg("GETACK").arg("*").cmd("PING");
        let sent = redis::aio::ConnectionLike::req_packed_commands(&mut self.conn, &pipe, 0, 1);
        match tokio::time::timeout(self.timeout.max(Duration::from_secs(1)), sent).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Error::Connection {
                target: self.target.clone(),
                action: "asking for a replication ACK (`REPLCONF GETACK *`)".into(),
                detail: e.to_string(),
                hint: "the connection broke: did the replica stop?".into(),
            }),
            Err(_) => Err(Error::CommandTimeout {
                target: self.target.clone(),
                command: "REPLCONF GETACK *".into(),
                timeout: self.timeout,
            }),
        }
    }

    /// Runs one command given as its arguments.
    pub async fn run_args<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply> {
        let mut cmd = redis::Cmd::new();
        for a in args {
            cmd.arg(a.as_ref());
        }
        self.send(cmd).await
    }

    /// Sends one command and waits for its reply within the client's deadline.
    async fn send(&mut self, cmd: redis::Cmd) -> Result<Reply> {
        // As shown in messages: a command may carry the run's password
        // (`MIGRATE ... AUTH`).
        let line = || {
            let args: Vec<Vec<u8>> = cmd
                .args_iter()
                .map(|a| match a {
                    redis::Arg::Simple(bytes) => bytes.to_vec(),
                    // A cursor argument (SCAN by the crate) is never built here.
                    _ => b"0".to_vec(),
                })
                .collect();
            crate::acl::redact(&command::join(&args)).into_owned()
        };
        let sent = self.conn.send_packed_command(&cmd);
        let answered = if self.timeout.is_zero() {
            // Not waited for at all: the reply cannot be there yet.
            futures::FutureExt::now_or_never(sent).ok_or(())
        } else {
            tokio::time::timeout(self.timeout, sent).await.map_err(drop)
        };
        match answered {
            Err(()) => Err(Error::CommandTimeout {
                target: self.target.clone(),
                command: line(),
                timeout: self.timeout,
            }),
            Ok(Ok(value)) => Ok(Reply::from(value)),
            Ok(Err(e)) => match (e.code(), e.detail()) {
                // Some error replies still come back as `Err`.
                (Some(code), detail) if !e.is_io_error() && !e.is_connection_dropped() => {
                    Ok(Reply::Error(match detail {
                        Some(d) => format!("{code} {d}"),
                        None => code.to_string(),
                    }))
                }
                _ => Err(Error::Connection {
                    target: self.target.clone(),
                    action: format!("running `{}`", line()),
                    hint: if e.to_string().contains("alert") {
                        // TLS 1.3: a refused client certificate shows at the
                        // first read, not at connect.
                        "the server ended the TLS session: does it require a client certificate (tls-auth-clients) of an authority it trusts?".into()
                    } else {
                        "the connection broke: did the server stop, crash or close this client (CLIENT KILL, timeout)?".into()
                    },
                    detail: e.to_string(),
                }),
            },
        }
    }

    /// Sends several commands at once (pipelined) and returns their replies
    /// in order; the whole batch has the client's deadline.
    pub async fn run_pipeline<A: AsRef<[u8]>>(
        &mut self,
        commands: &[Vec<A>],
    ) -> Result<Vec<Reply>> {
        let mut pipe = redis::Pipeline::new();
        for args in commands {
            let mut cmd = redis::Cmd::new();
            for a in args {
                cmd.arg(a.as_ref());
            }
            pipe.add_command(cmd);
        }
        let what = || format!("a pipeline of {} commands", commands.len());
        match tokio::time::timeout(
            self.timeout,
            self.conn.send_packed_commands(&pipe, 0, commands.len()),
        )
        .await
        {
            Err(_) => Err(Error::CommandTimeout {
                target: self.target.clone(),
                command: what(),
                timeout: self.timeout,
            }),
            Ok(Ok(values)) => Ok(values.into_iter().map(Reply::from).collect()),
            Ok(Err(e)) => Err(Error::Connection {
                target: self.target.clone(),
                action: format!("sending {}", what()),
                detail: e.to_string(),
                hint: "the connection broke, or a command of the batch failed: run it alone to see"
                    .into(),
            }),
        }
    }

    /// Sets how long commands of this client may take to answer. Zero does
    /// not wait: a command is sent, and is a timeout unless its reply is
    /// there at once.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }
}

/// What to check when a connection could not be made.
fn connect_hint(address: &Address, e: &redis::RedisError) -> String {
    let text = e.to_string();
    match address {
        Address::Tls { .. } if text.contains("Expired") || text.contains("expired") => {
            "the server's certificate has expired; clients refuse it".into()
        }
        Address::Tls { .. } if text.contains("certificate") || text.contains("alert") => {
            "the TLS handshake failed: does the server require a client certificate (tls-auth-clients) and trust its authority?".into()
        }
        Address::Tls { .. } => {
            "is the server running with TLS on that port? see its log".into()
        }
        Address::Unix(path) => format!(
            "is the server listening on {} (unixsocket), and may this process open it (unixsocketperm)?",
            path.display()
        ),
        Address::Tcp { .. } => {
            "is the server running and listening on that port? see its log".into()
        }
        Address::TlsSystem { .. } => {
            "is the external server listening with TLS there, with a certificate the system trusts?".into()
        }
    }
}

/// The `redis` crate's description of where to connect, and as whom.
fn connection_info(address: &Address, auth: Option<&Credentials>) -> redis::ConnectionInfo {
    use redis::IntoConnectionInfo as _;
    let addr = match address {
        Address::Tcp { host, port } => redis::ConnectionAddr::Tcp(host.clone(), *port),
        Address::Tls {
            host, port, verify, ..
        } => redis::ConnectionAddr::TcpTls {
            host: host.clone(),
            port: *port,
            insecure: !verify,
            tls_params: None,
        },
        Address::Unix(path) => redis::ConnectionAddr::Unix(path.clone()),
        Address::TlsSystem { host, port } => redis::ConnectionAddr::TcpTls {
            host: host.clone(),
            port: *port,
            insecure: false,
            tls_params: None,
        },
    };
    let mut settings = redis::RedisConnectionInfo::default().set_skip_set_lib_name();
    if let Some(c) = auth {
        settings = settings.set_password(c.password.clone());
        if let Some(u) = &c.user {
            settings = settings.set_username(u.clone());
        }
    }
    addr.into_connection_info()
        .expect("a ConnectionAddr always converts")
        .set_redis_settings(settings)
}

/// No response timeout of the library's own: the harness puts its own
/// deadline around each command.
fn config(connect_timeout: Duration) -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(None)
}

/// A `redis` crate client for `address` (TLS material included) that
/// authenticates with `auth`: for connections the `redis` crate drives
/// itself, such as pub/sub.
pub(crate) fn redis_client(
    address: &Address,
    auth: Option<&Credentials>,
) -> redis::RedisResult<redis::Client> {
    let info = connection_info(address, auth);
    Ok(match address {
        Address::Tls { identity, .. } => {
            let certs = crate::tls::material()
                .and_then(|m| m.certificates(identity))
                .map_err(|e| {
                    redis::RedisError::from((
                        redis::ErrorKind::InvalidClientConfig,
                        "no TLS certificates",
                        e.to_string(),
                    ))
                })?;
            redis::Client::build_with_tls(info, certs)?
        }
        _ => redis::Client::open(info)?,
    })
}

/// Opens a connection with no response timeout of the library's own: the
/// harness puts its own deadline around each command.
async fn open_client(
    client: redis::RedisResult<redis::Client>,
    connect_timeout: Duration,
) -> redis::RedisResult<MultiplexedConnection> {
    client?
        .get_multiplexed_async_connection_with_config(&config(connect_timeout))
        .await
}
