//! CalDAV's `REPORT`s on a collection: `calendar-multiget` (objects by href), `calendar-query`
//! (RFC 4791's filters, on each object as stored), and RFC 6578's
//! `sync-collection` (exactly what changed since a sync token, deletions included).

use actix_web::{HttpRequest, HttpResponse, web};

use super::dav::{DavError, text_body};
use super::dav_collections::{object_props, reply, sync_token};
use super::dav_xml::{self, CALDAV, DAV, Multistatus, PropName, Wanted, text};
use crate::auth::Caller;
use crate::error::AppError;
use crate::lists::Need;
use crate::models::{Change, CompFilter, ListScope, TodoId, TodoObject};
use crate::store::Store;

/// What a report asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Report {
    /// Objects by their names in the collection.
    Multiget(Vec<String>),
    /// The objects that match the filter (every one without a filter).
    Query(Option<CompFilter>),
    /// What changed since the token (`None`: everything).
    Sync(Option<i64>),
}

const SYNC_PREFIX: &str = "urn:todomvc:sync:";

fn refused_token() -> DavError {
    DavError::Precondition {
        element: "valid-sync-token",
        message: "that sync token is not one of this collection's, or too old: sync again from \
                  the start"
            .into(),
    }
}

/// The last segment of an href: an object's name.
fn name_of(href: &str) -> String {
    let last = href
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    percent_encoding::percent_decode_str(last)
        .decode_utf8_lossy()
        .into_owned()
}

fn read_report(body: &web::Bytes) -> Result<(Report, Wanted), DavError> {
    let root = dav_xml::parse(text_body(body)?)
        .map_err(DavError::BadRequest)?
        .ok_or_else(|| DavError::BadRequest("a REPORT needs a body".into()))?;
    let wanted = dav_xml::props_of(&root)
        .unwrap_or_else(|| Wanted::Props(vec![PropName::new(DAV, "getetag")]));
    let report = if root.is(CALDAV, "calendar-multiget") {
        let mut hrefs = Vec::new();
        root.descendants(DAV, "href", &mut hrefs);
        Report::Multiget(hrefs.iter().map(|href| name_of(&href.text)).collect())
    } else if root.is(CALDAV, "calendar-query") {
        Report::Query(super::dav_filter::read(&root)?)
    } else if root.is(DAV, "sync-collection") {
        let token = root
            .child(DAV, "sync-token")
            .map(|token| token.text.trim())
            .unwrap_or("");
        if token.is_empty() {
            Report::Sync(None)
        } else {
            let since = token
                .strip_prefix(SYNC_PREFIX)
                .and_then(|n| n.parse().ok())
                .ok_or_else(refused_token)?;
            Report::Sync(Some(since))
        }
    } else {
        return Err(DavError::Precondition {
            element: "supported-report",
            message: format!("this collection does not answer the report {}", root.name),
        });
    };
    Ok((report, wanted))
}

/// What a report's answer holds: objects found, names gone, and the sync token to send back.
struct Found {
    objects: Vec<TodoObject>,
    gone: Vec<String>,
    token: Option<String>,
}

fn run(
    conn: &mut crate::db::DbConnection,
    scope: ListScope,
    report: &Report,
) -> Result<Result<Found, DavError>, AppError> {
    let mut found = Found {
        objects: Vec::new(),
        gone: Vec::new(),
        token: None,
    };
    match report {
        Report::Multiget(names) => {
            for name in names {
                match TodoObject::named(conn, scope, name)? {
                    Some(object) => found.objects.push(object),
                    None => found.gone.push(name.clone()),
                }
            }
        }
        Report::Query(filter) => {
            found.objects = TodoObject::all(conn, scope)?
                .into_iter()
                .filter(|object| {
                    filter
                        .as_ref()
                        .is_none_or(|filter| filter.matches(&object.ical()))
                })
                .collect();
        }
        Report::Sync(since) => {
            let state = Change::list_state(conn, scope)?;
            found.token = Some(sync_token(state));
            let Some(since) = since else {
                found.objects = TodoObject::all(conn, scope)?;
                return Ok(Ok(found));
            };
            if *since > state || *since < Change::trimmed_through(conn)? {
                return Ok(Err(refused_token()));
            }
            let mut changed: Vec<TodoId> = Vec::new();
            for change in Change::of_list_since(conn, scope, *since)? {
                if let Some(id) = change.todo_id
                    && !changed.contains(&id)
                {
                    changed.push(id);
                }
            }
            for id in changed {
                match TodoObject::of_todo(conn, scope, id)? {
                    Some(object) => found.objects.push(object),
                    None => found.gone.push(TodoObject::name_of(conn, scope, id)?),
                }
            }
        }
    }
    Ok(Ok(found))
}

/// `REPORT` on a collection.
pub async fn report(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let target = super::dav::dav_target(&req, &store, &caller).await?;
    let (report, wanted) = read_report(&body)?;
    let (identity, list, found) = store
        .read_list(caller, target, Need::Read, move |conn, identity, access| {
            let list = access
                .list
                .as_ref()
                .map_or(access.scope.list(), |visible| visible.list.id);
            Ok::<_, AppError>((identity.clone(), list, run(conn, access.scope, &report)?))
        })
        .await?;
    let found = found?;
    let base = super::dav_collections::collection_path(&req, &identity, list)?;
    let mut out = Multistatus::new();
    for object in &found.objects {
        let mut props = object_props(object);
        props.push((PropName::new(CALDAV, "calendar-data"), text(&object.ical())));
        reply(
            &mut out,
            &format!("{base}{}", dav_xml::segment(&object.name())),
            props,
            &wanted,
        );
    }
    for name in &found.gone {
        out.status(
            &format!("{base}{}", dav_xml::segment(name)),
            "404 Not Found",
        );
    }
    if let Some(token) = found.token {
        out.push(&format!("<D:sync-token>{}</D:sync-token>", text(&token)));
    }
    Ok(super::dav_collections::multistatus(out.finish()))
}
