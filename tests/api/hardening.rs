//! What an anonymous client, a careless proxy set-up or a look-alike name must not get: metric
//! series of its choosing, connections held by slow bodies, accounts made by the hundred, other
//! users locked out, an address of its choosing, credentials used as something else.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, PASSWORD, TestApp, client_with, session_cookie, spawn_app_with};

/// Posts a sign-in or sign-up form as the client at `address`, through the trusted proxy that
/// the app is told to believe (the test itself, on 127.0.0.1).
async fn form_from(
    app: &TestApp,
    path: &str,
    address: &str,
    name: &str,
    password: &str,
) -> reqwest::Response {
    let fields = [("username", name), ("password", password)];
    app.post_form_with(
        &app.anonymous,
        path,
        &fields,
        &[("x-forwarded-for", address)],
    )
    .await
}

fn behind_a_proxy(settings: &mut todomvc::config::Settings) {
    settings.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn made_up_methods_are_one_metric_label() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    for i in 0..50 {
        let method = format!("MADEUP{i}{}", "X".repeat(200));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .anonymous
            .request(method, app.url("/todos/"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let scrape = app.get_text("/metrics").await;
    assert!(
        !scrape.contains("MADEUP"),
        "a client's method became a label"
    );
    assert!(
        scrape.contains(r#"method="other""#),
        "made-up methods are counted as other"
    );
    assert!(scrape.contains(r#"method="GET""#));
    // No label holds anything longer than a route pattern: every value is short.
    for line in scrape.lines().filter(|line| line.starts_with("http_")) {
        assert!(line.len() < 300, "{line}");
    }
}

/// Sends a request head announcing `announced` body bytes, then `sent` of them, and waits.
fn slow_body(address: &str, announced: usize, sent: &str) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /todos/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {announced}\r\n\r\n{sent}"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    // Until the server closes the connection (or 10 s pass).
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408_and_the_connection_closes() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.auth.mode = todomvc::config::AuthMode::Open;
        settings.server.client_body_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    let address = app.address.clone();
    let held: Vec<_> = (0..6)
        .map(|_| {
            let address = address.clone();
            tokio::task::spawn_blocking(move || slow_body(&address, 100, r#"{"title":"#))
        })
        .collect();
    // Meanwhile the server answers others.
    let health = app.anonymous.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    for slow in held {
        let (answer, took) = slow.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
        assert!(answer.contains("did not arrive"), "{answer}");
        assert!(took < Duration::from_secs(5), "closed after {took:?}");
    }
    assert!(app.rows().is_empty(), "nothing was written");
    // A body that arrives whole is unaffected.
    let created = app
        .anonymous
        .post(app.url("/todos/"))
        .json(&json!({"title": "on time"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn sign_up_is_throttled_per_client_address_and_taken_names_count() {
    let app = spawn_app_with(Backend::Sqlite, behind_a_proxy).await;
    let flood = "203.0.113.50";
    for i in 0..8 {
        let response = form_from(&app, "/signup", flood, &format!("bulk{i}"), PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-up {i}");
    }
    // Probing taken names counts as well.
    for _ in 0..2 {
        let response = form_from(&app, "/signup", flood, "alice", PASSWORD).await;
        assert_eq!(response.status(), 409);
    }
    let refused = form_from(&app, "/signup", flood, "bulk-next", PASSWORD).await;
    assert_eq!(refused.status(), 429);
    let wait = retry_after(&refused);
    assert!((1..=3600).contains(&wait), "{wait}");
    let page = refused.text().await.unwrap();
    assert!(page.contains("Too many sign-ups"), "{page}");
    // A taken name gets 429 too now: no more answers about which names exist.
    let probe = form_from(&app, "/signup", flood, "alice", PASSWORD).await;
    assert_eq!(probe.status(), 429);
    // Another address signs up as before, and sign-in is not affected.
    let other = form_from(&app, "/signup", "198.51.100.7", "newcomer", PASSWORD).await;
    assert_eq!(other.status(), 303);
    let sign_in = form_from(&app, "/login", flood, "bulk0", PASSWORD).await;
    assert_eq!(sign_in.status(), 303);
    let accounts = app.database.load::<crate::helpers::Name>(
        "SELECT username AS name FROM users WHERE username LIKE 'bulk%'",
    );
    assert_eq!(accounts.len(), 8, "the refused sign-up made no account");
}

#[tokio::test]
async fn an_ipv6_client_is_counted_by_its_64() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        behind_a_proxy(settings);
        settings.auth.max_signups_per_client = 2;
    })
    .await;
    for (i, address) in ["2001:db8:7:7::1", "2001:db8:7:7::2"].iter().enumerate() {
        let response = form_from(&app, "/signup", address, &format!("six{i}"), PASSWORD).await;
        assert_eq!(response.status(), 303);
    }
    let same_64 = form_from(&app, "/signup", "2001:db8:7:7:ffff::3", "six2", PASSWORD).await;
    assert_eq!(same_64.status(), 429);
    let next_64 = form_from(&app, "/signup", "2001:db8:7:8::1", "six3", PASSWORD).await;
    assert_eq!(next_64.status(), 303);
}

#[tokio::test]
async fn guessing_from_one_address_never_locks_the_owner_out() {
    let app = spawn_app_with(Backend::Sqlite, behind_a_proxy).await;
    let guesser = "203.0.113.66";
    for attempt in 1..=5 {
        let response = form_from(&app, "/login", guesser, "alice", "wrong guess x").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    // The guesser is refused for alice, even with her password...
    let refused = form_from(&app, "/login", guesser, "alice", PASSWORD).await;
    assert_eq!(refused.status(), 429);
    assert!((1..=900).contains(&retry_after(&refused)));
    // ...and five more from it renew nothing for anyone else: the owner, from her own address,
    // gets in.
    for _ in 0..5 {
        form_from(&app, "/login", guesser, "alice", "wrong guess x").await;
    }
    let owner = form_from(&app, "/login", "198.51.100.20", "alice", PASSWORD).await;
    assert_eq!(owner.status(), 303, "the owner is not locked out");
    assert!(session_cookie(&owner).is_some());
}

#[tokio::test]
async fn many_addresses_against_one_account_are_slowed_not_locked() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        behind_a_proxy(settings);
        settings.auth.account_slowdown_after = 4;
        settings.auth.account_slowdown = std::time::Duration::from_millis(400);
        settings.auth.max_account_slowdown = std::time::Duration::from_millis(800);
    })
    .await;
    let timed = |address: String, password: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            let response = form_from(app, "/login", &address, "alice", password).await;
            (response.status().as_u16(), started.elapsed())
        }
    };
    // Three addresses, two guesses each: none of them reaches its own limit.
    for i in 0..6 {
        let (status, _) = timed(format!("203.0.113.{}", i % 3 + 1), "wrong guess x").await;
        assert_eq!(status, 401);
    }
    // Six failures for alice from everywhere: each attempt now waits first, the owner's too...
    let (status, took) = timed("198.51.100.9".into(), PASSWORD).await;
    assert_eq!(status, 303, "but the owner gets in");
    assert!(took >= Duration::from_millis(400), "no slowdown: {took:?}");
    // The owner's sign-in forgot the failures for her name.
    let left = app.database.load::<crate::helpers::Name>(
        "SELECT client AS name FROM sign_in_failures WHERE username_key = 'alice'",
    );
    assert!(left.is_empty(), "{} failures kept", left.len());
}

/// Four wrong passwords for alice through the proxy, which writes `proxy_value` in its header
/// `proxy_header`; the client writes another address of its own choosing each time in `own_header`.
async fn wrong_passwords_through(
    header: todomvc::config::ProxyHeader,
    (proxy_header, proxy_value): (&str, &str),
    (own_header, own_prefix): (&str, &str),
) -> Vec<u16> {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        behind_a_proxy(settings);
        settings.server.proxy_header = header;
        settings.auth.max_failures_per_client = 3;
        settings.auth.max_failures_per_user = 100;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let own = format!("{own_prefix}10.9.9.{i}");
        let fields = [("username", "alice"), ("password", "wrong guess")];
        let headers = [(proxy_header, proxy_value), (own_header, own.as_str())];
        let response = app
            .post_form_with(&app.anonymous, "/login", &fields, &headers)
            .await;
        statuses.push(response.status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn a_clients_own_forwarded_header_does_not_change_who_it_is() {
    use todomvc::config::ProxyHeader;
    // Behind nginx: X-Forwarded-For is the proxy's, Forwarded is whatever the client sent.
    let statuses = wrong_passwords_through(
        ProxyHeader::XForwardedFor,
        ("x-forwarded-for", "203.0.113.77"),
        ("forwarded", "for="),
    )
    .await;
    assert_eq!(statuses, [401, 401, 401, 429]);
    // A proxy that writes Forwarded: X-Forwarded-For is now the client's and is ignored.
    let statuses = wrong_passwords_through(
        ProxyHeader::Forwarded,
        ("forwarded", "for=203.0.113.78"),
        ("x-forwarded-for", ""),
    )
    .await;
    assert_eq!(statuses, [401, 401, 401, 429]);
}

#[tokio::test]
async fn a_session_is_only_a_cookie_and_a_token_only_bearer() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let alice = app.user.clone().unwrap();
    let token = app.create_token(&alice, "laptop").await;
    // Each used as what it is first, so that both are known in memory.
    let as_cookie = app.session_client(&alice.session);
    let as_bearer = app.bearer_client(&token);
    assert_eq!(
        as_cookie
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        as_bearer
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Then each as the other: refused, for reads and writes, cached or not.
    let session_as_bearer = app.bearer_client(&alice.session);
    let token_as_cookie = app.session_client(&token);
    for client in [&session_as_bearer, &token_as_cookie] {
        let read = client.get(app.url("/todos/")).send().await.unwrap();
        assert_eq!(read.status(), 401);
        let write = client
            .post(app.url("/todos/"))
            .json(&json!({"title": "smuggled"}))
            .send()
            .await
            .unwrap();
        assert_eq!(write.status(), 401);
        let page = client.get(app.url("/")).send().await.unwrap();
        assert_eq!(page.status(), 303, "the page sends them to sign in");
    }
    assert!(app.rows().is_empty());
    // A cross-site write with the session cookie stays refused, whatever else it carries.
    let forged = client_with(reqwest::header::HeaderMap::new())
        .post(app.url("/todos/"))
        .header("cookie", format!("todomvc_session={}", alice.session))
        .header("origin", "https://evil.example")
        .json(&json!({"title": "forged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(app.rows().is_empty());
}

#[tokio::test]
async fn https_answers_carry_hsts() {
    let app = spawn_app_with(Backend::Sqlite, behind_a_proxy).await;
    let over_https = app
        .client
        .get(app.url("/todos/"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(
        over_https.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let plain = app.client.get(app.url("/todos/")).send().await.unwrap();
    assert!(!plain.headers().contains_key("strict-transport-security"));
    // A client that is not a trusted proxy cannot say it came over HTTPS.
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.hsts_max_age = std::time::Duration::from_secs(600);
    })
    .await;
    let forged = app
        .client
        .get(app.url("/todos/"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(!forged.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn look_alike_usernames_are_the_same_name() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    for name in ["ａｌｉｃｅ", "ALICE", "Ａlice"] {
        let response = app
            .post_form(
                &app.anonymous,
                "/signup",
                &[("username", name), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 409, "{name}");
    }
    for (name, why) in [
        ("al\u{200b}ice", "invisible"),
        ("\u{202e}ecila", "invisible"),
        ("ali\u{feff}ce", "invisible"),
        ("ali\u{7}ce", "control"),
    ] {
        let response = app
            .post_form(
                &app.anonymous,
                "/signup",
                &[("username", name), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 422, "{name:?}");
        assert!(response.text().await.unwrap().contains(why), "{name:?}");
    }
    // The fullwidth spelling signs alice in.
    let response = app
        .post_form(
            &app.anonymous,
            "/login",
            &[("username", "ＡＬＩＣＥ"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 303);
    // A fullwidth name is stored in its normal form.
    app.sign_up("ｂｏｂ", PASSWORD).await;
    let names = app
        .database
        .load::<crate::helpers::Name>("SELECT username AS name FROM users ORDER BY id");
    let names: Vec<String> = names.into_iter().map(|row| row.name).collect();
    assert_eq!(names, ["alice", "bob"]);
}

#[tokio::test]
async fn the_migration_refuses_names_that_become_one() {
    let database = crate::helpers::TestDatabase::create(Backend::Sqlite);
    let pool = todomvc::db::connect(&{
        let mut settings = crate::helpers::test_settings();
        settings.database.url = todomvc::db::DatabaseUrl::parse(&database.url).unwrap();
        settings.database
    })
    .unwrap();
    let mut conn = pool.get().unwrap();
    todomvc::models::run_pending_migrations(&mut conn).unwrap();
    // Names made before normalisation, each with the key of its day (lower case only): back to
    // before the migration that normalises them (and every one after it).
    crate::helpers::revert_through(&mut conn, "20261207000001");
    database.execute(
        "INSERT INTO users (username, username_key, password_hash, created_at) VALUES \
         ('alice', 'alice', 'x', 0), ('ａｌｉｃｅ', 'ａｌｉｃｅ', 'x', 0), \
         ('Bob', 'bob', 'x', 0), ('ｃａｒｏｌ', 'ｃａｒｏｌ', 'x', 0)",
    );
    let err = todomvc::models::run_pending_migrations(&mut conn)
        .unwrap_err()
        .to_string();
    assert!(err.contains(r#""alice" = "ａｌｉｃｅ""#), "{err}");
    assert!(!err.contains("Bob"), "{err}");
    // Refused: the migration is not applied and no key changed.
    let tables = database.schema_objects();
    assert!(
        !tables.iter().any(|name| name.contains("sign_up_attempts")),
        "{tables:?}"
    );
    let keys = |database: &crate::helpers::TestDatabase| -> Vec<String> {
        database
            .load::<crate::helpers::Name>("SELECT username_key AS name FROM users ORDER BY id")
            .into_iter()
            .map(|row| row.name)
            .collect()
    };
    assert_eq!(
        keys(&database),
        ["alice", "ａｌｉｃｅ", "bob", "ｃａｒｏｌ"]
    );
    // Once the operator removes one of the pair, it goes through and normalises the rest.
    database.execute("DELETE FROM users WHERE username = 'ａｌｉｃｅ'");
    todomvc::models::run_pending_migrations(&mut conn).unwrap();
    assert_eq!(keys(&database), ["alice", "bob", "carol"]);
}

#[tokio::test]
async fn client_protocol_errors_are_warnings_and_log_lines_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("todos.db");
    let server = crate::helpers::ServerProcess::start_with(
        std::path::Path::new(env!("CARGO_BIN_EXE_todomvc")),
        database.to_str().unwrap(),
        &[("RUST_LOG", "info")],
    );
    let address = server.address.clone();
    tokio::task::spawn_blocking(move || {
        let requests = [
            "GARBAGE\r\n\r\n".to_owned(),
            format!("GET /{} HTTP/1.1\r\nHost: test\r\n\r\n", "a".repeat(70_000)),
            format!(
                "GET /{} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
                "b".repeat(6_000)
            ),
            "G\0T / HTTP/1.1\r\nHost: test\r\n\r\n".to_owned(),
        ];
        for request in requests {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let _ = stream.write_all(request.as_bytes());
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        }
    })
    .await
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    assert!(log.contains("request parse error"), "{log}");
    for line in log.lines() {
        assert!(
            !line.contains("ERROR"),
            "a client's error logged as the server's: {line}"
        );
        assert!(
            line.len() <= 1024 + 200,
            "{} bytes: {}",
            line.len(),
            &line[..200]
        );
    }
    assert!(
        log.contains("[cut: "),
        "the long request line is cut and marked: {log}"
    );
}
