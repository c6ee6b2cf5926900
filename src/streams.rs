//! Streams: filling one fast, draining it with a consumer group, checking
//! that every entry was delivered exactly once.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::server::Server;

/// How many commands go in one pipeline when filling a stream.
const BATCH: usize = 500;

/// Appends `count` entries `n <i>` (i from 1) to `key` with `XADD key *`,
/// pipelined; returns their ids in order.
pub async fn add_numbered(server: &Server, key: &str, count: usize) -> Result<Vec<String>> {
    let rows: Vec<Vec<(String, String)>> = (1..=count)
        .map(|i| vec![("n".to_string(), i.to_string())])
        .collect();
    add(server, key, &rows).await
}

/// Appends one entry per row (`field value` pairs) to `key` with
/// `XADD key *`, pipelined; returns their ids in order.
pub async fn add(
    server: &Server,
    key: &str,
    rows: &[Vec<(String, String)>],
) -> Result<Vec<String>> {
    let mut client = server.client().await?;
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(BATCH) {
        let commands: Vec<Vec<&str>> = chunk
            .iter()
            .map(|fields| {
                let mut args = vec!["XADD", key, "*"];
                for (f, v) in fields {
                    args.push(f);
                    args.push(v);
                }
                args
            })
            .collect();
        for reply in client.run_pipeline(&commands).await? {
            match reply.text() {
                Some(id) => ids.push(id),
                None => {
                    return Err(Error::Expectation(format!(
                        "XADD {key} answered {reply}, not an entry id"
                    )));
                }
            }
        }
    }
    Ok(ids)
}

/// What a group of consumers read from a stream.
#[derive(Debug, Clone, Default)]
pub struct Drained {
    /// The ids each consumer read and acknowledged, by consumer name.
    pub by_consumer: BTreeMap<String, Vec<String>>,
    /// How long the drain took.
    pub elapsed: Duration,
}

impl Drained {
    /// Every id read, by every consumer.
    pub fn total(&self) -> usize {
        self.by_consumer.values().map(Vec::len).sum()
    }

    /// Checks that the consumers read exactly `expected` between them: none
    /// lost, none twice. The error names what was missing or repeated.
    pub fn check_exactly_once(&self, expected: &[String]) -> Result<()> {
        let mut seen: HashMap<&str, Vec<&str>> = HashMap::new();
        for (consumer, ids) in &self.by_consumer {
            for id in ids {
                seen.entry(id.as_str()).or_default().push(consumer.as_str());
            }
        }
        let twice: Vec<String> = seen
            .iter()
            .filter(|(_, who)| who.len() > 1)
            .map(|(id, who)| format!("{id} (read by {})", who.join(", ")))
            .take(5)
            .collect();
        let lost: Vec<&str> = expected
            .iter()
            .map(String::as_str)
            .filter(|id| !seen.contains_key(id))
            .take(5)
            .collect();
        let wanted: std::collections::HashSet<&str> = expected.iter().map(String::as_str).collect();
        let extra = seen.keys().any(|id| !wanted.contains(id));
        if twice.is_empty() && lost.is_empty() && !extra {
            return Ok(());
        }
        Err(Error::Expectation(format!(
            "the consumers read {} entries of {} expected ({}); delivered twice: [{}]; never delivered: [{}]{}",
            self.total(),
            expected.len(),
            self.by_consumer
                .iter()
                .map(|(c, ids)| format!("{c}: {}", ids.len()))
                .collect::<Vec<_>>()
                .join(", "),
            twice.join(", "),
            lost.join(", "),
            if extra {
                "; and some ids that are not in the stream"
            } else {
                ""
            }
        )))
    }

    /// The consumers that read nothing, in name order.
    pub fn idle_consumers(&self) -> Vec<&str> {
        self.by_consumer
            .iter()
            .filter(|(_, ids)| ids.is_empty())
            .map(|(c, _)| c.as_str())
            .collect()
    }

