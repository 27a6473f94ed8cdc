//! PostgreSQL as the production engine: several instances on one database, and a database that
//! goes away and comes back.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestDatabase, postgres_server, spawn_app_on};

#[tokio::test]
async fn two_instances_see_each_others_writes_at_once() {
    if postgres_server("two_instances").is_none() {
        return;
    }
    let database = Arc::new(TestDatabase::create(Backend::Postgres));
    let a = spawn_app_on(database.clone(), |_| {}).await;
    let b = spawn_app_on(database.clone(), |_| {}).await;
    assert_ne!(a.address, b.address);

    let todo = a.create(json!({"title": "written on A"})).await;
    let seen: Value = b.get_json("/todos/").await;
    assert_eq!(seen[0]["title"], "written on A");
    assert_eq!(seen[0]["id"], todo["id"]);

    let url = format!("/todos/{}", todo["id"]);
    let response = b
        .client
        .patch(b.url(&url))
        .json(&json!({"completed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen: Value = a.get_json(&url).await;
    assert_eq!(seen["completed"], true);

    // Appends from both instances at once still get one position each.
    let creates = (0..20).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.client
            .post(app.url("/todos/"))
            .json(&json!({"title": format!("t{i}")}))
            .send()
    });
    for response in futures_join(creates).await {
        assert_eq!(response.unwrap().status(), 201);
    }
    let mut positions: Vec<i32> = database.rows().iter().map(|row| row.position).collect();
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(positions.len(), 21);
}

async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.collect();
    let mut results = Vec::new();
    for future in handles {
        results.push(future.await);
    }
    results
}

#[tokio::test]
async fn database_down_gives_503_and_the_server_recovers_by_itself() {
    if postgres_server("database_down").is_none() {
        return;
    }
    let database = Arc::new(TestDatabase::create(Backend::Postgres));
    let app = spawn_app_on(database.clone(), |settings| {
        settings.database.connection_timeout = std::time::Duration::from_millis(1000);
    })
    .await;
    app.create(json!({"title": "survives the outage"})).await;

    // Cut the database off: existing connections are killed and new ones refused.
    database.admin_execute("ALTER DATABASE {db} ALLOW_CONNECTIONS false");
    database.admin_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'",
    );
    for (method, path, body) in [
        (reqwest::Method::GET, "/todos/", None),
        (
            reqwest::Method::POST,
            "/todos/",
            Some(json!({"title": "refused"})),
        ),
        (reqwest::Method::GET, "/", None),
    ] {
        let started = Instant::now();
        let mut request = app.client.request(method.clone(), app.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 503, "{method} {path}");
        assert_eq!(response.headers()["retry-after"], "1");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("try again"),
            "{body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{method} {path} hung"
        );
    }

    // Let it back in: the same server answers again, with the data.
    database.admin_execute("ALTER DATABASE {db} ALLOW_CONNECTIONS true");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = app.client.get(app.url("/todos/")).send().await.unwrap();
        if response.status() == 200 {
            let todos: Value = response.json().await.unwrap();
            assert_eq!(todos[0]["title"], "survives the outage");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never recovered: {}",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let titles: Vec<String> = database.rows().into_iter().map(|row| row.title).collect();
    assert_eq!(
        titles,
        ["survives the outage"],
        "the refused create left nothing behind"
    );
}

#[test]
fn start_up_fails_fast_naming_the_host_and_hiding_the_password() {
    // Nothing listens on port 1: the connection is refused at once.
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .env("APP_ENV", "test")
        .env("DATABASE_URL", "postgres://todo:s3cret@127.0.0.1:1/todos")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(started.elapsed() < Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn an_unknown_scheme_is_named_in_the_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .env("APP_ENV", "test")
        .env("DATABASE_URL", "mysql://todo@127.0.0.1/todos")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mysql://") && stderr.contains("postgres://"),
        "{stderr}"
    );
}
