//! PostgreSQL: one connection per instance that LISTENs for `todo_changes`, which the change-log
//! trigger notifies with the list's owner when a transaction commits, and for `generations`, which
//! the counts of changes notify when they are raised. It runs on a thread of its own, polling the
//! connection. A `todo_changes` wakes the list's streams; a `generations`, or a commit of this
//! process, has it read the counts again for the kept renderings (`freshness::Heard`). If the
//! connection drops, the counts are forgotten until it is back, and every list is woken to catch up
//! from the log.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use tokio::sync::mpsc::UnboundedSender;

use super::Wake;
use crate::db::DbConnection;
use crate::freshness::{Heard, LISTEN_POLL};
use crate::models::ListScope;

pub fn spawn(url: String, wakes: UnboundedSender<Wake>, heard: Option<Arc<Heard>>) {
    let spawned = std::thread::Builder::new()
        .name("todo-changes-listener".into())
        .spawn(move || listen(&url, &wakes, heard.as_deref()));
    if let Err(err) = spawned {
        log::error!("live updates: cannot start the PostgreSQL listener: {err}");
    }
}

/// The list a notification names: its id.
fn list(payload: &str) -> Option<ListScope> {
    payload.parse().ok().map(ListScope::of)
}

fn listen(url: &str, wakes: &UnboundedSender<Wake>, heard: Option<&Heard>) {
    let mut backoff = Duration::from_millis(100);
    // Ends when the broadcaster is gone (the server stopped).
    while !wakes.is_closed() {
        if let Some(heard) = heard {
            heard.forget();
        }
        let mut conn = match PgConnection::establish(url) {
            Ok(conn) => DbConnection::Pg(conn),
            Err(err) => {
                log::warn!("live updates: cannot connect to listen for changes: {err}");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(err) = conn.batch_execute(
            "SET application_name = 'todomvc listener'; LISTEN todo_changes; LISTEN generations",
        ) {
            log::warn!("live updates: LISTEN failed: {err}");
            std::thread::sleep(backoff);
            continue;
        }
        backoff = Duration::from_millis(100);
        // Whatever happened while no one listened is in the log.
        if wakes.send(Wake::All).is_err() {
            return;
        }
        if !listen_on(&mut conn, wakes, heard) {
            return;
        }
    }
}

/// Listens on `conn` until it fails (true: connect again) or the server stops (false).
fn listen_on(
    conn: &mut DbConnection,
    wakes: &UnboundedSender<Wake>,
    heard: Option<&Heard>,
) -> bool {
    let mut counts_changed = true;
    loop {
        if let Some(heard) = heard
            && (counts_changed || heard.behind())
        {
            if let Err(err) = heard.read(conn) {
                log::warn!(
                    "live updates: reading the counts of changes failed: {err}; reconnecting"
                );
                return true;
            }
            counts_changed = false;
        }
        let DbConnection::Pg(pg) = &mut *conn else {
            return false;
        };
        for notification in pg.notifications_iter() {
            let wake = match notification {
                Ok(notification) if notification.channel == "generations" => {
                    counts_changed = true;
                    continue;
                }
                Ok(notification) => list(&notification.payload).map_or(Wake::All, Wake::List),
                Err(err) => {
                    log::warn!(
                        "live updates: the listening connection failed: {err}; reconnecting"
                    );
                    return true;
                }
            };
            if wakes.send(wake).is_err() {
                return false;
            }
        }
        if wakes.is_closed() {
            return false;
        }
        if !counts_changed {
            std::thread::sleep(LISTEN_POLL);
        }
    }
}
