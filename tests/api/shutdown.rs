//! The real binary: it starts with `serve`, and SIGINT or SIGTERM lets a request in flight finish.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

use crate::helpers::{Backend, TestDatabase};

struct Served {
    child: Child,
    address: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `todomvc` on a free port and waits for the line that names its address.
fn serve(database_url: &str) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .env("APP_ENV", "test")
        .env("DATABASE_URL", database_url)
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("server exited before serving").unwrap();
        if let Some(rest) = line.split("serving http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Served { child, address }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Reads from `stream` until what was read ends with `end`.
fn read_until(stream: &mut TcpStream, end: &str) -> String {
    let mut response = String::new();
    let mut buf = [0; 4096];
    while !response.ends_with(end) {
        let n = stream
            .read(&mut buf)
            .expect("a response before the timeout");
        assert!(n > 0, "connection closed early: {response:?}");
        response.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    response
}

fn request_in_flight_survives(signal_name: &str) {
    let database = TestDatabase::create(Backend::Sqlite);
    let mut served = serve(&database.url);

    let body = br#"{"title": "sent while stopping"}"#;
    let mut stream = TcpStream::connect(&served.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // A first request on the same connection proves a worker holds it (not the listen backlog).
    write!(
        stream,
        "GET /todos/ HTTP/1.1\r\nHost: {}\r\n\r\n",
        served.address
    )
    .unwrap();
    assert!(read_until(&mut stream, "[]").starts_with("HTTP/1.1 200"));

    write!(
        stream,
        "POST /todos/ HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        served.address,
        body.len()
    )
    .unwrap();
    stream.write_all(&body[..10]).unwrap();
    sleep(Duration::from_millis(300));

    signal(&served.child, signal_name);
    sleep(Duration::from_millis(300));
    stream.write_all(&body[10..]).unwrap();

    let response = read_until(&mut stream, "}");
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "{signal_name}: {response}"
    );
    drop(stream);

    let status = served.child.wait().unwrap();
    assert!(status.success(), "{signal_name}: exit {status}");
    assert!(
        TcpStream::connect(&served.address).is_err(),
        "still listening"
    );

    let rows = database.rows();
    let titles: Vec<&str> = rows.iter().map(|row| row.title.as_str()).collect();
    assert_eq!(titles, ["sent while stopping"]);
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    request_in_flight_survives("TERM");
}

#[test]
fn sigint_lets_a_request_in_flight_finish() {
    request_in_flight_survives("INT");
}
