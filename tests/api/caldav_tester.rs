//! `caldav-server-tester` from PyPI grades the server, and every feature it grades from tasks (or
//! from the protocol alone) is "full". Its checks that store VEVENTs first (sync tokens, ETags,
//! If-None-Match, stable URLs, get-by-URL, RELATED-TO, is-not-defined, recurrences, text search)
//! cannot run against lists of tasks, so `tests/clients/caldav_task_features.py` does what each
//! of them does on VTODOs, with the same `caldav` library, and those are "full" too.
//!
//! Both need the virtualenv `.ci/run` makes (see the README's "CalDAV"); without it they skip,
//! saying so, except under CI=true, where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::caldav_clients::python;
use crate::helpers::{Backend, on_both_engines, skip, spawn_app};

/// The tester's checks this runs: all but those about events only, scheduling, free/busy and
/// other principals' calendars, which a task server does not have.
const CHECKS: &[&str] = &[
    "CheckGetCurrentUserPrincipal",
    "CheckWWWAuthenticate",
    "CheckPropfindAllprop",
    "CheckMakeDeleteCalendar",
    "CheckSupportedComponentSet",
    "CheckTodoNoDtstartSearch",
    "CheckTodoUncomplete",
    "CheckNonExistingResource",
    "CheckProppatchDelay",
    "CheckSearch",
    "CheckTodoTimeRangeStrict",
];

/// What the tester must grade "full" here.
const FULL: &[&str] = &[
    "auth.www-authenticate",
    "auth.www-authenticate.usable-scheme",
    "create-calendar",
    "create-calendar.set-displayname",
    "create-calendar.stable-url",
    "create-calendar.with-supported-component-types",
    "delete-calendar",
    "delete-calendar.free-namespace",
    "get-current-user-principal",
    "non-existing-raises-not-found.collection",
    "non-existing-raises-not-found.object",
    "propfind.allprop",
    "propfind.allprop.resourcetype",
    "propfind.displayname",
    "propfind.principal-depth-1",
    "save-load.todo",
    "save-load.todo.mixed-calendar",
    "save-load.todo.uncomplete",
    "search.comp-type",
    "search.time-range.todo",
    "search.time-range.todo.strict",
    "synchronous-write.create-calendar",
    "synchronous-write.delete-calendar",
    "synchronous-write.proppatch",
];

/// What the VTODO script grades; every one must be "full".
const TASK_FEATURES: &[&str] = &[
    "save-load.get-by-url",
    "save-load.icalendar.related-to",
    "save-load.stable-url",
    "save-load.todo.recurrences",
    "save-load.todo.recurrences.count",
    "save.etag",
    "save.if-none-match",
    "search.is-not-defined",
    "search.is-not-defined.category",
    "search.is-not-defined.class",
    "search.is-not-defined.completed",
    "search.recurrences.includes-implicit.todo",
    "search.text.category",
    "search.text.substring",
    "search.time-range.todo.no-dtstart",
    "search.time-range.todo.old-dates",
    "sync-token",
    "sync-token.delete",
    "sync-token.invalid-token",
];

fn run(command: &mut Command) -> Vec<u8> {
    let output = command.output().expect("the command started");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The tester's grades, as JSON: it prints them as a Python literal (`--format hints`).
fn grades(python: &Path, hints: &[u8]) -> Value {
    let mut convert = Command::new(python);
    convert.args([
        "-c",
        "import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))",
    ]);
    let mut child = convert
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), hints).expect("hints");
    let output = child.wait_with_output().expect("python ran");
    serde_json::from_slice(&output.stdout).expect("the grades as JSON")
}

fn not_full<'f>(grades: &Value, features: &[&'f str]) -> Vec<(&'f str, Value)> {
    features
        .iter()
        .filter(|feature| grades[**feature]["support"] != "full")
        .map(|feature| (*feature, grades[*feature].clone()))
        .collect()
}

async fn caldav_server_tester_grades_the_task_features_full(backend: Backend) {
    let test = "caldav_server_tester_grades_the_task_features_full";
    let Some(python) = python(test) else {
        return;
    };
    let tester = python.with_file_name("caldav-server-tester");
    if !tester.exists() {
        skip(&format!(
            "{test} needs caldav-server-tester: `target/pyclients/venv/bin/pip install \
             caldav-server-tester==1.7.0`"
        ));
        return;
    }
    let app = spawn_app(backend).await;
    let alice = app.user.as_ref().expect("alice");
    let token = app.create_token(alice, "tester").await;
    let url = format!("{}/dav/", app.address);

    let mut command = Command::new(&tester);
    command.args(["--caldav-url", &url, "--caldav-username", "alice"]);
    command.args(["--caldav-password", &token, "--format", "hints"]);
    for check in CHECKS {
        command.args(["--run-checks", check]);
    }
    let hints = tokio::task::spawn_blocking(move || run(&mut command))
        .await
        .expect("the tester ran");
    let graded = grades(&python, &hints);
    assert_eq!(not_full(&graded, FULL), [], "{graded:#}");

    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/caldav_task_features.py");
    let mut command = Command::new(&python);
    command.arg(script).args([&url, "alice", &token]);
    let printed = tokio::task::spawn_blocking(move || run(&mut command))
        .await
        .expect("the script ran");
    let graded: Value = serde_json::from_slice(&printed).expect("JSON");
    assert_eq!(not_full(&graded, TASK_FEATURES), [], "{graded:#}");
    assert_eq!(
        graded.as_object().map(serde_json::Map::len),
        Some(TASK_FEATURES.len()),
        "{graded:#}"
    );

    // What the tester and the script made, they deleted: the default list is all that is left.
    let lists = app.get_json("/lists").await;
    assert_eq!(lists.as_array().map(Vec::len), Some(1), "{lists}");
}

on_both_engines!(caldav_server_tester_grades_the_task_features_full);
