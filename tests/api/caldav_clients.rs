//! A real CalDAV client nobody here wrote: the `caldav` library from PyPI discovers the lists,
//! then creates, searches, completes and deletes tasks, each checked through the JSON API; and a
//! web edit is what the client reads next. `tests/clients/caldav_tasks.py` drives it.
//!
//! It needs a Python with `caldav` installed: `CALDAV_PYTHON`, or the virtualenv `.ci/run`
//! makes (`target/pyclients/venv`, see the README's "CalDAV"). Without one the test skips,
//! saying so, except under CI=true, where it fails.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_engines, skip, spawn_app};

/// The Python that has the `caldav` library, if there is one.
pub(crate) fn python(test: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os("CALDAV_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pyclients/venv/bin/python"),
        PathBuf::from,
    );
    let works = Command::new(&candidate)
        .args(["-c", "import caldav"])
        .output()
        .is_ok_and(|output| output.status.success());
    if works {
        return Some(candidate);
    }
    skip(&format!(
        "CalDAV client test {test} needs Python with the caldav library: `python3 -m venv \
         target/pyclients/venv && target/pyclients/venv/bin/pip install caldav==3.6.0`, or \
         CALDAV_PYTHON naming such a python"
    ));
    None
}

/// Runs one command of the client script and returns what it printed (JSON).
pub(crate) async fn client(
    python: &PathBuf,
    app: &TestApp,
    token: &str,
    command: &[&str],
) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/caldav_tasks.py");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg(format!("{}/dav/", app.address))
        .arg("alice")
        .arg(token)
        .args(command);
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the client ran")
        .expect("the client started");
    assert!(
        output.status.success(),
        "caldav {command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "caldav {command:?} printed no JSON ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

async fn the_caldav_library_manages_tasks_seen_on_the_web(backend: Backend) {
    let Some(python) = python("the_caldav_library_manages_tasks_seen_on_the_web") else {
        return;
    };
    let app = spawn_app(backend).await;
    let alice = app.user.as_ref().expect("alice");
    let token = app.create_token(alice, "caldav").await;

    assert_eq!(
        client(&python, &app, &token, &["lists"]).await,
        json!(["Todos"])
    );
    assert_eq!(
        client(&python, &app, &token, &["create", "Buy milk"]).await,
        json!("created")
    );
    let list = app.get_json("/todos/").await;
    assert_eq!(list[0]["title"], "Buy milk", "{list}");
    assert_eq!(list[0]["completed"], false);

    // A todo made on the web is one of the client's tasks.
    app.create(json!({"title": "Walk the dog"})).await;
    assert_eq!(
        client(&python, &app, &token, &["open"]).await,
        json!(["Buy milk", "Walk the dog"])
    );
    assert_eq!(
        client(&python, &app, &token, &["complete", "Buy milk"]).await,
        json!("completed")
    );
    let list = app.get_json("/todos/").await;
    assert_eq!(list[0]["completed"], true, "{list}");
    assert_eq!(
        client(&python, &app, &token, &["open"]).await,
        json!(["Walk the dog"])
    );

    // A web edit is what the client reads next.
    let id = list[1]["id"].clone();
    let renamed = app
        .client
        .patch(app.url(&format!("/todos/{id}")))
        .json(&json!({"title": "Walk the cat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(
        client(&python, &app, &token, &["all"]).await,
        json!(["Buy milk", "Walk the cat"])
    );
    assert_eq!(
        client(&python, &app, &token, &["delete", "Buy milk"]).await,
        json!("deleted")
    );
    let list = app.get_json("/todos/").await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["title"], "Walk the cat");
}

on_both_engines!(the_caldav_library_manages_tasks_seen_on_the_web);
