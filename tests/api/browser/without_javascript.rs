//! The TodoMVC spec's behaviours with JavaScript switched off: every action through the page's
//! forms, each result checked against `GET /todos/` and again after a reload.

use fantoccini::Locator;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::helpers::{Browser, ENTER, SELECT_ALL_AND_DELETE, eventually};

/// What the server holds, as (title, completed), in list order.
async fn server(app: &TestApp) -> Value {
    let list = app.get_json("/todos/").await;
    Value::Array(
        list.as_array()
            .unwrap()
            .iter()
            .map(|todo| json!([todo["title"], todo["completed"]]))
            .collect(),
    )
}

/// What the page shows, as (title, completed), in order.
async fn shown(b: &Browser) -> Value {
    b.run(
        "return [...document.querySelectorAll('.todo-list li')]
           .map((li) => [li.querySelector('label').textContent,
                         li.classList.contains('completed')]);",
    )
    .await
}

/// The page and the server agree, now and after a reload.
async fn agrees(b: &Browser, app: &TestApp, expected: Value) {
    assert_eq!(server(app).await, expected, "the server");
    assert_eq!(shown(b).await, expected, "the page");
    b.reload().await;
    assert_eq!(shown(b).await, expected, "the page after a reload");
}

/// Marks the document, so that `next_page` can tell when another one has loaded.
async fn mark(b: &Browser) {
    b.run("window.beforeThisAction = true").await;
}

/// Waits until the form's answer (the page it redirects to, or the page again) has loaded.
async fn next_page(b: &Browser) {
    eventually!(
        b.run("return !window.beforeThisAction && document.readyState === 'complete'")
            .await
            == json!(true),
        "no new page after the form was sent"
    );
}

async fn type_new(b: &Browser, text: &str) {
    mark(b).await;
    b.find(".new-todo")
        .await
        .send_keys(&format!("{text}{ENTER}"))
        .await
        .expect("typing");
    next_page(b).await;
}

/// Clicks a control of the todo titled `title` (Edit and Delete show when the pointer is on it),
/// and waits for the page it leads to.
async fn click_in(b: &Browser, title: &str, css: &str) {
    let li = b.item(title).await;
    b.pointer(&li, 0).await;
    let control = li.find(Locator::Css(css)).await.expect("a control");
    mark(b).await;
    b.pointer(&control, 1).await;
    next_page(b).await;
}

/// Clicks the element `css` and waits for the page it leads to.
async fn click(b: &Browser, css: &str) {
    mark(b).await;
    b.find(css).await.click().await.expect("a click");
    next_page(b).await;
}

/// Types into the edit view's field and waits for the answer.
async fn type_edit(b: &Browser, keys: &str) {
    mark(b).await;
    b.find(".editing .edit")
        .await
        .send_keys(keys)
        .await
        .unwrap();
    next_page(b).await;
}

#[tokio::test]
#[allow(clippy::too_many_lines, reason = "one user journey, step by step")]
async fn the_whole_spec_works_through_the_forms() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(b) = Browser::open_with(&app, "no_js_spec", false).await else {
        return;
    };
    assert_eq!(
        b.run("return !!window.app").await,
        false,
        "JavaScript is off"
    );

    // Add, with the title trimmed; an empty one is refused next to the field.
    type_new(&b, "  Buy milk  ").await;
    type_new(&b, "Walk the dog").await;
    type_new(&b, "Write the report").await;
    agrees(
        &b,
        &app,
        json!([
            ["Buy milk", false],
            ["Walk the dog", false],
            ["Write the report", false]
        ]),
    )
    .await;
    type_new(&b, "   ").await;
    assert_eq!(
        b.find("#new-todo-error").await.text().await.unwrap(),
        "Title must not be empty."
    );
    assert_eq!(app.rows().len(), 3);
    assert_eq!(
        b.run("return document.activeElement.id").await,
        "new-todo",
        "the field keeps the focus"
    );

    // Toggle one.
    click_in(&b, "Walk the dog", ".toggle").await;
    agrees(
        &b,
        &app,
        json!([
            ["Buy milk", false],
            ["Walk the dog", true],
            ["Write the report", false]
        ]),
    )
    .await;

    // Edit: the edit view focuses the field; Enter saves.
    click_in(&b, "Buy milk", ".edit-link").await;
    assert!(b.current_path().await.starts_with("/?edit="));
    assert_eq!(
        b.run("return document.activeElement.className").await,
        "edit"
    );
    type_edit(
        &b,
        &format!("{SELECT_ALL_AND_DELETE}  Buy oat milk {ENTER}"),
    )
    .await;
    agrees(
        &b,
        &app,
        json!([
            ["Buy oat milk", false],
            ["Walk the dog", true],
            ["Write the report", false]
        ]),
    )
    .await;

    // Cancel leaves it as it was.
    click_in(&b, "Buy oat milk", ".edit-link").await;
    b.find(".editing .edit")
        .await
        .send_keys(" nope")
        .await
        .unwrap();
    click(&b, ".cancel-edit").await;
    assert_eq!(b.current_path().await, "/");
    assert_eq!(server(&app).await[0], json!(["Buy oat milk", false]));

    // Toggle all, twice.
    click(&b, ".toggle-all-label").await;
    agrees(
        &b,
        &app,
        json!([
            ["Buy oat milk", true],
            ["Walk the dog", true],
            ["Write the report", true]
        ]),
    )
    .await;
    click(&b, ".toggle-all-label").await;
    agrees(
        &b,
        &app,
        json!([
            ["Buy oat milk", false],
            ["Walk the dog", false],
            ["Write the report", false]
        ]),
    )
    .await;
    click_in(&b, "Walk the dog", ".toggle").await;

    // Filters are links: the server renders only what each shows, with the link marked.
    click(&b, r#".filters a[href="/active"]"#).await;
    assert_eq!(b.current_path().await, "/active");
    assert_eq!(
        shown(&b).await,
        json!([["Buy oat milk", false], ["Write the report", false]])
    );
    assert_eq!(
        b.find(".filters a.selected").await.text().await.unwrap(),
        "Active"
    );
    // A form posted from a filtered view comes back to it.
    click_in(&b, "Write the report", ".toggle").await;
    assert_eq!(b.current_path().await, "/active");
    assert_eq!(shown(&b).await, json!([["Buy oat milk", false]]));
    click(&b, r#".filters a[href="/completed"]"#).await;
    assert_eq!(
        shown(&b).await,
        json!([["Walk the dog", true], ["Write the report", true]])
    );
    click(&b, r#".filters a[href="/"]"#).await;
    assert_eq!(shown(&b).await.as_array().unwrap().len(), 3);

    // An empty title on edit deletes the todo.
    click_in(&b, "Write the report", ".edit-link").await;
    type_edit(&b, &format!("{SELECT_ALL_AND_DELETE}{ENTER}")).await;
    agrees(
        &b,
        &app,
        json!([["Buy oat milk", false], ["Walk the dog", true]]),
    )
    .await;

    // Delete.
    click_in(&b, "Buy oat milk", ".destroy").await;
    agrees(&b, &app, json!([["Walk the dog", true]])).await;

    // Clear completed; the empty list hides the main section and the footer.
    type_new(&b, "Keep this").await;
    click(&b, ".clear-completed").await;
    agrees(&b, &app, json!([["Keep this", false]])).await;
    click_in(&b, "Keep this", ".destroy").await;
    agrees(&b, &app, json!([])).await;
    let state = b.state().await;
    assert_eq!(
        (state["main"].clone(), state["footer"].clone()),
        (json!(false), json!(false))
    );
    b.close().await;
}
