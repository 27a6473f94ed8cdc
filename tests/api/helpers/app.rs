//! The real application on a free port, with a database of its own on either engine, and clients
//! that sign in as a browser or an API client would.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use todomvc::config::{AuthMode, Settings};
use todomvc::db::{self, DbPool};

use super::{Backend, CALLER, CallerKind, Row, TestDatabase};

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
    /// Where the test's `/todos` paths go: `/todos`, or a shared list's `/lists/{id}` (as an
    /// editor; see `CallerKind::Editor`).
    pub list_prefix: Option<String>,
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
    settings.database.url = todomvc::db::DatabaseUrl::parse(&database.url).unwrap();
    customize(&mut settings);

    let pool = db::connect(&settings.database).expect("database opens");
    todomvc::models::run_pending_migrations(&mut pool.get().expect("connection"))
        .expect("migrations");
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
        list_prefix: None,
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
            CallerKind::Editor => return app.into_editor_of_a_list_of(&user).await,
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
        .find_map(|value| {
            value
                .strip_prefix("todomvc_session=")
                .or_else(|| value.strip_prefix("__Host-todomvc_session="))
        })
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

impl TestApp {
    /// The same app as nobody: no user, and the credential-less client for both.
    pub fn signed_out(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            client: self.anonymous.clone(),
            anonymous: self.anonymous.clone(),
            user: None,
            pool: self.pool.clone(),
            database: self.database.clone(),
            list_prefix: self.list_prefix.clone(),
        }
    }

    /// The same app and user, reached at `address` (a proxy in front of it).
    pub fn at(&self, address: &str) -> TestApp {
        TestApp {
            address: address.to_owned(),
            client: self.client.clone(),
            anonymous: self.anonymous.clone(),
            user: self.user.clone(),
            pool: self.pool.clone(),
            database: self.database.clone(),
            list_prefix: self.list_prefix.clone(),
        }
    }

    /// The absolute URL of `path` (see `TestApp::path`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, self.path(path))
    }

    /// `path` as the test's caller reaches it: as an editor of a shared list, `/todos...` is that
    /// list's (`/lists/{id}/todos...`, and `/lists/{id}/events` for `/todos/events`), and the page
    /// (`/`, `/active`, `/completed`) is the list's page.
    pub fn path(&self, path: &str) -> String {
        let Some(prefix) = &self.list_prefix else {
            return path.to_owned();
        };
        if let Some(rest) = path.strip_prefix("/todos/events") {
            format!("{prefix}/events{rest}")
        } else if path.starts_with("/todos") {
            format!("{prefix}{path}")
        } else if path == "/" || path.starts_with("/?") {
            format!("{prefix}{}", &path[1..])
        } else if path.starts_with("/active") || path.starts_with("/completed") {
            format!("{prefix}{path}")
        } else {
            path.to_owned()
        }
    }

    /// SQL for the id of the list the test's `/todos` means: the shared list as an editor, else
    /// the test user's default list.
    pub fn list_id_sql(&self) -> String {
        match &self.list_prefix {
            Some(prefix) => prefix.trim_start_matches("/lists/").to_owned(),
            None => "(SELECT id FROM lists WHERE is_default AND owner_id = \
                     (SELECT id FROM users WHERE username = 'alice'))"
                .to_owned(),
        }
    }

    /// `owner` makes a list and shares it with a second user as an editor; the app then acts as
    /// that editor, on that list.
    async fn into_editor_of_a_list_of(mut self, owner: &TestUser) -> TestApp {
        let owner_client = self.client_for(owner);
        let response = owner_client
            .post(self.url("/lists"))
            .json(&serde_json::json!({"title": "Shared"}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "creating a list");
        let list: Value = response.json().await.expect("a list");
        let id = list["id"].as_i64().expect("an id");
        let editor = self.sign_up("edith", PASSWORD).await;
        let response = owner_client
            .put(self.url(&format!("/lists/{id}/members/edith")))
            .json(&serde_json::json!({"role": "editor"}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "sharing the list");
        // A browser's Accept, so that `/lists/{id}` (the test's `/`) answers with the page.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "cookie",
            format!("todomvc_session={}", editor.session)
                .parse()
                .expect("a header"),
        );
        headers.insert("origin", self.address.parse().expect("a header"));
        headers.insert(
            "accept",
            "text/html,application/xhtml+xml,*/*;q=0.8"
                .parse()
                .expect("a header"),
        );
        self.client = client_with(headers);
        self.user = Some(editor);
        self.list_prefix = Some(format!("/lists/{id}"));
        self
    }

    /// Posts a urlencoded form from the page's own origin with `client`.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_form_with(client, path, fields, &[]).await
    }

    /// Like `post_form`, with more headers (what a proxy in front would add, say).
    pub async fn post_form_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", &self.address)
            .body(serde_urlencoded::to_string(fields).expect("form"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
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
            303 | 409 => {}
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
        TestUser {
            session: self.session_from_form("/signup", name, password).await,
        }
    }

    /// Signs in through the form; returns the new session token.
    pub async fn sign_in(&self, name: &str, password: &str) -> String {
        self.session_from_form("/login", name, password).await
    }

    /// Posts a username and password to `path` (sign-up or sign-in), expects 303, and returns the
    /// session token of the cookie it sets.
    async fn session_from_form(&self, path: &str, name: &str, password: &str) -> String {
        let response = self
            .post_form(
                &self.anonymous,
                path,
                &[("username", name), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), 303, "{path} as {name}");
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

    /// Creates a todo through the API and returns it, typed.
    pub async fn create_todo(&self, body: Value) -> super::TodoBody {
        serde_json::from_value(self.create(body).await).expect("a todo")
    }

    /// The caller's list, typed.
    pub async fn list(&self) -> Vec<super::TodoBody> {
        serde_json::from_value(self.get_json("/todos/").await).expect("a list of todos")
    }

    /// GETs `path` with the test's client and returns its body as text.
    pub async fn get_text(&self, path: &str) -> String {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("a text body")
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
