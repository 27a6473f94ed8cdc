//! Starts the real application on a free port with a database of its own, on either engine.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::SqlQuery;
use diesel::sql_types::{Bool, Integer, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use serde_json::Value;
use tempfile::TempDir;
use todomvc::config::{AuthMode, Settings};
use todomvc::db::{self, DbPool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How the test's client proves who it is, in accounts mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// The session cookie from signing up, with the page's own `Origin`.
    Cookie,
    /// `Authorization: Bearer` with an API token.
    Bearer,
}

tokio::task_local! {
    /// The credential `spawn_app` gives its client; the session cookie unless a test says otherwise.
    pub static CALLER: CallerKind;
}

/// Runs each named `async fn name(backend: Backend)` once per engine and per credential, as the
/// tests `sqlite::name` (session cookie), `sqlite_bearer::name` (API token), `postgres::name` and
/// `postgres_bearer::name`. The PostgreSQL ones need TEST_POSTGRES_URL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        crate::helpers::on_both_backends!(@engine sqlite, Sqlite, Cookie, $($name),*);
        crate::helpers::on_both_backends!(@engine sqlite_bearer, Sqlite, Bearer, $($name),*);
        crate::helpers::on_both_backends!(@engine postgres, Postgres, Cookie, $($name),*);
        crate::helpers::on_both_backends!(@engine postgres_bearer, Postgres, Bearer, $($name),*);
    };
    (@engine $module:ident, $engine:ident, $caller:ident, $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $name() {
                    let backend = crate::helpers::Backend::$engine;
                    if backend == crate::helpers::Backend::Postgres
                        && crate::helpers::postgres_server(stringify!($name)).is_none()
                    {
                        return;
                    }
                    crate::helpers::CALLER
                        .scope(crate::helpers::CallerKind::$caller, super::$name(backend))
                        .await
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

/// Like `on_both_backends`, for tests that choose their credentials themselves: once per engine.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        crate::helpers::on_both_backends!(@engine sqlite, Sqlite, Cookie, $($name),*);
        crate::helpers::on_both_backends!(@engine postgres, Postgres, Cookie, $($name),*);
    };
}
pub(crate) use on_both_engines;

/// The PostgreSQL server the tests may create databases on (TEST_POSTGRES_URL, a URL of a database
/// such as `postgres` that can run CREATE DATABASE). Unset: `None`, with a loud message, except under
/// CI=true, where a missing server is a failure.
pub fn postgres_server(test: &str) -> Option<String> {
    if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
        return Some(url);
    }
    let message = format!(
        "PostgreSQL test {test} needs TEST_POSTGRES_URL (for example \
         postgres://postgres@127.0.0.1:5432/postgres); `scripts/with-postgres cargo test` starts a \
         throwaway server and sets it"
    );
    skip(&message);
    None
}

/// A test that cannot run here because a component is missing (`message` says which and how to
/// get it). Under CI=true that is a failure. Elsewhere the test passes, and says so on the
/// terminal itself: libtest hides what a passing test prints, so the line is written to the
/// process's standard error directly, where `cargo test` shows it.
pub fn skip(message: &str) {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{message}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "*** SKIPPED: {message} ***");
}

/// A database for one test: a SQLite file in a temporary folder, or a PostgreSQL database created
/// for the test and dropped with it.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    _dir: Option<TempDir>,
    /// The server's admin URL and this test's database name.
    postgres: Option<(String, String)>,
}

static DATABASES: AtomicU32 = AtomicU32::new(0);

