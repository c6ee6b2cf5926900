//! TLS, mutual TLS, ACL users and unix sockets.
//!
//! Certificates come from [`crate::tls`]: one authority per run, trusted by
//! every server and client; a second, untrusted one and an expired server
//! certificate for the refusals. Scenarios that need TLS are tagged
//! `@requires:tls`: on a binary built without it they are skipped with the
//! reason.

use std::os::unix::fs::PermissionsExt as _;
use std::str::FromStr;

use cucumber::gherkin::Step;
use cucumber::{Parameter, given, then, when};

use super::{ServerRef, name, pair_table};
use crate::client::{Address, Credentials};
use crate::error::{Error, Result};
use crate::replication::ReplicaSetSpec;
use crate::server::ServerSpec;
use crate::tls::{AuthClients, Identity, ServerTls};
use crate::world::{DEFAULT_SERVER, ValkeyWorld};

/// `{way}` in a sentence: how a client connects, other than the ordinary
/// way. `without a client certificate`, `with a certificate from an
/// untrusted authority`, `with a client certificate for "alice"` (its common
/// name), `in plaintext` (plain TCP to a TLS port), `as "alice" with password
/// "secret"` (`AUTH` on connect), `without a password` (not even the run's:
/// as another local user's program would).
#[derive(Debug, Clone, PartialEq, Eq, Parameter)]
#[param(
    name = "way",
    regex = r#"without a client certificate|with a certificate from an untrusted authority|with a client certificate for "[^"]+"|in plaintext|as "[^"]+" with password "[^"]*"|without a password"#
)]
pub enum Way {
    /// Presenting a certificate (or none) instead of the default one.
    Identity(Identity),
    /// Plain TCP to the server's port, whatever it speaks there.
    Plaintext,
    /// Authenticating as a user.
    As(Credentials),
    /// Not authenticating at all.
    Unauthenticated,
}

impl FromStr for Way {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let quoted: Vec<&str> = s.split('"').skip(1).step_by(2).collect();
        Ok(match s {
            "without a client certificate" => Way::Identity(Identity::Anonymous),
            "with a certificate from an untrusted authority" => Way::Identity(Identity::Untrusted),
            "in plaintext" => Way::Plaintext,
            "without a password" => Way::Unauthenticated,
            _ if s.starts_with("with a client certificate for") => {
                Way::Identity(Identity::Client(quoted[0].to_string()))
            }
            _ => Way::As(Credentials {
                user: Some(quoted[0].to_string()),
                password: quoted.get(1).unwrap_or(&"").to_string(),
            }),
        })
    }
}

/// Where and as whom a client connects to `server`: as a program given the
/// server's URL would (with the run's password, see
/// [`crate::server::Server::client_credentials`]) unless the way says
/// otherwise.
async fn route(
    w: &ValkeyWorld,
    server: &ServerRef,
    way: Option<Way>,
) -> Result<(String, Address, Option<Credentials>)> {
    let server = w.resolve(server).await?;
    let auth = server.client_credentials();
    Ok(match way {
        None => (server.name(), server.address(), auth),
        Some(Way::Identity(id)) => {
            if server.tls().is_none() {
                return Err(Error::Config {
                    what: format!(
                        "{} does not speak TLS: a client certificate means nothing to it",
                        server.describe()
                    ),
                    hint: "start it with TLS: Given a server with mutual TLS".into(),
                });
            }
            (server.name(), server.address_as(id), auth)
        }
        Some(Way::Plaintext) => (server.name(), server.plaintext_address(), auth),
        Some(Way::As(c)) => (server.name(), server.address(), Some(c)),
        Some(Way::Unauthenticated) => (server.name(), server.address(), None),
    })
}

fn tls_of(mode: &str) -> ServerTls {
    let mut tls = ServerTls::new();
    match mode {
        "mutual TLS" => tls.auth_clients = AuthClients::Yes,
        "TLS and optional client certificates" => tls.auth_clients = AuthClients::Optional,
        "TLS and an expired certificate" => tls.expired_certificate = true,
        _ => {}
    }
    tls
}

