//! The page's forms, for browsers without JavaScript: each action posts, goes through the same
//! model as the JSON API (validation, list, versions, change events), and answers 303 back to the
//! page it came from, or the page again with a message and what was typed.

use serde_json::{Value, json};

use todomvc::models::MAX_TITLE_CHARS;

use crate::helpers::{Backend, Name, TestApp, on_both_engines, spawn_app};

fn titles(app: &TestApp) -> Vec<String> {
    app.rows().into_iter().map(|row| row.title).collect()
}

async fn todo(app: &TestApp, id: &Value) -> Value {
    app.get_json(&format!("/todos/{id}")).await
}

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(&app.client, path, fields).await
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

async fn see_other(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> String {
    let response = post(app, path, fields).await;
    assert_eq!(response.status(), 303, "{path} {fields:?}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    location(&response).to_owned()
}

async fn every_action_is_done_and_goes_back_to_the_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let back = see_other(&app, "/add", &[("title", "  Buy milk  "), ("filter", "")]).await;
    assert_eq!(back, "/");
    let back = see_other(
        &app,
        "/add",
        &[("title", "Walk the dog"), ("filter", "active")],
    )
    .await;
    assert_eq!(back, "/active", "back to the filter the form was on");
    assert_eq!(titles(&app), ["Buy milk", "Walk the dog"]);

    let list = app.get_json("/todos/").await;
    let (milk, dog) = (&list[0]["id"], &list[1]["id"]);
    let version = list[0]["version"].to_string();
    let back = see_other(
        &app,
        &format!("/todos/{milk}/toggle"),
        &[
            ("version", &version),
            ("completed", "true"),
            ("filter", "completed"),
        ],
    )
    .await;
    assert_eq!(back, "/completed");
    let milk_now = todo(&app, milk).await;
    assert_eq!(milk_now["completed"], true);
    assert_eq!(
        milk_now["version"],
        list[0]["version"].as_i64().unwrap() + 1
    );

    let version = milk_now["version"].to_string();
    see_other(
        &app,
        &format!("/todos/{milk}/edit"),
        &[("title", " Buy oat milk "), ("version", &version)],
    )
    .await;
    assert_eq!(todo(&app, milk).await["title"], "Buy oat milk");

    see_other(&app, "/toggle-all", &[("completed", "true")]).await;
    assert!(app.rows().iter().all(|row| row.completed));
    see_other(&app, "/toggle-all", &[("completed", "false")]).await;
    assert!(app.rows().iter().all(|row| !row.completed));

    let version = todo(&app, dog).await["version"].to_string();
    see_other(
        &app,
        &format!("/todos/{dog}/delete"),
        &[("version", &version)],
    )
    .await;
    assert_eq!(titles(&app), ["Buy oat milk"]);

    let version = todo(&app, milk).await["version"].to_string();
    see_other(
        &app,
        &format!("/todos/{milk}/toggle"),
        &[("version", &version), ("completed", "true")],
    )
    .await;
    see_other(&app, "/add", &[("title", "stays")]).await;
    see_other(&app, "/clear-completed", &[]).await;
    assert_eq!(titles(&app), ["stays"]);

    // An empty title on edit deletes the todo, as in TodoMVC.
    let stays = &app.get_json("/todos/").await[0];
    see_other(
        &app,
        &format!("/todos/{}/edit", stays["id"]),
        &[("title", "   "), ("version", &stays["version"].to_string())],
    )
    .await;
    assert!(app.rows().is_empty());

    // Every write was a change of the list, as the live stream tells it.
    let changes: Vec<Name> = app
        .database
        .load("SELECT CAST(id AS TEXT) AS name FROM todo_changes");
    assert!(changes.len() >= 11, "{} changes", changes.len());
}

async fn refused_input_shows_the_page_again_with_the_text_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = post(&app, "/add", &[("title", "   "), ("filter", "active")]).await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();
    assert!(
        page.contains(r#"<p class="field-error" id="new-todo-error">Title must not be empty.</p>"#),
        "{page}"
    );
    assert!(page.contains(r#"aria-invalid="true" aria-describedby="new-todo-error""#));
    assert!(
        page.contains(r#"href="/active" class="selected""#),
        "the filter is kept"
    );

    let long = "x".repeat(MAX_TITLE_CHARS + 1);
    let response = post(&app, "/add", &[("title", &long)]).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains(&format!(
        "Title must be at most {MAX_TITLE_CHARS} characters long, not {}.",
        MAX_TITLE_CHARS + 1
    )));
    assert!(
        page.contains(&format!(r#"value="{long}""#)),
        "the typed text is kept"
    );
    assert!(app.rows().is_empty());

    let made = app.create(json!({"title": "short"})).await;
    let response = post(
        &app,
        &format!("/todos/{}/edit", made["id"]),
        &[("title", &long), ("version", &made["version"].to_string())],
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"class="editing""#), "the edit view again");
    assert!(page.contains(&format!(r#"value="{long}""#)));
    assert!(page.contains(r#"<p class="field-error" id="edit-error">"#));
    assert_eq!(titles(&app), ["short"]);

    // Markup typed into a title comes back as text.
    let response = post(&app, "/add", &[("title", &format!("<b>{long}</b>"))]).await;
    let page = response.text().await.unwrap();
    assert!(
        page.contains("&#60;b&#62;x") || page.contains("&lt;b&gt;x"),
        "escaped"
    );
    assert!(!page.contains("<b>x"));
}

async fn a_stale_form_changes_nothing_and_shows_the_todo_as_it_is(backend: Backend) {
    let app = spawn_app(backend).await;
    let made = app.create(json!({"title": "original"})).await;
    let (id, seen) = (&made["id"], made["version"].to_string());
    let response = app
        .client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "changed elsewhere"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let response = post(
        &app,
        &format!("/todos/{id}/edit"),
        &[("title", "mine"), ("version", &seen)],
    )
    .await;
    assert_eq!(response.status(), 412);
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"class="editing""#));
    assert!(
        page.contains(r#"value="changed elsewhere""#),
        "the current title"
    );
    assert!(page.contains("it now reads “changed elsewhere”"), "{page}");
    assert!(page.contains("Your text, “mine”, was not saved."));

    let response = post(
        &app,
        &format!("/todos/{id}/toggle"),
        &[("completed", "true"), ("version", &seen)],
    )
    .await;
    assert_eq!(response.status(), 412);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains(r#"<p class="notice" role="alert">"#)
    );
    let response = post(&app, &format!("/todos/{id}/delete"), &[("version", &seen)]).await;
    assert_eq!(response.status(), 412);

    let rows = app.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].title.as_str(), rows[0].completed),
        ("changed elsewhere", false)
    );

    // A todo deleted meanwhile: the toggle says so; the delete is done already.
    let current = todo(&app, id).await["version"].to_string();
    see_other(
        &app,
        &format!("/todos/{id}/delete"),
        &[("version", &current)],
    )
    .await;
    let response = post(
        &app,
        &format!("/todos/{id}/toggle"),
        &[("completed", "true"), ("version", &current)],
    )
    .await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("no longer exists"));
    see_other(
        &app,
        &format!("/todos/{id}/delete"),
        &[("version", &current)],
    )
    .await;
}

async fn forms_from_another_site_are_refused_and_without_a_session_go_to_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let foreign = app
        .client
        .post(app.url("/add"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://evil.example")
        .body("title=planted")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let anonymous = app
        .post_form(
            &app.anonymous,
            "/add",
            &[("title", "nobody"), ("filter", "active")],
        )
        .await;
    assert_eq!(anonymous.status(), 303);
    assert_eq!(location(&anonymous), "/login?next=%2Factive");
    assert!(app.rows().is_empty());

    // Only POST; a form body that is not a form is refused with a message.
    let get = app.client.get(app.url("/add")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    let response = app
        .client
        .post(app.url("/todos/abc/toggle"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

async fn filters_and_the_edit_view_are_rendered_by_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let active = app.create(json!({"title": "active one"})).await;
    app.create(json!({"title": "done one", "completed": true}))
        .await;
    let page = |path: &'static str| {
        let client = app.client.clone();
        let url = app.url(path);
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.text().await.unwrap()
        }
    };
    let shown = |page: &str| {
        ["active one", "done one"]
            .into_iter()
            .filter(|title| page.contains(&format!("<label>{title}</label>")))
            .collect::<Vec<_>>()
    };
    let all = page("/").await;
    assert_eq!(shown(&all), ["active one", "done one"]);
    assert!(all.contains(r#"<a href="/" class="selected" aria-current="page">All</a>"#));
    let only_active = page("/active").await;
    assert_eq!(shown(&only_active), ["active one"]);
    assert!(only_active.contains(r#"<a href="/active" class="selected" aria-current="page">"#));
    let only_completed = page("/completed").await;
    assert_eq!(shown(&only_completed), ["done one"]);
    // The counter and the app's data are the whole list's, whatever the filter.
    assert!(only_completed.contains("<strong>1</strong> item left"));
    assert!(
        only_completed.contains("&quot;active one&quot;")
            || only_completed.contains("\"active one\"")
    );

    let editing = app
        .get_text(&format!("/active?edit={}", active["id"]))
        .await;
    assert!(editing.contains(r#"class="editing""#));
    assert!(
        editing.contains(&format!(
            r#"value="active one" maxlength="{MAX_TITLE_CHARS}" aria-label="Edit “active one”" autofocus"#
        )),
        "{editing}"
    );
    assert!(editing.contains(r#"<a class="cancel-edit" href="/active">Cancel</a>"#));
    // Only one field takes the focus.
    assert_eq!(editing.matches(" autofocus").count(), 1);
}

on_both_engines!(
    every_action_is_done_and_goes_back_to_the_page,
    refused_input_shows_the_page_again_with_the_text_kept,
    a_stale_form_changes_nothing_and_shows_the_todo_as_it_is,
    forms_from_another_site_are_refused_and_without_a_session_go_to_sign_in,
    filters_and_the_edit_view_are_rendered_by_the_server,
);
