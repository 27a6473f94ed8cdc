//! Typed settings, layered: `config/default.toml`, then `config/<APP_ENV>.toml`, then environment
//! variables (`APP__SECTION__KEY` for any key; `DATABASE_URL`, `HOST` and `PORT` for the usual three).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::http::header::HeaderName;
use config::{Config, File, FileFormat};
use serde::Deserialize;

mod database_url;
mod durations;
mod networks;

pub use database_url::{DatabaseUrl, UnsupportedUrl};
pub use networks::{AllowedHost, ProxyNetwork, is_host};

/// The deployment environments; each has its own `config/<name>.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    pub const ALL: [Environment; 3] = [Self::Development, Self::Test, Self::Production];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = SettingsError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|env| env.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| SettingsError::UnknownEnvironment(name.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("APP_ENV={0:?} is not an environment; valid ones are development, test, production")]
    UnknownEnvironment(String),
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Filled in from `APP_ENV`, not read from the files.
    #[serde(skip, default = "default_environment")]
    pub environment: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub cors: CorsSettings,
    pub auth: AuthSettings,
    pub events: EventsSettings,
    pub idempotency: IdempotencySettings,
    pub log: LogSettings,
}

fn default_environment() -> Environment {
    Environment::Development
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// How long in-flight requests may run on after SIGINT/SIGTERM.
    #[serde(
        rename = "shutdown_timeout_secs",
        deserialize_with = "durations::seconds"
    )]
    pub shutdown_timeout: Duration,
    /// After SIGINT/SIGTERM, how long the server goes on serving (with `/readyz` at 503 and
    /// `Connection: close`) before it stops taking connections.
    #[serde(rename = "drain_secs", deserialize_with = "durations::seconds")]
    pub drain: Duration,
    /// What a connection that arrives once the drain period is over meets.
    pub when_stopping: WhenStopping,
    pub static_dir: PathBuf,
    /// A client must send a request's whole head within this time, or it gets 408 and is cut off.
    #[serde(
        rename = "client_request_timeout_ms",
        deserialize_with = "durations::millis"
    )]
    pub client_request_timeout: Duration,
    /// How long an idle keep-alive connection stays open.
    #[serde(rename = "keep_alive_secs", deserialize_with = "durations::seconds")]
    pub keep_alive: Duration,
    /// Open connections each worker serves at once; more wait until one closes.
    pub max_connections_per_worker: usize,
    /// Peers (addresses or CIDR ranges) whose forwarded headers are believed.
    pub trusted_proxies: Vec<ProxyNetwork>,
    /// The one header the trusted proxies write; the other kind is ignored.
    pub proxy_header: ProxyHeader,
    /// A request's body must have arrived within this long after its head, else 408.
    #[serde(
        rename = "client_body_timeout_ms",
        deserialize_with = "durations::millis"
    )]
    pub client_body_timeout: Duration,
    /// `Strict-Transport-Security: max-age=` on answers over HTTPS; 0 sends none.
    #[serde(rename = "hsts_max_age_secs", deserialize_with = "durations::seconds")]
    pub hsts_max_age: Duration,
    /// Hosts this server answers for (`.example.com`: it and its subdomains); empty: any.
    pub allowed_hosts: Vec<AllowedHost>,
    /// Where `/metrics` is served: empty for the main listener, else an address of its own
    /// (production: loopback), and then not on the main listener.
    pub metrics_addr: String,
}

/// What a stopping instance does with new connections once its drain period is over (it still
/// finishes every request it accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenStopping {
    /// The kernel resets them at once (the listening socket is shut): a load balancer's retry on
    /// connect errors sends them to another instance with no delay.
    Refuse,
    /// Their handshakes are left unanswered until the process exits, so that clients try again a
    /// second later (the kernel's SYN retry): a lone instance restarting on the same port is
    /// often back by then.
    Hold,
}

/// Which forwarded header the proxies in front of the server write. nginx, Caddy, Traefik, HAProxy
/// and cloud load balancers write `X-Forwarded-For` (with `-Proto` and `-Host`) and pass a client's
/// own `Forwarded` through untouched, so believing both would let a client name itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ProxyHeader {
    /// `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host`.
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// RFC 7239 `Forwarded`.
    #[serde(rename = "forwarded")]
    Forwarded,
}

/// `[database]`: the URL is parsed once, as the settings load (see [`DatabaseUrl`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawDatabaseSettings")]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    /// How long a request waits for a pooled connection before it gets 503.
    pub connection_timeout: Duration,
    /// How long SQLite waits for another writer before giving up.
    pub busy_timeout: Duration,
    /// Apply pending migrations when the server starts.
    pub run_migrations: bool,
}

/// `[database]` as written, before its URL is parsed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabaseSettings {
    /// A SQLite file path (or `sqlite://path`). No committed default for production.
    url: Option<String>,
    pool_size: u32,
    connection_timeout_ms: u64,
    busy_timeout_ms: u64,
    run_migrations: bool,
}

impl TryFrom<RawDatabaseSettings> for DatabaseSettings {
    type Error = SettingsError;

