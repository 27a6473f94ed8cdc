//! `GET /todos/events`: the caller's list as Server-Sent Events (`upsert`, `delete`, `reset`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::request::collection_url;
use crate::auth::Caller;
use crate::error::AppError;
use crate::events::Events;
use crate::events::stream::{LiveStream, Start};
use crate::lists::{Need, Target};
use crate::store::Store;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Where a page's first connection starts: the change number it was rendered at.
    last_event_id: Option<String>,
}

/// The change number the client has seen: `Last-Event-ID` (which `EventSource` sends when it
/// reconnects), else `?last_event_id=`. Anything that is not a number starts from a reset.
fn last_seen(req: &HttpRequest, query: &EventsQuery) -> Option<i64> {
    let header = req
        .headers()
        .get("last-event-id")
        .and_then(|value| value.to_str().ok());
    header
        .or(query.last_event_id.as_deref())
        .and_then(|id| id.trim().parse().ok())
}

/// One event of the stream, as an EventSource reads it.
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "a description of the stream; `events::stream` writes it"
)]
pub struct LiveEvent {
    /// `reset` (`data`: the whole list, as `GET /todos/` shows it), `upsert` (`data`: a todo),
    /// `delete` (`data`: `{"id": ...}`) or `lists` (no id, `data`: `{}`): the caller's lists
    /// changed (one shared with them, renamed, taken from them, deleted); `GET /lists` tells how.
    #[schema(pattern = "^(reset|upsert|delete|lists)$")]
    event: Option<String>,
    /// The change number: sent back as `Last-Event-ID` on reconnecting.
    #[schema(pattern = "^[0-9]+$")]
    id: Option<String>,
    /// JSON.
    data: Option<String>,
    /// The reconnection delay suggested, in milliseconds (the first event).
    retry: Option<u64>,
}

/// `GET /todos/events`: the caller's list as it changes.
#[utoipa::path(get, path = "/todos/events", tag = "todos",
    params(EventsQuery, ("Last-Event-ID" = Option<String>, Header,
        description = "The last event's id, which EventSource sends when it reconnects: the \
            changes since are replayed, or a `reset` sent.")),
    responses(
        (status = 200, description = "Server-Sent Events, each with the change number as its \
            id.", content_type = "text/event-stream", body = LiveEvent),
        super::described::Refusals,
    ))]
pub async fn stream(
    req: HttpRequest,
    store: web::Data<Store>,
    events: web::Data<Events>,
    caller: Caller,
    target: Target,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    let last_seen = last_seen(&req, &query);
    let base = collection_url(&req);
    let events = events.into_inner();
    let subscriber = events.clone();
    let (identity, access, (receiver, account), start) = store
        .read_list(
            caller.clone(),
            target,
            Need::Read,
            move |conn, who, access| {
                let receiver = subscriber.subscribe(conn, access.scope)?;
                // Another list's page also hears of changes to the caller's lists, which are
                // told on their default list (see `models::List`).
                let account = if access.scope == who.scope || who.user.is_none() {
                    None
                } else {
                    Some(subscriber.subscribe(conn, who.scope)?)
                };
                let start = Start::read(conn, access.scope, last_seen)?;
                Ok::<_, AppError>((who.clone(), access.clone(), (receiver, account), start))
            },
        )
        .await?;
    let permit = events.admit(identity.user_id())?;
    let live = LiveStream {
        pool: store.pool().clone(),
        writer: store.writer().clone(),
        caller,
        scope: access.scope,
        target,
        role: access.role,
        identity,
        auth_generation: events.auth_generation(),
        base,
        receiver,
        account,
        closing: events.closing(),
        heartbeat: events.settings.heartbeat,
        permit,
    };
    // The connection closes with the stream: a proxy that keeps upstream connections (nginx's
    // `keepalive`) must not send its next request on one whose instance is stopping, which is
    // when streams end all at once.
    Ok(HttpResponse::Ok()
        .force_close()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(live.body(events.settings.retry, start)))
}
