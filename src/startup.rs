//! Assembles the application and binds it to a listener.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_files::Files;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, Logger};
use actix_web::{App, HttpRequest, HttpServer, Scope, web};

use crate::auth::{Auth, csrf};
use crate::config::{CorsSettings, Settings};
use crate::db::{self, DbError, DbPool};
use crate::error::{AppError, json_error_body};
use crate::events::Events;
use crate::routes;
use crate::routes::cache::ListCache;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("cannot start the server: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Settings(#[from] crate::config::SettingsError),
}

/// The server, and its live-update state (which shutdown ends first).
pub struct Running {
    pub server: Server,
    pub events: Arc<Events>,
    pub pool: web::Data<DbPool>,
    /// Whether the server is draining (`/readyz`).
    pub lifecycle: web::Data<crate::drain::Lifecycle>,
}

impl Running {
    /// Drains and stops the server on the first SIGINT or SIGTERM (see `drain`); `listener` is a
    /// copy of the socket the server listens on.
    pub fn stop_on_signal(
        &self,
        listener: TcpListener,
        (drain, when): (Duration, crate::config::WhenStopping),
    ) {
        crate::drain::stop_on_signal(crate::drain::Stopping {
            server: self.server.handle(),
            events: self.events.clone(),
            lifecycle: self.lifecycle.clone(),
            drain,
            when,
            listener,
        });
    }
}

/// Opens the database, applies pending migrations (unless turned off), and returns the server
/// bound to `listener`. Awaiting the server runs it until SIGINT/SIGTERM.
pub fn build(settings: &Settings, listener: TcpListener) -> Result<Running, StartupError> {
    settings.validate_for_serving()?;
    let pool = db::connect(&settings.database)?;
    if settings.database.run_migrations {
        let mut conn = pool.get().map_err(DbError::Pool)?;
        let applied = crate::models::run_pending_migrations(&mut conn)?;
        if !applied.is_empty() {
            log::info!("applied migrations {}", applied.join(", "));
        }
    }
    run(listener, pool, settings)
}

