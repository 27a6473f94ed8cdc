//! Putting todos in order through the API (`POST /todos/{id}/move`), renumbering when a gap is
//! used up, and restoring a deleted todo under its id (`PUT /todos/{id}` with `If-None-Match: *`).

use serde_json::{Value, json};

use crate::helpers::{Backend, ErrorBody, PASSWORD, TestApp, TodoBody, spawn_app, todos_suite};

async fn move_after(app: &TestApp, id: i32, after: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/todos/{id}/move")))
        .json(&json!({ "after": after }))
        .send()
        .await
        .expect("request")
}

async fn moved(app: &TestApp, id: i32, after: Value) -> TodoBody {
    let response = move_after(app, id, after.clone()).await;
    assert_eq!(response.status(), 200, "moving {id} after {after}");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let todo: TodoBody = response.json().await.expect("a todo");
    assert_eq!(etag, format!("\"{}\"", todo.version));
    todo
}

async fn titles(app: &TestApp) -> Vec<String> {
    app.list()
        .await
        .into_iter()
        .map(|todo| todo.title)
        .collect()
}

async fn a_move_writes_only_the_moved_todo_between_its_neighbours(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.create_todo(json!({"title": "a", "order": 10})).await;
    let b = app.create_todo(json!({"title": "b", "order": 20})).await;
    let c = app.create_todo(json!({"title": "c", "order": 30})).await;

    let todo = moved(&app, c.id, json!(a.id)).await;
    assert_eq!((todo.id, todo.order, todo.version), (c.id, 15, 2));
    assert_eq!(titles(&app).await, ["a", "c", "b"]);
    // The others are untouched: same order, same version.
    let list = app.list().await;
    assert_eq!(list[0], a);
    assert_eq!(list[2], b);

    let top = moved(&app, b.id, Value::Null).await;
    assert!(top.order < 10, "{top:?}");
    let bottom = moved(&app, a.id, json!(c.id)).await;
    assert!(bottom.order > 15, "{bottom:?}");
    assert_eq!(titles(&app).await, ["b", "c", "a"]);
    let rows: Vec<(String, i32)> = app
        .rows()
        .into_iter()
        .map(|row| (row.title, row.position))
        .collect();
    assert!(rows.contains(&("c".into(), 15)), "{rows:?}");

    // Already in place: nothing is written.
    let same = moved(&app, c.id, json!(b.id)).await;
    assert_eq!((same.order, same.version), (15, 2));
}

async fn many_moves_into_one_gap_renumber_the_list_and_keep_it_whole(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut expected = Vec::new();
    for n in 0..12 {
        let todo = app.create_todo(json!({"title": format!("t{n}")})).await;
        expected.push(todo.id);
    }
    let first = expected[0];
    let mut renumbered = 0;
    // Each time, the last todo goes just after the first: into the same gap, again and again.
    for round in 0..30 {
        let last = *expected.last().unwrap();
        let before = app.list().await;
        moved(&app, last, json!(first)).await;
        expected.pop();
        expected.insert(1, last);
        let after = app.list().await;
        let ids: Vec<i32> = after.iter().map(|todo| todo.id).collect();
        assert_eq!(ids, expected, "round {round}");
        let orders: Vec<i32> = after.iter().map(|todo| todo.order).collect();
        assert!(
            orders.windows(2).all(|pair| pair[0] < pair[1]),
            "round {round}: orders must be distinct and rising: {orders:?}"
        );
        let others_written = after
            .iter()
            .filter(|todo| todo.id != last)
            .filter(|todo| {
                before
                    .iter()
                    .any(|old| old.id == todo.id && old.version != todo.version)
            })
            .count();
        if others_written > 0 {
            renumbered += 1;
        }
    }
    assert!(
        renumbered >= 1,
        "30 moves into one gap must renumber the list"
    );
    assert!(
        renumbered <= 10,
        "renumbering leaves room for the next moves: {renumbered}"
    );
    assert_eq!(app.rows().len(), 12);
}

