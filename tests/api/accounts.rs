//! Accounts: sign-up and sign-in pages, sessions, API tokens, scoping, CSRF and throttling, on the
//! real server over HTTP.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, on_both_engines, session_cookie, spawn_app, spawn_app_on, spawn_app_with,
};
use todomvc::config::AuthMode;

use crate::helpers::PASSWORD;

/// Every route of user data, with a body that would succeed for the owner.
fn routes(todo_id: &Value, token_id: &Value) -> Vec<(Method, String, Option<Value>)> {
    let todo = format!("/todos/{todo_id}");
    vec![
        (Method::GET, "/todos/".into(), None),
        (Method::POST, "/todos/".into(), Some(json!({"title": "x"}))),
        (Method::DELETE, "/todos/".into(), None),
        (Method::GET, todo.clone(), None),
        (Method::PUT, todo.clone(), Some(json!({"title": "y"}))),
        (
            Method::PATCH,
            todo.clone(),
            Some(json!({"completed": true})),
        ),
        (Method::DELETE, todo, None),
        (Method::GET, "/tokens".into(), None),
        (Method::POST, "/tokens".into(), Some(json!({"name": "n"}))),
        (Method::DELETE, format!("/tokens/{token_id}"), None),
    ]
}

async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    method: &Method,
    path: &str,
    body: &Option<Value>,
) -> reqwest::Response {
    let mut request = client.request(method.clone(), app.url(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request")
}

/// The owner's todo and token, as the database holds them, to check that nothing changed.
fn snapshot(app: &TestApp) -> (Vec<crate::helpers::Row>, Vec<crate::helpers::Name>) {
    (
        app.rows(),
        app.database.load("SELECT name FROM api_tokens ORDER BY id"),
    )
}

async fn no_one_else_gets_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user.clone().expect("accounts mode");
    let todo = app.create(json!({"title": "alice's"})).await;
    let alice_token = app.create_token(&alice, "alice's token").await;
    let tokens = app.get_json_with(&app.client_for(&alice), "/tokens").await;
    let token_id = tokens[0]["id"].clone();
    let routes = routes(&todo["id"], &token_id);
    let before = snapshot(&app);

    // Another user, by cookie and by token: alice's todo and token are 404, her list is not theirs.
    let bob = app.sign_up("bob", PASSWORD).await;
    let bob_token = app.create_token(&bob, "bob's").await;
    for client in [app.client_for(&bob), app.bearer_client(&bob_token)] {
        for (method, path, body) in &routes {
            let response = send(&app, &client, method, path, body).await;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            if path.starts_with("/todos/") && path != "/todos/" || path.starts_with("/tokens/") {
                assert_eq!(status, 404, "{method} {path}: {text}");
                assert!(text.contains("error"), "{text}");
            } else if method == Method::GET && path == "/todos/" {
                assert!(!text.contains("alice's"), "{text}");
            }
        }
    }
    let (rows, names) = snapshot(&app);
    assert_eq!(rows, before.0, "bob changed nothing of alice's");
    assert_eq!(
        names.iter().filter(|n| n.name == "alice's token").count(),
        1
    );

    // Signed out, expired and revoked credentials, and none at all: 401 everywhere.
    let signed_out = app.sign_in("alice", PASSWORD).await;
    let response = app
        .post_form(&app.session_client(&signed_out), "/logout", &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
    let expired = app.sign_in("alice", PASSWORD).await;
    app.database.execute(&format!(
        "UPDATE sessions SET last_seen_at = 0 WHERE token_hash = '{}'",
        todomvc::auth::token::hash(&expired)
    ));
    let too_old = app.sign_in("alice", PASSWORD).await;
    app.database.execute(&format!(
        "UPDATE sessions SET created_at = 0 WHERE token_hash = '{}'",
        todomvc::auth::token::hash(&too_old)
    ));
    let revoked = app.create_token(&alice, "to revoke").await;
    app.revoke_newest_token(&app.client_for(&alice)).await;
    let refused = [
        ("no credentials", app.anonymous.clone()),
        ("signed out", app.session_client(&signed_out)),
        ("idle too long", app.session_client(&expired)),
        ("past the absolute limit", app.session_client(&too_old)),
        ("revoked token", app.bearer_client(&revoked)),
        ("unknown token", app.bearer_client("tdm_not-a-token")),
        ("forged cookie", app.session_client("forged")),
    ];
    for (what, client) in refused {
        for (method, path, body) in &routes {
            let response = send(&app, &client, method, path, body).await;
            assert_eq!(response.status(), 401, "{what}: {method} {path}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer", "{what}");
            let body: Value = response.json().await.expect("a JSON error");
            assert!(body["error"].as_str().is_some(), "{what}: {body}");
        }
        // The page sends them to sign in instead.
        let response = client.get(app.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 303, "{what}");
        assert_eq!(response.headers()["location"], "/login", "{what}");
    }
    assert_eq!(snapshot(&app).0, before.0, "nothing changed");

    // The owner still gets in, by cookie and by token.
    for client in [app.client_for(&alice), app.bearer_client(&alice_token)] {
        let list = app.get_json_with(&client, "/todos/").await;
        assert_eq!(list[0]["title"], "alice's");
    }
}

async fn sign_up_sets_a_session_cookie_and_shows_the_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .post_form(
            &app.anonymous,
            "/signup",
            &[("username", "  Carol  "), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "no Secure outside production: {cookie}"
    );
    let token = session_cookie(&response).unwrap();
    assert_eq!(token.len(), 43, "256 random bits");

    let page = app
        .session_client(&token)
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Signed in as <strong>Carol</strong>"),
        "{page}"
    );
    assert!(page.contains(r#"<form method="post" action="/logout">"#));

    // Secure in production, unless the operator turns it off.
    let secure = spawn_app_with(backend, |settings| settings.auth.secure_cookies = true).await;
    let response = secure
        .post_form(
            &secure.anonymous,
            "/signup",
            &[("username", "dave"), ("password", PASSWORD)],
        )
        .await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    // `__Host-`: only from a secure origin, for the whole site, and no sibling subdomain can set
    // or shadow it.
    assert!(cookie.starts_with("__Host-todomvc_session="), "{cookie}");
    for attribute in ["Secure", "Path=/", "HttpOnly"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let token = session_cookie(&response).unwrap();
    // That name only: the same token under the development name is no session here.
    let with = |name: &str| {
        secure
            .anonymous
            .get(secure.url("/todos/"))
            .header("cookie", format!("{name}={token}"))
            .send()
    };
    assert_eq!(with("__Host-todomvc_session").await.unwrap().status(), 200);
    assert_eq!(with("todomvc_session").await.unwrap().status(), 401);
}

#[allow(clippy::too_many_lines, reason = "one user journey, step by step")]
async fn forms_answer_with_the_right_status_and_keep_the_username(backend: Backend) {
    let app = spawn_app(backend).await;
    let post = |path: &'static str, name: String, password: String| {
        let app = &app;
        async move {
            let response = app
                .post_form(
                    &app.anonymous,
                    path,
                    &[("username", &name), ("password", &password)],
                )
                .await;
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let long_name = "n".repeat(65);
    let cases = [
        (
            "/signup",
            "ALICE".to_owned(),
            PASSWORD.to_owned(),
            409,
            "is taken",
        ),
        (
            "/signup",
            "   ".to_owned(),
            PASSWORD.to_owned(),
            422,
            "Enter a username",
        ),
        (
            "/signup",
            long_name.clone(),
            PASSWORD.to_owned(),
            422,
            "at most 64 characters",
        ),
        (
            "/signup",
            "erin".to_owned(),
            "short77".to_owned(),
            422,
            "at least 8 bytes",
        ),
        (
            "/signup",
            "erin".to_owned(),
            "p".repeat(1025),
            422,
            "at most 1024 bytes",
        ),
        (
            "/login",
            "alice".to_owned(),
            "wrong password".to_owned(),
            401,
            "Wrong username or password",
        ),
        (
            "/login",
            "nobody".to_owned(),
            PASSWORD.to_owned(),
            401,
            "Wrong username or password",
        ),
    ];
    for (path, name, password, status, message) in cases {
        let (got, html) = post(path, name.clone(), password.clone()).await;
        assert_eq!(got, status, "{path} {name:?}: {html}");
        assert!(html.contains(message), "{message} in {html}");
        assert!(
            html.contains(&format!(r#"value="{}""#, name.trim())),
            "the username is kept"
        );
        assert!(!html.contains(&password), "the password is never echoed");
    }
    let (status, _) = post("/signup", "n".repeat(64), PASSWORD.to_owned()).await;
    assert_eq!(status, 303, "64 characters is fine");
    let (status, _) = post("/signup", "frank".into(), "p".repeat(1024)).await;
    assert_eq!(status, 303, "1,024 bytes is fine");

    // Any characters: a NUL, another script.
    for (name, password) in [
        ("nul", "before\0after"),
        ("yuki", "パスワードは長い"),
        ("ivan", "пароль очень длинный"),
    ] {
        let (status, _) = post("/signup", name.into(), password.into()).await;
        assert_eq!(status, 303, "{name}");
        app.sign_in(name, password).await;
        let (status, _) = post("/login", name.into(), format!("{password}x")).await;
        assert_eq!(status, 401, "{name}");
    }
    // The name is unique in any case, and signs in in any case.
    app.sign_in("ALICE", PASSWORD).await;

    // A form that is not urlencoded is refused with the form.
    let response = app
        .anonymous
        .post(app.url("/login"))
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
}

async fn signing_in_always_issues_a_new_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user.clone().unwrap();
    // A cookie planted beforehand (a known session of the victim's, or an invented value) is
    // never the one that comes back, and the old session ends.
    for planted in [alice.session.clone(), "planted-by-an-attacker".to_owned()] {
        let response = app
            .post_form(
                &app.session_client(&planted),
                "/login",
                &[("username", "alice"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 303);
        let fresh = session_cookie(&response).unwrap();
        assert_ne!(fresh, planted);
        let old = app
            .session_client(&planted)
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap();
        assert_eq!(old.status(), 401);
        let new = app
            .session_client(&fresh)
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap();
        assert_eq!(new.status(), 200);
    }
    // After signing in, back to where the user was (on this site only).
    for (next, location) in [("/#/active", "/#/active"), ("//evil.example/", "/")] {
        let response = app
            .post_form(
                &app.anonymous,
                "/login",
                &[
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(response.headers()["location"], location, "next={next}");
    }
}

async fn foreign_origins_cannot_use_the_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user.clone().unwrap();
    let todo = app.create(json!({"title": "mine"})).await;
    let before = app.rows();
    let cookie = format!("todomvc_session={}", alice.session);
    let path = format!("/todos/{}", todo["id"]);
    let attempts = [
        (
            Method::POST,
            "/todos/".to_owned(),
            Some(json!({"title": "forged"})),
        ),
        (Method::PUT, path.clone(), Some(json!({"title": "forged"}))),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"completed": true})),
        ),
        (Method::DELETE, path.clone(), None),
        (Method::DELETE, "/todos/".to_owned(), None),
        (Method::POST, "/tokens".to_owned(), None),
    ];
    let foreign = [
        vec![("origin", "http://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
    ];
    for headers in &foreign {
        for (method, path, body) in &attempts {
            let mut request = app
                .anonymous
                .request(method.clone(), app.url(path))
                .header("cookie", &cookie);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "{headers:?} {method} {path}");
            let body: Value = response.json().await.unwrap();
            assert!(body["error"].as_str().unwrap().contains("cross-origin"));
        }
    }
    assert_eq!(app.rows(), before, "nothing changed");
    let tokens: Vec<crate::helpers::Name> = app.database.load("SELECT name FROM api_tokens");
    assert!(tokens.is_empty(), "no token was made");

    // The forms too: a foreign site can neither sign a user in nor out.
    for path in ["/login", "/signup", "/logout"] {
        let response = app
            .anonymous
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .header("origin", "http://evil.example")
            .body("username=mallory&password=mallory-password")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        assert!(session_cookie(&response).is_none());
    }
    let still = app
        .client_for(&alice)
        .get(app.url("/todos/"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        still.status(),
        200,
        "the session survived the forged sign-out"
    );

    // Same origin is accepted, by Origin and by Sec-Fetch-Site; a bearer token from anywhere too.
    let same = app
        .anonymous
        .post(app.url("/todos/"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"title": "same origin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 201);
    let token = app.create_token(&alice, "script").await;
    let bearer = app
        .bearer_client(&token)
        .post(app.url("/todos/"))
        .header("origin", "http://elsewhere.example")
        .json(&json!({"title": "by token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 201);
    assert_eq!(app.rows().len(), 3);
}

async fn guessing_is_throttled_across_restarts(backend: Backend) {
    let app = spawn_app(backend).await;
    // A second instance on the same database: the count lives in the database.
    let other = spawn_app_on(app.database.clone(), |settings| {
        settings.auth.mode = AuthMode::Accounts;
    })
    .await;
    for attempt in 1..=5 {
        let response = app
            .post_form(
                &app.anonymous,
                "/login",
                &[("username", "Alice"), ("password", "guess number x")],
            )
            .await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    // The sixth is refused even with the right password, by either instance.
    for server in [&app, &other] {
        let response = server
            .post_form(
                &server.anonymous,
                "/login",
                &[("username", "alice"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 429);
        let retry: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Too many failed sign-ins")
        );
    }
    // Other names are not throttled until the client's own limit (20) is reached.
    let bob_app = &other;
    for attempt in 0..14 {
        let response = bob_app
            .post_form(
                &bob_app.anonymous,
                "/login",
                &[
                    ("username", &format!("user{attempt}")),
                    ("password", "guess number x"),
                ],
            )
            .await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let response = bob_app
        .post_form(
            &bob_app.anonymous,
            "/login",
            &[("username", "someone-else"), ("password", "guess number x")],
        )
        .await;
    assert_eq!(response.status(), 401, "the 20th failure");
    let response = bob_app
        .post_form(
            &bob_app.anonymous,
            "/login",
            &[("username", "yet-another"), ("password", "guess number x")],
        )
        .await;
    assert_eq!(response.status(), 429, "the client's limit");
}

async fn tokens_are_listed_without_secrets_and_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user.clone().unwrap();
    let client = app.client_for(&alice);
    let response = client
        .post(app.url("/tokens"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=deploy+script")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["name"], "deploy script");
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tdm_") && secret.len() == 47, "{secret}");
    let unnamed = client.post(app.url("/tokens")).send().await.unwrap();
    assert_eq!(unnamed.status(), 201);

    let listed = app.get_json_with(&client, "/tokens").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["id"], created["id"]);
    assert_eq!(listed[0]["name"], "deploy script");
    assert!(
        !listed.to_string().contains(&secret[4..]),
        "no secret in the list"
    );

    let too_long = client
        .post(app.url("/tokens"))
        .json(&json!({"name": "x".repeat(101)}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 422);
    let body: Value = too_long.json().await.unwrap();
    assert_eq!(body["field"], "name");

    let by_token = app.bearer_client(&secret);
    assert_eq!(
        by_token
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let path = format!("/tokens/{}", created["id"]);
    assert_eq!(
        client.delete(app.url(&path)).send().await.unwrap().status(),
        204
    );
    assert_eq!(
        client.delete(app.url(&path)).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        client
            .delete(app.url("/tokens/nonsense"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        by_token
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let malformed = app
        .anonymous
        .get(app.url("/todos/"))
        .header("authorization", "Basic YWxpY2U6cHc=")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 401);
}

async fn signups_can_be_closed(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.auth.signups = false).await;
    let response = app
        .post_form(
            &app.anonymous,
            "/signup",
            &[("username", "zed"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("Sign-up is closed"));
    let page = app.anonymous.get(app.url("/signup")).send().await.unwrap();
    assert_eq!(page.status(), 403);
    let login = app
        .anonymous
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !login.contains(r#"href="/signup""#),
        "no link to a closed sign-up"
    );
    let users: Vec<crate::helpers::Name> = app
        .database
        .load("SELECT username AS name FROM users WHERE username = 'zed'");
    assert!(users.is_empty());
}

async fn the_database_holds_no_secret_in_plain_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let password = "a very memorable passphrase";
    let user = app.sign_up("grace", password).await;
    let token = app.create_token(&user, "plain").await;
    let dump: Vec<crate::helpers::Name> = app.database.load(
        "SELECT username || ' ' || password_hash AS name FROM users \
         UNION ALL SELECT token_hash FROM sessions UNION ALL SELECT token_hash FROM api_tokens",
    );
    let dump: String = dump.into_iter().map(|row| row.name + "\n").collect();
    assert!(
        dump.contains("grace $argon2id$v=19$m=19456,t=2,p=1$"),
        "{dump}"
    );
    for secret in [password, &token, &token[4..], &user.session] {
        assert!(!dump.contains(secret), "{secret} in the database");
    }
    if backend == Backend::Sqlite {
        let mut bytes = std::fs::read(&app.database.url).unwrap();
        bytes.extend(std::fs::read(format!("{}-wal", app.database.url)).unwrap_or_default());
        let raw = String::from_utf8_lossy(&bytes);
        for secret in [password, &token[4..], &user.session] {
            assert!(!raw.contains(secret), "{secret} in the database file");
        }
    }
}

/// Credentials are kept in memory once verified, but a revocation through another instance (or
/// the command line) takes effect within the bound of what is kept (`past_the_bound`).
async fn revocations_reach_every_instance_within_the_bound(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = spawn_app_on(first.database.clone(), |_| {}).await;
    let alice = first.user.clone().unwrap();
    let token = first.create_token(&alice, "kept").await;
    let session = first.sign_in("alice", PASSWORD).await;
    for app in [&first, &second] {
        for client in [app.bearer_client(&token), app.session_client(&session)] {
            assert_eq!(
                client
                    .get(app.url("/todos/"))
                    .send()
                    .await
                    .unwrap()
                    .status(),
                200
            );
        }
    }
    // Signed out through the second instance: the first refuses the cookie on its next request.
    let response = second
        .post_form(&second.session_client(&session), "/logout", &[])
        .await;
    assert_eq!(response.status(), 303);
    crate::helpers::past_the_bound(backend).await;
    let refused = first
        .session_client(&session)
        .get(first.url("/todos/"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    // Revoked through the second instance: the first refuses the token.
    second.revoke_newest_token(&second.client_for(&alice)).await;
    crate::helpers::past_the_bound(backend).await;
    let refused = first
        .bearer_client(&token)
        .get(first.url("/todos/"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    // Removed by the operator: every credential of the user goes at once.
    let still = first.client_for(&alice);
    assert_eq!(
        still
            .get(first.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    first
        .database
        .execute("DELETE FROM users WHERE username = 'alice'");
    crate::helpers::past_the_bound(backend).await;
    assert_eq!(
        still
            .get(first.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

on_both_engines!(
    revocations_reach_every_instance_within_the_bound,
    no_one_else_gets_in,
    sign_up_sets_a_session_cookie_and_shows_the_user,
    forms_answer_with_the_right_status_and_keep_the_username,
    signing_in_always_issues_a_new_session,
    foreign_origins_cannot_use_the_cookie,
    guessing_is_throttled_across_restarts,
    tokens_are_listed_without_secrets_and_revoked,
    signups_can_be_closed,
    the_database_holds_no_secret_in_plain_text,
);
