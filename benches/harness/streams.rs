//! Live-update streams under load: what idle streams cost, how fast a write reaches 1,000 of them
//! (on one server, and through a second instance on PostgreSQL), and what they cost writers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Open streams, each read by a task that notes when a marked title arrives.
pub struct Streams {
    runtime: tokio::runtime::Runtime,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Arrival times of the marked events, by marker.
    arrivals: Arc<Mutex<Vec<(String, Instant)>>>,
    pub open: Arc<AtomicUsize>,
}

impl Streams {
    /// Opens `count` streams on `port` as the page does, from the list's current change number
    /// (`headers(n)`: the header lines of the n-th stream's request, a cookie or nothing), and waits
    /// until every one is open.
    pub fn open(port: u16, count: usize, headers: impl Fn(usize) -> String) -> Streams {
        Self::open_at(port, ("/", "/todos/events"), count, headers)
    }

    /// As `open`, for the list whose page is `page` and live stream `events`.
    pub fn open_at(
        port: u16,
        (page, events): (&str, &str),
        count: usize,
        headers: impl Fn(usize) -> String,
    ) -> Streams {
        let since = current_change(port, page, &headers(0));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let open = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::with_capacity(count);
        for n in 0..count {
            let (arrivals, open, headers) = (arrivals.clone(), open.clone(), headers(n));
            let events = events.to_owned();
            tasks.push(runtime.spawn(async move {
                let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
                    return;
                };
                let request = format!(
                    "GET {events}?last_event_id={since} HTTP/1.1\r\n\
                     Host: 127.0.0.1:{port}\r\n{headers}\r\n"
                );
                if stream.write_all(request.as_bytes()).await.is_err() {
                    return;
                }
                let mut buffer = vec![0u8; 16 * 1024];
                let mut counted = false;
                loop {
                    let Ok(n) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    let now = Instant::now();
                    let text = String::from_utf8_lossy(&buffer[..n]);
                    if !counted && text.contains("retry: ") {
                        counted = true;
                        open.fetch_add(1, Ordering::Relaxed);
                    }
                    for marker in text
                        .match_indices("fanout-")
                        .map(|(at, _)| text[at..].split('"').next().unwrap_or_default().to_owned())
                    {
                        arrivals.lock().expect("arrivals").push((marker, now));
                    }
                }
            }));
        }
        let streams = Streams {
            runtime,
            tasks,
            arrivals,
            open,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while streams.open.load(Ordering::Relaxed) < count {
            assert!(
                Instant::now() < deadline,
                "only {} of {count} streams opened",
                streams.open.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        streams
    }

    /// Latency from each write's 2xx to its event at every stream: `write` makes the write with the
    /// given title and returns when it was answered.
    pub fn fan_out(&self, writes: usize, mut write: impl FnMut(&str) -> Instant) -> Vec<f64> {
        let count = self.tasks.len();
        let mut latencies = Vec::with_capacity(writes * count);
        for n in 0..writes {
            let marker = format!("fanout-{n}-{}", std::process::id());
            let answered = write(&marker);
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                // Only this write's marker arrives now: the list is cleared after each write.
                let done = self.arrivals.lock().expect("arrivals").len() >= count;
                if done || Instant::now() > deadline {
                    let arrived: Vec<Instant> = self
                        .arrivals
                        .lock()
                        .expect("arrivals")
                        .iter()
                        .filter(|(seen, _)| *seen == marker)
                        .map(|(_, at)| *at)
                        .collect();
                    latencies.extend(
                        arrived.iter().map(|at| {
                            at.saturating_duration_since(answered).as_secs_f64() * 1000.0
                        }),
                    );
                    // Events that never came count as the whole wait.
                    latencies.extend(std::iter::repeat_n(10_000.0, count - arrived.len()));
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            self.arrivals.lock().expect("arrivals").clear();
            std::thread::sleep(Duration::from_millis(50));
        }
        latencies
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let runtime = std::mem::replace(
            &mut self.runtime,
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
        );
        runtime.shutdown_timeout(Duration::from_secs(5));
    }
}

/// The change number the page of this list (at `page`) is rendered at (its `data-change`).
fn current_change(port: u16, page: &str, headers: &str) -> i64 {
    let headers = format!("{headers}Accept: text/html\r\n");
    let (status, _, body) =
        crate::http::http_with(port, "GET", page, &headers, None).expect("the page");
    assert_eq!(status, 200, "the page");
    let page = String::from_utf8_lossy(&body);
    page.split("data-change=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|number| number.parse().ok())
        .expect("the page's change number")
}

/// What a fan-out is reported as: its row in the table and its line among the targets.
pub struct FanOut<'a> {
    /// The table's first column.
    pub row: &'a str,
    /// The start of the targets' line.
    pub note: &'a str,
    /// The p99 it must stay within, in milliseconds.
    pub target_ms: u32,
}

impl FanOut<'_> {
    /// The row (p50 and p99 of `latencies`, in ms) and the target's line.
    pub fn report(
        &self,
        latencies: &mut [f64],
        (table, notes): (&mut Vec<String>, &mut Vec<String>),
    ) {
        let (p50, p99) = (percentile(latencies, 50.0), percentile(latencies, 99.0));
        let (row, note, target) = (self.row, self.note, self.target_ms);
        table.push(format!(
            "| {row} | p50 {p50:.1} ms, p99 {p99:.1} ms | p99 at most {target} ms |"
        ));
        notes.push(format!(
            "- {note}, p99: {p99:.1} ms (target at most {target}): {}",
            crate::report::met(p99 <= f64::from(target))
        ));
    }
}

/// The p-th percentile (0-100) of `values`.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "an index into values, from 0 to its length"
    )]
    let index = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
    values[index.min(values.len() - 1)]
}

