//! The faults of one scenario: `nftables` rules that drop packets between
//! servers' addresses, inside the run's namespace.
//!
//! Each scenario has a table of its own (`inet valkey_bdd_<n>`), rewritten
//! whole and atomically (`nft -f -`) whenever a fault is added, and deleted
//! when the network heals or the scenario ends; scenarios running at once
//! never touch each other's rules. Packets are dropped, not refused: as in a
//! real partition, the sender hears nothing and waits.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};

use super::Namespace;
use super::relay::{MARK, Relay};

/// One server as a fault names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its name in the scenario (`primary`, `node 1`).
    pub name: String,
    /// Its address in the namespace.
    pub address: Ipv4Addr,
}

/// One fault in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No packet passes between the two, either way.
    Cut(Endpoint, Endpoint),
    /// No packet passes from the first to the second; the other way does.
    Drop {
        /// The sender whose packets are lost.
        from: Endpoint,
        /// Where they were going.
        to: Endpoint,
    },
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Cut(a, b) => write!(
                f,
                "{} ({}) and {} ({}) are cut off from each other",
                a.name, a.address, b.name, b.address
            ),
            Fault::Drop { from, to } => write!(
                f,
                "the link from {} ({}) to {} ({}) drops",
                from.name, from.address, to.name, to.address
            ),
        }
    }
}

impl Fault {
    /// The rules that make it, one per line.
    fn rules(&self) -> Vec<String> {
        let rule = |a: &Endpoint, b: &Endpoint| {
            format!("ip saddr {} ip daddr {} drop", a.address, b.address)
        };
        match self {
            Fault::Cut(a, b) => vec![rule(a, b), rule(b, a)],
            Fault::Drop { from, to } => vec![rule(from, to)],
        }
    }
}

/// The faults one scenario has in force.
#[derive(Debug)]
pub struct Faults {
    namespace: Arc<Namespace>,
    table: String,
    in_force: Vec<Fault>,
    /// Faults made elsewhere (a client's latency), as the report says them.
    notes: Vec<String>,
    /// The relays holding servers' links, with the server and the delay;
    /// they live (without delay once healed) until the scenario ends.
    relays: Vec<(Endpoint, Duration, Relay)>,
    /// Whether the `nat` table sending links to the relays is in force.
    redirecting: bool,
}

impl Faults {
    /// No fault yet, in `namespace`.
    pub fn new(namespace: Arc<Namespace>) -> Faults {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        Faults {
            namespace,
            table: format!("valkey_bdd_{}", NEXT.fetch_add(1, Ordering::SeqCst)),
            in_force: Vec::new(),
            notes: Vec::new(),
            relays: Vec::new(),
            redirecting: false,
        }
    }

    /// Records a fault made outside the table (a client's latency), for the
    /// report; [`Faults::heal`] forgets it.
    pub fn note(&mut self, fault: String) {
        self.notes.push(fault);
    }

    /// The namespace the scenario's servers run in.
    pub fn namespace(&self) -> &Arc<Namespace> {
        &self.namespace
    }

    /// The faults in force, oldest first.
    pub fn in_force(&self) -> &[Fault] {
        &self.in_force
    }

    /// Puts `faults` in force besides those already there.
    pub async fn add(&mut self, faults: Vec<Fault>) -> Result<()> {
        let mut next = self.in_force.clone();
        for f in faults {
            if !next.contains(&f) {
                next.push(f);
            }
        }
        let rules: Vec<String> = next.iter().flat_map(Fault::rules).collect();
        self.replace_table(
            "inet",
            &self.table,
            "type filter hook output priority 0; policy accept;",
            &rules,
        )
        .await?;
        self.in_force = next;
        Ok(())
    }

    /// Sends every new link from or to `node` (except the harness's own,
    /// from `127.0.0.1`) through a relay that holds each chunk for `delay`,
    /// each way. Links already open are not affected: the caller breaks
    /// them so that they are made anew.
    pub async fn delay_links(&mut self, node: Endpoint, delay: Duration) -> Result<()> {
        let relay = Relay::start(&self.namespace, delay)
            .await
            .map_err(|e| crate::error::Error::Config {
                what: format!(
                    "cannot start the relay that delays the links of {} inside the run's network namespace: {e}",
                    node.name
                ),
                hint: "it needs root (or CAP_NET_ADMIN) for its socket mark".into(),
            })?;
        self.relays.push((node, delay, relay));
        let mut rules = vec![format!("meta mark {MARK:#x} return")];
        for (node, _, relay) in &self.relays {
            rules.extend(redirect_rules(node.address, relay.port()));
        }
        self.replace_table(
            "ip",
            &self.nat_table(),
            "type nat hook output priority -100; policy accept;",
            &rules,
        )
        .await?;
        self.redirecting = true;
        Ok(())
    }

    fn nat_table(&self) -> String {
        format!("{}_latency", self.table)
    }

    /// Makes the table `family name` anew, atomically, with one `out` chain
    /// of this `kind` (its hook line) holding `rules`.
    async fn replace_table(
        &self,
        family: &str,
        name: &str,
        kind: &str,
        rules: &[String],
    ) -> Result<()> {
        let mut script = format!(
            "table {family} {name}\ndelete table {family} {name}\ntable {family} {name} {{\n  chain out {{\n    {kind}\n"
        );
        for rule in rules {
            script.push_str(&format!("    {rule}\n"));
        }
        script.push_str("  }\n}\n");
        self.namespace
            .run("nft", &["-f", "-"], Some(&script))
            .await?;
        Ok(())
    }

