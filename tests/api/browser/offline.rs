//! The page without the server: changes made while it cannot be reached are shown at once, kept
//! across reloads, and saved exactly once when it can; conflicts are the user's to decide; the
//! service worker opens the page offline and still brings a deploy on the next load.

use std::time::Duration;

use diesel::{Connection, connection::SimpleConnection};
use fantoccini::Locator;
use serde_json::{Value, json};

use super::titles;
use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::helpers::{Browser, CuttableProxy, eventually, page_with, wait_for};

/// Waits up to ten seconds: the bound for a page back online to be saved.
macro_rules! within_ten_seconds {
    ($cond:expr, $($msg:tt)+) => {
        wait_for!(10_000, $cond, $($msg)+)
    };
}

fn completed(rows: &[crate::helpers::Row]) -> Vec<&str> {
    rows.iter()
        .filter(|row| row.completed)
        .map(|row| row.title.as_str())
        .collect()
}

#[tokio::test]
async fn changes_made_offline_survive_a_reload_and_are_saved_once_back_online() {
    let app = spawn_app(Backend::Sqlite).await;
    for title in ["keep", "rename me", "delete me"] {
        app.create(json!({ "title": title })).await;
    }
    let proxy = CuttableProxy::start(&app.address).await;
    let Some(b) = Browser::open_at(&app, "offline_reload", &proxy.address).await else {
        return;
    };
    b.kept_for_offline().await;

    proxy.cut();
    for title in ["first offline", "second offline", "third offline"] {
        b.add_offline(title).await;
    }
    b.toggle("first offline").await;
    b.rename("rename me", "renamed offline").await;
    b.delete("delete me").await;
    b.delete("third offline").await; // created and deleted offline: nothing to send
    let expected = json!(["keep", "renamed offline", "first offline", "second offline"]);
    let state = b.state().await;
    assert_eq!(state["visible"], expected);
    assert_eq!(state["completed"], json!(["first offline"]));
    assert_eq!(
        state["pending"],
        json!(["renamed offline", "first offline", "second offline"])
    );
    eventually!(
        b.state().await["status"].as_str().is_some_and(
            |status| status.starts_with("Offline: ") && status.ends_with(" changes waiting")
        ),
        "no offline status: {}",
        b.state().await
    );
    assert_eq!(
        titles(&app.rows()),
        ["keep", "rename me", "delete me"],
        "nothing reached the server"
    );
    super::accessible::assert_accessible(&b, "offline, changes waiting").await;

    // A reload with the server still unreachable: the service worker opens the page, the queue
    // puts the changes back on it.
    b.reload().await;
    eventually!(
        b.state().await["visible"] == expected,
        "the reloaded page lost changes: {}",
        b.state().await
    );
    assert_eq!(b.state().await["completed"], json!(["first offline"]));

    proxy.restore();
    within_ten_seconds!(
        titles(&app.rows()) == ["keep", "renamed offline", "first offline", "second offline"]
            && completed(&app.rows()) == ["first offline"],
        "the server does not hold the result: {:?}",
        app.rows()
    );
    within_ten_seconds!(
        b.state().await["status"].is_null() && b.state().await["pending"] == json!([]),
        "the page still shows changes waiting: {}",
        b.state().await
    );
    // Exactly the result, each create once, and nothing sent for the todo that never was.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.rows().len(), 4);
    let sent: Vec<crate::helpers::Name> = app
        .database
        .load("SELECT title AS name FROM todo_changes WHERE title = 'third offline'");
    assert!(
        sent.is_empty(),
        "the todo created and deleted offline was sent"
    );
    b.close().await;
}

