//! Pub/sub subscribers: a connection of their own, subscribed to channels
//! and patterns (`__keyspace@0__:*`), and the messages they received, each
//! with its channel, the pattern that matched it and its payload.
//!
//! The checks keyspace-notification suites make are here: a message
//! arrived, these messages arrived in this order, and — the negative —
//! nothing else arrived within a window. Each message a check accounts for
//! is marked seen, so that "nothing else" means nothing the scenario has
//! not already checked.
//!
//! ```no_run
//! # async fn demo(server: &valkey_bdd::Server) -> valkey_bdd::Result<()> {
//! use std::time::Duration;
//! use valkey_bdd::pubsub::{Expected, Subscriber};
//! server.command("CONFIG SET notify-keyspace-events KEA").await?;
//! let mut reader = Subscriber::connect("reader", &server.address(), None).await?;
//! reader.psubscribe(&["__keyspace@0__:*".to_string()]).await?;
//! server.command("SET k v").await?;
//! reader
//!     .wait_messages(
//!         &[Expected::new("__keyspace@0__:k", Some("__keyspace@0__:*"), "set")],
//!         Duration::from_secs(5),
//!     )
//!     .await?;
//! reader.expect_silence(Duration::from_millis(100)).await?; // no other event
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt as _;

use crate::client::{Address, Credentials};
use crate::error::{Error, Result};
use crate::feed::Feed;

/// One message a subscriber received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The channel it was published on (for a keyspace event, the key's
    /// channel: `__keyspace@0__:k`).
    pub channel: String,
    /// The pattern that matched it, for a pattern subscription.
    pub pattern: Option<String>,
    /// Its payload.
    pub payload: Vec<u8>,
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} on {:?}",
            String::from_utf8_lossy(&self.payload),
            self.channel
        )?;
        if let Some(p) = &self.pattern {
            write!(f, " (pattern {p:?})")?;
        }
        Ok(())
    }
}

/// A message a check expects: its channel, the pattern that should have
/// matched it (`None`: a plain channel subscription), its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The channel.
    pub channel: String,
    /// The pattern, or `None` for a channel subscription.
    pub pattern: Option<String>,
    /// The payload, as text.
    pub payload: String,
}

impl Expected {
    /// A message on `channel`, through `pattern` (if any), with `payload`.
    pub fn new(channel: &str, pattern: Option<&str>, payload: &str) -> Expected {
        Expected {
            channel: channel.to_string(),
            pattern: pattern.map(str::to_string),
            payload: payload.to_string(),
        }
    }

    /// Whether a received message is this one.
    pub fn matches(&self, m: &Message) -> bool {
        m.channel == self.channel
            && m.pattern == self.pattern
            && m.payload.as_slice() == self.payload.as_bytes()
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} on {:?}", self.payload, self.channel)?;
        match &self.pattern {
            Some(p) => write!(f, " (pattern {p:?})"),
            None => write!(f, " (no pattern)"),
        }
    }
}

