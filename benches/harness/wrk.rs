//! wrk: the load, its Lua scripts (files in `benches/lua/`), and the figures it prints.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::memory::rss_kib;

pub const THREADS: u32 = 2;
pub const CONNECTIONS: u32 = 32;

/// 3. One new todo per request.
pub const POST: &str = include_str!("../lua/post.lua");
/// 4. Edits of the seeded todos; `FIRST` and `LAST` are replaced by their ids.
pub const PUT: &str = include_str!("../lua/put.lua");
/// 5. The Backbone session; it needs one of the two header definitions before it.
pub const SESSION: &str = include_str!("../lua/session.lua");
pub const PLAIN_HEADERS: &str = include_str!("../lua/plain-headers.lua");
pub const KEYED_HEADERS: &str = include_str!("../lua/keyed-headers.lua");

/// Writes `script` as `name` into `dir`, for wrk's `-s`.
pub fn lua(dir: &Path, name: &str, script: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, script).expect("lua script");
    path
}

/// wrk's Lua for a request with fixed headers (and an optional JSON body).
pub fn lua_with_headers(method: &str, headers: &[(&str, String)], body: Option<&str>) -> String {
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

/// What wrk measured, and the server's peak RSS meanwhile.
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    pub errors: u64,
    pub peak_rss_kib: u64,
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
pub fn wrk(url: &str, script: Option<&Path>, seconds: u64, pid: Option<u32>) -> Load {
    wrk_at(url, script, (seconds, CONNECTIONS), pid)
}

/// wrk with `connections` connections (on at most THREADS threads).
pub fn wrk_at(
    url: &str,
    script: Option<&Path>,
    (seconds, connections): (u64, u32),
    pid: Option<u32>,
) -> Load {
    wrk_threads(
        url,
        script,
        (seconds, THREADS.min(connections), connections),
        pid,
    )
}

/// wrk with `threads` threads sharing `connections` connections.
pub fn wrk_threads(
    url: &str,
    script: Option<&Path>,
    (seconds, threads, connections): (u64, u32, u32),
    pid: Option<u32>,
) -> Load {
    let mut command = Command::new("wrk");
    command.args([
        format!("-t{threads}"),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
        "--latency".to_owned(),
        // A slow answer is measured, not dropped as a timeout.
        "--timeout".to_owned(),
        "60s".to_owned(),
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
