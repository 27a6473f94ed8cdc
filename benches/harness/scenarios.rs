//! The scenarios of the HTTP benchmark, each against its ceiling: reads (1, 2, 6), writes (3, 4),
//! the Backbone session (5, 5b), and signed-in use (7-10). Live updates are in `streams`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::ceilings::diesel_ceiling;
use crate::http::{http, http_with};
use crate::processes::{BENCH_PASSWORD, Nginx, Server};
use crate::row::Row;
use crate::wrk::{self, lua, lua_with_headers, wrk};

/// What every scenario of one server needs.
pub struct Bench<'a> {
    pub binary: &'a Path,
    pub server: &'a Server,
    pub nginx: &'a Nginx,
    /// Where the Lua scripts are written.
    pub scripts: &'a Path,
    pub seconds: u64,
}

impl Bench<'_> {
    pub fn pid(&self) -> Option<u32> {
        Some(self.server.child.id())
    }

    /// `path` under wrk, against nginx serving the bytes it answers now.
    fn read_against_nginx(&self, scenario: String, path: &str, name: &str) -> Row {
        eprintln!("{scenario}");
        let (_, body) = http(self.server.port, "GET", path, None).expect("body");
        let app = wrk(&self.server.url(path), None, self.seconds, self.pid());
        let ceiling = wrk(&self.nginx.serve(name, &body), None, self.seconds, None);
        Row::new(scenario, app).against("nginx, same bytes", ceiling.requests_per_second)
    }
}

/// Start-up: exec to the first 200 on a fresh database, migrations included (median of 5).
pub fn startup(binary: &Path) -> Duration {
    let mut startups: Vec<Duration> = (0..5).map(|_| Server::start(binary).1).collect();
    startups.sort();
    let startup = startups[startups.len() / 2];
    eprintln!("start-up to first 200: {startup:?} (median of 5)");
    startup
}

/// 1 and 2: the list and the page with 100 todos.
pub struct Reads {
    pub list: Row,
    pub page: Row,
}

pub fn reads(bench: &Bench) -> Reads {
    bench.server.seed(bench.binary, 100);
    Reads {
        list: bench
            .read_against_nginx("1. GET /todos/ (100 todos)".into(), "/todos/", "todos-100")
            .target(0.6),
        page: bench
            .read_against_nginx("2. GET / (100 todos)".into(), "/", "page")
            .target(0.6),
    }
}

/// 3 and 4: creating and editing todos.
pub struct Writes {
    pub post: Row,
    pub put: Row,
}

pub fn writes(bench: &Bench) -> Writes {
    eprintln!("3. POST /todos/");
    let post = wrk(
        &bench.server.url("/todos/"),
        Some(&lua(bench.scripts, "post.lua", wrk::POST)),
        bench.seconds,
        bench.pid(),
    );
    bench.server.seed(bench.binary, 100);
    let (_, seeded) = http(bench.server.port, "GET", "/todos/", None).expect("list");
    let ids: Vec<i64> = serde_json::from_slice::<Vec<serde_json::Value>>(&seeded)
        .expect("JSON list")
        .iter()
        .filter_map(|todo| todo["id"].as_i64())
        .collect();
    let put_lua = wrk::PUT
        .replace("FIRST", &ids.iter().min().expect("seeded").to_string())
        .replace("LAST", &ids.iter().max().expect("seeded").to_string());
    eprintln!("4. PUT /todos/{{id}}");
    let put = wrk(
        &bench.server.url("/"),
        Some(&lua(bench.scripts, "put.lua", &put_lua)),
        bench.seconds,
        bench.pid(),
    );
    eprintln!("   diesel ceilings");
    let (inserts, insert_threads) = diesel_ceiling(bench.seconds, false);
    let (updates, update_threads) = diesel_ceiling(bench.seconds, true);
    Writes {
        post: Row::new("3. POST /todos/".into(), post)
            .against(
                &format!("diesel inserts, {insert_threads} threads"),
                inserts,
            )
            .target(0.6),
        put: Row::new("4. PUT /todos/{id}".into(), put)
            .against(
                &format!("diesel updates, {update_threads} threads"),
                updates,
            )
            .target(0.6),
    }
}

/// 5 and 5b: the Backbone session, plain and with an Idempotency-Key on every write.
pub struct Sessions {
    pub plain: Row,
    pub keyed: Row,
}

