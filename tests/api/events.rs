//! Live updates: `GET /todos/events` through a real stream client, on both engines.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, on_both_backends, on_both_engines, spawn_app, spawn_app_on, spawn_app_with,
};

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub name: String,
    pub data: Value,
}

/// A minimal EventSource: reads `text/event-stream` chunks and parses them into events, skipping
/// comments and `retry:` lines.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
    pub retry: Option<u64>,
    pub ended: bool,
}

impl EventStream {
    pub async fn open(
        client: &reqwest::Client,
        app: &TestApp,
        last_event_id: Option<i64>,
    ) -> EventStream {
        Self::open_at(client, &app.url("/todos/events"), last_event_id).await
    }

    /// A stream from `url` (a list's `/lists/{id}/events`, say).
    pub async fn open_at(
        client: &reqwest::Client,
        url: &str,
        last_event_id: Option<i64>,
    ) -> EventStream {
        let mut request = client.get(url);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 200, "the stream opens");
        EventStream {
            response,
            buffer: String::new(),
            retry: None,
            ended: false,
        }
    }

    /// The next event, or `None` if none comes within `wait` (or the stream ended).
    pub async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(event) = self.parse_one() {
                return Some(event);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Ok(None) | Err(_)) => {
                    self.ended = true;
                    return None;
                }
                Err(_) => return None,
            }
        }
    }

    pub async fn next(&mut self) -> Event {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("an event within 5 s")
    }

    /// Whether the server ends the stream within `wait`.
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if self.ended {
                return true;
            }
            let _ = self.next_within(Duration::from_millis(100)).await;
        }
        self.ended
    }

    fn parse_one(&mut self) -> Option<Event> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let (mut id, mut name, mut data) = (None, None, None);
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("id: ") {
                    id = value.parse().ok();
                } else if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(value).expect("JSON data"));
                } else if let Some(value) = line.strip_prefix("retry: ") {
                    self.retry = value.parse().ok();
                }
            }
            if let (Some(id), Some(name), Some(data)) = (id, name, data) {
                return Some(Event { id, name, data });
            }
        }
    }
}

/// The client-side list that the events build, as a page keeps it.
#[derive(Debug, Default)]
pub struct Replica {
    todos: BTreeMap<i64, Value>,
    pub last_id: i64,
}

impl Replica {
    pub fn apply(&mut self, event: &Event) {
        assert!(
            event.id >= self.last_id,
            "ids never go back: {event:?} after {}",
            self.last_id
        );
        self.last_id = event.id;
        match event.name.as_str() {
            "reset" => {
                self.todos = event
                    .data
                    .as_array()
                    .expect("a list")
                    .iter()
                    .map(|todo| (todo["id"].as_i64().unwrap(), todo.clone()))
                    .collect();
            }
            "upsert" => {
                self.todos
                    .insert(event.data["id"].as_i64().unwrap(), event.data.clone());
            }
            "delete" => {
                self.todos.remove(&event.data["id"].as_i64().unwrap());
            }
            other => panic!("unknown event {other}"),
        }
    }

    /// The list in the server's order: by `order`, then `id`.
    pub fn list(&self) -> Value {
        let mut todos: Vec<&Value> = self.todos.values().collect();
        todos.sort_by_key(|todo| (todo["order"].as_i64(), todo["id"].as_i64()));
        json!(todos)
    }

    /// Applies events until the list equals `expected`.
    pub async fn follow_until(&mut self, stream: &mut EventStream, expected: &Value, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.list() != *expected {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| {
                    panic!(
                        "{what}: the stream never matched {expected}: {}",
                        self.list()
                    )
                });
            let event = stream.next_within(left).await.unwrap_or_else(|| {
                panic!("{what}: no event; have {}, want {expected}", self.list())
            });
            self.apply(&event);
        }
    }
}

async fn list(app: &TestApp) -> Value {
    app.get_json("/todos/").await
}

