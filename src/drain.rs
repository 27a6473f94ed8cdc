//! Stopping without dropping a request. `/healthz` says whether the process and its database
//! answer; `/readyz` turns 503 the moment SIGTERM (or SIGINT) arrives, so a load balancer stops
//! sending. For `server.drain_secs` the server keeps accepting and serving, every answer with
//! `Connection: close`; then it stops taking connections (refusing new ones at once, or holding
//! them: `server.when_stopping`), answers any the kernel had already accepted with 503 (never a
//! silent close), ends the live streams, finishes the requests in flight, and exits.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::config::WhenStopping;
use crate::db::DbPool;
use crate::events::Events;

/// Whether the server is draining: shared by the signal handler, `/readyz` and the middleware.
#[derive(Debug, Default)]
pub struct Lifecycle {
    draining: AtomicBool,
}

impl Lifecycle {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
}

/// What `/healthz` and `/readyz` say.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `ready`; `unavailable` or `draining` with 503.
    pub status: &'static str,
    /// Why not, with 503.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn health(status: &'static str, error: Option<String>) -> Health {
    Health { status, error }
}

/// `GET /healthz`: 200 while the process is up and the database answers; 503 with the reason.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses(
        (status = 200, description = "The process is up and its database answers.", body = Health),
        (status = 503, description = "The database does not answer.", body = Health),
    ))]
pub async fn healthz(pool: web::Data<DbPool>) -> HttpResponse {
    match database_answers(pool).await {
        Ok(()) => HttpResponse::Ok().json(health("ok", None)),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .json(health("unavailable", Some(reason))),
    }
}

/// `GET /readyz`: 200 while this instance should get traffic; 503 once it is stopping, or while
/// its database does not answer.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "This instance takes traffic.", body = Health),
        (status = 503, description = "It is stopping, or its database does not answer.", body = Health),
    ))]
pub async fn readyz(pool: web::Data<DbPool>, lifecycle: web::Data<Lifecycle>) -> HttpResponse {
    if lifecycle.is_draining() {
        return HttpResponse::ServiceUnavailable()
            .json(health("draining", Some("this instance is stopping".into())));
    }
    match database_answers(pool).await {
        Ok(()) => HttpResponse::Ok().json(health("ready", None)),
        Err(reason) => HttpResponse::ServiceUnavailable().json(health("unavailable", Some(reason))),
    }
}

async fn database_answers(pool: web::Data<DbPool>) -> Result<(), String> {
    web::block(move || {
        use diesel::RunQueryDsl;
        let mut conn = pool
            .get()
            .map_err(|err| format!("no database connection: {err}"))?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .map(|_| ())
            .map_err(|err| format!("the database does not answer: {err}"))
    })
    .await
    .map_err(|err| format!("no thread to ask the database on: {err}"))?
}

