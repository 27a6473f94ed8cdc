//! The real binary: it starts with `serve`, and SIGINT or SIGTERM lets a request in flight finish.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use crate::helpers::{Backend, ServerProcess, TestDatabase};

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
    let mut served = ServerProcess::start(Path::new(env!("CARGO_BIN_EXE_todomvc")), &database.url);

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

    served.signal(signal_name);
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
