//! Every client mistake gets a JSON error with the right status, and changes nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, ErrorBody, send_raw, spawn_app, spawn_app_with, todos_suite};

/// Checks a JSON error answer (status, content type, a message) and returns its body, typed: any
/// field besides `error`, `field`, `current` and `request_id` fails the parse.
fn assert_json_error(
    status: u16,
    expected: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
) -> ErrorBody {
    assert_eq!(status, expected, "body {body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "content type {:?}",
        headers["content-type"]
    );
    let error: ErrorBody = serde_json::from_value(body.clone()).expect("an error body");
    assert!(!error.error.is_empty(), "no error message in {body}");
    error
}

async fn unknown_and_non_numeric_ids_are_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/todos/1",
        "/todos/abc",
        "/todos/-1",
        "/todos/99999999999999999999",
        "/todos/1.5",
    ] {
        for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
            let (status, headers, body) = send_raw(
                &app,
                method.clone(),
                path,
                Some("application/json"),
                r#"{"title":"x"}"#,
            )
            .await;
            assert_json_error(status, 404, &headers, &body);
        }
    }
    assert!(app.rows().is_empty());
}

async fn unknown_routes_are_json_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/nope",
        "/todos/1/extra",
        "/static/missing.css",
        "/static/../Cargo.toml",
    ] {
        let (status, headers, body) = send_raw(&app, Method::GET, path, None, "").await;
        assert_json_error(status, 404, &headers, &body);
    }
}

async fn wrong_method_is_405_with_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create(json!({"title": "x"})).await;
    let item = format!("/todos/{}", todo["id"]);
    // The page of a shared list is the list's own URL, which is also renamed and deleted.
    let page = match app.list_prefix {
        Some(_) => "GET, HEAD, PATCH, DELETE",
        None => "GET, HEAD",
    };
    let cases = [
        (Method::PUT, "/todos/", "GET, HEAD, POST, DELETE"),
        (Method::PATCH, "/todos", "GET, HEAD, POST, DELETE"),
        (Method::POST, item.as_str(), "GET, HEAD, PUT, PATCH, DELETE"),
        (Method::POST, "/", page),
    ];
    for (method, path, allow) in cases {
        let (status, headers, body) =
            send_raw(&app, method.clone(), path, Some("application/json"), "{}").await;
        assert_json_error(status, 405, &headers, &body);
        assert_eq!(headers["allow"], allow, "{method} {path}");
    }
    assert_eq!(app.rows().len(), 1);
}

async fn plain_options_lists_the_methods(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .request(Method::OPTIONS, app.url("/todos/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        response.headers()["allow"],
        "GET, HEAD, POST, DELETE, OPTIONS"
    );
}

async fn malformed_json_and_non_objects_are_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create(json!({"title": "keep"})).await;
    let item = format!("/todos/{}", todo["id"]);
    let bodies = [
        "",
        "{",
        "{\"title\": }",
        "not json",
        "[1, 2]",
        "\"title\"",
        "null",
        "42",
        "{\"title\": \"a\"} trailing",
        &"[".repeat(10_000),
    ];
    for body in bodies {
        for (method, path) in [
            (Method::POST, "/todos/"),
            (Method::PUT, item.as_str()),
            (Method::PATCH, item.as_str()),
        ] {
            let (status, headers, json) = send_raw(
                &app,
                method.clone(),
                path,
                Some("application/json"),
                body.to_owned(),
            )
            .await;
            assert_json_error(status, 400, &headers, &json);
        }
    }
    let rows = app.rows();
    assert_eq!((rows.len(), rows[0].title.as_str()), (1, "keep"));
}

async fn non_json_content_type_is_415(backend: Backend) {
    let app = spawn_app(backend).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data"),
    ] {
        let (status, headers, body) = send_raw(
            &app,
            Method::POST,
            "/todos/",
            content_type,
            r#"{"title":"x"}"#,
        )
        .await;
        assert_json_error(status, 415, &headers, &body);
    }
    assert!(app.rows().is_empty());
}

async fn json_with_charset_and_vendor_json_types_are_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    for content_type in [
        "application/json; charset=utf-8",
        "application/vnd.api+json",
    ] {
        let (status, _, body) = send_raw(
            &app,
            Method::POST,
            "/todos/",
            Some(content_type),
            r#"{"title":"x"}"#,
        )
        .await;
        assert_eq!(status, 201, "{content_type}: {body}");
    }
}

