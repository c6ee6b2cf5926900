//! Streams: entries from tables, consumer groups, pending entries, and many
//! consumers draining one stream. Plain commands (`XADD`, `XREAD`, `XTRIM`,
//! `XINFO`, `XCLAIM`, `XAUTOCLAIM` ...) go through `I run` and the reply
//! sentences.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use crate::error::{Error, Result};
use crate::streams::{self, Drained};
use crate::world::ValkeyWorld;

/// What the stream sentences of a scenario remember.
#[derive(Debug, Default)]
struct StreamState {
    /// The last drain, by stream key.
    drained: std::collections::HashMap<String, Drained>,
}

fn rows(step: &Step) -> Result<Vec<Vec<(String, String)>>> {
    let table = step.table.as_ref().ok_or_else(|| Error::Config {
        what: format!("the step `{}` needs a table below it", step.value),
        hint: "the first row names the fields, each other row is one entry: | sensor | temp |"
            .into(),
    })?;
    let Some((header, entries)) = table.rows.split_first() else {
        return Err(Error::Config {
            what: "the table of entries is empty".into(),
            hint: "the first row names the fields, each other row is one entry".into(),
        });
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, row)| {
            if row.len() != header.len() {
                return Err(Error::Config {
                    what: format!(
                        "entry {} has {} value(s) for {} field(s)",
                        i + 1,
                        row.len(),
                        header.len()
                    ),
                    hint: "give every entry a value for each field of the first row".into(),
                });
            }
            Ok(header.iter().cloned().zip(row.iter().cloned()).collect())
        })
        .collect()
}

/// Appends one entry per row to a stream of the default server (`XADD key *`);
/// the first row names the fields.
#[given(expr = "the stream {string} has the entries:")]
#[when(expr = "I add to the stream {string} the entries:")]
async fn add_entries(w: &mut ValkeyWorld, key: String, #[step] s: &Step) -> Result<()> {
    let key = w.expand(&key).await?;
    let mut rows = rows(s)?;
    for (_, value) in rows.iter_mut().flatten() {
        *value = w.expand(value).await?;
    }
    let server = w.server(None)?.clone();
    streams::add(&server, &key, &rows).await.map(drop)
}

/// Appends `n` numbered entries (`n 1`, `n 2`, ...) to a stream, pipelined.
#[given(expr = "{int} entries are added to the stream {string}")]
#[when(expr = "{int} entries are added to the stream {string}")]
async fn add_many(w: &mut ValkeyWorld, count: usize, key: String) -> Result<()> {
    let key = w.expand(&key).await?;
    let server = w.server(None)?.clone();
    streams::add_numbered(&server, &key, count).await.map(drop)
}

/// Checks `XLEN`. A key that does not exist is no stream of 0 entries: it
/// fails, as does a key of another type.
#[then(expr = "the stream {string} has {int} entries")]
async fn has_entries(w: &mut ValkeyWorld, key: String, count: u64) -> Result<()> {
    let key = w.expand(&key).await?;
    let server = w.server(None)?.clone();
    match streams::length(&server, &key).await? {
        Some(n) if n == count => Ok(()),
        Some(n) => Err(Error::Expectation(format!(
            "the stream {key:?} has {n} entries (XLEN), expected {count}"
        ))),
        None => Err(Error::Expectation(format!(
            "there is no stream {key:?} on {} (no such key), expected a stream of {count} entries",
            server.describe()
        ))),
    }
}

/// Creates a consumer group that reads the stream from its start
/// (`XGROUP CREATE key group 0 MKSTREAM`).
#[given(expr = "the stream {string} has the consumer group {string}")]
async fn has_group(w: &mut ValkeyWorld, key: String, group: String) -> Result<()> {
    let key = w.expand(&key).await?;
    let group = w.expand(&group).await?;
    let server = w.server(None)?.clone();
    match server
        .command(&format!("XGROUP CREATE {key} {group} 0 MKSTREAM"))
        .await?
    {
        crate::reply::Reply::Status(s) if s == "OK" => Ok(()),
        other => Err(Error::Expectation(format!(
            "XGROUP CREATE {key} {group} answered {other}"
        ))),
    }
}

