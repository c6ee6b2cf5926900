//! A scenario's network faults ([`crate::network`]): which of its servers
//! run inside the run's namespace, the faults it puts in force between them,
//! and the latency of its clients' links.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::network::faults::Endpoint;
use crate::network::{Fault, Faults, Namespace};
use crate::server::ServerSpec;

use super::ValkeyWorld;

/// How many times [`ValkeyWorld::fastest_of_two_clients`] runs the command
/// as each client.
pub const TRIES: usize = 3;

impl ValkeyWorld {
    /// The run's network namespace when this scenario states network faults
    /// (its servers then start inside it); `None` otherwise.
    pub async fn network_namespace(&mut self) -> Result<Option<Arc<Namespace>>> {
        if let Some(faults) = &self.network {
            return Ok(Some(faults.namespace().clone()));
        }
        if !self.scenario.network {
            return Ok(None);
        }
        let namespace = crate::network::namespace()
            .await
            .map_err(|why| Error::Config {
                what: format!("this scenario states network faults, and {why}"),
                hint: format!(
                    "tag it @{} so that it is skipped where faults cannot be made (the runner does so for its own sentences)",
                    crate::network::REQUIREMENT
                ),
            })?;
        self.network = Some(Faults::new(namespace.clone()));
        Ok(Some(namespace))
    }

    /// A server as a fault names it: it must run inside the namespace.
    fn endpoint(&self, name: &str) -> Result<Endpoint> {
        let server = self.server(Some(name))?;
        let inside = self
            .network
            .as_ref()
            .is_some_and(|_| crate::network::is_seated(server.host()));
        let address = match server.host().parse() {
            Ok(address) if inside => address,
            _ => {
                return Err(Error::Config {
                    what: format!(
                        "{} does not run inside the run's network namespace, so no network fault can reach it",
                        server.describe()
                    ),
                    hint: "network faults reach the servers a scenario starts itself (not shared or external ones)".into(),
                });
            }
        };
        Ok(Endpoint {
            name: name.to_string(),
            address,
        })
    }

    fn faults(&mut self) -> Result<&mut Faults> {
        self.network.as_mut().ok_or_else(|| Error::Config {
            what: "this scenario has started no server inside the run's network namespace".into(),
            hint: "start the servers the faults name first (Given a primary with 1 replica, Given a cluster of 3 shards)".into(),
        })
    }

    /// Cuts `node` off from each of `others` (all the scenario's other
    /// servers when empty): no packet passes between them, either way.
    pub async fn cut_off(&mut self, node: &str, others: &[String]) -> Result<()> {
        let me = self.endpoint(node)?;
        let others: Vec<String> = if others.is_empty() {
            self.servers
                .keys()
                .filter(|n| *n != node)
                .cloned()
                .collect()
        } else {
            others.to_vec()
        };
        let mut faults = Vec::new();
        for other in &others {
            faults.push(Fault::Cut(me.clone(), self.endpoint(other)?));
        }
        self.faults()?.add(faults).await
    }

    /// Drops the packets from `from` to `to`; the other way still passes.
    pub async fn drop_link(&mut self, from: &str, to: &str) -> Result<()> {
        let fault = Fault::Drop {
            from: self.endpoint(from)?,
            to: self.endpoint(to)?,
        };
        self.faults()?.add(vec![fault]).await
    }

    /// Lifts every fault and latency of the scenario. The links of servers
    /// that had latency are broken, so that the servers make them anew,
    /// directly.
    pub async fn heal_network(&mut self) -> Result<()> {
        crate::network::latency::clear(&std::mem::take(&mut self.delayed));
        for node in self.faults()?.heal().await? {
            self.break_links(&node.name).await?;
        }
        Ok(())
    }