pub fn sessions(bench: &Bench) -> Sessions {
    let session = |name: &str, headers: &str| {
        bench.server.seed(bench.binary, 100);
        let script = lua(bench.scripts, name, &format!("{headers}{}", wrk::SESSION));
        wrk(
            &bench.server.url("/"),
            Some(&script),
            bench.seconds,
            bench.pid(),
        )
    };
    eprintln!("5. Backbone session");
    let plain = session("session.lua", wrk::PLAIN_HEADERS);
    eprintln!("5b. Backbone session with Idempotency-Key");
    let keyed = session("session-keyed.lua", wrk::KEYED_HEADERS);
    let plain_rate = plain.requests_per_second;
    Sessions {
        plain: Row::new(
            "5. Backbone session (create, toggle, edit, list, delete)".into(),
            plain,
        ),
        keyed: Row::new(
            "5b. Backbone session, every write with an Idempotency-Key".into(),
            keyed,
        )
        .against("plain session, this run", plain_rate)
        .target(0.85),
    }
}

/// 6: how the cost of reads grows with the list.
pub struct Growth {
    pub rows: Vec<Row>,
    /// By list size: (`GET /todos/`, nginx) and (`GET /`, nginx) in requests/s.
    pub points: BTreeMap<usize, [(f64, f64); 2]>,
    /// Peak RSS while `GET /todos/` with 10,000 todos was under load, if measured.
    pub rss_at_10k: Option<u64>,
}

pub fn growth(bench: &Bench, sizes: &[usize], reads: &Reads) -> Growth {
    let point = |row: &Row| (row.app.requests_per_second, row.ceiling_rate());
    let mut growth = Growth {
        rows: Vec::new(),
        points: BTreeMap::from([(100, [point(&reads.list), point(&reads.page)])]),
        rss_at_10k: None,
    };
    for &size in sizes {
        bench.server.seed(bench.binary, size);
        let list = bench.read_against_nginx(
            format!("6. GET /todos/ ({size} todos)"),
            "/todos/",
            &format!("todos-{size}"),
        );
        let page = bench.read_against_nginx(
            format!("6. GET / ({size} todos)"),
            "/",
            &format!("page-{size}"),
        );
        if size == 10_000 {
            growth.rss_at_10k = Some(list.app.peak_rss_kib);
        }
        growth.points.insert(size, [point(&list), point(&page)]);
        let target = (size >= 10_000).then_some(0.25);
        for row in [list, page] {
            growth.rows.push(match target {
                Some(target) => row.target(target),
                None => row,
            });
        }
    }
    growth
}

/// 7-10: the same reads and a write in accounts mode, signed in by session cookie and by bearer
/// token, against the open-mode figures of this run; sign-ins per second; one Argon2id
/// verification.
pub struct SignedIn {
    pub cookie_read: Row,
    pub bearer_read: Row,
    pub cookie_post: Row,
    pub sign_ins: Row,
    /// One verification alone on a core, median of 15.
    pub argon2: Duration,
}

pub fn signed_in(binary: &Path, scripts: &Path, seconds: u64, open: (&Reads, &Writes)) -> SignedIn {
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
    let open_list = open.0.list.app.requests_per_second;
    let open_post = open.1.post.app.requests_per_second;
    let run = |scenario: &str, name: &str, path: &str, script: &str| {
        eprintln!("{scenario}");
        let script = lua(scripts, name, script);
        Row::new(
            scenario.into(),
            wrk(&server.url(path), Some(&script), seconds, pid),
        )
    };
    let cookie_read = run(
        "7. GET /todos/ (100 todos), signed in: session cookie",
        "get-cookie.lua",
        "/todos/",
        &lua_with_headers("GET", &cookie, None),
    )
    .against("open mode, this run", open_list)
    .target(0.85);
    let bearer_read = run(
        "8. GET /todos/ (100 todos), signed in: bearer token",
        "get-bearer.lua",
        "/todos/",
        &lua_with_headers("GET", &bearer, None),
    )
    .against("open mode, this run", open_list)
    .target(0.85);
    let cookie_post = run(
        "9. POST /todos/, signed in: session cookie",
        "post-cookie.lua",
        "/todos/",
        &lua_with_headers(
            "POST",
            &cookie,
            Some(r#"{"title": "A todo from the benchmark"}"#),
        ),
    )
    .against("open mode, this run", open_post);
    let form = format!("username=bench&password={BENCH_PASSWORD}");
    let sign_ins = run(
        "10. POST /login (sign-in, Argon2id)",
        "login.lua",
        "/login",
        &format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \
             \"application/x-www-form-urlencoded\"\nwrk.headers[\"Origin\"] = \"{origin}\"\n\
             wrk.body = \"{form}\"\n"
        ),
    );
    SignedIn {
        cookie_read,
        bearer_read,
        cookie_post,
        sign_ins,
        argon2: argon2_verification(),
    }
}

/// One verification, alone on a core: the price of a sign-in (median of 15).
fn argon2_verification() -> Duration {
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
    times[times.len() / 2]
}
