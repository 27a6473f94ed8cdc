//! One `text/event-stream` body: where it starts (a reset, or the changes a client missed), then
//! the list's changes as they come, a comment line every heartbeat, and the end when the server
//! shuts down or the caller's credential is no longer valid.

use std::collections::VecDeque;
use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::{broadcast, watch};

use super::{Batch, StreamPermit};
use crate::auth::{AuthError, Caller, Identity};
use crate::db::{DbConnection, DbPool};
use crate::lists::{self, Need, Target};
use crate::models::{Change, ListScope, Role, Todo};
use crate::writer::Writer;

/// Where a stream starts.
#[derive(Debug)]
pub enum Start {
    /// The whole list, at its change number.
    Reset(Vec<Todo>, i64),
    /// The changes after the client's last event id, which they are.
    Replay(Vec<Change>, i64),
}

impl Start {
    /// A client that has seen change `last_seen` gets the changes since, if the log still has
    /// them all; anyone else gets the whole list: a client whose id is older than the trimmed log,
    /// and one whose id is ahead of the list's newest change (a database restored from a backup
    /// numbers its changes again from below it, and a replay "after" it would skip them all).
    pub fn read(
        conn: &mut DbConnection,
        scope: ListScope,
        last_seen: Option<i64>,
    ) -> diesel::QueryResult<Start> {
        if let Some(last_seen) = last_seen
            && last_seen >= 0
            && last_seen >= Change::trimmed_through(conn)?
            && last_seen <= Change::list_state(conn, scope)?
        {
            return Ok(Start::Replay(
                Change::of_list_since(conn, scope, last_seen)?,
                last_seen,
            ));
        }
        let (todos, change) = Todo::all_at_change(conn, scope)?;
        Ok(Start::Reset(todos, change))
    }
}

