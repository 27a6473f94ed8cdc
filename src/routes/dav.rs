//! CalDAV (RFC 4791): every list a collection of VTODOs, for the task apps people already have.
//! This file holds the objects themselves (`GET`, `PUT`, `DELETE` of
//! `/dav/calendars/{username}/{list}/{name}`), with their ETags and preconditions, and what every
//! DAV route shares: its refusals, and the list a path names. Writes take the one road (`Store::write_list`), so a todo a client sends is in
//! the change log, on open pages and under the same rules as one made on the web.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::idempotency::Answer;
use crate::lists::{Access, ListError, Need, Target};
use crate::models::ListScope;
use crate::models::{
    IcalError, ListDavName, ListId, NewTodo, Todo, TodoChanges, TodoIcal, TodoObject, WriteOutcome,
};
use crate::store::Store;

/// The methods an object answers, and what every DAV resource says it speaks.
pub const OBJECT_METHODS: &str = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND";
pub const DAV_CLASSES: &str = "1, 3, calendar-access";
/// The longest object name accepted, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// `OPTIONS` (the methods and the DAV classes), or 405 for a method the resource does not serve.
pub fn other_method(req: &HttpRequest, allow: &'static str) -> HttpResponse {
    let status = if req.method() == Method::OPTIONS {
        StatusCode::OK
    } else {
        StatusCode::METHOD_NOT_ALLOWED
    };
    HttpResponse::build(status)
        .insert_header((header::ALLOW, allow))
        .insert_header(("DAV", DAV_CLASSES))
        .finish()
}

/// A refusal as CalDAV clients expect it: 401 asks for Basic credentials; a 403 for a broken
/// precondition names it in a `DAV:error` body (RFC 4791 §1.3).
#[derive(Debug, thiserror::Error)]
pub enum DavError {
    /// As the rest of the server answers it (with Basic asked for on a 401).
    #[error(transparent)]
    App(#[from] AppError),
    /// 403 with the CalDAV precondition the request broke.
    #[error("{message}")]
    Precondition {
        element: &'static str,
        message: String,
    },
    /// 400: the body is not iCalendar.
    #[error("{0}")]
    BadRequest(String),
    /// 412: `If-Match` or `If-None-Match` does not hold.
    #[error("the object is not at the version the request expects")]
    PreconditionFailed,
}

impl From<IcalError> for DavError {
    fn from(err: IcalError) -> Self {
        match err.precondition() {
            Some(element) => DavError::Precondition {
                element,
                message: err.to_string(),
            },
            None => DavError::BadRequest(err.to_string()),
        }
    }
}

impl ResponseError for DavError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::App(err) => err.status_code(),
            Self::Precondition { .. } => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::App(err) => {
                let mut response = err.error_response();
                if err.status_code() == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        header::HeaderValue::from_static("Basic realm=\"todomvc\""),
                    );
                }
                response
            }
            Self::Precondition { element, message } => HttpResponse::Forbidden()
                .content_type("application/xml; charset=utf-8")
                .body(precondition_body(element, message)),
            other => HttpResponse::build(other.status_code())
                .content_type("text/plain; charset=utf-8")
                .body(other.to_string()),
        }
    }
}

fn precondition_body(element: &str, message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    // WebDAV's own preconditions are in its namespace; the rest are CalDAV's.
    let prefix = if matches!(element, "valid-sync-token" | "supported-report") {
        "D"
    } else {
        "C"
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\" \
         xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><{prefix}:{element}/>\
         <D:responsedescription>{escaped}</D:responsedescription></D:error>"
    )
}

/// What an object's path names: whose calendars, which list, which object.
#[derive(Debug, serde::Deserialize)]
pub struct ObjectPath {
    username: String,
    name: String,
}

impl ObjectPath {
    fn checked_name(&self) -> Result<&str, DavError> {
        if self.name.is_empty() || self.name.len() > MAX_NAME_BYTES {
            return Err(AppError::NotFound(format!("there is no object {}", self.name)).into());
        }
        Ok(&self.name)
    }
}

