//! Lists and sharing in the browser: two people on one list, live; a viewer who cannot edit; a
//! member taken off the list (with a change still queued); the same without JavaScript; and axe
//! on every new page.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{Value, json};

use super::accessible::{
    SHIFT_TAB, TAB, assert_accessible, focus_is_visible, focused, press, tab_to,
};
use crate::helpers::{Backend, spawn_app};
use crate::helpers::{Browser, CuttableProxy, ENTER, PASSWORD, TestApp, eventually, wait_for};

/// The titles of the switcher's links, and which one is the current page.
async fn switcher(b: &Browser) -> Value {
    b.run(
        r#"return [...document.querySelectorAll('.lists-nav .lists a')].map((a) =>
             (a.getAttribute('aria-current') === 'page' ? '*' : '') + a.textContent);"#,
    )
    .await
}

async fn error(b: &Browser) -> Value {
    b.state().await["error"].clone()
}

/// Makes a list with the switcher's form; returns its id (the page it lands on).
async fn new_list(b: &Browser, title: &str) -> i64 {
    b.find("#new-list")
        .await
        .send_keys(&format!("{title}{ENTER}"))
        .await
        .unwrap();
    eventually!(
        b.current_path().await.starts_with("/lists/"),
        "not on the new list"
    );
    b.current_path().await["/lists/".len()..].parse().unwrap()
}

/// Shares through the sharing page's form.
async fn share(b: &Browser, list: i64, username: &str, role: &str) {
    b.goto(&format!("/lists/{list}/sharing")).await;
    b.find("#member-username")
        .await
        .send_keys(username)
        .await
        .unwrap();
    b.run(&format!(
        "document.querySelector('#member-role').value = '{role}';"
    ))
    .await;
    b.find(".add-member-form button")
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        b.run("return document.querySelector('.members').textContent")
            .await
            .as_str()
            .is_some_and(|text| text.contains(username)),
        "{username} is not on the list"
    );
}

/// A list of Alice's, made through the API; its id.
async fn new_list_by_api(app: &TestApp, title: &str) -> i64 {
    let list = app
        .client
        .post(app.url("/lists"))
        .json(&json!({"title": title}));
    let list: Value = list.send().await.unwrap().json().await.unwrap();
    list["id"].as_i64().unwrap()
}

/// Alice shares list `id` through the API.
async fn share_by_api(app: &TestApp, id: i64, username: &str, role: &str) {
    let share = app
        .client
        .put(app.url(&format!("/lists/{id}/members/{username}")))
        .json(&json!({"role": role}));
    assert_eq!(
        share.send().await.unwrap().status(),
        201,
        "sharing with {username}"
    );
}

async fn people(app: &TestApp) {
    for name in ["bob", "carol"] {
        app.sign_up(name, PASSWORD).await;
    }
}

#[tokio::test]
async fn two_people_edit_one_list_live_and_a_viewer_only_reads() {
    let app = spawn_app(Backend::Sqlite).await;
    people(&app).await;
    let Some(alice) = Browser::open(&app, "lists_alice").await else {
        return;
    };
    let list = new_list(&alice, "Groceries").await;
    assert_eq!(switcher(&alice).await, json!(["Todos", "*Groceries"]));
    share(&alice, list, "bob", "editor").await;
    share(&alice, list, "carol", "viewer").await;
    alice.goto(&format!("/lists/{list}")).await;

    let Some(bob) = Browser::open_as(&app, "lists_bob", "bob", true).await else {
        return;
    };
    let Some(carol) = Browser::open_as(&app, "lists_carol", "carol", true).await else {
        return;
    };
    for b in [&bob, &carol] {
        assert_eq!(switcher(b).await, json!(["*Todos", "Groceries"]));
        b.find(".lists-nav .lists li:nth-child(2) a")
            .await
            .click()
            .await
            .unwrap();
        eventually!(
            b.current_path().await == format!("/lists/{list}"),
            "not on the shared list"
        );
    }

    // Both edit, and everyone sees it within a second.
    bob.add("milk").await;
    alice.add("eggs").await;
    for b in [&alice, &bob, &carol] {
        wait_for!(
            1000,
            b.state().await["visible"] == json!(["milk", "eggs"]),
            "not live: {}",
            b.state().await
        );
    }
    alice.toggle("milk").await;
    wait_for!(
        1000,
        carol.state().await["completed"] == json!(["milk"]),
        "the viewer did not see the toggle"
    );

    // The viewer reads: no field, no toggles, no edit on double-click.
    let controls = carol
        .run(
            "return ['.new-todo', 'button.toggle', '.destroy', '.toggle-all', '.edit-link']
               .filter((s) => document.querySelector(s));",
        )
        .await;
    assert_eq!(controls, json!([]));
    let label = carol
        .item("eggs")
        .await
        .find(Locator::Css("label"))
        .await
        .unwrap();
    carol.pointer(&label, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        carol.state().await["editing"],
        0,
        "a viewer's double-click edits nothing"
    );

    // A list shared with the viewer appears in her switcher, live.
    let trip = new_list_by_api(&app, "Trip").await;
    share_by_api(&app, trip, "carol", "viewer").await;
    eventually!(
        switcher(&carol).await == json!(["Todos", "*Groceries", "Trip"]),
        "Trip never appeared: {}",
        switcher(&carol).await
    );

    // Bob is taken off the list: his page says so, from his default list.
    let removed = app
        .client
        .delete(app.url(&format!("/lists/{list}/members/bob")))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    eventually!(bob.current_path().await == "/", "bob stayed on the list");
    eventually!(
        error(&bob).await == json!("You no longer have access to “Groceries”."),
        "bob was not told: {}",
        error(&bob).await
    );
    assert_eq!(switcher(&bob).await, json!(["*Todos"]));
    for b in [alice, bob, carol] {
        b.close().await;
    }
}

