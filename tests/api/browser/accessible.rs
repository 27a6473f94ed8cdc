//! Accessibility: axe-core (vendored from npm) finds no violation of WCAG 2.0/2.1 A and AA or of
//! its best practices in any state of the pages, with JavaScript and without; and the whole spec
//! can be driven with the keyboard alone.

use std::time::Duration;

use serde_json::json;

use super::titles;
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::helpers::{Browser, ENTER, ESCAPE, SELECT_ALL_AND_DELETE, eventually, page_with};

pub(super) const TAB: &str = "\u{E004}";
pub(super) const SHIFT_TAB: &str = "\u{E008}\u{E004}";
const SPACE: &str = "\u{E00D}";

/// axe-core's own file, as vendored.
fn axe_source() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/vendor");
    let axe = std::fs::read_dir(&dir)
        .expect("static/vendor")
        .filter_map(Result::ok)
        .find(|entry| entry.file_name().to_string_lossy().starts_with("axe-core-"))
        .expect("axe-core is vendored");
    std::fs::read_to_string(axe.path().join("axe.min.js")).expect("axe.min.js")
}

/// Runs axe on the page as it is now and fails with every violation it finds.
pub(super) async fn assert_accessible(b: &Browser, state: &str) {
    let script = format!(
        "{}\nreturn axe.run(document, {{
           runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'best-practice'] }},
           resultTypes: ['violations'],
         }}).then((result) => result.violations.map((v) =>
           v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
           v.nodes.map((n) => n.target.join(' ') + ' [' + n.failureSummary + ']').join('; ')));",
        axe_source()
    );
    let violations = b.run(&script).await;
    assert_eq!(
        violations,
        json!([]),
        "axe found violations in the state {state:?}"
    );
}

/// The states of the list page, in order, checked by axe; `javascript` says how the page runs.
async fn every_state(app: &TestApp, b: &Browser, javascript: bool) {
    let mode = if javascript {
        "with JavaScript"
    } else {
        "without JavaScript"
    };
    assert_accessible(b, &format!("empty list, {mode}")).await;
    for title in ["Buy milk", "Walk the dog", "Write the report"] {
        app.create(json!({ "title": title })).await;
    }
    b.goto("/").await;
    assert_accessible(b, &format!("with todos, {mode}")).await;
    let first = app.rows()[0].id;
    app.client
        .patch(app.url(&format!("/todos/{first}")))
        .json(&json!({"completed": true}))
        .send()
        .await
        .unwrap();
    b.goto("/").await;
    assert_accessible(b, &format!("some completed, {mode}")).await;
    for filter in ["/active", "/completed"] {
        b.goto(filter).await;
        assert_accessible(b, &format!("filter {filter}, {mode}")).await;
    }
    b.goto(&format!("/?edit={first}")).await;
    assert_accessible(b, &format!("editing, {mode}")).await;
}

#[tokio::test]
async fn every_state_with_javascript_passes_axe() {
    let Some((app, b)) = page_with("axe_js", &[]).await else {
        return;
    };
    every_state(&app, &b, true).await;

    // Editing in place, by double-click.
    b.goto("/").await;
    b.double_click_title("Walk the dog").await;
    assert_accessible(&b, "editing in place").await;
    b.find(".editing .edit")
        .await
        .send_keys(ESCAPE)
        .await
        .unwrap();

    // The sync-error banner: a title the server refuses.
    b.run("document.querySelector('.new-todo').removeAttribute('maxlength')")
        .await;
    b.find(".new-todo")
        .await
        .send_keys(&format!(
            "{}{ENTER}",
            "x".repeat(todomvc::models::MAX_TITLE_CHARS + 1)
        ))
        .await
        .unwrap();
    eventually!(!b.state().await["error"].is_null(), "no sync error shown");
    assert_accessible(&b, "sync-error banner").await;

    b.close().await;

    let Some(b) = Browser::signed_out(&app, "axe_account_js").await else {
        return;
    };
    assert_accessible(&b, "sign-in page").await;
    b.goto("/signup").await;
    assert_accessible(&b, "sign-up page").await;
    b.submit_account_form("alice", "wrong password").await;
    eventually!(
        b.current_path().await == "/signup",
        "the form did not answer"
    );
    assert_accessible(&b, "sign-up page with a message").await;
    b.close().await;
}

