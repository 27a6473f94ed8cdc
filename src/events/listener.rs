//! PostgreSQL: one connection per instance that LISTENs for `todo_changes`, which the change-log
//! trigger notifies with the list's owner when a transaction commits. It runs on a thread of its
//! own, polling the connection; if the connection drops, it reconnects and wakes every list, which
//! then catch up from the log.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use tokio::sync::mpsc::UnboundedSender;

use super::Wake;
use crate::models::ListScope;

/// How often the connection is checked for notifications.
const POLL: Duration = Duration::from_millis(5);

pub fn spawn(url: String, wakes: UnboundedSender<Wake>) {
    let spawned = std::thread::Builder::new()
        .name("todo-changes-listener".into())
        .spawn(move || listen(&url, &wakes));
    if let Err(err) = spawned {
        log::error!("live updates: cannot start the PostgreSQL listener: {err}");
    }
}

/// The list a notification names: its id.
fn list(payload: &str) -> Option<ListScope> {
    payload.parse().ok().map(ListScope::of)
}

fn listen(url: &str, wakes: &UnboundedSender<Wake>) {
    let mut backoff = Duration::from_millis(100);
    // Ends when the broadcaster is gone (the server stopped).
    while !wakes.is_closed() {
        let mut conn = match PgConnection::establish(url) {
            Ok(conn) => conn,
            Err(err) => {
                log::warn!("live updates: cannot connect to listen for changes: {err}");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(err) = conn.batch_execute("LISTEN todo_changes") {
            log::warn!("live updates: LISTEN failed: {err}");
            std::thread::sleep(backoff);
            continue;
        }
        backoff = Duration::from_millis(100);
        // Whatever happened while no one listened is in the log.
        if wakes.send(Wake::All).is_err() {
            return;
        }
        'connected: loop {
            for notification in conn.notifications_iter() {
                let wake = match notification {
                    Ok(notification) => list(&notification.payload).map_or(Wake::All, Wake::List),
                    Err(err) => {
                        log::warn!(
                            "live updates: the listening connection failed: {err}; reconnecting"
                        );
                        break 'connected;
                    }
                };
                if wakes.send(wake).is_err() {
                    return;
                }
            }
            if wakes.is_closed() {
                return;
            }
            std::thread::sleep(POLL);
        }
    }
}