    /// Deletes the table `family name` (declaring it first, so that a table
    /// not there is no error).
    async fn delete_table(&self, family: &str, name: &str) -> Result<()> {
        let script = format!("table {family} {name}\ndelete table {family} {name}\n");
        self.namespace
            .run("nft", &["-f", "-"], Some(&script))
            .await?;
        Ok(())
    }

    /// Lifts every fault: packets pass again (connections the faults broke
    /// recover or are made anew by the servers, as after a real partition).
    /// The relays close the links they carry, then new links of delayed
    /// servers are direct again; the servers whose links were delayed are
    /// returned, for the caller to break what is left of them.
    ///
    /// The order matters: a relayed link is translated by the `nat` rules
    /// (conntrack), and once the last `nat` table of the namespace is gone
    /// the kernel translates nothing, so a relay closing its side after
    /// that would send its `FIN` from `127.0.0.1` — lost to the server at
    /// the other end, whose link stays open and silent. A cluster node
    /// keeps such a link forever while the delayed node still talks to it
    /// on another, and never sees the delayed node answer again.
    pub async fn heal(&mut self) -> Result<Vec<Endpoint>> {
        self.notes.clear();
        let mut delayed = Vec::new();
        for (node, _, relay) in self.relays.drain(..) {
            relay.close().await.map_err(|e| Error::Config {
                what: format!(
                    "healing the network: the relay delaying the links of {}: {e}",
                    node.name
                ),
                hint: "a machine this busy cannot make network faults in time; run fewer scenarios at once (--concurrency)".into(),
            })?;
            delayed.push(node);
        }
        if self.redirecting {
            self.delete_table("ip", &self.nat_table()).await?;
            self.redirecting = false;
        }
        if self.in_force.is_empty() {
            return Ok(delayed);
        }
        self.delete_table("inet", &self.table).await?;
        self.in_force.clear();
        Ok(delayed)
    }

    /// The faults in force, one per line, for a failed scenario's report;
    /// `None` when there are none.
    pub fn report(&self) -> Option<String> {
        let delayed: Vec<String> = if self.redirecting {
            self.relays
                .iter()
                .map(|(node, delay, relay)| {
                    format!(
                        "the links of {} ({}) have {} ms of latency (relay at 127.0.0.1:{})",
                        node.name,
                        node.address,
                        delay.as_millis(),
                        relay.port()
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        (!self.in_force.is_empty() || !self.notes.is_empty() || !delayed.is_empty()).then(|| {
            let lines: Vec<String> = self
                .in_force
                .iter()
                .map(|f| f.to_string())
                .chain(self.notes.iter().cloned())
                .chain(delayed)
                .map(|f| format!("  {f}"))
                .collect();
            format!(
                "── network faults in force (nft table inet {}) ──\n{}",
                self.table,
                lines.join("\n")
            )
        })
    }
}

/// The `nat` rules sending new TCP links from or to `address` to a relay
/// at `127.0.0.1:port`; the harness's links (from or to `127.0.0.1`) pass.
fn redirect_rules(address: Ipv4Addr, port: u16) -> [String; 2] {
    [
        format!(
            "ip saddr {address} ip daddr != 127.0.0.1 meta l4proto tcp dnat to 127.0.0.1:{port}"
        ),
        format!(
            "ip daddr {address} ip saddr != 127.0.0.1 meta l4proto tcp dnat to 127.0.0.1:{port}"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(name: &str, last: u8) -> Endpoint {
        Endpoint {
            name: name.into(),
            address: Ipv4Addr::new(127, 0, 0, last),
        }
    }

    #[test]
    fn a_cut_drops_both_ways_and_a_dropped_link_one_way() {
        let cut = Fault::Cut(at("primary", 2), at("replica 1", 3));
        assert_eq!(
            cut.rules(),
            [
                "ip saddr 127.0.0.2 ip daddr 127.0.0.3 drop",
                "ip saddr 127.0.0.3 ip daddr 127.0.0.2 drop"
            ]
        );
        let dropped = Fault::Drop {
            from: at("replica 1", 3),
            to: at("primary", 2),
        };
        assert_eq!(
            dropped.rules(),
            ["ip saddr 127.0.0.3 ip daddr 127.0.0.2 drop"]
        );
        assert_eq!(
            dropped.to_string(),
            "the link from replica 1 (127.0.0.3) to primary (127.0.0.2) drops"
        );
    }

    #[test]
    fn a_delayed_server_has_its_links_both_ways_redirected_but_not_the_harnesss() {
        assert_eq!(
            redirect_rules(Ipv4Addr::new(127, 0, 0, 3), 40000),
            [
                "ip saddr 127.0.0.3 ip daddr != 127.0.0.1 meta l4proto tcp dnat to 127.0.0.1:40000",
                "ip daddr 127.0.0.3 ip saddr != 127.0.0.1 meta l4proto tcp dnat to 127.0.0.1:40000"
            ]
        );
    }
}
