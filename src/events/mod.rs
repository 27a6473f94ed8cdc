//! Live updates: the change log's rows, fanned out to the open streams of each list
//! (`GET /todos/events`). One broadcaster per instance learns of changes (this process's commits
//! and, on SQLite, a cheap periodic check for other processes'; on PostgreSQL, one LISTEN
//! connection) and hands each list's new changes to that list's streams.

mod broadcaster;
mod listener;
pub mod stream;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{broadcast, mpsc, watch};

use crate::config::{DatabaseSettings, EventsSettings};
use crate::db::{DbConnection, DbPool};
use crate::models::{Change, ListScope, UserId};
use crate::writer::Writer;

pub use broadcaster::Batch;

/// What the events layer refuses. Each variant says its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// 503 with Retry-After: the instance serves `events.max_streams` streams already.
    #[error("this server has as many live streams open as it serves ({0}); try again shortly")]
    TooManyStreams(usize),
    /// 503 with Retry-After: the user has `events.max_streams_per_user` streams open here.
    #[error("you have {0} live streams open already; close one (another tab?) and try again")]
    TooManyStreamsForUser(usize),
    /// The server is shutting down: 503 with Retry-After.
    #[error("the server is shutting down; reconnect to another instance")]
    ShuttingDown,
}

/// 503 with Retry-After, whichever limit it was.
impl From<EventsError> for crate::error::AppError {
    fn from(err: EventsError) -> Self {
        Self::Overloaded(err.to_string())
    }
}

/// Why the broadcaster was woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// This list changed (PostgreSQL's notification names it).
    List(ListScope),
    /// Anything may have changed: look at every list with streams.
    All,
}

/// The live-update state of one instance, shared by every worker.
#[derive(Debug)]
pub struct Events {
    pub settings: EventsSettings,
    channels: Mutex<HashMap<ListScope, broadcaster::Channel>>,
    streams: AtomicUsize,
    per_user: Mutex<HashMap<UserId, usize>>,
    closing: watch::Sender<bool>,
    /// The database's count of revocations, as the broadcaster last read it (every `poll_ms`):
    /// a stream re-checks its credential at a heartbeat only when it moved, or the session is due
    /// to expire.
    auth_generation: watch::Sender<i64>,
    /// Per-list cursors (PostgreSQL, where only each list's own numbers follow commit order) or
    /// one cursor for all (SQLite, where every writer takes its turn).
    per_list_cursors: bool,
}

impl Events {
    /// Starts the broadcaster (and, on PostgreSQL, its listening connection) on the current Tokio
    /// runtime.
    /// `writer` trims the log and says when this process commits; `database` names the engine
    /// and where to listen; `heard` is where the listener keeps the counts of changes it reads.
    pub fn start(
        pool: DbPool,
        settings: EventsSettings,
        database: &DatabaseSettings,
        (writer, heard): (Writer, Option<Arc<crate::freshness::Heard>>),
    ) -> Arc<Events> {
        let postgres = !database.url.is_sqlite();
        let events = Arc::new(Events {
            settings,
            channels: Mutex::new(HashMap::new()),
            streams: AtomicUsize::new(0),
            per_user: Mutex::new(HashMap::new()),
            closing: watch::Sender::new(false),
            auth_generation: watch::Sender::new(0),
            per_list_cursors: postgres,
        });
        let (wakes, woken) = mpsc::unbounded_channel();
        if postgres {
            listener::spawn(
                database.url.connection_string(database.connection_timeout),
                wakes,
                heard,
            );
        } else {
            drop(wakes);
        }
        tokio::spawn(broadcaster::run(events.clone(), pool, writer, woken));
        events
    }

    /// Ends every stream at once (SIGTERM): clients reconnect elsewhere and miss nothing.
    pub fn shut_down(&self) {
        self.closing.send_replace(true);
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// The latest count of revocations the broadcaster has seen.
    pub fn auth_generation(&self) -> watch::Receiver<i64> {
        self.auth_generation.subscribe()
    }

    /// Counts a new stream against the caps; the permit gives its place back when dropped.
    pub fn admit(self: &Arc<Self>, user: Option<UserId>) -> Result<StreamPermit, EventsError> {
        if *self.closing.borrow() {
            return Err(EventsError::ShuttingDown);
        }
        let max = self.settings.max_streams;
        if self
            .streams
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .is_err()
        {
            return Err(EventsError::TooManyStreams(max));
        }
        // From here, dropping the permit gives the place back.
        let mut permit = StreamPermit {
            events: self.clone(),
            user: None,
        };
        if let Some(user) = user {
            let mut per_user = self.per_user.lock().unwrap_or_else(PoisonError::into_inner);
            let open = per_user.entry(user).or_default();
            if *open >= self.settings.max_streams_per_user {
                return Err(EventsError::TooManyStreamsForUser(*open));
            }
            *open += 1;
            permit.user = Some(user);
        }
        Ok(permit)
    }

    /// Open streams on this instance.
    pub fn open_streams(&self) -> usize {
        self.streams.load(Ordering::Acquire)
    }

    /// A receiver of the list's new changes, from now on. Called on a connection of the caller's
    /// request, before it reads what it missed, so that nothing falls between the two.
    pub fn subscribe(
        &self,
        conn: &mut DbConnection,
        scope: ListScope,
    ) -> diesel::QueryResult<broadcast::Receiver<Batch>> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(channel) = channels.get(&scope) {
            return Ok(channel.sender.subscribe());
        }
        // A new list to follow: its changes so far are the stream's to read from the log.
        let cursor = if self.per_list_cursors {
            Change::latest_of(conn, scope)?
        } else {
            0
        };
        let (sender, receiver) = broadcast::channel(broadcaster::CAPACITY);
        channels.insert(scope, broadcaster::Channel { sender, cursor });
        Ok(receiver)
    }
}

/// A stream's place under the caps, given back when the stream ends.
#[derive(Debug)]
pub struct StreamPermit {
    events: Arc<Events>,
    user: Option<UserId>,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        self.events.streams.fetch_sub(1, Ordering::AcqRel);
        if let Some(user) = self.user {
            let mut per_user = self
                .events
                .per_user
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(open) = per_user.get_mut(&user) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    per_user.remove(&user);
                }
            }
        }
    }
}