impl TestDatabase {
    pub fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDatabase {
                    backend,
                    url: dir.path().join("todos.db").display().to_string(),
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_server("TestDatabase::create").expect("TEST_POSTGRES_URL");
                let name = format!(
                    "todomvc_test_{}_{}",
                    std::process::id(),
                    DATABASES.fetch_add(1, Ordering::Relaxed)
                );
                let mut conn = PgConnection::establish(&admin).expect("PostgreSQL server");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create the test database");
                TestDatabase {
                    backend,
                    url: with_database(&admin, &name),
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    /// An existing SQLite file, left in place afterwards.
    pub fn existing_sqlite(path: &str) -> TestDatabase {
        TestDatabase {
            backend: Backend::Sqlite,
            url: path.to_owned(),
            _dir: None,
            postgres: None,
        }
    }

    /// Runs a statement on the PostgreSQL server's admin database, where `{db}` stands for this
    /// test's database (to cut it off and let it back in).
    pub fn admin_execute(&self, sql: &str) {
        let (admin, name) = self.postgres.as_ref().expect("a PostgreSQL test database");
        let mut conn = PgConnection::establish(admin).expect("PostgreSQL server");
        let sql = sql.replace("{db}", name);
        diesel::sql_query(&sql).execute(&mut conn).expect(&sql);
    }

    /// Runs a query on the admin database that returns rows of one `name` column, where `{db}`
    /// stands for this test's database; returns the values.
    pub fn admin_load(&self, sql: &str) -> Vec<String> {
        let (admin, name) = self.postgres.as_ref().expect("a PostgreSQL test database");
        let mut conn = PgConnection::establish(admin).expect("PostgreSQL server");
        let sql = sql.replace("{db}", name);
        diesel::sql_query(&sql)
            .load::<Name>(&mut conn)
            .expect(&sql)
            .into_iter()
            .map(|row| row.name)
            .collect()
    }

    /// Runs a query returning rows, on a connection of the test's own.
    pub fn load<T>(&self, sql: &str) -> Vec<T>
    where
        T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        let query: SqlQuery = diesel::sql_query(sql);
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url).expect("open SQLite");
                query.load(&mut conn).expect(sql)
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).expect("open PostgreSQL");
                query.load(&mut conn).expect(sql)
            }
        }
    }

    /// Runs a statement on a connection of the test's own.
    pub fn execute(&self, sql: &str) {
        let query = diesel::sql_query(sql);
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url).expect("open SQLite");
                query.execute(&mut conn).expect(sql);
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).expect("open PostgreSQL");
                query.execute(&mut conn).expect(sql);
            }
        }
    }

    /// Every row of the todos table, by id, read with plain SQL.
    pub fn rows(&self) -> Vec<Row> {
        self.load("SELECT id, title, position, completed FROM todos ORDER BY id")
    }

    /// Tables and indexes of the application's schema, by name (not the migrations table, not
    /// primary keys).
    pub fn schema_objects(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
                 AND name != '__diesel_schema_migrations' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT name FROM (SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' \
                 UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public' \
                 AND indexname NOT LIKE '%_pkey') AS objects \
                 WHERE name NOT LIKE '%diesel_schema_migrations%' ORDER BY name"
            }
        };
        self.load::<Name>(sql).into_iter().map(|n| n.name).collect()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// `postgres://host/admin_db?x` with its database swapped for `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

#[derive(QueryableByName)]
pub struct Name {
    #[diesel(sql_type = Text)]
    pub name: String,
}

/// A row of the todos table.
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

/// The test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// A user signed up through the sign-up form.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// The session token from the session cookie.
    pub session: String,
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// A client that carries the test user's credential (none in open mode).
    pub client: reqwest::Client,
    /// A client with no credential at all.
    pub anonymous: reqwest::Client,
    /// The user `client` acts for; `None` in open mode.
    pub user: Option<TestUser>,
    /// The application's own pool, for tests that need to starve it.
    pub pool: DbPool,
    pub database: Arc<TestDatabase>,
}

/// The test environment's settings from the repository's `config/`, with no variables set.
pub fn test_settings() -> Settings {
    let vars = HashMap::from([("APP_ENV".to_owned(), "test".to_owned())]);
    Settings::load_from(Path::new("config"), &vars).expect("config/test.toml loads")
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts the app on a new database after `customize` has adjusted the test settings.
pub async fn spawn_app_with(backend: Backend, customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(Arc::new(TestDatabase::create(backend)), customize).await
}

/// Starts the app on an existing test database (several apps may share one).
pub async fn spawn_app_on(
    database: Arc<TestDatabase>,
    customize: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = test_settings();
    settings.database.url = Some(database.url.clone());
    customize(&mut settings);

    let pool = db::connect(&settings.database).expect("database opens");
    db::run_pending_migrations(&mut pool.get().expect("connection")).expect("migrations");
    let listener = TcpListener::bind("127.0.0.1:0").expect("free port");
    let port = listener.local_addr().expect("bound").port();
    let running = todomvc::startup::run(listener, pool.clone(), &settings).expect("server");
    tokio::spawn(running.server);

    let mut app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: client_with(reqwest::header::HeaderMap::new()),
        anonymous: client_with(reqwest::header::HeaderMap::new()),
        user: None,
        pool,
        database,
    };
    if settings.auth.mode == AuthMode::Accounts {
        let user = app.alice().await;
        let kind = CALLER.try_with(|kind| *kind).unwrap_or(CallerKind::Cookie);
        app.client = match kind {
            CallerKind::Cookie => app.client_for(&user),
            CallerKind::Bearer => {
                let token = app.create_token(&user, "tests").await;
                app.bearer_client(&token)
            }
        };
        app.user = Some(user);
    }
    app
}