/// The server on an already opened pool. Call it inside a Tokio runtime: it starts the
/// live-update broadcaster there.
pub fn run(
    listener: TcpListener,
    pool: DbPool,
    settings: &Settings,
) -> Result<Running, StartupError> {
    settings.validate_for_serving()?;
    let proxies = crate::proxy::Proxies::from_settings(&settings.server);
    let proxies = web::Data::new(proxies);
    let lifecycle = web::Data::new(crate::drain::Lifecycle::default());
    let commits = Arc::new(db::Commits::default());
    let writer = crate::writer::Writer::start(&settings.database, pool.clone(), commits.clone())?;
    let freshness = crate::freshness::Freshness::new(&settings.database.url, commits);
    let events = Events::start(
        pool.clone(),
        settings.events.clone(),
        &settings.database,
        (writer.clone(), freshness.heard()),
    );
    crate::idempotency::trim_in_background(writer.clone(), settings.idempotency.keep);
    let pool_data = web::Data::new(pool);
    let in_flight = web::Data::new(crate::idempotency::InFlightKeys::default());
    let store = crate::store::Store::new(pool_data.get_ref().clone(), writer.clone(), in_flight);
    let shared = Shared {
        store: web::Data::new(store),
        pool: pool_data.clone(),
        list_cache: web::Data::new(ListCache::default()),
        freshness: web::Data::new(freshness),
        writer: web::Data::new(writer),
        auth: web::Data::new(Auth::new(settings.auth.clone())),
        events: web::Data::from(events.clone()),
        proxies,
        lifecycle: lifecycle.clone(),
        body_limit: settings.server.body_limit,
        body_timeout: web::Data::new(crate::deadline::BodyTimeout(
            settings.server.client_body_timeout,
        )),
        static_dir: settings.server.static_dir.clone(),
        assets: StaticAssets {
            app: routes::Assets::under(&settings.server.static_dir),
            vendor: routes::Assets::under(&settings.server.static_dir.join("vendor")),
        },
        metrics_here: settings.server.metrics_addr.is_empty(),
    };
    crate::telemetry::metrics();
    let cors_settings = settings.cors.clone();
    let access_log = crate::telemetry::access_log_enabled();
    let mut server = HttpServer::new(move || {
        App::new()
            .configure(|cfg| shared.configure(cfg))
            .default_service(web::to(routes::not_found))
            .wrap(cors(&cors_settings, shared.proxies.clone()))
            .wrap(actix_web::middleware::from_fn(
                crate::deadline::body_deadline,
            ))
            .wrap(actix_web::middleware::from_fn(crate::proxy::check_host))
            .wrap(actix_web::middleware::from_fn(
                crate::drain::close_while_draining,
            ))
            .wrap(ErrorHandlers::new().default_handler(json_error_body))
            .wrap(security_headers())
            .wrap(actix_web::middleware::from_fn(crate::telemetry::observe))
            .wrap(actix_web::middleware::Condition::new(
                access_log,
                Logger::new(r#"%a "%r" %s %b %Dms %{x-request-id}o"#),
            ))
    })
    // Live events are small writes that must leave at once: without TCP_NODELAY, Nagle's
    // algorithm held one back until the client's delayed ACK (40 ms) whenever the previous one
    // was still unacknowledged.
    .tcp_nodelay(true)
    // A client that closes its side has gone (HTTP/1.1 clients do not half-close to wait for an
    // answer): its live stream ends then, not at the next event or heartbeat that fails to send,
    // so its place, its memory and its share of every fan-out are given back at once.
    .h1_allow_half_closed(false)
    .client_request_timeout(settings.server.client_request_timeout)
    .keep_alive(settings.server.keep_alive)
    // Live streams have their own cap (events.max_streams) and do not take the ordinary requests'
    // places.
    .max_connections(settings.server.max_connections_per_worker + settings.events.max_streams)
    .shutdown_timeout(settings.server.shutdown_timeout.as_secs())
    // Blocking work waits for a pooled connection anyway; more threads than connections only
    // cost memory (a burst of 1,000 new live streams once made hundreds of them).
    .worker_max_blocking_threads(settings.database.pool_size.max(4) as usize)
    // actix-web stops at once on SIGINT; `shutdown_on_signal` makes SIGINT as graceful as SIGTERM.
    .disable_signals();
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(Running {
        server: server.listen(listener)?.run(),
        events,
        pool: pool_data,
        lifecycle,
    })
}

/// What every worker's app shares: the state in `app_data`, and the settings its routes need.
#[derive(Clone)]
struct Shared {
    store: web::Data<crate::store::Store>,
    pool: web::Data<DbPool>,
    list_cache: web::Data<ListCache>,
    freshness: web::Data<crate::freshness::Freshness>,
    writer: web::Data<crate::writer::Writer>,
    auth: web::Data<Auth>,
    events: web::Data<Events>,
    proxies: web::Data<crate::proxy::Proxies>,
    lifecycle: web::Data<crate::drain::Lifecycle>,
    body_limit: usize,
    body_timeout: web::Data<crate::deadline::BodyTimeout>,
    static_dir: std::path::PathBuf,
    assets: StaticAssets,
    metrics_here: bool,
}

/// The static files that are served compressed, found once for every worker: the app's, and the
/// vendored ones.
#[derive(Clone)]
struct StaticAssets {
    app: routes::Assets,
    vendor: routes::Assets,
}

impl Shared {
    /// The app's state, how its extractors answer bad input, and its routes.
    fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(self.pool.clone())
            .app_data(self.list_cache.clone())
            .app_data(self.freshness.clone())
            .app_data(self.writer.clone())
            .app_data(self.auth.clone())
            .app_data(self.store.clone())
            .app_data(self.events.clone())
            .app_data(self.proxies.clone())
            .app_data(self.lifecycle.clone())
            .app_data(self.body_timeout.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(self.body_limit)
                    .content_type(|mime| {
                        mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON)
                    })
                    .error_handler(|err, _req| AppError::from(err).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_err, req| {
                AppError::todo_not_found(req.match_info().query("id")).into()
            }))
            .app_data(
                web::FormConfig::default()
                    .limit(self.body_limit)
                    .error_handler(|err, _req| {
                        AppError::BadRequest(format!("invalid form: {err}")).into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|err, _req| {
                AppError::BadRequest(format!("invalid query string: {err}")).into()
            }))
            .configure(routes::configure)
            .service(favicon(&self.static_dir))
            .service(static_files(&self.static_dir, &self.assets));
        if self.metrics_here {
            cfg.service(web::resource("/metrics").route(web::get().to(routes::scrape::serve)));
        }
    }
}

