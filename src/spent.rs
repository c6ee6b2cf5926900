//! Where a run's time goes: how long the harness spent starting servers,
//! forming clusters and waiting for states, summed over every scenario (and
//! the pool of cluster nodes started ahead of need).
//!
//! The engine's functions call [`track`] at their top; the guard it returns
//! adds the time to a counter when it is dropped, whether the call succeeded,
//! failed or was cancelled. Counters are process-wide atomics: a scenario's
//! steps run concurrently with other scenarios' in one task, so a counter per
//! scenario would need the scenario's identity in every engine call. The
//! runner reads them before and after a run ([`totals`]) and reports the
//! difference in its summary.
//!
//! The activities overlap: forming a cluster includes starting its nodes and
//! waiting until it is ready. Summed over concurrent scenarios, each can
//! exceed the run's wall time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the harness was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// From spawning a server to its first `PING` answered, not loading.
    StartingServers,
    /// Starting a cluster's nodes, meeting them, assigning slots, and waiting
    /// until every node agrees (also adding a shard).
    FormingClusters,
    /// Waiting for a state: replicas caught up, a cluster ready, a checkpoint,
    /// a value replicated, a `… becomes …` sentence (every
    /// [`crate::wait::Deadline`]), a program's output, a client's reply or
    /// message.
    Waiting,
}

static NANOS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
static COUNTS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

impl Activity {
    fn index(self) -> usize {
        match self {
            Activity::StartingServers => 0,
            Activity::FormingClusters => 1,
            Activity::Waiting => 2,
        }
    }
}

/// Adds the time from [`track`] to its drop to its activity's counter.
#[derive(Debug)]
#[must_use = "the time is counted when the guard is dropped"]
pub struct Timer {
    activity: Activity,
    since: Instant,
}

impl Drop for Timer {
    fn drop(&mut self) {
        let i = self.activity.index();
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        NANOS[i].fetch_add(nanos, Ordering::Relaxed);
        COUNTS[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts the time until the returned guard is dropped as `activity`.
pub fn track(activity: Activity) -> Timer {
    Timer {
        activity,
        since: Instant::now(),
    }
}

/// Time and number of calls of one activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Spent {
    /// Summed over every call.
    pub time: Duration,
    /// How many calls (servers started, clusters formed, waits).
    pub count: u64,
}

/// The three counters at one moment; subtract two to get a run's share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// [`Activity::StartingServers`].
    pub starting_servers: Spent,
    /// [`Activity::FormingClusters`].
    pub forming_clusters: Spent,
    /// [`Activity::Waiting`].
    pub waiting: Spent,
}

/// The counters now.
pub fn totals() -> Totals {
    let read = |a: Activity| Spent {
        time: Duration::from_nanos(NANOS[a.index()].load(Ordering::Relaxed)),
        count: COUNTS[a.index()].load(Ordering::Relaxed),
    };
    Totals {
        starting_servers: read(Activity::StartingServers),
        forming_clusters: read(Activity::FormingClusters),
        waiting: read(Activity::Waiting),
    }
}

impl Totals {
    /// What was spent since `earlier`.
    pub fn since(self, earlier: Totals) -> Totals {
        let sub = |a: Spent, b: Spent| Spent {
            time: a.time.saturating_sub(b.time),
            count: a.count.saturating_sub(b.count),
        };
        Totals {
            starting_servers: sub(self.starting_servers, earlier.starting_servers),
            forming_clusters: sub(self.forming_clusters, earlier.forming_clusters),
            waiting: sub(self.waiting, earlier.waiting),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_timer_counts_its_time_once() {
        let before = totals();
        {
            let _t = track(Activity::Waiting);
            std::thread::sleep(Duration::from_millis(5));
        }
        let d = totals().since(before);
        assert!(d.waiting.time >= Duration::from_millis(5), "{d:?}");
        assert!(d.waiting.count >= 1, "{d:?}");
    }
}
