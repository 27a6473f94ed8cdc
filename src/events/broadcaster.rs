//! The one task per instance that reads new changes from the log and hands them to the lists'
//! channels, and trims the log.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use tokio::sync::{broadcast, mpsc};

use super::{Events, Wake};
use crate::db::{DbConnection, DbPool};
use crate::models::{Change, Generations, ListScope};
use crate::writer::Writer;

/// New changes of one list, oldest first.
pub type Batch = Arc<[Change]>;

/// Batches a slow stream may fall behind by before it re-reads the log instead.
pub const CAPACITY: usize = 256;

/// The least time between two reads of the log. The first commit after a quiet spell is read and
/// handed out at once; under a steady run of commits the broadcaster reads at most this often,
/// each read taking every commit since the last, instead of one read (and one trip through the
/// blocking pool) per commit. Measured: with 1,000 other users' streams open, writes kept 81-85%
/// of their throughput reading per commit, 93% with reads 2 ms apart (benches/ANALYSIS.md, §12).
pub const READ_SPACING: std::time::Duration = std::time::Duration::from_millis(2);

/// One list's streams, and (PostgreSQL) the last change handed to them.
#[derive(Debug)]
pub struct Channel {
    pub sender: broadcast::Sender<Batch>,
    pub cursor: i64,
}

/// Runs until the runtime stops: waits for a wake-up (a commit of this process, a notification,
/// the periodic check for other processes' writes), then reads and hands out what is new.
pub async fn run(
    events: Arc<Events>,
    pool: DbPool,
    writer: Writer,
    mut woken: mpsc::UnboundedReceiver<Wake>,
) {
    let mut commits = writer.commits().subscribe();
    let mut poll = tokio::time::interval(events.settings.poll);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut trim = tokio::time::interval(events.settings.trim_interval);
    trim.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cursor: i64 = read(&pool, Change::latest).await.unwrap_or_default();
    let mut listening = true;
    let mut last_read = tokio::time::Instant::now();
    loop {
        let mut wakes = Vec::new();
        // Whether to move the cursor along when no list has streams (see `dispatch_all`).
        let mut catch_up = false;
        tokio::select! {
            changed = commits.changed() => {
                if changed.is_err() {
                    return;
                }
                wakes.push(Wake::All);
            }
            wake = woken.recv(), if listening => match wake {
                Some(wake) => wakes.push(wake),
                None => listening = false,
            },
            _ = poll.tick() => {
                if let Some(generations) = read(&pool, Generations::read).await {
                    events.auth_generation.send_if_modified(|kept| {
                        std::mem::replace(kept, generations.auth) != generations.auth
                    });
                }
                // PostgreSQL's notifications name every change; SQLite looks for other
                // processes' writes.
                if events.per_list_cursors {
                    continue;
                }
                catch_up = true;
                wakes.push(Wake::All);
            }
            _ = trim.tick() => {
                let keep = events.settings.keep_changes;
                let trimmed = writer.write(move |conn| Ok(Change::trim(conn, keep)?)).await;
                if let Ok(trimmed) = trimmed
                    && trimmed > 0
                {
                    log::debug!("trimmed {trimmed} changes from the log");
                }
                continue;
            }
        }
        tokio::time::sleep_until(last_read + READ_SPACING).await;
        last_read = tokio::time::Instant::now();
        while let Ok(wake) = woken.try_recv() {
            wakes.push(wake);
        }
        if events.per_list_cursors {
            dispatch_lists(&events, &pool, wakes).await;
        } else {
            cursor = dispatch_all(&events, &pool, cursor, catch_up).await;
        }
    }
}

/// Runs a query on the blocking pool; a failure is logged, and the next wake-up tries again.
async fn read<T, F>(pool: &DbPool, query: F) -> Option<T>
where
    F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|err| err.to_string())?;
        query(&mut conn).map_err(|err| err.to_string())
    })
    .await;
    match result {
        Ok(Ok(value)) => Some(value),
        Ok(Err(err)) => {
            log::warn!("live updates: cannot read the change log: {err}");
            None
        }
        Err(err) => {
            log::warn!("live updates: the read failed: {err}");
            None
        }
    }
}

/// SQLite: every change after the one cursor, in one query, handed to the lists that have streams.
///
/// With no streams at all, a commit costs nothing here; the periodic check (`catch_up`) moves the
/// cursor along, so that the first stream's first wake-up does not read a long stretch of the log.
/// An old cursor is never wrong, only slower: streams skip changes they have (by number), and a
/// new stream reads what came before it from the log itself.
async fn dispatch_all(events: &Events, pool: &DbPool, cursor: i64, catch_up: bool) -> i64 {
    if !has_channels(events) {
        if !catch_up {
            return cursor;
        }
        // Read before looking again: a list subscribed after the look reads, from the log, every
        // change up to at least this one.
        let latest = read(pool, Change::latest).await.unwrap_or(cursor);
        return if has_channels(events) { cursor } else { latest };
    }
    let Some(changes) = read(pool, move |conn| Change::all_since(conn, cursor)).await else {
        return cursor;
    };
    let Some(last) = changes.last().map(|change| change.id) else {
        return cursor;
    };
    let mut by_list: HashMap<ListScope, Vec<Change>> = HashMap::new();
    for change in changes {
        by_list.entry(change.scope()).or_default().push(change);
    }
    let mut channels = events
        .channels
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    for (scope, changes) in by_list {
        if let Some(channel) = channels.get(&scope) {
            let _ = channel.sender.send(changes.into());
        }
    }
    channels.retain(|_, channel| channel.sender.receiver_count() > 0);
    last
}

fn has_channels(events: &Events) -> bool {
    !events
        .channels
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_empty()
}

/// PostgreSQL: for each list named (or every list with streams), its changes after its cursor.
async fn dispatch_lists(events: &Events, pool: &DbPool, wakes: Vec<Wake>) {
    let lists: Vec<(ListScope, i64)> = {
        let mut channels = events
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        channels.retain(|_, channel| channel.sender.receiver_count() > 0);
        let all = wakes.contains(&Wake::All);
        channels
            .iter()
            .filter(|(scope, _)| all || wakes.contains(&Wake::List(**scope)))
            .map(|(scope, channel)| (*scope, channel.cursor))
            .collect()
    };
    if lists.is_empty() {
        return;
    }
    let query = lists.clone();
    let Some(found) = read(pool, move |conn| {
        query
            .into_iter()
            .map(|(scope, cursor)| Ok((scope, Change::of_list_since(conn, scope, cursor)?)))
            .collect::<diesel::QueryResult<Vec<_>>>()
    })
    .await
    else {
        return;
    };
    let mut channels = events
        .channels
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    for (scope, changes) in found {
        let (Some(channel), Some(last)) = (channels.get_mut(&scope), changes.last()) else {
            continue;
        };
        // Another wake-up may have handed out some of these already.
        let last = last.id;
        let fresh: Vec<Change> = changes
            .into_iter()
            .filter(|change| change.id > channel.cursor)
            .collect();
        if !fresh.is_empty() {
            channel.cursor = last;
            let _ = channel.sender.send(fresh.into());
        }
    }
}