/// Starts a server that speaks TLS only (its port is the `tls-port`; the
/// plaintext port is off), with the run's certificates. `mutual TLS` sets
/// `tls-auth-clients yes` (clients must present a trusted certificate);
/// `optional client certificates` sets it to `optional`; `an expired
/// certificate` serves a server certificate that expired in 2020.
#[given(
    regex = r#"^a server(?: "([^"]+)")? with (TLS|mutual TLS|TLS and optional client certificates|TLS and an expired certificate)$"#
)]
async fn a_tls_server(w: &mut ValkeyWorld, server: String, mode: String) -> Result<()> {
    let spec = ServerSpec::new(name(&server).unwrap_or(DEFAULT_SERVER)).tls(tls_of(&mode));
    w.start_server(spec).await.map(drop)
}

/// Starts a server with mutual TLS that logs clients in as the ACL user
/// named by their certificate's common name (`tls-auth-clients-user CN`,
/// Valkey 9.0 and later: tag the scenario
/// `@requires:tls-auth-clients-user`).
#[given(regex = r#"^a server(?: "([^"]+)")? with mutual TLS and users named by certificates$"#)]
async fn a_tls_server_with_cn_users(w: &mut ValkeyWorld, server: String) -> Result<()> {
    let spec = ServerSpec::new(name(&server).unwrap_or(DEFAULT_SERVER))
        .tls(tls_of("mutual TLS"))
        .config("tls-auth-clients-user", "CN");
    w.start_server(spec).await.map(drop)
}

/// Starts a primary and replicas that speak TLS only and replicate over it
/// (`tls-replication yes`); with `mutual TLS` every node also requires client
/// certificates, so the replicas present theirs to the primary.
#[given(regex = r#"^a primary with (\d+) replicas? over (TLS|mutual TLS)$"#)]
async fn a_tls_replica_set(w: &mut ValkeyWorld, replicas: usize, mode: String) -> Result<()> {
    w.start_replica_set(ReplicaSetSpec::new(replicas).tls(tls_of(&mode)))
        .await
}

/// Starts a cluster whose nodes speak TLS only, on the cluster bus too
/// (`tls-cluster yes`, `tls-replication yes`); sentences without a server go
/// through a cluster client over TLS. With `mutual TLS` nodes require client
/// certificates of each other and of clients.
#[given(regex = r#"^a cluster of (\d+) shards? with (\d+) replicas? each over (TLS|mutual TLS)$"#)]
async fn a_tls_cluster(
    w: &mut ValkeyWorld,
    shards: usize,
    replicas: usize,
    mode: String,
) -> Result<()> {
    w.start_cluster(crate::cluster::ClusterSpec::new(shards, replicas).tls(tls_of(&mode)))
        .await
}

/// Starts a server that listens on a unix socket in its directory only
/// (`port 0`), with `unixsocketperm` (octal; 700 when not given). Clients
/// reach it over the socket.
#[given(regex = r#"^a server(?: "([^"]+)")? on a unix socket(?: with permissions ([0-7]{3,4}))?$"#)]
async fn a_unix_server(w: &mut ValkeyWorld, server: String, perm: String) -> Result<()> {
    let perm = if perm.is_empty() {
        0o700
    } else {
        u32::from_str_radix(&perm, 8).expect("the regex takes octal digits only")
    };
    let spec = ServerSpec::new(name(&server).unwrap_or(DEFAULT_SERVER)).unix_socket(perm);
    w.start_server(spec).await.map(drop)
}

/// Starts a server whose default user needs this password (`requirepass`)
/// instead of the run's. The harness's own connections (and `I run ...`)
/// authenticate with it; named clients and programs are not told it, until
/// they `AUTH` or connect `as "default" with password`.
#[given(regex = r#"^a server(?: "([^"]+)")? with the password "([^"]*)"$"#)]
async fn a_server_with_password(
    w: &mut ValkeyWorld,
    server: String,
    password: String,
) -> Result<()> {
    let spec = ServerSpec::new(name(&server).unwrap_or(DEFAULT_SERVER)).password(password);
    w.start_server(spec).await.map(drop)
}

/// Creates ACL users from a `| user | rules |` table, the rules as for
/// `ACL SETUSER` (`on >secret ~app:* +@read`).
#[given(expr = "{server} has the ACL users:")]
async fn acl_users(w: &mut ValkeyWorld, server: ServerRef, #[step] s: &Step) -> Result<()> {
    let users = pair_table(
        w,
        s,
        ["user", "rules"],
        "| alice | on >secret ~app:* +@read |",
        "the rules are those of ACL SETUSER, in one cell",
    )
    .await?;
    let server = w.resolve(&server).await?;
    server.set_users(&users).await
}

