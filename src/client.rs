//! A connection to one server, speaking commands as typed in `valkey-cli`.

use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;

use crate::command;
use crate::error::{Error, Result};
use crate::reply::Reply;

/// One connection to one server.
///
/// One `Client` is one connection on the server side: `CLIENT LIST` shows it,
/// `SELECT` and `MULTI` state live on it. Each command has a deadline; a
/// command that does not answer in time is an error that says so, never a
/// hang.
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

impl Client {
    /// Connects to `host:port`. `target` names the server in messages.
    pub async fn connect(target: impl Into<String>, host: &str, port: u16) -> Result<Client> {
        let target = target.into();
        let timeout = crate::settings::command_timeout()?;
        use redis::IntoConnectionInfo as _;
        let info = redis::ConnectionAddr::Tcp(host.to_string(), port)
            .into_connection_info()
            .map_err(|e| Error::Connection {
                target: target.clone(),
                action: "reading the address".into(),
                detail: e.to_string(),
                hint: "this is a bug of valkey-bdd".into(),
            })?
            .set_redis_settings(redis::RedisConnectionInfo::default().set_skip_set_lib_name());
        let conn = open(info, timeout).await.map_err(|e| Error::Connection {
            target: target.clone(),
            action: "connecting".into(),
            detail: e.to_string(),
            hint: "is the server running and listening on that port? see its log".into(),
        })?;
        Ok(Client {
            target,
            conn,
            timeout,
        })
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
        let args = command::split(line)?;
        self.run_args(&args).await
    }

    /// Runs one command given as its arguments.
    pub async fn run_args<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply> {
        let mut cmd = redis::Cmd::new();
        for a in args {
            cmd.arg(a.as_ref());
        }
        let line = || command::join(&args.iter().map(|a| a.as_ref().to_vec()).collect::<Vec<_>>());
        match tokio::time::timeout(self.timeout, self.conn.send_packed_command(&cmd)).await {
            Err(_) => Err(Error::CommandTimeout {
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
                    detail: e.to_string(),
                    hint: "the connection broke: did the server stop, crash or close this client (CLIENT KILL, timeout)?".into(),
                }),
            },
        }
    }

    /// Sets how long commands of this client may take to answer.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }
}

/// Opens a connection with no response timeout of the library's own: the
/// harness puts its own deadline around each command.
pub(crate) async fn open(
    info: redis::ConnectionInfo,
    connect_timeout: Duration,
) -> redis::RedisResult<MultiplexedConnection> {
    let client = redis::Client::open(info)?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}
