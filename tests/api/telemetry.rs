//! Metrics, request ids and the log format.

use std::net::TcpListener;
use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::{Backend, ServerProcess, TestDatabase, spawn_app, spawn_app_with};

fn is_hex_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn metrics_count_requests_and_report_the_pool_the_kept_lists_streams_and_sign_ins() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "counted"})).await;
    for _ in 0..3 {
        app.client.get(app.url("/todos/")).send().await.unwrap();
    }
    let wrong = app
        .post_form(
            &app.anonymous,
            "/login",
            &[("username", "alice"), ("password", "not it, no")],
        )
        .await;
    assert_eq!(wrong.status(), 401);

    let response = app.anonymous.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for expected in [
        r#"http_requests_total{route="/todos",method="GET",status="200"}"#,
        r#"http_requests_total{route="/todos",method="POST",status="201"}"#,
        r#"http_request_duration_seconds_bucket{route="/todos",method="GET",le="0.005"}"#,
        r#"db_pool_connections{state="idle"}"#,
        r#"db_pool_connections{state="in_use"}"#,
        "db_pool_wait_seconds",
        r#"kept_list_reads_total{result="miss"}"#,
        r#"kept_list_reads_total{result="hit"}"#,
        "live_streams_open",
        "sign_in_failures_total",
    ] {
        assert!(text.contains(expected), "no {expected} in\n{text}");
    }
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_errors_name_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.client.get(app.url("/todos/")).send().await.unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(is_hex_id(&id), "{id}");

    // From anyone but a trusted proxy, a client's own id is not taken.
    let response = app
        .client
        .get(app.url("/todos/999"))
        .header("x-request-id", "chosen-by-the-client")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(is_hex_id(&id), "{id}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str(), "{body}");
    assert!(body["error"].as_str().is_some());

    let proxied = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let response = proxied
        .client
        .get(proxied.url("/todos/999"))
        .header("x-request-id", "lb-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "lb-7f3a");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], "lb-7f3a");
}

#[tokio::test]
async fn with_a_metrics_address_the_public_listener_has_no_metrics() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.metrics_addr = "127.0.0.1:9".into();
    })
    .await;
    let response = app.anonymous.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_binary_serves_metrics_on_their_own_address_and_logs_json() {
    let database = TestDatabase::create(Backend::Sqlite);
    let metrics = format!("127.0.0.1:{}", free_port());
    let served = ServerProcess::start_with(
        Path::new(env!("CARGO_BIN_EXE_todomvc")),
        &database.url,
        &[
            ("APP__SERVER__METRICS_ADDR", &metrics),
            ("APP__LOG__FORMAT", "json"),
            ("RUST_LOG", "info"),
        ],
    );
    let client = reqwest::Client::new();
    let answer = client.get(served.url("/todos/999")).send().await.unwrap();
    let id = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        client
            .get(served.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "metrics on the public listener"
    );
    let text = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total"), "{text}");

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = served.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|line| line["level"].is_string() && line["message"].is_string())
    );
    assert!(
        lines.iter().any(|line| line["message"]
            .as_str()
            .is_some_and(|message| message.contains(&id))),
        "the request's log line does not name its id:\n{log}"
    );
}

#[tokio::test]
async fn a_metrics_address_in_use_does_not_stop_the_server() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let database = TestDatabase::create(Backend::Sqlite);
    let served = ServerProcess::start_with(
        Path::new(env!("CARGO_BIN_EXE_todomvc")),
        &database.url,
        &[("APP__SERVER__METRICS_ADDR", &address)],
    );
    let response = reqwest::get(served.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !served.log().contains("no metrics: cannot listen") {
        assert!(
            std::time::Instant::now() < deadline,
            "no error logged:\n{}",
            served.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
