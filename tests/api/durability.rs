//! Durability under load, with the release binary as a child process: SIGKILL mid-load loses no
//! acknowledged write, SIGTERM under load answers every accepted request, and 64 writers get no 5xx.
//!
//! These are `#[ignore]`d in a plain `cargo test` (they need `cargo build --release` and take a
//! while); `.ci/run` runs them:
//!
//!     cargo build --release && cargo test -- --include-ignored durability

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, ServerProcess, TestDatabase, postgres_server};

const CLIENTS: usize = 32;

/// The release binary: TODOMVC_RELEASE_BIN, or target/release/todomvc.
fn release_binary() -> PathBuf {
    let path = std::env::var_os("TODOMVC_RELEASE_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/todomvc"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release` first",
        path.display()
    );
    path
}

/// A todo as the server acknowledged it: (title, order, completed).
type Todo = (String, i64, bool);

fn todo_of(body: &Value) -> (i64, Todo) {
    (
        body["id"].as_i64().expect("id"),
        (
            body["title"].as_str().expect("title").to_owned(),
            body["order"].as_i64().expect("order"),
            body["completed"].as_bool().expect("completed"),
        ),
    )
}

/// What the database must hold after a run: every acknowledged write, and for each client the
/// one request that was under way when the server went (it may or may not have been applied).
#[derive(Debug, Default)]
struct Expected {
    todos: BTreeMap<i64, Todo>,
    /// Ids whose last request had no answer: they may also be in this state (`None`: deleted).
    uncertain: BTreeMap<i64, Option<Todo>>,
    /// Titles of creates that had no answer: they may exist, under any id.
    uncertain_creates: BTreeSet<String>,
}

impl Expected {
    /// Compares with the server's list; returns what differs.
    fn check(&self, list: &[Value]) -> Result<(), String> {
        let actual: BTreeMap<i64, Todo> = list.iter().map(todo_of).collect();
        for (id, todo) in &self.todos {
            let found = actual.get(id);
            let alternative = self.uncertain.get(id);
            let ok = found == Some(todo)
                || alternative.is_some_and(|alternative| found == alternative.as_ref());
            if !ok {
                return Err(format!("todo {id}: acknowledged {todo:?}, found {found:?}"));
            }
        }
        for (id, todo) in &actual {
            if !self.todos.contains_key(id) && !self.uncertain_creates.contains(&todo.0) {
                return Err(format!("todo {id} {todo:?} was never acknowledged"));
            }
        }
        Ok(())
    }
}

/// What one client did: its acknowledged todos and the request that got no answer, if any.
#[derive(Debug, Default)]
struct ClientRecord {
    todos: BTreeMap<i64, Option<Todo>>,
    unanswered: Option<Unanswered>,
    server_errors: Vec<String>,
}

#[derive(Debug)]
enum Unanswered {
    Create(String),
    Update(i64, Todo),
    Delete(i64),
}

/// Creates, updates and deletes its own todos until `stop`, or until the server stops answering.
async fn client(
    base: String,
    name: String,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
) -> ClientRecord {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut record = ClientRecord::default();
    let mut live: Vec<(i64, Todo)> = Vec::new();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let choice = n % 5;
        let (request, unanswered) = if live.is_empty() || choice < 2 {
            let title = format!("{name} todo {n}");
            (
                http.post(format!("{base}/todos/"))
                    .json(&json!({"title": title, "completed": n.is_multiple_of(2)})),
                Unanswered::Create(title),
            )
        } else if choice < 4 {
            let (id, (_, order, completed)) =
                live[usize::try_from(n).unwrap() % live.len()].clone();
            let title = format!("{name} edit {n}");
            (
                http.put(format!("{base}/todos/{id}"))
                    .json(&json!({"title": title, "completed": !completed})),
                Unanswered::Update(id, (title, order, !completed)),
            )
        } else {
            let (id, _) = live.swap_remove(usize::try_from(n).unwrap() % live.len());
            (
                http.delete(format!("{base}/todos/{id}")),
                Unanswered::Delete(id),
            )
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(_) => {
                record.unanswered = Some(unanswered);
                break;
            }
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_server_error() {
            record.server_errors.push(format!("{status}: {body}"));
            continue;
        }
        assert!(status.is_success(), "{status}: {body}");
        answered.fetch_add(1, Ordering::Relaxed);
        match unanswered {
            Unanswered::Create(_) | Unanswered::Update(..) => {
                let (id, todo) = todo_of(&serde_json::from_str(&body).unwrap());
                record.todos.insert(id, Some(todo.clone()));
                live.retain(|(live_id, _)| *live_id != id);
                live.push((id, todo));
            }
            Unanswered::Delete(id) => {
                record.todos.insert(id, None);
            }
        }
    }
    record
}

/// Runs the clients against `server` until `stop_server` has stopped it, and folds what they saw
/// into `expected`. Returns the number of answered requests.
async fn run_clients(
    server: &ServerProcess,
    cycle: usize,
    expected: &mut Expected,
    stop_server: impl FnOnce(),
) -> usize {
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            tokio::spawn(client(
                server.url(""),
                format!("c{cycle}.{i}"),
                stop.clone(),
                answered.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop_server();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let record = client.await.unwrap();
        assert!(
            record.server_errors.is_empty(),
            "5xx: {:?}",
            record.server_errors
        );
        for (id, todo) in record.todos {
            match todo {
                Some(todo) => expected.todos.insert(id, todo),
                None => expected.todos.remove(&id),
            };
        }
        match record.unanswered {
            Some(Unanswered::Create(title)) => {
                expected.uncertain_creates.insert(title);
            }
            Some(Unanswered::Update(id, todo)) => {
                expected.uncertain.insert(id, Some(todo));
            }
            Some(Unanswered::Delete(id)) => {
                expected.uncertain.insert(id, None);
            }
            None => {}
        }
    }
    answered.load(Ordering::Relaxed)
}

/// Restarts on the database, checks it against `expected`, and takes what it holds as the new
/// certain state.
async fn restart_and_check(database: &TestDatabase, expected: &mut Expected) -> ServerProcess {
    let server = ServerProcess::start(&release_binary(), &database.url);
    let list: Vec<Value> = reqwest::get(server.url("/todos/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if let Err(difference) = expected.check(&list) {
        panic!("after the restart: {difference}");
    }
    *expected = Expected {
        todos: list.iter().map(todo_of).collect(),
        ..Expected::default()
    };
    server
}

#[derive(diesel::QueryableByName)]
struct IntegrityCheck {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

async fn sigkill_mid_load_loses_no_acknowledged_write(backend: Backend) {
    let database = TestDatabase::create(backend);
    let mut expected = Expected::default();
    let mut server = ServerProcess::start(&release_binary(), &database.url);
    for cycle in 0..3 {
        let answered = run_clients(&server, cycle, &mut expected, || server.signal("KILL")).await;
        let _ = server.child.wait();
        eprintln!(
            "cycle {cycle}: {answered} acknowledged writes, {} todos, {} requests unanswered",
            expected.todos.len(),
            expected.uncertain.len() + expected.uncertain_creates.len()
        );
        assert!(answered > 0);
        server = restart_and_check(&database, &mut expected).await;
    }
    if backend == Backend::Sqlite {
        let check: Vec<IntegrityCheck> = database.load("PRAGMA integrity_check");
        assert_eq!(check[0].integrity_check, "ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release binary; .ci/run runs it"]
async fn sqlite_sigkill_mid_load_loses_no_acknowledged_write() {
    sigkill_mid_load_loses_no_acknowledged_write(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release binary and PostgreSQL; .ci/run runs it"]
async fn postgres_sigkill_mid_load_loses_no_acknowledged_write() {
    if postgres_server("postgres_sigkill_mid_load").is_some() {
        sigkill_mid_load_loses_no_acknowledged_write(Backend::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release binary; .ci/run runs it"]
async fn sigterm_under_load_answers_every_accepted_request() {
    let database = TestDatabase::create(Backend::Sqlite);
    let mut expected = Expected::default();
    let mut server = ServerProcess::start(&release_binary(), &database.url);
    let answered = run_clients(&server, 0, &mut expected, || server.signal("TERM")).await;
    let started = Instant::now();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit {status}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?} to stop",
        started.elapsed()
    );
    assert!(answered > 0);
    eprintln!(
        "SIGTERM under load: {answered} answered, {} left unanswered as the server closed",
        expected.uncertain.len() + expected.uncertain_creates.len()
    );
    // No 5xx (run_clients checks), and every 2xx is there after a restart.
    restart_and_check(&database, &mut expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release binary; .ci/run runs it"]
async fn sixty_four_writers_and_readers_get_no_5xx_and_no_locked_database() {
    let database = TestDatabase::create(Backend::Sqlite);
    let server = ServerProcess::start(&release_binary(), &database.url);
    let base = server.url("");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
    let mut tasks = Vec::new();
    for writer in 0..64 {
        let (http, base, statuses) = (http.clone(), base.clone(), statuses.clone());
        tasks.push(tokio::spawn(async move {
            let mut own: Option<i64> = None;
            let mut n = 0;
            while Instant::now() < deadline {
                n += 1;
                let response = match own {
                    Some(id) if n % 3 != 0 => http
                        .patch(format!("{base}/todos/{id}"))
                        .json(&json!({"title": format!("w{writer} {n}"), "completed": n % 2 == 0}))
                        .send()
                        .await
                        .unwrap(),
                    _ => http
                        .post(format!("{base}/todos/"))
                        .json(&json!({"title": format!("w{writer} {n}")}))
                        .send()
                        .await
                        .unwrap(),
                };
                let status = response.status().as_u16();
                if status == 201 {
                    own = response.json::<Value>().await.unwrap()["id"].as_i64();
                }
                *statuses.lock().unwrap().entry(status).or_default() += 1;
            }
        }));
    }
    for reader in 0..16 {
        let (http, base, statuses) = (http.clone(), base.clone(), statuses.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let path = if reader % 2 == 0 { "/todos/" } else { "/" };
                let status = http
                    .get(format!("{base}{path}"))
                    .send()
                    .await
                    .unwrap()
                    .status();
                *statuses.lock().unwrap().entry(status.as_u16()).or_default() += 1;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let statuses = statuses.lock().unwrap().clone();
    eprintln!("64 writers and 16 readers for 10 s: {statuses:?}");
    assert!(statuses.keys().all(|status| *status < 300), "{statuses:?}");
    assert!(statuses.values().sum::<usize>() > 1000);
    let log = server.log();
    assert!(!log.contains("database is locked"), "{log}");
    assert!(!log.contains("answering 5"), "{log}");
}
