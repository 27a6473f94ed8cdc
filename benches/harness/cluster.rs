//! The cluster of `scripts/cluster` (PostgreSQL, instances of the release binary, nginx): a rolling
//! deploy under load, and a write's fan-out to streams spread over the instances.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::follow::{Heard, follow};
use crate::streams::{FanOut, Streams, percentile, post_marker};

/// A cluster started by the script, stopped (and its database deleted) when dropped.
pub struct Cluster {
    state: tempfile::TempDir,
    /// nginx's port.
    pub port: u16,
    pub database_url: String,
}

fn script(state: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cluster"))
        .args(args)
        .env("CLUSTER_STATE", state.join("cluster"))
        .envs(env.iter().copied())
        .output()
        .expect("scripts/cluster runs")
}

impl Cluster {
    /// `instances` behind nginx, each with `env` on top of the script's settings; `None` (and why)
    /// when the script cannot run here.
    pub fn start(instances: usize, env: &[(&str, &str)]) -> Result<Cluster, String> {
        let state = tempfile::tempdir().expect("temp dir");
        let started = script(state.path(), &[&instances.to_string()], env);
        if !started.status.success() {
            return Err(String::from_utf8_lossy(&started.stderr).trim().to_owned());
        }
        let read = |name: &str| {
            std::fs::read_to_string(state.path().join("cluster").join(name))
                .expect("the cluster's state")
                .trim()
                .to_owned()
        };
        let url = read("url");
        let port = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("nginx's port");
        let database_url = read("database_url");
        Ok(Cluster {
            state,
            port,
            database_url,
        })
    }

    /// One rolling restart of every instance (`scripts/cluster deploy`), with `env`.
    pub fn deploy(&self, env: &[(&str, &str)]) {
        let deployed = script(self.state.path(), &["deploy"], env);
        assert!(
            deployed.status.success(),
            "deploy: {}",
            String::from_utf8_lossy(&deployed.stderr)
        );
    }

    /// The PostgreSQL server's processes.
    fn postgres_pids(&self) -> Vec<u32> {
        let data = std::fs::read_to_string(self.state.path().join("cluster/pgdata"))
            .expect("pgdata")
            .trim()
            .to_owned();
        first_line_pid(&PathBuf::from(data).join("postmaster.pid"))
            .map(with_children)
            .unwrap_or_default()
    }

    /// CPU seconds used so far by the instances, nginx and PostgreSQL.
    fn cpu_by_part(&self) -> [f64; 3] {
        let state = self.state.path().join("cluster");
        let mut instances = Vec::new();
        for entry in std::fs::read_dir(&state).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("instance-") && name.ends_with(".pid") {
                instances.extend(first_line_pid(&entry.path()));
            }
        }
        let nginx = first_line_pid(&state.join("nginx/nginx.pid"))
            .map(with_children)
            .unwrap_or_default();
        let sum =
            |pids: Vec<u32>| -> f64 { pids.into_iter().map(crate::streams::cpu_seconds).sum() };
        [sum(instances), sum(nginx), sum(self.postgres_pids())]
    }

    /// What nginx's error log says of the instances, by kind, with counts.
    fn upstream_errors(&self) -> String {
        let log = std::fs::read_to_string(self.state.path().join("cluster/nginx/error.log"))
            .unwrap_or_default();
        let mut kinds: std::collections::BTreeMap<String, usize> =
            std::collections::BTreeMap::new();
        for line in log.lines().filter(|line| line.contains("[error]")) {
            let kind = line
                .split_once(": *")
                .and_then(|(_, rest)| rest.split_once(' '))
                .map(|(_, rest)| rest.split(" while ").next().unwrap_or(rest))
                .unwrap_or(line);
            let request = line
                .split_once("request: \"")
                .and_then(|(_, rest)| rest.split(' ').next())
                .unwrap_or("?");
            *kinds.entry(format!("{kind} ({request})")).or_default() += 1;
        }
        if kinds.is_empty() {
            return "none".to_owned();
        }
        kinds
            .iter()
            .map(|(kind, count)| format!("{count}× {kind}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// CPU seconds used so far by PostgreSQL's processes.
    fn postgres_cpu(&self) -> f64 {
        self.postgres_pids()
            .into_iter()
            .map(crate::streams::cpu_seconds)
            .sum()
    }
}

/// The process id on the first line of `path`.
fn first_line_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.lines().next().and_then(|pid| pid.trim().parse().ok()))
}