#[tokio::test]
async fn a_server_answering_503_for_a_while_loses_nothing_and_doubles_nothing() {
    // Writes wait 100 ms for SQLite's lock, then answer 503.
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.database.busy_timeout = std::time::Duration::from_millis(100);
    })
    .await;
    app.create(json!({"title": "before"})).await;
    let Some(b) = Browser::open(&app, "answers_503").await else {
        return;
    };
    // Every text the status line shows, in order.
    b.run(
        "window.statusSeen = [];
         const line = document.querySelector('.sync-status');
         new MutationObserver(() => {
           const text = line.hidden ? null : line.textContent;
           if (window.statusSeen[window.statusSeen.length - 1] !== text) {
             window.statusSeen.push(text);
           }
         }).observe(line, { attributes: true, childList: true, characterData: true, subtree: true });",
    )
    .await;
    let mut holder = diesel::sqlite::SqliteConnection::establish(&app.database.url).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();

    b.add_offline("during one").await;
    b.add_offline("during two").await;
    b.toggle("before").await;
    eventually!(
        b.state().await["status"] == json!("Offline: 3 changes waiting"),
        "the 503s did not leave the changes waiting: {}",
        b.state().await
    );
    let probe = app
        .client
        .post(app.url("/todos/"))
        .json(&json!({"title": "probe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 503, "the server was not answering 503");
    tokio::time::sleep(Duration::from_secs(2)).await;

    holder.batch_execute("COMMIT").unwrap();
    within_ten_seconds!(
        titles(&app.rows()) == ["before", "during one", "during two"]
            && completed(&app.rows()) == ["before"],
        "the server does not hold the result: {:?}",
        app.rows()
    );
    within_ten_seconds!(
        b.state().await["status"].is_null(),
        "the status still says waiting"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.rows().len(), 3, "a change was applied twice");
    // "Offline: 3 changes waiting", then "Saving…", then nothing.
    let seen = b.run("return window.statusSeen").await;
    let seen: Vec<Option<String>> = serde_json::from_value(seen).unwrap();
    let waiting = seen
        .iter()
        .position(|text| text.as_deref() == Some("Offline: 3 changes waiting"))
        .unwrap_or_else(|| panic!("never showed 3 waiting: {seen:?}"));
    let saving = seen[waiting..]
        .iter()
        .position(|text| text.as_deref() == Some("Saving…"))
        .unwrap_or_else(|| panic!("never showed saving after waiting: {seen:?}"));
    assert!(saving > 0);
    assert_eq!(seen.last(), Some(&None), "{seen:?}");
    b.close().await;
}

#[tokio::test]
async fn an_answer_lost_after_the_commit_is_not_applied_twice() {
    let app = spawn_app(Backend::Sqlite).await;
    let proxy = CuttableProxy::start(&app.address).await;
    let Some(b) = Browser::open_at(&app, "answer_lost", &proxy.address).await else {
        return;
    };
    b.add("before").await;
    eventually!(
        app.rows().len() == 1 && b.state().await["pending"] == json!([]),
        "the first todo was not saved"
    );

    // The server applies the create; the page never hears of it and tries again.
    proxy.lose_answers();
    b.add_offline("answer lost").await;
    eventually!(
        titles(&app.rows()) == ["before", "answer lost"],
        "the create did not reach the server"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(b.state().await["pending"], json!(["answer lost"]));

    proxy.restore();
    within_ten_seconds!(
        b.state().await["pending"] == json!([]) && b.state().await["status"].is_null(),
        "the page never learnt the create was saved: {}",
        b.state().await
    );
    assert_eq!(titles(&app.rows()), ["before", "answer lost"]);
    assert_eq!(b.state().await["visible"], json!(["before", "answer lost"]));

    // The page knows the todo by the server's id now: a toggle of it is saved.
    b.toggle("answer lost").await;
    eventually!(
        completed(&app.rows()) == ["answer lost"],
        "the toggle was not saved"
    );
    assert_eq!(app.rows().len(), 2);
    b.close().await;
}

/// The "keep mine" or "take the saved one" button of the conflict over `theirs`.
async fn choose(b: &Browser, theirs: &str, button: &str) {
    let xpath = format!(
        "//div[@class='conflict'][.//div[@class='conflict-theirs']/p[contains(., '{theirs}')]]\
         //button[@class='{button}']"
    );
    b.client
        .find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|err| panic!("no {button} for {theirs:?}: {err}"))
        .click()
        .await
        .expect("a click");
}

#[tokio::test]
async fn a_conflict_shows_both_versions_and_each_choice_does_what_it_says() {
    let app = spawn_app(Backend::Sqlite).await;
    for title in ["keep mine", "take theirs", "deleted here"] {
        app.create(json!({ "title": title })).await;
    }
    let ids: Vec<i32> = app.rows().iter().map(|row| row.id).collect();
    let proxy = CuttableProxy::start(&app.address).await;
    let Some(b) = Browser::open_at(&app, "conflicts", &proxy.address).await else {
        return;
    };
    b.kept_for_offline().await;

    // Offline, the page changes all three; meanwhile another client renames them.
    proxy.cut();
    b.rename("keep mine", "mine one").await;
    b.rename("take theirs", "mine two").await;
    b.toggle("mine two").await;
    b.delete("deleted here").await;
    for (id, title) in ids.iter().zip(["theirs one", "theirs two", "theirs three"]) {
        let response = app
            .client
            .patch(app.url(&format!("/todos/{id}")))
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    proxy.restore();
    let expected = json!([
        {"mine": "“mine one”, not completed", "theirs": "“theirs one”, not completed"},
        {"mine": "“mine two”, completed", "theirs": "“theirs two”, not completed"},
        {"mine": "Deleted", "theirs": "“theirs three”, not completed"},
    ]);
    within_ten_seconds!(
        b.state().await["conflicts"] == expected,
        "the conflicts are not shown: {}",
        b.state().await
    );
    assert_eq!(
        titles(&app.rows()),
        ["theirs one", "theirs two", "theirs three"],
        "a change in conflict was applied without the user choosing"
    );

    super::accessible::assert_accessible(&b, "conflicts to decide").await;

    // The conflicts wait for the user's choice, across a reload too.
    b.reload().await;
    eventually!(
        b.state().await["conflicts"] == expected,
        "the conflicts did not survive a reload: {}",
        b.state().await
    );

    choose(&b, "theirs one", "conflict-keep-mine").await;
    eventually!(
        app.rows()[0].title == "mine one",
        "keeping mine did not save it"
    );
    choose(&b, "theirs two", "conflict-take-theirs").await;
    choose(&b, "theirs three", "conflict-keep-mine").await;
    eventually!(app.rows().len() == 2, "keeping my delete did not delete it");
    within_ten_seconds!(
        b.state().await["conflicts"] == json!([]) && b.state().await["status"].is_null(),
        "the conflicts stayed: {}",
        b.state().await
    );
    assert_eq!(titles(&app.rows()), ["mine one", "theirs two"]);
    assert_eq!(completed(&app.rows()), Vec::<&str>::new());
    let state = b.state().await;
    assert_eq!(state["visible"], json!(["mine one", "theirs two"]));
    assert_eq!(state["completed"], json!([]));
    b.close().await;
}

/// A copy of the app's static files, for a test that deploys a new version of one.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_new_app_js_reaches_a_page_opened_before_on_its_next_load() {
    let files = tempfile::tempdir().unwrap();
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static"),
        files.path(),
    );
    let dir = files.path().to_path_buf();
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.static_dir = dir;
    })
    .await;
    let Some(b) = Browser::open(&app, "deploy").await else {
        return;
    };
    b.kept_for_offline().await;
    b.reload().await;
    assert_eq!(b.run("return window.deployed || null").await, Value::Null);

    // The deploy: a new app.js.
    let app_js = files.path().join("js/app.js");
    let mut source = std::fs::read_to_string(&app_js).unwrap();
    source.push_str("\nwindow.deployed = 'the new version';\n");
    std::fs::write(&app_js, source).unwrap();

    b.reload().await;
    eventually!(
        b.run("return window.deployed || null").await == json!("the new version"),
        "the page still runs the old app.js"
    );
    b.add("still works").await;
    eventually!(
        titles(&app.rows()) == ["still works"],
        "the new version does not save"
    );
    b.close().await;
}

