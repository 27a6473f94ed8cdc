//! A task made in a CalDAV client shows on an open page without a reload, through the live
//! stream, like any other change.

use serde_json::json;

use crate::caldav_clients::{client, python};
use crate::helpers::{Backend, Browser, eventually, spawn_app};

#[tokio::test]
async fn a_task_from_a_caldav_client_appears_on_an_open_page() {
    let Some(python) = python("a_task_from_a_caldav_client_appears_on_an_open_page") else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "from the web"})).await;
    let token = app
        .create_token(app.user.as_ref().expect("alice"), "phone")
        .await;
    let Some(b) = Browser::open(&app, "caldav_live").await else {
        return;
    };
    assert_eq!(b.state().await["visible"], json!(["from the web"]));
    assert_eq!(
        client(&python, &app, &token, &["create", "from the phone"]).await,
        json!("created")
    );
    eventually!(
        b.state().await["visible"] == json!(["from the web", "from the phone"]),
        "the task never appeared: {}",
        b.state().await
    );
    b.close().await;
}