async fn refused_moves_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.create_todo(json!({"title": "a"})).await;
    let b = app.create_todo(json!({"title": "b"})).await;
    let cases = [
        (json!({}), 422, Some("after")),
        (json!({"after": "1"}), 422, Some("after")),
        (json!({"after": 1.5}), 422, Some("after")),
        (json!({"after": 99_999}), 422, Some("after")),
        (json!({"after": b.id}), 422, Some("after")),
    ];
    for (body, status, field) in cases {
        let response = app
            .client
            .post(app.url(&format!("/todos/{}/move", b.id)))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
        let error: ErrorBody = response.json().await.unwrap();
        assert_eq!(error.field.as_deref(), field, "{body}");
    }
    let missing = move_after(&app, 99_999, json!(a.id)).await;
    assert_eq!(missing.status(), 404);

    let stale = app
        .client
        .post(app.url(&format!("/todos/{}/move", b.id)))
        .header("if-match", "\"7\"")
        .json(&json!({"after": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let error: ErrorBody = stale.json().await.unwrap();
    assert_eq!(error.current, Some(b.clone()));
    assert_eq!(app.list().await, vec![a, b]);
}

async fn a_keyed_move_is_made_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.create_todo(json!({"title": "a"})).await;
    let b = app.create_todo(json!({"title": "b"})).await;
    let send = || {
        app.client
            .post(app.url(&format!("/todos/{}/move", b.id)))
            .header("idempotency-key", "move-b-to-top")
            .header("if-match", format!("\"{}\"", b.version))
            .json(&json!({"after": null}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 200);
    let first: TodoBody = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), 200, "the kept answer, not a 412");
    assert!(again.headers().contains_key("idempotent-replayed"));
    assert_eq!(again.json::<TodoBody>().await.unwrap(), first);
    let list = app.list().await;
    assert_eq!(list.iter().map(|t| t.id).collect::<Vec<_>>(), [b.id, a.id]);
    assert_eq!(list[0].version, b.version + 1, "moved once");
}

async fn restore(app: &TestApp, id: i32, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/todos/{id}")))
        .header("if-none-match", "*")
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn a_deleted_todo_comes_back_under_its_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let keep = app.create_todo(json!({"title": "keep"})).await;
    let gone = app
        .create_todo(json!({"title": "Buy milk", "order": 7, "completed": true}))
        .await;
    let renamed = app
        .client
        .patch(app.url(&gone.path()))
        .json(&json!({"title": "Buy oat milk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let deleted = app
        .client
        .delete(app.url(&gone.path()))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    // Without If-None-Match a PUT on a deleted id is what it always was.
    let plain = app
        .client
        .put(app.url(&gone.path()))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 404);

    let body = json!({"title": "Buy oat milk", "order": 7, "completed": true});
    let response = restore(&app, gone.id, &body).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let back: TodoBody = response.json().await.unwrap();
    assert_eq!(back.id, gone.id, "the same id, not a copy");
    assert_eq!(
        (back.title.as_str(), back.order, back.completed),
        ("Buy oat milk", 7, true)
    );
    assert_eq!(back.version, 3, "above every version it had (1, then 2)");
    assert_eq!(location, app.url(&gone.path()));
    assert_eq!(etag, "\"3\"");
    assert_eq!(app.list().await, vec![keep, back.clone()]);
    assert!(
        app.rows()
            .iter()
            .any(|row| row.id == gone.id && row.title == "Buy oat milk")
    );

    // Once there, a second restore finds it: 412 with the todo as it is.
    let again = restore(&app, gone.id, &body).await;
    assert_eq!(again.status(), 412);
    let error: ErrorBody = again.json().await.unwrap();
    assert_eq!(error.current, Some(back));
    assert!(
        error.error.contains("nothing to restore"),
        "{}",
        error.error
    );
}

async fn only_a_todo_deleted_from_this_list_can_be_restored(backend: Backend) {
    let app = spawn_app(backend).await;
    let live = app.create_todo(json!({"title": "here"})).await;
    for id in [99_999, live.id + 1] {
        let response = restore(&app, id, &json!({"title": "made up"})).await;
        assert_eq!(response.status(), 404, "id {id}");
    }
    // A todo of another list (another user's, deleted there) is not this list's to bring back.
    let bobs = app.client_for(&app.sign_up("bob", PASSWORD).await);
    let response = bobs
        .post(format!("{}/todos/", app.address))
        .json(&json!({"title": "bob's"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let todo: TodoBody = response.json().await.unwrap();
    let deleted = bobs
        .delete(format!("{}/todos/{}", app.address, todo.id))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let response = restore(&app, todo.id, &json!({"title": "bob's"})).await;
    assert_eq!(response.status(), 404);
    let untitled = app
        .client
        .delete(app.url(&live.path()))
        .send()
        .await
        .unwrap();
    assert_eq!(untitled.status(), 204);
    let response = restore(&app, live.id, &json!({"completed": true})).await;
    assert_eq!(response.status(), 422);
    assert!(app.rows().iter().all(|row| row.id != live.id));
}

todos_suite!(
    a_move_writes_only_the_moved_todo_between_its_neighbours,
    many_moves_into_one_gap_renumber_the_list_and_keep_it_whole,
    refused_moves_change_nothing,
    a_keyed_move_is_made_once,
    a_deleted_todo_comes_back_under_its_id,
    only_a_todo_deleted_from_this_list_can_be_restored,
);