/// A subscriber: its own pub/sub connection and the messages it received.
pub struct Subscriber {
    name: String,
    target: String,
    sink: redis::aio::PubSubSink,
    received: Arc<Feed<Message>>,
    /// The indexes of the messages a check has accounted for.
    seen: Mutex<BTreeSet<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("name", &self.name)
            .field("target", &self.target)
            .finish()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Subscriber {
    /// Connects `name` to `address` (authenticated with `auth`, if any) on a
    /// pub/sub connection, subscribed to nothing yet.
    pub async fn connect(
        name: impl Into<String>,
        address: &Address,
        auth: Option<&Credentials>,
    ) -> Result<Subscriber> {
        let name = name.into();
        let target = address.to_string();
        let fail = |e: redis::RedisError| Error::Connection {
            target: target.clone(),
            action: format!("connecting subscriber \"{name}\""),
            detail: e.to_string(),
            hint: "is the server running? see its log".into(),
        };
        let client = crate::client::redis_client(address, auth).map_err(fail)?;
        let timeout = crate::settings::command_timeout()?;
        let pubsub = tokio::time::timeout(timeout, client.get_async_pubsub())
            .await
            .map_err(|_| Error::CommandTimeout {
                target: target.clone(),
                command: "SUBSCRIBE".into(),
                timeout,
            })?
            .map_err(fail)?;
        let (sink, mut stream) = pubsub.split();
        let received: Arc<Feed<Message>> = Arc::default();
        let feed = received.clone();
        let task = tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                feed.push(Message {
                    channel: msg.get_channel_name().to_string(),
                    pattern: msg.get_pattern::<Option<String>>().ok().flatten(),
                    payload: msg.get_payload_bytes().to_vec(),
                });
            }
            feed.close();
        });
        Ok(Subscriber {
            name,
            target,
            sink,
            received,
            seen: Mutex::default(),
            task,
        })
    }

    /// Connects and subscribes to `channels`; returns once the server has
    /// confirmed every subscription.
    pub async fn subscribe_to(
        name: impl Into<String>,
        address: &Address,
        auth: Option<&Credentials>,
        channels: &[String],
    ) -> Result<Subscriber> {
        let mut sub = Subscriber::connect(name, address, auth).await?;
        sub.subscribe(channels).await?;
        Ok(sub)
    }

    /// Subscribes to more channels (`SUBSCRIBE`); returns once confirmed.
    pub async fn subscribe(&mut self, channels: &[String]) -> Result<()> {
        for ch in channels {
            let r = self.sink.subscribe(ch).await;
            r.map_err(|e| self.failed("SUBSCRIBE", ch, e))?;
        }
        Ok(())
    }

    /// Subscribes to patterns (`PSUBSCRIBE __keyspace@0__:*`); returns once
    /// confirmed.
    pub async fn psubscribe(&mut self, patterns: &[String]) -> Result<()> {
        for p in patterns {
            let r = self.sink.psubscribe(p).await;
            r.map_err(|e| self.failed("PSUBSCRIBE", p, e))?;
        }
        Ok(())
    }

    fn failed(&self, command: &str, arg: &str, e: redis::RedisError) -> Error {
        Error::Connection {
            target: self.target.clone(),
            action: format!("client \"{}\" running {command} {arg}", self.name),
            detail: e.to_string(),
            hint: "is the server running? see its log".into(),
        }
    }

    /// The subscriber's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The messages received so far, in order.
    pub fn received(&self) -> Vec<Message> {
        self.received.snapshot()
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, BTreeSet<usize>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The messages no check has accounted for yet, with their indexes.
    fn unseen(&self, got: &[Message]) -> Vec<(usize, Message)> {
        let seen = self.seen();
        got.iter()
            .enumerate()
            .filter(|(i, _)| !seen.contains(i))
            .map(|(i, m)| (i, m.clone()))
            .collect()
    }

    /// Waits at most `timeout` until a message `payload` arrived on
    /// `channel` (through any subscription), and marks it seen.
    pub async fn wait_message(
        &self,
        channel: &str,
        payload: &str,
        timeout: Duration,
    ) -> Result<()> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let started = Instant::now();
        let is = |m: &Message| m.channel == channel && m.payload.as_slice() == payload.as_bytes();
        let arrived = self
            .received
            .wait_until(started + timeout, None, |got| got.iter().any(is))
            .await;
        let got = self.received();
        if arrived {
            // The first not yet accounted for, else the first at all.
            let unseen = self.unseen(&got);
            let index = unseen
                .iter()
                .find(|(_, m)| is(m))
                .map(|(i, _)| *i)
                .or_else(|| got.iter().position(is));
            if let Some(i) = index {
                self.seen().insert(i);
            }
            return Ok(());
        }
        Err(Error::Timeout {
            what: format!(
                "client \"{}\" to receive {payload:?} on {channel:?}",
                self.name
            ),
            waited: started.elapsed(),
            last: describe_all(&got),
            hint: "was the message published on that channel after the subscription?".into(),
        })
    }

    /// Waits at most `timeout` until the messages no check has accounted for
    /// yet begin with `expected`, in this order, and marks them seen. A
    /// message that differs fails at once: waiting longer cannot reorder
    /// what has arrived.
    pub async fn wait_messages(&self, expected: &[Expected], timeout: Duration) -> Result<()> {
        let _spent = crate::spent::track(crate::spent::Activity::Waiting);
        let started = Instant::now();
        let deadline = started + timeout;
        loop {
            let got = self.received();
            let unseen = self.unseen(&got);
            for (n, ((_, m), e)) in unseen.iter().zip(expected).enumerate() {
                if !e.matches(m) {
                    return Err(Error::Expectation(format!(
                        "client \"{}\": message {} of the table should be {e}, but it received {m}\n  in order, it received (not yet checked): {}",
                        self.name,
                        n + 1,
                        describe(unseen.iter().map(|(_, m)| m)),
                    )));
                }
            }
            if unseen.len() >= expected.len() {
                let mut seen = self.seen();
                seen.extend(unseen.iter().take(expected.len()).map(|(i, _)| *i));
                return Ok(());
            }
            let arrived = unseen.len();
            let more = self
                .received
                .wait_until(deadline, None, |all| all.len() > got.len())
                .await;
            if !more {
                return Err(Error::Timeout {
                    what: format!(
                        "client \"{}\" to receive {} message(s), the next being {}",
                        self.name,
                        expected.len(),
                        expected[arrived]
                    ),
                    waited: started.elapsed(),
                    last: format!(
                        "{arrived} of them arrived; not yet checked: {}",
                        describe(unseen.iter().map(|(_, m)| m))
                    ),
                    hint: "was it published, on that channel, after the subscription? \
                           VALKEY_BDD_WAIT_TIMEOUT sets the deadline"
                        .into(),
                });
            }
        }
    }

    /// Waits `window`, then fails if a message arrived that no check has
    /// accounted for (including one that arrived before the wait).
    pub async fn expect_silence(&self, window: Duration) -> Result<()> {
        let started = Instant::now();
        let got_one = |got: &[Message]| !self.unseen(got).is_empty();
        self.received
            .wait_until(started + window, None, got_one)
            .await;
        let got = self.received();
        let unseen = self.unseen(&got);
        if unseen.is_empty() {
            return Ok(());
        }
        Err(Error::Expectation(format!(
            "client \"{}\" received a message no step expected within {} ms: {}",
            self.name,
            window.as_millis(),
            describe(unseen.iter().map(|(_, m)| m))
        )))
    }

    /// Waits `window`, then fails if any message arrived on `channel` (at
    /// any time since the subscription, checked or not).
    pub async fn expect_nothing_on(&self, channel: &str, window: Duration) -> Result<()> {
        let started = Instant::now();
        let on = |m: &Message| m.channel == channel;
        self.received
            .wait_until(started + window, None, |got| got.iter().any(on))
            .await;
        let got = self.received();
        let there: Vec<&Message> = got.iter().filter(|m| on(m)).collect();
        if there.is_empty() {
            return Ok(());
        }
        Err(Error::Expectation(format!(
            "client \"{}\" received {} message(s) on {channel:?} (waited up to {} ms): {}",
            self.name,
            there.len(),
            window.as_millis(),
            describe(there.into_iter())
        )))
    }
}

