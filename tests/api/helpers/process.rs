//! The `todomvc` binary running as a child process: for signals, crashes and the log.

use std::path::Path;
use std::sync::Arc;

/// The `todomvc` binary running as a child process, serving on a free port.
pub struct ServerProcess {
    pub child: std::process::Child,
    /// `127.0.0.1:PORT`
    pub address: String,
    log: Arc<std::sync::Mutex<String>>,
}

impl ServerProcess {
    /// Starts `binary` in the test environment on `database_url`, and waits for the line that
    /// names its address. Its log is kept, for `log()`.
    pub fn start(binary: &Path, database_url: &str) -> ServerProcess {
        Self::start_with(binary, database_url, &[])
    }

    /// Like `start`, with more environment variables (`APP__SERVER__DRAIN_SECS`, say).
    pub fn start_with(binary: &Path, database_url: &str, vars: &[(&str, &str)]) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(binary)
            .env("APP_ENV", "test")
            .env("DATABASE_URL", database_url)
            // These tests are about the process (crashes, signals, load), not about accounts.
            .env("APP__AUTH__MODE", "open")
            .env("PORT", "0")
            .env("RUST_LOG", "info,actix_web::middleware::logger=warn")
            .envs(vars.iter().copied())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let log = Arc::new(std::sync::Mutex::new(String::new()));
        let address = loop {
            let line = lines
                .next()
                .expect("the server exited before serving")
                .unwrap();
            {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
            if let Some(rest) = line.split("serving http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = kept.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        ServerProcess {
            child,
            address,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Sends a signal by name (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
