//! Property tests: random and adversarial requests against the running server. Every answer is a
//! correct success or a 4xx JSON error, never a 5xx, a hang or a crash, and afterwards the database
//! holds exactly what the successful answers said.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};

#[derive(Debug, Clone)]
struct Request {
    method: reqwest::Method,
    path: String,
    content_type: Option<String>,
    if_match: Option<String>,
    body: Vec<u8>,
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[ \t\n\u{0}a-z<>&\"'/\\\\]{0,20}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("title".to_owned()),
        Just("order".to_owned()),
        Just("completed".to_owned()),
        Just("id".to_owned()),
        Just("url".to_owned()),
        Just("version".to_owned()),
        "[a-z]{1,8}",
    ]
}

fn title() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[a-zA-Z0-9 <>&\"'/]{1,40}".prop_map(Value::String),
        1 => Just(json!("   ")),
        1 => Just(json!("")),
        1 => Just(json!("a\u{0}b")),
        1 => (995usize..1010).prop_map(|n| Value::String("é".repeat(n))),
        1 => json_leaf(),
    ]
}

/// Bodies a client would send: valid fields, some of them missing, and stray keys.
fn valid_todo_body() -> impl Strategy<Value = Value> {
    (
        "[a-zA-Z0-9 <>&\"'/]{0,20}[a-zA-Z0-9]",
        prop::option::of(any::<i32>()),
        prop::option::of(any::<bool>()),
        prop::option::of(json_leaf()),
    )
        .prop_map(|(title, order, completed, stray)| {
            let mut body = json!({ "title": title });
            if let Some(order) = order {
                body["order"] = json!(order);
            }
            if let Some(completed) = completed {
                body["completed"] = json!(completed);
            }
            if let Some(stray) = stray {
                body["id"] = stray.clone();
                body["url"] = stray;
            }
            body
        })
}

