//! The page at `/`, rendered on the server.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

async fn page(app: &crate::helpers::TestApp) -> String {
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(response.headers()["cache-control"], "no-cache");
    response.text().await.unwrap()
}

/// The JSON carried in the page's data block, parsed as the front-end would.
fn embedded_todos(html: &str) -> Value {
    let start_tag = r#"<script type="application/json" id="todos-data">"#;
    let start = html.find(start_tag).expect("data block") + start_tag.len();
    let end = start + html[start..].find("</script>").expect("end of data block");
    serde_json::from_str(&html[start..end]).expect("data block is JSON")
}

#[tokio::test]
async fn empty_page() {
    let app = spawn_app().await;
    let html = page(&app).await;
    assert!(html.contains("<h1>todos</h1>"));
    assert!(!html.contains("todo-list"));
    assert_eq!(embedded_todos(&html), json!([]));
}

#[tokio::test]
async fn lists_the_todos_with_counter_and_state() {
    let app = spawn_app().await;
    let first = app.create(json!({"title": "write tests"})).await;
    let second = app
        .create(json!({"title": "ship it", "completed": true}))
        .await;
    let html = page(&app).await;
    assert!(html.contains("<label>write tests</label>"));
    assert!(html.contains("<label>ship it</label>"));
    assert!(html.contains(&format!(
        r#"<li data-id="{}" class="completed">"#,
        second["id"]
    )));
    assert!(html.contains("<strong>1</strong> item left"));
    assert_eq!(embedded_todos(&html), json!([first, second]));

    app.create(json!({"title": "more"})).await;
    assert!(page(&app).await.contains("<strong>2</strong> items left"));
}

#[tokio::test]
async fn titles_are_escaped_in_html_and_cannot_leave_the_data_block() {
    let app = spawn_app().await;
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
    // The data block is closed by its own tag only, and still carries the exact title.
    assert_eq!(html.matches("</script>").count(), 1);
    assert_eq!(embedded_todos(&html), json!([todo]));
}

#[tokio::test]
async fn head_request_for_the_page() {
    let app = spawn_app().await;
    let response = app.client.head(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn stylesheet_is_served_with_validators() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/static/css/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(response.headers().contains_key("etag"));
    assert!(response.headers().contains_key("last-modified"));
}
