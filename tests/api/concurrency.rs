//! Many writers at once: every request succeeds and every write is in the database.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app, todos_suite};

const WRITERS: usize = 64;

async fn parallel_creates_and_updates_all_succeed(backend: Backend) {
    let app = spawn_app(backend).await;

    let creates = (0..WRITERS).map(|i| {
        let client = app.client.clone();
        let url = app.url("/todos/");
        tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"title": format!("todo {i}")}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        })
    });
    let mut created = Vec::new();
    for task in creates.collect::<Vec<_>>() {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
        created.push(body);
    }

    let updates = created.iter().map(|todo| {
        let client = app.client.clone();
        let url = todo["url"].as_str().unwrap().to_owned();
        let title = format!("{} done", todo["title"].as_str().unwrap());
        tokio::spawn(async move {
            let response = client
                .put(url)
                .json(&json!({"title": title, "completed": true}))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    });
    for task in updates.collect::<Vec<_>>() {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }

    let rows = app.rows();
    assert_eq!(rows.len(), WRITERS);
    let titles: BTreeSet<_> = rows.iter().map(|row| row.title.clone()).collect();
    let expected: BTreeSet<_> = (0..WRITERS).map(|i| format!("todo {i} done")).collect();
    assert_eq!(titles, expected);
    assert!(rows.iter().all(|row| row.completed));
    // Each create got its own position.
    let positions: BTreeSet<_> = rows.iter().map(|row| row.position).collect();
    assert_eq!(positions.len(), WRITERS);
}

todos_suite!(parallel_creates_and_updates_all_succeed,);
