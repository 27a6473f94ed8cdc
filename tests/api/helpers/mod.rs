//! What the tests share: which engine and credential a test runs with, the macros that run a test
//! on each, and skipping (visibly) when a component is missing. The rest is by concern:
//! `database` (a test's own database, read directly), `bodies` (the API's answers, typed), `app` (the real app on a free port, and
//! clients), `process` (the `todomvc` binary as a child process), `browser` (headless Chromium over WebDriver,
//! and the fixture browser tests start from), `proxy` (a TCP proxy a test can cut), `follow` (a
//! live stream followed as EventSource does).

mod app;
mod bodies;
mod browser;
mod database;
pub mod follow;
mod process;
mod proxy;

pub use app::*;
pub use bodies::*;
pub use browser::*;
pub use database::*;
pub use process::*;
pub use proxy::*;

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
    /// Another user's session cookie, an editor of a list of the test user's: `/todos` in the
    /// test's paths means that list's todos, `/lists/{id}/todos` (see `TestApp::url`).
    Editor,
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

/// The `/todos` API suite: as `on_both_backends`, and again on both engines as an editor of a
/// shared list who is not its owner (`sqlite_editor::name`, `postgres_editor::name`): the same
/// tests, with every `/todos` path under `/lists/{id}`.
macro_rules! todos_suite {
    ($($name:ident),* $(,)?) => {
        crate::helpers::on_both_backends!($($name),*);
        crate::helpers::on_both_backends!(@engine sqlite_editor, Sqlite, Editor, $($name),*);
        crate::helpers::on_both_backends!(@engine postgres_editor, Postgres, Editor, $($name),*);
    };
}
pub(crate) use todos_suite;

/// As `todos_suite`, for `/todos` tests that choose their credentials themselves: once per engine
/// with the session cookie, and once per engine as an editor of a shared list.
macro_rules! todos_suite_per_engine {
    ($($name:ident),* $(,)?) => {
        crate::helpers::on_both_engines!($($name),*);
        crate::helpers::on_both_backends!(@engine sqlite_editor, Sqlite, Editor, $($name),*);
        crate::helpers::on_both_backends!(@engine postgres_editor, Postgres, Editor, $($name),*);
    };
}
pub(crate) use todos_suite_per_engine;

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

/// Past the bound within which a write made elsewhere (another process on SQLite, another instance
/// or plain SQL on PostgreSQL) shows in what the server keeps, with room for a busy machine's
/// timer: on SQLite the recheck interval; on PostgreSQL the notification's way to the listener,
/// its poll and its read of the counts.
pub async fn past_the_bound(backend: Backend) {
    let bound = match backend {
        Backend::Sqlite => todomvc::freshness::RECHECK_AFTER + std::time::Duration::from_millis(2),
        Backend::Postgres => {
            todomvc::freshness::LISTEN_POLL + std::time::Duration::from_millis(200)
        }
    };
    tokio::time::sleep(bound).await;
}

/// A test that cannot run here because a component is missing (`message` says which and how to
/// get it). Under CI=true that is a failure. Elsewhere the test passes, and says so on the
/// terminal itself: libtest hides what a passing test prints, so the line is written to the
/// process's standard error directly, where `cargo test` shows it.
pub fn skip(message: &str) {
    use std::io::Write;
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{message}");
    }
    let _ = writeln!(std::io::stderr().lock(), "*** SKIPPED: {message} ***");
}
