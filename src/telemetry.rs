//! What the server tells its operators: Prometheus metrics (`/metrics`), a request id on every
//! request (taken from a trusted proxy or made here, answered back, in every log line and error
//! body of that request), and log lines as text or JSON.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_REQUEST_ID_CHARS: usize = 128;

/// The process's metrics registry, installed the first time it is asked for.
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new().set_buckets(&[
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ]);
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        // A recorder installed already (another app in the same process) keeps counting.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

tokio::task_local! {
    static TASK_REQUEST: String;
}

thread_local! {
    static THREAD_REQUEST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The id of the request being served on this task or thread, if any.
pub fn current_request() -> Option<String> {
    TASK_REQUEST
        .try_with(Clone::clone)
        .ok()
        .or_else(|| THREAD_REQUEST.with(|id| id.borrow().clone()))
}

/// Runs blocking work with the current request's id, so that its log lines carry it too.
pub fn with_request<T>(id: Option<String>, work: impl FnOnce() -> T) -> T {
    THREAD_REQUEST.with(|slot| *slot.borrow_mut() = id);
    let result = work();
    THREAD_REQUEST.with(|slot| *slot.borrow_mut() = None);
    result
}

/// The id a trusted proxy sent, if it is a sensible one; else a new one.
fn request_id(req: &ServiceRequest) -> String {
    let trusted = req
        .app_data::<web::Data<crate::proxy::Proxies>>()
        .zip(req.peer_addr())
        .is_some_and(|(proxies, peer)| proxies.trusts(peer.ip()));
    let given = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            trusted
                && !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_CHARS
                && id.bytes().all(|b| b.is_ascii_graphic())
        });
    given.map_or_else(new_request_id, str::to_owned)
}

/// A new id: this process's 64 random bits, then a count of the ids it made, as hex. Unique
/// without asking the system for randomness on every request.
fn new_request_id() -> String {
    static PREFIX: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| {
        let mut bytes = [0_u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos());
            bytes.copy_from_slice(&nanos.to_le_bytes()[..8]);
        }
        u64::from_le_bytes(bytes)
    });
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:016x}{count:016x}", *PREFIX)
}

/// Paths whose route pattern a worker keeps; beyond this many it forgets them all (ids make the
/// paths of `/todos/{id}` many).
const MAX_KEPT_PATHS: usize = 4096;
/// Longer paths are matched again each time rather than kept: a client chooses them, and 4,096 of
/// 64 KiB each would hold a quarter of a gigabyte per worker.
const MAX_KEPT_PATH_BYTES: usize = 256;

/// One worker's route patterns by path (for each app's routes), and its metric handles by route,
/// method and status: counting a request neither matches its path against the routes a second
/// time nor looks its labels up in the registry.
#[derive(Default)]
struct RouteMetrics {
    patterns: HashMap<usize, HashMap<String, Arc<str>>>,
    handles: HashMap<(Arc<str>, &'static str, u16), (Counter, Histogram)>,
}

thread_local! {
    static ROUTE_METRICS: RefCell<RouteMetrics> = RefCell::new(RouteMetrics::default());
}

/// The request counter (by route pattern, method and status) and the latency histogram (by route
/// pattern and method) of a request.
fn route_metrics(req: &HttpRequest, method: &Method, status: StatusCode) -> (Counter, Histogram) {
    ROUTE_METRICS.with_borrow_mut(|kept| {
        // The app's routes, told apart by where they live.
        let routes = std::ptr::from_ref(req.resource_map()) as usize;
        let patterns = kept.patterns.entry(routes).or_default();
        let route = match patterns.get(req.path()) {
            Some(route) => route.clone(),
            None => {
                let route: Arc<str> = req
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned())
                    .into();
                if req.path().len() <= MAX_KEPT_PATH_BYTES {
                    if patterns.len() >= MAX_KEPT_PATHS {
                        patterns.clear();
                    }
                    patterns.insert(req.path().to_owned(), route.clone());
                }
                route
            }
        };
        let method = method_label(method);
        kept.handles
            .entry((route.clone(), method, status.as_u16()))
            .or_insert_with(|| {
                let route = route.to_string();
                (
                    metrics::counter!(
                        "http_requests_total",
                        "route" => route.clone(),
                        "method" => method,
                        "status" => status.as_u16().to_string()
                    ),
                    metrics::histogram!(
                        "http_request_duration_seconds",
                        "route" => route,
                        "method" => method
                    ),
                )
            })
            .clone()
    })
}

/// The `method` label: a method of HTTP's own, else `other`. A client may send any token as a
/// method, and each new label value would be a new series kept for the life of the process.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |(_, label)| label)
}

