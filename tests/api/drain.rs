//! Stopping under load: `/readyz` turns 503 at the signal, the drain period is served, and every
//! connection the server accepted gets an answer (a refused connection is fine: the client knows
//! nothing was done).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, ServerProcess, TestDatabase, spawn_app};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The connection was refused (the server was not taking connections), after this many
    /// milliseconds of trying.
    Refused(u64),
    /// An HTTP answer, with its status.
    Answered(u16),
    /// Connected, then closed or reset without an answer.
    Unanswered(String),
}

fn one_request(address: SocketAddr, path: &str) -> Outcome {
    let trying = Instant::now();
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(3)) else {
        return Outcome::Refused(u64::try_from(trying.elapsed().as_millis()).unwrap_or(u64::MAX));
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if let Err(err) = stream.write_all(request.as_bytes()) {
        return Outcome::Unanswered(format!("write: {err}"));
    }
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    match std::str::from_utf8(&answer)
        .ok()
        .and_then(|text| text.strip_prefix("HTTP/1.1 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
    {
        Some(status) => Outcome::Answered(status),
        None => Outcome::Unanswered(format!("{} bytes, {read:?}", answer.len())),
    }
}

/// One cycle: 32 clients, each making a fresh connection per request, and SIGTERM at a random
/// moment; returns what each request got, with its time relative to the signal.
fn cycle(cycle: u32, drain: Duration, when_stopping: &str) -> Vec<(f64, Outcome)> {
    let database = TestDatabase::create(Backend::Sqlite);
    let drain_secs = drain.as_secs().to_string();
    let mut served = ServerProcess::start_with(
        Path::new(env!("CARGO_BIN_EXE_todomvc")),
        &database.url,
        &[
            ("APP__SERVER__DRAIN_SECS", &drain_secs),
            ("APP__SERVER__WHEN_STOPPING", when_stopping),
        ],
    );
    let address: SocketAddr = served.address.parse().unwrap();
    assert_eq!(one_request(address, "/readyz"), Outcome::Answered(200));

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Arc<Mutex<Vec<(Instant, Outcome)>>> = Arc::default();
    let clients: Vec<_> = (0..32)
        .map(|_| {
            let (stop, outcomes) = (stop.clone(), outcomes.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let outcome = one_request(address, "/todos/");
                    outcomes.lock().unwrap().push((Instant::now(), outcome));
                }
            })
        })
        .collect();
    // A pseudo-random moment, different in each cycle.
    std::thread::sleep(Duration::from_millis(150 + u64::from(cycle * 37 % 300)));
    // Times are taken from just before the signal: the server has it before `kill` returns.
    let at = Instant::now();
    served.signal("TERM");
    let sent = Instant::now();
    // Readiness fails at once (as soon as the process has the signal), while the server still
    // answers everything else.
    while one_request(address, "/readyz") != Outcome::Answered(503) {
        assert!(
            sent.elapsed() < Duration::from_millis(200),
            "cycle {cycle}: /readyz still 200 after the signal"
        );
    }

    let status = served.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    assert!(status.success(), "cycle {cycle}: exit {status}");
    let outcomes = outcomes.lock().unwrap();
    outcomes
        .iter()
        .map(|(when, outcome)| {
            let offset = if *when >= at {
                when.duration_since(at).as_secs_f64()
            } else {
                -at.duration_since(*when).as_secs_f64()
            };
            (offset, outcome.clone())
        })
        .collect()
}

/// What every cycle must show, whatever `server.when_stopping` says: no accepted request left
/// unanswered, the drain period served (200s until it ends, nothing refused before), and no answer
/// but 200 or the stopping 503.
fn assert_stopped_cleanly(n: u32, outcomes: &[(f64, Outcome)], drain: Duration) {
    let unanswered: Vec<_> = outcomes
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Unanswered(_)))
        .collect();
    assert!(
        unanswered.is_empty(),
        "cycle {n}: {} of {} requests accepted and left unanswered: {unanswered:?}",
        unanswered.len(),
        outcomes.len()
    );
    let last_ok = outcomes
        .iter()
        .filter(|(_, outcome)| *outcome == Outcome::Answered(200))
        .map(|(at, _)| *at)
        .fold(f64::MIN, f64::max);
    assert!(
        last_ok >= drain.as_secs_f64() * 0.9,
        "cycle {n}: the last 200 came {last_ok:.2} s after the signal"
    );
    let first_refused = outcomes
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Refused(_)))
        .map(|(at, _)| *at)
        .fold(f64::MAX, f64::min);
    assert!(
        first_refused >= drain.as_secs_f64(),
        "cycle {n}: a connection was refused {first_refused:.2} s after the signal"
    );
    assert!(
        outcomes.iter().all(|(_, outcome)| matches!(
            outcome,
            Outcome::Refused(_) | Outcome::Answered(200 | 503)
        )),
        "cycle {n}: unexpected answers"
    );
}

