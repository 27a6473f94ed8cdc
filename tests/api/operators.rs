//! The operator's commands: `todomvc export`, `import` and `backup`, run as the real binary.

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use diesel::sql_types::Text;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestDatabase, on_both_backends, spawn_app, spawn_app_on};

pub fn todomvc(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .args(args)
        .env("APP_ENV", "test")
        .env("DATABASE_URL", database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn export_then_import_reproduces_the_todos(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "first", "order": 5})).await;
    let gone = app.create(json!({"title": "deleted"})).await;
    app.create(json!({"title": "third \"quoted\" <b>", "completed": true}))
        .await;
    app.client
        .delete(app.url(&format!("/todos/{}", gone["id"])))
        .send()
        .await
        .unwrap();

    let exported = stdout(&todomvc(
        &app.database.url,
        &["export", "--user", "alice"],
        None,
    ));
    // Without --user, the export is of the todos that belong to nobody: none here.
    assert_eq!(
        stdout(&todomvc(&app.database.url, &["export"], None)).trim(),
        "[]"
    );
    // A user's export holds their lists, each with its members and todos.
    let export: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(export["format"], "todomvc-lists");
    assert_eq!(export["lists"].as_array().unwrap().len(), 1);
    assert_eq!(export["lists"][0]["title"], "Todos");
    assert_eq!(export["lists"][0]["default"], true);
    assert_eq!(export["lists"][0]["members"], json!([]));
    let records = &export["lists"][0]["todos"];
    assert_eq!(records.as_array().unwrap().len(), 2);
    assert_eq!(
        records[0],
        json!({"id": 1, "title": "first", "order": 5, "completed": false})
    );

    // Into a fresh database, from a file and from standard input alike.
    let restored = spawn_app(backend).await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &exported).unwrap();
    let path = file.path().to_str().unwrap();
    let alice = ["--user", "alice"];
    assert_eq!(
        stdout(&todomvc(
            &restored.database.url,
            &["import", path, alice[0], alice[1]],
            None
        ))
        .trim(),
        "imported 1 lists with 2 todos and 0 members for alice"
    );
    assert_eq!(
        stdout(&todomvc(
            &restored.database.url,
            &["export", alice[0], alice[1]],
            None
        )),
        exported
    );
    let other = TestDatabase::create(backend);
    stdout(&todomvc(&other.url, &["migrate", "run"], None));
    stdout(&todomvc(
        &other.url,
        &["users", "add", "alice"],
        Some("a long password\n"),
    ));
    stdout(&todomvc(
        &other.url,
        &["import", "-", alice[0], alice[1]],
        Some(&exported),
    ));
    assert_eq!(
        stdout(&todomvc(&other.url, &["export", alice[0], alice[1]], None)),
        exported
    );
    let nobody = todomvc(&other.url, &["export", "--user", "bob"], None);
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("there is no user \"bob\""));

    // The restored server hands out new ids after the imported ones.
    let next = restored.create(json!({"title": "after the import"})).await;
    assert_eq!(next["id"], 4, "ids continue after the highest imported one");
}

async fn a_bad_record_stops_the_whole_import(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create(json!({"title": "already here"})).await;
    let before = app.rows();
    let cases = [
        (
            json!([{"title": "ok"}, {"title": "  "}]).to_string(),
            "record 2: title must not be empty",
        ),
        (
            json!([{"title": "ok"}, {"title": "x", "order": 1.5}]).to_string(),
            "record 2: order",
        ),
        (
            json!([{"title": "a", "id": 7}, {"title": "b", "id": 7}]).to_string(),
            "record 2: id 7 appears twice",
        ),
        (
            json!([{"title": "a"}, {"title": "b", "id": -3}]).to_string(),
            "record 2: id must be a positive",
        ),
        (
            json!([{"title": "new"}, {"title": "clash", "id": before[0].id}]).to_string(),
            "is already in the database",
        ),
        (
            json!([{"title": "a"}, "not an object"]).to_string(),
            "record 2: expected a JSON object",
        ),
        (
            json!({"title": "not a list"}).to_string(),
            "expected a JSON array",
        ),
        ("[{\"title\": \"truncated\"".to_owned(), "not an export"),
    ];
    for (file, message) in cases {
        let output = todomvc(
            &app.database.url,
            &["import", "-", "--user", "alice"],
            Some(&file),
        );
        assert!(!output.status.success(), "{file}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{file}: {stderr}");
        assert_eq!(app.rows(), before, "{file} changed the database");
    }
    let missing = todomvc(
        &app.database.url,
        &["import", "/nonexistent/export.json"],
        None,
    );
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/export.json")
    );
}

#[derive(diesel::QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[tokio::test]
async fn backup_copies_a_live_sqlite_database_consistently() {
    let database = Arc::new(TestDatabase::create(Backend::Sqlite));
    let app = spawn_app_on(database.clone(), |_| {}).await;
    app.create(json!({"title": "before the backup"})).await;

    // Writers keep going while the backup runs.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = tokio::spawn({
        let (client, url, writing) = (app.client.clone(), app.url("/todos/"), writing.clone());
        async move {
            let mut written = 0;
            while writing.load(Ordering::Relaxed) {
                let response = client
                    .post(&url)
                    .json(&json!({"title": format!("w{written}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                written += 1;
            }
            written
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let copy_path = copy.to_str().unwrap().to_owned();
    let url = database.url.clone();
    let output = tokio::task::spawn_blocking(move || todomvc(&url, &["backup", &copy_path], None))
        .await
        .unwrap();
    assert!(stdout(&output).starts_with("backed up to"));
    writing.store(false, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written > 0);

    let backup = TestDatabase::existing_sqlite(copy.to_str().unwrap());
    let check: Vec<Check> = backup.load("PRAGMA integrity_check");
    assert_eq!(check[0].integrity_check, "ok");
    let copied = backup.rows();
    let live = app.rows();
    assert!(!copied.is_empty() && copied.len() <= live.len());
    assert_eq!(
        copied[..],
        live[..copied.len()],
        "the copy is a prefix of the live data"
    );

    // An existing file is never overwritten; PostgreSQL is pg_dump's job.
    let again = todomvc(&database.url, &["backup", copy.to_str().unwrap()], None);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    if crate::helpers::postgres_server("backup_refuses_postgres").is_some() {
        let postgres = TestDatabase::create(Backend::Postgres);
        let refused = todomvc(
            &postgres.url,
            &["backup", dir.path().join("pg.db").to_str().unwrap()],
            None,
        );
        assert!(String::from_utf8_lossy(&refused.stderr).contains("pg_dump"));
    }
}

on_both_backends!(
    export_then_import_reproduces_the_todos,
    a_bad_record_stops_the_whole_import
);