async fn bodies_over_64_kib_are_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({"title": "x", "padding": "y".repeat(64 * 1024)}).to_string();
    let (status, headers, json) = send_raw(
        &app,
        Method::POST,
        "/todos/",
        Some("application/json"),
        body,
    )
    .await;
    assert_json_error(status, 413, &headers, &json);
    assert!(app.rows().is_empty());

    // Just under the limit is fine.
    let body = json!({"title": "x", "padding": "y".repeat(60 * 1024)}).to_string();
    let (status, _, _) = send_raw(
        &app,
        Method::POST,
        "/todos/",
        Some("application/json"),
        body,
    )
    .await;
    assert_eq!(status, 201);
}

async fn invalid_fields_are_422_naming_the_field_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create(json!({"title": "original", "order": 3})).await;
    let item = format!("/todos/{}", todo["id"]);
    let cases = [
        (json!({}), "title", true),
        (json!({"completed": true}), "title", true),
        (json!({"title": 42}), "title", false),
        (json!({"title": null}), "title", false),
        (json!({"title": ["a"]}), "title", false),
        (json!({"title": "   "}), "title", false),
        (
            json!({"title": "x".repeat(todomvc::models::MAX_TITLE_CHARS + 1)}),
            "title",
            false,
        ),
        (
            json!({"title": "ok", "completed": "yes"}),
            "completed",
            false,
        ),
        (
            json!({"title": "ok", "completed": null}),
            "completed",
            false,
        ),
        (json!({"title": "ok", "order": "1"}), "order", false),
        (json!({"title": "ok", "order": 1.5}), "order", false),
        (
            json!({"title": "ok", "order": 2147483648_i64}),
            "order",
            false,
        ),
        (
            json!({"title": "ok", "order": -2147483649_i64}),
            "order",
            false,
        ),
    ];
    for (body, field, only_on_create) in cases {
        let methods: &[(Method, &str)] = if only_on_create {
            &[(Method::POST, "/todos/")]
        } else {
            &[
                (Method::POST, "/todos/"),
                (Method::PUT, &item),
                (Method::PATCH, &item),
            ]
        };
        for (method, path) in methods {
            let (status, headers, json) = send_raw(
                &app,
                method.clone(),
                path,
                Some("application/json"),
                body.to_string(),
            )
            .await;
            let error = assert_json_error(status, 422, &headers, &json);
            assert_eq!(
                error.field.as_deref(),
                Some(field),
                "{method} {path} {body}"
            );
            assert!(error.error.contains(field), "{json}");
        }
    }
    let rows = app.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].title.as_str(), rows[0].position, rows[0].completed),
        ("original", 3, false)
    );
}

async fn a_title_of_exactly_1000_characters_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let title = "ü".repeat(1000);
    let todo = app.create_todo(json!({"title": title})).await;
    assert_eq!(todo.title, title);
}

async fn bad_query_value_is_400_and_deletes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "a", "completed": true})).await;
    let (status, headers, body) =
        send_raw(&app, Method::DELETE, "/todos/?completed=maybe", None, "").await;
    assert_json_error(status, 400, &headers, &body);
    assert_eq!(app.rows().len(), 1);
}

async fn no_connection_within_the_timeout_is_503_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.database.pool_size = 1;
        settings.database.connection_timeout = std::time::Duration::from_millis(200);
    })
    .await;
    let held = app.pool.get().expect("the only connection");
    let started = std::time::Instant::now();
    let (status, headers, body) = send_raw(&app, Method::GET, "/todos/", None, "").await;
    assert_json_error(status, 503, &headers, &body);
    assert_eq!(headers["retry-after"], "1");
    assert!(started.elapsed() < Duration::from_secs(5));

    drop(held);
    let (status, _, _) = send_raw(&app, Method::GET, "/todos/", None, "").await;
    assert_eq!(status, 200, "recovers once a connection is free");
}

todos_suite!(
    unknown_and_non_numeric_ids_are_404,
    unknown_routes_are_json_404,
    wrong_method_is_405_with_allow,
    plain_options_lists_the_methods,
    malformed_json_and_non_objects_are_400,
    non_json_content_type_is_415,
    json_with_charset_and_vendor_json_types_are_accepted,
    bodies_over_64_kib_are_413,
    invalid_fields_are_422_naming_the_field_and_change_nothing,
    a_title_of_exactly_1000_characters_is_accepted,
    bad_query_value_is_400_and_deletes_nothing,
    no_connection_within_the_timeout_is_503_with_retry_after,
);
