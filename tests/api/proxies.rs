//! Trusted proxies and allowed hosts: forwarded headers are believed only from the proxies the
//! operator lists, and a request for a host that is not allowed gets 400.

use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, spawn_app, spawn_app_with};

async fn create_with(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/todos/"))
        .json(&json!({"title": "where am I"}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn forwarded_headers_from_anyone_else_are_ignored() {
    let app = spawn_app(Backend::Sqlite).await;
    let forged = [
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "javascript"),
        (
            "forwarded",
            "for=6.6.6.6;proto=javascript;host=evil.example",
        ),
    ];
    let response = create_with(&app, &forged).await;
    assert_eq!(response.status(), 201);
    let todo: Value = response.json().await.unwrap();
    let own = format!("{}/todos/{}", app.address, todo["id"]);
    assert_eq!(todo["url"], own.as_str());

    let mut page = app.client.get(app.url("/"));
    for (name, value) in forged {
        page = page.header(name, value);
    }
    let page = page.send().await.unwrap().text().await.unwrap();
    assert!(
        !page.contains("evil.example"),
        "the page believed a forged host"
    );
    assert!(!page.contains("javascript:"));
}

#[tokio::test]
async fn a_trusted_proxy_says_the_scheme_host_and_client() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let response = create_with(
        &app,
        &[
            ("x-forwarded-host", "todo.example"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://todo.example"),
        ],
    )
    .await;
    let todo: Value = response.json().await.unwrap();
    assert_eq!(
        todo["url"],
        format!("https://todo.example/todos/{}", todo["id"]).as_str()
    );
    // Even a trusted proxy cannot make the scheme anything but http or https.
    let response = create_with(
        &app,
        &[
            ("x-forwarded-proto", "javascript"),
            ("origin", &app.address),
        ],
    )
    .await;
    let todo: Value = response.json().await.unwrap();
    assert!(todo["url"].as_str().unwrap().starts_with("http://"));

    // The page's own origin, as the proxy says it, passes the same-origin check.
    let response = app
        .client
        .post(app.url("/todos/"))
        .header("origin", "https://todo.example")
        .header("x-forwarded-host", "todo.example")
        .header("x-forwarded-proto", "https")
        .json(&json!({"title": "through the proxy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn only_allowed_hosts_are_answered() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.allowed_hosts = vec![
            "127.0.0.1".parse().unwrap(),
            ".todo.example".parse().unwrap(),
        ];
    })
    .await;
    for host in ["todo.example", "eu.todo.example:8443", "127.0.0.1"] {
        let response = app
            .client
            .get(app.url("/todos/"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{host}");
    }
    // Invented hosts get 400 before anything is read or kept: they cannot fill the kept renderings.
    for n in 0..17 {
        let host = format!("invented-{n}.example");
        let response = app
            .client
            .get(app.url("/"))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{host}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(&host), "{body}");
    }
    assert!(app.rows().is_empty());
}

#[tokio::test]
async fn a_forwarded_host_must_be_allowed_too() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        settings.server.allowed_hosts = vec![
            "todo.example".parse().unwrap(),
            "127.0.0.1".parse().unwrap(),
        ];
    })
    .await;
    let response = app
        .client
        .get(app.url("/todos/"))
        .header("host", "internal")
        .header("x-forwarded-host", "todo.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .client
        .get(app.url("/todos/"))
        .header("host", "internal")
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

/// Failed sign-ins from `client` (an X-Forwarded-For value): the statuses.
async fn wrong_passwords(app: &TestApp, clients: &[&str]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for client in clients {
        let fields = [("username", "alice"), ("password", "not the password")];
        let headers = [("x-forwarded-for", *client)];
        let response = app
            .post_form_with(&app.anonymous, "/login", &fields, &headers)
            .await;
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn throttling_counts_the_client_a_trusted_proxy_names_and_no_other() {
    let limits = |settings: &mut todomvc::config::Settings| {
        settings.auth.max_failures_per_client = 2;
        settings.auth.max_failures_per_user = 100;
    };
    // No trusted proxy: every forged X-Forwarded-For is the same client, the peer.
    let app = spawn_app_with(Backend::Sqlite, limits).await;
    let statuses = wrong_passwords(&app, &["1.1.1.1", "2.2.2.2", "3.3.3.3"]).await;
    assert_eq!(statuses, [401, 401, 429]);

    // Behind a trusted proxy, each client is counted on its own, and a forged address at the
    // left of the chain does not change who the client is (the proxy appends the real one).
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        limits(settings);
        settings.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let statuses = wrong_passwords(
        &app,
        &[
            "203.0.113.1",
            "203.0.113.2",
            "9.9.9.9, 203.0.113.1",
            "203.0.113.1",
        ],
    )
    .await;
    assert_eq!(statuses, [401, 401, 401, 429]);
    // The right password: refused for the throttled client, accepted for another.
    let statuses = wrong_passwords(&app, &["203.0.113.9"]).await;
    assert_eq!(statuses, [401]);
    let response = app
        .anonymous
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "203.0.113.1")
        .body(serde_urlencoded::to_string([("username", "alice"), ("password", PASSWORD)]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
}
