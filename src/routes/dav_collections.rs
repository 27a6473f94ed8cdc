//! CalDAV discovery and collections, by `PROPFIND`: `/dav/` names the caller's principal, the
//! principal its calendar home, the home one task collection per list the caller can see, and
//! each collection its objects (RFC 4791 §6, RFC 5397, and CalendarServer's `getctag`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::dav::{DAV_CLASSES, DavError, calendars_of, text_body};
use super::dav_xml::{
    self, APPLE, CALDAV, CALENDARSERVER, DAV, Multistatus, PropName, Wanted, href, text,
};
use crate::auth::{Caller, Identity};
use crate::error::AppError;
use crate::lists::Need;
use crate::models::{Change, List, ListDavName, TodoObject, Visible};
use crate::store::Store;

pub const COLLECTION_METHODS: &str =
    "OPTIONS, PROPFIND, REPORT, MKCALENDAR, MKCOL, PROPPATCH, DELETE";

/// Whose principal or home a path names: the caller's own (anyone's, in open mode).
fn username_of(req: &HttpRequest, identity: &Identity) -> Result<String, DavError> {
    calendars_of(
        identity,
        req.match_info().get("username").unwrap_or_default(),
    )
}

fn wanted(body: &web::Bytes) -> Result<Wanted, DavError> {
    dav_xml::propfind(text_body(body)?).map_err(DavError::BadRequest)
}

/// Depth 1 (or infinity, answered as 1) lists the members; 0, or none, only the resource.
fn deep(req: &HttpRequest) -> bool {
    req.headers()
        .get("depth")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|depth| depth.trim() != "0")
}

/// What a resource has, filtered by what was asked: the found and the missing.
pub fn reply(answer: &mut Multistatus, path: &str, all: Vec<(PropName, String)>, wanted: &Wanted) {
    match wanted {
        Wanted::All => answer.response(path, &all, &[]),
        Wanted::Names => {
            let names: Vec<(PropName, String)> = all
                .into_iter()
                .map(|(name, _)| (name, String::new()))
                .collect();
            answer.response(path, &names, &[]);
        }
        Wanted::Props(asked) => {
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for name in asked {
                match all.iter().find(|(have, _)| have == name) {
                    Some(prop) => found.push(prop.clone()),
                    None => missing.push(name.clone()),
                }
            }
            answer.response(path, &found, &missing);
        }
    }
}

pub fn multistatus(body: String) -> HttpResponse {
    HttpResponse::build(StatusCode::MULTI_STATUS)
        .content_type("application/xml; charset=utf-8")
        .insert_header(("DAV", DAV_CLASSES))
        .body(body)
}

fn principal_path(username: &str) -> String {
    format!("/dav/principals/{}/", dav_xml::segment(username))
}

fn home_path(username: &str) -> String {
    format!("/dav/calendars/{}/", dav_xml::segment(username))
}

fn dav(name: &str) -> PropName {
    PropName::new(DAV, name)
}

/// `PROPFIND /dav/`: where the caller's principal is.
pub async fn root(
    _req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let wanted = wanted(&body)?;
    let identity = store
        .read(caller?, |_, identity| Ok::<_, AppError>(identity.clone()))
        .await?;
    let username = match &identity.user {
        Some(user) => user.username.clone(),
        None => "open".to_owned(),
    };
    let mut out = Multistatus::new();
    let props = vec![
        (dav("resourcetype"), "<D:collection/>".to_owned()),
        (
            dav("current-user-principal"),
            href(&principal_path(&username)),
        ),
    ];
    reply(&mut out, "/dav/", props, &wanted);
    Ok(multistatus(out.finish()))
}

fn principal_props(username: &str) -> Vec<(PropName, String)> {
    vec![
        (
            dav("resourcetype"),
            "<D:collection/><D:principal/>".to_owned(),
        ),
        (dav("displayname"), text(username)),
        (dav("principal-URL"), href(&principal_path(username))),
        (
            dav("current-user-principal"),
            href(&principal_path(username)),
        ),
        (
            PropName::new(CALDAV, "calendar-home-set"),
            href(&home_path(username)),
        ),
    ]
}

/// `PROPFIND /dav/principals/{username}/`: the principal, and where its calendars are.
pub async fn principal(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let wanted = wanted(&body)?;
    let identity = store
        .read(caller?, |_, identity| Ok::<_, AppError>(identity.clone()))
        .await?;
    let username = username_of(&req, &identity)?;
    let mut out = Multistatus::new();
    reply(
        &mut out,
        &principal_path(&username),
        principal_props(&username),
        &wanted,
    );
    Ok(multistatus(out.finish()))
}

/// One list's collection: what `PROPFIND` shows of it, at the list's state `state`.
fn collection_props(username: &str, visible: &Visible, state: i64) -> Vec<(PropName, String)> {
    let privileges: &[&str] = if visible.role.writes() {
        &[
            "read",
            "write",
            "write-content",
            "write-properties",
            "bind",
            "unbind",
        ]
    } else {
        &["read"]
    };
    let privileges: String = privileges.iter().fold(String::new(), |mut all, privilege| {
        all.push_str("<D:privilege><D:");
        all.push_str(privilege);
        all.push_str("/></D:privilege>");
        all
    });
    vec![
        (
            dav("resourcetype"),
            "<D:collection/><C:calendar/>".to_owned(),
        ),
        (dav("displayname"), text(&visible.list.title)),
        (
            PropName::new(CALDAV, "supported-calendar-component-set"),
            "<C:comp name=\"VTODO\"/>".to_owned(),
        ),
        (PropName::new(CALENDARSERVER, "getctag"), state.to_string()),
        (dav("sync-token"), text(&sync_token(state))),
        (dav("getetag"), text(&format!("\"{state}\""))),
        (dav("current-user-privilege-set"), privileges),
        (
            dav("current-user-principal"),
            href(&principal_path(username)),
        ),
        (
            dav("owner"),
            href(&principal_path(
                visible.owner.as_deref().unwrap_or(username),
            )),
        ),
        (
            PropName::new(APPLE, "calendar-order"),
            visible.list.id.to_string(),
        ),
    ]
}

