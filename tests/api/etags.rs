//! Conditional GETs: `GET /todos/` and the page carry an ETag of the caller's list state and of
//! what else the bytes depend on; `If-None-Match` with the present tag gets 304 and no body.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app, todos_suite_per_engine};

async fn get(app: &TestApp, path: &str, tag: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(tag) = tag {
        request = request.header("if-none-match", tag);
    }
    request.send().await.unwrap()
}

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

async fn a_present_tag_gets_304_and_a_change_a_new_one(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/todos/", "/", "/active"] {
        let first = get(&app, path, None).await;
        assert_eq!(first.status(), 200, "{path}");
        let tag = etag(&first);
        let again = get(&app, path, Some(&tag)).await;
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(etag(&again), tag);
        assert_eq!(again.headers()["cache-control"], "private, no-cache");
        assert!(again.bytes().await.unwrap().is_empty(), "a 304 has no body");
        // In a list of tags, or weak, or `*`.
        for header in [format!("\"x\", {tag}"), format!("W/{tag}"), "*".to_owned()] {
            assert_eq!(
                get(&app, path, Some(&header)).await.status(),
                304,
                "{header}"
            );
        }
        assert_eq!(get(&app, path, Some("\"other\"")).await.status(), 200);
    }
    let json_tag = etag(&get(&app, "/todos/", None).await);
    let page_tag = etag(&get(&app, "/", None).await);
    let active_tag = etag(&get(&app, "/active", None).await);
    assert!(
        json_tag != page_tag && page_tag != active_tag,
        "one tag per representation"
    );

    app.create(json!({"title": "a change"})).await;
    let after = get(&app, "/todos/", Some(&json_tag)).await;
    assert_eq!(after.status(), 200, "the list changed");
    assert_ne!(etag(&after), json_tag);
    let body: Value = after.json().await.unwrap();
    assert_eq!(body[0]["title"], "a change");
    assert_eq!(get(&app, "/", Some(&page_tag)).await.status(), 200);
}

async fn another_list_changing_keeps_the_tag(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "mine"})).await;
    let tag = etag(&get(&app, "/todos/", None).await);
    let bob = app.sign_up("bob", crate::helpers::PASSWORD).await;
    // Bob's own list.
    let response = app
        .client_for(&bob)
        .post(format!("{}/todos/", app.address))
        .json(&json!({"title": "bob's"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(get(&app, "/todos/", Some(&tag)).await.status(), 304);
    // The host the URLs are written with is part of what the tag covers.
    let other_host = app
        .client
        .get(app.url("/todos/"))
        .header("host", "localhost")
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(other_host.status(), 200);
}

todos_suite_per_engine!(
    a_present_tag_gets_304_and_a_change_a_new_one,
    another_list_changing_keeps_the_tag,
);

/// One step of the property test.
#[derive(Debug, Clone)]
enum Step {
    Create,
    Toggle(usize),
    Rename(usize),
    /// A write that changes nothing: the same title again.
    Same(usize),
    Delete(usize),
    /// Another user's write.
    Elsewhere,
    /// The change log trimmed to its newest `n` changes.
    Trim(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Create),
        2 => (0usize..8).prop_map(Step::Toggle),
        1 => (0usize..8).prop_map(Step::Rename),
        1 => (0usize..8).prop_map(Step::Same),
        2 => (0usize..8).prop_map(Step::Delete),
        2 => Just(Step::Elsewhere),
        1 => (0i64..4).prop_map(Step::Trim),
    ]
}

async fn apply(app: &TestApp, other: &reqwest::Client, step: &Step, n: &mut u32) {
    let list = app.get_json("/todos/").await;
    let list = list.as_array().unwrap();
    let pick = |i: usize| (!list.is_empty()).then(|| &list[i % list.len()]);
    *n += 1;
    match step {
        Step::Create => {
            app.create(json!({ "title": format!("todo {n}") })).await;
        }
        Step::Toggle(i) | Step::Rename(i) | Step::Same(i) => {
            let Some(todo) = pick(*i) else { return };
            let body = match step {
                Step::Toggle(_) => json!({"completed": !todo["completed"].as_bool().unwrap()}),
                Step::Rename(_) => json!({"title": format!("renamed {n}")}),
                _ => json!({}),
            };
            let response = app
                .client
                .patch(app.url(&format!("/todos/{}", todo["id"])))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
        Step::Delete(i) => {
            let Some(todo) = pick(*i) else { return };
            let response = app
                .client
                .delete(app.url(&format!("/todos/{}", todo["id"])))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 204);
        }
        Step::Elsewhere => {
            let response = other
                .post(app.url("/todos/"))
                .json(&json!({"title": "elsewhere"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
        Step::Trim(keep) => {
            let (pool, keep) = (app.pool.clone(), *keep);
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().unwrap();
                todomvc::models::Change::trim(&mut conn, keep).unwrap();
            })
            .await
            .unwrap();
        }
    }
}

/// After random writes (the caller's, another user's, none at all) and trims of the change log,
/// a tag seen before gets 304 only while the body it came with is still the body (never stale),
/// and does get 304 while nothing touched the caller's list (another user's writes and writes
/// that change nothing keep it). A list that changed and changed back, or whose changes were all
/// trimmed from the log (from then on), may get a new tag: a 200 with the same body.
#[test]
fn a_tag_gets_304_exactly_while_its_body_is_current() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(step(), 1..14), |steps| {
            runtime.block_on(async {
                let app = spawn_app(Backend::Sqlite).await;
                let bob = app.sign_up("bob", crate::helpers::PASSWORD).await;
                let other = app.client_for(&bob);
                // (path, tag, body, whether the list may have moved on since)
                let mut seen: Vec<(String, String, Vec<u8>, bool)> = Vec::new();
                let mut n = 0;
                let mut trimmed = false;
                for step in &steps {
                    for path in ["/todos/", "/"] {
                        let response = get(&app, path, None).await;
                        let tag = etag(&response);
                        let body = response.bytes().await.unwrap().to_vec();
                        seen.push((path.to_owned(), tag, body, false));
                    }
                    let before = app.get_json("/todos/").await;
                    apply(&app, &other, step, &mut n).await;
                    // A trim may change the tag of an untouched list, then or at the next
                    // rendering (the kept one is served until any list changes).
                    trimmed |= matches!(step, Step::Trim(_));
                    let touched = trimmed || app.get_json("/todos/").await != before;
                    for (path, tag, body, moved) in &mut seen {
                        *moved |= touched;
                        let now = get(&app, path, None).await.bytes().await.unwrap().to_vec();
                        let status = get(&app, path, Some(tag)).await.status();
                        if status == 304 {
                            assert_eq!(&now, body, "{path}: 304 for a stale tag after {steps:?}");
                        } else {
                            assert_eq!(status, 200);
                            assert!(
                                *moved,
                                "{path}: a new tag though nothing changed, after {steps:?}"
                            );
                        }
                    }
                }
            });
            Ok(())
        })
        .unwrap();
}