/// Bodies shaped like todos, with fields right and wrong.
fn todo_body() -> impl Strategy<Value = Value> {
    (
        prop::option::of(title()),
        prop::option::of(prop_oneof![
            any::<i32>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            json_leaf()
        ]),
        prop::option::of(prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            json_leaf()
        ]),
        prop::option::of(json_leaf()),
    )
        .prop_map(|(title, order, completed, id)| {
            let mut body = Map::new();
            for (name, value) in [
                ("title", title),
                ("order", order),
                ("completed", completed),
                ("id", id),
            ] {
                if let Some(value) = value {
                    body.insert(name.into(), value);
                }
            }
            Value::Object(body)
        })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => todo_body().prop_map(|v| v.to_string().into_bytes()),
        2 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => (1usize..12_000).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
        1 => (1usize..12_000).prop_map(|depth| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)).into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => todo_body().prop_flat_map(|v| {
            let text = v.to_string();
            let len = text.len();
            (Just(text), 0..len.max(1)).prop_map(|(text, cut)| text.as_bytes()[..cut].to_vec())
        }),
        1 => Just(br#"{"title": "first", "title": 5}"#.to_vec()),
        1 => Just(br#"{"title": "dup", "completed": true, "completed": false}"#.to_vec()),
        1 => Just(br#"{"title": "x", "order": 1e999}"#.to_vec()),
        1 => Just(br#"{"title": "x", "order": 123456789012345678901234567890}"#.to_vec()),
        1 => Just(b"{\"title\": \"raw \x00 nul\"}".to_vec()),
        1 => Just(b"{\"title\": \"bad \xff\xfe utf8\"}".to_vec()),
        1 => Just(Vec::new()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("/todos/".to_owned()),
        1 => Just("/todos".to_owned()),
        1 => prop::sample::select(vec![
            "/todos/?completed=true", "/todos/?completed=false", "/todos/?completed=maybe",
            "/todos/?other=1",
        ])
        .prop_map(str::to_owned),
        6 => (0i64..12).prop_map(|id| format!("/todos/{id}")),
        1 => any::<i64>().prop_map(|id| format!("/todos/{id}")),
        1 => Just("/todos/99999999999999999999999".to_owned()),
        1 => Just("/todos/-2147483649".to_owned()),
        1 => prop::sample::select(vec![
            "/todos/%2e%2e", "/todos/..%2f", "/todos/%00", "/todos/1%2F2", "/todos/%zz",
            "/todos/1/", "/todos/1/x", "/todos/1;x", "/todos/%20", "/%2e%2e/todos/",
            "/static/%2e%2e/Cargo.toml", "/todos/1?x=%zz", "/", "/nowhere",
        ])
        .prop_map(str::to_owned),
        1 => "/[a-zA-Z0-9%._~-]{0,20}",
    ]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![3 => meaningful_request(), 2 => any_request()]
}

/// Methods that fit their paths, with JSON bodies: most of these reach the database.
fn meaningful_request() -> impl Strategy<Value = Request> {
    let item = (1i64..40).prop_map(|id| format!("/todos/{id}"));
    (
        prop_oneof![
            3 => (Just("POST"), Just("/todos/".to_owned())),
            3 => (prop::sample::select(vec!["PUT", "PATCH"]), item.clone()),
            1 => (Just("DELETE"), item.clone()),
            1 => (Just("GET"), prop_oneof![Just("/todos/".to_owned()), item]),
        ],
        prop_oneof![
            4 => valid_todo_body().prop_map(|v| v.to_string().into_bytes()),
            2 => todo_body().prop_map(|v| v.to_string().into_bytes()),
            1 => body(),
        ],
        prop_oneof![6 => Just(None), 1 => (0i32..4).prop_map(|v| Some(format!("\"{v}\"")))],
    )
        .prop_map(|((method, path), body, if_match)| Request {
            method: reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            path,
            content_type: Some("application/json".to_owned()),
            if_match,
            body,
        })
}

fn any_request() -> impl Strategy<Value = Request> {
    (
        prop::sample::select(vec![
            "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FROB",
        ]),
        path(),
        prop_oneof![
            6 => Just(Some("application/json".to_owned())),
            1 => Just(None),
            1 => Just(Some("application/json; charset=utf-8".to_owned())),
            1 => Just(Some("text/plain".to_owned())),
            1 => Just(Some("application/x-www-form-urlencoded".to_owned())),
            1 => "[ -~]{0,30}".prop_map(Some),
        ],
        prop_oneof![
            6 => Just(None),
            1 => "[ -~]{0,12}".prop_map(Some),
            1 => (0i32..4).prop_map(|v| Some(format!("\"{v}\""))),
        ],
        body(),
    )
        .prop_map(|(method, path, content_type, if_match, body)| Request {
            method: reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            path,
            content_type,
            if_match,
            body,
        })
}

/// What the database must hold: id to (title, order, completed), from the successful answers.
type Model = BTreeMap<i64, (String, i64, bool)>;

fn remember(model: &mut Model, todo: &Value) {
    let id = todo["id"].as_i64().expect("id");
    let title = todo["title"].as_str().expect("title").to_owned();
    assert!(
        !title.is_empty()
            && title == title.trim()
            && title.chars().count() <= todomvc::models::MAX_TITLE_CHARS,
        "{todo}"
    );
    model.insert(
        id,
        (
            title,
            todo["order"].as_i64().expect("order"),
            todo["completed"].as_bool().expect("completed"),
        ),
    );
}

/// The path as the router matches it: percent-escapes decoded, except `%25`, `%2F` and `%2B`.
fn routed_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|byte| !matches!(byte, b'%' | b'/' | b'+'));
        match escape {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The model, and the successful writes that shaped it (for failure messages).
#[derive(Default)]
struct State {
    model: Model,
    history: Vec<String>,
}

#[allow(
    clippy::too_many_lines,
    reason = "the model of every request kind, in one place"
)]
async fn check(app: &TestApp, request: Request, state: &mut State) {
    let model = &mut state.model;
    let mut builder = app
        .client
        .request(request.method.clone(), app.url(&request.path))
        .timeout(Duration::from_secs(10))
        .body(request.body.clone());
    if let Some(content_type) = &request.content_type
        && let Ok(value) = reqwest::header::HeaderValue::from_str(content_type)
    {
        builder = builder.header("content-type", value);
    }
    if let Some(tag) = &request.if_match
        && let Ok(value) = reqwest::header::HeaderValue::from_str(tag)
    {
        builder = builder.header("if-match", value);
    }
    let response = builder
        .send()
        .await
        .unwrap_or_else(|err| panic!("{request:?}: {err}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let text = response.text().await.expect("a body");
    assert!(status < 500, "{status} for {request:?}: {text}");

    if status >= 400 {
        if request.method != reqwest::Method::HEAD {
            assert_eq!(
                content_type.as_deref(),
                Some("application/json"),
                "{request:?}"
            );
            let error: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
            assert!(
                error["error"].as_str().is_some_and(|m| !m.is_empty()),
                "{text}"
            );
        }
        return;
    }
    // The path as sent: the URL parser resolves dot segments, `%2e%2e` included, before sending.
    let sent = reqwest::Url::parse(&app.url(&request.path)).expect("a URL");
    let sent = match sent.query() {
        Some(query) => format!("{}?{query}", sent.path()),
        None => sent.path().to_owned(),
    };
    let path = routed_path(&sent);
    let route = path.split('?').next().unwrap_or_default();
    let item_id = route
        .strip_prefix("/todos/")
        .and_then(|rest| rest.parse::<i64>().ok());
    let collection = route == "/todos/" || route == "/todos";
    if matches!(request.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
        state.history.push(format!(
            "{} {} -> {status} {}",
            request.method,
            request.path,
            String::from_utf8_lossy(&request.body)
        ));
    }
    match (request.method.as_str(), status) {
        ("POST", 201) | ("PUT" | "PATCH", 200) => {
            remember(model, &serde_json::from_str(&text).unwrap());
        }
        ("DELETE", 204) if item_id.is_some() => {
            assert!(
                model.remove(&item_id.unwrap()).is_some(),
                "deleted an unknown todo"
            );
        }
        ("DELETE", 204) if collection => {
            let filter = if path.ends_with("completed=true") {
                Some(true)
            } else if path.ends_with("completed=false") {
                Some(false)
            } else {
                None
            };
            model.retain(|_, (_, _, completed)| filter.is_some_and(|f| *completed != f));
        }
        ("GET", 200) if collection => {
            let list: Vec<Value> = serde_json::from_str(&text).unwrap();
            let mut seen = Model::new();
            for todo in &list {
                remember(&mut seen, todo);
            }
            let recent = &state.history[state.history.len().saturating_sub(10)..];
            assert_eq!(
                &seen, model,
                "the list disagrees with the successful writes; the last ones: {recent:#?}"
            );
        }
        ("GET", 200) if item_id.is_some() => {
            let todo: Value = serde_json::from_str(&text).unwrap();
            let mut seen = Model::new();
            remember(&mut seen, &todo);
            assert_eq!(seen.get(&item_id.unwrap()), model.get(&item_id.unwrap()));
        }
        _ => {}
    }
}

#[test]
fn random_requests_never_break_the_server() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(spawn_app(Backend::Sqlite));
    let state = std::cell::RefCell::new(State::default());
    // The server keeps its state between cases, so shrinking a failure would only replay it.
    let mut runner = TestRunner::new(Config {
        cases: 800,
        failure_persistence: None,
        max_shrink_iters: 0,
        ..Config::default()
    });
    runner
        .run(&request(), |request| {
            runtime.block_on(check(&app, request, &mut state.borrow_mut()));
            Ok(())
        })
        .unwrap();
    let model = &state.borrow().model;

    // Afterwards the database holds exactly the successful writes.
    let stored: Model = app
        .rows()
        .into_iter()
        .map(|row| {
            (
                i64::from(row.id),
                (row.title, i64::from(row.position), row.completed),
            )
        })
        .collect();
    assert_eq!(&stored, model);
}

#[test]
fn garbage_on_the_wire_never_breaks_the_server() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(spawn_app(Backend::Sqlite));
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let garbage = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        "[ -~]{0,80}".prop_map(|line| format!("{line}\r\n\r\n").into_bytes()),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|path| {
            let mut request = b"GET /todos/".to_vec();
            request.extend(path);
            request.extend(b" HTTP/1.1\r\nHost: x\r\n\r\n");
            request
        }),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|value| {
            let mut request = b"GET /todos/ HTTP/1.1\r\nHost: x\r\nX-Junk: ".to_vec();
            request.extend(value);
            request.extend(b"\r\n\r\n");
            request
        }),
    ];
    runner
        .run(&garbage, |bytes| {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let _ = stream.write_all(&bytes);
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            let answer = String::from_utf8_lossy(&answer);
            prop_assert!(!answer.starts_with("HTTP/1.1 5"), "{answer}");
            Ok(())
        })
        .unwrap();
    // Still serving.
    let status = runtime.block_on(async {
        app.client
            .get(app.url("/todos/"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
}