#[test]
fn ten_sigterms_under_load_leave_no_accepted_request_unanswered() {
    let drain = Duration::from_secs(1);
    for n in 0..10 {
        let outcomes = cycle(n, drain, "hold");
        assert_stopped_cleanly(n, &outcomes, drain);
    }
}

/// `server.when_stopping = "refuse"` under the same load: the same guarantees.
#[test]
fn five_sigterms_of_a_refusing_instance_leave_no_accepted_request_unanswered() {
    let drain = Duration::from_secs(1);
    for n in 0..5 {
        let outcomes = cycle(n, drain, "refuse");
        assert_stopped_cleanly(n, &outcomes, drain);
    }
}

/// Opens a live stream on a connection of its own and reads its head.
fn open_stream(address: SocketAddr) -> std::io::BufReader<TcpStream> {
    use std::io::BufRead;
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /todos/events HTTP/1.1\r\nHost: {address}\r\n\r\n"
    )
    .unwrap();
    let mut reader = std::io::BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    reader
}

/// A refusing instance, behind a load balancer: through its drain period it serves as usual, live
/// streams included (open ones go on and hear what is written; new ones are let in, not turned
/// away with 503); once the drain is over a new connection is refused at once (the balancer's
/// retry goes elsewhere with no delay, where a held one would wait a second for the kernel's SYN
/// retry), the streams end (their reconnects meet the refusal too), and what it accepted is
/// still finished.
#[test]
fn a_refusing_instance_refuses_at_once_and_finishes_what_it_accepted() {
    let drain = Duration::from_secs(1);
    let database = TestDatabase::create(Backend::Sqlite);
    let mut served = ServerProcess::start_with(
        Path::new(env!("CARGO_BIN_EXE_todomvc")),
        &database.url,
        &[
            ("APP__SERVER__DRAIN_SECS", "1"),
            ("APP__SERVER__WHEN_STOPPING", "refuse"),
        ],
    );
    let address: SocketAddr = served.address.parse().unwrap();
    let mut before = open_stream(address);
    // A request half-sent: it keeps the instance running after the drain.
    let body = br#"{"title": "sent while stopping"}"#;
    let mut slow = TcpStream::connect(address).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        slow,
        "POST /todos/ HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    slow.write_all(&body[..10]).unwrap();

    // From just before the signal: the server has it before `kill` returns.
    let signalled = Instant::now();
    served.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    let mut during = open_stream(address);
    let mut write = TcpStream::connect(address).unwrap();
    let title = br#"{"title": "written while draining"}"#;
    write!(
        write,
        "POST /todos/ HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        title.len()
    )
    .unwrap();
    write.write_all(title).unwrap();
    let mut answer = String::new();
    write.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");

    // Both streams hear the write, then end once the drain is over.
    for stream in [&mut before, &mut during] {
        let mut rest = String::new();
        let _ = stream.read_to_string(&mut rest);
        assert!(rest.contains("written while draining"), "{rest:?}");
        assert!(rest.contains("0\r\n\r\n"), "a stream did not end: {rest:?}");
    }
    assert!(
        signalled.elapsed() >= drain,
        "the streams ended before the drain was over"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "the instance exited with a request in flight"
    );
    for _ in 0..5 {
        match one_request(address, "/todos/") {
            Outcome::Refused(millis) => assert!(millis < 200, "held {millis} ms, then refused"),
            other => panic!("after the drain: {other:?}"),
        }
    }

    slow.write_all(&body[10..]).unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = served.child.wait().unwrap();
    assert!(status.success(), "exit {status}");
    let mut titles: Vec<String> = database.rows().into_iter().map(|row| row.title).collect();
    titles.sort();
    assert_eq!(titles, ["sent while stopping", "written while draining"]);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["status"] == "ok" || body["status"] == "ready",
            "{body}"
        );
        // Load balancers ask by address: the probes answer whatever the Host.
        let other_host = app
            .anonymous
            .get(app.url(path))
            .header("host", "10.1.2.3:8080")
            .send()
            .await
            .unwrap();
        assert_eq!(other_host.status(), 200);
    }
}
