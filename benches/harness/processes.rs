//! The processes a run starts and watches: the release server (with its database, seeded through
//! the API or `todomvc import`), nginx as the HTTP ceiling, and their memory.

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::http::{free_port, http, http_with};
use crate::wrk::THREADS;

/// The release server on a fresh database.
pub struct Server {
    pub child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
    pub database: PathBuf,
}

impl Server {
    /// The server in open mode (one shared list, no sign-in): the figures of the first benchmark.
    pub fn start(binary: &Path) -> (Server, Duration) {
        Self::start_in(binary, "open")
    }

    pub fn start_in(binary: &Path, auth_mode: &str) -> (Server, Duration) {
        Self::start_on(binary, auth_mode, None)
    }

    /// The server on `url` (a PostgreSQL database), or on a fresh SQLite file.
    pub fn start_on(binary: &Path, auth_mode: &str, url: Option<&str>) -> (Server, Duration) {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("bench.db");
        let port = free_port();
        let started = Instant::now();
        let child = Command::new(binary)
            .env("APP_ENV", "production")
            .env("APP__SERVER__ALLOWED_HOSTS", "127.0.0.1,localhost")
            // Plain HTTP on loopback: the session cookie without Secure and its __Host- name.
            .env("APP__AUTH__SECURE_COOKIES", "false")
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

    pub fn rss_kib(&self) -> u64 {
        crate::memory::rss_kib(self.child.id())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Replaces the todos with `count` new ones: through the API for small lists, through
    /// `todomvc import` (one transaction) for large ones.
    pub fn seed(&self, binary: &Path, count: usize) {
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
            .env("APP__SERVER__ALLOWED_HOSTS", "127.0.0.1")
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

/// A signed-in user of an accounts-mode server: the session cookie and an API token.
pub struct Account {
    pub cookie: String,
    pub token: String,
}

impl Server {
    /// Signs `name` up through the form and makes an API token.
    pub fn sign_up(&self, name: &str) -> Account {
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

pub const BENCH_PASSWORD: &str = "benchmark-password";

/// nginx serving fixed files, as the HTTP ceiling of this machine.
pub struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start() -> Nginx {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let root = dir.path();
        fs::create_dir_all(root.join("www/gz")).expect("www");
        fs::write(
            root.join("nginx.conf"),
            format!(
                "worker_processes {THREADS};\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n\
                 daemon off;\nuser root;\nevents {{ worker_connections 1024; }}\n\
                 http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  tcp_nodelay on;\n\
                 keepalive_requests 1000000;\n  server {{\n    listen 127.0.0.1:{port};\n\
                 root {root}/www;\n    location / {{ default_type application/json; }}\n\
                 location = /page {{ default_type text/html; }}\n\
                 location /gz/ {{ gzip_static on; default_type application/octet-stream; }}\n  }}\n}}\n",
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
    pub fn serve(&self, name: &str, body: &[u8]) -> String {
        fs::write(self.dir.path().join("www").join(name), body).expect("nginx file");
        let (status, served) = http(self.port, "GET", &format!("/{name}"), None).expect("nginx");
        assert_eq!(
            (status, served.len()),
            (200, body.len()),
            "nginx serves {name}"
        );
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// Serves `body` at `/gz/name`, and `gzipped` in its place (`gzip_static`) to clients that
    /// accept gzip; returns its URL.
    pub fn serve_gzip(&self, name: &str, body: &[u8], gzipped: &[u8]) -> String {
        let dir = self.dir.path().join("www/gz");
        fs::write(dir.join(name), body).expect("nginx file");
        fs::write(dir.join(format!("{name}.gz")), gzipped).expect("nginx gzip file");
        let path = format!("/gz/{name}");
        let (status, head, served) =
            http_with(self.port, "GET", &path, "Accept-Encoding: gzip\r\n", None).expect("nginx");
        assert_eq!(
            (status, served.len()),
            (200, gzipped.len()),
            "nginx serves {name}.gz"
        );
        assert!(
            head.to_lowercase().contains("content-encoding: gzip"),
            "nginx serves {name} gzipped:\n{head}"
        );
        format!("http://127.0.0.1:{}{path}", self.port)
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