    fn try_from(raw: RawDatabaseSettings) -> Result<Self, SettingsError> {
        let url = match raw.url.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(invalid(
                    "database.url",
                    "not set; set DATABASE_URL (for example DATABASE_URL=todos.db)",
                ));
            }
            Some(":memory:") => {
                return Err(invalid(
                    "database.url",
                    "':memory:' would give every pooled connection its own empty database; use a file",
                ));
            }
            Some(url) => {
                DatabaseUrl::parse(url).map_err(|err| invalid("database.url", err.to_string()))?
            }
        };
        Ok(Self {
            url,
            pool_size: raw.pool_size,
            connection_timeout: Duration::from_millis(raw.connection_timeout_ms),
            busy_timeout: Duration::from_millis(raw.busy_timeout_ms),
            run_migrations: raw.run_migrations,
        })
    }
}

impl DatabaseSettings {
    /// The configured URL as the driver is given it.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    /// Origins (`https://example.com`) allowed to call the API from another site; `*` allows any.
    /// The page's own origin is always allowed.
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    #[serde(rename = "max_age_secs", deserialize_with = "durations::seconds")]
    pub max_age: Duration,
}

impl CorsSettings {
    pub fn allows_any_origin(&self) -> bool {
        self.allowed_origins.iter().any(|origin| origin == "*")
    }
}

/// Live updates (`GET /todos/events`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsSettings {
    /// The change log keeps at least this many of the newest changes, for replay.
    pub keep_changes: i64,
    /// How often the change log is trimmed.
    #[serde(rename = "trim_interval_secs", deserialize_with = "durations::seconds")]
    pub trim_interval: Duration,
    /// A comment line goes to every stream this often, so that proxies keep it open.
    #[serde(rename = "heartbeat_secs", deserialize_with = "durations::seconds")]
    pub heartbeat: Duration,
    /// The reconnection delay suggested to clients (`retry:`).
    #[serde(rename = "retry_ms", deserialize_with = "durations::millis")]
    pub retry: Duration,
    /// Streams one instance serves at once; more get 503 with Retry-After.
    pub max_streams: usize,
    /// Streams one user may hold open at once on one instance.
    pub max_streams_per_user: usize,
    /// SQLite: how often the instance checks for changes made by other processes.
    #[serde(rename = "poll_ms", deserialize_with = "durations::millis")]
    pub poll: Duration,
}

/// `Idempotency-Key` on writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencySettings {
    /// How long the answer to a request with a key is kept for repeats.
    #[serde(rename = "keep_hours", deserialize_with = "durations::hours")]
    pub keep: Duration,
}

/// Whether the app has accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Sign-in required; every user has a list of their own.
    Accounts,
    /// No sign-in: one list shared by everyone who can reach the server.
    Open,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub mode: AuthMode,
    /// Whether anyone may sign up; when off, operators add users with `todomvc users add`.
    pub signups: bool,
    /// Marks the session cookie `Secure` (sent over HTTPS only).
    pub secure_cookies: bool,
    /// A session unused for this long is over.
    #[serde(rename = "session_idle_secs", deserialize_with = "durations::seconds")]
    pub session_idle: Duration,
    /// A session is over this long after sign-in, however much it is used.
    #[serde(
        rename = "session_absolute_secs",
        deserialize_with = "durations::seconds"
    )]
    pub session_absolute: Duration,
    /// Failed sign-ins for one username from one client address within the window before that
    /// address gets 429 for that name.
    pub max_failures_per_user: u32,
    /// Failed sign-ins from one client address within the window before it gets 429.
    pub max_failures_per_client: u32,
    #[serde(
        rename = "failure_window_secs",
        deserialize_with = "durations::seconds"
    )]
    pub failure_window: Duration,
    /// Failed sign-ins for one username, from anywhere, before each attempt for it waits.
    pub account_slowdown_after: u32,
    /// The first wait; it doubles with each further `account_slowdown_after` failures.
    #[serde(rename = "account_slowdown_ms", deserialize_with = "durations::millis")]
    pub account_slowdown: Duration,
    #[serde(
        rename = "max_account_slowdown_ms",
        deserialize_with = "durations::millis"
    )]
    pub max_account_slowdown: Duration,
    /// Sign-ups (new accounts and names found taken) from one client address per window.
    pub max_signups_per_client: u32,
    #[serde(rename = "signup_window_secs", deserialize_with = "durations::seconds")]
    pub signup_window: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// An env_logger filter such as `info` or `warn,todomvc=debug`; `RUST_LOG` overrides it.
    pub level: String,
    /// `text` (the default) or `json`: one JSON object per line, for log shippers.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the TOML files live: `APP_CONFIG_DIR`, else `config` in the working directory.
