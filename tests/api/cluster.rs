//! `scripts/cluster`: a throwaway PostgreSQL, instances of the release binary and nginx in front.
//! Through nginx, a person signs up, writes and reads, and a live stream on one instance hears a
//! write that another made; `scripts/cluster stop` leaves nothing running. Ignored by default (it
//! needs the release binary, PostgreSQL's server binaries and nginx); CI runs it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::skip;

/// The script, with its state in a directory of this test's.
struct Cluster {
    state: tempfile::TempDir,
    url: String,
}

fn script(state: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/cluster"))
        .args(args)
        .env("CLUSTER_STATE", state.join("cluster"))
        .output()
        .expect("scripts/cluster runs")
}

impl Cluster {
    fn start(instances: usize) -> Cluster {
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
        Cluster { state, url }
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

#[tokio::test]
#[ignore = "needs the release binary, PostgreSQL and nginx; CI runs it"]
async fn the_cluster_serves_through_nginx_and_stops() {
    if !can_run() {
        return;
    }
    let cluster = tokio::task::spawn_blocking(|| Cluster::start(2))
        .await
        .expect("started");
    let base = cluster.url.clone();
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_up = anonymous
        .post(format!("{base}/signup"))
        .header("origin", &base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=alice&password=correct-horse-battery")
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
    let list: Value = client
        .get(format!("{base}/todos/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
