//! Versions and conditional writes: every write raises a todo's ETag, and a stale If-Match gets 412
//! and changes nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, ErrorBody, TestApp, TodoBody, spawn_app, todos_suite};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, etag, body)
}

async fn every_write_raises_the_etag(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.url("/todos/"))
        .json(&json!({"title": "v"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], r#""1""#);
    let todo: TodoBody = response.json().await.unwrap();
    let path = todo.path();

    let (status, etag, body) = send(&app, Method::GET, &path, None, None).await;
    let body: TodoBody = serde_json::from_value(body).unwrap();
    assert_eq!(
        (status, etag.as_deref(), body.version),
        (200, Some(r#""1""#), 1)
    );
    let (_, etag, body) = send(
        &app,
        Method::PATCH,
        &path,
        None,
        Some(json!({"completed": true})),
    )
    .await;
    let body: TodoBody = serde_json::from_value(body).unwrap();
    assert_eq!((etag.as_deref(), body.version), (Some(r#""2""#), 2));
    let (_, etag, _) = send(
        &app,
        Method::PUT,
        &path,
        None,
        Some(json!({"title": "w", "order": 4})),
    )
    .await;
    assert_eq!(etag.as_deref(), Some(r#""3""#));
    // A body with nothing to change is no write.
    let (_, etag, _) = send(&app, Method::PUT, &path, None, Some(json!({"id": 1}))).await;
    assert_eq!(etag.as_deref(), Some(r#""3""#));
}

async fn a_stale_if_match_is_412_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create_todo(json!({"title": "original"})).await;
    let path = todo.path();
    // Another client edits it: version 2.
    let (status, _, _) = send(
        &app,
        Method::PUT,
        &path,
        Some(r#""1""#),
        Some(json!({"title": "theirs"})),
    )
    .await;
    assert_eq!(status, 200);

    for (method, body) in [
        (Method::PUT, Some(json!({"title": "mine"}))),
        (Method::PATCH, Some(json!({"completed": true}))),
        (Method::PUT, Some(json!({}))),
        (Method::DELETE, None),
    ] {
        let (status, etag, answer) = send(&app, method.clone(), &path, Some(r#""1""#), body).await;
        assert_eq!(status, 412, "{method}");
        assert_eq!(etag.as_deref(), Some(r#""2""#), "{method}");
        let answer: ErrorBody = serde_json::from_value(answer).unwrap();
        assert!(answer.error.contains("theirs"), "{answer:?}");
        let current = answer.current.expect("the todo as it is now");
        assert_eq!((current.title.as_str(), current.version), ("theirs", 2));
    }
    let rows = app.rows();
    assert_eq!(
        (rows.len(), rows[0].title.as_str(), rows[0].completed),
        (1, "theirs", false)
    );

    // With the current version, or none, the writes go through.
    let (status, _, body) = send(
        &app,
        Method::PATCH,
        &path,
        Some(r#""2""#),
        Some(json!({"completed": true})),
    )
    .await;
    let body: TodoBody = serde_json::from_value(body).unwrap();
    assert_eq!((status, body.version), (200, 3));
    let (status, _, _) = send(
        &app,
        Method::PATCH,
        &path,
        None,
        Some(json!({"title": "last"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = send(&app, Method::DELETE, &path, Some(r#""4""#), None).await;
    assert_eq!(status, 204);
    assert!(app.rows().is_empty());
}

async fn if_match_forms(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create(json!({"title": "t"})).await;
    let path = format!("/todos/{}", todo["id"]);
    for (tag, expected) in [
        ("*", 200),
        (r#""9", "2""#, 200), // a list: any member may match (version 2, then 3)
        (r#"W/"3""#, 412),    // weak tags never match for writes
        ("3", 412),           // not a quoted tag
        (r#""not-a-version""#, 412),
        (r#""3""#, 200), // the current version
    ] {
        let (status, _, body) = send(
            &app,
            Method::PATCH,
            &path,
            Some(tag),
            Some(json!({"order": 1})),
        )
        .await;
        assert_eq!(status, expected, "If-Match: {tag}: {body}");
    }
    let (status, _, _) = send(
        &app,
        Method::PATCH,
        "/todos/999",
        Some("*"),
        Some(json!({"order": 1})),
    )
    .await;
    assert_eq!(status, 404);
}

async fn of_many_writers_with_the_same_version_exactly_one_wins(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create(json!({"title": "contested"})).await;
    let url = app.url(&format!("/todos/{}", todo["id"]));
    let writers: Vec<_> = (0..20)
        .map(|i| {
            let client = app.client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let response = client
                    .put(url)
                    .header("if-match", r#""1""#)
                    .json(&json!({"title": format!("writer {i}")}))
                    .send()
                    .await
                    .unwrap();
                (response.status().as_u16(), i)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for writer in writers {
        let (status, i) = writer.await.unwrap();
        match status {
            200 => winners.push(i),
            412 => {}
            other => panic!("writer {i} got {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let rows = app.rows();
    assert_eq!(rows[0].title, format!("writer {}", winners[0]));
}

todos_suite!(
    every_write_raises_the_etag,
    a_stale_if_match_is_412_and_changes_nothing,
    if_match_forms,
    of_many_writers_with_the_same_version_exactly_one_wins,
);