/// The versions `If-Match` accepts (`None`: no header, or `*`), and whether `If-None-Match: *`.
fn conditions(req: &HttpRequest) -> (Option<Vec<i32>>, bool) {
    let tags = |name| {
        req.headers()
            .get_all(name)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|tag| tag.trim().to_owned())
            .collect::<Vec<_>>()
    };
    let if_match = tags(header::IF_MATCH);
    let expected = (!if_match.is_empty() && !if_match.iter().any(|tag| tag == "*")).then(|| {
        if_match
            .iter()
            .filter_map(|tag| tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok())
            .collect()
    });
    let none_match = tags(header::IF_NONE_MATCH).iter().any(|tag| tag == "*");
    (expected, none_match)
}

/// The list a DAV path names: its id, or the name a client gave a list it made (MKCALENDAR), in
/// the caller's own home.
pub async fn dav_target(
    req: &HttpRequest,
    store: &Store,
    caller: &Caller,
) -> Result<Target, DavError> {
    let segment = req.match_info().get("list").unwrap_or_default().to_owned();
    if let Ok(id) = segment.parse::<ListId>() {
        return Ok(Target::List(id));
    }
    let found = store
        .read(caller.clone(), move |conn, identity| {
            Ok::<_, AppError>(ListDavName::find(conn, identity.user_id(), &segment)?)
        })
        .await?;
    found
        .map(Target::List)
        .ok_or_else(|| AppError::NotFound("there is no such collection".into()).into())
}

/// A refusal of the lists service, for `write_list`: 404 or 403.
fn refusal(refused: &ListError) -> Answer {
    let mut answer = Answer::new(refused.status())
        .header(header::CONTENT_TYPE.as_str(), "text/plain; charset=utf-8");
    answer.body = refused.to_string();
    answer
}

/// Whose principal, home or collections a path names (`named`): the caller's own, by their
/// username as stored; anyone's, in open mode. Another's is 404.
pub fn calendars_of(identity: &crate::auth::Identity, named: &str) -> Result<String, DavError> {
    match &identity.user {
        Some(user) if !crate::auth::same_user(&user.username, named) => {
            Err(AppError::NotFound(format!("there are no calendars of {named} for you")).into())
        }
        Some(user) => Ok(user.username.clone()),
        None => Ok(named.to_owned()),
    }
}

/// Whether the path's username is the caller's (anyone's, in open mode).
pub fn own_calendars(identity: &crate::auth::Identity, username: &str) -> Result<(), DavError> {
    calendars_of(identity, username).map(drop)
}

/// A request body as text: DAV bodies (XML, iCalendar) are UTF-8.
pub fn text_body(body: &[u8]) -> Result<&str, DavError> {
    std::str::from_utf8(body).map_err(|_| DavError::BadRequest("the body is not UTF-8 text".into()))
}

/// `GET` (and `HEAD`): the object, as the client sent it or brought up to date.
pub async fn get(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<ObjectPath>,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let target = dav_target(&req, &store, &caller).await?;
    let path = path.into_inner();
    let name = path.checked_name()?.to_owned();
    let object = store
        .read_list(caller, target, Need::Read, move |conn, identity, access| {
            own_calendars(identity, &path.username).map_err(to_app)?;
            Ok::<_, AppError>(TodoObject::named(conn, access.scope, &name)?)
        })
        .await?
        .ok_or_else(|| AppError::NotFound("there is no such object".into()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::ETAG, object.etag()))
        .body(object.ical()))
}

fn to_app(err: DavError) -> AppError {
    match err {
        DavError::App(err) => err,
        other => AppError::BadRequest(other.to_string()),
    }
}

/// `PUT`: a new todo, or a new version of one, from what the client sent, kept as sent.
pub async fn put(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<ObjectPath>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let target = dav_target(&req, &store, &caller).await?;
    let path = path.into_inner();
    let name = path.checked_name()?.to_owned();
    let sent = text_body(&body)?.to_owned();
    let read = TodoIcal::read(&sent)?;
    let (expected, none_match) = conditions(&req);
    let work = move |conn: &mut DbConnection, access: &Access| {
        put_object(
            conn,
            access.scope,
            (&name, &sent),
            &read,
            (expected, none_match),
        )
    };
    let answer = write_to_list(&store, (caller, target), &path.username, Need::Write, work).await?;
    Ok(answer.into_response())
}