/// `parent` and its children.
fn with_children(parent: u32) -> Vec<u32> {
    let mut pids = vec![parent];
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|pid| pid.parse().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // The field after the state is the parent.
        let of = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|of| of.parse::<u32>().ok());
        if of == Some(parent) {
            pids.push(pid);
        }
    }
    pids
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = script(self.state.path(), &["stop"], &[]);
    }
}

/// Adds `count` users, each with a default list and a session, straight into the cluster's
/// database; returns the sessions' secrets.
pub fn seed_sessions(database_url: &str, prefix: &str, count: usize) -> Vec<String> {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    let mut conn = diesel::pg::PgConnection::establish(database_url).expect("PostgreSQL");
    let now = todomvc::auth::now();
    let mut sql = String::from("BEGIN;");
    let mut secrets = Vec::with_capacity(count);
    for n in 0..count {
        let secret = todomvc::auth::token::generate("").expect("random");
        let hash = todomvc::auth::token::hash(&secret);
        sql.push_str(&format!(
            "WITH u AS (INSERT INTO users (username, username_key, password_hash, created_at) \
               VALUES ('{prefix}{n}', '{prefix}{n}', 'not used', {now}) RETURNING id), \
             l AS (INSERT INTO lists (title, owner_id, is_default, created_at) \
               SELECT 'Todos', id, TRUE, {now} FROM u RETURNING owner_id) \
             INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at) \
               SELECT owner_id, '{hash}', {now}, {now} FROM l;"
        ));
        secrets.push(secret);
    }
    sql.push_str("COMMIT;");
    conn.batch_execute(&sql).expect("seed users");
    secrets
}

/// What the writers to the followed lists got.
#[derive(Debug, Default)]
struct Written {
    /// Acknowledged titles, per list (the owner's index).
    acknowledged: HashMap<usize, Vec<String>>,
    failures: Vec<String>,
    took_ms: Vec<f64>,
}

