//! A scenario's named clients, subscribers and programs: connecting them,
//! their commands in the foreground and the background, their checkpoints,
//! and their ids and names (`${client.bob.id}`, see [`super::remember`]).

use std::sync::Arc;

use crate::actors::{Actor, Subscriber};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

use super::ValkeyWorld;

impl ValkeyWorld {
    /// Connects a named client to a server (the default one for `None`) the
    /// ordinary way, as a program given the server's URL would: over the
    /// server's transport (with the default client certificate when it
    /// speaks TLS), with the run's password while the server is guarded by
    /// it ([`Server::client_credentials`]), unauthenticated when the
    /// scenario set a password of its own. The default client of `I run
    /// ...` is the harness's own and authenticates whenever it can.
    pub async fn connect_client(&mut self, client: &str, server: Option<&str>) -> Result<()> {
        let server_ref = self.server(server)?;
        let (address, auth) = (server_ref.address(), server_ref.client_credentials());
        self.connect_client_to(client, server, &address, auth.as_ref())
            .await
    }

    /// Connects a named client to a server at `address`, authenticating
    /// with `auth`, and checks the connection with a first command (a TLS
    /// server that refuses a client certificate says so only then).
    pub async fn connect_client_to(
        &mut self,
        client: &str,
        server: Option<&str>,
        address: &crate::client::Address,
        auth: Option<&crate::client::Credentials>,
    ) -> Result<()> {
        if self.clients.contains_key(client) {
            return Err(Error::Config {
                what: format!("this scenario already has a client called \"{client}\""),
                hint: "give the new client another name".into(),
            });
        }
        let server = self.server(server)?.clone();
        let connection = server.connect(address, auth).await?;
        let actor = Actor::attach(client, server.name(), connection).await?;
        self.clients.insert(client.to_string(), actor);
        Ok(())
    }

    /// Like [`ValkeyWorld::connect_client_to`], but a refusal is recorded for
    /// [`ValkeyWorld::connection_attempt`] instead of failing.
    pub async fn try_connect_client_to(
        &mut self,
        client: &str,
        server: Option<&str>,
        address: &crate::client::Address,
        auth: Option<&crate::client::Credentials>,
    ) -> Result<()> {
        let described = self.server(server)?.describe();
        self.attempt = Some(
            match self.connect_client_to(client, server, address, auth).await {
                Ok(()) => Ok(format!(
                    "client \"{client}\" connected to {described} ({address}) and its first command was answered"
                )),
                Err(e @ Error::Config { .. }) => return Err(e),
                Err(e) => Err(e.to_string()),
            },
        );
        Ok(())
    }

    /// How the last connection attempt ended: `Ok` with what happened when
    /// it connected, `Err` with the error the client saw.
    pub fn connection_attempt(&self) -> Result<std::result::Result<&str, &str>> {
        match &self.attempt {
            None => Err(Error::Unknown {
                what: "no client has tried to connect yet in this scenario".into(),
                hint: "try first: When client \"c\" tries to connect to the server in plaintext"
                    .into(),
            }),
            Some(Ok(s)) => Ok(Ok(s)),
            Some(Err(e)) => Ok(Err(e)),
        }
    }

    /// Forgets the connection of sentences without a client to `server`, so
    /// that the next one connects again with the harness's current
    /// credentials.
    pub fn reconnect_default_client(&mut self, server: &str) {
        self.default_clients.remove(server);
    }