/// Whether access log lines would be printed: actix's logger formats every request's line up
/// front, so without this it costs its work even when the line is filtered out.
pub fn access_log_enabled() -> bool {
    log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info)
}

/// Middleware: gives the request its id, counts it by route pattern, method and status, times it,
/// and answers the id back (in `X-Request-Id`, and in the JSON of an error).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let response = TASK_REQUEST.scope(id.clone(), next.call(req)).await?;
    let (requests, duration) = route_metrics(response.request(), &method, response.status());
    requests.increment(1);
    duration.record(started.elapsed().as_secs_f64());
    let mut response = with_id_in_error(response, &id).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// The request's id, kept in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// An error's JSON body gets `"request_id"`, so that a user's report can be found in the logs.
async fn with_id_in_error(
    response: ServiceResponse<impl MessageBody + 'static>,
    id: &str,
) -> ServiceResponse<BoxBody> {
    let is_json_error = response.status().as_u16() >= 400
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !is_json_error {
        return response.map_into_boxed_body();
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = body::to_bytes_limited(body, 64 * 1024).await;
    let bytes = match bytes {
        Ok(Ok(bytes)) => bytes,
        _ => web::Bytes::new(),
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.insert("request_id".into(), id.into());
            serde_json::to_vec(&object).map_or(bytes, web::Bytes::from)
        }
        _ => bytes,
    };
    let mut head = head;
    head.headers_mut().remove(header::CONTENT_LENGTH);
    ServiceResponse::new(request, head.set_body(body).map_into_boxed_body())
}

/// The most of a log line's message that is written: the rest is cut, and the cut marked. A
/// message may carry text a client chose (a request line, a header, a username).
pub const MAX_LOG_MESSAGE_BYTES: usize = 1024;

/// `message`, cut to [`MAX_LOG_MESSAGE_BYTES`] at a character boundary, with the cut marked.
pub fn capped(message: &str) -> std::borrow::Cow<'_, str> {
    if message.len() <= MAX_LOG_MESSAGE_BYTES {
        return message.into();
    }
    let mut end = MAX_LOG_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… [cut: {} more bytes]",
        &message[..end],
        message.len() - end
    )
    .into()
}

/// env_logger, with one change: what actix-http reports about a single connection (a malformed
/// request line, a URI that is too long, a client that went away) is the client's doing, so it
/// is logged as a warning, never an error.
struct ClientErrorsAsWarnings(env_logger::Logger);

impl ClientErrorsAsWarnings {
    fn is_client_error(record: &log::Record<'_>) -> bool {
        record.level() == log::Level::Error && record.target().starts_with("actix_http::h1")
    }
}

impl log::Log for ClientErrorsAsWarnings {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !Self::is_client_error(record) {
            return self.0.log(record);
        }
        self.0.log(
            &log::Record::builder()
                .args(*record.args())
                .level(log::Level::Warn)
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// env_logger set up from `log.level` (or `RUST_LOG`) and `log.format`: `text` lines with the
/// request id, or one JSON object per line for log shippers. Messages are capped (see `capped`).
pub fn init_logging(settings: &crate::config::LogSettings) {
    let json = settings.format == crate::config::LogFormat::Json;
    let logger = env_logger::Builder::new()
        .parse_filters(&settings.level)
        .parse_default_env()
        .format(move |buf, record| {
            let request = current_request();
            let message = record.args().to_string();
            let message = capped(&message);
            if json {
                let mut line = serde_json::json!({
                    "time": buf.timestamp_millis().to_string(),
                    "level": record.level().as_str(),
                    "target": record.target(),
                    "message": message,
                });
                if let (Some(id), Some(object)) = (request, line.as_object_mut()) {
                    object.insert("request_id".into(), id.into());
                }
                writeln!(buf, "{line}")
            } else {
                let style = buf.default_level_style(record.level());
                write!(
                    buf,
                    "[{} {style}{:<5}{style:#} {}",
                    buf.timestamp_millis(),
                    record.level(),
                    record.target()
                )?;
                if let Some(id) = request {
                    write!(buf, " {id}")?;
                }
                writeln!(buf, "] {message}")
            }
        })
        .build();
    let max_level = logger.filter();
    if log::set_boxed_logger(Box::new(ClientErrorsAsWarnings(logger))).is_ok() {
        log::set_max_level(max_level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_and_marked() {
        assert_eq!(capped("short"), "short");
        let long = "é".repeat(1000);
        let cut = capped(&long);
        assert!(cut.len() < MAX_LOG_MESSAGE_BYTES + 40, "{}", cut.len());
        assert!(cut.ends_with("… [cut: 976 more bytes]"), "{cut}");
    }
}