/// Writes to the lists in turn (each with its owner's session and an `Idempotency-Key`) until
/// `stop`.
async fn write_lists(
    client: reqwest::Client,
    (base, sessions): (String, Vec<String>),
    stop: tokio::sync::watch::Receiver<bool>,
) -> Written {
    let mut written = Written::default();
    let mut n = 0;
    while !*stop.borrow() {
        let list = n % sessions.len();
        let title = format!("deploy {list} {n}");
        let started = Instant::now();
        let answer = client
            .post(format!("{base}/todos/"))
            .header("origin", &base)
            .header("cookie", format!("todomvc_session={}", sessions[list]))
            .header("idempotency-key", format!("deploy-{n}"))
            .json(&serde_json::json!({ "title": title }))
            .send()
            .await;
        written
            .took_ms
            .push(started.elapsed().as_secs_f64() * 1000.0);
        match answer {
            Ok(answer) if answer.status() == 201 => {
                written.acknowledged.entry(list).or_default().push(title);
            }
            Ok(answer) => written
                .failures
                .push(format!("{title}: {}", answer.status())),
            Err(err) => written.failures.push(format!("{title}: {err}")),
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    written
}

/// How big the deploy is: the full run's, or the smoke run's.
struct Size {
    instances: usize,
    rounds: usize,
    lists: usize,
    streams_per_list: usize,
    drain_secs: &'static str,
}

impl Size {
    fn of(options: &crate::options::Options) -> Size {
        if options.seconds > 1 {
            Size {
                instances: 4,
                rounds: 4,
                lists: 200,
                streams_per_list: 10,
                drain_secs: "5",
            }
        } else {
            Size {
                instances: 2,
                rounds: 1,
                lists: 20,
                streams_per_list: 5,
                drain_secs: "1",
            }
        }
    }

    /// How long a deploy takes, about: each restart drains, starts and waits 2.5 s.
    fn deploy_seconds(&self) -> u64 {
        let drain: u64 = self.drain_secs.parse().unwrap_or(5);
        (self.instances * self.rounds) as u64 * (drain + 4)
    }
}

/// Every cluster scenario; returns the report's lines, and adds to the targets.
pub fn scenarios(
    scripts: &Path,
    options: &crate::options::Options,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let mut table = crate::row::scenario_table();
    if let Err(why) = rolling_deploy(scripts, options, (&mut table, notes)) {
        let why = format!("`scripts/cluster` could not start ({why}).");
        crate::options::unmeasured(&why);
        return vec![format!("Not measured: {why}")];
    }
    fan_out(options, (&mut table, notes));
    table
}

/// The deploy's load: the followers of the lists, their writer, and the keyed Backbone session
/// under wrk; all through nginx.
struct Load {
    runtime: tokio::runtime::Runtime,
    stop_streams: tokio::sync::watch::Sender<bool>,
    stop_writer: tokio::sync::watch::Sender<bool>,
    followers: Vec<(usize, tokio::task::JoinHandle<Heard>)>,
    writer: tokio::task::JoinHandle<Written>,
}

impl Load {
    fn start(base: &str, sessions: &[String], per_list: usize) -> Load {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let client = reqwest::Client::new();
        let (stop_streams, streams_stop) = tokio::sync::watch::channel(false);
        let open = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut followers = Vec::new();
        for (list, secret) in sessions.iter().enumerate() {
            for _ in 0..per_list {
                let task = follow(
                    client.clone(),
                    (
                        format!("{base}/todos/events"),
                        format!("todomvc_session={secret}"),
                    ),
                    streams_stop.clone(),
                    open.clone(),
                );
                followers.push((list, runtime.spawn(task)));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while open.load(std::sync::atomic::Ordering::Relaxed) < followers.len() {
            assert!(Instant::now() < deadline, "the streams did not all open");
            std::thread::sleep(Duration::from_millis(50));
        }
        let (stop_writer, writer_stop) = tokio::sync::watch::channel(false);
        let writer = runtime.spawn(write_lists(
            client,
            (base.to_owned(), sessions.to_vec()),
            writer_stop,
        ));
        Load {
            runtime,
            stop_streams,
            stop_writer,
            followers,
            writer,
        }
    }

    /// Stops the writer, gives the streams a moment to hear its last writes, stops them.
    fn finish(self) -> (Written, Vec<(usize, Heard)>) {
        self.stop_writer.send_replace(true);
        let written = self.runtime.block_on(self.writer).expect("the writer");
        std::thread::sleep(Duration::from_secs(3));
        self.stop_streams.send_replace(true);
        let heard = self
            .followers
            .into_iter()
            .map(|(list, task)| (list, self.runtime.block_on(task).expect("a stream")))
            .collect();
        (written, heard)
    }
}

/// A rolling deploy under load: every instance restarted in turn, `rounds` times, while wrk runs
/// the keyed Backbone session through nginx, a writer writes to the followed lists, and their
/// streams follow them.
fn rolling_deploy(
    scripts: &Path,
    options: &crate::options::Options,
    (table, notes): (&mut Vec<String>, &mut Vec<String>),
) -> Result<(), String> {
    let size = Size::of(options);
    let env = [("APP__SERVER__DRAIN_SECS", size.drain_secs)];
    eprintln!(
        "C. rolling deploy: {} instances, {} rounds",
        size.instances, size.rounds
    );
    let cluster = Cluster::start(size.instances, &env)?;
    let base = format!("http://127.0.0.1:{}", cluster.port);
    let sessions = seed_sessions(&cluster.database_url, "owner", size.lists);
    let backbone = seed_sessions(&cluster.database_url, "backbone", SESSIONS);
    let load = Load::start(&base, &sessions, size.streams_per_list);
    // The same load for a few seconds first (other users, whose keys are their own): what is
    // measured is the deploy, not a cold start.
    let warming = seed_sessions(&cluster.database_url, "warm-up", SESSIONS);
    let _ = sessions_under_wrk(scripts, &base, &warming, 5).join();
    // The same load with no deploy, for comparison (yet other users).
    let steady = seed_sessions(&cluster.database_url, "steady", SESSIONS);
    let steady = sessions_under_wrk(scripts, &base, &steady, size.deploy_seconds() / 4)
        .join()
        .expect("wrk");
    let seconds = size.deploy_seconds() + 6;
    let session = sessions_under_wrk(scripts, &base, &backbone, seconds);
    std::thread::sleep(Duration::from_secs(2));
    let deploying = Instant::now();
    for _ in 0..size.rounds {
        cluster.deploy(&env);
    }
    let took = deploying.elapsed();
    let session = session.join().expect("wrk");
    let (written, heard) = load.finish();
    table.push(format!(
        "| the same load with no deploy, for comparison ({} s) | {:.0}/s, p50 {:.1} ms, p99 {:.1} ms; {} non-2xx, {} socket errors | |",
        size.deploy_seconds() / 4,
        steady.requests_per_second,
        steady.p50_ms,
        steady.p99_ms,
        steady.non_2xx,
        steady.errors
    ));
    report_deploy(&size, took, (&session, &written, &heard), (table, notes));
    check_lists(&base, &sessions, &written, table);
    table.push(format!(
        "| … nginx's error log, of the instances (a refused connect is retried on the next instance; nothing else is) | {} | |",
        cluster.upstream_errors()
    ));
    Ok(())
}

/// The deploy's lines: the session under wrk, the writes, and what the streams heard.
fn report_deploy(
    size: &Size,
    took: Duration,
    (session, written, heard): (&crate::wrk::Load, &Written, &[(usize, Heard)]),
    (table, notes): (&mut Vec<String>, &mut Vec<String>),
) {
    let restarts = size.instances * size.rounds;
    let mut took_ms = written.took_ms.clone();
    let writes_p99 = percentile(&mut took_ms, 99.0);
    let failed = session.non_2xx + session.errors + written.failures.len() as u64;
    table.push(format!(
        "| rolling deploy: {} instances each restarted {} times ({restarts} restarts in {:.0} s; SIGTERM, {} s drain, start), under the keyed Backbone session of {SESSIONS} users (a wrk thread each, with 4 connections: the page's four requests at a time, {PACE_MS} ms apart; through nginx) | {:.0}/s, p50 {:.1} ms, p99 {:.1} ms; {} non-2xx, {} socket errors | 0 failed; p99 at most 100 ms |",
        size.instances,
        size.rounds,
        took.as_secs_f64(),
        size.drain_secs,
        session.requests_per_second,
        session.p50_ms,
        session.p99_ms,
        session.non_2xx,
        session.errors
    ));
    let acknowledged: usize = written.acknowledged.values().map(Vec::len).sum();
    table.push(format!(
        "| … meanwhile, writes to the {} followed lists, one at a time, each with an `Idempotency-Key` | {acknowledged} acknowledged, {} failed{}; p99 {writes_p99:.1} ms | 0 failed |",
        size.lists,
        written.failures.len(),
        if written.failures.is_empty() {
            String::new()
        } else {
            format!(" ({})", written.failures.iter().take(3).cloned().collect::<Vec<_>>().join("; "))
        }
    ));
    let (mut exact, mut lost, mut repeated, mut resets) = (0, 0, 0, 0);
    let (mut reconnects, mut refused, mut other) = (0, 0, 0);
    for (list, heard) in heard {
        let expected = written.acknowledged.get(list).cloned().unwrap_or_default();
        let in_order = heard.ids.windows(2).all(|pair| pair[0] < pair[1]);
        if heard.titles == expected && in_order && heard.later_resets == 0 {
            exact += 1;
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for title in &heard.titles {
            *counts.entry(title).or_default() += 1;
        }
        lost += expected
            .iter()
            .filter(|title| !counts.contains_key(title.as_str()))
            .count();
        repeated += counts.values().filter(|count| **count > 1).count();
        resets += heard.later_resets;
        reconnects += heard.reconnects;
        refused += heard.refused;
        other += heard.other_failures;
    }
    let per_deploy = refused as f64 / size.rounds as f64;
    table.push(format!(
        "| … and {} live streams ({} on each list) reconnecting with `Last-Event-ID` | {exact} of {} heard every write to their list exactly once, in order; {lost} lost, {repeated} repeated, {resets} resets; {reconnects} reconnects, {refused} refused with 503 ({per_deploy:.1} per deploy), {other} other failures | none lost or repeated; at most 5 refused per deploy |",
        heard.len(),
        size.streams_per_list,
        heard.len()
    ));
    notes.push(format!(
        "- rolling deploy: {failed} failed requests (target 0): {}; p99 {:.1} ms (target at most 100): {}; events: {} lost or repeated (target 0): {}; {per_deploy:.1} refused reconnects per deploy (target at most 5): {}",
        crate::report::met(failed == 0),
        session.p99_ms.max(writes_p99),
        crate::report::met(session.p99_ms.max(writes_p99) <= 100.0),
        lost + repeated + resets,
        crate::report::met(lost + repeated + resets == 0 && exact == heard.len()),
        crate::report::met(per_deploy <= 5.0)
    ));
}

/// Each followed list holds each acknowledged write once.
fn check_lists(base: &str, sessions: &[String], written: &Written, table: &mut Vec<String>) {
    let port: u16 = base
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("port");
    let mut wrong = 0;
    for (list, secret) in sessions.iter().enumerate() {
        let headers = format!("Cookie: todomvc_session={secret}\r\n");
        let (_, _, body) =
            crate::http::http_with(port, "GET", "/todos/", &headers, None).expect("a list");
        let todos: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap_or_default();
        let mut titles: Vec<&str> = todos
            .iter()
            .filter_map(|todo| todo["title"].as_str())
            .collect();
        titles.sort_unstable();
        let mut expected: Vec<&str> = written
            .acknowledged
            .get(&list)
            .map(|titles| titles.iter().map(String::as_str).collect())
            .unwrap_or_default();
        expected.sort_unstable();
        if titles != expected {
            wrong += 1;
        }
    }
    table.push(format!(
        "| … afterwards, each followed list holds each acknowledged write exactly once | {} of {} lists | all |",
        sessions.len() - wrong,
        sessions.len()
    ));
}

/// A write through nginx, and the time until every stream, spread over the instances, has it;
/// with PostgreSQL's CPU and the notifications each write costs.
fn fan_out(
    options: &crate::options::Options,
    (table, notes): (&mut Vec<String>, &mut Vec<String>),
) {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    let (instances, count) = if options.seconds > 1 {
        (4, 10_000)
    } else {
        (2, 1_000)
    };
    eprintln!("C. fan-out to {count} streams over {instances} instances");
    let env = [("APP__EVENTS__MAX_STREAMS_PER_USER", "10000")];
    let Ok(cluster) = Cluster::start(instances, &env) else {
        return;
    };
    let secret = seed_sessions(&cluster.database_url, "fan", 1).remove(0);
    let cookie = format!("Cookie: todomvc_session={secret}\r\n");
    let streams = Streams::open_at(cluster.port, ("/", "/todos/events"), count, |_| {
        cookie.clone()
    });
    let mut listening = diesel::pg::PgConnection::establish(&cluster.database_url).expect("PG");
    listening
        .batch_execute("LISTEN todo_changes; LISTEN generations")
        .expect("LISTEN");
    let writes = options.fan_out_writes;
    let cpu = cluster.postgres_cpu();
    let origin = format!("{cookie}Origin: http://127.0.0.1:{}\r\n", cluster.port);
    let mut latencies =
        streams.fan_out(writes, |marker| post_marker(cluster.port, &origin, marker));
    let cpu_ms = (cluster.postgres_cpu() - cpu) * 1000.0 / writes as f64;
    let (mut notifications, mut bytes) = (0usize, 0usize);
    for notification in listening.notifications_iter().flatten() {
        notifications += 1;
        bytes += notification.channel.len() + notification.payload.len();
    }
    FanOut {
        row: &format!(
            "fan-out across the cluster: a write through nginx until its event is at each of {count} streams spread over {instances} instances ({writes} writes)"
        ),
        note: &format!("fan-out to {count} streams over {instances} instances"),
        target_ms: 100,
    }
    .report(&mut latencies, (&mut *table, &mut *notes));
    table.push(format!(
        "| … PostgreSQL per write: CPU (all its processes, read from /proc), notifications | {cpu_ms:.2} ms CPU; {:.1} notifications of {:.0} bytes (channel and payload), each delivered to the {instances} listening instances | reported |",
        notifications as f64 / writes as f64,
        bytes as f64 / notifications.max(1) as f64
    ));
    drop(streams);
    writes_through(&cluster, options, &origin, table);
}

/// `POST /todos/` through nginx (signed in, 32 connections), against diesel's inserts on the same
/// PostgreSQL server; with the CPU each write costs in each part.
fn writes_through(
    cluster: &Cluster,
    options: &crate::options::Options,
    headers: &str,
    table: &mut Vec<String>,
) {
    eprintln!("C. POST /todos/ through the cluster; diesel's ceiling on its PostgreSQL");
    let mut script = String::from(
        "wrk.method = \"POST\"\n\
        wrk.body = '{\"title\": \"A todo from the benchmark\"}'\n\
        wrk.headers[\"Content-Type\"] = \"application/json\"\n",
    );
    for line in headers.lines() {
        if let Some((name, value)) = line.split_once(": ") {
            script.push_str(&format!("wrk.headers[\"{name}\"] = \"{}\"\n", value.trim()));
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = crate::wrk::lua(dir.path(), "post-cluster.lua", &script);
    let before = cluster.cpu_by_part();
    let load = crate::wrk::wrk(
        &format!("http://127.0.0.1:{}/todos/", cluster.port),
        Some(&script),
        options.seconds,
        None,
    );
    let after = cluster.cpu_by_part();
    let requests = load.requests_per_second * options.seconds as f64;
    let per = |part: usize| (after[part] - before[part]) * 1000.0 / requests.max(1.0);
    let (ceiling, threads) = crate::ceilings::diesel_insert_ceiling(options.seconds, || {
        crate::streams::create_database(&cluster.database_url)
    });
    table.push(format!(
        "| `POST /todos/` through nginx to the cluster (signed in, one list, {} connections), against diesel's inserts on the same PostgreSQL ({threads} threads) | {:.0}/s (p99 {:.1} ms, {} non-2xx) against {ceiling:.0}/s: {:.0}% | reported |",
        crate::wrk::CONNECTIONS,
        load.requests_per_second,
        load.p99_ms,
        load.non_2xx,
        100.0 * load.requests_per_second / ceiling
    ));
    table.push(format!(
        "| … CPU per write, by part | instances {:.2} ms, nginx {:.2} ms, PostgreSQL {:.2} ms | reported |",
        per(0),
        per(1),
        per(2)
    ));
}

/// Signed-in users running the Backbone session during the deploy.
const SESSIONS: usize = 8;

/// How long each of their connections waits between two requests: 8 users with 4 connections
/// each then ask about 300 requests a second, a mixed load that leaves room (a closed loop would
/// measure PostgreSQL's fsync queue instead, about 600 writes a second on this machine).
const PACE_MS: u64 = 100;

/// The keyed Backbone session of each of `secrets`' users, one wrk thread each with 4 connections
/// (the page sends up to four requests at a time), for `seconds`, through nginx at `base`.
fn sessions_under_wrk(
    scripts: &Path,
    base: &str,
    secrets: &[String],
    seconds: u64,
) -> std::thread::JoinHandle<crate::wrk::Load> {
    let cookies: Vec<String> = secrets
        .iter()
        .map(|secret| format!("\"{secret}\""))
        .collect();
    let script = crate::wrk::lua(
        scripts,
        &format!("session-deploy-{}.lua", secrets.len()),
        &format!(
            "{}\n-- Signed in, a user per thread: reads and writes carry its session, writes the \
             Origin.\nlocal cookies = {{ {} }}\n\
             function init(args)\n  wrk.headers[\"Cookie\"] = \"todomvc_session=\" .. cookies[id]\nend\n\
             local keyed = headers\n\
             function headers()\n  local all = keyed()\n  \
             all[\"Cookie\"] = \"todomvc_session=\" .. cookies[id]\n  \
             all[\"Origin\"] = \"{base}\"\n  return all\nend\n\
             -- A person's pace: each connection waits {PACE_MS} ms between requests.\n\
             function delay()\n  return {PACE_MS}\nend\n{}",
            crate::wrk::KEYED_HEADERS,
            cookies.join(", "),
            crate::wrk::SESSION
        ),
    );
    let url = format!("{base}/");
    let threads = u32::try_from(secrets.len()).unwrap_or(1);
    std::thread::spawn(move || {
        crate::wrk::wrk_threads(&url, Some(&script), (seconds, threads, threads * 4), None)
    })
}
