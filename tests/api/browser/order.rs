//! Order and undo in Chromium: dragging with pointer events, Alt+Arrow keys with their
//! announcement, the move buttons without JavaScript, two tabs moving at once, and undo (its
//! button, Ctrl+Z, offline, without JavaScript, and refused over someone else's change).

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use serde_json::{Value, json};

use super::accessible::{assert_accessible, focused, press};
use crate::helpers::{Backend, Browser, CuttableProxy, eventually, page_with, spawn_app, wait_for};

const ALT_UP: &str = "\u{E00A}\u{E013}\u{E00A}";
const ALT_DOWN: &str = "\u{E00A}\u{E015}\u{E00A}";
const CTRL_Z: &str = "\u{E009}z\u{E009}";

fn todos(titles: &[&str]) -> Vec<Value> {
    titles
        .iter()
        .map(|title| json!({ "title": title }))
        .collect()
}

/// The titles in the server's order.
async fn server_order(app: &crate::helpers::TestApp) -> Vec<String> {
    app.list()
        .await
        .into_iter()
        .map(|todo| todo.title)
        .collect()
}

async fn undo_message(b: &Browser) -> String {
    b.run("return document.querySelector('.undo-bar.shown .undo-message')?.textContent || '';")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn announced(b: &Browser) -> String {
    b.run("return document.querySelector('.announcer').textContent;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn click_undo(b: &Browser) {
    let button = b.find(".undo-bar .undo-button").await;
    b.pointer(&button, 1).await;
}

#[tokio::test]
async fn dragging_the_third_todo_above_the_first_is_saved_and_seen_in_another_tab() {
    let Some((app, b)) = page_with("drag", &todos(&["first", "second", "third"])).await else {
        return;
    };
    let Some(other) = Browser::open(&app, "drag_other").await else {
        return;
    };
    let third = b
        .item("third")
        .await
        .find(Locator::Css("label"))
        .await
        .unwrap();
    let first = b
        .item("first")
        .await
        .find(Locator::Css("label"))
        .await
        .unwrap();
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: third,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(100)),
            x: 0.0,
            y: -20.0,
        })
        .then(PointerAction::MoveToElement {
            element: first,
            duration: Some(Duration::from_millis(200)),
            x: 0.0,
            y: -15.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(drag).await.expect("drag");
    b.client.release_actions().await.expect("release");

    let expected = json!(["third", "first", "second"]);
    eventually!(
        b.state().await["visible"] == expected,
        "{}",
        b.state().await
    );
    eventually!(
        b.state().await["pending"] == json!([]),
        "the move was never saved"
    );
    assert_eq!(server_order(&app).await, ["third", "first", "second"]);
    wait_for!(
        1000,
        other.state().await["visible"] == expected,
        "the other tab did not follow within 1 s: {}",
        other.state().await
    );
    b.reload().await;
    assert_eq!(b.state().await["visible"], expected);
    b.close().await;
    other.close().await;
}

#[tokio::test]
async fn alt_arrows_move_a_todo_keep_the_focus_and_say_where_it_went() {
    let Some((app, b)) = page_with("alt_arrows", &todos(&["Buy milk", "Walk", "Read"])).await
    else {
        return;
    };
    b.run(
        "[...document.querySelectorAll('.todo-list li')].find((li) => \
           li.querySelector('label').textContent === 'Walk').querySelector('.toggle').focus();",
    )
    .await;
    press(&b, ALT_UP).await;
    eventually!(
        b.state().await["visible"] == json!(["Walk", "Buy milk", "Read"]),
        "{}",
        b.state().await
    );
    assert_eq!(
        focused(&b).await,
        "Mark “Walk” as complete",
        "the focus stays on it"
    );
    eventually!(
        announced(&b)
            .await
            .contains("“Walk” moved to position 1 of 3"),
        "announced: {:?}",
        announced(&b).await
    );
    // From its Edit button, down twice; at the bottom, down does nothing.
    b.run(
        "[...document.querySelectorAll('.todo-list li')].find((li) => \
           li.querySelector('label').textContent === 'Walk').querySelector('.edit-link').focus();",
    )
    .await;
    press(&b, ALT_DOWN).await;
    press(&b, ALT_DOWN).await;
    press(&b, ALT_DOWN).await;
    eventually!(
        b.state().await["visible"] == json!(["Buy milk", "Read", "Walk"]),
        "{}",
        b.state().await
    );
    assert_eq!(focused(&b).await, "Edit “Walk”");
    eventually!(b.state().await["pending"] == json!([]), "never saved");
    assert_eq!(server_order(&app).await, ["Buy milk", "Read", "Walk"]);
    b.close().await;
}

#[tokio::test]
async fn the_move_buttons_work_without_javascript() {
    let app = spawn_app(Backend::Sqlite).await;
    for todo in todos(&["a", "b", "c"]) {
        app.create(todo).await;
    }
    let Some(b) = Browser::open_with(&app, "move_no_js", false).await else {
        return;
    };
    let button = b.find(r#"button[aria-label="Move “c” up"]"#).await;
    button.click().await.expect("click");
    eventually!(
        b.state().await["visible"] == json!(["a", "c", "b"]),
        "{}",
        b.state().await
    );
    assert_eq!(server_order(&app).await, ["a", "c", "b"]);
    assert!(
        undo_message(&b)
            .await
            .contains("Moved “c” to position 2 of 3.")
    );
    // The top todo has no "up" button a person can reach.
    assert!(
        b.client
            .find(Locator::Css(
                r#"button[aria-label="Move “a” up"]:not([hidden])"#
            ))
            .await
            .is_err()
    );
    b.close().await;
}

#[tokio::test]
async fn two_tabs_moving_at_once_converge() {
    let Some((app, one)) = page_with("converge", &todos(&["a", "b", "c", "d", "e"])).await else {
        return;
    };
    let Some(two) = Browser::open(&app, "converge_two").await else {
        return;
    };
    let focus = |title: &str| {
        format!(
            "[...document.querySelectorAll('.todo-list li')].find((li) => \
               li.querySelector('label').textContent === '{title}').querySelector('.toggle').focus();"
        )
    };
    one.run(&focus("e")).await;
    two.run(&focus("a")).await;
    for _ in 0..3 {
        tokio::join!(press(&one, ALT_UP), press(&two, ALT_DOWN));
    }
    eventually!(
        one.state().await["pending"] == json!([]) && two.state().await["pending"] == json!([]),
        "never saved"
    );
    let server = json!(server_order(&app).await);
    wait_for!(
        2000,
        one.state().await["visible"] == server && two.state().await["visible"] == server,
        "the tabs did not meet the server's {server}: {} / {}",
        one.state().await["visible"],
        two.state().await["visible"]
    );
    let mut sorted: Vec<String> = serde_json::from_value(server).unwrap();
    sorted.sort();
    assert_eq!(sorted, ["a", "b", "c", "d", "e"], "none lost or doubled");
    one.close().await;
    two.close().await;
}

#[tokio::test]
async fn a_delete_is_undone_with_the_same_id_and_the_page_stays_accessible() {
    let Some((app, b)) = page_with("undo_delete", &todos(&["keep", "Buy milk", "last"])).await
    else {
        return;
    };
    let id = app.rows()[1].id;
    b.delete("Buy milk").await;
    eventually!(
        undo_message(&b).await == "Deleted “Buy milk”.",
        "no undo offered: {:?}",
        undo_message(&b).await
    );
    eventually!(app.rows().len() == 2, "never deleted");
    assert_accessible(&b, "the undo message and the move buttons").await;
    click_undo(&b).await;
    eventually!(
        b.state().await["visible"] == json!(["keep", "Buy milk", "last"]),
        "{}",
        b.state().await
    );
    eventually!(app.rows().len() == 3, "never restored");
    assert!(
        app.rows()
            .iter()
            .any(|row| row.id == id && row.title == "Buy milk"),
        "the same id"
    );
    assert_eq!(undo_message(&b).await, "", "the message goes with its undo");
    b.close().await;
}

#[tokio::test]
async fn clear_completed_of_three_is_undone_together() {
    let Some((app, b)) = page_with(
        "undo_clear",
        &[
            json!({"title": "a", "completed": true}),
            json!({"title": "b"}),
            json!({"title": "c", "completed": true}),
            json!({"title": "d", "completed": true}),
        ],
    )
    .await
    else {
        return;
    };
    let ids: Vec<i32> = app.rows().iter().map(|row| row.id).collect();
    let clear = b.find(".clear-completed").await;
    b.pointer(&clear, 1).await;
    eventually!(app.rows().len() == 1, "never cleared");
    assert_eq!(undo_message(&b).await, "Cleared 3 completed todos.");
    click_undo(&b).await;
    eventually!(app.rows().len() == 4, "never restored: {:?}", app.rows());
    let back: Vec<(i32, bool)> = app
        .rows()
        .iter()
        .map(|row| (row.id, row.completed))
        .collect();
    assert_eq!(
        back,
        [
            (ids[0], true),
            (ids[1], false),
            (ids[2], true),
            (ids[3], true)
        ]
    );
    eventually!(
        b.state().await["visible"] == json!(["a", "b", "c", "d"]),
        "{}",
        b.state().await
    );
    b.close().await;
}

#[tokio::test]
async fn toggle_all_is_undone_with_ctrl_z() {
    let Some((app, b)) = page_with(
        "undo_ctrl_z",
        &[
            json!({"title": "a", "completed": true}),
            json!({"title": "b"}),
            json!({"title": "c"}),
        ],
    )
    .await
    else {
        return;
    };
    b.find(".toggle-all-label")
        .await
        .click()
        .await
        .expect("click");
    eventually!(
        app.rows().iter().all(|row| row.completed),
        "never all completed"
    );
    assert_eq!(undo_message(&b).await, "Marked 2 todos complete.");
    press(&b, CTRL_Z).await;
    eventually!(
        app.rows()
            .iter()
            .map(|row| row.completed)
            .collect::<Vec<_>>()
            == [true, false, false],
        "Ctrl+Z did not undo: {:?}",
        app.rows()
    );
    eventually!(
        b.state().await["completed"] == json!(["a"]),
        "{}",
        b.state().await
    );
    // In a text field Ctrl+Z is the field's own.
    let field = b.find(".new-todo").await;
    field.send_keys(&format!("typed{CTRL_Z}")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.rows().iter().filter(|row| row.completed).count(), 1);
    b.close().await;
}

#[tokio::test]
async fn an_undo_made_offline_is_sent_once() {
    let app = spawn_app(Backend::Sqlite).await;
    for todo in todos(&["keep", "Buy milk"]) {
        app.create(todo).await;
    }
    let id = app.rows()[1].id;
    let proxy = CuttableProxy::start(&app.address).await;
    let Some(b) = Browser::open_at(&app, "undo_offline", &proxy.address).await else {
        return;
    };
    b.kept_for_offline().await;
    b.delete("Buy milk").await;
    eventually!(app.rows().len() == 1, "never deleted");
    proxy.cut();
    click_undo(&b).await;
    eventually!(
        b.state().await["visible"] == json!(["keep", "Buy milk"]),
        "{}",
        b.state().await
    );
    assert_eq!(b.state().await["pending"], json!(["Buy milk"]));
    assert_eq!(app.rows().len(), 1, "nothing reached the server");
    proxy.restore();
    eventually!(app.rows().len() == 2, "never sent");
    eventually!(b.state().await["pending"] == json!([]), "never saved");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows = app.rows();
    assert_eq!(rows.len(), 2, "once: {rows:?}");
    assert_eq!(rows[1].id, id);
    b.close().await;
}

#[tokio::test]
async fn a_delete_is_undone_without_javascript() {
    let app = spawn_app(Backend::Sqlite).await;
    for todo in todos(&["keep", "Buy milk"]) {
        app.create(todo).await;
    }
    let id = app.rows()[1].id;
    let Some(b) = Browser::open_with(&app, "undo_no_js", false).await else {
        return;
    };
    let destroy = b.find(r#"button[aria-label="Delete “Buy milk”"]"#).await;
    destroy.click().await.expect("click");
    eventually!(app.rows().len() == 1, "never deleted");
    eventually!(
        undo_message(&b).await == "Deleted “Buy milk”.",
        "no undo: {:?}",
        undo_message(&b).await
    );
    b.find(".undo-button").await.click().await.expect("click");
    eventually!(app.rows().len() == 2, "never restored");
    assert_eq!(app.rows()[1].id, id);
    eventually!(
        b.state().await["visible"] == json!(["keep", "Buy milk"]),
        "{}",
        b.state().await
    );
    // Offered once: a reload shows no undo.
    b.reload().await;
    assert_eq!(undo_message(&b).await, "");
    b.close().await;
}

#[tokio::test]
async fn an_undo_is_refused_after_someone_else_edited_the_todo() {
    let Some((app, b)) = page_with("undo_refused", &todos(&["Buy milk"])).await else {
        return;
    };
    b.toggle("Buy milk").await;
    eventually!(app.rows()[0].completed, "never toggled");
    let id = app.rows()[0].id;
    let response = app
        .client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "Buy oat milk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    eventually!(
        b.state().await["visible"] == json!(["Buy oat milk"]),
        "the rename never arrived"
    );
    press(&b, CTRL_Z).await;
    eventually!(
        b.state().await["error"].as_str().is_some_and(
            |error| error.contains("was changed elsewhere since, so nothing was undone")
        ),
        "{}",
        b.state().await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.rows()[0].completed, "not forced");
    assert_eq!(app.rows()[0].title, "Buy oat milk");
    b.close().await;
}
