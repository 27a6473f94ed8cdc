//! The TodoMVC page in real headless Chromium, driven over WebDriver against the real server.
//!
//! Needs Debian's `chromium` and `chromium-driver` (or CHROMIUM / CHROMEDRIVER naming the binaries).
//! Without them these tests skip with a message, except under CI=true, where they fail. The
//! harness is `helpers::browser`, the cuttable proxy `helpers::proxy`.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, Browser, CuttableProxy, ENTER, ESCAPE, SELECT_ALL_AND_DELETE, eventually, page_with,
    spawn_app, wait_for,
};

fn titles(rows: &[crate::helpers::Row]) -> Vec<&str> {
    rows.iter().map(|row| row.title.as_str()).collect()
}

#[tokio::test]
async fn new_todo_on_enter_trimmed_and_saved() {
    let Some((app, browser)) = page_with("new_todo_on_enter", &[]).await else {
        return;
    };
    let state = browser.state().await;
    assert_eq!(state["focused"], "new-todo", "the input has focus on load");
    assert_eq!(
        (state["main"].clone(), state["footer"].clone()),
        (json!(false), json!(false))
    );

    browser.add("  Buy milk  ").await;
    let state = browser.state().await;
    assert_eq!(state["visible"], json!(["Buy milk"]));
    assert_eq!(state["newTodo"], "", "input cleared");
    assert_eq!(
        (state["main"].clone(), state["footer"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(titles(&app.rows()), ["Buy milk"]);

    // Blank input: nothing is sent or shown.
    let input = browser.find(".new-todo").await;
    input.send_keys(&format!("   {ENTER}")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(browser.state().await["visible"], json!(["Buy milk"]));
    assert_eq!(app.rows().len(), 1);

    browser.add("Walk the dog").await;
    assert_eq!(
        browser.state().await["visible"],
        json!(["Buy milk", "Walk the dog"])
    );
    assert_eq!(titles(&app.rows()), ["Buy milk", "Walk the dog"]);
    browser.close().await;
}

#[tokio::test]
async fn toggle_one_and_the_counter() {
    let Some((app, browser)) = page_with("toggle_one", &[]).await else {
        return;
    };
    assert_eq!(browser.state().await["footer"], false);
    browser.add("one").await;
    assert_eq!(
        browser.state().await["count"],
        "<strong>1</strong> item left"
    );
    browser.add("two").await;
    let state = browser.state().await;
    assert_eq!(state["count"], "<strong>2</strong> items left");
    assert_eq!(state["clearCompleted"], false);

    browser.toggle("one").await;
    eventually!(app.rows()[0].completed, "toggle not saved");
    let state = browser.state().await;
    assert_eq!(state["completed"], json!(["one"]));
    assert_eq!(state["count"], "<strong>1</strong> item left");
    assert_eq!(state["clearCompleted"], true);

    browser.toggle("two").await;
    eventually!(app.rows()[1].completed, "toggle not saved");
    assert_eq!(
        browser.state().await["count"],
        "<strong>0</strong> items left"
    );

    // Each save redraws the item, so find the checkbox again.
    browser.toggle("two").await;
    eventually!(!app.rows()[1].completed, "untoggle not saved");
    assert_eq!(browser.state().await["completed"], json!(["one"]));
    browser.close().await;
}

#[tokio::test]
async fn toggle_all_and_its_checkbox_tracks_the_state() {
    let app = spawn_app(Backend::Sqlite).await;
    for title in ["a", "b", "c"] {
        app.create(json!({"title": title})).await;
    }
    let Some(browser) = Browser::open(&app, "toggle_all").await else {
        return;
    };
    assert_eq!(browser.state().await["toggleAll"], false);
    let label = browser.find(".toggle-all + label").await;
    label.click().await.unwrap();
    eventually!(
        app.rows().iter().all(|row| row.completed),
        "not all completed"
    );
    let state = browser.state().await;
    assert_eq!(state["completed"], json!(["a", "b", "c"]));
    assert_eq!(state["toggleAll"], true);
    assert_eq!(state["count"], "<strong>0</strong> items left");

    // Un-completing one clears the checkbox; toggling all again completes just that one.
    browser.toggle("b").await;
    eventually!(
        browser.state().await["toggleAll"] == false,
        "checkbox stayed checked"
    );
    eventually!(!app.rows()[1].completed, "b not saved as active");
    label.click().await.unwrap();
    eventually!(
        app.rows().iter().all(|row| row.completed),
        "b not completed again"
    );
    assert_eq!(browser.state().await["toggleAll"], true);

    label.click().await.unwrap();
    eventually!(
        app.rows().iter().all(|row| !row.completed),
        "not all active"
    );
    assert_eq!(browser.state().await["completed"], json!([]));
    browser.close().await;
}

#[tokio::test]
async fn edit_saves_on_enter_and_blur_and_escape_cancels() {
    let Some((app, browser)) = page_with(
        "edit",
        &[json!({"title": "first"}), json!({"title": "second"})],
    )
    .await
    else {
        return;
    };

    let edit = browser.double_click_title("first").await;
    assert_eq!(edit.prop("value").await.unwrap().as_deref(), Some("first"));
    edit.send_keys(&format!("{SELECT_ALL_AND_DELETE}  renamed  {ENTER}"))
        .await
        .unwrap();
    eventually!(app.rows()[0].title == "renamed", "Enter did not save");
    let state = browser.state().await;
    assert_eq!(state["visible"], json!(["renamed", "second"]));
    assert_eq!(state["editing"], 0);

    // Blur saves.
    let edit = browser.double_click_title("second").await;
    edit.send_keys(" too").await.unwrap();
    browser.find(".new-todo").await.click().await.unwrap();
    eventually!(app.rows()[1].title == "second too", "blur did not save");
    assert_eq!(
        browser.state().await["visible"],
        json!(["renamed", "second too"])
    );

    // Escape cancels and restores the title; nothing is sent.
    let edit = browser.double_click_title("renamed").await;
    edit.send_keys(&format!(" not this{ESCAPE}")).await.unwrap();
    eventually!(
        browser.state().await["editing"] == 0,
        "Escape did not leave editing"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        browser.state().await["visible"],
        json!(["renamed", "second too"])
    );
    assert_eq!(app.rows()[0].title, "renamed");
    let edit = browser.double_click_title("renamed").await;
    assert_eq!(
        edit.prop("value").await.unwrap().as_deref(),
        Some("renamed")
    );
    edit.send_keys(ESCAPE).await.unwrap();

    // Emptying the title deletes the todo.
    let edit = browser.double_click_title("second too").await;
    edit.send_keys(&format!("{SELECT_ALL_AND_DELETE}   {ENTER}"))
        .await
        .unwrap();
    eventually!(app.rows().len() == 1, "empty title did not delete");
    assert_eq!(browser.state().await["visible"], json!(["renamed"]));
    browser.close().await;
}

#[tokio::test]
async fn destroy_button_and_last_todo_hides_main_and_footer() {
    let Some((app, browser)) = page_with("destroy", &[json!({"title": "doomed"})]).await else {
        return;
    };
    let li = browser.item("doomed").await;
    browser.pointer(&li, 0).await; // hover shows the button
    let destroy = li.find(Locator::Css(".destroy")).await.unwrap();
    browser.pointer(&destroy, 1).await;
    eventually!(app.rows().is_empty(), "not deleted on the server");
    let state = browser.state().await;
    assert_eq!(state["visible"], json!([]));
    assert_eq!(
        (state["main"].clone(), state["footer"].clone()),
        (json!(false), json!(false))
    );
    browser.close().await;
}

#[tokio::test]
async fn clear_completed_is_one_request() {
    let Some((app, browser)) = page_with(
        "clear_completed",
        &[
            json!({"title": "keep"}),
            json!({"title": "done 1", "completed": true}),
            json!({"title": "done 2", "completed": true}),
        ],
    )
    .await
    else {
        return;
    };
    assert_eq!(
        browser.xhr_requests().await,
        Vec::<String>::new(),
        "no fetch on load"
    );
    assert_eq!(browser.state().await["clearCompleted"], true);
    browser
        .find(".clear-completed")
        .await
        .click()
        .await
        .unwrap();
    eventually!(app.rows().len() == 1, "completed todos still on the server");
    assert_eq!(titles(&app.rows()), ["keep"]);
    eventually!(
        browser.state().await["visible"] == json!(["keep"]),
        "the page still shows the cleared todos"
    );
    assert_eq!(browser.state().await["clearCompleted"], false);
    let requests = browser.xhr_requests().await;
    assert_eq!(requests, [format!("{}/todos/?completed=true", app.address)]);
    browser.close().await;
}

#[tokio::test]
async fn routing_filters_and_they_survive_reload() {
    let Some((_app, browser)) = page_with(
        "routing",
        &[
            json!({"title": "active one"}),
            json!({"title": "done one", "completed": true}),
        ],
    )
    .await
    else {
        return;
    };
    assert_eq!(browser.state().await["selected"], json!(["All"]));

    browser
        .find(r#".filters a[href="/active"]"#)
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["visible"] == json!(["active one"]),
        "active filter"
    );
    assert_eq!(browser.state().await["selected"], json!(["Active"]));
    assert_eq!(browser.current_path().await, "/active");
    assert_eq!(
        browser
            .run("return performance.getEntriesByType('navigation').length")
            .await,
        json!(1),
        "the filter reloaded the page"
    );

    browser
        .find(r#".filters a[href="/completed"]"#)
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["visible"] == json!(["done one"]),
        "completed filter"
    );

    // A todo completed under the Active filter leaves the view.
    browser
        .find(r#".filters a[href="/active"]"#)
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["visible"] == json!(["active one"]),
        "active filter again"
    );
    browser.toggle("active one").await;
    eventually!(
        browser.state().await["visible"] == json!([]),
        "completed todo still shown"
    );

    // An old #/ link is taken to the same view at its path; the path survives a reload.
    browser.goto("/#/completed").await;
    eventually!(
        browser.current_path().await == "/completed",
        "the old link was not taken to /completed: {}",
        browser.current_path().await
    );
    browser.reload().await;
    let state = browser.state().await;
    assert_eq!(state["visible"], json!(["active one", "done one"]));
    assert_eq!(state["selected"], json!(["Completed"]));

    browser
        .find(r#".filters a[href="/"]"#)
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["selected"] == json!(["All"]),
        "all filter"
    );
    assert_eq!(browser.current_path().await, "/");
    browser.close().await;
}

#[tokio::test]
async fn reload_shows_what_the_server_holds_and_two_tabs_meet() {
    let Some((app, first)) = page_with("two_tabs", &[]).await else {
        return;
    };
    let Some(second) = Browser::open(&app, "two_tabs").await else {
        return;
    };
    first.add("from the first tab").await;
    second.add("from the second tab").await;
    first.reload().await;
    second.reload().await;
    let expected = json!(["from the first tab", "from the second tab"]);
    assert_eq!(first.state().await["visible"], expected);
    assert_eq!(second.state().await["visible"], expected);

    // A change made elsewhere (here through the API) shows after a reload.
    app.client
        .patch(app.url(&format!("/todos/{}", app.rows()[0].id)))
        .json(&json!({"completed": true}))
        .send()
        .await
        .unwrap();
    first.reload().await;
    assert_eq!(
        first.state().await["completed"],
        json!(["from the first tab"]),
        "{}",
        first.state().await
    );
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn a_failed_save_is_shown_and_the_view_resyncs() {
    let Some((app, browser)) = page_with(
        "failed_save",
        &[json!({"title": "stale"}), json!({"title": "fine"})],
    )
    .await
    else {
        return;
    };
    // The page is editing the todo when another client deletes it: the pushed deletion waits for
    // the edit, and the save that ends it is refused.
    let field = browser.double_click_title("stale").await;
    app.client
        .delete(app.url(&format!("/todos/{}", app.rows()[0].id)))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    field
        .send_keys(&format!("{SELECT_ALL_AND_DELETE}saved too late{ENTER}"))
        .await
        .unwrap();
    eventually!(!browser.state().await["error"].is_null(), "no error shown");
    let message = browser.state().await["error"].as_str().unwrap().to_owned();
    assert!(
        message.contains("not saved") && message.contains("no todo"),
        "{message}"
    );
    eventually!(
        browser.state().await["visible"] == json!(["fine"]),
        "view not resynced"
    );

    browser
        .find(".sync-error-dismiss")
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        browser.state().await["error"].is_null(),
        "error not dismissed"
    );

    // A title the server refuses is given back to the user with the reason.
    let input = browser.find(".new-todo").await;
    browser
        .run("document.querySelector('.new-todo').removeAttribute('maxlength')")
        .await;
    let long = "x".repeat(todomvc::models::MAX_TITLE_CHARS + 1);
    input.send_keys(&format!("{long}{ENTER}")).await.unwrap();
    eventually!(
        !browser.state().await["error"].is_null(),
        "no error for a long title"
    );
    let state = browser.state().await;
    assert!(
        state["error"]
            .as_str()
            .unwrap()
            .contains(&format!("{} characters", todomvc::models::MAX_TITLE_CHARS)),
        "{state}"
    );
    assert_eq!(state["newTodo"], long.as_str());
    assert_eq!(state["visible"], json!(["fine"]));
    assert_eq!(app.rows().len(), 1);
    browser.close().await;
}

#[tokio::test]
async fn markup_in_a_title_is_shown_as_text() {
    let Some((_app, browser)) = page_with("markup_title", &[]).await else {
        return;
    };
    let hostile = r#"<b>bold</b><img src=x onerror="document.title='owned'">"#;
    browser.add(hostile).await;
    for round in ["typed", "reloaded"] {
        let state = browser.state().await;
        assert_eq!(state["visible"], json!([hostile]), "{round}");
        let injected = browser
            .run("return document.querySelectorAll('.todo-list b, .todo-list img').length")
            .await;
        assert_eq!(injected, 0, "{round}");
        assert_ne!(
            browser.run("return document.title").await,
            "owned",
            "{round}"
        );
        browser.reload().await;
    }
    browser.close().await;
}

#[tokio::test]
async fn the_list_is_readable_with_javascript_off() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "read me"})).await;
    app.create(json!({"title": "done", "completed": true}))
        .await;
    let Some(browser) = Browser::open_with(&app, "javascript_off", false).await else {
        return;
    };
    let text = browser.find(".todoapp").await.text().await.unwrap();
    assert!(text.contains("read me") && text.contains("done"), "{text}");
    assert!(text.contains("1 item left"), "{text}");
    let completed = browser
        .find("li.completed label")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(completed, "done");
    browser.close().await;
}