/// Drains the stream through the group with that many consumers at once,
/// each on its own connection (`XREADGROUP ... COUNT 100`, then `XACK`),
/// until the stream has nothing new for any of them.
#[when(expr = "{int} consumers of the group {string} drain the stream {string} at once")]
async fn drain(w: &mut ValkeyWorld, consumers: usize, group: String, key: String) -> Result<()> {
    let key = w.expand(&key).await?;
    let group = w.expand(&group).await?;
    let server = w.server(None)?.clone();
    let timeout = crate::settings::wait_timeout()?;
    let drained = streams::drain(&server, &key, &group, consumers, 100, timeout).await?;
    w.state::<StreamState>().drained.insert(key, drained);
    Ok(())
}

/// The last drain of a stream, for the checks below.
fn last_drain(w: &mut ValkeyWorld, key: &str) -> Result<Drained> {
    w.state::<StreamState>()
        .drained
        .get(key)
        .cloned()
        .ok_or_else(|| Error::Unknown {
            what: format!("the stream {key:?} has not been drained in this scenario"),
            hint:
                "drain it first: When 5 consumers of the group \"g\" drain the stream \"s\" at once"
                    .into(),
        })
}

/// Checks the last drain of the stream: every entry the stream holds now
/// was read exactly once, by one consumer; none lost, none read twice.
#[then(expr = "every entry of the stream {string} was read exactly once")]
async fn exactly_once(w: &mut ValkeyWorld, key: String) -> Result<()> {
    let key = w.expand(&key).await?;
    let server = w.server(None)?.clone();
    let drained = last_drain(w, &key)?;
    let expected = streams::ids(&server, &key).await?;
    drained.check_exactly_once(&expected)
}

/// Checks the last drain of the stream: each of its consumers read at least
/// one entry. A consumer takes up to 100 entries a read, so a stream of
/// fewer than 100 entries per consumer may rightly go to fewer of them.
#[then(expr = "every consumer read some entries of the stream {string}")]
async fn every_consumer_read(w: &mut ValkeyWorld, key: String) -> Result<()> {
    let key = w.expand(&key).await?;
    last_drain(w, &key)?.check_every_consumer_read()
}

/// Checks how many entries of the group are pending (read, not
/// acknowledged): the count of `XPENDING key group`.
#[then(expr = "the consumer group {string} of the stream {string} has {int} pending entries")]
async fn pending(w: &mut ValkeyWorld, group: String, key: String, count: i64) -> Result<()> {
    let key = w.expand(&key).await?;
    let group = w.expand(&group).await?;
    let server = w.server(None)?.clone();
    let reply = server.command(&format!("XPENDING {key} {group}")).await?;
    match &reply {
        crate::reply::Reply::Array(a)
            if a.first() == Some(&crate::reply::Reply::Integer(count)) =>
        {
            Ok(())
        }
        other => Err(Error::Expectation(format!(
            "XPENDING {key} {group} is {}, expected {count} pending",
            other.to_string().replace('\n', " ")
        ))),
    }
}

/// Checkpoint: waits until an entry has been pending in the group for at
/// least that long (`XPENDING ... IDLE`), when `XCLAIM`/`XAUTOCLAIM` with
/// that minimum idle time will take it. No fixed sleep.
#[when(
    expr = "an entry of the stream {string} has been pending in the group {string} for {int} ms"
)]
async fn pending_idle(w: &mut ValkeyWorld, key: String, group: String, ms: u64) -> Result<()> {
    let key = w.expand(&key).await?;
    let group = w.expand(&group).await?;
    let server = w.server(None)?.clone();
    let timeout = crate::settings::wait_timeout()?;
    streams::wait_pending_idle(
        &server,
        &key,
        &group,
        std::time::Duration::from_millis(ms),
        timeout,
    )
    .await
}