/// An SSE event: `id`, `event` and one `data` line (JSON has no newlines).
fn event(id: i64, name: &str, data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 40);
    out.extend_from_slice(format!("id: {id}\nevent: {name}\ndata: ").as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// The event for one change: `upsert` with the todo as `GET /todos/{id}` shows it, or `delete`;
/// none for a change to the list itself (the stream checks its access again instead).
pub fn change_event(change: &Change, base: &str) -> Option<Bytes> {
    let id = change.todo_id?;
    Some(match change.todo() {
        Some(todo) => {
            let json = serde_json::to_vec(&todo.to_json(base)).unwrap_or_default();
            event(change.id, "upsert", &json)
        }
        None => event(change.id, "delete", format!("{{\"id\":{id}}}").as_bytes()),
    })
}

/// The `lists` event: the caller's lists changed (one was shared with them, renamed, taken from
/// them, deleted). It has no id (it is no change of this list) and no data: the page reads
/// `GET /lists`.
const LISTS_EVENT: &[u8] = b"event: lists\ndata: {}\n\n";

/// The `reset` event: the list exactly as `GET /todos/` shows it.
pub fn reset_event(todos: &[Todo], change: i64, base: &str) -> Bytes {
    let json = serde_json::to_vec(
        &todos
            .iter()
            .map(|todo| todo.to_json(base))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    event(change, "reset", &json)
}

/// Everything a stream needs while it is open.
pub struct LiveStream {
    pub pool: DbPool,
    /// Writes the credential's last use when a check finds it due.
    pub writer: Writer,
    pub caller: Caller,
    /// The caller as last checked: its count of revocations and its session's expiry.
    pub identity: Identity,
    /// The instance's latest count of revocations.
    pub auth_generation: watch::Receiver<i64>,
    pub scope: ListScope,
    /// The list as the request named it, and the caller's role in it when the stream began.
    pub target: Target,
    pub role: Role,
    pub base: String,
    pub receiver: broadcast::Receiver<Batch>,
    /// The caller's default list's changes, when the stream is of another list: changes to the
    /// default list itself there say that the caller's lists changed.
    pub account: Option<broadcast::Receiver<Batch>>,
    pub closing: watch::Receiver<bool>,
    pub heartbeat: Duration,
    pub permit: StreamPermit,
}

struct State {
    live: LiveStream,
    pending: VecDeque<Bytes>,
    last_sent: i64,
    heartbeat: tokio::time::Interval,
    /// The credential check started at the last heartbeat (or when the list's members changed),
    /// while events keep flowing.
    check: Option<tokio::task::JoinHandle<Option<Identity>>>,
    /// The list's members changed while a check was running: check again when it ends.
    access_changed: bool,
    /// The reconnection delay the stream began with (`events.retry_ms`).
    retry: Duration,
    /// The server is stopping and the stream's last words (its spread reconnection delay) are
    /// queued: it ends once they are sent.
    ending: bool,
}

/// A random share of `period`, at least a millisecond.
fn random_within(period: Duration) -> Duration {
    let mut random = [0u8; 8];
    let _ = getrandom::fill(&mut random);
    let millis = u64::try_from(period.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis((u64::from_le_bytes(random) % millis).max(1))
}

impl LiveStream {
    /// The body: `retry`, the start, then live events until the end.
    pub fn body(
        self,
        retry: Duration,
        start: Start,
    ) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> {
        let mut pending = VecDeque::new();
        pending.push_back(Bytes::from(format!("retry: {}\n\n", retry.as_millis())));
        let last_sent = match start {
            Start::Reset(todos, change) => {
                pending.push_back(reset_event(&todos, change, &self.base));
                change
            }
            Start::Replay(changes, last_seen) => {
                pending.extend(
                    changes
                        .iter()
                        .filter_map(|change| change_event(change, &self.base)),
                );
                changes.last().map_or(last_seen, |change| change.id)
            }
        };
        // The first heartbeat within one period from now, at a random point of it, so that
        // streams opened together (after a restart, say) do not all check their credential at
        // the same moment.
        let period = self.heartbeat.max(Duration::from_millis(1));
        let first = tokio::time::Instant::now() + random_within(period);
        let mut heartbeat = tokio::time::interval_at(first, period);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let state = State {
            live: self,
            pending,
            last_sent,
            heartbeat,
            check: None,
            access_changed: false,
            retry,
            ending: false,
        };
        futures_util::stream::unfold(state, |mut state| async move {
            loop {
                if let Some(bytes) = state.pending.pop_front() {
                    return Some((Ok(bytes), state));
                }
                if !state.next().await {
                    return None;
                }
            }
        })
    }
}

impl State {
    /// Waits for something to send; `false` ends the stream.
    async fn next(&mut self) -> bool {
        enum Next {
            Close,
            Batch(Result<Batch, broadcast::error::RecvError>),
            Account(Result<Batch, broadcast::error::RecvError>),
            Heartbeat,
            /// `None`: the credential is no longer valid.
            Checked(Option<Identity>),
        }
        let next = tokio::select! {
            biased;
            _ = self.live.closing.wait_for(|closing| *closing) => Next::Close,
            batch = self.live.receiver.recv() => Next::Batch(batch),
            batch = recv_account(&mut self.live.account), if self.live.account.is_some() => {
                Next::Account(batch)
            }
            // Only a definite no ends the stream; a check that could not run does not.
            checked = async { self.check.as_mut()?.await.ok() }, if self.check.is_some() => {
                Next::Checked(checked.flatten())
            }
            _ = self.heartbeat.tick() => Next::Heartbeat,
        };
        match next {
            // The server is stopping: its streams' clients all reconnect, elsewhere, at about the
            // same moment. Each is told to wait a random share of the usual delay first (the
            // `retry` field, which EventSource obeys), so that their reconnects and replays
            // reach the other instances spread over that time rather than in one burst.
            Next::Close if !self.ending => {
                self.ending = true;
                self.pending.push_back(Bytes::from(format!(
                    "retry: {}\n\n",
                    random_within(self.retry).as_millis()
                )));
                true
            }
            Next::Close | Next::Batch(Err(broadcast::error::RecvError::Closed)) => false,
            Next::Batch(Ok(batch)) => {
                self.take(&batch);
                true
            }
            Next::Batch(Err(broadcast::error::RecvError::Lagged(_))) => self.catch_up().await,
            Next::Account(Ok(batch)) => {
                if batch.iter().any(Change::is_of_list) {
                    self.pending.push_back(Bytes::from_static(LISTS_EVENT));
                }
                true
            }
            Next::Account(Err(broadcast::error::RecvError::Lagged(_))) => {
                self.pending.push_back(Bytes::from_static(LISTS_EVENT));
                true
            }
            Next::Account(Err(broadcast::error::RecvError::Closed)) => {
                self.live.account = None;
                true
            }
            Next::Checked(identity) => {
                self.check = None;
                match identity {
                    Some(identity) => {
                        self.live.identity = identity;
                        if std::mem::take(&mut self.access_changed) {
                            self.check = Some(self.still_allowed());
                        }
                        true
                    }
                    None => false,
                }
            }
            Next::Heartbeat => {
                if self.check.is_none() && self.needs_check() {
                    self.check = Some(self.still_allowed());
                }
                self.pending
                    .push_back(Bytes::from_static(b": heartbeat\n\n"));
                true
            }
        }
    }

    fn take(&mut self, changes: &[Change]) {
        for change in changes {
            if change.id > self.last_sent {
                if change.is_of_list() {
                    // Its members, title or existence changed: is the caller still on it?
                    self.access_changed = true;
                    self.pending.push_back(Bytes::from_static(LISTS_EVENT));
                }
                self.pending.extend(change_event(change, &self.live.base));
                self.last_sent = change.id;
            }
        }
        if self.access_changed && self.check.is_none() {
            self.access_changed = false;
            self.check = Some(self.still_allowed());
        }
    }

    /// The stream fell behind its channel: read what it missed from the log.
    async fn catch_up(&mut self) -> bool {
        let (pool, scope, last) = (self.live.pool.clone(), self.live.scope, self.last_sent);
        let start = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|err| err.to_string())?;
            Start::read(&mut conn, scope, Some(last)).map_err(|err| err.to_string())
        })
        .await;
        match start {
            Ok(Ok(Start::Replay(changes, _))) => {
                self.take(&changes);
                true
            }
            Ok(Ok(Start::Reset(todos, change))) => {
                self.pending
                    .push_back(reset_event(&todos, change, &self.live.base));
                self.last_sent = change;
                true
            }
            // The client reconnects with its last id and misses nothing.
            _ => false,
        }
    }

    /// Whether the credential must be checked again: something was revoked since its last check
    /// (a sign-out, a revoked token, a removed user: anyone's), or its session is due to expire.
    fn needs_check(&self) -> bool {
        let identity = &self.live.identity;
        *self.live.auth_generation.borrow() != identity.auth_generation
            || identity
                .expires_at
                .is_some_and(|expires_at| crate::auth::now() >= expires_at)
    }

    /// The check: a session that was signed out, revoked or expired ends the stream (`None`), and
    /// so does a caller who is no longer on the list or whose role in it changed (their page
    /// reconnects and learns which). It runs on the blocking pool while the stream goes on; one
    /// that cannot run keeps it open.
    fn still_allowed(&self) -> tokio::task::JoinHandle<Option<Identity>> {
        let (pool, caller) = (self.live.pool.clone(), self.live.caller.clone());
        let writer = self.live.writer.clone();
        let kept = self.live.identity.clone();
        let (target, role) = (self.live.target, self.live.role);
        tokio::spawn(async move {
            let checked = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().ok()?;
                let (identity, touch) = match caller.identify_deferring(&mut conn) {
                    Ok(identified) => identified,
                    Err(err) => return Some(Err(err)),
                };
                let still = lists::access(&mut conn, &identity, target, Need::Read)
                    .ok()?
                    .is_ok_and(|access| access.role == role);
                Some(Ok((identity, touch, still)))
            })
            .await;
            match checked {
                Ok(Some(Ok((identity, touch, still)))) => {
                    if let Some(touch) = touch {
                        // If this write fails, the next check or request makes it.
                        let _ = writer.write(move |conn| Ok(touch.write(conn)?)).await;
                    }
                    still.then_some(identity)
                }
                Ok(Some(Err(AuthError::Unauthenticated(_)))) => None,
                _ => Some(kept),
            }
        })
    }
}

/// The next batch of the caller's default list, when the stream follows it too.
async fn recv_account(
    account: &mut Option<broadcast::Receiver<Batch>>,
) -> Result<Batch, broadcast::error::RecvError> {
    match account {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}
