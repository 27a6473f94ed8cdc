//! `/openapi.json`: generated from the handlers, it describes exactly the routes the server has,
//! their errors, headers and credentials.

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app, spawn_app_with};

/// Every JSON route with its methods, as the router serves them.
const ROUTES: [(&str, &[&str]); 16] = [
    ("/todos/", &["get", "head", "post", "delete"]),
    ("/todos/{id}", &["get", "head", "put", "patch", "delete"]),
    ("/todos/events", &["get"]),
    ("/lists", &["get", "post"]),
    ("/lists/{list}", &["get", "head", "patch", "delete"]),
    ("/lists/{list}/members", &["get"]),
    ("/lists/{list}/members/{username}", &["put", "delete"]),
    ("/lists/{list}/todos/", &["get", "head", "post", "delete"]),
    (
        "/lists/{list}/todos/{id}",
        &["get", "head", "put", "patch", "delete"],
    ),
    ("/lists/{list}/events", &["get"]),
    ("/todos/{id}/move", &["post"]),
    ("/lists/{list}/todos/{id}/move", &["post"]),
    ("/tokens", &["get", "post"]),
    ("/tokens/{id}", &["delete"]),
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
];

fn methods(doc: &Value, path: &str) -> Vec<String> {
    let mut methods: Vec<String> = doc["paths"][path]
        .as_object()
        .map(|item| item.keys().cloned().collect())
        .unwrap_or_default();
    methods.sort();
    methods
}

#[tokio::test]
async fn the_description_covers_every_json_route_as_the_router_serves_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app
        .anonymous
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "no credential needed");
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], app.address);
    let documented: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(documented.len(), ROUTES.len(), "{documented:?}");
    for (path, expected) in ROUTES {
        let mut expected: Vec<String> = expected.iter().map(|m| (*m).to_owned()).collect();
        expected.sort();
        assert_eq!(methods(&doc, path), expected, "{path}");
        // The router agrees: OPTIONS lists the same methods.
        let concrete = path
            .replace("{id}", "1")
            .replace("{list}", "1")
            .replace("{username}", "bob");
        let allow = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(&concrete))
            .send()
            .await
            .unwrap();
        let allow = allow.headers()["allow"].to_str().unwrap().to_lowercase();
        for method in &expected {
            assert!(
                allow.contains(method.as_str()),
                "{path}: {method} not in {allow}"
            );
        }
    }
}

#[tokio::test]
async fn errors_headers_and_credentials_are_described() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc: Value = app.get_json("/openapi.json").await;
    // The one error shape, on every refusal.
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], json!(["error"]));
    for property in ["error", "field", "current", "request_id"] {
        assert!(error["properties"][property].is_object(), "{property}");
    }
    let put = &doc["paths"]["/todos/{id}"]["put"];
    for status in [
        "200", "400", "401", "403", "404", "408", "409", "412", "413", "415", "422", "503",
    ] {
        assert!(put["responses"][status].is_object(), "PUT has no {status}");
    }
    assert_eq!(
        put["responses"]["412"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert!(put["responses"]["200"]["headers"]["ETag"].is_object());
    let parameters: Vec<&str> = put["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        parameters,
        ["id", "If-Match", "Idempotency-Key", "If-None-Match"]
    );
    let key = put["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    assert_eq!(
        (key["in"].as_str(), key["schema"]["maxLength"].as_u64()),
        (Some("header"), Some(255))
    );
    assert!(doc["paths"]["/todos/"]["post"]["responses"]["201"]["headers"]["Location"].is_object());
    // The todo's fields, from the type the handlers answer with.
    let todo = &doc["components"]["schemas"]["Todo"]["properties"];
    for field in ["id", "title", "order", "completed", "url", "version"] {
        assert!(todo[field].is_object(), "{field}");
    }
    // Both credentials, the cookie by its real name; health checks need none.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        (
            schemes["cookie"]["in"].as_str(),
            schemes["cookie"]["name"].as_str()
        ),
        (Some("cookie"), Some("todomvc_session"))
    );
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(doc["security"], json!([{"cookie": []}, {"bearer": []}]));
    assert_eq!(doc["paths"]["/healthz"]["get"]["security"], json!([{}]));
}

#[tokio::test]
async fn open_mode_describes_no_credentials_and_no_tokens() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.auth.mode = todomvc::config::AuthMode::Open;
    })
    .await;
    let doc: Value = app.get_json("/openapi.json").await;
    assert!(doc["security"].is_null(), "{}", doc["security"]);
    assert!(doc["paths"]["/tokens"].is_null());
    assert!(doc["paths"]["/todos/"].is_object());
    // And production's cookie name where cookies are Secure.
    let secure = spawn_app_with(Backend::Sqlite, |settings| {
        settings.auth.secure_cookies = true;
    })
    .await;
    let doc: Value = secure.get_json("/openapi.json").await;
    assert_eq!(
        doc["components"]["securitySchemes"]["cookie"]["name"],
        "__Host-todomvc_session"
    );
}