#[tokio::test]
async fn taken_off_a_list_with_a_change_queued_offline() {
    let app = spawn_app(Backend::Sqlite).await;
    people(&app).await;
    let id = new_list_by_api(&app, "Groceries").await;
    share_by_api(&app, id, "bob", "editor").await;

    let proxy = CuttableProxy::start(&app.address).await;
    let Some(bob) = Browser::open_as(&app.at(&proxy.address), "lists_queued", "bob", true).await
    else {
        return;
    };
    bob.goto(&format!("/lists/{id}")).await;
    bob.add("flour").await;
    proxy.cut();
    bob.add_offline("bread").await;
    let removed = app
        .client
        .delete(app.url(&format!("/lists/{id}/members/bob")))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    proxy.restore();
    wait_for!(
        40_000,
        bob.current_path().await == "/"
            && error(&bob).await
                == json!("You no longer have access to “Groceries”; 1 change was not saved."),
        "bob was not told: {} at {}",
        error(&bob).await,
        bob.current_path().await
    );
    // The queue is empty, and stays so after a reload: nothing is retried.
    let titles: Vec<String> = app.rows().into_iter().map(|row| row.title).collect();
    assert_eq!(titles, ["flour"]);
    bob.goto(&format!("/lists/{id}")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kept = bob
        .run(
            "return new Promise((done) => indexedDB.databases().then((all) =>
               done(all.map((db) => db.name))));",
        )
        .await;
    assert!(
        !kept.to_string().contains(&format!(":list:{id}")),
        "the list's queue is gone: {kept}"
    );
    bob.close().await;
}

#[tokio::test]
async fn lists_and_sharing_without_javascript() {
    let app = spawn_app(Backend::Sqlite).await;
    people(&app).await;
    let Some(alice) = Browser::open_with(&app, "lists_no_js", false).await else {
        return;
    };
    let list = new_list(&alice, "Groceries").await;
    alice
        .find(".new-todo")
        .await
        .send_keys(&format!("tea{ENTER}"))
        .await
        .unwrap();
    eventually!(
        alice.state().await["visible"] == json!(["tea"]),
        "tea was not added"
    );
    share(&alice, list, "bob", "editor").await;
    share(&alice, list, "carol", "viewer").await;

    let Some(bob) = Browser::open_as(&app, "lists_no_js_bob", "bob", false).await else {
        return;
    };
    bob.goto(&format!("/lists/{list}")).await;
    bob.find(".new-todo")
        .await
        .send_keys(&format!("sugar{ENTER}"))
        .await
        .unwrap();
    eventually!(
        bob.state().await["visible"] == json!(["tea", "sugar"]),
        "sugar was not added"
    );
    let Some(carol) = Browser::open_as(&app, "lists_no_js_carol", "carol", false).await else {
        return;
    };
    carol.goto(&format!("/lists/{list}")).await;
    assert_eq!(carol.state().await["visible"], json!(["tea", "sugar"]));
    assert_eq!(
        carol.state().await["newTodo"],
        Value::Null,
        "no field for a viewer"
    );

    // Alice takes bob off the list on the sharing page; his next page says it is not there.
    alice.goto(&format!("/lists/{list}/sharing")).await;
    alice
        .find(".remove-form button")
        .await
        .click()
        .await
        .unwrap();
    eventually!(
        !alice
            .run("return document.querySelector('.members').textContent")
            .await
            .to_string()
            .contains("bob"),
        "bob is still on the list"
    );
    bob.reload().await;
    assert!(
        bob.run("return document.body.textContent")
            .await
            .to_string()
            .contains(&format!("there is no list with id {list}"))
    );
    for b in [alice, bob, carol] {
        b.close().await;
    }
}

