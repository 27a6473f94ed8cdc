//! The /todos API as Backbone.sync and Todo-Backend clients use it.

use serde_json::json;

use crate::helpers::{Backend, Row, TodoBody, spawn_app, todos_suite};

async fn empty_list_on_both_collection_paths(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/todos", "/todos/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        assert_eq!(
            response.json::<Vec<TodoBody>>().await.unwrap(),
            vec![],
            "{path}"
        );
    }
}

async fn create_returns_201_the_todo_and_its_location(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.url("/todos/"))
        .json(&json!({"title": "  buy milk  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let todo: TodoBody = response.json().await.unwrap();
    let id = todo.id;
    let url = app.url(&format!("/todos/{id}"));
    assert_eq!(
        todo,
        TodoBody {
            id,
            title: "buy milk".into(),
            order: 1,
            completed: false,
            url: url.clone(),
            version: 1
        }
    );
    assert_eq!(location, url);
    assert_eq!(
        app.rows(),
        vec![Row {
            id,
            title: "buy milk".into(),
            position: 1,
            completed: false
        }]
    );

    // The URL it gave works.
    let fetched: TodoBody = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, todo);
}

async fn create_without_slash_and_with_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.url("/todos"))
        .json(&json!({"title": "a", "order": 7, "completed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let todo: TodoBody = response.json().await.unwrap();
    assert_eq!((todo.order, todo.completed), (7, true));
}

async fn create_ignores_client_id_url_and_unknown_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    // A body with any field besides the API's own would not parse as a TodoBody.
    let todo = app
        .create_todo(json!({"id": 4242, "url": "http://evil/x", "title": "t", "colour": "red"}))
        .await;
    assert_ne!(todo.id, 4242);
    assert_eq!(todo.url, app.url(&format!("/todos/{}", todo.id)));
    assert_eq!(app.rows().len(), 1);
    assert_ne!(app.rows()[0].id, 4242);
}

async fn order_defaults_to_one_more_than_the_highest(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut orders = Vec::new();
    for body in [
        json!({"title": "a"}),
        json!({"title": "b", "order": 10}),
        json!({"title": "c"}),
        json!({"title": "d", "order": -5}),
        json!({"title": "e"}),
    ] {
        orders.push(app.create_todo(body).await.order);
    }
    assert_eq!(orders, [1, 10, 11, -5, 12]);
}

async fn order_at_the_top_of_the_range_does_not_overflow(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "last", "order": i32::MAX}))
        .await;
    let next = app.create_todo(json!({"title": "after"})).await;
    assert_eq!(next.order, i32::MAX);
    let titles: Vec<_> = app.list().await.into_iter().map(|t| t.title).collect();
    assert_eq!(titles, ["last", "after"]);
}

async fn list_is_sorted_by_order_then_id(backend: Backend) {
    let app = spawn_app(backend).await;
    for (title, order) in [("c", 3), ("a1", 1), ("b", 2), ("a2", 1)] {
        app.create(json!({"title": title, "order": order})).await;
    }
    let titles: Vec<_> = app.list().await.into_iter().map(|t| t.title).collect();
    assert_eq!(titles, ["a1", "a2", "b", "c"]);
}

async fn get_one_todo(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create_todo(json!({"title": "x"})).await;
    let response = app.client.get(app.url(&todo.path())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<TodoBody>().await.unwrap(), todo);
}

