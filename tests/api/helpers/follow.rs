//! A live stream followed as `EventSource` follows it, through whatever is in front: it
//! reconnects with `Last-Event-ID` after the delay the server last gave (`retry:`), and notes what
//! it heard. Shared by the cluster's test (`tests/api/cluster.rs`) and the benchmark's deploy
//! (`benches/harness/cluster.rs`, which includes this file).

use std::time::Duration;

/// What one stream heard through the deploy.
#[derive(Debug, Default)]
pub struct Heard {
    pub ids: Vec<i64>,
    pub titles: Vec<String>,
    pub later_resets: usize,
    pub reconnects: usize,
    pub refused: usize,
    pub other_failures: usize,
}

impl Heard {
    fn take(&mut self, event: &str, started: bool) {
        let field = |name: &str| {
            event
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .map(str::trim)
        };
        if let Some(id) = field("id:").and_then(|id| id.parse().ok()) {
            self.ids.push(id);
        }
        match field("event:") {
            Some("upsert") => {
                let todo: serde_json::Value =
                    serde_json::from_str(field("data:").unwrap_or("{}")).unwrap_or_default();
                self.titles
                    .push(todo["title"].as_str().unwrap_or_default().to_owned());
            }
            Some("reset") if started => self.later_resets += 1,
            _ => {}
        }
    }
}

/// Follows a list through nginx as `EventSource` does (reconnecting with `Last-Event-ID`, after the
/// delay the server last gave in `retry:`) until `stop`; `open` counts the streams that have
/// started.
pub async fn follow(
    client: reqwest::Client,
    (url, cookie): (String, String),
    stop: tokio::sync::watch::Receiver<bool>,
    open: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Heard {
    let mut heard = Heard::default();
    let mut started = false;
    // The reconnection delay, as the server last said (`retry:`); EventSource waits it.
    let mut retry = Duration::ZERO;
    while !*stop.borrow() {
        tokio::time::sleep(retry).await;
        let mut request = client.get(&url).header("cookie", &cookie);
        if let Some(last) = heard.ids.last() {
            request = request.header("last-event-id", last.to_string());
        }
        let mut response = match request.send().await {
            Ok(response) if response.status() == 200 => response,
            Ok(response) => {
                if response.status() == 503 {
                    heard.refused += 1;
                } else {
                    heard.other_failures += 1;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(_) => {
                heard.other_failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (mut text, mut stop) = (String::new(), stop.clone());
        loop {
            let chunk = tokio::select! {
                chunk = response.chunk() => chunk,
                _ = stop.wait_for(|stop| *stop) => break,
            };
            let Ok(Some(chunk)) = chunk else { break };
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find("\n\n") {
                let event: String = text.drain(..end + 2).collect();
                if let Some(millis) = event
                    .strip_prefix("retry: ")
                    .and_then(|millis| millis.trim().parse().ok())
                {
                    retry = Duration::from_millis(millis);
                }
                if !started && event.contains("event: reset") {
                    open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    heard.take(&event, false);
                    started = true;
                } else {
                    heard.take(&event, started);
                }
            }
        }
        if !*stop.borrow() {
            heard.reconnects += 1;
        }
    }
    heard
}