#[tokio::test]
async fn signing_out_clears_the_queue_and_the_kept_page() {
    let Some((_app, b)) = page_with("sign_out_clears", &[]).await else {
        return;
    };
    b.add("mine").await;
    b.kept_for_offline().await;
    let held = "return (async () => ({
        page: !!(await caches.match('/')),
        databases: (await indexedDB.databases()).map((db) => db.name),
    }))();";
    eventually!(
        b.run(held).await["databases"] == json!(["todomvc:alice"]),
        "nothing kept: {}",
        b.run(held).await
    );
    b.find(".sign-out").await.click().await.unwrap();
    eventually!(
        b.current_path().await.starts_with("/login"),
        "not signed out"
    );
    eventually!(
        b.run(held).await == json!({"page": false, "databases": []}),
        "the browser still holds the user's data: {}",
        b.run(held).await
    );
    b.close().await;
}

#[tokio::test]
async fn a_session_that_ended_keeps_the_queue_for_after_signing_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let proxy = CuttableProxy::start(&app.address).await;
    let Some(b) = Browser::open_at(&app, "queue_401", &proxy.address).await else {
        return;
    };
    b.kept_for_offline().await;
    proxy.cut();
    b.add_offline("typed while away").await;
    // The session ends meanwhile (expired, or ended from another device).
    app.database.execute("DELETE FROM sessions");
    proxy.restore();
    within_ten_seconds!(
        b.current_path().await.starts_with("/login"),
        "the page did not go to the sign-in page: {}",
        b.current_path().await
    );
    assert!(app.rows().is_empty());
    b.submit_account_form("alice", crate::helpers::PASSWORD)
        .await;
    within_ten_seconds!(
        titles(&app.rows()) == ["typed while away"],
        "the queue was not sent after signing in: {:?}",
        app.rows()
    );
    eventually!(
        b.state().await["visible"] == json!(["typed while away"])
            && b.state().await["pending"] == json!([]),
        "the page does not show it saved: {}",
        b.state().await
    );
    b.close().await;
}
