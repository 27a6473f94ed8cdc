//! Group commit (SQLite): writes that queue up while one transaction runs are committed together,
//! each in a savepoint of its own. One that fails is undone alone; the others keep their changes
//! and every request gets its own answer.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

#[tokio::test]
async fn writes_queued_together_each_get_their_own_answer_and_a_failure_is_undone_alone() {
    let app = Arc::new(spawn_app(Backend::Sqlite).await);
    let keyed = |title: &str| {
        app.client
            .post(app.url("/todos/"))
            .header("idempotency-key", "\"group-key\"")
            .json(&json!({"title": title}))
    };
    assert_eq!(keyed("first").send().await.unwrap().status(), 201);
    let kept = app.create(json!({"title": "to be edited"})).await;
    let kept_id = kept["id"].as_i64().unwrap();

    // Another process holds SQLite's write lock: the writes below queue up behind the first one.
    let mut holder = SqliteConnection::establish(&app.database.url).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();
    let blocked = tokio::spawn(
        app.client
            .post(app.url("/todos/"))
            .json(&json!({"title": "waited"}))
            .send(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let requests = vec![
        // Good writes.
        app.client
            .post(app.url("/todos/"))
            .json(&json!({"title": "new in the group"})),
        app.client
            .put(app.url(&format!("/todos/{kept_id}")))
            .json(&json!({"title": "edited in the group"})),
        // The key again with another body: 422, after its todo was inserted and then undone.
        keyed("another body"),
        // A stale version: 412, nothing changes.
        app.client
            .put(app.url(&format!("/todos/{kept_id}")))
            .header("if-match", "\"1\"")
            .json(&json!({"title": "stale"})),
        // Nothing there: 404.
        app.client.delete(app.url("/todos/99999")),
    ];
    let sent: Vec<_> = requests
        .into_iter()
        .map(|request| tokio::spawn(request.send()))
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    holder.batch_execute("COMMIT").unwrap();

    assert_eq!(blocked.await.unwrap().unwrap().status(), 201);
    let mut statuses = Vec::new();
    for request in sent {
        statuses.push(request.await.unwrap().unwrap().status().as_u16());
    }
    // The PUT and the stale PUT race for the todo's version only in the order they were sent.
    assert_eq!(statuses[0], 201);
    assert_eq!(statuses[2], 422);
    assert_eq!(statuses[4], 404);
    assert!(
        matches!((statuses[1], statuses[3]), (200, 412 | 200)),
        "{statuses:?}"
    );
    // The key's first answer is still the one kept.
    let again = keyed("first").send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");

    let titles: Vec<String> = app.rows().into_iter().map(|row| row.title).collect();
    assert_eq!(
        titles.iter().filter(|t| *t == "first").count(),
        1,
        "{titles:?}"
    );
    assert!(
        titles.contains(&"new in the group".to_owned()),
        "{titles:?}"
    );
    assert!(titles.contains(&"waited".to_owned()), "{titles:?}");
    assert!(!titles.contains(&"another body".to_owned()), "{titles:?}");
    assert_eq!(titles.len(), 4, "{titles:?}");
}