/// Saves a picture of the page with a few todos; SCREENSHOT_PATH names where (docs/screenshot.png
/// in the README comes from `SCREENSHOT_PATH=docs/screenshot.png cargo test screenshot`).
#[tokio::test]
async fn screenshot() {
    let app = spawn_app(Backend::Sqlite).await;
    for (title, completed) in [
        ("Port the server to Rust", true),
        ("Keep every acknowledged write", false),
        ("Render the page on the server", true),
        ("Measure it against nginx", false),
    ] {
        app.create(json!({"title": title, "completed": completed}))
            .await;
    }
    let Some(browser) = Browser::open(&app, "screenshot").await else {
        return;
    };
    let png = browser.client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    if let Some(path) = std::env::var_os("SCREENSHOT_PATH") {
        std::fs::write(path, &png).unwrap();
    }
    browser.close().await;
}

#[tokio::test]
async fn two_tabs_editing_one_todo_cannot_overwrite_each_other() {
    let Some((app, first)) = page_with("two_tabs_editing", &[json!({"title": "shared"})]).await
    else {
        return;
    };
    let Some(second) = Browser::open(&app, "two_tabs_editing").await else {
        return;
    };

    // Both tabs start editing; the first saves.
    let second_edit = second.double_click_title("shared").await;
    let edit = first.double_click_title("shared").await;
    edit.send_keys(&format!("{SELECT_ALL_AND_DELETE}first tab wins{ENTER}"))
        .await
        .unwrap();
    eventually!(
        app.rows()[0].title == "first tab wins",
        "first edit not saved"
    );

    // The second tab was editing the old title (the pushed change waits for its edit) and saves
    // it: the server refuses, the tab shows both versions, and the user takes the saved one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let edit = second_edit;
    edit.send_keys(&format!("{SELECT_ALL_AND_DELETE}second tab loses{ENTER}"))
        .await
        .unwrap();
    eventually!(
        second.state().await["conflicts"]
            == json!([{"mine": "“second tab loses”, not completed",
                       "theirs": "“first tab wins”, not completed"}]),
        "no conflict in the second tab: {}",
        second.state().await
    );
    assert_eq!(app.rows()[0].title, "first tab wins");
    second
        .find(".conflict-take-theirs")
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        second.state().await["visible"] == json!(["first tab wins"]),
        "the second tab does not show the saved title"
    );
    assert_eq!(second.state().await["conflicts"], json!([]));
    assert_eq!(app.rows()[0].title, "first tab wins");

    // Quick successive edits in one tab never refuse each other.
    for _ in 0..3 {
        second.toggle("first tab wins").await;
    }
    eventually!(
        app.rows()[0].completed,
        "three toggles should leave it completed"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let state = second.state().await;
    assert_eq!(state["completed"], json!(["first tab wins"]));
    assert!(state["error"].is_null(), "an error appeared: {state}");
    assert_eq!(state["conflicts"], json!([]));
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn the_content_security_policy_blocks_injected_inline_script() {
    let Some((app, browser)) = page_with("csp", &[]).await else {
        return;
    };
    // As markup that found its way into the page would: an inline script element.
    browser
        .run(
            "const s = document.createElement('script');
             s.textContent = 'window.injected = true';
             document.body.appendChild(s);",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(browser.run("return window.injected === true").await, false);
    // The app's own scripts, all files, run under the same policy.
    browser.add("still works").await;
    assert_eq!(titles(&app.rows()), ["still works"]);
    browser.close().await;
}

#[tokio::test]
async fn each_user_sees_only_their_own_list() {
    let app = spawn_app(Backend::Sqlite).await;
    let Some(browser) = Browser::signed_out(&app, "accounts").await else {
        return;
    };
    // Not signed in: the page sends the browser to sign in; from there to the sign-up form.
    assert_eq!(browser.current_path().await, "/login");
    browser
        .find(".account-switch a")
        .await
        .click()
        .await
        .expect("click");
    eventually!(
        browser.current_path().await == "/signup",
        "on the sign-up page"
    );
    browser
        .submit_account_form("carol", "carol's password")
        .await;
    eventually!(browser.current_path().await == "/", "carol on the list");
    let signed_in = browser.find(".account-name").await.text().await.unwrap();
    assert_eq!(signed_in, "Signed in as carol");
    browser.add("carol one").await;
    browser.add("carol two").await;

    // Sign out: back to the sign-in page; dave signs up and sees an empty list.
    browser
        .find(".sign-out")
        .await
        .click()
        .await
        .expect("click");
    eventually!(browser.current_path().await == "/login", "signed out");
    browser.goto("/signup").await;
    browser.submit_account_form("dave", "dave's password").await;
    eventually!(browser.current_path().await == "/", "dave on the list");
    assert_eq!(browser.state().await["visible"], json!([]));
    browser.add("dave's own").await;
    browser
        .find(".sign-out")
        .await
        .click()
        .await
        .expect("click");
    eventually!(browser.current_path().await == "/login", "signed out");

    // A wrong password shows the form again, with the name kept.
    browser
        .submit_account_form("carol", "not carol's password")
        .await;
    eventually!(
        browser
            .run("return document.querySelector('.account-message') !== null")
            .await
            == json!(true),
        "no message for a wrong password"
    );
    let kept = browser
        .run("return document.querySelector('#username').value")
        .await;
    assert_eq!(kept, json!("carol"));
    browser
        .find("#password")
        .await
        .send_keys(&format!("carol's password{ENTER}"))
        .await
        .unwrap();
    eventually!(browser.current_path().await == "/", "carol is back");
    assert_eq!(
        browser.state().await["visible"],
        json!(["carol one", "carol two"])
    );
    let owners: Vec<crate::helpers::Name> = app.database.load(
        "SELECT users.username || ':' || todos.title AS name FROM todos \
         JOIN lists ON lists.id = todos.list_id JOIN users ON users.id = lists.owner_id \
         ORDER BY todos.id",
    );
    let owners: Vec<String> = owners.into_iter().map(|row| row.name).collect();
    assert_eq!(
        owners,
        ["carol:carol one", "carol:carol two", "dave:dave's own"]
    );

    // The session ends behind the page's back: the next save sends the user to sign in, and
    // signing in brings them back to the list.
    app.database.execute("DELETE FROM sessions");
    browser.toggle("carol one").await;
    eventually!(
        browser.current_path().await.starts_with("/login?next="),
        "not sent to sign in after a 401"
    );
    browser
        .submit_account_form("carol", "carol's password")
        .await;
    eventually!(browser.current_path().await == "/", "back on the list");
    assert_eq!(
        browser.state().await["visible"],
        json!(["carol one", "carol two"])
    );
    browser.close().await;
}

/// Waits up to one second: a pushed change must show that fast.
macro_rules! within_a_second {
    ($cond:expr, $($msg:tt)+) => {
        wait_for!(1000, $cond, $($msg)+)
    };
}

#[tokio::test]
async fn changes_in_one_page_appear_in_another_within_a_second() {
    let Some((app, a)) = page_with("live_a", &[]).await else {
        return;
    };
    let Some(b) = Browser::open(&app, "live_b").await else {
        return;
    };
    a.add("pushed").await;
    within_a_second!(
        b.state().await["visible"] == json!(["pushed"]),
        "add did not arrive"
    );
    a.add("second").await;
    within_a_second!(
        b.state().await["visible"] == json!(["pushed", "second"]),
        "second add did not arrive"
    );
    a.toggle("pushed").await;
    within_a_second!(
        b.state().await["completed"] == json!(["pushed"]),
        "toggle did not arrive"
    );
    assert_eq!(b.state().await["count"], "<strong>1</strong> item left");

    // An edit.
    let field = a.double_click_title("second").await;
    field
        .send_keys(&format!("{SELECT_ALL_AND_DELETE}second, edited{ENTER}"))
        .await
        .unwrap();
    within_a_second!(
        b.state().await["visible"] == json!(["pushed", "second, edited"]),
        "edit did not arrive"
    );

    // Toggle all, then clear completed.
    a.find(".toggle-all-label").await.click().await.unwrap();
    within_a_second!(
        b.state().await["completed"] == json!(["pushed", "second, edited"]),
        "toggle all did not arrive"
    );
    within_a_second!(
        b.state().await["toggleAll"] == json!(true),
        "toggle-all state"
    );
    within_a_second!(
        b.state().await["clearCompleted"] == json!(true),
        "clear button"
    );
    a.find(".clear-completed").await.click().await.unwrap();
    within_a_second!(
        b.state().await["visible"] == json!([]),
        "clear completed did not arrive"
    );
    within_a_second!(b.state().await["main"] == json!(false), "main hidden");

    // A delete.
    a.add("to delete").await;
    within_a_second!(b.state().await["visible"] == json!(["to delete"]), "add");
    let li = a.item("to delete").await;
    a.pointer(&li, 0).await; // hover shows the button
    let destroy = li.find(Locator::Css(".destroy")).await.unwrap();
    a.pointer(&destroy, 1).await;
    within_a_second!(
        b.state().await["visible"] == json!([]),
        "delete did not arrive"
    );

    // Neither page reloaded: each still has its first document.
    assert_eq!(
        b.run("return performance.getEntriesByType('navigation').length")
            .await,
        json!(1)
    );
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn a_pushed_change_never_clobbers_an_edit_in_progress() {
    let Some((app, b)) = page_with("edit_in_progress", &[json!({"title": "shared"})]).await else {
        return;
    };
    let field = b.double_click_title("shared").await;
    field
        .send_keys(&format!("{SELECT_ALL_AND_DELETE}typing in b"))
        .await
        .unwrap();
    // Another client renames it meanwhile.
    let id = app.rows()[0].id;
    let response = app
        .client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "renamed elsewhere"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let typed = b
        .run("return document.querySelector('.editing .edit').value")
        .await;
    assert_eq!(
        typed,
        json!("typing in b"),
        "the edit field was changed under the cursor"
    );
    // Cancelling shows the new title.
    b.find(".editing .edit")
        .await
        .send_keys(ESCAPE)
        .await
        .unwrap();
    within_a_second!(
        b.state().await["visible"] == json!(["renamed elsewhere"]),
        "cancel did not show the pushed title"
    );

    // Saving over a pushed change meets the conflict answer, not a silent overwrite.
    let field = b.double_click_title("renamed elsewhere").await;
    app.client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "renamed again"}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    field
        .send_keys(&format!("{SELECT_ALL_AND_DELETE}b's title{ENTER}"))
        .await
        .unwrap();
    eventually!(
        b.state().await["conflicts"]
            == json!([{"mine": "“b's title”, not completed",
                       "theirs": "“renamed again”, not completed"}]),
        "no conflict shown: {}",
        b.state().await
    );
    assert_eq!(
        app.rows()[0].title,
        "renamed again",
        "b's stale save was refused"
    );
    // Keeping b's version saves it over the other one, knowingly.
    b.find(".conflict-keep-mine").await.click().await.unwrap();
    eventually!(
        app.rows()[0].title == "b's title",
        "keeping b's version did not save it"
    );
    eventually!(
        b.state().await["conflicts"] == json!([]) && b.state().await["pending"] == json!([]),
        "the conflict stayed: {}",
        b.state().await
    );
    assert_eq!(b.state().await["visible"], json!(["b's title"]));
    b.close().await;
}

#[tokio::test]
async fn after_the_stream_is_cut_and_restored_the_page_matches_the_server() {
    let app = spawn_app(Backend::Sqlite).await;
    let proxy = CuttableProxy::start(&app.address).await;
    let Some(b) = Browser::open_at(&app, "stream_cut", &proxy.address).await else {
        return;
    };
    b.add("before the cut").await;
    proxy.cut();
    eventually!(
        b.run("return !document.querySelector('.live-status').hidden")
            .await
            == json!(true),
        "no reconnecting status shown"
    );
    // Changes while the page is cut off.
    app.create(json!({"title": "made while cut"})).await;
    let first = app.rows()[0].id;
    app.client
        .patch(app.url(&format!("/todos/{first}")))
        .json(&json!({"completed": true}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.restore();
    let expected: Value = app.get_json("/todos/").await;
    let titles: Vec<&str> = expected
        .as_array()
        .unwrap()
        .iter()
        .map(|todo| todo["title"].as_str().unwrap())
        .collect();
    eventually!(
        b.state().await["visible"] == json!(titles),
        "the page never caught up: {}",
        b.state().await
    );
    eventually!(
        b.state().await["completed"] == json!(["before the cut"]),
        "the toggle made while cut did not arrive"
    );
    eventually!(
        b.run("return document.querySelector('.live-status').hidden")
            .await
            == json!(true),
        "the status still says reconnecting"
    );
    assert_eq!(
        b.run("return performance.getEntriesByType('navigation').length")
            .await,
        json!(1)
    );
    b.close().await;
}

mod accessible;
mod caldav;
mod hardening;
mod lists;
mod offline;
mod order;
mod without_javascript;
