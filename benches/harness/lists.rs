//! Lists and sharing under load: an editor reading a shared list against its owner reading their
//! own, a write's fan-out to 100 members' streams, and reads among 10,000 lists.

use std::path::Path;

use crate::processes::Server;
use crate::streams::{FanOut, Streams, post_marker_to};
use crate::wrk::{Load, lua, lua_with_headers, wrk};

/// Todos in each measured list, as in the signed-in scenarios.
const TODOS: usize = 100;
/// Members of the shared list, each with a stream open for the fan-out.
const MEMBERS: usize = 100;

/// SQL run on the server's SQLite file, in one transaction.
fn execute(database: &Path, sql: &str) {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    let mut conn = diesel::sqlite::SqliteConnection::establish(&database.display().to_string())
        .expect("the server's database");
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE; {sql} COMMIT;"
    ))
    .expect("seed");
}

/// `count` users (`member{first}` and on), each with a default list and a session; their cookie
/// header lines.
fn users(database: &Path, first: usize, count: usize) -> Vec<String> {
    crate::streams::seed_users(database, "member", first, count)
}

/// `TODOS` todos in list `list`.
fn todos_sql(list: &str) -> String {
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {TODOS}) \
         INSERT INTO todos (title, position, completed, list_id) \
         SELECT 'Todo number ' || i, i, i % 3 = 0, {list} FROM n;"
    )
}

fn get(
    server: &Server,
    scripts: &Path,
    seconds: u64,
    (name, path): (&str, &str),
    cookie: &str,
) -> Load {
    let header = cookie.trim_end().trim_start_matches("Cookie: ").to_owned();
    let script = lua(
        scripts,
        name,
        &lua_with_headers("GET", &[("Cookie", header)], None),
    );
    wrk(
        &server.url(path),
        Some(&script),
        seconds,
        Some(server.child.id()),
    )
}

/// The server with its seeded people and shared list, and where the scenarios write.
struct Setup<'a> {
    server: Server,
    /// The owner's session (`cookies[0]`), then each member's.
    cookies: Vec<String>,
    shared: i64,
    scripts: &'a Path,
    options: &'a crate::options::Options,
}

/// Every lists scenario; returns the report's table, and adds to the targets.
pub fn scenarios(
    binary: &Path,
    scripts: &Path,
    options: &crate::options::Options,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let mut table = crate::row::scenario_table();
    let setup = seed(binary, scripts, options);
    editor_read(&setup, (&mut table, notes));
    fan_out(&setup, (&mut table, notes));
    among_many(&setup, (&mut table, notes));
    table
}

/// The owner (member0) with a default list and a shared one, each of `TODOS` todos, and
/// `MEMBERS` editors of the shared one.
fn seed<'a>(binary: &Path, scripts: &'a Path, options: &'a crate::options::Options) -> Setup<'a> {
    let (server, _) = Server::start_in(binary, "accounts");
    let database = server.database.clone();
    let cookies = users(&database, 0, MEMBERS + 1);
    execute(
        &database,
        &format!(
            "INSERT INTO lists (title, owner_id, is_default, created_at) \
             VALUES ('Shared', (SELECT id FROM users WHERE username = 'member0'), 0, 0); \
             INSERT INTO memberships (list_id, user_id, role, created_at) \
             SELECT (SELECT id FROM lists WHERE title = 'Shared'), id, 'editor', 0 FROM users \
             WHERE username <> 'member0'; \
             {} {}",
            todos_sql("(SELECT id FROM lists WHERE title = 'Shared')"),
            todos_sql(
                "(SELECT id FROM lists WHERE is_default AND owner_id = \
                 (SELECT id FROM users WHERE username = 'member0'))"
            ),
        ),
    );
    let shared = shared_list_id(&server, &cookies[0]);
    Setup {
        server,
        cookies,
        shared,
        scripts,
        options,
    }
}

/// The editor's read of the shared list against the owner's of their own, in the same run.
fn editor_read(setup: &Setup, (table, notes): (&mut Vec<String>, &mut Vec<String>)) {
    eprintln!("S. GET /todos/ as the owner, GET /lists/{{id}}/todos/ as an editor");
    let (server, seconds) = (&setup.server, setup.options.seconds);
    let shared_todos = format!("/lists/{}/todos/", setup.shared);
    let owner = get(
        server,
        setup.scripts,
        seconds,
        ("owner.lua", "/todos/"),
        &setup.cookies[0],
    );
    let editor = get(
        server,
        setup.scripts,
        seconds,
        ("editor.lua", &shared_todos),
        &setup.cookies[1],
    );
    let ratio = editor.requests_per_second / owner.requests_per_second;
    table.push(format!(
        "| `GET /lists/{{id}}/todos/` ({TODOS} todos) by an editor, against `GET /todos/` by the owner | {:.0}/s against {:.0}/s: {:.0}% (p99 {:.2} ms against {:.2} ms) | at least 90% |",
        editor.requests_per_second,
        owner.requests_per_second,
        100.0 * ratio,
        editor.p99_ms,
        owner.p99_ms
    ));
    notes.push(format!(
        "- an editor's `GET /lists/{{id}}/todos/`: {:.0}% of the owner's `GET /todos/` (target at least 90%): {}",
        100.0 * ratio,
        crate::report::met(ratio >= 0.9)
    ));
}