    /// Runs a command through a named client. A client that does not exist
    /// yet is connected to the default server first.
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// w.client_run("alice", "CLIENT GETNAME").await?; // connects alice on first use
    /// let id = w.client_id("alice").await?;
    /// w.run(None, &format!("CLIENT KILL ID {id}")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn client_run(&mut self, client: &str, line: &str) -> Result<&Reply> {
        let expanded = self.expand(line).await?;
        let line = expanded.as_str();
        self.actor(client).await?;
        let actor = self.clients.get_mut(client).expect("made above");
        let server = self
            .servers
            .get(actor.server())
            .cloned()
            .expect("a client's server stays in the scenario");
        let result = actor.run(line).await;
        self.record(line, format!("client \"{client}\""), &server, result)
            .await
    }

    /// What could be keeping `server` busy: a named client's command still
    /// running in the background, the harness having frozen it, or the
    /// user's own programs (which may be sending it commands). `None` when
    /// nothing of this scenario can be.
    pub fn busy_keepers(&self, server: &Server) -> Option<String> {
        if server.is_frozen() {
            return Some(format!("{} is frozen", server.describe()));
        }
        let pending: Vec<String> = self
            .clients
            .iter()
            .filter(|(_, a)| a.server() == server.name() && !a.is_done())
            .filter_map(|(n, a)| {
                a.pending()
                    .map(|line| format!("client {n:?} runs `{line}`"))
            })
            .collect();
        if !pending.is_empty() {
            return Some(pending.join(", "));
        }
        (!self.processes.is_empty()).then(|| "the scenario's own programs".to_string())
    }

    /// A named client; one not met yet is a client of the default server
    /// that connects on first use (in the background, when that use is a
    /// command in the background).
    pub async fn actor(&mut self, client: &str) -> Result<&mut Actor> {
        if !self.clients.contains_key(client) {
            let server = self.server(None)?.clone();
            self.clients
                .insert(client.to_string(), Actor::new(client, server));
        }
        Ok(self.clients.get_mut(client).expect("inserted above"))
    }

    /// A named client's id on its server (`CLIENT ID`), connecting it first
    /// if need be; a connection still being made in the background is
    /// waited for up to `VALKEY_BDD_WAIT_TIMEOUT`. Its name on the server is
    /// [`crate::actors::server_side_name`] of `client`.
    pub async fn client_id(&mut self, client: &str) -> Result<i64> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let timeout = crate::settings::wait_timeout()?;
        self.actor(client).await?.learn_id(timeout).await
    }

    /// The server a named client is connected to.
    pub(super) fn server_of(&self, client: &str) -> Result<Arc<Server>> {
        let actor = self.clients.get(client).ok_or_else(|| Error::Unknown {
            what: format!("this scenario has no client called \"{client}\""),
            hint: format!("connect it first: Given client \"{client}\" is connected to the server"),
        })?;
        Ok(self
            .servers
            .get(actor.server())
            .cloned()
            .expect("a client's server stays in the scenario"))
    }

    /// Starts a command through a named client in the background.
    pub async fn client_start(&mut self, client: &str, line: &str) -> Result<()> {
        let line = self.expand(line).await?;
        self.actor(client).await?.start(&line).await
    }

    /// Waits for the reply of a named client's background command and keeps
    /// it for the reply sentences.
    pub async fn client_finish(&mut self, client: &str) -> Result<&Reply> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let timeout = crate::settings::wait_timeout()?;
        let server = self.server_of(client)?;
        let actor = self.clients.get_mut(client).expect("checked above");
        let line = actor.pending().unwrap_or_default().to_string();
        let result = actor.finish(timeout).await;
        self.record(&line, format!("client \"{client}\""), &server, result)
            .await
    }

    /// Waits until the server shows a named client with `flag`.
    pub async fn client_wait_for(&mut self, client: &str, flag: crate::actors::Flag) -> Result<()> {
        let timeout = crate::settings::wait_timeout()?;
        let server = self.server_of(client)?;
        let actor = self.clients.get_mut(client).expect("checked above");
        actor.wait_for(&server, flag, timeout).await
    }

    /// Waits (up to `VALKEY_BDD_WAIT_TIMEOUT`) until `CLIENT LIST` shows a
    /// named client in `state`: a flag, the keys it watches, a field.
    pub async fn client_wait_state(
        &mut self,
        client: &str,
        state: &crate::client_state::ClientState,
    ) -> Result<()> {
        let timeout = crate::settings::wait_timeout()?;
        let server = self.server_of(client)?;
        let actor = self.clients.get_mut(client).expect("checked above");
        actor.wait_state(&server, state, timeout).await
    }

    /// Closes a named client's connection (and abandons its background
    /// command), as a crashing program would.
    pub fn disconnect_client(&mut self, client: &str) -> Result<()> {
        self.clients
            .remove(client)
            .map(drop)
            .ok_or_else(|| Error::Unknown {
                what: format!("this scenario has no client called \"{client}\""),
                hint: "only a connected client can disconnect".into(),
            })
    }

    /// Starts one of the user's programs under a name of the scenario.
    pub async fn start_process(
        &mut self,
        spec: crate::process::ProcessSpec,
        name: &str,
    ) -> Result<()> {
        if self.processes.contains_key(name) {
            return Err(Error::Config {
                what: format!("this scenario already has a process called \"{name}\""),
                hint: "give the new process another name".into(),
            });
        }
        let p = crate::process::UserProcess::start(spec).await?;
        self.processes.insert(name.to_string(), p);
        Ok(())
    }

    /// One of the user's programs, by name.
    pub fn process(&mut self, name: &str) -> Result<&mut crate::process::UserProcess> {
        let known: Vec<String> = self.processes.keys().cloned().collect();
        self.processes.get_mut(name).ok_or_else(|| Error::Unknown {
            what: format!("this scenario has no process called \"{name}\""),
            hint: if known.is_empty() {
                format!("start it first: When process \"{name}\" runs `...`")
            } else {
                format!("its processes are: {}", known.join(", "))
            },
        })
    }

    /// Subscribes a named subscriber to channels of a server, on a
    /// connection of its own (made on its first subscription).
    pub async fn subscribe(
        &mut self,
        client: &str,
        server: &str,
        channels: &[String],
    ) -> Result<()> {
        self.subscriber_on(client, server)
            .await?
            .subscribe(channels)
            .await
    }

    /// Subscribes a named subscriber to patterns (`__keyspace@0__:*`) of a
    /// server, on a connection of its own (made on its first subscription).
    pub async fn psubscribe(
        &mut self,
        client: &str,
        server: &str,
        patterns: &[String],
    ) -> Result<()> {
        self.subscriber_on(client, server)
            .await?
            .psubscribe(patterns)
            .await
    }

    async fn subscriber_on(&mut self, client: &str, server: &str) -> Result<&mut Subscriber> {
        if !self.subscribers.contains_key(client) {
            let server = self.server(Some(server))?.clone();
            let auth = server.client_credentials();
            let sub = Subscriber::connect(client, &server.address(), auth.as_ref()).await?;
            self.subscribers.insert(client.to_string(), sub);
        }
        Ok(self.subscribers.get_mut(client).expect("inserted above"))
    }

    /// A named subscriber.
    pub fn subscriber(&self, client: &str) -> Result<&Subscriber> {
        self.subscribers.get(client).ok_or_else(|| Error::Unknown {
            what: format!("this scenario has no subscriber called \"{client}\""),
            hint: format!("subscribe it first: When client \"{client}\" subscribes to \"news\""),
        })
    }
}
