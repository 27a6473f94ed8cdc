//! Order and undo without JavaScript: the "Move up" and "Move down" forms, and the one-time
//! message with an Undo form that every form action leaves, restoring exactly what it changed.

use serde_json::json;

use crate::helpers::{Backend, TestApp, TodoBody, on_both_engines, spawn_app};

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(&app.client, path, fields).await
}

/// Posts a form that must answer 303, and returns the undo token its cookie carries.
async fn done(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Option<String> {
    let response = post(app, path, fields).await;
    assert_eq!(response.status(), 303, "{path} {fields:?}");
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.strip_prefix("todomvc_undo="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

/// The page as the browser shows it next, with the undo cookie.
async fn page_with_undo(app: &TestApp, token: &str) -> (String, String) {
    let response = app
        .client
        .get(app.url("/"))
        .header(
            "cookie",
            with_session(app, &format!("todomvc_undo={token}")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let removal = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("todomvc_undo="))
        .unwrap_or_default()
        .to_owned();
    (response.text().await.unwrap(), removal)
}

/// A `Cookie` header with the test user's session besides `cookie`.
fn with_session(app: &TestApp, cookie: &str) -> String {
    match &app.user {
        Some(user) => format!("todomvc_session={}; {cookie}", user.session),
        None => cookie.to_owned(),
    }
}

async fn undo(app: &TestApp, token: &str) -> reqwest::Response {
    post(app, "/undo", &[("token", token), ("filter", "")]).await
}

fn ids(list: &[TodoBody]) -> Vec<i32> {
    list.iter().map(|todo| todo.id).collect()
}

async fn move_buttons_move_one_place_and_can_be_undone(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.create_todo(json!({"title": "a"})).await;
    let b = app.create_todo(json!({"title": "b"})).await;
    let c = app.create_todo(json!({"title": "c"})).await;
    let page = app.get_text("/").await;
    // The first has no "up", the last no "down"; each button is named after its todo.
    assert!(
        page.contains(r#"aria-label="Move “a” up" hidden>"#),
        "{page}"
    );
    assert!(page.contains(r#"aria-label="Move “a” down">"#));
    assert!(page.contains(r#"aria-label="Move “b” up">"#));
    assert!(page.contains(r#"aria-label="Move “c” down" hidden>"#));
    assert!(page.contains(&format!(
        r#"action="{}/todos/{}/move""#,
        app.path("/").trim_end_matches('/'),
        c.id
    )));

    let version = c.version.to_string();
    let path = format!("/todos/{}/move", c.id);
    let token = done(
        &app,
        &app.path(&path),
        &[("direction", "up"), ("version", &version), ("filter", "")],
    )
    .await
    .expect("a move can be undone");
    assert_eq!(ids(&app.list().await), [a.id, c.id, b.id]);
    done(
        &app,
        &app.path(&path),
        &[("direction", "up"), ("version", "1"), ("filter", "")],
    )
    .await;
    assert_eq!(ids(&app.list().await), [c.id, a.id, b.id]);
    // At the top, "up" does nothing; "down" goes back.
    done(
        &app,
        &app.path(&path),
        &[("direction", "up"), ("filter", "")],
    )
    .await;
    assert_eq!(ids(&app.list().await), [c.id, a.id, b.id]);
    let token_down = done(
        &app,
        &app.path(&path),
        &[("direction", "down"), ("filter", "")],
    )
    .await
    .expect("undoable");
    assert_eq!(ids(&app.list().await), [a.id, c.id, b.id]);

    // Only the last action is offered; its undo puts c back where it was.
    let (page, _) = page_with_undo(&app, &token).await;
    assert!(
        !page.contains("undo-message\" role=\"status\">Moved"),
        "an older action"
    );
    let (page, removal) = page_with_undo(&app, &token_down).await;
    assert!(page.contains("Moved “c” to position 2 of 3."), "{page}");
    assert!(removal.contains("Max-Age=0"), "offered once: {removal}");
    let back = undo(&app, &token_down).await;
    assert_eq!(back.status(), 303);
    assert_eq!(ids(&app.list().await), [c.id, a.id, b.id]);

    let wrong = post(
        &app,
        &app.path(&path),
        &[("direction", "sideways"), ("filter", "")],
    )
    .await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("direction must be"));
}

async fn a_filtered_page_says_why_todos_do_not_move(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "a"})).await;
    app.create(json!({"title": "b"})).await;
    let all = app.get_text("/").await;
    assert!(all.contains(r#"<p class="move-note" hidden>"#), "{all}");
    let active = app.get_text("/active").await;
    assert!(active.contains(r#"<p class="move-note">Todos can be moved only while all"#));
    assert!(
        !active.contains(r#"aria-label="Move “a” down">"#),
        "no button to move on"
    );
}

async fn undo_after_a_delete_brings_back_the_same_todo_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let keep = app.create_todo(json!({"title": "keep"})).await;
    let milk = app
        .create_todo(json!({"title": "Buy milk", "completed": true}))
        .await;
    let version = milk.version.to_string();
    let token = done(
        &app,
        &app.path(&format!("/todos/{}/delete", milk.id)),
        &[("version", &version), ("filter", "")],
    )
    .await
    .expect("a delete can be undone");
    assert_eq!(ids(&app.list().await), [keep.id]);

    let (page, _) = page_with_undo(&app, &token).await;
    assert!(page.contains(r#"<p class="undo-message" role="status">Deleted “Buy milk”.</p>"#));
    assert!(page.contains(&format!(r#"name="token" value="{token}""#)));
    // A page without the cookie offers nothing.
    let plain = app.get_text("/").await;
    assert!(plain.contains(r#"<p class="undo-message" role="status"></p>"#));

    let response = app
        .post_form(
            &app.client,
            &app.path("/undo"),
            &[("token", &token), ("filter", "")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let list = app.list().await;
    assert_eq!(ids(&list), [keep.id, milk.id], "the same id, in its place");
    assert_eq!(
        (list[1].title.as_str(), list[1].completed),
        ("Buy milk", true)
    );

    // The token is spent.
    let again = app
        .post_form(&app.client, &app.path("/undo"), &[("token", &token)])
        .await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("nothing to undo"));
    // A made-up token changes nothing.
    let forged = app
        .post_form(&app.client, &app.path("/undo"), &[("token", "made-up")])
        .await;
    assert_eq!(forged.status(), 409);
    assert_eq!(app.list().await.len(), 2);
}

async fn undo_of_clear_completed_and_toggle_all_puts_back_every_todo(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut made: Vec<TodoBody> = Vec::new();
    for (title, completed) in [("a", true), ("b", false), ("c", true), ("d", true)] {
        made.push(
            app.create_todo(json!({"title": title, "completed": completed}))
                .await,
        );
    }
    let token = done(&app, &app.path("/clear-completed"), &[("filter", "")])
        .await
        .expect("undoable");
    assert_eq!(app.list().await.len(), 1);
    let (page, _) = page_with_undo(&app, &token).await;
    assert!(page.contains("Cleared 3 completed todos."));
    assert_eq!(undo(&app, &token).await.status(), 303);
    assert_eq!(
        app.list()
            .await
            .iter()
            .map(|t| (t.id, t.completed))
            .collect::<Vec<_>>(),
        made.iter().map(|t| (t.id, t.completed)).collect::<Vec<_>>()
    );

    let token = done(
        &app,
        &app.path("/toggle-all"),
        &[("completed", "true"), ("filter", "")],
    )
    .await
    .expect("undoable");
    assert!(app.list().await.iter().all(|todo| todo.completed));
    let (page, _) = page_with_undo(&app, &token).await;
    assert!(page.contains("Marked 1 todo complete."), "{page}");
    assert_eq!(undo(&app, &token).await.status(), 303);
    let states: Vec<bool> = app.list().await.iter().map(|t| t.completed).collect();
    assert_eq!(states, [true, false, true, true]);
}

async fn an_undo_is_not_forced_over_a_later_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let milk = app.create_todo(json!({"title": "Buy milk"})).await;
    let version = milk.version.to_string();
    let token = done(
        &app,
        &app.path(&format!("/todos/{}/toggle", milk.id)),
        &[("version", &version), ("completed", "true"), ("filter", "")],
    )
    .await
    .expect("undoable");
    // Someone else renames it meanwhile.
    let renamed = app
        .client
        .patch(app.url(&milk.path()))
        .json(&json!({"title": "Buy oat milk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let refused = undo(&app, &token).await;
    assert_eq!(refused.status(), 412);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("“Buy oat milk” was changed after that, so nothing was undone"),
        "{page}"
    );
    let now = app.list().await;
    assert_eq!(
        (now[0].title.as_str(), now[0].completed),
        ("Buy oat milk", true)
    );

    // An edit's undo, when nobody came in between, puts the title back.
    let version = now[0].version.to_string();
    let token = done(
        &app,
        &app.path(&format!("/todos/{}/edit", milk.id)),
        &[
            ("version", &version),
            ("title", "Buy bread"),
            ("filter", ""),
        ],
    )
    .await
    .expect("undoable");
    assert_eq!(undo(&app, &token).await.status(), 303);
    assert_eq!(app.list().await[0].title, "Buy oat milk");
}

async fn another_persons_undo_token_is_not_theirs(backend: Backend) {
    let app = spawn_app(backend).await;
    let milk = app.create_todo(json!({"title": "Buy milk"})).await;
    let token = done(
        &app,
        &app.path(&format!("/todos/{}/delete", milk.id)),
        &[("filter", "")],
    )
    .await
    .expect("undoable");
    let bob = app.client_for(&app.sign_up("bob", crate::helpers::PASSWORD).await);
    let response = app.post_form(&bob, "/undo", &[("token", &token)]).await;
    assert_eq!(response.status(), 409, "bob's own list has no such undo");
    assert!(app.list().await.is_empty());
}

on_both_engines!(
    move_buttons_move_one_place_and_can_be_undone,
    a_filtered_page_says_why_todos_do_not_move,
    undo_after_a_delete_brings_back_the_same_todo_once,
    undo_of_clear_completed_and_toggle_all_puts_back_every_todo,
    an_undo_is_not_forced_over_a_later_change,
    another_persons_undo_token_is_not_theirs,
);
