//! What no client may do: read files outside static/, frame or inject into the page, hold
//! connections with slow requests, or open more connections than the server allows.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, spawn_app, spawn_app_with};

/// Sends `request` byte for byte (no client-side path clean-up) and reads the whole answer.
fn raw(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(address: &str, path: &str) -> String {
    raw(
        address,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
    )
}

#[tokio::test]
async fn static_paths_never_leave_the_static_folder() {
    let app = spawn_app(Backend::Sqlite).await;
    let paths = [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/%2E%2E%2FCargo.toml",
        "/static/..%2fCargo.toml",
        "/static/..%5cCargo.toml",
        "/static/..\\Cargo.toml",
        "/static/css/../../Cargo.toml",
        "/static/vendor/../../Cargo.toml",
        "/static/vendor/%2e%2e/%2e%2e/src/main.rs",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/../../../../../../etc/passwd",
        "/static/%00",
        "/static/css/app.css%00.txt",
    ];
    for path in paths {
        let answer = tokio::task::spawn_blocking({
            let address = app.address.clone();
            move || get(&address, path)
        })
        .await
        .unwrap();
        let status: u16 = answer[9..12].parse().unwrap_or(0);
        assert!((400..500).contains(&status), "{path}: {answer}");
        assert!(
            !answer.contains("[package]") && !answer.contains("root:"),
            "{path} leaked: {answer}"
        );
        assert!(
            answer.contains("application/json"),
            "{path}: not a JSON error: {answer}"
        );
    }
}

#[tokio::test]
async fn symbolic_links_out_of_the_static_folder_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    let static_dir = tempfile::tempdir().unwrap();
    std::fs::write(static_dir.path().join("public.txt"), "public").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        static_dir.path().join("link.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), static_dir.path().join("dir")).unwrap();
    let dir = static_dir.path().to_path_buf();
    let app = spawn_app_with(Backend::Sqlite, move |settings| {
        settings.server.static_dir = dir;
    })
    .await;

    let public = app
        .client
        .get(app.url("/static/public.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 200);
    for path in ["/static/link.txt", "/static/dir/secret.txt"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(
            !response.text().await.unwrap().contains("top secret"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create(json!({"title": "x"})).await;
    for path in [
        "/",
        "/todos/",
        "/todos/1",
        "/static/js/app.js",
        "/nowhere",
        "/todos/abc",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
    }
    // The page has no inline script for the policy to forbid: only files and the JSON data block.
    let html = app.get_text("/").await;
    let inline_scripts = html
        .match_indices("<script")
        .filter(|(at, _)| {
            let tag = &html[*at..*at + html[*at..].find('>').unwrap()];
            !tag.contains(" src=") && !tag.contains(r#"type="application/json""#)
        })
        .count();
    assert_eq!(inline_scripts, 0);
}

#[tokio::test]
async fn a_client_sending_its_headers_slowly_is_cut_off() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.client_request_timeout = std::time::Duration::from_millis(1000);
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let (elapsed, answer) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        // One byte every 200 ms: a request head that would take seconds to arrive.
        for byte in
            "GET /todos/ HTTP/1.1\r\nHost: slow\r\nX-Padding: aaaaaaaaaaaaaaaaaaaa\r\n\r\n".bytes()
        {
            if stream.write_all(&[byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            let mut buf = [0; 1024];
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
            if started.elapsed() > Duration::from_secs(10) {
                break;
            }
        }
        (
            started.elapsed(),
            String::from_utf8_lossy(&answer).into_owned(),
        )
    })
    .await
    .unwrap();
    assert!(
        elapsed < Duration::from_secs(4),
        "still connected after {elapsed:?}"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

/// A worker accepts `max_connections_per_worker` connections, plus `events.max_streams` places
/// that live streams would use (so that streams never take the ordinary requests' places).
#[tokio::test]
async fn connections_beyond_the_cap_wait_their_turn() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.server.workers = 1;
        settings.server.max_connections_per_worker = 2;
        settings.events.max_streams = 1;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        // Three connections hold the cap with unfinished requests.
        let holders: Vec<TcpStream> = (0..3)
            .map(|_| {
                let mut stream = TcpStream::connect(&address).unwrap();
                stream
                    .write_all(b"GET /todos/ HTTP/1.1\r\nHost: hold\r\n")
                    .unwrap();
                stream
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));

        let mut third = TcpStream::connect(&address).unwrap();
        third
            .set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        third
            .write_all(b"GET /todos/ HTTP/1.1\r\nHost: third\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut buf = [0; 1024];
        assert!(
            third.read(&mut buf).is_err(),
            "a connection beyond the cap was served"
        );

        drop(holders);
        third
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = third.read(&mut buf).unwrap();
        // Served (no credential on this raw request: 401, and not a dropped connection).
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 401"));
    })
    .await
    .unwrap();
}
