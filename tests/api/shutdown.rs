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

/// SIGTERM with 100 live streams open: they end at once, a request in flight still gets its
/// answer, and the server exits promptly rather than waiting for the streams.
#[test]
fn sigterm_ends_live_streams_at_once() {
    use std::io::{BufRead, BufReader};
    let database = TestDatabase::create(Backend::Sqlite);
    let mut served = ServerProcess::start(Path::new(env!("CARGO_BIN_EXE_todomvc")), &database.url);
    let streams: Vec<BufReader<TcpStream>> = (0..100)
        .map(|_| {
            let mut stream = TcpStream::connect(&served.address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            write!(
                stream,
                "GET /todos/events HTTP/1.1\r\nHost: {}\r\n\r\n",
                served.address
            )
            .unwrap();
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(line.starts_with("HTTP/1.1 200"), "{line}");
            reader
        })
        .collect();

    // A request half-sent when the signal arrives.
    let body = br#"{"title": "sent while stopping"}"#;
    let mut request = TcpStream::connect(&served.address).unwrap();
    request
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        request,
        "GET /todos/ HTTP/1.1\r\nHost: {}\r\n\r\n",
        served.address
    )
    .unwrap();
    assert!(read_until(&mut request, "]").starts_with("HTTP/1.1 200"));
    write!(
        request,
        "POST /todos/ HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        served.address,
        body.len()
    )
    .unwrap();
    request.write_all(&body[..10]).unwrap();
    sleep(Duration::from_millis(200));

    let signalled = std::time::Instant::now();
    served.signal("TERM");
    sleep(Duration::from_millis(200));
    request.write_all(&body[10..]).unwrap();
    let response = read_until(&mut request, "}");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    drop(request);

    // Every stream's body ends (the chunked body's last chunk), well before the shutdown timeout,
    // and its last words are a reconnection delay: a random share of the usual 2 s, so that the
    // clients do not all reconnect elsewhere at once.
    let mut delays = std::collections::BTreeSet::new();
    for mut stream in streams {
        let mut rest = String::new();
        let _ = stream.read_to_string(&mut rest);
        assert!(
            rest.contains("0\r\n\r\n"),
            "a stream did not end cleanly: {rest:?}"
        );
        let delay: u64 = rest
            .rsplit("retry: ")
            .next()
            .and_then(|tail| tail.split('\n').next())
            .and_then(|millis| millis.trim().parse().ok())
            .unwrap_or_else(|| panic!("no reconnection delay at the end: {rest:?}"));
        assert!((1..=2000).contains(&delay), "retry: {delay}");
        delays.insert(delay);
    }
    assert!(delays.len() > 50, "the delays are not spread: {delays:?}");
    let status = served.child.wait().unwrap();
    assert!(status.success(), "exit {status}");
    let took = signalled.elapsed();
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
    let titles: Vec<String> = database.rows().into_iter().map(|row| row.title).collect();
    assert_eq!(titles, ["sent while stopping"]);
}