/// CPU time (user + system) of a process so far, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

/// Adds `count` users (`{prefix}{first}` and on) with a default list and a session each straight
/// into the server's SQLite file, in one transaction; returns each session's cookie header line.
pub fn seed_users(
    database: &std::path::Path,
    prefix: &str,
    first: usize,
    count: usize,
) -> Vec<String> {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    let mut conn = diesel::sqlite::SqliteConnection::establish(&database.display().to_string())
        .expect("the server's database");
    let now = todomvc::auth::now();
    let mut sql = String::from("PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE;");
    let mut cookies = Vec::with_capacity(count);
    for n in first..first + count {
        let secret = todomvc::auth::token::generate("").expect("random");
        let hash = todomvc::auth::token::hash(&secret);
        sql.push_str(&format!(
            "INSERT INTO users (username, username_key, password_hash, created_at) \
             VALUES ('{prefix}{n}', '{prefix}{n}', 'not used', {now}); \
             INSERT INTO lists (title, owner_id, is_default, created_at) \
             VALUES ('Todos', last_insert_rowid(), 1, {now}); \
             INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at) \
             VALUES ((SELECT owner_id FROM lists WHERE id = last_insert_rowid()), '{hash}', {now}, {now});"
        ));
        cookies.push(format!("Cookie: todomvc_session={secret}\r\n"));
    }
    sql.push_str("COMMIT;");
    conn.batch_execute(&sql).expect("seed users");
    cookies
}

fn wrk_post(
    server: &crate::processes::Server,
    scripts: &std::path::Path,
    seconds: u64,
    headers: &str,
    name: &str,
) -> crate::wrk::Load {
    let script = crate::wrk::lua(
        scripts,
        name,
        &format!(
            "wrk.method = \"POST\"\nwrk.body = '{{\"title\": \"A todo from the benchmark\"}}'\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n{headers}"
        ),
    );
    crate::wrk::wrk(
        &server.url("/todos/"),
        Some(&script),
        seconds,
        Some(server.child.id()),
    )
}

