//! Commands the scenario runs and the last reply they leave.

use super::{DEFAULT_SERVER, LastReply, ValkeyWorld};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

impl ValkeyWorld {
    /// Runs a command on a server through its default client.
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// w.run(None, r#"SET "my key" "a b""#).await?;       // the default server
    /// let reply = w.run(Some("primary"), "GET k").await?; // a named one
    /// assert!(reply.error().is_none());
    /// # Ok(()) }
    /// ```
    pub async fn run(&mut self, server: Option<&str>, line: &str) -> Result<&Reply> {
        // A line without placeholders is used as it is: a 50 MB literal is
        // not copied once more.
        let expanded = if line.contains("${") {
            std::borrow::Cow::Owned(self.expand(line).await?)
        } else {
            std::borrow::Cow::Borrowed(line)
        };
        let line = &*expanded;
        if server.is_none() && !self.servers.contains_key(DEFAULT_SERVER) && self.cluster.is_some()
        {
            return self.cluster_run(line).await;
        }
        let server = self.server(server)?.clone();
        let name = server.name().to_string();
        if !self.default_clients.contains_key(&name) {
            let client = server.client().await?;
            self.default_clients.insert(name.clone(), client);
        }
        let client = self.default_clients.get_mut(&name).expect("inserted above");
        let result = client.run(line).await;
        self.record(line, format!("server \"{name}\""), &server, result)
            .await
    }

    /// Runs a command through the cluster-aware client.
    async fn cluster_run(&mut self, line: &str) -> Result<&Reply> {
        if self.cluster_client.is_none() {
            self.cluster_client = Some(self.cluster()?.client().await?);
        }
        let client = self.cluster_client.as_mut().expect("connected above");
        let reply = client.run(line).await?;
        self.last = Some(LastReply {
            command: line.to_string(),
            by: "the cluster".into(),
            reply,
        });
        Ok(&self.last.as_ref().expect("just set").reply)
    }

    pub(super) async fn record(
        &mut self,
        line: &str,
        by: String,
        server: &Server,
        result: Result<Reply>,
    ) -> Result<&Reply> {
        match result {
            Ok(reply) => {
                self.last = Some(LastReply {
                    command: line.to_string(),
                    by,
                    reply,
                });
                Ok(&self.last.as_ref().expect("just set").reply)
            }
            Err(e) => {
                self.last = None;
                Err(server.explain(e, &format!("{by} ran `{line}`")).await)
            }
        }
    }

    /// The last reply as a failure message shows it ([`ValkeyWorld::shown`]):
    /// as `valkey-cli` prints it, or, with `cell`, as a table cell reads it
    /// ([`crate::reply::Cell`]).
    pub fn last_shown(&mut self, cell: bool) -> Result<String> {
        self.last()?;
        let last = self.last.take().expect("checked above");
        let shown = if cell {
            self.shown(&crate::reply::Cell(&last.reply))
        } else {
            self.shown(&last.reply)
        };
        self.last = Some(last);
        Ok(shown)
    }

    /// The last command's reply, and what it was.
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// use valkey_bdd::Reply;
    /// w.run(None, "INCR hits").await?;
    /// let last = w.last()?;
    /// assert_eq!(last.reply, Reply::Integer(1), "{} ran `{}`", last.by, last.command);
    /// # Ok(()) }
    /// ```
    pub fn last(&self) -> Result<&LastReply> {
        self.last.as_ref().ok_or_else(|| Error::Unknown {
            what: "no command has been run yet in this scenario".into(),
            hint: "run one first: When I run `PING`".into(),
        })
    }
}
