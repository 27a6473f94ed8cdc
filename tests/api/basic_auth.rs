//! HTTP Basic, as CalDAV clients send it: the username and an API token (an "app password").
//! The account's password is refused, and so is a token given with another user's name.

use serde_json::json;

use crate::helpers::{Backend, PASSWORD, on_both_engines, spawn_app};

fn basic(username: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"))
    )
}

async fn basic_takes_the_username_and_an_api_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user.as_ref().expect("the test user, alice");
    let token = app.create_token(alice, "phone").await;
    app.create(json!({"title": "from the web"})).await;
    let bob = app.sign_up("bob", PASSWORD).await;

    let get = |authorization: String| {
        app.anonymous
            .get(format!("{}/todos/", app.address))
            .header("authorization", authorization)
            .send()
    };
    let ok = get(basic("alice", &token)).await.unwrap();
    assert_eq!(ok.status(), 200);
    let list: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(list[0]["title"], "from the web", "alice's own list");
    let shouting = get(basic("ALICE", &token)).await.unwrap();
    assert_eq!(
        shouting.status(),
        200,
        "the username's letter case does not matter"
    );

    for (authorization, why) in [
        (basic("alice", PASSWORD), "the account's password"),
        (basic("bob", &token), "alice's token under bob's name"),
        (basic("alice", &alice.session), "a session's secret"),
        (basic("alice", &bob.session), "another session's secret"),
        ("Basic !!!".to_owned(), "not base64"),
        (basic("alice", ""), "no password"),
        ("Basic".to_owned(), "nothing"),
    ] {
        let refused = get(authorization).await.unwrap();
        assert_eq!(refused.status(), 401, "{why}");
    }

    // A write with Basic is a write like a Bearer one (no ambient credential: no same-origin rule).
    let created = app
        .anonymous
        .post(format!("{}/todos/", app.address))
        .header("authorization", basic("alice", &token))
        .json(&json!({"title": "from the phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(app.rows().len(), 2);
}

on_both_engines!(basic_takes_the_username_and_an_api_token);
