//! Kept lists and verified credentials are served from memory, checked on the worker's own thread
//! (`todomvc::freshness`): writes by other processes, which this process never hears of, must
//! still show within the documented bound, and a credential revoked elsewhere must stop working.

use std::time::Duration;

use serde_json::{Value, json};
use todomvc::freshness::RECHECK_AFTER;

use crate::helpers::{Backend, on_both_engines, spawn_app};

/// Past the bound, with room for a busy machine's timer.
async fn past_the_bound() {
    tokio::time::sleep(RECHECK_AFTER + Duration::from_millis(2)).await;
}

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
        past_the_bound().await;
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
    past_the_bound().await;
    for (client, what) in [(&app.client, "session"), (&bearer, "token")] {
        let response = client.get(app.url("/todos/")).send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
    }
}

on_both_engines!(
    another_process_s_writes_show_within_the_bound,
    a_credential_revoked_by_another_process_stops_working,
);
