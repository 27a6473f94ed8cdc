//! The page at `/`, rendered on the server, and the files it links to.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends, spawn_app};

async fn page(app: &TestApp) -> String {
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    // One user's page: no shared cache keeps it, and a cache that does keys it by the cookie.
    assert_eq!(response.headers()["cache-control"], "private, no-cache");
    assert!(
        response.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Cookie"),
        "{:?}",
        response.headers()["vary"]
    );
    response.text().await.unwrap()
}

/// The JSON carried in the page's data block, parsed as the front-end would.
fn embedded_todos(html: &str) -> Value {
    let start_tag = r#"<script type="application/json" id="todos-data" data-change=""#;
    let start = html.find(start_tag).expect("data block") + start_tag.len();
    let start = start + html[start..].find('>').expect("end of the start tag") + 1;
    let end = start + html[start..].find("</script>").expect("end of data block");
    serde_json::from_str(&html[start..end]).expect("data block is JSON")
}

/// The rendered list: what is inside `<ul class="todo-list">`.
fn the_list(html: &str) -> &str {
    let start = html.find(r#"<ul class="todo-list">"#).expect("the list");
    let end = start + html[start..].find("</ul>").expect("the end of the list");
    &html[start..end]
}

async fn empty_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let html = page(&app).await;
    assert!(html.contains("<h1>todos</h1>"));
    assert!(html.contains(
        r#"<input id="new-todo" class="new-todo" name="title" placeholder="What needs to be done?""#
    ));
    assert!(html.contains(r#"<form class="new-todo-form" method="post" action="/add">"#));
    // No todos: the list and the footer are hidden.
    assert!(html.contains(r#"<div class="main" hidden>"#));
    assert!(html.contains(r#"<footer class="footer" hidden>"#));
    assert!(!the_list(&html).contains("<li data-id"));
    // The one item template, for the app to clone.
    assert!(html.contains(r#"<template id="todo-template">"#));
    assert_eq!(html.matches(r#"<li data-id="__ID__">"#).count(), 1);
    assert_eq!(embedded_todos(&html), json!([]));
}

async fn lists_the_todos_with_counter_and_state(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.create(json!({"title": "write tests"})).await;
    let second = app
        .create(json!({"title": "ship it", "completed": true}))
        .await;
    let html = page(&app).await;
    assert!(html.contains("<label>write tests</label>"));
    assert!(html.contains("<label>ship it</label>"));
    assert!(html.contains(&format!(r#"<li data-id="{}">"#, first["id"])));
    assert!(html.contains(&format!(
        r#"<li data-id="{}" class="completed">"#,
        second["id"]
    )));
    assert!(html.contains(&format!(
        r#"<button class="toggle" type="submit" form="toggle-{}" role="checkbox" aria-checked="true" aria-label="Mark “ship it” as complete">"#,
        second["id"]
    )));
    assert!(html.contains(&format!(
        r#"<form id="toggle-{}" class="toggle-form" method="post" action="/todos/{}/toggle" hidden>"#,
        second["id"], second["id"]
    )));
    assert!(html.contains(r#"<div class="main">"#));
    assert!(html.contains(r#"<footer class="footer">"#));
    assert!(html.contains("<strong>1</strong> item left"));
    assert!(
        html.contains(r#"<button class="clear-completed" type="submit">Clear completed</button>"#)
    );
    assert!(html.contains(
        r#"<button id="toggle-all" class="toggle-all" type="submit" form="toggle-all-form" role="checkbox" aria-checked="false">"#
    ));
    assert_eq!(embedded_todos(&html), json!([first, second]));

    app.create(json!({"title": "more"})).await;
    assert!(page(&app).await.contains("<strong>2</strong> items left"));
}

async fn counter_toggle_all_and_clear_completed_follow_the_state(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "a"})).await;
    let html = page(&app).await;
    assert!(html.contains("<strong>1</strong> item left"));
    assert!(html.contains(r#"<button class="clear-completed" type="submit" hidden>"#));

    let todo = app.create(json!({"title": "b", "completed": true})).await;
    app.client
        .delete(app.url("/todos/?completed=false"))
        .send()
        .await
        .unwrap();
    let html = page(&app).await;
    assert!(html.contains("<strong>0</strong> items left"));
    assert!(html.contains(
        r#"<button id="toggle-all" class="toggle-all" type="submit" form="toggle-all-form" role="checkbox" aria-checked="true">"#
    ));
    assert_eq!(embedded_todos(&html), json!([todo]));
}

async fn titles_are_escaped_in_html_and_cannot_leave_the_data_block(backend: Backend) {
    let app = spawn_app(backend).await;
    let hostile = r#"</script><script>alert("x")</script><!-- & <b>bold</b>"#;
    let todo = app.create(json!({"title": hostile})).await;
    let html = page(&app).await;
    assert!(
        !html.contains("<script>alert"),
        "raw markup reached the page"
    );
    assert!(!html.contains("<b>bold</b>"));
    assert!(
        html.contains("&#60;b&#62;bold&#60;/b&#62;"),
        "title shown as text"
    );
    // The title opened and closed no element: every </script> closes one of the page's own
    // scripts, and the data block still carries the exact title.
    assert_eq!(
        html.matches("</script>").count(),
        html.matches("<script ").count()
    );
    assert_eq!(embedded_todos(&html), json!([todo]));
}

async fn head_request_for_the_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.client.head(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

/// Every stylesheet and script the page links to, as the page names them.
fn linked_assets(html: &str) -> Vec<String> {
    html.split('"')
        .filter(|part| part.starts_with("/static/"))
        .map(str::to_owned)
        .collect()
}

async fn every_linked_asset_is_served_with_its_type_and_cache_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let assets = linked_assets(&page(&app).await);
    assert!(assets.len() >= 8, "{assets:?}");
    for asset in assets {
        let response = app.client.get(app.url(&asset)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        let headers = response.headers().clone();
        let content_type = headers["content-type"].to_str().unwrap();
        let expected = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            content_type.starts_with(expected),
            "{asset}: {content_type}"
        );
        let cache = headers["cache-control"].to_str().unwrap();
        if asset.starts_with("/static/vendor/") {
            assert_eq!(cache, "public, max-age=31536000, immutable", "{asset}");
        } else {
            assert_eq!(cache, "no-cache", "{asset}");
        }
        assert!(headers.contains_key("last-modified"), "{asset}");

        // Revalidating with the ETag costs no body.
        let again = app
            .client
            .get(app.url(&asset))
            .header("if-none-match", headers["etag"].clone())
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{asset}");
    }
}

async fn vendor_files_keep_their_licence_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    for (asset, licence) in [
        ("/static/vendor/backbone-1.6.1/backbone.js", "MIT license"),
        (
            "/static/vendor/underscore-1.13.8/underscore-umd.js",
            "MIT license",
        ),
        (
            "/static/vendor/jquery-4.0.0/jquery.min.js",
            "jquery.com/license",
        ),
    ] {
        let body = app.get_text(asset).await;
        let head: String = body.chars().take(2000).collect();
        assert!(head.contains(licence), "{asset}");
    }
}

on_both_backends!(
    empty_page,
    lists_the_todos_with_counter_and_state,
    counter_toggle_all_and_clear_completed_follow_the_state,
    titles_are_escaped_in_html_and_cannot_leave_the_data_block,
    head_request_for_the_page,
    every_linked_asset_is_served_with_its_type_and_cache_policy,
    vendor_files_keep_their_licence_headers,
);
