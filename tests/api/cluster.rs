//! `scripts/cluster`: a throwaway PostgreSQL, instances of the release binary and nginx in front.
//! Through nginx, a person signs up, writes and reads, and a live stream on one instance hears a
//! write that another made; `scripts/cluster deploy` restarts every instance under load without a
//! failed request or a lost event; `scripts/cluster stop` leaves nothing running. Ignored by default
//! (they need the release binary, PostgreSQL's server binaries and nginx); CI runs them.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::follow::follow;
use crate::helpers::skip;

/// One cluster at a time: two starting at once would pick the same free ports.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The script, with its state in a directory of this test's; the turn is given back once the
/// cluster has stopped.
struct Cluster {
    state: tempfile::TempDir,
    url: String,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

fn script(state: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/cluster"))
        .args(args)
        .env("CLUSTER_STATE", state.join("cluster"))
        // The instances drain for 1 s when stopped (5 in production), to keep the test short.
        .env("APP__SERVER__DRAIN_SECS", "1")
        .output()
        .expect("scripts/cluster runs")
}

impl Cluster {
    fn start(instances: usize, turn: tokio::sync::MutexGuard<'static, ()>) -> Cluster {
        let state = tempfile::tempdir().expect("a temp dir");
        let started = script(state.path(), &[&instances.to_string()]);
        assert!(
            started.status.success(),
            "scripts/cluster failed:\n{}{}",
            String::from_utf8_lossy(&started.stdout),
            String::from_utf8_lossy(&started.stderr)
        );
        let url = String::from_utf8_lossy(&started.stdout)
            .lines()
            .last()
            .expect("the URL")
            .trim_end_matches('/')
            .to_owned();
        Cluster {
            state,
            url,
            _turn: turn,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let stopped = script(self.state.path(), &["stop"]);
        assert!(stopped.status.success(), "scripts/cluster stop failed");
    }
}

/// What the script needs, or a visible skip.
fn can_run() -> bool {
    let postgres = std::fs::read_dir("/usr/lib/postgresql").is_ok();
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .any(|path| std::path::Path::new(path).exists());
    let binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/todomvc");
    if postgres && nginx && binary.exists() {
        return true;
    }
    skip(
        "the cluster test needs PostgreSQL's server binaries and nginx (apt-get install postgresql \
         nginx) and the release binary (cargo build --release)",
    );
    false
}

/// Two instances, this test's alone, and alice signed up through nginx: the cluster, her client
/// and her session cookie. `None` (a visible skip) where the script cannot run.
async fn two_instances_with_alice() -> Option<(Cluster, reqwest::Client, String)> {
    if !can_run() {
        return None;
    }
    let turn = ONE_AT_A_TIME.lock().await;
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(2, turn))
        .await
        .expect("started");
    let (client, session) = sign_up(&cluster.url, "alice").await;
    Some((cluster, client, session))
}

/// The signed-in person's `GET /todos/` through nginx.
async fn todos(client: &reqwest::Client, base: &str) -> Value {
    client
        .get(format!("{base}/todos/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Signs `username` up through the load balancer: a client with the session cookie, and the
/// cookie.
async fn sign_up(base: &str, username: &str) -> (reqwest::Client, String) {
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_up = anonymous
        .post(format!("{base}/signup"))
        .header("origin", base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username={username}&password=correct-horse-battery"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 303);
    let session = signed_up
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|cookie| cookie.to_str().ok())
        .find(|cookie| cookie.starts_with("todomvc_session="))
        .and_then(|cookie| cookie.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", session.parse().unwrap());
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    (client, session)
}

#[tokio::test]
#[ignore = "needs the release binary, PostgreSQL and nginx; CI runs it"]
async fn the_cluster_serves_through_nginx_and_stops() {
    let Some((cluster, client, _)) = two_instances_with_alice().await else {
        return;
    };
    let base = cluster.url.clone();

    // A stream through nginx (on one instance or the other), and writes through nginx (round
    // robin: both instances take some): the stream hears every one.
    let mut stream = client
        .get(format!("{base}/todos/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    for n in 0..4 {
        let created = client
            .post(format!("{base}/todos/"))
            .header("origin", &base)
            .json(&json!({"title": format!("through nginx {n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let todo: Value = created.json().await.unwrap();
        assert!(
            todo["url"].as_str().unwrap().starts_with(&base),
            "URLs name the load balancer: {todo}"
        );
    }
    let mut heard = String::new();
    while (0..4).any(|n| !heard.contains(&format!("through nginx {n}"))) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .expect("the stream goes on")
            .unwrap()
            .expect("a chunk");
        heard.push_str(&String::from_utf8_lossy(&chunk));
    }
    let list = todos(&client, &base).await;
    assert_eq!(list.as_array().map(Vec::len), Some(4), "{list}");
    drop(stream);
    let state = cluster.state.path().join("cluster");
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .expect("stopped");
    assert!(!state.exists(), "stop removes the state");
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "nothing answers after stop"
    );
}

/// One writer through the load balancer: numbered todos, each with its own `Idempotency-Key`,
/// until `stop`. Returns the titles acknowledged (201), the failures, and each write's time.
async fn write_until(
    client: reqwest::Client,
    (base, writer): (String, usize),
    stop: tokio::sync::watch::Receiver<bool>,
) -> (Vec<String>, Vec<String>, Vec<Duration>) {
    let (mut acknowledged, mut failures, mut took) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0;
    while !*stop.borrow() {
        let title = format!("writer {writer} todo {n}");
        let started = std::time::Instant::now();
        let answer = client
            .post(format!("{base}/todos/"))
            .header("origin", &base)
            .header("idempotency-key", format!("deploy-{writer}-{n}"))
            .json(&json!({ "title": title }))
            .send()
            .await;
        took.push(started.elapsed());
        match answer {
            Ok(answer) if answer.status() == 201 => acknowledged.push(title),
            Ok(answer) => failures.push(format!("{title}: {}", answer.status())),
            Err(err) => failures.push(format!("{title}: {err}")),
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (acknowledged, failures, took)
}

/// A rolling deploy under load, short: 2 instances, each restarted once (`scripts/cluster
/// deploy`), while 4 writers write through nginx with `Idempotency-Key`s and 8 live streams
/// follow the list. No write fails and each is in the list once; every stream hears every write
/// exactly once, in order, across its reconnects, with no `reset`; at most 5 reconnects are turned
/// away.
#[tokio::test]
#[ignore = "needs the release binary, PostgreSQL and nginx; CI runs it"]
async fn a_rolling_deploy_under_load_drops_nothing() {
    let Some((cluster, client, session)) = two_instances_with_alice().await else {
        return;
    };
    let base = cluster.url.clone();
    let (stop_streams, streams_stop) = tokio::sync::watch::channel(false);
    let open = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let streams: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(follow(
                client.clone(),
                (format!("{base}/todos/events"), session.clone()),
                streams_stop.clone(),
                open.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (stop_writers, writers_stop) = tokio::sync::watch::channel(false);
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let stop = writers_stop.clone();
            tokio::spawn(write_until(client.clone(), (base.clone(), writer), stop))
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let state = cluster.state.path().to_owned();
    let deployed = tokio::task::spawn_blocking(move || script(&state, &["deploy"]))
        .await
        .unwrap();
    assert!(
        deployed.status.success(),
        "scripts/cluster deploy failed:\n{}{}",
        String::from_utf8_lossy(&deployed.stdout),
        String::from_utf8_lossy(&deployed.stderr)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_writers.send_replace(true);
    let (mut acknowledged, mut failures, mut took) = (Vec::new(), Vec::new(), Vec::new());
    for writer in writers {
        let (done, failed, times) = writer.await.unwrap();
        acknowledged.extend(done);
        failures.extend(failed);
        took.extend(times);
    }
    assert!(failures.is_empty(), "failed writes: {failures:?}");
    assert!(
        acknowledged.len() > 50,
        "only {} writes",
        acknowledged.len()
    );
    took.sort();
    eprintln!(
        "deploy: {} writes, p99 {:?}, slowest {:?}",
        took.len(),
        took[took.len() * 99 / 100],
        took.last()
    );

    // Every acknowledged write is in the list, once.
    let list = todos(&client, &base).await;
    let mut listed: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|todo| todo["title"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    acknowledged.sort();
    assert_eq!(listed, acknowledged, "the list holds each write once");

    // The streams catch up (a reconnect waits up to `retry:`, 2 s), then stop.
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop_streams.send_replace(true);
    let mut refused = 0;
    for stream in streams {
        let heard = stream.await.unwrap();
        assert!(heard.reconnects >= 1, "a stream was never moved: {heard:?}");
        assert_eq!(heard.later_resets, 0, "a reconnect replayed from a reset");
        assert!(
            heard.ids.windows(2).all(|pair| pair[0] < pair[1]),
            "events out of order or repeated: {:?}",
            heard.ids
        );
        let mut titles = heard.titles.clone();
        titles.sort();
        assert_eq!(titles, acknowledged, "a stream missed or repeated a write");
        refused += heard.refused;
    }
    assert!(refused <= 5, "{refused} reconnects refused");
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .expect("stopped");
}