async fn put_and_patch_change_only_the_fields_present(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create_todo(json!({"title": "first", "order": 5})).await;
    let url = app.url(&todo.path());

    let response = app
        .client
        .patch(&url)
        .json(&json!({"completed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let patched: TodoBody = response.json().await.unwrap();
    assert_eq!(
        (patched.title.as_str(), patched.order, patched.completed),
        ("first", 5, true)
    );

    let response = app
        .client
        .put(&url)
        .json(&json!({"title": " second "}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let put: TodoBody = response.json().await.unwrap();
    assert_eq!(
        (put.title.as_str(), put.order, put.completed),
        ("second", 5, true)
    );
    let row = &app.rows()[0];
    assert_eq!(
        (row.title.as_str(), row.position, row.completed),
        ("second", 5, true)
    );
}

async fn put_of_the_whole_backbone_model_ignores_id_and_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create_todo(json!({"title": "keep"})).await;
    let other = app.create_todo(json!({"title": "other"})).await;
    let model = json!({
        "id": other.id,
        "url": "http://elsewhere/todos/1",
        "order": 9,
        "title": todo.title,
        "completed": todo.completed,
        "version": todo.version,
    });
    let url = app.url(&todo.path());
    let updated: TodoBody = app
        .client
        .put(&url)
        .json(&model)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (updated.id, &updated.url, updated.order),
        (todo.id, &todo.url, 9)
    );
    let rows = app.rows();
    assert_eq!(
        (rows[0].position, rows[1].title.as_str(), rows[1].position),
        (9, "other", 2)
    );
}

async fn put_with_an_empty_object_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let todo = app.create_todo(json!({"title": "same"})).await;
    let url = app.url(&todo.path());
    let response = app.client.put(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<TodoBody>().await.unwrap(), todo);
}

async fn delete_one_todo(backend: Backend) {
    let app = spawn_app(backend).await;
    let gone = app.create_todo(json!({"title": "gone"})).await;
    let kept = app.create_todo(json!({"title": "kept"})).await;
    let url = app.url(&gone.path());
    let response = app.client.delete(&url).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(app.client.delete(&url).send().await.unwrap().status(), 404);
    let rows = app.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, kept.id);
}

async fn ids_of_deleted_todos_are_not_reused(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.create_todo(json!({"title": "a"})).await;
    app.client
        .delete(app.url(&first.path()))
        .send()
        .await
        .unwrap();
    let second = app.create_todo(json!({"title": "b"})).await;
    assert_ne!(first.id, second.id);
}

async fn delete_collection_clears_everything(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "a"})).await;
    app.create(json!({"title": "b", "completed": true})).await;
    for path in ["/todos/", "/todos"] {
        let response = app.client.delete(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 204, "{path}");
        assert!(app.rows().is_empty());
    }
}

async fn clear_completed_in_one_call(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "active"})).await;
    app.create(json!({"title": "done", "completed": true}))
        .await;
    app.create(json!({"title": "done too", "completed": true}))
        .await;
    let response = app
        .client
        .delete(app.url("/todos/?completed=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let titles: Vec<_> = app.rows().into_iter().map(|row| row.title).collect();
    assert_eq!(titles, ["active"]);

    let response = app
        .client
        .delete(app.url("/todos/?completed=false"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(app.rows().is_empty());
}

async fn urls_follow_the_host_the_client_used(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .client
        .post(app.url("/todos/"))
        .header("host", "todo.example:9000")
        .header("origin", "http://todo.example:9000")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    let todo: TodoBody = response.json().await.unwrap();
    assert_eq!(
        todo.url,
        format!(
            "http://todo.example:9000{}",
            app.path(&format!("/todos/{}", todo.id))
        )
    );
}

/// The list and the page are kept between requests, but never outlive a change to the database,
/// whoever makes it, by more than the documented bound (`freshness::RECHECK_AFTER`).
async fn the_list_follows_changes_made_outside_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "as created"})).await;
    let read = || async {
        crate::helpers::past_the_bound(backend).await;
        let list = app.list().await;
        let page = app.get_text("/").await;
        (list, page)
    };
    let (list, page) = read().await;
    assert_eq!(list[0].title, "as created");
    assert!(page.contains("<label>as created</label>"));

    let insert = format!(
        "INSERT INTO todos (title, position, list_id) \
         VALUES ('inserted behind its back', 9, {})",
        app.list_id_sql()
    );
    for (sql, title) in [
        (
            "UPDATE todos SET title = 'changed behind its back'",
            Some("changed behind its back"),
        ),
        (insert.as_str(), Some("inserted behind its back")),
        ("DELETE FROM todos", None),
    ] {
        app.database.execute(sql);
        let (list, page) = read().await;
        match title {
            Some(title) => {
                assert!(
                    list.iter().any(|todo| todo.title == title),
                    "{sql}: {list:?}"
                );
                assert!(page.contains(&format!("<label>{title}</label>")), "{sql}");
            }
            None => {
                assert_eq!(list, vec![], "{sql}");
                let list = &page[page.find(r#"<ul class="todo-list">"#).unwrap()..];
                let list = &list[..list.find("</ul>").unwrap()];
                assert!(!list.contains("<label>"), "{sql}");
            }
        }
    }
}

todos_suite!(
    the_list_follows_changes_made_outside_the_server,
    empty_list_on_both_collection_paths,
    create_returns_201_the_todo_and_its_location,
    create_without_slash_and_with_every_field,
    create_ignores_client_id_url_and_unknown_keys,
    order_defaults_to_one_more_than_the_highest,
    order_at_the_top_of_the_range_does_not_overflow,
    list_is_sorted_by_order_then_id,
    get_one_todo,
    put_and_patch_change_only_the_fields_present,
    put_of_the_whole_backbone_model_ignores_id_and_url,
    put_with_an_empty_object_changes_nothing,
    delete_one_todo,
    ids_of_deleted_todos_are_not_reused,
    delete_collection_clears_everything,
    clear_completed_in_one_call,
    urls_follow_the_host_the_client_used,
);
