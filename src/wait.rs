//! The one way a sentence waits: poll, back off, and give up at the run's
//! deadline (`VALKEY_BDD_WAIT_TIMEOUT`) with what was last seen.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A deadline for polling something until it holds.
///
/// ```no_run
/// # async fn f(server: &valkey_bdd::server::Server) -> valkey_bdd::error::Result<()> {
/// let mut deadline = valkey_bdd::wait::Deadline::start(valkey_bdd::settings::wait_timeout()?);
/// loop {
///     let seen = server.command("DBSIZE").await?.cell();
///     if seen == "3" {
///         return Ok(());
///     }
///     deadline
///         .pause("DBSIZE to be 3", &seen, "is something writing?")
///         .await?;
/// }
/// # }
/// ```
///
/// Its time, from [`Deadline::start`] until it is dropped, counts as a
/// wait in the run's summary ([`crate::spent`]), whether the wait held,
/// timed out or was cancelled.
#[derive(Debug)]
pub struct Deadline {
    _spent: crate::spent::Timer,
    started: Instant,
    timeout: Duration,
    pause: Duration,
}

impl Deadline {
    /// Starts the clock.
    pub fn start(timeout: Duration) -> Deadline {
        Deadline {
            _spent: crate::spent::track(crate::spent::Activity::Waiting),
            started: Instant::now(),
            timeout,
            pause: Duration::from_millis(1),
        }
    }

    /// Whether the deadline has passed: the next [`Deadline::pause`] fails.
    /// A caller whose hint costs a look of its own computes it only then.
    pub fn expired(&self) -> bool {
        self.started.elapsed() >= self.timeout
    }

    /// Sleeps before the next look (1 ms, doubling up to 50 ms), or, when
    /// the deadline has passed, fails with what was waited for, the last
    /// state seen, and the hint.
    pub async fn pause(&mut self, what: &str, last: &str, hint: &str) -> Result<()> {
        if self.expired() {
            return Err(Error::Timeout {
                what: what.to_string(),
                waited: self.started.elapsed(),
                last: crate::shown::clip(last, &crate::shown::Whole::Nowhere).into_owned(),
                hint: format!(
                    "{hint}{}the wait is VALKEY_BDD_WAIT_TIMEOUT ({:?})",
                    if hint.is_empty() { "" } else { "; " },
                    self.timeout
                ),
            });
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_millis(50));
        Ok(())
    }
}
