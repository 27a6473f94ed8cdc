//! `GET /metrics`: the process's metrics in Prometheus' text format.

use actix_web::{HttpResponse, web};

use crate::db::DbPool;
use crate::events::Events;

/// Prometheus' text format. The pool and live-stream gauges are read now.
pub async fn serve(pool: web::Data<DbPool>, events: web::Data<Events>) -> HttpResponse {
    let state = pool.state();
    metrics::gauge!("db_pool_connections", "state" => "idle")
        .set(f64::from(state.idle_connections));
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(f64::from(
        state.connections.saturating_sub(state.idle_connections),
    ));
    metrics::gauge!("live_streams_open").set(events.open_streams() as f64);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::telemetry::metrics().render())
}
