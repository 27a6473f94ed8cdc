//! Kept lists and verified credentials are served from memory, checked on the worker's own thread
//! (`todomvc::freshness`): writes by other processes (on SQLite never heard of, on PostgreSQL heard
//! by the listening connection) must still show within the documented bound, and a credential
//! revoked elsewhere must stop working. On PostgreSQL, losing the listening connection forgets what
//! it heard.

use std::time::Duration;

use crate::helpers::{Backend, on_both_engines, past_the_bound, postgres_server, spawn_app};
use serde_json::{Value, json};

async fn another_process_s_writes_show_within_the_bound(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "from the server"})).await;
    let mut tag = String::new();
    for round in 0..20 {
        // Kept, and read again and again from memory.
        for _ in 0..3 {
            let response = app.client.get(app.url("/todos/")).send().await.unwrap();
            assert_eq!(response.status(), 200);
            tag = response.headers()["etag"].to_str().unwrap().to_owned();
        }
        app.database.execute(&format!(
            "UPDATE todos SET title = 'written elsewhere {round}', version = version + 1"
        ));
        past_the_bound(backend).await;
        let response = app
            .client
            .get(app.url("/todos/"))
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "round {round}: not a 304");
        assert_ne!(response.headers()["etag"].to_str().unwrap(), tag);
        let list: Value = response.json().await.unwrap();
        assert_eq!(
            list[0]["title"],
            format!("written elsewhere {round}"),
            "round {round}"
        );
        let page = app.get_text("/").await;
        assert!(
            page.contains(&format!("written elsewhere {round}")),
            "round {round}: the page"
        );
    }
}

async fn a_credential_revoked_by_another_process_stops_working(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user.clone().unwrap();
    let token = app.create_token(&user, "script").await;
    let bearer = app.bearer_client(&token);
    for client in [&app.client, &bearer] {
        for _ in 0..3 {
            let response = client.get(app.url("/todos/")).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
    }
    app.database.execute("DELETE FROM sessions");
    app.database.execute("DELETE FROM api_tokens");
    past_the_bound(backend).await;
    for (client, what) in [(&app.client, "session"), (&bearer, "token")] {
        let response = client.get(app.url("/todos/")).send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
    }
}

/// PostgreSQL: the listening connection is cut while lists are kept, and a write made meanwhile
/// shows once it is back: what was heard before is not trusted after.
#[tokio::test]
async fn losing_the_listening_connection_forgets_what_it_heard() {
    if postgres_server("losing_the_listening_connection_forgets_what_it_heard").is_none() {
        return;
    }
    let backend = Backend::Postgres;
    let app = spawn_app(backend).await;
    app.create(json!({"title": "before"})).await;
    for _ in 0..3 {
        assert_eq!(app.get_json("/todos/").await[0]["title"], "before");
    }
    app.database.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'todomvc listener' AND datname = current_database()",
    );
    app.database
        .execute("UPDATE todos SET title = 'while it was down', version = version + 1");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.get_json("/todos/").await[0]["title"],
        "while it was down"
    );
    // Listening again: the next write elsewhere shows within the bound.
    app.database
        .execute("UPDATE todos SET title = 'after', version = version + 1");
    past_the_bound(backend).await;
    assert_eq!(app.get_json("/todos/").await[0]["title"], "after");
}

on_both_engines!(
    another_process_s_writes_show_within_the_bound,
    a_credential_revoked_by_another_process_stops_working,
);
