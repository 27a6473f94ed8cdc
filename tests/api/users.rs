//! The operator's user commands (`todomvc users ...`, `todomvc tokens create`), and open mode.

use serde_json::{Value, json};

use crate::helpers::{Backend, Name, TestApp, on_both_engines, spawn_app, spawn_app_with};
use crate::operators::{stdout, todomvc};
use todomvc::config::AuthMode;

fn count(app: &TestApp, sql: &str) -> usize {
    app.database.load::<Name>(sql).len()
}

#[allow(clippy::too_many_lines, reason = "one user journey, step by step")]
async fn operators_manage_users_from_the_command_line(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.auth.signups = false).await;
    let url = app.database.url.clone();

    // Todos from before accounts belong to nobody; a new user can claim them.
    app.database
        .execute("INSERT INTO todos (title, position) VALUES ('from before', 1), ('also old', 2)");
    let added = stdout(&todomvc(
        &url,
        &["users", "add", "bob", "--claim-unowned"],
        Some("bob's password\n"),
    ));
    assert!(
        added.contains("added bob") && added.contains("owns 2 todos"),
        "{added}"
    );
    let bob = app.session_client(&app.sign_in("bob", "bob's password").await);
    let list = app.get_json_with(&bob, "/todos/").await;
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["from before", "also old"]);

    // Bad input changes nothing.
    for (args, input, message) in [
        (vec!["users", "add", "BOB"], "another password", "taken"),
        (vec!["users", "add", "erin"], "short", "at least 8 bytes"),
        (
            vec!["users", "add", "   "],
            "a fine password",
            "Enter a username",
        ),
        (vec!["users", "remove", "nobody"], "", "there is no user"),
        (vec!["tokens", "create", "nobody"], "", "there is no user"),
    ] {
        let output = todomvc(&url, &args, Some(&format!("{input}\n")));
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let listed = stdout(&todomvc(&url, &["users", "list"], None));
    assert_eq!(listed, "alice\t0 todos\nbob\t2 todos\n");

    // A token from the command line works as a bearer token.
    let token = stdout(&todomvc(
        &url,
        &["tokens", "create", "bob", "--name", "ci"],
        None,
    ));
    let token = token.trim();
    assert!(token.starts_with("tdm_"), "{token}");
    let by_token = app.bearer_client(token);
    assert_eq!(
        by_token
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A new password ends every session; the old password no longer works.
    let changed = stdout(&todomvc(
        &url,
        &["users", "passwd", "bob"],
        Some("bob's new password\n"),
    ));
    assert!(changed.contains("ended 1 sessions"), "{changed}");
    assert_eq!(
        bob.get(app.url("/todos/")).send().await.unwrap().status(),
        401
    );
    let old = app
        .post_form(
            &app.anonymous,
            "/login",
            &[("username", "bob"), ("password", "bob's password")],
        )
        .await;
    assert_eq!(old.status(), 401);
    app.sign_in("bob", "bob's new password").await;

    // Removing a user removes their todos, sessions and tokens, and nobody else's.
    app.create(json!({"title": "alice keeps this"})).await;
    let removed = stdout(&todomvc(&url, &["users", "remove", "bob"], None));
    assert!(removed.contains("removed bob"), "{removed}");
    assert_eq!(
        by_token
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let titles: Vec<String> = app.rows().into_iter().map(|row| row.title).collect();
    assert_eq!(titles, ["alice keeps this"]);
    assert_eq!(count(&app, "SELECT username AS name FROM users"), 1);
    assert_eq!(
        count(
            &app,
            "SELECT token_hash AS name FROM sessions WHERE user_id NOT IN (SELECT id FROM users)"
        ),
        0
    );
    assert_eq!(count(&app, "SELECT token_hash AS name FROM api_tokens"), 0);
}

/// Open mode: today's shared list, with no sign-in and no account pages.
async fn open_mode_keeps_one_shared_list(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.auth.mode = AuthMode::Open).await;
    assert!(app.user.is_none());
    let created = app.create(json!({"title": "shared"})).await;
    let list: Value = app
        .anonymous
        .get(app.url("/todos/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([created]));
    let page = app.anonymous.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("<label>shared</label>") && !page.contains("Signed in as"));
    for path in ["/login", "/signup", "/tokens"] {
        assert_eq!(
            app.anonymous
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "{path}"
        );
    }
    // Cookies and tokens mean nothing here: the list is everyone's.
    let bogus = app.bearer_client("tdm_whatever");
    assert_eq!(
        bogus.get(app.url("/todos/")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        count(&app, "SELECT title AS name FROM todos WHERE list_id = 1"),
        1
    );
}

#[tokio::test]
async fn open_mode_in_production_warns_loudly() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .env("APP_ENV", "production")
        .env("APP__SERVER__ALLOWED_HOSTS", "todo.example.com")
        .env("APP__AUTH__MODE", "open")
        .env("DATABASE_URL", dir.path().join("todos.db"))
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let line = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains("auth.mode = \"open\" in production"),
        "{line}"
    );
}

/// The page for a signed-in user, with no credential it is the sign-in page.
#[tokio::test]
async fn the_sign_in_page_is_a_real_form() {
    let app = spawn_app(Backend::Sqlite).await;
    let page = app
        .anonymous
        .get(app.url("/login?next=/%23/active"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for needle in [
        r#"<form class="account-form" method="post" action="/login">"#,
        r#"name="username""#,
        r#"name="password" type="password""#,
        r##"name="next" value="/#/active""##,
        r#"href="/signup""#,
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    // Already signed in: straight to the list.
    let signed_in = app.client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(signed_in.status(), 303);
}

on_both_engines!(
    operators_manage_users_from_the_command_line,
    open_mode_keeps_one_shared_list
);