/// A write to the shared list while each of its `MEMBERS` members has its stream open.
fn fan_out(setup: &Setup, (table, notes): (&mut Vec<String>, &mut Vec<String>)) {
    eprintln!("S. fan-out to {MEMBERS} members' streams");
    let (server, shared) = (&setup.server, setup.shared);
    let page = format!("/lists/{shared}");
    let events = format!("/lists/{shared}/events");
    let streams = Streams::open_at(server.port, (&page, &events), MEMBERS, |n| {
        setup.cookies[n + 1].clone()
    });
    let owner = format!(
        "{}Origin: http://127.0.0.1:{}\r\n",
        setup.cookies[0], server.port
    );
    let todos = format!("/lists/{shared}/todos/");
    let writes = setup.options.fan_out_writes;
    let mut latencies = streams.fan_out(writes, |marker| {
        post_marker_to(server.port, &todos, &owner, marker)
    });
    drop(streams);
    FanOut {
        row: &format!(
            "fan-out: the owner's write's 2xx to its event at each of {MEMBERS} members' streams ({writes} writes)"
        ),
        note: &format!("fan-out to {MEMBERS} members' streams"),
        target_ms: 50,
    }
    .report(&mut latencies, (table, notes));
}

/// The owner's `GET /lists` and `GET /todos/` with few lists in the database, then among
/// `many_lists` more (of other people) of 10 todos each.
fn among_many(setup: &Setup, (table, notes): (&mut Vec<String>, &mut Vec<String>)) {
    eprintln!("S. GET /lists and GET /todos/ among many lists");
    let (server, seconds, many_lists) = (
        &setup.server,
        setup.options.seconds,
        setup.options.many_lists,
    );
    let owner = &setup.cookies[0];
    let few = [
        get(
            server,
            setup.scripts,
            seconds,
            ("lists-few.lua", "/lists"),
            owner,
        ),
        get(
            server,
            setup.scripts,
            seconds,
            ("todos-few.lua", "/todos/"),
            owner,
        ),
    ];
    let lists_before = MEMBERS + 2;
    many_lists_of_others(&server.database, many_lists);
    let many = [
        get(
            server,
            setup.scripts,
            seconds,
            ("lists-many.lua", "/lists"),
            owner,
        ),
        get(
            server,
            setup.scripts,
            seconds,
            ("todos-many.lua", "/todos/"),
            owner,
        ),
    ];
    for ((call, few), many) in ["`GET /lists`", "`GET /todos/`"]
        .iter()
        .zip(&few)
        .zip(&many)
    {
        // "No slower": within this machine's noise (10%, or a tenth of a millisecond).
        let met = many.p99_ms <= (few.p99_ms * 1.1).max(few.p99_ms + 0.1);
        table.push(format!(
            "| {call} by the owner of 2 lists, with {many_lists} lists of others in the database against {lists_before} | p99 {:.2} ms against {:.2} ms ({:.0}/s against {:.0}/s) | no slower p99 |",
            many.p99_ms,
            few.p99_ms,
            many.requests_per_second,
            few.requests_per_second
        ));
        notes.push(format!(
            "- {call} among {many_lists} lists: p99 {:.2} ms against {:.2} ms with {lists_before} (target no slower): {}",
            many.p99_ms,
            few.p99_ms,
            crate::report::met(met)
        ));
    }
}

/// The id of the list titled "Shared", as its owner's `GET /lists` shows it.
fn shared_list_id(server: &Server, cookie: &str) -> i64 {
    let (status, _, body) =
        crate::http::http_with(server.port, "GET", "/lists", cookie, None).expect("lists");
    assert_eq!(status, 200, "GET /lists");
    let lists: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    lists
        .as_array()
        .and_then(|lists| lists.iter().find(|list| list["title"] == "Shared"))
        .and_then(|list| list["id"].as_i64())
        .expect("the shared list")
}

/// `count` more lists of 10 todos each, owned by count / 10 other people.
fn many_lists_of_others(database: &Path, count: usize) {
    let owners = (count / 10).max(1);
    users(database, 10_000, owners);
    execute(
        database,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
             INSERT INTO lists (title, owner_id, is_default, created_at) \
             SELECT 'List ' || i, (SELECT id FROM users WHERE username = 'member' || (10000 + i % {owners})), 0, i FROM n; \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) \
             INSERT INTO todos (title, position, list_id) \
             SELECT 'Todo ' || n.i, n.i, lists.id FROM lists, n WHERE lists.title LIKE 'List %';"
        ),
    );
}
