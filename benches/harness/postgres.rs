//! Reads on PostgreSQL (under `scripts/with-postgres`): `GET /todos/` of 100 todos, answered from
//! the kept rendering while the listening connection has heard of no change, against nginx serving
//! the same bytes; and how long a write through another instance takes to show in it.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::http::http;
use crate::processes::{Nginx, Server};
use crate::streams::percentile;
use crate::wrk::wrk;

/// Writes through the second instance whose time to show on the first is measured.
const WRITES: usize = 200;

/// The section's lines; adds to the targets.
pub fn scenarios(
    binary: &Path,
    nginx: &Nginx,
    seconds: u64,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let Ok(admin) = std::env::var("TEST_POSTGRES_URL") else {
        let why =
            "run under `scripts/with-postgres` (target: `GET /todos/` at least 60% of nginx).";
        crate::options::unmeasured(why);
        return vec![format!("Not measured: {why}")];
    };
    eprintln!(
        "P. GET /todos/ (100 todos) on PostgreSQL; a write's time to show on another instance"
    );
    let url = crate::streams::create_database(&admin);
    let (first, _) = Server::start_on(binary, "open", Some(&url));
    let (second, _) = Server::start_on(binary, "open", Some(&url));
    first.seed(binary, 100);
    let (_, body) = http(first.port, "GET", "/todos/", None).expect("the list");
    let read = wrk(&first.url("/todos/"), None, seconds, Some(first.child.id()));
    let ceiling = wrk(&nginx.serve("todos-100-pg", &body), None, seconds, None);
    let ratio = read.requests_per_second / ceiling.requests_per_second;
    let mut lines = vec![
        "| scenario | result | target |".to_owned(),
        "|---|---|---|".to_owned(),
        format!(
            "| `GET /todos/` (100 todos) on PostgreSQL, against nginx serving the same bytes | {:.0}/s against {:.0}/s: {:.0}% (p99 {:.2} ms, {} non-2xx) | at least 60% |",
            read.requests_per_second,
            ceiling.requests_per_second,
            100.0 * ratio,
            read.p99_ms,
            read.non_2xx
        ),
    ];
    notes.push(format!(
        "- `GET /todos/` on PostgreSQL: {:.0}% of nginx serving the same bytes (target at least 60%): {}",
        100.0 * ratio,
        crate::row::met(ratio >= 0.6)
    ));
    let (p50, p99) = time_to_show(&first, &second);
    lines.push(format!(
        "| a write through one instance (2xx) until the other's kept `GET /todos/` shows it ({WRITES} writes) | p50 {p50:.1} ms, p99 {p99:.1} ms | stated bound |"
    ));
    notes.push(format!(
        "- a write on another instance shows in a kept list within p99 {p99:.1} ms (p50 {p50:.1})"
    ));
    lines
}

/// Renames the first todo through `second`, then reads `first` until it shows the new title;
/// the milliseconds from the rename's answer to the first read that shows it, p50 and p99.
fn time_to_show(first: &Server, second: &Server) -> (f64, f64) {
    let (_, body) = http(first.port, "GET", "/todos/", None).expect("the list");
    let list: Vec<serde_json::Value> = serde_json::from_slice(&body).expect("JSON");
    let id = list[0]["id"].as_i64().expect("a todo");
    let mut latencies = Vec::with_capacity(WRITES);
    for n in 0..WRITES {
        // Kept on the first instance before the write.
        http(first.port, "GET", "/todos/", None).expect("a read");
        let title = format!("renamed elsewhere {n}");
        let (status, _) = http(
            second.port,
            "PATCH",
            &format!("/todos/{id}"),
            Some(&format!(r#"{{"title": "{title}"}}"#)),
        )
        .expect("a rename");
        assert_eq!(status, 200, "the rename");
        let written = Instant::now();
        loop {
            let (_, body) = http(first.port, "GET", "/todos/", None).expect("a read");
            if String::from_utf8_lossy(&body).contains(&title) {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(5),
                "the rename never showed on the other instance"
            );
        }
        latencies.push(written.elapsed().as_secs_f64() * 1000.0);
    }
    (
        percentile(&mut latencies, 50.0),
        percentile(&mut latencies, 99.0),
    )
}
