//! The benchmark: the release server under wrk, next to what this machine can do at best (nginx
//! serving the same bytes; diesel doing the same writes directly), written to BENCHMARKS.md.
//!
//! Run it with `benches/run.sh` (which installs wrk and nginx and builds the release binary), or
//! `benches/run.sh --quick` for the one-second smoke run that CI does.

// `main` runs the scenarios in one sequence, sharing servers and ceilings between them.
#![allow(clippy::too_many_lines)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use todomvc::config::DatabaseSettings;
use todomvc::db;
use todomvc::models::{ListScope, NewTodo, Todo, TodoChanges};

#[path = "harness/streams.rs"]
mod streams;

const THREADS: u32 = 2;
const CONNECTIONS: u32 = 32;

struct Options {
    seconds: u64,
    /// How long idle streams are watched for their CPU use.
    idle_seconds: u64,
    /// Writes whose fan-out is timed.
    fan_out_writes: usize,
    list_sizes: Vec<usize>,
    report: PathBuf,
    plot: PathBuf,
}

fn options() -> Options {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if std::env::args().any(|arg| arg == "--quick") {
        let out = root.join("target/bench-quick");
        fs::create_dir_all(&out).expect("target/bench-quick");
        Options {
            seconds: 1,
            idle_seconds: 2,
            fan_out_writes: 5,
            list_sizes: vec![1000],
            report: out.join("BENCHMARKS.md"),
            plot: out.join("benchmark.svg"),
        }
    } else {
        Options {
            seconds: 10,
            idle_seconds: 10,
            fan_out_writes: 30,
            list_sizes: vec![1000, 10_000, 100_000],
            report: root.join("BENCHMARKS.md"),
            plot: root.join("docs/benchmark.svg"),
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// One HTTP/1.1 JSON request over a fresh connection; returns status and body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, Vec<u8>)> {
    http_with(
        port,
        method,
        path,
        "Content-Type: application/json\r\n",
        body,
    )
    .map(|(status, _, body)| (status, body))
}

/// One HTTP/1.1 request with extra header lines (each ending in CRLF); returns status, the
/// response head, and the body.
fn http_with(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         {headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no response head"))?;
    let status = String::from_utf8_lossy(&answer[9..12]).parse().unwrap_or(0);
    let head = String::from_utf8_lossy(&answer[..head_end]).into_owned();
    let mut body = answer[head_end + 4..].to_vec();
    if head.to_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, head, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
    out
}

/// The release server on a fresh database.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    database: PathBuf,
}

impl Server {
    /// The server in open mode (one shared list, no sign-in): the figures of the first benchmark.
    fn start(binary: &Path) -> (Server, Duration) {
        Self::start_in(binary, "open")
    }

    fn start_in(binary: &Path, auth_mode: &str) -> (Server, Duration) {
        Self::start_on(binary, auth_mode, None)
    }

    /// The server on `url` (a PostgreSQL database), or on a fresh SQLite file.
    fn start_on(binary: &Path, auth_mode: &str, url: Option<&str>) -> (Server, Duration) {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("bench.db");
        let port = free_port();
        let started = Instant::now();
        let child = Command::new(binary)
            .env("APP_ENV", "production")
            .env(
                "DATABASE_URL",
                url.map_or_else(|| database.display().to_string(), str::to_owned),
            )
            .env("APP__AUTH__MODE", auth_mode)
            // Several servers run side by side here: each its own metrics port.
            .env("APP__SERVER__METRICS_ADDR", "127.0.0.1:0")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            // No per-request log lines: nginx runs with access_log off too.
            .env("RUST_LOG", "warn")
            .env(
                "APP_CONFIG_DIR",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
            )
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the release binary starts");
        loop {
            if let Ok((200 | 401, _)) = http(port, "GET", "/todos/", None) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server never answered"
            );
            thread::sleep(Duration::from_micros(500));
        }
        let startup = started.elapsed();
        (
            Server {
                child,
                port,
                _dir: dir,
                database,
            },
            startup,
        )
    }

    fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Replaces the todos with `count` new ones: through the API for small lists, through
    /// `todomvc import` (one transaction) for large ones.
    fn seed(&self, binary: &Path, count: usize) {
        http(self.port, "DELETE", "/todos/", None).expect("clear");
        if count <= 100 {
            for i in 0..count {
                let (status, _) = http(
                    self.port,
                    "POST",
                    "/todos/",
                    Some(&format!(
                        r#"{{"title": "Todo number {i}", "completed": {}}}"#,
                        i % 3 == 0
                    )),
                )
                .expect("seed");
                assert_eq!(status, 201);
            }
            return;
        }
        let records: Vec<_> = (0..count)
            .map(|i| serde_json::json!({"title": format!("Todo number {i}"), "completed": i % 3 == 0}))
            .collect();
        let mut import = Command::new(binary)
            .args(["import", "-"])
            .env("APP_ENV", "production")
            .env("DATABASE_URL", &self.database)
            .env(
                "APP_CONFIG_DIR",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("todomvc import");
        import
            .stdin
            .take()
            .expect("stdin")
            .write_all(serde_json::to_string(&records).expect("JSON").as_bytes())
            .expect("import input");
        assert!(import.wait().expect("import").success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| {
                    line.split_whitespace()
                        .nth(1)
                        .and_then(|kib| kib.parse().ok())
                })
        })
        .unwrap_or(0)
}

#[derive(Debug, Clone, Default)]
struct Load {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
    errors: u64,
    peak_rss_kib: u64,
}

fn milliseconds(value: &str) -> f64 {
    let number: f64 = value
        .trim_end_matches(|c: char| c.is_alphabetic())
        .parse()
        .unwrap_or(f64::NAN);
    if value.ends_with("us") {
        number / 1000.0
    } else if value.ends_with("ms") {
        number
    } else if value.ends_with('s') {
        number * 1000.0
    } else {
        number
    }
}

/// wrk at THREADS threads and CONNECTIONS connections; `pid` is sampled for its peak RSS.
fn wrk(url: &str, script: Option<&Path>, seconds: u64, pid: Option<u32>) -> Load {
    let mut command = Command::new("wrk");
    command.args([
        format!("-t{THREADS}"),
        format!("-c{CONNECTIONS}"),
        format!("-d{seconds}s"),
        "--latency".to_owned(),
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command.arg(url);
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = pid.map(|pid| {
        let (sampling, peak) = (sampling.clone(), peak.clone());
        thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                thread::sleep(Duration::from_millis(20));
            }
        })
    });
    let output = command.output().expect("wrk runs");
    sampling.store(false, Ordering::Relaxed);
    if let Some(sampler) = sampler {
        sampler.join().expect("sampler");
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut load = Load {
        peak_rss_kib: peak.load(Ordering::Relaxed),
        ..Load::default()
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => load.requests_per_second = value.parse().unwrap_or(0.0),
            ["50%", value] => load.p50_ms = milliseconds(value),
            ["99%", value] => load.p99_ms = milliseconds(value),
            ["Non-2xx", "or", "3xx", "responses:", value] => {
                load.non_2xx = value.parse().unwrap_or(0);
            }
            ["Socket", "errors:", rest @ ..] => {
                load.errors = rest
                    .iter()
                    .filter_map(|word| word.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    assert!(
        load.requests_per_second > 0.0,
        "wrk printed no figures:\n{text}"
    );
    load
}

/// nginx serving fixed files, as the HTTP ceiling of this machine.
struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start() -> Nginx {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let root = dir.path();
        fs::create_dir_all(root.join("www")).expect("www");
        fs::write(
            root.join("nginx.conf"),
            format!(
                "worker_processes {THREADS};\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n\
                 daemon off;\nuser root;\nevents {{ worker_connections 1024; }}\n\
                 http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  tcp_nodelay on;\n\
                 keepalive_requests 1000000;\n  server {{\n    listen 127.0.0.1:{port};\n\
                 root {root}/www;\n    location / {{ default_type application/json; }}\n\
                 location = /page {{ default_type text/html; }}\n  }}\n}}\n",
                root = root.display()
            ),
        )
        .expect("nginx.conf");
        let nginx = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|path| Path::new(path).exists())
            .unwrap_or("nginx");
        let child = Command::new(nginx)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .arg("-p")
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not start"
            );
            thread::sleep(Duration::from_millis(10));
        }
        Nginx { child, port, dir }
    }

    /// Serves `body` at `/name` and returns its URL.
    fn serve(&self, name: &str, body: &[u8]) -> String {
        fs::write(self.dir.path().join("www").join(name), body).expect("nginx file");
        let (status, served) = http(self.port, "GET", &format!("/{name}"), None).expect("nginx");
        assert_eq!(
            (status, served.len()),
            (200, body.len()),
            "nginx serves {name}"
        );
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, so that the master process stops its workers too.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The database ceiling: the server's own writes (one row per immediate transaction, same
/// pragmas and pool), straight through diesel, from as many threads as give the most rows/s.
fn diesel_ceiling(seconds: u64, update: bool) -> (f64, u32) {
    let mut best = (0.0, 1);
    for threads in [1, 2, 4, 32] {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = DatabaseSettings {
            url: Some(dir.path().join("ceiling.db").display().to_string()),
            pool_size: 16,
            connection_timeout_ms: 3000,
            busy_timeout_ms: 5000,
            run_migrations: true,
        };
        let pool = db::connect(&settings).expect("pool");
        db::run_pending_migrations(&mut pool.get().expect("conn")).expect("migrations");
        for i in 0..100 {
            let new = NewTodo {
                title: format!("Todo number {i}"),
                position: None,
                completed: false,
            };
            Todo::create(&mut pool.get().expect("conn"), ListScope::Shared, new).expect("seed");
        }
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let rows = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (pool, rows) = (pool.clone(), rows.clone());
                thread::spawn(move || {
                    let mut n: i32 = 0;
                    while Instant::now() < deadline {
                        n += 1;
                        let mut conn = pool.get().expect("conn");
                        if update {
                            let changes = TodoChanges {
                                title: Some(format!("edited {t} {n}")),
                                position: None,
                                completed: Some(n % 2 == 0),
                            };
                            let id = (n * 7 + t as i32) % 100 + 1;
                            Todo::update(&mut conn, ListScope::Shared, id, &changes, None)
                                .expect("update");
                        } else {
                            let new = NewTodo {
                                title: format!("ceiling {t} {n}"),
                                position: None,
                                completed: false,
                            };
                            Todo::create(&mut conn, ListScope::Shared, new).expect("insert");
                        }
                        rows.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("worker");
        }
        let rate = rows.load(Ordering::Relaxed) as f64 / seconds as f64;
        if rate > best.0 {
            best = (rate, threads);
        }
    }
    best
}

fn lua(dir: &Path, name: &str, script: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, script).expect("lua script");
    path
}

const POST_LUA: &str = r#"
wrk.method = "POST"
wrk.body = '{"title": "A todo from the benchmark"}'
wrk.headers["Content-Type"] = "application/json"
"#;

/// Updates the seeded todos, whose ids run from FIRST to LAST.
const PUT_LUA: &str = r#"
local headers = { ["Content-Type"] = "application/json" }
local n = 0
request = function()
  n = n + 1
  local id = math.random(FIRST, LAST)
  local body = '{"title": "Edited ' .. n .. '", "completed": ' .. tostring(n % 2 == 0) .. '}'
  return wrk.format("PUT", "/todos/" .. id, headers, body)
end
"#;

/// What Backbone does in a session: create, toggle, edit, list, delete.
/// The Backbone session: create, toggle, edit, list, delete. Each write's headers come from
/// `headers()`, which the plain and the keyed session define in their own way.
const SESSION_LUA: &str = r#"
local ids = {}
local step = 0
request = function()
  step = step + 1
  local s = step % 5
  if s == 1 or #ids < 64 then
    return wrk.format("POST", "/todos/", headers(), '{"title": "Session todo"}')
  elseif s == 2 then
    return wrk.format("PUT", "/todos/" .. ids[#ids], headers(), '{"completed": true}')
  elseif s == 3 then
    return wrk.format("PUT", "/todos/" .. ids[#ids], headers(), '{"title": "Session todo, edited"}')
  elseif s == 4 then
    return wrk.format("GET", "/todos/")
  else
    return wrk.format("DELETE", "/todos/" .. table.remove(ids, 1), headers())
  end
end
response = function(status, headers, body)
  local location = headers["location"] or headers["Location"]
  if location then
    local id = location:match("/todos/(%d+)$")
    if id then table.insert(ids, id) end
  end
end
"#;

/// The plain session's headers.
const PLAIN_HEADERS_LUA: &str = r#"
local plain = { ["Content-Type"] = "application/json" }
function headers() return plain end
"#;

/// Each write with a key of its own (as the page's queue sends them).
const KEYED_HEADERS_LUA: &str = r#"
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local writes = 0
function headers()
  writes = writes + 1
  return { ["Content-Type"] = "application/json", ["Idempotency-Key"] = id .. "-" .. writes }
end
"#;

/// A signed-in user of an accounts-mode server: the session cookie and an API token.
struct Account {
    cookie: String,
    token: String,
}

impl Server {
    /// Signs `name` up through the form and makes an API token.
    fn sign_up(&self, name: &str) -> Account {
        let form = format!("username={name}&password={BENCH_PASSWORD}");
        let origin = format!("Origin: http://127.0.0.1:{}\r\n", self.port);
        let headers = format!("Content-Type: application/x-www-form-urlencoded\r\n{origin}");
        let (status, head, _) =
            http_with(self.port, "POST", "/signup", &headers, Some(&form)).expect("sign-up");
        assert_eq!(status, 303, "sign-up");
        let cookie = head
            .lines()
            .filter(|line| line.to_lowercase().starts_with("set-cookie:"))
            .find_map(|line| line.split_once("todomvc_session=").map(|(_, rest)| rest))
            .and_then(|rest| rest.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let headers = format!(
            "Content-Type: application/json\r\n{origin}Cookie: todomvc_session={cookie}\r\n"
        );
        let (status, _, body) =
            http_with(self.port, "POST", "/tokens", &headers, Some("{}")).expect("token");
        assert_eq!(status, 201, "token");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let token = body["token"].as_str().expect("a token").to_owned();
        Account { cookie, token }
    }
}

const BENCH_PASSWORD: &str = "benchmark-password";

/// wrk's Lua for a request with fixed headers (and an optional JSON body).
fn lua_with_headers(method: &str, headers: &[(&str, String)], body: Option<&str>) -> String {
    let mut script = format!("wrk.method = \"{method}\"\n");
    for (name, value) in headers {
        let _ = writeln!(script, "wrk.headers[\"{name}\"] = \"{value}\"");
    }
    if let Some(body) = body {
        let _ = writeln!(
            script,
            "wrk.headers[\"Content-Type\"] = \"application/json\""
        );
        let _ = writeln!(script, "wrk.body = '{body}'");
    }
    script
}

/// 7-10: the same reads and a write in accounts mode, signed in by session cookie and by bearer
/// token, against the open-mode figures of this run; sign-ins per second; one Argon2id
/// verification.
fn signed_in_scenarios(
    binary: &Path,
    scripts: &Path,
    seconds: u64,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) {
    let (server, _) = Server::start_in(binary, "accounts");
    let pid = Some(server.child.id());
    let account = server.sign_up("bench");
    let origin = format!("http://127.0.0.1:{}", server.port);
    let cookie = vec![
        ("Cookie", format!("todomvc_session={}", account.cookie)),
        ("Origin", origin.clone()),
    ];
    let bearer = vec![("Authorization", format!("Bearer {}", account.token))];
    let bearer_header = format!(
        "Authorization: Bearer {}\r\nContent-Type: application/json\r\n",
        account.token
    );
    for i in 0..100 {
        let body = format!(
            r#"{{"title": "Todo number {i}", "completed": {}}}"#,
            i % 3 == 0
        );
        let (status, _, _) =
            http_with(server.port, "POST", "/todos/", &bearer_header, Some(&body)).expect("seed");
        assert_eq!(status, 201);
    }
    let open_list = rows[0].app.requests_per_second;
    let open_post = rows[2].app.requests_per_second;
    for (scenario, name, headers) in [
        (
            "7. GET /todos/ (100 todos), signed in: session cookie",
            "get-cookie.lua",
            &cookie,
        ),
        (
            "8. GET /todos/ (100 todos), signed in: bearer token",
            "get-bearer.lua",
            &bearer,
        ),
    ] {
        eprintln!("{scenario}");
        let script = lua(scripts, name, &lua_with_headers("GET", headers, None));
        let app = wrk(&server.url("/todos/"), Some(&script), seconds, pid);
        rows.push(Row {
            scenario: scenario.into(),
            app,
            ceiling: Some(("open mode, this run".into(), open_list)),
            target: Some(0.85),
        });
    }
    eprintln!("9. POST /todos/, signed in: session cookie");
    let script = lua(
        scripts,
        "post-cookie.lua",
        &lua_with_headers(
            "POST",
            &cookie,
            Some(r#"{"title": "A todo from the benchmark"}"#),
        ),
    );
    let app = wrk(&server.url("/todos/"), Some(&script), seconds, pid);
    rows.push(Row {
        scenario: "9. POST /todos/, signed in: session cookie".into(),
        app,
        ceiling: Some(("open mode, this run".into(), open_post)),
        target: None,
    });
    eprintln!("10. POST /login");
    let form = format!("username=bench&password={BENCH_PASSWORD}");
    let script = lua(
        scripts,
        "login.lua",
        &format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \
             \"application/x-www-form-urlencoded\"\nwrk.headers[\"Origin\"] = \"{origin}\"\n\
             wrk.body = \"{form}\"\n"
        ),
    );
    let app = wrk(&server.url("/login"), Some(&script), seconds, pid);
    notes.push(format!(
        "- sign-ins (`POST /login`, Argon2id verification each): {:.0}/s, p50 {:.0} ms, with \
         {} non-2xx/3xx",
        app.requests_per_second, app.p50_ms, app.non_2xx
    ));
    rows.push(Row {
        scenario: "10. POST /login (sign-in, Argon2id)".into(),
        app,
        ceiling: None,
        target: None,
    });

    // One verification, alone on a core: the price of a sign-in.
    let stored = todomvc::auth::password::hash(BENCH_PASSWORD).expect("hash");
    let mut times: Vec<Duration> = (0..15)
        .map(|_| {
            let started = Instant::now();
            assert!(todomvc::auth::password::verify(
                BENCH_PASSWORD,
                Some(&stored)
            ));
            started.elapsed()
        })
        .collect();
    times.sort();
    notes.push(format!(
        "- one Argon2id verification (m=19 MiB, t=2, p=1), median of 15: {:.1} ms",
        times[times.len() / 2].as_secs_f64() * 1000.0
    ));
    for index in [rows.len() - 4, rows.len() - 3] {
        let row = &rows[index];
        notes.push(format!(
            "- {}: {:.0}% of open mode (target 85%): {}",
            row.scenario,
            100.0 * row.app.requests_per_second / open_list,
            met(row.app.requests_per_second >= 0.85 * open_list)
        ));
    }
}

struct Row {
    scenario: String,
    app: Load,
    ceiling: Option<(String, f64)>,
    target: Option<f64>,
}

fn command_version(command: &str, args: &[&str]) -> String {
    Command::new(command)
        .args(args)
        .output()
        .map(|out| {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|_| "not found".into())
}

fn main() {
    let options = options();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = root.join("target/release/todomvc");
    assert!(binary.exists(), "build it first: cargo build --release");
    let scripts = tempfile::tempdir().expect("temp dir");
    let seconds = options.seconds;
    let mut rows: Vec<Row> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // Start-up: exec to the first 200 on a fresh database, migrations included.
    let mut startups: Vec<Duration> = (0..5).map(|_| Server::start(&binary).1).collect();
    startups.sort();
    let startup = startups[startups.len() / 2];
    eprintln!("start-up to first 200: {startup:?} (median of 5)");

    let (server, _) = Server::start(&binary);
    let idle_rss = server.rss_kib();
    let nginx = Nginx::start();
    server.seed(&binary, 100);

    let (_, list_100) = http(server.port, "GET", "/todos/", None).expect("list");
    let (_, page_100) = http(server.port, "GET", "/", None).expect("page");
    let pid = Some(server.child.id());
    for (scenario, path, body, name) in [
        (
            "1. GET /todos/ (100 todos)",
            "/todos/",
            &list_100,
            "todos-100",
        ),
        ("2. GET / (100 todos)", "/", &page_100, "page"),
    ] {
        eprintln!("{scenario}");
        let app = wrk(&server.url(path), None, seconds, pid);
        let ceiling = wrk(&nginx.serve(name, body), None, seconds, None);
        rows.push(Row {
            scenario: scenario.into(),
            app,
            ceiling: Some(("nginx, same bytes".into(), ceiling.requests_per_second)),
            target: Some(if path == "/" { 0.4 } else { 0.5 }),
        });
    }

    eprintln!("3. POST /todos/");
    let post = wrk(
        &server.url("/todos/"),
        Some(&lua(scripts.path(), "post.lua", POST_LUA)),
        seconds,
        pid,
    );
    server.seed(&binary, 100);
    let (_, seeded) = http(server.port, "GET", "/todos/", None).expect("list");
    let ids: Vec<i64> = serde_json::from_slice::<Vec<serde_json::Value>>(&seeded)
        .expect("JSON list")
        .iter()
        .filter_map(|todo| todo["id"].as_i64())
        .collect();
    let put_lua = PUT_LUA
        .replace("FIRST", &ids.iter().min().expect("seeded").to_string())
        .replace("LAST", &ids.iter().max().expect("seeded").to_string());
    eprintln!("4. PUT /todos/{{id}}");
    let put = wrk(
        &server.url("/"),
        Some(&lua(scripts.path(), "put.lua", &put_lua)),
        seconds,
        pid,
    );
    eprintln!("   diesel ceilings");
    let (insert_ceiling, insert_threads) = diesel_ceiling(seconds, false);
    let (update_ceiling, update_threads) = diesel_ceiling(seconds, true);
    rows.push(Row {
        scenario: "3. POST /todos/".into(),
        app: post,
        ceiling: Some((
            format!("diesel inserts, {insert_threads} threads"),
            insert_ceiling,
        )),
        target: Some(0.5),
    });
    rows.push(Row {
        scenario: "4. PUT /todos/{id}".into(),
        app: put,
        ceiling: Some((
            format!("diesel updates, {update_threads} threads"),
            update_ceiling,
        )),
        target: Some(0.5),
    });

    server.seed(&binary, 100);
    eprintln!("5. Backbone session");
    let session = wrk(
        &server.url("/"),
        Some(&lua(
            scripts.path(),
            "session.lua",
            &format!("{PLAIN_HEADERS_LUA}{SESSION_LUA}"),
        )),
        seconds,
        pid,
    );
    let plain_session = session.requests_per_second;
    rows.push(Row {
        scenario: "5. Backbone session (create, toggle, edit, list, delete)".into(),
        app: session,
        ceiling: None,
        target: None,
    });
    server.seed(&binary, 100);
    eprintln!("5b. Backbone session with Idempotency-Key");
    let keyed = wrk(
        &server.url("/"),
        Some(&lua(
            scripts.path(),
            "session-keyed.lua",
            &format!("{KEYED_HEADERS_LUA}{SESSION_LUA}"),
        )),
        seconds,
        pid,
    );
    notes.push(format!(
        "- Backbone session with an `Idempotency-Key` on every write: {:.0}% of the plain \
         session's requests/s (target at most 15% fewer): {}",
        100.0 * keyed.requests_per_second / plain_session,
        met(keyed.requests_per_second >= 0.85 * plain_session)
    ));
    rows.push(Row {
        scenario: "5b. Backbone session, every write with an Idempotency-Key".into(),
        app: keyed,
        ceiling: Some(("plain session, this run".into(), plain_session)),
        target: Some(0.85),
    });

    signed_in_scenarios(&binary, scripts.path(), seconds, &mut rows, &mut notes);
    let live = streams::scenarios(&binary, scripts.path(), &options, &mut notes);

    // 6. How cost grows with the list.
    let mut growth: BTreeMap<usize, [(f64, f64); 2]> = BTreeMap::new();
    let ratio_of = |row: &Row| {
        row.ceiling
            .as_ref()
            .map_or(0.0, |(_, c)| row.app.requests_per_second / c)
    };
    growth.insert(
        100,
        [
            (
                rows[0].app.requests_per_second,
                rows[0].ceiling.as_ref().map_or(0.0, |c| c.1),
            ),
            (
                rows[1].app.requests_per_second,
                rows[1].ceiling.as_ref().map_or(0.0, |c| c.1),
            ),
        ],
    );
    let mut rss_at_10k = None;
    for &size in &options.list_sizes {
        server.seed(&binary, size);
        let mut pair = [(0.0, 0.0); 2];
        for (index, (path, name)) in [("/todos/", "todos"), ("/", "page")]
            .into_iter()
            .enumerate()
        {
            let scenario = format!("6. GET {path} ({size} todos)");
            eprintln!("{scenario}");
            let (_, body) = http(server.port, "GET", path, None).expect("body");
            let app = wrk(&server.url(path), None, seconds, pid);
            let ceiling = wrk(
                &nginx.serve(&format!("{name}-{size}"), &body),
                None,
                seconds,
                None,
            );
            if size == 10_000 && path == "/todos/" {
                rss_at_10k = Some(app.peak_rss_kib);
            }
            pair[index] = (app.requests_per_second, ceiling.requests_per_second);
            rows.push(Row {
                scenario,
                app,
                ceiling: Some(("nginx, same bytes".into(), ceiling.requests_per_second)),
                target: (size >= 10_000).then_some(0.25),
            });
        }
        growth.insert(size, pair);
    }
    let after_rss = server.rss_kib();
    let peak_rss = rows
        .iter()
        .map(|row| row.app.peak_rss_kib)
        .max()
        .unwrap_or(0);

    // Targets.
    let first = &rows[0];
    notes.push(format!(
        "- `GET /todos/` p99 / p50 = {:.1} (target under 10): {}",
        first.app.p99_ms / first.app.p50_ms,
        met(first.app.p99_ms < 10.0 * first.app.p50_ms)
    ));
    notes.push(format!(
        "- POST and PUT without non-2xx: {}",
        met(rows[2].app.non_2xx == 0 && rows[3].app.non_2xx == 0)
    ));
    if let Some(rss) = rss_at_10k {
        notes.push(format!(
            "- RSS at 10,000 todos under load: {:.1} MiB (target under 30): {}",
            rss as f64 / 1024.0,
            met(rss < 30 * 1024)
        ));
    }
    notes.push(format!(
        "- start-up to first 200 on a fresh database, migrations included: {:.1} ms (target under 100): {}",
        startup.as_secs_f64() * 1000.0,
        met(startup < Duration::from_millis(100))
    ));

    // The report.
    let mut report = String::new();
    let _ = writeln!(report, "# Benchmarks\n");
    let _ = writeln!(
        report,
        "Written by `benches/run.sh` ({seconds} s per scenario, wrk with {THREADS} threads and \
         {CONNECTIONS} connections, server and wrk sharing the machine). Each result is also given \
         as a ratio to a ceiling measured in the same run on the same machine: nginx serving the \
         same bytes from files, or the same writes done straight through diesel.\n"
    );
    let _ = writeln!(report, "## Machine\n");
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_default();
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .next()
                .map(|line| line.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or_else(String::new, |kib| {
            format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    let _ = writeln!(report, "| | |\n|---|---|");
    let _ = writeln!(
        report,
        "| date | {} |",
        command_version("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    let _ = writeln!(
        report,
        "| CPU | {} x {cpu} |",
        thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    let _ = writeln!(report, "| memory | {memory} |");
    let _ = writeln!(
        report,
        "| commit | {} |",
        command_version("git", &["rev-parse", "--short", "HEAD"])
    );
    let _ = writeln!(
        report,
        "| rustc | {} |",
        command_version("rustc", &["--version"])
    );
    let _ = writeln!(report, "| wrk | {} |", command_version("wrk", &["-v"]));
    let _ = writeln!(
        report,
        "| nginx | {} |",
        command_version("/usr/sbin/nginx", &["-v"])
    );
    let _ = writeln!(
        report,
        "| SQLite | WAL, synchronous=NORMAL, one immediate transaction per write |\n"
    );

    let _ = writeln!(report, "## Results\n");
    let _ = writeln!(
        report,
        "| scenario | requests/s | p50 ms | p99 ms | non-2xx | errors | ceiling | ceiling/s | ratio | target |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---:|---:|---|---:|---:|---|");
    for row in &rows {
        let ratio = ratio_of(row);
        let (ceiling_name, ceiling_rate) = row
            .ceiling
            .as_ref()
            .map_or(("".to_owned(), "".to_owned()), |(name, rate)| {
                (name.clone(), format!("{rate:.0}"))
            });
        let target = row.target.map_or(String::new(), |target| {
            format!("{:.0}%: {}", target * 100.0, met(ratio >= target))
        });
        let _ = writeln!(
            report,
            "| {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
            row.scenario,
            row.app.requests_per_second,
            row.app.p50_ms,
            row.app.p99_ms,
            row.app.non_2xx,
            row.app.errors,
            ceiling_name,
            ceiling_rate,
            if row.ceiling.is_some() {
                format!("{:.0}%", ratio * 100.0)
            } else {
                String::new()
            },
            target
        );
    }
    let _ = writeln!(report, "\n## Memory and start-up\n");
    let _ = writeln!(report, "| | |\n|---|---|");
    let _ = writeln!(
        report,
        "| RSS idle (fresh start) | {:.1} MiB |",
        idle_rss as f64 / 1024.0
    );
    let _ = writeln!(
        report,
        "| RSS peak (all scenarios) | {:.1} MiB |",
        peak_rss as f64 / 1024.0
    );
    if let Some(rss) = rss_at_10k {
        let _ = writeln!(
            report,
            "| RSS peak, `GET /todos/` with 10,000 todos | {:.1} MiB |",
            rss as f64 / 1024.0
        );
    }
    let _ = writeln!(
        report,
        "| RSS after the run | {:.1} MiB |",
        after_rss as f64 / 1024.0
    );
    let _ = writeln!(
        report,
        "| start-up to first 200 (median of 5, fresh database) | {:.1} ms |\n",
        startup.as_secs_f64() * 1000.0
    );
    let _ = writeln!(report, "## Live updates\n\n{}\n", live.join("\n"));
    let _ = writeln!(report, "## Targets\n\n{}\n", notes.join("\n"));
    let _ = writeln!(report, "## Throughput against list size\n");
    let plot_name = options
        .plot
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("benchmark.svg");
    let plot_link = if options.report.parent() == Some(root.as_path()) {
        format!("docs/{plot_name}")
    } else {
        plot_name.to_owned()
    };
    let _ = writeln!(
        report,
        "![requests/s against list size, server and nginx]({plot_link})\n"
    );
    let _ = writeln!(
        report,
        "| todos | `GET /todos/` | nginx | ratio | `GET /` | nginx | ratio |"
    );
    let _ = writeln!(report, "|---:|---:|---:|---:|---:|---:|---:|");
    for (size, [(list, list_ceiling), (page, page_ceiling)]) in &growth {
        let _ = writeln!(
            report,
            "| {size} | {list:.0} | {list_ceiling:.0} | {:.0}% | {page:.0} | {page_ceiling:.0} | {:.0}% |",
            100.0 * list / list_ceiling,
            100.0 * page / page_ceiling
        );
    }
    let analysis = root.join("benches/ANALYSIS.md");
    if let Ok(text) = fs::read_to_string(&analysis) {
        let _ = writeln!(report, "\n{}", text.trim_end());
    }
    fs::write(&options.report, report).expect("write the report");
    fs::write(&options.plot, plot(&growth)).expect("write the plot");
    drop(nginx);
    println!(
        "{}",
        fs::read_to_string(&options.report).unwrap_or_default()
    );
    eprintln!(
        "wrote {} and {}",
        options.report.display(),
        options.plot.display()
    );
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// Requests/s against list size, both axes logarithmic, as SVG.
fn plot(growth: &BTreeMap<usize, [(f64, f64); 2]>) -> String {
    let (width, height, left, bottom, top, right) = (720.0, 420.0, 80.0, 50.0, 40.0, 200.0);
    let sizes: Vec<f64> = growth.keys().map(|&s| s as f64).collect();
    let values: Vec<f64> = growth
        .values()
        .flat_map(|pair| pair.iter().flat_map(|(a, b)| [*a, *b]))
        .filter(|v| *v > 0.0)
        .collect();
    let (x_min, x_max) = (
        sizes.first().copied().unwrap_or(1.0).log10(),
        sizes
            .last()
            .copied()
            .unwrap_or(10.0)
            .log10()
            .max(sizes.first().copied().unwrap_or(1.0).log10() + 1.0),
    );
    let y_min = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let y_max = values
        .iter()
        .copied()
        .fold(1.0, f64::max)
        .log10()
        .ceil()
        .max(y_min + 1.0);
    let x = |size: f64| left + (size.log10() - x_min) / (x_max - x_min) * (width - left - right);
    let y = |value: f64| {
        top + (y_max - value.max(1.0).log10()) / (y_max - y_min) * (height - top - bottom)
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    #[allow(
        clippy::cast_possible_truncation,
        reason = "decades of requests per second: small whole numbers"
    )]
    let decades = (y_min as i32)..=(y_max as i32);
    for exponent in decades {
        let value = 10f64.powi(exponent);
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{value}</text>",
            width - right,
            left - 6.0,
            y(value) + 4.0,
            y = y(value)
        );
    }
    for &size in &sizes {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{size}</text>",
            x(size),
            height - bottom + 18.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">todos in the list</text>\
         <text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">requests/s</text>",
        (left + width - right) / 2.0,
        height - 12.0,
        height / 2.0,
        height / 2.0
    );
    let series = [
        ("GET /todos/", 0, false, "#b83f45"),
        ("nginx, same JSON", 0, true, "#b83f45"),
        ("GET /", 1, false, "#2a6fb0"),
        ("nginx, same page", 1, true, "#2a6fb0"),
    ];
    for (index, (label, which, ceiling, colour)) in series.iter().enumerate() {
        let points: Vec<String> = growth
            .iter()
            .map(|(&size, pair)| {
                let value = if *ceiling {
                    pair[*which].1
                } else {
                    pair[*which].0
                };
                format!("{:.1},{:.1}", x(size as f64), y(value))
            })
            .collect();
        let dash = if *ceiling {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>",
            points.join(" ")
        );
        let legend_y = top + 20.0 * index as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" x2=\"{}\" y1=\"{legend_y}\" y2=\"{legend_y}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\">{label}</text>",
            width - right + 12.0,
            width - right + 40.0,
            width - right + 46.0,
            legend_y + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}