/// A client that sends `headers` with every request and follows no redirects.
pub fn client_with(headers: reqwest::header::HeaderMap) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// The value of the session cookie that a response sets, if it sets one.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix("todomvc_session="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Posts a urlencoded form from the page's own origin with `client`.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", &self.address)
            .body(serde_urlencoded::to_string(fields).expect("form"))
            .send()
            .await
            .expect("request")
    }

    /// The test user `alice`, signed up through the form; signed in instead where she exists (a
    /// second server on the same database), and added through the library where sign-up is closed.
    async fn alice(&self) -> TestUser {
        let (name, password) = ("alice", PASSWORD);
        let response = self
            .post_form(
                &self.anonymous,
                "/signup",
                &[("username", name), ("password", password)],
            )
            .await;
        match response.status().as_u16() {
            303 => {}
            409 => {}
            403 => {
                let hash = todomvc::auth::password::hash(password).expect("hash");
                let username = todomvc::models::Username::parse(name).expect("a username");
                let mut conn = self.pool.get().expect("connection");
                todomvc::models::User::add(&mut conn, &username, &hash, 0).expect("user added");
            }
            other => panic!("signing up alice: {other}"),
        }
        TestUser {
            session: match session_cookie(&response) {
                Some(session) => session,
                None => self.sign_in(name, password).await,
            },
        }
    }

    /// Signs a new user up through the form, and returns their session.
    pub async fn sign_up(&self, name: &str, password: &str) -> TestUser {
        let response = self
            .post_form(
                &self.anonymous,
                "/signup",
                &[("username", name), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), 303, "signing up {name}");
        TestUser {
            session: session_cookie(&response).expect("a session cookie"),
        }
    }

    /// Signs in through the form; returns the new session token.
    pub async fn sign_in(&self, name: &str, password: &str) -> String {
        let response = self
            .post_form(
                &self.anonymous,
                "/login",
                &[("username", name), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), 303, "signing in {name}");
        session_cookie(&response).expect("a session cookie")
    }

    /// A client with the user's session cookie, sending the page's own `Origin` as a browser does.
    pub fn client_for(&self, user: &TestUser) -> reqwest::Client {
        self.session_client(&user.session)
    }

    pub fn session_client(&self, session: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "cookie",
            format!("todomvc_session={session}")
                .parse()
                .expect("header"),
        );
        headers.insert("origin", self.address.parse().expect("header"));
        client_with(headers)
    }

    /// A client with `Authorization: Bearer <token>`.
    pub fn bearer_client(&self, token: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        client_with(headers)
    }

    /// Creates an API token for the user through `POST /tokens`; returns its secret.
    pub async fn create_token(&self, user: &TestUser, name: &str) -> String {
        let response = self
            .client_for(user)
            .post(self.url("/tokens"))
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "creating a token");
        let body: Value = response.json().await.expect("JSON");
        body["token"].as_str().expect("a token").to_owned()
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

    /// GETs `path` and returns its JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get_json_with(&self.client, path).await
    }

    /// GETs `path` with `client` and returns its JSON body.
    pub async fn get_json_with(&self, client: &reqwest::Client, path: &str) -> Value {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON body")
    }

    /// Revokes the newest of the API tokens that `client`'s user has, through the API.
    pub async fn revoke_newest_token(&self, client: &reqwest::Client) {
        let listed = self.get_json_with(client, "/tokens").await;
        let id = listed.as_array().expect("a list").last().expect("a token")["id"].clone();
        let response = client
            .delete(self.url(&format!("/tokens/{id}")))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 204, "revoking token {id}");
    }

    /// Every row of the todos table, by id, read straight from the database.
    pub fn rows(&self) -> Vec<Row> {
        self.database.rows()
    }
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

/// The `todomvc` binary running as a child process, serving on a free port.
pub struct ServerProcess {
    pub child: std::process::Child,
    /// `127.0.0.1:PORT`
    pub address: String,
    log: Arc<std::sync::Mutex<String>>,
}

impl ServerProcess {
    /// Starts `binary` in the test environment on `database_url`, and waits for the line that
    /// names its address. Its log is kept, for `log()`.
    pub fn start(binary: &Path, database_url: &str) -> ServerProcess {
        Self::start_with(binary, database_url, &[])
    }

    /// Like `start`, with more environment variables (`APP__SERVER__DRAIN_SECS`, say).
    pub fn start_with(binary: &Path, database_url: &str, vars: &[(&str, &str)]) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(binary)
            .env("APP_ENV", "test")
            .env("DATABASE_URL", database_url)
            // These tests are about the process (crashes, signals, load), not about accounts.
            .env("APP__AUTH__MODE", "open")
            .env("PORT", "0")
            .env("RUST_LOG", "info,actix_web::middleware::logger=warn")
            .envs(vars.iter().copied())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let log = Arc::new(std::sync::Mutex::new(String::new()));
        let address = loop {
            let line = lines
                .next()
                .expect("the server exited before serving")
                .unwrap();
            {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
            if let Some(rest) = line.split("serving http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = kept.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        ServerProcess {
            child,
            address,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Sends a signal by name (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_swapped() {
        assert_eq!(
            super::with_database("postgres://u@h:5/postgres?sslmode=disable", "t1"),
            "postgres://u@h:5/t1?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