pub fn config_dir(vars: &HashMap<String, String>) -> PathBuf {
    vars.get("APP_CONFIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("config"))
}

impl Settings {
    /// Settings for this process, from its environment variables.
    pub fn load() -> Result<Self, SettingsError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::load_from(&config_dir(&vars), &vars)
    }

    /// Settings from the TOML files in `dir` and the given variables (the process environment, or a
    /// map of a test's own).
    pub fn load_from(dir: &Path, vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let environment = match vars.get("APP_ENV") {
            Some(name) => name.parse()?,
            None => Environment::Development,
        };
        let file = |name: &str| File::from(dir.join(name)).format(FileFormat::Toml);
        let app_vars = config::Environment::with_prefix("APP")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("cors.allowed_origins")
            .with_list_parse_key("cors.allowed_methods")
            .with_list_parse_key("cors.allowed_headers")
            .with_list_parse_key("server.trusted_proxies")
            .with_list_parse_key("server.allowed_hosts")
            .source(Some(vars.clone().into_iter().collect()));
        let mut settings: Settings = Config::builder()
            .add_source(file("default.toml").required(true))
            .add_source(file(&format!("{environment}.toml")).required(true))
            .add_source(app_vars)
            .set_override_option("database.url", vars.get("DATABASE_URL").cloned())?
            .set_override_option("server.host", vars.get("HOST").cloned())?
            .set_override_option("server.port", vars.get("PORT").cloned())?
            .build()?
            .try_deserialize()?;
        settings.environment = environment;
        settings.validate()?;
        Ok(settings)
    }

    /// What serving (not the command-line tools) needs beyond [`Settings::validate`]: in production,
    /// the hosts to answer for. Without them the server would answer for any `Host` header, write
    /// it into redirects and take it as its own origin, which is how DNS rebinding gets in.
    pub fn validate_for_serving(&self) -> Result<(), SettingsError> {
        if self.environment == Environment::Production && self.server.allowed_hosts.is_empty() {
            return Err(invalid(
                "server.allowed_hosts",
                "must name the hosts this server answers for in production (for example \
                 APP__SERVER__ALLOWED_HOSTS=todo.example.com); with none it would answer for any \
                 Host header, and write it into redirects",
            ));
        }
        Ok(())
    }

    /// Checks what the types alone cannot, so that a bad value stops start-up naming its key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.server.host.trim().is_empty() {
            return Err(invalid("server.host", "must not be empty"));
        }
        if self.server.body_limit == 0 {
            return Err(invalid("server.body_limit", "must be at least 1 byte"));
        }
        for (key, value) in [
            (
                "server.max_connections_per_worker",
                self.server.max_connections_per_worker as u64,
            ),
            ("database.pool_size", self.database.pool_size.into()),
            (
                "auth.max_failures_per_user",
                self.auth.max_failures_per_user.into(),
            ),
            (
                "auth.max_failures_per_client",
                self.auth.max_failures_per_client.into(),
            ),
            (
                "auth.account_slowdown_after",
                self.auth.account_slowdown_after.into(),
            ),
            (
                "auth.max_signups_per_client",
                self.auth.max_signups_per_client.into(),
            ),
            (
                "events.keep_changes",
                u64::try_from(self.events.keep_changes).unwrap_or(0),
            ),
            ("events.max_streams", self.events.max_streams as u64),
            (
                "events.max_streams_per_user",
                self.events.max_streams_per_user as u64,
            ),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        for (key, value) in [
            (
                "server.client_body_timeout_ms",
                self.server.client_body_timeout,
            ),
            (
                "server.client_request_timeout_ms",
                self.server.client_request_timeout,
            ),
            (
                "database.connection_timeout_ms",
                self.database.connection_timeout,
            ),
            ("auth.session_idle_secs", self.auth.session_idle),
            ("auth.session_absolute_secs", self.auth.session_absolute),
            ("auth.failure_window_secs", self.auth.failure_window),
            ("auth.signup_window_secs", self.auth.signup_window),
            ("events.trim_interval_secs", self.events.trim_interval),
            ("events.heartbeat_secs", self.events.heartbeat),
            ("events.poll_ms", self.events.poll),
        ] {
            if value.is_zero() {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        self.cors.validate()
    }
}

impl CorsSettings {
    /// Origins, methods and header names that a browser would accept.
    fn validate(&self) -> Result<(), SettingsError> {
        for origin in &self.allowed_origins {
            if origin != "*" && !is_origin(origin) {
                return Err(invalid(
                    "cors.allowed_origins",
                    format!("{origin:?} is not an origin such as https://example.com or *"),
                ));
            }
        }
        for method in &self.allowed_methods {
            if Method::from_bytes(method.as_bytes()).is_err() {
                return Err(invalid(
                    "cors.allowed_methods",
                    format!("{method:?} is not an HTTP method"),
                ));
            }
        }
        for header in &self.allowed_headers {
            if HeaderName::from_bytes(header.as_bytes()).is_err() {
                return Err(invalid(
                    "cors.allowed_headers",
                    format!("{header:?} is not a header name"),
                ));
            }
        }
        Ok(())
    }
}

/// `scheme://host[:port]` with nothing after it, as browsers send in the `Origin` header.
fn is_origin(candidate: &str) -> bool {
    let Some((scheme, rest)) = candidate.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' ', '*'])
}
