//! CORS: development and test are open to any origin; production only to its own and listed ones.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, on_both_backends, spawn_app, spawn_app_with};

async fn preflight_allows_any_origin_in_test(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .request(Method::OPTIONS, app.url("/todos/1"))
        .header("origin", "http://todo-backend.example")
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://todo-backend.example"
    );
    let methods = headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("content-type")
    );
}

/// Another site's script uses the API with a bearer token: a session cookie from another origin
/// is refused (see `accounts`), and no answer ever allows credentials.
async fn cross_origin_requests_carry_the_headers_and_expose_location(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.user.clone().expect("accounts mode");
    let client = app.bearer_client(&app.create_token(&user, "cors").await);
    let response = client
        .post(app.url("/todos/"))
        .header("origin", "http://todo-backend.example")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://todo-backend.example"
    );
    assert!(
        response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("location")
    );
    assert!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}

async fn listed_origins_only_when_configured(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.cors.allowed_origins = vec!["https://allowed.example".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/todos/"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://allowed.example").await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://allowed.example"
    );

    let refused = preflight("https://other.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert!(
        refused.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // The page's own origin always works: browsers send Origin on same-origin writes.
    let own = app
        .client
        .post(app.url("/todos/"))
        .header("origin", app.address.clone())
        .json(&json!({"title": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201);
}

/// Production's own CORS settings: no other origin, only the page's own.
#[tokio::test]
async fn production_allows_only_the_pages_own_origin() {
    let production = todomvc::config::Settings::load_from(
        std::path::Path::new("config"),
        &[
            ("APP_ENV", "production"),
            ("DATABASE_URL", "unused.db"),
            ("APP__SERVER__ALLOWED_HOSTS", "127.0.0.1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    )
    .unwrap();
    assert!(production.cors.allowed_origins.is_empty());
    let app = spawn_app_with(Backend::Sqlite, |settings| settings.cors = production.cors).await;

    let foreign = app
        .client
        .request(Method::OPTIONS, app.url("/todos/"))
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    assert!(foreign.status().is_client_error());
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let foreign_write = app
        .client
        .delete(app.url("/todos/"))
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert!(
        foreign_write
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let own = app
        .client
        .post(app.url("/todos/"))
        .header("origin", app.address.clone())
        .json(&json!({"title": "from the page"}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 201);
}

on_both_backends!(
    preflight_allows_any_origin_in_test,
    cross_origin_requests_carry_the_headers_and_expose_location,
    listed_origins_only_when_configured,
);