    /// Checks that every consumer read at least one entry: the work was
    /// shared. The error names the idle ones and what each read.
    pub fn check_every_consumer_read(&self) -> Result<()> {
        let idle = self.idle_consumers();
        if idle.is_empty() {
            return Ok(());
        }
        Err(Error::Expectation(format!(
            "{} read nothing: the consumers did not share the work ({} entries read: {})",
            idle.join(", "),
            self.total(),
            self.by_consumer
                .iter()
                .map(|(c, ids)| format!("{c}: {}", ids.len()))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// How many entries the stream `key` holds (`XLEN`); `None` when there is no
/// such key, which is not a stream of 0 entries. A key of another type is
/// an error that names its type.
pub async fn length(server: &Server, key: &str) -> Result<Option<u64>> {
    let quoted = crate::command::join(&[key.as_bytes().to_vec()]);
    let kind = server.command(&format!("TYPE {quoted}")).await?;
    match kind.text().as_deref() {
        Some("none") => return Ok(None),
        Some("stream") => {}
        _ => {
            return Err(Error::Expectation(format!(
                "{key:?} on {} is not a stream: TYPE answered {kind}",
                server.describe()
            )));
        }
    }
    match server.command(&format!("XLEN {quoted}")).await? {
        Reply::Integer(n) if n >= 0 => Ok(Some(n as u64)),
        other => Err(Error::Expectation(format!(
            "XLEN {key} on {} answered {other}",
            server.describe()
        ))),
    }
}

/// Drains `key` through `group` with `consumers` consumers at once
/// (`consumer-1` …), each on its own connection: `XREADGROUP ... COUNT
/// <batch> STREAMS key >`, then `XACK` of what it read, until a read comes
/// back empty. Bounded by `timeout`.
pub async fn drain(
    server: &Server,
    key: &str,
    group: &str,
    consumers: usize,
    batch: usize,
    timeout: Duration,
) -> Result<Drained> {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(consumers);
    for i in 1..=consumers {
        let client = server.client().await?;
        let name = format!("consumer-{i}");
        let (key, group) = (key.to_string(), group.to_string());
        tasks.push(tokio::spawn(async move {
            let ids = consume(client, &key, &group, &name, batch).await;
            (name, ids)
        }));
    }
    let all = futures::future::join_all(tasks);
    let results = tokio::time::timeout(timeout, all)
        .await
        .map_err(|_| Error::Timeout {
            what: format!("{consumers} consumers of group {group:?} to drain stream {key:?}"),
            waited: started.elapsed(),
            last: "some consumer still reading".into(),
            hint: "a consumer blocks only if the stream grows meanwhile; VALKEY_BDD_WAIT_TIMEOUT sets the deadline".into(),
        })?;
    let mut out = Drained::default();
    for r in results {
        let (name, ids) =
            r.map_err(|e| Error::Expectation(format!("a consumer task failed: {e}")))?;
        out.by_consumer.insert(name, ids?);
    }
    out.elapsed = started.elapsed();
    Ok(out)
}

async fn consume(
    mut client: Client,
    key: &str,
    group: &str,
    name: &str,
    batch: usize,
) -> Result<Vec<String>> {
    let mut mine = Vec::new();
    let count = batch.to_string();
    loop {
        let reply = client
            .run_args(&[
                "XREADGROUP",
                "GROUP",
                group,
                name,
                "COUNT",
                &count,
                "STREAMS",
                key,
                ">",
            ])
            .await?;
        let ids = entry_ids(&reply)?;
        if ids.is_empty() {
            return Ok(mine);
        }
        let mut ack: Vec<&str> = vec!["XACK", key, group];
        ack.extend(ids.iter().map(String::as_str));
        client.run_args(&ack).await?;
        mine.extend(ids);
    }
}

/// The entry ids in an `XREADGROUP`/`XREAD` reply (nil: none).
pub fn entry_ids(reply: &Reply) -> Result<Vec<String>> {
    let streams = match reply {
        Reply::Nil => return Ok(Vec::new()),
        Reply::Array(a) => a,
        Reply::Map(m) => {
            return Ok(m
                .iter()
                .flat_map(|(_, entries)| ids_of_entries(entries))
                .collect());
        }
        Reply::Error(e) => return Err(Error::Expectation(format!("XREADGROUP answered {e}"))),
        other => {
            return Err(Error::Expectation(format!(
                "XREADGROUP answered {other}, not a list of streams"
            )));
        }
    };
    Ok(streams
        .iter()
        .flat_map(|s| match s {
            Reply::Array(pair) if pair.len() == 2 => ids_of_entries(&pair[1]),
            _ => Vec::new(),
        })
        .collect())
}

fn ids_of_entries(entries: &Reply) -> Vec<String> {
    match entries {
        Reply::Array(es) => es
            .iter()
            .filter_map(|e| match e {
                Reply::Array(parts) => parts.first().and_then(Reply::text),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Every id of `key`, oldest first (`XRANGE key - +`).
pub async fn ids(server: &Server, key: &str) -> Result<Vec<String>> {
    let reply = server.command(&format!("XRANGE {key} - +")).await?;
    Ok(ids_of_entries(&reply))
}

/// Waits until some entry of `key` has been pending in `group` for at least
/// `idle` (`XPENDING key group IDLE <ms> - + 1`), which is when `XCLAIM` and
/// `XAUTOCLAIM` with that minimum idle time take it.
pub async fn wait_pending_idle(
    server: &Server,
    key: &str,
    group: &str,
    idle: Duration,
    timeout: Duration,
) -> Result<()> {
    let _spent = crate::spent::track(crate::spent::Activity::Waiting);
    let started = Instant::now();
    let line = format!("XPENDING {key} {group} IDLE {} - + 1", idle.as_millis());
    loop {
        let reply = server.command(&line).await?;
        match &reply {
            Reply::Array(a) if !a.is_empty() => return Ok(()),
            Reply::Error(e) => {
                return Err(Error::Expectation(format!("`{line}` answered {e}")));
            }
            _ => {}
        }
        if started.elapsed() >= timeout {
            let summary = server
                .command(&format!("XPENDING {key} {group}"))
                .await
                .map(|r| r.to_string())
                .unwrap_or_default();
            return Err(Error::Timeout {
                what: format!(
                    "an entry of {key:?} to be pending in group {group:?} for {} ms",
                    idle.as_millis()
                ),
                waited: started.elapsed(),
                last: format!("XPENDING {key} {group}: {}", summary.replace('\n', " ")),
                hint: "an entry is pending only once a consumer read it without XACK".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drained(reads: &[(&str, &[&str])]) -> Drained {
        Drained {
            by_consumer: reads
                .iter()
                .map(|(c, ids)| (c.to_string(), ids.iter().map(|i| i.to_string()).collect()))
                .collect(),
            elapsed: Duration::ZERO,
        }
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn exactly_once_does_not_ask_for_fairness() {
        // 50 entries taken by one consumer in one read: delivered exactly once.
        let d = drained(&[("consumer-1", &["1-1", "1-2"]), ("consumer-2", &[])]);
        d.check_exactly_once(&ids(&["1-1", "1-2"])).unwrap();
        let e = d.check_every_consumer_read().unwrap_err().to_string();
        assert!(e.contains("consumer-2 read nothing"), "{e}");
    }

    #[test]
    fn lost_and_repeated_entries_fail_exactly_once() {
        let d = drained(&[("consumer-1", &["1-1"]), ("consumer-2", &["1-1"])]);
        let e = d
            .check_exactly_once(&ids(&["1-1", "1-2"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("delivered twice: [1-1 (read by consumer-1, consumer-2)]"),
            "{e}"
        );
        assert!(e.contains("never delivered: [1-2]"), "{e}");
        d.check_every_consumer_read().unwrap();
    }
}
