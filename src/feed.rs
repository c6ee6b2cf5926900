//! A list that grows in the background (a process's output lines, a
//! subscriber's messages) and that a step can wait on: waiters wake when it
//! grows, not on a timer.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// A growing list with waiters.
#[derive(Debug, Default)]
pub(crate) struct Feed<T> {
    items: Mutex<Vec<T>>,
    grew: Notify,
}

impl<T: Clone> Feed<T> {
    /// Appends one item and wakes the waiters.
    pub(crate) fn push(&self, item: T) {
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(item);
        self.grew.notify_waiters();
    }

    /// Wakes the waiters without adding anything (the source ended).
    pub(crate) fn close(&self) {
        self.grew.notify_waiters();
    }

    /// Everything so far.
    pub(crate) fn snapshot(&self) -> Vec<T> {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until `done` holds for the items, checking each time they grow
    /// and, when `also_every` is given, that often (for conditions outside
    /// the list, such as a process exiting). `false` when `deadline` passed.
    pub(crate) async fn wait_until(
        &self,
        deadline: Instant,
        also_every: Option<Duration>,
        mut done: impl FnMut(&[T]) -> bool,
    ) -> bool {
        loop {
            let grew = self.grew.notified();
            tokio::pin!(grew);
            // Registered before the check, so that a push in between wakes us.
            grew.as_mut().enable();
            if done(&self.items.lock().unwrap_or_else(|p| p.into_inner())) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wake = also_every.map_or(deadline, |d| (now + d).min(deadline));
            let _ = tokio::time::timeout_at(wake.into(), grew).await;
        }
    }
}
