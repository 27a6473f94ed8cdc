//! CalDAV against its peer: this server and Radicale (from PyPI) holding the same 1,000 tasks,
//! under the same load, for the requests task apps make: the collection's `PROPFIND` Depth 1, a
//! `sync-collection` with nothing and with one thing changed, a `GET` of one task, and a `PUT` of
//! a new one; and the no-change sync against `GET /todos/` of the same list.

use std::fmt::Write as _;
use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::http::{free_port, http_with};
use crate::processes::Server;
use crate::wrk::{Load, lua, lua_with_headers, wrk_at};

/// Tasks in the measured collection.
const TASKS: usize = 1000;
/// One connection, as one syncing client: Radicale serves one request at a time (more connections
/// only queue behind each other: 4 give it half the requests/s of 1), so this is its best figure.
const CONNECTIONS: u32 = 1;
const RADICALE_USER: &str = "bench";
const RADICALE_PASSWORD: &str = "benchmark-password";

/// The Radicale `benches/run.sh` installs, or `RADICALE`.
fn radicale_binary() -> Option<PathBuf> {
    let path = std::env::var_os("RADICALE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/radicale-venv/bin/radicale"),
        PathBuf::from,
    );
    path.exists().then_some(path)
}

/// Radicale on a fresh folder, one user with a plain htpasswd line (the cheapest check it has, as
/// an API token's hash is this server's), as many connections as wrk opens.
struct Radicale {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Radicale {
    fn start(binary: &Path) -> Radicale {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let root = dir.path();
        fs::write(
            root.join("users"),
            format!("{RADICALE_USER}:{RADICALE_PASSWORD}\n"),
        )
        .expect("htpasswd");
        fs::write(
            root.join("config"),
            format!(
                "[server]\nhosts = 127.0.0.1:{port}\nmax_connections = {}\n\
                 [auth]\ntype = htpasswd\nhtpasswd_filename = {root}/users\n\
                 htpasswd_encryption = plain\n\
                 [storage]\nfilesystem_folder = {root}/collections\n\
                 [rights]\ntype = owner_only\n[web]\ntype = none\n[logging]\nlevel = warning\n",
                crate::wrk::CONNECTIONS,
                root = root.display()
            ),
        )
        .expect("radicale config");
        let child = Command::new(binary)
            .arg("--config")
            .arg(root.join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("radicale starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "radicale did not start"
            );
            thread::sleep(Duration::from_millis(20));
        }
        Radicale { child, port, dir }
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One server's collection: where it is and how to speak to it.
struct Peer {
    port: u16,
    pid: u32,
    /// The collection's path, ending in `/`.
    collection: String,
    /// The `Authorization` header's value.
    authorization: String,
}

impl Peer {
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &str,
        body: Option<&str>,
    ) -> (u16, String, Vec<u8>) {
        let headers = format!("Authorization: {}\r\n{headers}", self.authorization);
        http_with(self.port, method, path, &headers, body).expect("CalDAV request")
    }

    fn put(&self, name: &str, ical: &str) {
        let (status, _, body) = self.request(
            "PUT",
            &format!("{}{name}", self.collection),
            "Content-Type: text/calendar; charset=utf-8\r\n",
            Some(ical),
        );
        assert!(
            matches!(status, 201 | 204),
            "PUT {name}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }

    /// The collection's current sync token.
    fn sync_token(&self) -> String {
        let (status, _, body) = self.request(
            "REPORT",
            &self.collection,
            "Content-Type: application/xml\r\nDepth: 1\r\n",
            Some(&sync_body("")),
        );
        assert_eq!(status, 207, "sync-collection");
        let body = String::from_utf8_lossy(&body).into_owned();
        let start = body.find("sync-token>").expect("a sync token") + "sync-token>".len();
        let end = start + body[start..].find('<').expect("the token's end");
        body[start..end].to_owned()
    }

    fn load(
        &self,
        scripts: &Path,
        seconds: u64,
        (name, method, path): (&str, &str, &str),
        extra: &[(&str, String)],
        body: Option<&str>,
    ) -> Load {
        let mut headers = vec![("Authorization", self.authorization.clone())];
        headers.extend(extra.iter().cloned());
        let mut script = lua_with_headers(method, &headers, None);
        if let Some(body) = body {
            let _ = writeln!(script, "wrk.body = [[{body}]]");
        }
        let script = lua(scripts, name, &script);
        wrk_at(
            &format!("http://127.0.0.1:{}{path}", self.port),
            Some(&script),
            (seconds, CONNECTIONS),
            Some(self.pid),
        )
    }
}

/// One task as a client sends it; a third are completed.
fn task(uid: &str, number: usize) -> String {
    let state = if number.is_multiple_of(3) {
        "STATUS:COMPLETED\r\nCOMPLETED:20261201T090000Z\r\nPERCENT-COMPLETE:100\r\n"
    } else {
        "STATUS:NEEDS-ACTION\r\n"
    };
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//todomvc benchmark//EN\r\nBEGIN:VTODO\r\n\
         UID:{uid}\r\nDTSTAMP:20261201T090000Z\r\nSUMMARY:Task number {number}\r\n{state}\
         PRIORITY:5\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
}

fn sync_body(token: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><D:sync-collection xmlns:D=\"DAV:\">\
         <D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>\
         <D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
}

const PROPFIND: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><D:propfind xmlns:D=\"DAV:\">\
     <D:prop><D:getetag/><D:getcontenttype/><D:resourcetype/></D:prop></D:propfind>";

/// wrk's Lua for `PUT`s of new tasks: each thread its own names.
fn put_new_script(peer: &Peer) -> String {
    let mut script = String::from(
        "local threads = 0\nfunction setup(thread)\n  threads = threads + 1\n  \
         thread:set(\"tid\", threads)\nend\nlocal n = 0\n",
    );
    let _ = writeln!(
        script,
        "request = function()\n  n = n + 1\n  local uid = \"new-\" .. tid .. \"-\" .. n\n  \
         local body = \"BEGIN:VCALENDAR\\r\\nVERSION:2.0\\r\\nPRODID:-//todomvc benchmark//EN\\r\\n\
         BEGIN:VTODO\\r\\nUID:\" .. uid .. \"\\r\\nDTSTAMP:20261201T090000Z\\r\\nSUMMARY:A new task\\r\\n\
         STATUS:NEEDS-ACTION\\r\\nEND:VTODO\\r\\nEND:VCALENDAR\\r\\n\"\n  \
         return wrk.format(\"PUT\", \"{collection}\" .. uid .. \".ics\", {{[\"Authorization\"] = \"{auth}\", \
         [\"Content-Type\"] = \"text/calendar; charset=utf-8\", [\"If-None-Match\"] = \"*\"}}, body)\nend",
        collection = peer.collection,
        auth = peer.authorization,
    );
    script
}

/// What was measured of one peer.
struct Measured {
    propfind: Load,
    sync_none: Load,
    sync_one: Load,
    get_one: Load,
    put_new: Load,
}

/// Seeds `peer` with `seed` (given each task's name and body), then measures it; each scenario
/// runs at least 5 s, for enough of Radicale's answers.
fn measure(
    peer: &Peer,
    scripts: &Path,
    seconds: u64,
    tag: &str,
    seed: &dyn Fn(&str, &str),
) -> Measured {
    let seconds = seconds.max(5);
    for number in 0..TASKS {
        seed(
            &format!("task-{number}.ics"),
            &task(&format!("task-{number}"), number),
        );
    }
    let before = peer.sync_token();
    peer.put("task-1.ics", &task("task-1", 3));
    let after = peer.sync_token();
    let xml = ("Content-Type", "application/xml; charset=utf-8".to_owned());
    let collection = peer.collection.clone();
    let propfind = peer.load(
        scripts,
        seconds,
        (&format!("{tag}-propfind.lua"), "PROPFIND", &collection),
        &[xml.clone(), ("Depth", "1".to_owned())],
        Some(PROPFIND),
    );
    let sync_none = peer.load(
        scripts,
        seconds,
        (&format!("{tag}-sync-none.lua"), "REPORT", &collection),
        &[xml.clone(), ("Depth", "1".to_owned())],
        Some(&sync_body(&after)),
    );
    let sync_one = peer.load(
        scripts,
        seconds,
        (&format!("{tag}-sync-one.lua"), "REPORT", &collection),
        &[xml, ("Depth", "1".to_owned())],
        Some(&sync_body(&before)),
    );
    let get_one = peer.load(
        scripts,
        seconds,
        (
            &format!("{tag}-get.lua"),
            "GET",
            &format!("{collection}task-500.ics"),
        ),
        &[],
        None,
    );
    let script = lua(
        scripts,
        &format!("{tag}-put-new.lua"),
        &put_new_script(peer),
    );
    let put_new = wrk_at(
        &format!("http://127.0.0.1:{}{collection}", peer.port),
        Some(&script),
        (seconds, CONNECTIONS),
        Some(peer.pid),
    );
    Measured {
        propfind,
        sync_none,
        sync_one,
        get_one,
        put_new,
    }
}

/// This server's collection: a user signed up, their default list.
fn ours(server: &Server) -> (Peer, String) {
    let account = server.sign_up(RADICALE_USER);
    let bearer = format!("Authorization: Bearer {}\r\n", account.token);
    let (status, _, body) =
        http_with(server.port, "GET", "/lists", &bearer, None).expect("GET /lists");
    assert_eq!(status, 200, "GET /lists");
    let lists: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let list = lists[0]["id"].as_i64().expect("a list");
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{RADICALE_USER}:{}", account.token));
    (
        Peer {
            port: server.port,
            pid: server.child.id(),
            collection: format!("/dav/calendars/{RADICALE_USER}/{list}/"),
            authorization: format!("Basic {basic}"),
        },
        account.token,
    )
}

fn radicale_peer(radicale: &Radicale) -> Peer {
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{RADICALE_USER}:{RADICALE_PASSWORD}"));
    let peer = Peer {
        port: radicale.port,
        pid: radicale.child.id(),
        collection: format!("/{RADICALE_USER}/tasks/"),
        authorization: format!("Basic {basic}"),
    };
    let (status, _, body) = peer.request(
        "MKCALENDAR",
        &peer.collection,
        "Content-Type: application/xml\r\n",
        Some(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><C:mkcalendar xmlns:D=\"DAV:\" \
             xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:set><D:prop>\
             <D:displayname>Tasks</D:displayname><C:supported-calendar-component-set>\
             <C:comp name=\"VTODO\"/></C:supported-calendar-component-set></D:prop></D:set>\
             </C:mkcalendar>",
        ),
    );
    assert_eq!(
        status,
        201,
        "MKCALENDAR on Radicale: {}",
        String::from_utf8_lossy(&body)
    );
    peer
}

/// The CalDAV section's table; adds to the targets.
pub fn scenarios(
    binary: &Path,
    scripts: &Path,
    seconds: u64,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let Some(radicale_binary) = radicale_binary() else {
        let line = "CalDAV against Radicale: not measured, no Radicale (benches/run.sh installs \
                    it into target/radicale-venv; or set RADICALE)"
            .to_owned();
        crate::options::unmeasured(&line);
        notes.push(format!("- {line}"));
        return vec![line];
    };
    eprintln!("C. CalDAV against Radicale, {TASKS} tasks each");
    let (server, _) = Server::start_in(binary, "accounts");
    let (peer, token) = ours(&server);
    let ours = measure(&peer, scripts, seconds, "ours", &|name, ical| {
        peer.put(name, ical);
    });
    let list = peer
        .collection
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let todos = Peer {
        authorization: format!("Bearer {token}"),
        ..peer
    };
    let todos_path = format!("/lists/{list}/todos/");
    let get_todos = todos.load(
        scripts,
        seconds,
        ("ours-todos.lua", "GET", &todos_path),
        &[],
        None,
    );
    drop(server);
    let radicale = Radicale::start(&radicale_binary);
    // Radicale's PUTs take tens of milliseconds each: its tasks are written into its folder, which
    // it reads as it would tasks it stored itself.
    let folder = radicale
        .dir
        .path()
        .join(format!("collections/collection-root/{RADICALE_USER}/tasks"));
    let theirs = measure(
        &radicale_peer(&radicale),
        scripts,
        seconds,
        "radicale",
        &|name, ical| fs::write(folder.join(name), ical).expect("a task in Radicale's folder"),
    );
    drop(radicale);
    table(&ours, &theirs, &get_todos, notes)
}

fn table(
    ours: &Measured,
    theirs: &Measured,
    get_todos: &Load,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let mut table = vec![
        format!(
            "Both servers hold the same {TASKS} tasks, PUT through CalDAV; Basic auth on both (an API token here, a plain htpasswd line there), wrk with {CONNECTIONS} connection. Radicale {}.\n",
            radicale_version()
        ),
        "| request | this server: requests/s, p99 | Radicale: requests/s, p99 | ratio | target |"
            .to_owned(),
        "|---|---|---|---|---|".to_owned(),
    ];
    let rows = [
        (
            "`PROPFIND` Depth 1 of the collection",
            &ours.propfind,
            &theirs.propfind,
        ),
        (
            "`sync-collection`, no change",
            &ours.sync_none,
            &theirs.sync_none,
        ),
        (
            "`sync-collection`, one change",
            &ours.sync_one,
            &theirs.sync_one,
        ),
        ("`GET` of one task", &ours.get_one, &theirs.get_one),
        (
            "`PUT` of a new task (`If-None-Match: *`)",
            &ours.put_new,
            &theirs.put_new,
        ),
    ];
    for (what, ours, theirs) in rows {
        let ratio = ours.requests_per_second / theirs.requests_per_second;
        let met = ratio > 1.0 && ours.non_2xx == 0;
        table.push(format!(
            "| {what} | {:.0}/s, {:.2} ms ({} non-2xx) | {:.0}/s, {:.2} ms ({} non-2xx) | {ratio:.1}× | ahead: {} |",
            ours.requests_per_second,
            ours.p99_ms,
            ours.non_2xx,
            theirs.requests_per_second,
            theirs.p99_ms,
            theirs.non_2xx,
            crate::report::met(met)
        ));
        notes.push(format!(
            "- CalDAV {what}: {ratio:.1}× Radicale's requests/s (target ahead): {}",
            crate::report::met(met)
        ));
    }
    let ratio = ours.sync_none.requests_per_second / get_todos.requests_per_second;
    table.push(format!(
        "| `sync-collection`, no change, against `GET /lists/{{id}}/todos/` of the same list ({:.0}/s, p99 {:.2} ms) | {:.0}/s | | {:.0}% | at least 60%: {} |",
        get_todos.requests_per_second,
        get_todos.p99_ms,
        ours.sync_none.requests_per_second,
        100.0 * ratio,
        crate::report::met(ratio >= 0.6)
    ));
    notes.push(format!(
        "- CalDAV `sync-collection` with no change: {:.0}% of `GET /todos/` of the same list (target at least 60%): {}",
        100.0 * ratio,
        crate::report::met(ratio >= 0.6)
    ));
    table
}

fn radicale_version() -> String {
    radicale_binary()
        .and_then(|binary| Command::new(binary).arg("--version").output().ok())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default()
}
