//! `Idempotency-Key` on writes: a repeat gets the first answer and nothing is done twice.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{Backend, ErrorBody, TestApp, TodoBody, spawn_app, todos_suite_per_engine};

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    key: &str,
    body: Value,
) -> reqwest::Response {
    post_to(&app.url("/todos/"), client, key, body).await
}

async fn post_to(url: &str, client: &reqwest::Client, key: &str, body: Value) -> reqwest::Response {
    client
        .post(url)
        .header("idempotency-key", format!("\"{key}\""))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn a_repeated_create_makes_one_todo_and_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = post(&app, &app.client, "k-1", json!({"title": "once"})).await;
    assert_eq!(first.status(), 201);
    let (location, etag) = (
        first.headers()["location"].clone(),
        first.headers()["etag"].clone(),
    );
    assert!(first.headers().get("idempotent-replayed").is_none());
    let body: TodoBody = first.json().await.unwrap();
    for _ in 0..3 {
        let again = post(&app, &app.client, "k-1", json!({"title": "once"})).await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers()["location"], location);
        assert_eq!(again.headers()["etag"], etag);
        assert_eq!(again.headers()["content-type"], "application/json");
        assert_eq!(again.json::<TodoBody>().await.unwrap(), body);
    }
    assert_eq!(app.rows().len(), 1);
    // A new key is a new request.
    assert_eq!(
        post(&app, &app.client, "k-2", json!({"title": "once"}))
            .await
            .status(),
        201
    );
    assert_eq!(app.rows().len(), 2);
}

async fn a_repeated_delete_answers_204_both_times(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create_todo(json!({"title": "to delete"})).await;
    for _ in 0..2 {
        let response = app
            .client
            .delete(app.url(&todo.path()))
            .header("idempotency-key", "delete-1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    // Without the key, the same delete is a new request and finds nothing.
    let plain = app
        .client
        .delete(app.url(&todo.path()))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 404);
    // PUT and "clear completed" too.
    let kept = app
        .create_todo(json!({"title": "kept", "completed": true}))
        .await;
    for _ in 0..2 {
        let response = app
            .client
            .put(app.url(&kept.path()))
            .header("idempotency-key", "put-1")
            .json(&json!({"title": "renamed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<TodoBody>().await.unwrap().version,
            2,
            "applied once"
        );
    }
}

async fn misuse_of_a_key_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(
        post(&app, &app.client, "same", json!({"title": "first"}))
            .await
            .status(),
        201
    );
    let other = post(
        &app,
        &app.client,
        "same",
        json!({"title": "something else"}),
    )
    .await;
    assert_eq!(other.status(), 422);
    let body: ErrorBody = other.json().await.unwrap();
    assert_eq!(body.field.as_deref(), Some("Idempotency-Key"));
    assert_eq!(app.rows().len(), 1, "nothing was done");

    for bad in ["", "\"\"", &"x".repeat(256), "caf\u{e9}"] {
        let response = app
            .client
            .post(app.url("/todos/"))
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(bad.as_bytes()).unwrap(),
            )
            .json(&json!({"title": "bad key"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{bad:?}");
    }
    assert_eq!(app.rows().len(), 1);
}

async fn concurrent_duplicates_are_done_once(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    let requests: Vec<_> = (0..12)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let response = post(&app, &app.client, "racing", json!({"title": "raced"})).await;
                let status = response.status().as_u16();
                (status, response.text().await.unwrap())
            })
        })
        .collect();
    let mut created = Vec::new();
    for request in requests {
        let (status, body) = request.await.unwrap();
        match status {
            201 => created.push(body),
            409 => {}
            other => panic!("{other}: {body}"),
        }
    }
    assert!(!created.is_empty());
    assert!(
        created.windows(2).all(|pair| pair[0] == pair[1]),
        "one answer: {created:?}"
    );
    assert_eq!(app.rows().len(), 1, "exactly one was processed");
}

async fn keys_belong_to_their_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let bob = app.client_for(&app.sign_up("bob", crate::helpers::PASSWORD).await);
    assert_eq!(
        post(&app, &app.client, "shared-key", json!({"title": "alice's"}))
            .await
            .status(),
        201
    );
    let bobs = post_to(
        &format!("{}/todos/", app.address),
        &bob,
        "shared-key",
        json!({"title": "bob's"}),
    )
    .await;
    assert_eq!(bobs.status(), 201, "bob's key is his own");
    assert_eq!(bobs.json::<TodoBody>().await.unwrap().title, "bob's");
    assert_eq!(app.rows().len(), 2);
}