#[tokio::test]
async fn the_pages_of_lists_pass_axe() {
    let app = spawn_app(Backend::Sqlite).await;
    people(&app).await;
    let id = new_list_by_api(&app, "Groceries").await;
    app.client
        .post(app.url(&format!("/lists/{id}/todos/")))
        .json(&json!({"title": "tea"}))
        .send()
        .await
        .unwrap();
    share_by_api(&app, id, "carol", "viewer").await;

    for javascript in [true, false] {
        let mode = if javascript {
            "with JavaScript"
        } else {
            "without"
        };
        let open = |who: &'static str| {
            let app = &app;
            async move {
                if javascript {
                    Browser::open_as(app, "lists_axe", who, true).await
                } else {
                    let b =
                        Browser::open_without_page_scripts(&app.signed_out(), "lists_axe").await?;
                    b.goto("/login").await;
                    b.submit_account_form(who, PASSWORD).await;
                    eventually!(b.current_path().await == "/", "{who} did not get in");
                    Some(b)
                }
            }
        };
        let Some(alice) = open("alice").await else {
            return;
        };
        alice.goto(&format!("/lists/{id}")).await;
        assert_accessible(&alice, &format!("a shared list, its owner, {mode}")).await;
        alice.goto(&format!("/lists/{id}/sharing")).await;
        assert_accessible(&alice, &format!("the sharing page, its owner, {mode}")).await;
        alice.close().await;
        let Some(carol) = open("carol").await else {
            return;
        };
        carol.goto(&format!("/lists/{id}")).await;
        assert_accessible(&carol, &format!("a viewer's page, {mode}")).await;
        carol.goto(&format!("/lists/{id}/sharing")).await;
        assert_accessible(&carol, &format!("the sharing page, a member, {mode}")).await;
        carol.close().await;
    }
}

/// Sharing and unsharing with the keyboard alone: every control is reached with Tab, shows its
/// focus, and works with Enter.
#[tokio::test]
async fn sharing_with_the_keyboard_alone() {
    let app = spawn_app(Backend::Sqlite).await;
    people(&app).await;
    let id = new_list_by_api(&app, "Groceries").await;
    let Some(b) = Browser::open(&app, "lists_keyboard").await else {
        return;
    };
    b.goto(&format!("/lists/{id}")).await;
    // The new todo's field has the focus; the list's own controls come before it.
    tab_to(&b, "Share “Groceries”", SHIFT_TAB).await;
    assert!(focus_is_visible(&b).await, "the link shows its focus");
    press(&b, ENTER).await;
    eventually!(
        b.current_path().await == format!("/lists/{id}/sharing"),
        "Enter did not follow the link"
    );
    tab_to(&b, "Username", TAB).await;
    press(&b, "bob").await;
    tab_to(&b, "Role", TAB).await;
    press(&b, "e").await; // "Editor: …", as a select takes a typed letter
    tab_to(&b, "Share “Groceries”", TAB).await;
    assert!(focus_is_visible(&b).await, "the button shows its focus");
    press(&b, ENTER).await;
    let role = || {
        app.database
            .load::<crate::helpers::Name>("SELECT role AS name FROM memberships")
            .into_iter()
            .map(|row| row.name)
            .collect::<Vec<_>>()
    };
    eventually!(
        role() == ["editor"],
        "bob was not added as an editor: {:?}",
        role()
    );
    tab_to(&b, "Remove bob", TAB).await;
    press(&b, ENTER).await;
    eventually!(role().is_empty(), "bob was not removed");
    assert!(!focused(&b).await.is_empty(), "the focus stays on the page");
    b.close().await;
}