/// The path of a list's collection, under the caller's home: at the segment the request named
/// it by (its id, or the name the client made it under), so that every href a client reads is
/// under the URL it uses.
pub fn collection_path(
    req: &HttpRequest,
    identity: &Identity,
    list: crate::models::ListId,
) -> Result<String, DavError> {
    let segment = req
        .match_info()
        .get("list")
        .map_or_else(|| list.to_string(), dav_xml::segment);
    Ok(format!(
        "{}{segment}/",
        home_path(&username_of(req, identity)?)
    ))
}

/// A list's sync token (RFC 6578): a URI naming its state.
pub fn sync_token(state: i64) -> String {
    format!("urn:todomvc:sync:{state}")
}

/// `PROPFIND /dav/calendars/{username}/`: the home, and (Depth 1) one collection per list.
pub async fn home(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let wanted = wanted(&body)?;
    let deep = deep(&req);
    let (identity, lists) = store
        .read(caller?, move |conn, identity| {
            let lists = if deep {
                let visible = List::visible_to(conn, identity.user_id())?;
                let names = ListDavName::of_owner(conn, identity.user_id())?;
                let mut with_state = Vec::with_capacity(visible.len());
                for list in visible {
                    // A list a client made lives at its name in its owner's home.
                    let named = names.iter().find(|(id, _)| {
                        *id == list.list.id && list.role == crate::models::Role::Owner
                    });
                    let segment =
                        named.map_or_else(|| list.list.id.to_string(), |(_, name)| name.clone());
                    let state =
                        Change::list_state(conn, crate::models::ListScope::of(list.list.id))?;
                    with_state.push((list, segment, state));
                }
                with_state
            } else {
                Vec::new()
            };
            Ok::<_, AppError>((identity.clone(), lists))
        })
        .await?;
    let username = username_of(&req, &identity)?;
    let mut out = Multistatus::new();
    let props = vec![
        (dav("resourcetype"), "<D:collection/>".to_owned()),
        (dav("displayname"), text(&username)),
        (
            dav("current-user-principal"),
            href(&principal_path(&username)),
        ),
    ];
    reply(&mut out, &home_path(&username), props, &wanted);
    for (visible, segment, state) in &lists {
        let path = format!("{}{}/", home_path(&username), dav_xml::segment(segment));
        reply(
            &mut out,
            &path,
            collection_props(&username, visible, *state),
            &wanted,
        );
    }
    Ok(multistatus(out.finish()))
}

/// What `PROPFIND` shows of an object.
pub fn object_props(object: &TodoObject) -> Vec<(PropName, String)> {
    vec![
        (dav("resourcetype"), String::new()),
        (dav("getetag"), text(&object.etag())),
        (
            dav("getcontenttype"),
            "text/calendar; charset=utf-8; component=VTODO".to_owned(),
        ),
    ]
}

/// `PROPFIND` of one object.
pub async fn object(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let target = super::dav::dav_target(&req, &store, &caller).await?;
    let wanted = wanted(&body)?;
    let name = req.match_info().get("name").unwrap_or_default().to_owned();
    let (identity, list, object) = store
        .read_list(caller, target, Need::Read, move |conn, identity, access| {
            let list = access
                .list
                .as_ref()
                .map_or(access.scope.list(), |visible| visible.list.id);
            let object = TodoObject::named(conn, access.scope, &name)?;
            Ok::<_, AppError>((identity.clone(), list, object))
        })
        .await?;
    let object = object.ok_or_else(|| AppError::NotFound("there is no such object".into()))?;
    let path = format!(
        "{}{}",
        collection_path(&req, &identity, list)?,
        dav_xml::segment(&object.name())
    );
    let mut out = Multistatus::new();
    reply(&mut out, &path, object_props(&object), &wanted);
    Ok(multistatus(out.finish()))
}

/// `PROPFIND /dav/calendars/{username}/{list}/`: the collection, and (Depth 1) its objects.
pub async fn collection(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let target = super::dav::dav_target(&req, &store, &caller).await?;
    let wanted = wanted(&body)?;
    let deep = deep(&req);
    let (identity, visible, state, objects) = store
        .read_list(caller, target, Need::Read, move |conn, identity, access| {
            let visible = access
                .list
                .clone()
                .ok_or_else(|| AppError::internal("a named list without its record"))?;
            let state = Change::list_state(conn, access.scope)?;
            let objects = if deep {
                TodoObject::all(conn, access.scope)?
            } else {
                Vec::new()
            };
            Ok::<_, AppError>((identity.clone(), visible, state, objects))
        })
        .await?;
    let username = username_of(&req, &identity)?;
    let base = collection_path(&req, &identity, visible.list.id)?;
    let mut out = Multistatus::new();
    reply(
        &mut out,
        &base,
        collection_props(&username, &visible, state),
        &wanted,
    );
    for object in &objects {
        reply(
            &mut out,
            &format!("{base}{}", dav_xml::segment(&object.name())),
            object_props(object),
            &wanted,
        );
    }
    Ok(multistatus(out.finish()))
}