/// What a `PUT` does to the list: the object's preconditions, then the todo created or changed
/// and what the client sent kept beside it.
fn put_object(
    conn: &mut DbConnection,
    scope: ListScope,
    (name, sent): (&str, &str),
    read: &TodoIcal,
    (expected, none_match): (Option<Vec<i32>>, bool),
) -> Result<Answer, AppError> {
    let existing = TodoObject::named(conn, scope, name)?;
    let version = existing.as_ref().map(|object| object.todo.version);
    let stale = expected
        .as_ref()
        .is_some_and(|versions| version.is_none_or(|v| !versions.contains(&v)));
    if (none_match && existing.is_some()) || stale {
        return Ok(dav_answer(&DavError::PreconditionFailed));
    }
    let holder = TodoObject::with_uid(conn, scope, &read.uid)?;
    if holder.is_some_and(|holder| Some(holder.todo.id) != existing.as_ref().map(|e| e.todo.id)) {
        return Ok(dav_answer(&DavError::Precondition {
            element: "no-uid-conflict",
            message: format!("another object of this list has the UID {}", read.uid),
        }));
    }
    let (status, todo) = match existing {
        Some(existing) => {
            let changes = TodoChanges {
                title: Some(read.title.clone()),
                position: read.order,
                completed: Some(read.completed),
            };
            let expected = version.map(|v| vec![v]);
            match Todo::update(conn, scope, existing.todo.id, &changes, expected.as_deref())? {
                WriteOutcome::Done(todo) => (StatusCode::NO_CONTENT, todo),
                _ => return Ok(dav_answer(&DavError::PreconditionFailed)),
            }
        }
        None => {
            let new = NewTodo {
                title: read.title.clone(),
                position: read.order,
                completed: read.completed,
            };
            (StatusCode::CREATED, Todo::create(conn, scope, new)?)
        }
    };
    TodoObject::keep(conn, scope, &todo, (name, sent), read)?;
    Ok(Answer::new(status).header(header::ETAG.as_str(), format!("\"{}\"", todo.version)))
}

/// A write to the list a DAV path names, on the one road (`Store::write_list`) with DAV's
/// refusals, for a caller in their own calendars (`username`, the path's).
async fn write_to_list<F>(
    store: &Store,
    (caller, target): (Caller, Target),
    username: &str,
    need: Need,
    work: F,
) -> Result<Answer, DavError>
where
    F: FnOnce(&mut DbConnection, &Access) -> Result<Answer, AppError> + Send + 'static,
{
    let username = username.to_owned();
    let answer = store
        .write_list(
            caller,
            target,
            need,
            None,
            refusal,
            move |conn, identity, access| match own_calendars(identity, &username) {
                Ok(()) => work(conn, access),
                Err(err) => Ok(dav_answer(&err)),
            },
        )
        .await?;
    Ok(answer)
}

/// `DELETE`: the todo goes, as when deleted on the web.
pub async fn delete(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<ObjectPath>,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let target = dav_target(&req, &store, &caller).await?;
    let path = path.into_inner();
    let name = path.checked_name()?.to_owned();
    let (expected, _) = conditions(&req);
    let work = move |conn: &mut DbConnection, access: &Access| {
        let gone = || {
            dav_answer(&DavError::App(AppError::NotFound(
                "there is no such object".into(),
            )))
        };
        let Some(existing) = TodoObject::named(conn, access.scope, &name)? else {
            return Ok(gone());
        };
        Ok(
            match Todo::delete(conn, access.scope, existing.todo.id, expected.as_deref())? {
                WriteOutcome::Done(()) => Answer::new(StatusCode::NO_CONTENT),
                WriteOutcome::Stale(_) => dav_answer(&DavError::PreconditionFailed),
                WriteOutcome::NotFound => gone(),
            },
        )
    };
    let answer = write_to_list(&store, (caller, target), &path.username, Need::Write, work).await?;
    Ok(answer.into_response())
}

/// A refusal found inside a write, as the answer the write gives.
pub fn dav_answer(err: &DavError) -> Answer {
    let response = err.error_response();
    let mut answer = Answer::new(response.status());
    for (name, value) in response.headers() {
        if let Ok(value) = value.to_str() {
            answer = answer.header(name.as_str(), value);
        }
    }
    answer.body = match err {
        DavError::Precondition { element, message } => precondition_body(element, message),
        other => other.to_string(),
    };
    answer
}
