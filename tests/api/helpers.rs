//! Starts the real application on a free port with a database of its own.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};
use serde_json::Value;
use tempfile::TempDir;
use todomvc::config::Settings;
use todomvc::db::{self, DbPool};

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    /// The application's own pool, for tests that need to starve it.
    pub pool: DbPool,
    pub db_path: PathBuf,
    _dir: TempDir,
}

/// A row of the todos table, read with plain SQL so the checks do not rely on the model's queries.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Row {
    #[diesel(sql_type = Integer)]
    pub id: i32,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Integer)]
    pub position: i32,
    #[diesel(sql_type = Bool)]
    pub completed: bool,
}

/// The test environment's settings from the repository's `config/`, with no variables set.
pub fn test_settings() -> Settings {
    let vars = HashMap::from([("APP_ENV".to_owned(), "test".to_owned())]);
    Settings::load_from(Path::new("config"), &vars).expect("config/test.toml loads")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `customize` has adjusted the test settings.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("todos.db");
    let mut settings = test_settings();
    settings.database.url = Some(db_path.display().to_string());
    customize(&mut settings);

    let pool = db::connect(&settings.database).expect("database opens");
    db::run_pending_migrations(&mut pool.get().expect("connection")).expect("migrations");
    let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
    let port = listener.local_addr().expect("bound").port();
    let server = todomvc::startup::run(listener, pool.clone(), &settings).expect("server");
    tokio::spawn(server);

    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        pool,
        db_path,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Creates a todo through the API and returns its JSON.
    pub async fn create(&self, body: Value) -> Value {
        let response = self
            .client
            .post(self.url("/todos/"))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "creating {body}");
        response.json().await.expect("JSON body")
    }

    /// Every row of the todos table, by id, read straight from the database file.
    pub fn rows(&self) -> Vec<Row> {
        rows_at(&self.db_path)
    }
}

/// Every row of the todos table in the SQLite file at `path`, by id.
pub fn rows_at(path: &Path) -> Vec<Row> {
    let mut conn = SqliteConnection::establish(&path.display().to_string()).expect("open database");
    diesel::sql_query("SELECT id, title, position, completed FROM todos ORDER BY id")
        .load(&mut conn)
        .expect("read todos")
}

/// Sends a request with a raw body and content type; returns status, headers and JSON body.
pub async fn send_raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = app.client.request(method, app.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"))
    };
    (status, headers, json)
}