/// Turns the default user off (`ACL SETUSER default off`): unauthenticated
/// clients can run nothing, and clients connected from then on send no
/// password. The harness keeps a user of its own, `valkey-bdd`, for its
/// checks.
#[given(expr = "the default user of {server} is disabled")]
#[when(expr = "the default user of {server} is disabled")]
async fn default_user_disabled(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    server.disable_default_user().await?;
    w.reconnect_default_client(&server.name());
    Ok(())
}

/// Connects a named client in a given way (see `{way}`) and checks the
/// connection with a first command; a refusal fails the step with the error.
#[given(expr = "client {string} connects to {server} {way}")]
#[when(expr = "client {string} connects to {server} {way}")]
async fn client_connects(
    w: &mut ValkeyWorld,
    client: String,
    server: ServerRef,
    way: Way,
) -> Result<()> {
    let (server, address, auth) = route(w, &server, Some(way)).await?;
    w.connect_client_to(&client, Some(&server), &address, auth.as_ref())
        .await
}

/// Connects a named client in a given way, expecting a refusal: what the
/// client saw is kept for `Then the connection is refused ...`.
#[when(expr = "client {string} tries to connect to {server} {way}")]
async fn client_tries_way(
    w: &mut ValkeyWorld,
    client: String,
    server: ServerRef,
    way: Way,
) -> Result<()> {
    let (server, address, auth) = route(w, &server, Some(way)).await?;
    w.try_connect_client_to(&client, Some(&server), &address, auth.as_ref())
        .await
}

/// Connects a named client the ordinary way, expecting a refusal (a server
/// with an expired certificate, say).
#[when(expr = "client {string} tries to connect to {server}")]
async fn client_tries(w: &mut ValkeyWorld, client: String, server: ServerRef) -> Result<()> {
    let (server, address, auth) = route(w, &server, None).await?;
    w.try_connect_client_to(&client, Some(&server), &address, auth.as_ref())
        .await
}

/// Checks that the last connection attempt was refused, and that the error
/// the client saw contains the text (case-insensitive).
#[then(expr = "the connection is refused with an error containing {string}")]
async fn connection_refused(w: &mut ValkeyWorld, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    match w.connection_attempt()? {
        Ok(what) => Err(Error::Expectation(format!(
            "expected the connection to be refused with an error containing {text:?}, but {what}"
        ))),
        Err(seen) if seen.to_lowercase().contains(&text.to_lowercase()) => Ok(()),
        Err(seen) => Err(Error::Expectation(format!(
            "the connection was refused, but the error does not contain {text:?}:\n  {seen}"
        ))),
    }
}

/// Checks the mode of the server's unix socket file (octal, as `ls -l`
/// counts it: `700`, `770`).
#[then(expr = "the unix socket of {server} has permissions {word}")]
async fn socket_permissions(w: &mut ValkeyWorld, server: ServerRef, perm: String) -> Result<()> {
    let server = w.resolve(&server).await?;
    let path = server.socket_path();
    let meta = std::fs::metadata(&path)
        .map_err(|e| Error::io(format!("reading the mode of {}", path.display()), e))?;
    let mode = format!("{:o}", meta.permissions().mode() & 0o7777);
    if mode == perm.trim_start_matches('0') || (mode == "0" && perm.chars().all(|c| c == '0')) {
        Ok(())
    } else {
        Err(Error::Expectation(format!(
            "the unix socket {} has permissions {mode}, expected {perm}",
            path.display()
        )))
    }
}

/// Checks that the server has no plaintext TCP port: `CONFIG GET port` is 0
/// and a TCP connection to the port it was given is refused.
#[then(expr = "{server} accepts no plaintext TCP connections")]
async fn no_tcp(w: &mut ValkeyWorld, server: ServerRef) -> Result<()> {
    let server = w.resolve(&server).await?;
    let port = crate::info::config_get(&server, "port").await?;
    if port != "0" {
        return Err(Error::Expectation(format!(
            "{} has `port {port}`, expected 0 (no plaintext TCP)",
            server.describe()
        )));
    }
    let refused = match server.connect(&server.plaintext_address(), None).await {
        Err(_) => true,
        Ok(mut c) => c.run("PING").await.is_err(),
    };
    if refused {
        Ok(())
    } else {
        Err(Error::Expectation(format!(
            "a plaintext client reached {} on 127.0.0.1:{} and PING answered",
            server.describe(),
            server.port()
        )))
    }
}