#[tokio::test]
async fn every_state_without_javascript_passes_axe() {
    // The pages' own scripts never load (axe needs JavaScript to run); the forms tests in
    // `without_javascript.rs` switch JavaScript off altogether.
    let app = spawn_app(Backend::Sqlite).await;
    let Some(b) = Browser::open_without_page_scripts(&app, "axe_no_js").await else {
        return;
    };
    every_state(&app, &b, false).await;

    // A refused title, shown next to the field.
    b.goto("/").await;
    b.find(".new-todo")
        .await
        .send_keys(&format!("   {ENTER}"))
        .await
        .unwrap();
    eventually!(
        b.run("return !!document.querySelector('#new-todo-error')")
            .await
            == json!(true),
        "no error next to the field"
    );
    assert_accessible(&b, "refused title, without JavaScript").await;
    b.close().await;

    let Some(b) = Browser::open_without_page_scripts(&app.signed_out(), "axe_account_no_js").await
    else {
        return;
    };
    assert_accessible(&b, "sign-in page, without JavaScript").await;
    b.goto("/signup").await;
    assert_accessible(&b, "sign-up page, without JavaScript").await;
    b.close().await;
}

/// What has the keyboard focus: its accessible name (or text), for the tests to aim at.
pub(super) async fn focused(b: &Browser) -> String {
    b.run(
        "const el = document.activeElement;
         const label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : '';
         return el.getAttribute('aria-label') || label || el.textContent.trim() || el.className;",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

pub(super) async fn press(b: &Browser, keys: &str) {
    b.client
        .active_element()
        .await
        .expect("a focused element")
        .send_keys(keys)
        .await
        .expect("keys");
}

/// Presses Tab (or Shift+Tab) until `name` has the focus; the route there is the page's tab order.
pub(super) async fn tab_to(b: &Browser, name: &str, keys: &str) {
    for _ in 0..40 {
        if focused(b).await == name {
            return;
        }
        press(b, keys).await;
    }
    panic!(
        "Tab never reached {name:?}; the focus is on {:?}",
        focused(b).await
    );
}

/// The focus ring is visible: the focused control (or, for the visually hidden toggles, the
/// label drawn for it) has an outline or a box-shadow.
pub(super) async fn focus_is_visible(b: &Browser) -> bool {
    b.run(
        "const el = document.activeElement;
         const drawn = (e) => { const s = getComputedStyle(e);
           return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
             || s.boxShadow !== 'none'; };
         const label = el.nextElementSibling;
         return drawn(el) || (!!label && label.tagName === 'LABEL' && drawn(label));",
    )
    .await
        == json!(true)
}

#[tokio::test]
#[allow(clippy::too_many_lines, reason = "one user journey, step by step")]
async fn the_whole_spec_with_the_keyboard_alone() {
    let Some((app, b)) = page_with("keyboard", &[]).await else {
        return;
    };
    // Add: the field has the focus when the page opens.
    assert_eq!(b.run("return document.activeElement.id").await, "new-todo");
    for title in ["one", "two", "three"] {
        press(&b, &format!("{title}{ENTER}")).await;
    }
    eventually!(titles(&app.rows()) == ["one", "two", "three"], "not added");

    // Toggle with Space.
    tab_to(&b, "Mark “one” as complete", TAB).await;
    assert!(focus_is_visible(&b).await, "no visible focus on the toggle");
    press(&b, SPACE).await;
    eventually!(app.rows()[0].completed, "Space did not toggle");
    assert_eq!(
        focused(&b).await,
        "Mark “one” as complete",
        "the focus stayed"
    );
    let announced = || b.run("return document.querySelector('.announcer').textContent");
    eventually!(
        announced()
            .await
            .as_str()
            .is_some_and(|said| said.contains("2 items left")),
        "the counter was not announced: {}",
        announced().await
    );
    // A change pushed from elsewhere is announced too.
    app.create(json!({"title": "from elsewhere"})).await;
    eventually!(
        announced()
            .await
            .as_str()
            .is_some_and(|said| said.contains("“from elsewhere” was added elsewhere")),
        "the pushed change was not announced: {}",
        announced().await
    );
    let id = app.rows()[3].id;
    app.client
        .delete(app.url(&format!("/todos/{id}")))
        .send()
        .await
        .unwrap();
    eventually!(
        announced()
            .await
            .as_str()
            .is_some_and(|said| said.contains("“from elsewhere” was deleted elsewhere")),
        "the pushed deletion was not announced"
    );

    // Edit with the Edit button and Enter; Enter saves, and the focus comes back.
    tab_to(&b, "Edit “two”", TAB).await;
    assert!(focus_is_visible(&b).await, "no visible focus on Edit");
    press(&b, ENTER).await;
    eventually!(
        b.state().await["editing"] == 1,
        "Enter did not start editing"
    );
    press(&b, &format!("{SELECT_ALL_AND_DELETE}two edited{ENTER}")).await;
    eventually!(app.rows()[1].title == "two edited", "Enter did not save");
    eventually!(
        focused(&b).await == "Edit “two edited”",
        "the focus did not come back to the todo: {}",
        focused(&b).await
    );

    // Escape cancels.
    press(&b, ENTER).await;
    eventually!(
        b.state().await["editing"] == 1,
        "Enter did not start editing"
    );
    press(&b, &format!(" nope{ESCAPE}")).await;
    eventually!(b.state().await["editing"] == 0, "Escape did not cancel");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.rows()[1].title, "two edited");

    // Delete: the focus goes to the next todo.
    tab_to(&b, "Delete “two edited”", TAB).await;
    assert!(focus_is_visible(&b).await, "no visible focus on Delete");
    press(&b, ENTER).await;
    eventually!(
        titles(&app.rows()) == ["one", "three"],
        "Enter did not delete"
    );
    assert_eq!(focused(&b).await, "Mark “three” as complete");

    // Toggle all.
    tab_to(&b, "Mark all as complete", SHIFT_TAB).await;
    press(&b, SPACE).await;
    eventually!(
        app.rows().iter().all(|row| row.completed),
        "Space did not toggle all"
    );

    // Filters: links, followed with Enter.
    tab_to(&b, "Active", TAB).await;
    press(&b, ENTER).await;
    eventually!(b.state().await["visible"] == json!([]), "Active filter");
    tab_to(&b, "Completed", TAB).await;
    press(&b, ENTER).await;
    eventually!(
        b.state().await["visible"] == json!(["one", "three"]),
        "Completed filter"
    );
    tab_to(&b, "All", SHIFT_TAB).await;
    press(&b, ENTER).await;
    eventually!(b.state().await["selected"] == json!(["All"]), "All filter");

    // Clear completed.
    tab_to(&b, "Clear completed", TAB).await;
    press(&b, ENTER).await;
    eventually!(app.rows().is_empty(), "Enter did not clear completed");
    eventually!(
        b.run("return document.activeElement.id").await == "new-todo",
        "the focus was lost with the list: {}",
        focused(&b).await
    );
    b.close().await;
}

#[tokio::test]
async fn narrow_screens_zoom_and_reduced_motion() {
    let app = spawn_app(Backend::Sqlite).await;
    for title in [
        "A todo with a rather long title that has to wrap on a narrow screen",
        "short",
    ] {
        app.create(json!({ "title": title })).await;
    }
    let Some(b) = Browser::open(&app, "narrow").await else {
        return;
    };
    // 320 CSS pixels wide: a phone, or a 1280-pixel window at 400% zoom (WCAG's reflow width);
    // 640 is the same window at 200%.
    for width in [320, 640] {
        b.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 640, "deviceScaleFactor": 2, "mobile": false}),
        )
        .await;
        b.goto("/").await;
        assert_eq!(
            b.run("return document.documentElement.scrollWidth <= window.innerWidth")
                .await,
            json!(true),
            "the page scrolls sideways at {width} px"
        );
        assert_accessible(&b, &format!("{width} px wide")).await;
        // Every control is on screen and can be used.
        let off_screen = b
            .run(
                "return [...document.querySelectorAll('.new-todo, .toggle-all-label, .todo-list li label, \
                   .filters a, .clear-completed, .sign-out')]
                   .filter((el) => el.getClientRects().length > 0)
                   .filter((el) => { const r = el.getBoundingClientRect();
                                     return r.left < 0 || r.right > window.innerWidth + 1; })
                   .map((el) => el.className || el.textContent);",
            )
            .await;
        assert_eq!(off_screen, json!([]), "controls off screen at {width} px");
    }
    b.toggle("short").await;
    eventually!(
        app.rows()[1].completed,
        "the toggle does not work on a narrow screen"
    );

    // Reduced motion: no transitions.
    b.devtools(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]}),
    )
    .await;
    assert_eq!(
        b.run("return getComputedStyle(document.querySelector('.todo-list li label')).transitionDuration")
            .await,
        json!("0s")
    );
    b.close().await;
}