async fn the_stream_starts_with_a_reset_equal_to_the_list(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "first"})).await;
    app.create(json!({"title": "second", "completed": true}))
        .await;
    let response = app
        .client
        .get(app.url("/todos/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let mut stream = EventStream {
        response,
        buffer: String::new(),
        retry: None,
        ended: false,
    };
    let reset = stream.next().await;
    assert_eq!(reset.name, "reset");
    assert_eq!(reset.data, list(&app).await);
    assert_eq!(stream.retry, Some(2000), "a retry hint comes first");
    // Its id is the list's change number, which the page embeds as well.
    let page = app.get_text("/").await;
    assert!(
        page.contains(&format!(r#"data-change="{}""#, reset.id)),
        "{page}"
    );
}

async fn every_kind_of_write_reaches_the_stream(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut stream = EventStream::open(&app.client, &app, None).await;
    let mut replica = Replica::default();
    replica.apply(&stream.next().await);
    let a = app.create(json!({"title": "a"})).await;
    replica
        .follow_until(&mut stream, &list(&app).await, "create")
        .await;
    let b = app.create(json!({"title": "b"})).await;
    app.create(json!({"title": "c"})).await;
    replica
        .follow_until(&mut stream, &list(&app).await, "creates")
        .await;
    let steps: Vec<(&str, reqwest::Method, String, Option<Value>)> = vec![
        (
            "PUT",
            reqwest::Method::PUT,
            format!("/todos/{}", a["id"]),
            Some(json!({"title": "a, edited"})),
        ),
        (
            "PATCH",
            reqwest::Method::PATCH,
            format!("/todos/{}", a["id"]),
            Some(json!({"order": 9})),
        ),
        (
            "toggle",
            reqwest::Method::PATCH,
            format!("/todos/{}", b["id"]),
            Some(json!({"completed": true})),
        ),
        (
            "delete",
            reqwest::Method::DELETE,
            format!("/todos/{}", a["id"]),
            None,
        ),
        (
            "clear completed",
            reqwest::Method::DELETE,
            "/todos/?completed=true".into(),
            None,
        ),
        (
            "delete all",
            reqwest::Method::DELETE,
            "/todos/".into(),
            None,
        ),
    ];
    for (what, method, path, body) in steps {
        let mut request = app.client.request(method, app.url(&path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        assert!(
            request.send().await.unwrap().status().is_success(),
            "{what}"
        );
        replica
            .follow_until(&mut stream, &list(&app).await, what)
            .await;
    }
    // A write by another process: `todomvc import`.
    let file = json!([{"title": "imported one"}, {"title": "imported two", "completed": true}])
        .to_string();
    let output = crate::operators::todomvc(
        &app.database.url,
        &["import", "-", "--user", "alice"],
        Some(&file),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Another process's write shows in what the server keeps within the bound.
    crate::helpers::past_the_bound(backend).await;
    let expected = list(&app).await;
    assert_eq!(expected.as_array().unwrap().len(), 2);
    replica
        .follow_until(&mut stream, &expected, "import by another process")
        .await;
}

async fn a_reconnect_replays_exactly_what_was_missed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "before"})).await;
    let mut stream = EventStream::open(&app.client, &app, None).await;
    let mut replica = Replica::default();
    replica.apply(&stream.next().await);
    drop(stream);

    let mut ids = Vec::new();
    for i in 0..50 {
        match i % 3 {
            0 => ids.push(app.create(json!({"title": format!("missed {i}")})).await["id"].clone()),
            1 => {
                let id = ids.last().unwrap();
                let response = app
                    .client
                    .patch(app.url(&format!("/todos/{id}")))
                    .json(&json!({"completed": true}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
            _ => {
                let id = ids.remove(0);
                let response = app
                    .client
                    .delete(app.url(&format!("/todos/{id}")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 204);
            }
        }
    }
    let mut stream = EventStream::open(&app.client, &app, Some(replica.last_id)).await;
    let mut replayed = Vec::new();
    while let Some(event) = stream.next_within(Duration::from_millis(700)).await {
        replayed.push(event);
    }
    assert_eq!(replayed.len(), 50, "exactly the 50 changes: {replayed:#?}");
    assert!(replayed.iter().all(|event| event.name != "reset"));
    for event in &replayed {
        replica.apply(event);
    }
    assert_eq!(replica.list(), list(&app).await);
}

/// A long log is trimmed in several short transactions, to exactly the newest changes kept.
async fn a_long_log_is_trimmed_to_the_newest_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.database.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4500) \
         INSERT INTO todos (title, position, list_id) \
         SELECT 'bulk', i, (SELECT id FROM lists WHERE owner_id = (SELECT id FROM users)) FROM n",
    );
    let ids = |app: &crate::helpers::TestApp| -> Vec<i64> {
        app.database
            .load::<crate::helpers::Name>(
                "SELECT CAST(id AS TEXT) AS name FROM todo_changes ORDER BY id",
            )
            .into_iter()
            .map(|row| row.name.parse().unwrap())
            .collect()
    };
    let before = ids(&app);
    assert_eq!(before.len(), 4500);
    let pool = app.pool.clone();
    let trimmed = tokio::task::spawn_blocking(move || {
        todomvc::models::Change::trim(&mut pool.get().unwrap(), 10)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(trimmed, 4490);
    assert_eq!(ids(&app), before[4490..]);
}

async fn a_client_older_than_the_log_gets_a_reset(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.events.keep_changes = 5;
        settings.events.trim_interval = std::time::Duration::from_secs(1);
    })
    .await;
    let first = app.create(json!({"title": "one"})).await;
    let mut stream = EventStream::open(&app.client, &app, None).await;
    let seen = stream.next().await.id;
    drop(stream);
    for i in 0..20 {
        app.create(json!({"title": format!("more {i}")})).await;
    }
    // The background task trims the log to the newest five changes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .database
        .load::<crate::helpers::Name>("SELECT title AS name FROM todo_changes")
        .len()
        > 5
    {
        assert!(Instant::now() < deadline, "the log was never trimmed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut stream = EventStream::open(&app.client, &app, Some(seen)).await;
    let event = stream.next().await;
    assert_eq!(event.name, "reset");
    assert_eq!(event.data, list(&app).await);
    assert_eq!(event.data[0]["id"], first["id"]);
    // A recent id still replays.
    let mut stream = EventStream::open(&app.client, &app, Some(event.id)).await;
    app.create(json!({"title": "live"})).await;
    let next = stream.next().await;
    assert_eq!(
        (next.name.as_str(), next.data["title"].as_str()),
        ("upsert", Some("live"))
    );
}

/// A client whose last id is ahead of the list (its page was open before the database was
/// restored from a backup, say) gets the list again, not a replay that would skip every change
/// numbered up to its id.
async fn a_client_ahead_of_the_list_gets_a_reset(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "before"})).await;
    let mut stream = EventStream::open(&app.client, &app, Some(1_000_000)).await;
    let event = stream.next().await;
    assert_eq!(event.name, "reset");
    assert_eq!(event.data, list(&app).await);
    assert!(event.id < 1_000_000, "{}", event.id);
    // And it follows from there: the next change arrives.
    app.create(json!({"title": "after the restore"})).await;
    let next = stream.next().await;
    assert_eq!(
        (next.name.as_str(), next.data["title"].as_str()),
        ("upsert", Some("after the restore"))
    );
    // The list's own newest id still replays (nothing to send: the stream waits).
    let mut stream = EventStream::open(&app.client, &app, Some(next.id)).await;
    assert_eq!(stream.next_within(Duration::from_millis(300)).await, None);
}

async fn two_users_never_see_each_others_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.client.clone();
    let bob_user = app.sign_up("bob", crate::helpers::PASSWORD).await;
    let bob = app.client_for(&bob_user);
    let mut alice_stream = EventStream::open(&alice, &app, None).await;
    let mut bob_stream = EventStream::open(&bob, &app, None).await;
    assert_eq!(alice_stream.next().await.data, json!([]));
    assert_eq!(bob_stream.next().await.data, json!([]));
    for i in 0..5 {
        let response = bob
            .post(app.url("/todos/"))
            .json(&json!({"title": format!("bob {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        app.create(json!({"title": format!("alice {i}")})).await;
    }
    bob.delete(app.url("/todos/")).send().await.unwrap();
    let mut seen_by_alice = Vec::new();
    while let Some(event) = alice_stream.next_within(Duration::from_millis(700)).await {
        seen_by_alice.push(event);
    }
    assert_eq!(seen_by_alice.len(), 5);
    assert!(
        seen_by_alice
            .iter()
            .all(|e| e.data["title"].as_str().unwrap().starts_with("alice"))
    );
    let mut seen_by_bob = Vec::new();
    while let Some(event) = bob_stream.next_within(Duration::from_millis(700)).await {
        seen_by_bob.push(event);
    }
    assert_eq!(
        seen_by_bob.len(),
        10,
        "five creates, five deletes: {seen_by_bob:#?}"
    );
    assert!(
        seen_by_bob
            .iter()
            .all(|e| e.name == "delete" || e.data["title"].as_str().unwrap().starts_with("bob"))
    );
}

async fn streams_need_a_credential_and_close_when_it_ends(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.events.heartbeat = std::time::Duration::from_secs(1);
    })
    .await;
    for client in [
        app.anonymous.clone(),
        app.bearer_client("tdm_unknown"),
        app.session_client("forged"),
    ] {
        let response = client.get(app.url("/todos/events")).send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    // Signed out elsewhere: the open stream closes within a heartbeat.
    let session = app.sign_in("alice", crate::helpers::PASSWORD).await;
    let client = app.session_client(&session);
    let mut stream = EventStream::open(&client, &app, None).await;
    stream.next().await;
    let response = app.post_form(&client, "/logout", &[]).await;
    assert_eq!(response.status(), 303);
    // Within a heartbeat of the instance learning of it (events.poll_ms).
    assert!(
        stream.ends_within(Duration::from_secs(4)).await,
        "the stream outlived its session"
    );
}

async fn streams_are_capped_per_instance_and_per_user(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.events.max_streams = 3;
        settings.events.max_streams_per_user = 2;
        // Longer than the test: nothing is written to a stream while it runs.
        settings.events.heartbeat = std::time::Duration::from_secs(60);
    })
    .await;
    let first = EventStream::open(&app.client, &app, None).await;
    let _second = EventStream::open(&app.client, &app, None).await;
    let refused = app
        .client
        .get(app.url("/todos/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let bob = app.client_for(&app.sign_up("bob", crate::helpers::PASSWORD).await);
    let _third = EventStream::open(&bob, &app, None).await;
    let full = bob.get(app.url("/todos/events")).send().await.unwrap();
    assert_eq!(full.status(), 503, "the instance's cap");
    // A stream the client closed gives its place back at once, not when the server next writes to
    // it (no event and no heartbeat comes while this waits).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let response = app
            .client
            .get(app.url("/todos/events"))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the place never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Ordinary requests are not held up by the streams.
    assert_eq!(
        app.client
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

on_both_backends!(
    the_stream_starts_with_a_reset_equal_to_the_list,
    every_kind_of_write_reaches_the_stream,
    a_reconnect_replays_exactly_what_was_missed,
);

/// The same tests once per engine (they choose their clients themselves).
mod per_engine {
    use super::*;
    on_both_engines!(
        a_client_older_than_the_log_gets_a_reset,
        a_client_ahead_of_the_list_gets_a_reset,
        a_long_log_is_trimmed_to_the_newest_changes,
        two_users_never_see_each_others_changes,
        streams_need_a_credential_and_close_when_it_ends,
        streams_are_capped_per_instance_and_per_user,
    );
}

/// Two instances on one PostgreSQL database: a write through one reaches a stream on the other,
/// also after the listener's connection is cut.
#[tokio::test]
async fn changes_cross_instances_and_survive_a_lost_listener() {
    if crate::helpers::postgres_server("changes_cross_instances").is_none() {
        return;
    }
    let writer = spawn_app(Backend::Postgres).await;
    let reader = spawn_app_on(writer.database.clone(), |_| {}).await;
    let client = reader.client_for(writer.user.as_ref().unwrap());
    let mut stream = EventStream::open(&client, &reader, None).await;
    let mut replica = Replica::default();
    replica.apply(&stream.next().await);
    writer
        .create(json!({"title": "through the other instance"}))
        .await;
    crate::helpers::past_the_bound(Backend::Postgres).await;
    replica
        .follow_until(&mut stream, &list(&reader).await, "across instances")
        .await;

    // Cut both instances' listening connections; what is written meanwhile still arrives.
    let cut = writer.database.admin_load(
        "SELECT pg_terminate_backend(pid)::text AS name FROM pg_stat_activity \
         WHERE datname = '{db}' AND application_name = 'todomvc listener'",
    );
    assert_eq!(cut, ["true", "true"], "one listener per instance, both cut");
    for i in 0..5 {
        writer
            .create(json!({"title": format!("while cut {i}")}))
            .await;
    }
    crate::helpers::past_the_bound(Backend::Postgres).await;
    replica
        .follow_until(&mut stream, &list(&reader).await, "after the cut")
        .await;
    writer.create(json!({"title": "after reconnecting"})).await;
    crate::helpers::past_the_bound(Backend::Postgres).await;
    replica
        .follow_until(&mut stream, &list(&reader).await, "after reconnecting")
        .await;
}