    /// Delays everything a named client sends and receives by `delay`, each
    /// way, from now on.
    pub async fn delay_client(&mut self, client: &str, delay: Duration) -> Result<()> {
        let id = self.client_id(client).await?;
        let server = self.server_of(client)?;
        if !crate::network::is_seated(server.host()) {
            return Err(Error::Config {
                what: format!(
                    "client \"{client}\" is connected to {}, which does not run inside the run's network namespace",
                    server.describe()
                ),
                hint: "latency reaches the clients of servers the scenario starts itself".into(),
            });
        }
        let reply = server.command(&format!("CLIENT LIST ID {id}")).await?;
        let text = reply.text().unwrap_or_default();
        let line = crate::client_state::ClientLine::parse(text.trim());
        let port = line
            .field("addr")
            .and_then(|a| a.rsplit_once(':'))
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .ok_or_else(|| {
                Error::Expectation(format!(
                    "`CLIENT LIST ID {id}` on {} shows no address for client \"{client}\": {text:?}",
                    server.describe()
                ))
            })?;
        if !crate::network::latency::set(port, delay) {
            return Err(Error::Expectation(format!(
                "client \"{client}\" (id {id}, port {port}) has no open link of the harness's to delay"
            )));
        }
        self.delayed.push(port);
        if let Some(faults) = &mut self.network {
            faults.note(format!(
                "the link of client \"{client}\" (127.0.0.1:{port}) has {} ms of latency",
                delay.as_millis()
            ));
        }
        Ok(())
    }

    /// Delays every link of a named server to the scenario's other servers
    /// (replication links, cluster bus) by `delay`, each way, from now on:
    /// new links go through a relay, and the ones open now are broken so
    /// that the servers make them anew, through it. The harness's own
    /// connections are not delayed.
    pub async fn delay_server_links(&mut self, node: &str, delay: Duration) -> Result<()> {
        let me = self.endpoint(node)?;
        self.faults()?.delay_links(me, delay).await?;
        self.break_links(node).await
    }

    /// Breaks the open links of a named server to the other servers: its
    /// replication links, as a replica and as a primary, and its cluster bus
    /// links, both ways. The servers make them anew by themselves (a replica
    /// within a second: its `master_link_status` is `down` until then).
    async fn break_links(&self, node: &str) -> Result<()> {
        let server = self.server(Some(node))?.clone();
        let must = |reply: crate::reply::Reply, line: &str| match reply.error() {
            Some(e) => Err(Error::Expectation(format!(
                "breaking the open links of {} so that they are made anew: `{line}` answered {e}",
                server.describe()
            ))),
            None => Ok(()),
        };
        for line in ["CLIENT KILL TYPE master", "CLIENT KILL TYPE replica"] {
            must(server.command(line).await?, line)?;
        }
        let nodes = server.command("CLUSTER NODES").await?;
        if nodes.error().is_none() {
            let text = nodes.text().unwrap_or_default();
            for id in text
                .lines()
                .filter(|l| !l.contains("myself"))
                .filter_map(|l| l.split_whitespace().next())
            {
                let line = format!("DEBUG CLUSTERLINK KILL all {id}");
                must(server.command(&line).await?, &line)?;
            }
        }
        Ok(())
    }

    /// Runs a command as a named client and says how long its reply took.
    pub async fn time_client_command(&mut self, client: &str, line: &str) -> Result<Duration> {
        let started = Instant::now();
        self.client_run(client, line).await?;
        Ok(started.elapsed())
    }

    /// Runs a command as client `a`, then as client `b`, [`TRIES`] times
    /// over, and says how long each one's fastest reply took. Load only adds
    /// time to a try, and never makes a delayed reply come back early: the
    /// fastest of several is what the link itself costs, and a busy machine
    /// would have to stall every try of one client, and none of the other's,
    /// to change the difference much.
    pub async fn fastest_of_two_clients(
        &mut self,
        a: &str,
        b: &str,
        line: &str,
    ) -> Result<(Duration, Duration)> {
        let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
        for _ in 0..TRIES {
            best_a = best_a.min(self.time_client_command(a, line).await?);
            best_b = best_b.min(self.time_client_command(b, line).await?);
        }
        Ok((best_a, best_b))
    }

    /// `spec`, placed inside the run's network namespace when this scenario
    /// states network faults.
    pub(super) async fn seated(&mut self, spec: ServerSpec) -> Result<ServerSpec> {
        Ok(match self.network_namespace().await? {
            Some(namespace) => spec.seat(namespace.seat()),
            None => spec,
        })
    }

    /// Lifts the faults at the scenario's end; a failed scenario's `report`
    /// gets the faults that were in force, and any trouble lifting them.
    pub(super) async fn end_faults(&mut self, failed: bool, report: &mut Vec<String>) {
        crate::network::latency::clear(&std::mem::take(&mut self.delayed));
        let Some(mut faults) = self.network.take() else {
            return;
        };
        if failed && let Some(in_force) = faults.report() {
            report.push(in_force);
        }
        if let Err(e) = faults.heal().await {
            report.push(format!("lifting the network faults failed: {e}"));
        }
    }
}