/// Keys older than `idempotency.keep_hours` go; younger ones still replay.
async fn old_keys_are_trimmed_and_young_ones_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..7 {
        let title = format!("todo {i}");
        let response = post(
            &app,
            &app.client,
            &format!("k-{i}"),
            json!({ "title": title }),
        )
        .await;
        assert_eq!(response.status(), 201);
    }
    // The first four were made two days ago.
    app.database.execute(
        "UPDATE idempotency_keys SET created_at = created_at - 172800 \
         WHERE key IN ('k-0', 'k-1', 'k-2', 'k-3')",
    );
    let pool = app.pool.clone();
    let trimmed = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().expect("a connection");
        todomvc::models::IdempotencyKey::trim(&mut conn, todomvc::auth::now() - 86_400)
    })
    .await
    .unwrap()
    .expect("trimmed");
    assert_eq!(trimmed, 4);
    let left: Vec<crate::helpers::Name> = app
        .database
        .load("SELECT key AS name FROM idempotency_keys ORDER BY id");
    let left: Vec<&str> = left.iter().map(|row| row.name.as_str()).collect();
    assert_eq!(left, ["k-4", "k-5", "k-6"]);

    // A trimmed key is a new request again; a kept one still gets its first answer.
    let again = post(&app, &app.client, "k-0", json!({"title": "todo 0"})).await;
    assert_eq!(again.status(), 201);
    assert!(again.headers().get("idempotent-replayed").is_none());
    let replay = post(&app, &app.client, "k-6", json!({"title": "todo 6"})).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(app.rows().len(), 8);
}

todos_suite_per_engine!(
    old_keys_are_trimmed_and_young_ones_kept,
    a_repeated_create_makes_one_todo_and_the_same_answer,
    a_repeated_delete_answers_204_both_times,
    misuse_of_a_key_is_refused,
    concurrent_duplicates_are_done_once,
    keys_belong_to_their_list,
);

/// SIGKILL while keyed creates are in flight (some committed but never answered), then every
/// request sent again with its key: each key made exactly one todo.
#[tokio::test]
async fn a_replay_after_a_crash_does_nothing_twice() {
    use std::path::Path;
    let database = crate::helpers::TestDatabase::create(Backend::Sqlite);
    let binary = Path::new(env!("CARGO_BIN_EXE_todomvc"));
    let server = crate::helpers::ServerProcess::start(binary, &database.url);
    let base = server.url("/todos/");
    let client = reqwest::Client::new();
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (client, base, sent) = (client.clone(), base.clone(), sent.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let key = format!("w{writer}-{n}");
                    sent.lock().unwrap().push(key.clone());
                    let answer = client
                        .post(&base)
                        .header("idempotency-key", &key)
                        .json(&json!({ "title": key }))
                        .send()
                        .await;
                    if answer.is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    server.signal("KILL");
    for writer in writers {
        let _ = writer.await;
    }
    drop(server);

    let restarted = crate::helpers::ServerProcess::start(binary, &database.url);
    let keys = sent.lock().unwrap().clone();
    assert!(keys.len() > 8, "the load never started");
    for key in &keys {
        let response = client
            .post(restarted.url("/todos/"))
            .header("idempotency-key", key)
            .json(&json!({ "title": key }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{key}");
        let todo: TodoBody = response.json().await.unwrap();
        assert_eq!(todo.title, key.as_str());
    }
    let mut titles: Vec<String> = database.rows().into_iter().map(|row| row.title).collect();
    titles.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(titles, expected, "each key made exactly one todo");
}

/// A repeat that arrives while the first request is still being processed gets 409; the first
/// then finishes, and a later repeat gets its answer.
#[tokio::test]
async fn a_repeat_during_the_first_request_gets_409() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    let app = Arc::new(spawn_app(Backend::Sqlite).await);
    // Another process holds SQLite's write lock: the first request waits for it, in flight.
    let mut holder = diesel::sqlite::SqliteConnection::establish(&app.database.url).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();
    let first = tokio::spawn({
        let app = app.clone();
        async move {
            let response = post(&app, &app.client, "slow", json!({"title": "slow"})).await;
            (response.status().as_u16(), response.text().await.unwrap())
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let repeat = post(&app, &app.client, "slow", json!({"title": "slow"})).await;
    assert_eq!(repeat.status(), 409);
    holder.batch_execute("COMMIT").unwrap();
    let (status, body) = first.await.unwrap();
    assert_eq!(status, 201, "{body}");
    let later = post(&app, &app.client, "slow", json!({"title": "slow"})).await;
    assert_eq!(later.status(), 201);
    assert_eq!(later.text().await.unwrap(), body);
    assert_eq!(app.rows().len(), 1);
}