/// Middleware: while draining, every answer closes its connection, so that clients open their
/// next one elsewhere and nothing is left idle when the server stops.
pub async fn close_while_draining(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let draining = req
        .app_data::<web::Data<Lifecycle>>()
        .is_some_and(|lifecycle| lifecycle.is_draining());
    let mut response = next.call(req).await?;
    if draining {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(response)
}

/// What the signal handler needs: the running server, its live streams, the drain period, what
/// to do with late connections, and a copy of the listening socket (to answer or refuse what
/// arrives after the server stopped taking connections).
pub struct Stopping {
    pub server: actix_web::dev::ServerHandle,
    pub events: Arc<Events>,
    pub lifecycle: web::Data<Lifecycle>,
    pub drain: Duration,
    pub when: WhenStopping,
    pub listener: TcpListener,
}

/// How long a handshake already under way when new ones stop being taken has to complete (its
/// last ACK: one round trip, well under a millisecond between a load balancer and its instances)
/// and be accepted as usual. A new connection that arrives meanwhile is held for the kernel's SYN
/// retry (a second), so the time is as short as it safely can be: with 10 ms, a rolling deploy
/// under 300 requests a second held a dozen connections per restart.
const HANDSHAKES_UNDER_WAY: Duration = Duration::from_millis(2);

/// On the first SIGINT or SIGTERM: `/readyz` turns 503 and the server drains (everything served
/// as usual, live streams included, each answer closing its connection); then new connections
/// are refused or held (`server.when_stopping`), live streams end (their clients reconnect
/// elsewhere and miss nothing), and the requests in flight finish.
pub fn stop_on_signal(stopping: Stopping) {
    actix_web::rt::spawn(async move {
        let signal = wait_for_signal().await;
        log::info!(
            "{signal} received; draining for {} s, then finishing requests in flight",
            stopping.drain.as_secs_f32()
        );
        stopping.lifecycle.start_draining();
        actix_web::rt::time::sleep(stopping.drain).await;
        match stopping.when {
            WhenStopping::Refuse => refuse(stopping).await,
            WhenStopping::Hold => hold(stopping).await,
        }
    });
}

/// `refuse`: no handshake starts any more, the ones under way complete and are served, and then
/// the listening socket is shut, so that the kernel resets every later connection at once. Only
/// then do the live streams end: their reconnects are refused here and go to another instance.
async fn refuse(stopping: Stopping) {
    if let Err(err) = refuse_new_connections(&stopping.listener) {
        log::warn!("handshakes are not held back while stopping: {err}");
    }
    actix_web::rt::time::sleep(HANDSHAKES_UNDER_WAY).await;
    stopping.server.pause().await;
    // What completed between the server's last accept and the pause is taken off the queue, the
    // socket shut at once after, and those connections answered (503) on a thread of their own.
    let waiting = take_waiting(&stopping.listener);
    if let Err(err) = shut(&stopping.listener) {
        log::warn!("the listening socket could not be shut; late connections wait: {err}");
    }
    let answering = std::thread::spawn(move || {
        let text = stopping_answer();
        for stream in waiting {
            answer(stream, &text);
        }
    });
    stopping.events.shut_down();
    finish_in_flight(&stopping.server).await;
    let _ = answering.join();
}

/// `hold`: live streams end, the server stops taking connections, and new handshakes are left
/// unanswered (clients try again); what the kernel had already accepted is answered with 503
/// until the process exits.
async fn hold(stopping: Stopping) {
    stopping.events.shut_down();
    stopping.server.pause().await;
    if let Err(err) = refuse_new_connections(&stopping.listener) {
        log::warn!("new connections will be reset, not held, while stopping: {err}");
    }
    let done = Arc::new(AtomicBool::new(false));
    let answering = {
        let done = done.clone();
        let listener = stopping.listener;
        std::thread::spawn(move || answer_the_backlog(&listener, &done))
    };
    finish_in_flight(&stopping.server).await;
    done.store(true, Ordering::SeqCst);
    let _ = answering.join();
}

/// How long the workers get, after the pause, to take up the connections handed to them before
/// it: a graceful stop waits only for connections a worker has started on.
const HANDED_OVER: Duration = Duration::from_millis(250);

/// Lets the workers take up what was handed to them, then stops once the requests in flight are
/// answered.
async fn finish_in_flight(server: &actix_web::dev::ServerHandle) {
    actix_web::rt::time::sleep(HANDED_OVER).await;
    server.stop(true).await;
}

/// Shuts the listening socket itself (every copy of it): it leaves the kernel's table, and a
/// connection to its port is reset at once, until something listens there again.
fn shut(listener: &TcpListener) -> std::io::Result<()> {
    socket2::SockRef::from(listener).shutdown(std::net::Shutdown::Read)
}

/// Makes the kernel stop starting connections on the listening socket (new SYNs are dropped, so
/// clients retry and then find it closed: refused, never reset), while handshakes already under
/// way complete into the queue that `answer_the_backlog` empties. A classic BPF socket filter on
/// the TCP header: drop a packet with SYN set, keep the rest.
#[cfg(target_os = "linux")]
#[allow(
    unsafe_code,
    reason = "setsockopt has no safe wrapper in std; the one unsafe call"
)]
fn refuse_new_connections(listener: &TcpListener) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    const TCP_FLAGS_OFFSET: u32 = 13;
    const SYN: u32 = 0x02;
    let op = |code: u32| u16::try_from(code).unwrap_or_default();
    let filter = [
        libc::sock_filter {
            code: op(libc::BPF_LD | libc::BPF_B | libc::BPF_ABS),
            jt: 0,
            jf: 0,
            k: TCP_FLAGS_OFFSET,
        },
        libc::sock_filter {
            code: op(libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K),
            jt: 0,
            jf: 1,
            k: SYN,
        },
        libc::sock_filter {
            code: op(libc::BPF_RET | libc::BPF_K),
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: op(libc::BPF_RET | libc::BPF_K),
            jt: 0,
            jf: 0,
            k: u32::MAX,
        },
    ];
    let program = libc::sock_fprog {
        len: u16::try_from(filter.len()).unwrap_or_default(),
        filter: filter.as_ptr().cast_mut(),
    };
    let size = libc::socklen_t::try_from(std::mem::size_of::<libc::sock_fprog>()).unwrap_or(0);
    // SAFETY: `program` points at `filter`, both alive for the call; the kernel copies them.
    let result = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            std::ptr::from_ref(&program).cast(),
            size,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn refuse_new_connections(_: &TcpListener) -> std::io::Result<()> {
    Err(std::io::Error::other("socket filters need Linux"))
}

/// The answer to a connection that arrives while the server stops: 503, to be sent again.
fn stopping_answer() -> String {
    let body = json!({"error": "this server is stopping; send the request again"}).to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Retry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Answers one accepted connection with `answer`, reading what the client sent first (so that
/// closing does not reset the answer) and what it sends after, briefly.
fn answer(mut stream: std::net::TcpStream, answer: &str) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut head = [0_u8; 8192];
    let _ = stream.read(&mut head);
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let deadline = Instant::now() + Duration::from_millis(200);
    while Instant::now() < deadline && stream.read(&mut head).is_ok_and(|n| n > 0) {}
}

/// Every connection waiting in the listening socket's queue now.
fn take_waiting(listener: &TcpListener) -> Vec<std::net::TcpStream> {
    let mut waiting = Vec::new();
    if listener.set_nonblocking(true).is_ok() {
        while let Ok((stream, _)) = listener.accept() {
            waiting.push(stream);
        }
    }
    waiting
}

/// The server no longer takes connections, but the listening socket stays open until the
/// requests in flight are done (a closed one would reset what the kernel had already accepted):
/// every connection that arrives meanwhile gets 503 and `Connection: close`. Once the server has
/// stopped, the queue is emptied a last time, after the handshakes under way have had time to
/// complete, and only then is the socket closed.
fn answer_the_backlog(listener: &TcpListener, done: &AtomicBool) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    let text = stopping_answer();
    let mut last_sweep: Option<Instant> = None;
    loop {
        match listener.accept() {
            Ok((stream, _)) => answer(stream, &text),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                if done.load(Ordering::SeqCst) {
                    match last_sweep {
                        Some(at) if at.elapsed() > Duration::from_millis(100) => return,
                        Some(_) => {}
                        None => last_sweep = Some(Instant::now()),
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => return,
        }
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        log::error!("cannot listen for SIGINT/SIGTERM; stop the server with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}
