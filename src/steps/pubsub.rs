//! Pub/sub as suites use it: subscribers to channels and patterns, keyspace
//! and keyevent notifications, the messages received — and the negatives,
//! that nothing else arrived.
//!
//! Each message a sentence accounts for (`receives ... on ...`, `receives
//! these messages:`) is marked seen; `receives no other message` then means
//! nothing the scenario has not checked.

use std::time::Duration;

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use crate::error::{Error, Result};
use crate::pubsub::Expected;
use crate::world::{DEFAULT_SERVER, ValkeyWorld};

/// How long `receives nothing on "…"` watches when the sentence names no
/// window.
const QUIET_WINDOW: Duration = Duration::from_millis(100);

/// Subscribes a named client to a channel of the default server on a
/// pub/sub connection of its own; returns once the server confirmed.
#[given(expr = "client {string} subscribes to {string}")]
#[when(expr = "client {string} subscribes to {string}")]
async fn subscribes(w: &mut ValkeyWorld, client: String, channel: String) -> Result<()> {
    let channel = w.expand(&channel).await?;
    w.subscribe(&client, DEFAULT_SERVER, &[channel]).await
}

/// Subscribes a named client to a pattern of channels of the default server
/// (`PSUBSCRIBE`: `__keyspace@0__:*` for every keyspace event of database
/// 0, `news.*`); returns once the server confirmed. Keyspace events need
/// `notify-keyspace-events`, set with `CONFIG SET notify-keyspace-events KEA`.
#[given(expr = "client {string} subscribes to the pattern {string}")]
#[when(expr = "client {string} subscribes to the pattern {string}")]
async fn psubscribes(w: &mut ValkeyWorld, client: String, pattern: String) -> Result<()> {
    let pattern = w.expand(&pattern).await?;
    w.psubscribe(&client, DEFAULT_SERVER, &[pattern]).await
}

/// Checkpoint: waits until the subscriber has received the message on the
/// channel (through a channel or a pattern subscription).
#[then(expr = "client {string} receives {string} on {string}")]
async fn receives(
    w: &mut ValkeyWorld,
    client: String,
    payload: String,
    channel: String,
) -> Result<()> {
    let payload = w.expand(&payload).await?;
    let channel = w.expand(&channel).await?;
    let timeout = crate::settings::wait_timeout()?;
    w.subscriber(&client)?
        .wait_message(&channel, &payload, timeout)
        .await
}

/// Checkpoint: waits until the subscriber's next messages (those no sentence
/// has checked yet) are exactly these, in this order: a table of `| channel
/// | pattern | payload |` (header row optional), the pattern empty for a
/// message of a channel subscription. A different message fails at once.
#[then(expr = "client {string} receives these messages:")]
async fn receives_these(w: &mut ValkeyWorld, client: String, #[step] s: &Step) -> Result<()> {
    let expected = messages_table(s)?;
    let timeout = crate::settings::wait_timeout()?;
    w.subscriber(&client)?
        .wait_messages(&expected, timeout)
        .await
}

/// Watches the subscriber for that long, and fails if any message arrives
/// (or has arrived) that no sentence has checked: the negative keyspace
/// tests need ("the read raised no event").
#[then(expr = "client {string} receives no other message within {int} ms")]
async fn no_other_message(w: &mut ValkeyWorld, client: String, ms: u64) -> Result<()> {
    w.subscriber(&client)?
        .expect_silence(Duration::from_millis(ms))
        .await
}

/// Watches the subscriber for 100 ms, and fails if any message has arrived
/// on the channel since it subscribed.
#[then(expr = "client {string} receives nothing on {string}")]
async fn nothing_on(w: &mut ValkeyWorld, client: String, channel: String) -> Result<()> {
    w.subscriber(&client)?
        .expect_nothing_on(&channel, QUIET_WINDOW)
        .await
}

/// The same, watching for that long.
#[then(expr = "client {string} receives nothing on {string} within {int} ms")]
async fn nothing_on_within(
    w: &mut ValkeyWorld,
    client: String,
    channel: String,
    ms: u64,
) -> Result<()> {
    w.subscriber(&client)?
        .expect_nothing_on(&channel, Duration::from_millis(ms))
        .await
}

/// Reads a `| channel | pattern | payload |` table.
fn messages_table(step: &Step) -> Result<Vec<Expected>> {
    let table = step.table.as_ref().ok_or_else(|| Error::Config {
        what: format!(
            "the step `{}` needs a table of messages below it",
            step.value
        ),
        hint: "add rows such as | __keyspace@0__:k | __keyspace@0__:* | set |".into(),
    })?;
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        let cells: Vec<&str> = row.iter().map(|c| c.trim()).collect();
        if i == 0 && cells == ["channel", "pattern", "payload"] {
            continue;
        }
        let [channel, pattern, payload] = cells.as_slice() else {
            return Err(Error::Config {
                what: format!(
                    "row {} of the messages table has {} cell(s), not 3",
                    i + 1,
                    cells.len()
                ),
                hint: "each row is | channel | pattern | payload |, the pattern empty for a channel subscription".into(),
            });
        };
        let pattern = (!pattern.is_empty()).then_some(*pattern);
        out.push(Expected::new(channel, pattern, payload));
    }
    if out.is_empty() {
        return Err(Error::Config {
            what: "the messages table has no message".into(),
            hint: "for \"none\", write: client \"…\" receives no other message within 100 ms"
                .into(),
        });
    }
    Ok(out)
}