pub fn post_marker(port: u16, headers: &str, marker: &str) -> Instant {
    post_marker_to(port, "/todos/", headers, marker)
}

/// As `post_marker`, to the collection at `path`.
pub fn post_marker_to(port: u16, path: &str, headers: &str, marker: &str) -> Instant {
    let body = format!(r#"{{"title": "{marker}"}}"#);
    let headers = format!("Content-Type: application/json\r\n{headers}");
    let (status, _, _) =
        crate::http::http_with(port, "POST", path, &headers, Some(&body)).expect("write");
    assert_eq!(status, 201);
    Instant::now()
}

/// Every live-update scenario; returns the report's table, and adds to the targets.
pub fn scenarios(
    binary: &std::path::Path,
    scripts: &std::path::Path,
    options: &crate::options::Options,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let mut table = crate::row::scenario_table();
    one_server(binary, scripts, options, (&mut table, notes));
    other_users(binary, scripts, options, (&mut table, notes));
    across_instances(binary, options, (&mut table, notes));
    table
}

/// Idle streams (1,000, then 10,000), the fan-out of a write to 1,000 of them, and writes to the
/// list they watch, on one server in open mode.
fn one_server(
    binary: &std::path::Path,
    scripts: &std::path::Path,
    options: &crate::options::Options,
    (table, notes): (&mut Vec<String>, &mut Vec<String>),
) {
    let mib = |kib: u64| kib as f64 / 1024.0;

    // Idle streams, open mode, on a list of 100 todos: 1,000, then 9,000 more.
    let (server, _) = crate::processes::Server::start(binary);
    let pid = server.child.id();
    server.seed(binary, 100);
    thread_settle();
    let before = server.rss_kib();
    let mut idle = |count: usize, streams: &Streams| {
        let _ = streams;
        thread_settle();
        let rss = server.rss_kib();
        let cpu_before = cpu_seconds(pid);
        std::thread::sleep(Duration::from_secs(options.idle_seconds));
        let cpu = (cpu_seconds(pid) - cpu_before) / options.idle_seconds as f64 * 100.0;
        let extra = mib(rss.saturating_sub(before));
        table.push(format!(
            "| {count} idle streams | {:.1} MiB extra RSS ({:.1} KiB a stream); CPU at idle {:.1}% of a core | {} |",
            extra,
            extra * 1024.0 / count as f64,
            cpu,
            if count == 10_000 { "at most 80 MiB" } else { "" }
        ));
        extra
    };
    eprintln!("L. 1,000 idle streams");
    let thousand = Streams::open(server.port, 1_000, |_| String::new());
    idle(1_000, &thousand);
    eprintln!("L. 10,000 idle streams");
    let more = Streams::open(server.port, 9_000, |_| String::new());
    let extra = idle(10_000, &more);
    notes.push(format!(
        "- 10,000 idle streams: {extra:.1} MiB extra RSS (target at most 80): {}",
        crate::report::met(extra <= 80.0)
    ));
    drop(more);
    // The server ends a stream when its client closes: a moment for the 9,000 to end, so that the
    // fan-out below goes to the 1,000 alone.
    std::thread::sleep(Duration::from_secs(2));

    // Fan-out: the 1,000 streams are on the list that is written.
    eprintln!("L. fan-out to 1,000 streams");
    let mut latencies = thousand.fan_out(options.fan_out_writes, |marker| {
        post_marker(server.port, "", marker)
    });
    FanOut {
        row: &format!(
            "fan-out, one server: write's 2xx to its event at each of 1,000 streams ({} writes)",
            options.fan_out_writes
        ),
        note: "fan-out to 1,000 streams",
        target_ms: 50,
    }
    .report(&mut latencies, (table, notes));

    // Writes with the 1,000 streams watching the very list written: every write is 1,000 events.
    eprintln!("L. writes with 1,000 streams on the written list");
    let same_list = wrk_post(&server, scripts, options.seconds, "", "post-watched.lua");
    drop(thousand);
    drop(server);
    let (server, _) = crate::processes::Server::start(binary);
    server.seed(binary, 100);
    let alone = wrk_post(&server, scripts, options.seconds, "", "post-alone.lua");
    table.push(format!(
        "| `POST /todos/` with 1,000 streams on the list written (each write goes to all 1,000) | {:.0}/s against {:.0}/s with none: {:.0}% | (worst case, no target) |",
        same_list.requests_per_second,
        alone.requests_per_second,
        100.0 * same_list.requests_per_second / alone.requests_per_second
    ));
    drop(server);
}

/// Writes with 1,000 streams of 1,000 other users connected: what the writer pays for them.
fn other_users(
    binary: &std::path::Path,
    scripts: &std::path::Path,
    options: &crate::options::Options,
    (table, notes): (&mut Vec<String>, &mut Vec<String>),
) {
    eprintln!("L. writes with 1,000 other users' streams");
    let (server, _) = crate::processes::Server::start_in(binary, "accounts");
    let writer = server.sign_up("writer");
    let cookie = format!(
        "wrk.headers[\"Cookie\"] = \"todomvc_session={}\"\nwrk.headers[\"Origin\"] = \"http://127.0.0.1:{}\"\n",
        writer.cookie, server.port
    );
    let none = wrk_post(&server, scripts, options.seconds, &cookie, "post-none.lua");
    let cookies = seed_users(&server.database, "watcher", 0, 1_000);
    let streams = Streams::open(server.port, 1_000, |n| cookies[n].clone());
    let with = wrk_post(
        &server,
        scripts,
        options.seconds,
        &cookie,
        "post-others.lua",
    );
    drop(streams);
    let kept = 100.0 * with.requests_per_second / none.requests_per_second;
    table.push(format!(
        "| `POST /todos/` (signed in) with 1,000 other users' streams open | {:.0}/s against {:.0}/s with none: {kept:.0}% | at least 90% |",
        with.requests_per_second, none.requests_per_second
    ));
    notes.push(format!(
        "- writes with 1,000 streams connected: {kept:.0}% of the throughput without (target at least 90%): {}",
        crate::report::met(kept >= 90.0)
    ));
    drop(server);
}

/// Across instances, on PostgreSQL: streams on one server, writes through another.
fn across_instances(
    binary: &std::path::Path,
    options: &crate::options::Options,
    (table, notes): (&mut Vec<String>, &mut Vec<String>),
) {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(admin) => {
            eprintln!("L. fan-out across instances (PostgreSQL)");
            let url = create_database(&admin);
            let (first, _) = crate::processes::Server::start_on(binary, "open", Some(&url));
            let (second, _) = crate::processes::Server::start_on(binary, "open", Some(&url));
            let streams = Streams::open(second.port, 1_000, |_| String::new());
            let mut latencies = streams.fan_out(options.fan_out_writes, |marker| {
                post_marker(first.port, "", marker)
            });
            FanOut {
                row: "fan-out across instances on PostgreSQL: write through one, 1,000 streams on the other",
                note: "fan-out across instances",
                target_ms: 100,
            }
            .report(&mut latencies, (table, notes));
        }
        Err(_) => {
            crate::options::unmeasured(
                "fan-out across instances: run under `scripts/with-postgres`",
            );
            table.push("| fan-out across instances on PostgreSQL | not measured: run under `scripts/with-postgres` | p99 at most 100 ms |".to_owned());
        }
    }
}

/// Lets a just-started or just-loaded server settle before its memory is read.
fn thread_settle() {
    std::thread::sleep(Duration::from_millis(500));
}

/// A new database on the PostgreSQL server at `admin`; returns its URL.
pub fn create_database(admin: &str) -> String {
    use diesel::prelude::*;
    let name = format!("todomvc_bench_{}", std::process::id());
    let mut conn = diesel::pg::PgConnection::establish(admin).expect("PostgreSQL");
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn);
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .expect("create the benchmark database");
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}