/// `/metrics` alone, on `address` (`server.metrics_addr`): a listener of its own, kept off the
/// public one.
pub fn metrics_server(address: &str, running: &Running) -> Result<Server, StartupError> {
    let pool = running.pool.clone();
    let events = web::Data::from(running.events.clone());
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .app_data(events.clone())
            .route("/metrics", web::get().to(routes::scrape::serve))
    })
    .workers(1)
    .disable_signals()
    .bind(address)?
    .run())
}

/// Content-Security-Policy: scripts, styles and connections from this origin only, and no inline
/// script (the todos travel in a JSON data block, not in code). `img-src data:` is for the
/// checkbox images that todomvc-app-css embeds.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Headers on every response (handlers may set their own instead).
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

/// `/static/`: the versioned files under `vendor/` never change, so browsers may keep them for a
/// year; the app's own files are revalidated on every load (ETag / Last-Modified answer 304).
/// Text files go in brotli or gzip to clients that accept them (`routes::Assets`), so every answer
/// varies by `Accept-Encoding`.
fn static_files(dir: &Path, assets: &StaticAssets) -> Scope {
    let cache = |value: &'static str| {
        DefaultHeaders::new()
            .add((header::CACHE_CONTROL, value))
            .add((header::VARY, "Accept-Encoding"))
    };
    web::scope("/static")
        .service(
            web::scope("/vendor")
                .wrap(cache("public, max-age=31536000, immutable"))
                .service(assets.vendor.service("/static/vendor/"))
                .service(confined_files(&dir.join("vendor"))),
        )
        .service(service_worker(dir))
        .service(
            web::scope("")
                .wrap(cache("no-cache"))
                .service(assets.app.service("/static/"))
                .service(confined_files(dir)),
        )
}

/// `/favicon.ico`, where browsers look for the site's icon whatever the page says; kept a day.
fn favicon(dir: &Path) -> impl actix_web::dev::HttpServiceFactory + use<> {
    let path = dir.join("favicon.ico");
    web::resource("/favicon.ico")
        .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "public, max-age=86400")))
        .route(web::get().to(move |req: HttpRequest| {
            let path = path.clone();
            async move { actix_files::NamedFile::open(path).map(|file| file.into_response(&req)) }
        }))
}

/// `/static/sw.js`, allowed to control the whole site (`Service-Worker-Allowed: /`) although it
/// lives under `/static/`. Browsers check it for a new version on every load of the page.
fn service_worker(dir: &Path) -> impl actix_web::dev::HttpServiceFactory + use<> {
    let path = dir.join("sw.js");
    web::resource("/sw.js")
        .wrap(
            DefaultHeaders::new()
                .add((header::CACHE_CONTROL, "no-cache"))
                .add(("Service-Worker-Allowed", "/")),
        )
        .route(web::get().to(move |req: HttpRequest| {
            let path = path.clone();
            async move { actix_files::NamedFile::open(path).map(|file| file.into_response(&req)) }
        }))
}

/// Files under `dir`, never anything outside it: actix-files refuses `..` segments, and the filter
/// refuses any path that resolves elsewhere, through a symbolic link for instance.
fn confined_files(dir: &Path) -> Files {
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    Files::new("", dir).path_filter(move |path, _| {
        match root.join(path).canonicalize() {
            Ok(resolved) => resolved.starts_with(&root),
            // Missing files are refused here or by Files alike: 404 either way.
            Err(_) => false,
        }
    })
}

/// CORS from the settings. The page's own origin is always allowed: browsers send `Origin` on
/// same-origin POST, PUT and DELETE too. Credentials are never allowed: another site's script may
/// use the API with a bearer token, never with the user's session cookie.
fn cors(settings: &CorsSettings, proxies: web::Data<crate::proxy::Proxies>) -> Cors {
    let any_origin = settings.allows_any_origin();
    let origins = settings.allowed_origins.clone();
    Cors::default()
        .allowed_origin_fn(move |origin, head| {
            any_origin
                || origins
                    .iter()
                    .any(|allowed| allowed.as_bytes() == origin.as_bytes())
                || csrf::is_own_origin(
                    origin,
                    &proxies.origin_of(head.peer_addr.map(|addr| addr.ip()), false, &head.headers),
                )
        })
        .allowed_methods(settings.allowed_methods.iter().map(String::as_str))
        .allowed_headers(settings.allowed_headers.iter().map(String::as_str))
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(usize::try_from(settings.max_age.as_secs()).unwrap_or(usize::MAX))
}