fn describe<'a>(messages: impl Iterator<Item = &'a Message>) -> String {
    let all: Vec<String> = messages.map(ToString::to_string).collect();
    if all.is_empty() {
        "none".into()
    } else {
        all.join(", ")
    }
}

fn describe_all(got: &[Message]) -> String {
    if got.is_empty() {
        "no message at all".into()
    } else {
        format!("received: {}", describe(got.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::{Expected, Message};

    fn msg(channel: &str, pattern: Option<&str>, payload: &str) -> Message {
        Message {
            channel: channel.into(),
            pattern: pattern.map(Into::into),
            payload: payload.as_bytes().to_vec(),
        }
    }

    #[test]
    fn an_expected_message_matches_channel_pattern_and_payload() {
        let m = msg("__keyspace@0__:k", Some("__keyspace@0__:*"), "set");
        assert!(Expected::new("__keyspace@0__:k", Some("__keyspace@0__:*"), "set").matches(&m));
        assert!(!Expected::new("__keyspace@0__:k", None, "set").matches(&m));
        assert!(!Expected::new("__keyspace@0__:k", Some("__keyspace@0__:*"), "del").matches(&m));
        assert_eq!(
            m.to_string(),
            r#""set" on "__keyspace@0__:k" (pattern "__keyspace@0__:*")"#
        );
    }
}
