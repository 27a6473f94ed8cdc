//! What this process has committed: a count that readers compare, and a signal that live updates
//! wait on. Built once at start-up and shared by whoever writes and whoever watches.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

/// Raised after every write transaction that the one road for writes commits.
#[derive(Debug)]
pub struct Commits {
    count: AtomicU64,
    signal: watch::Sender<u64>,
}

impl Default for Commits {
    fn default() -> Self {
        Self {
            count: AtomicU64::new(0),
            signal: watch::Sender::new(0),
        }
    }
}

impl Commits {
    /// Records one commit: raised before the writer answers, so a reader that then asks sees it.
    pub fn record(&self) {
        self.count.fetch_add(1, Ordering::Release);
        self.signal
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// How many write transactions have been committed: a reader that saw one count and sees it
    /// again knows that nothing was written in between.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    /// A receiver that sees every later commit (as a change of its count).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.signal.subscribe()
    }
}
