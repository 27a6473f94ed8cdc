//! Lists made, renamed and deleted from a CalDAV client: `MKCALENDAR` (or extended `MKCOL`) in
//! the caller's calendar home makes a list at the name the client chose, titled with the
//! `displayname` it sent; `PROPPATCH` of `displayname` renames a list; `DELETE` of a collection
//! deletes it. Only the owner renames or deletes, and the default list is never deleted (403).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::dav::{DavError, dav_answer, dav_target, own_calendars, text_body};
use super::dav_collections::multistatus;
use super::dav_xml::{self, CALDAV, DAV, Element, Multistatus, PropName};
use crate::auth::Caller;
use crate::error::AppError;
use crate::idempotency::Answer;
use crate::lists::{ListError, Need};
use crate::models::{List, ListDavName, ListId, MAX_DAV_NAME_BYTES, parse_list_title};
use crate::store::Store;

fn body_root(body: &web::Bytes) -> Result<Option<Element>, DavError> {
    dav_xml::parse(text_body(body)?).map_err(DavError::BadRequest)
}

/// The properties a `set` of a request body sets.
fn set_props(root: &Element) -> Vec<&Element> {
    let mut sets = Vec::new();
    root.descendants(DAV, "set", &mut sets);
    sets.iter()
        .filter_map(|set| set.child(DAV, "prop"))
        .flat_map(|prop| prop.children.iter())
        .collect()
}

/// The username a path names (its home's owner).
fn path_username(req: &HttpRequest) -> String {
    req.match_info()
        .get("username")
        .unwrap_or_default()
        .to_owned()
}

fn refused(refused: &ListError) -> Answer {
    let mut answer =
        Answer::new(refused.status()).header("content-type", "text/plain; charset=utf-8");
    answer.body = refused.to_string();
    answer
}

/// `MKCALENDAR` or extended `MKCOL` in the home: a new list of the caller's, at that name.
pub async fn make(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let name = req.match_info().get("list").unwrap_or_default().to_owned();
    let root = body_root(&body)?;
    let props = root.as_ref().map(set_props).unwrap_or_default();
    if let Some(components) = props
        .iter()
        .find(|prop| prop.is(CALDAV, "supported-calendar-component-set"))
        && !components.children.iter().any(|comp| {
            comp.attribute("name")
                .is_some_and(|name| name.eq_ignore_ascii_case("VTODO"))
        })
    {
        return Err(DavError::Precondition {
            element: "supported-calendar-component",
            message: "a list holds tasks (VTODO) only".into(),
        });
    }
    if req.method().as_str() == "MKCOL"
        && !props
            .iter()
            .any(|prop| prop.is(DAV, "resourcetype") && prop.child(CALDAV, "calendar").is_some())
    {
        return Err(AppError::Forbidden(
            "only task collections can be made here: send MKCALENDAR, or an extended MKCOL with \
             a calendar resourcetype"
                .into(),
        )
        .into());
    }
    let title = props
        .iter()
        .find(|prop| prop.is(DAV, "displayname"))
        .map_or_else(|| name.clone(), |prop| prop.text.clone());
    let title = parse_list_title(Some(&serde_json::Value::String(title))).map_err(|invalid| {
        DavError::Precondition {
            element: "valid-calendar-data",
            message: invalid.message,
        }
    })?;
    if name.parse::<ListId>().is_ok() || name.is_empty() || name.len() > MAX_DAV_NAME_BYTES {
        return Err(AppError::Forbidden(
            "a new collection needs a name of its own, not a number (lists' ids are numbers)"
                .into(),
        )
        .into());
    }
    let username = path_username(&req);
    let answer = store
        .write(caller, None, move |conn, identity| {
            if let Err(err) = own_calendars(identity, &username) {
                return Ok(dav_answer(&err));
            }
            let owner = identity.user_id();
            if ListDavName::find(conn, owner, &name)?.is_some() {
                let mut answer = Answer::new(StatusCode::METHOD_NOT_ALLOWED)
                    .header("allow", "OPTIONS, PROPFIND, REPORT, PROPPATCH, DELETE");
                answer.body = format!("there is a collection named {name} already");
                return Ok(answer);
            }
            let list = List::create(conn, owner, &title, crate::auth::now())?;
            ListDavName::give(conn, list.id, owner, &name)?;
            Ok(Answer::new(StatusCode::CREATED))
        })
        .await?;
    Ok(answer.into_response())
}

/// `DELETE` of a collection: the list and its todos, by its owner; never the default list.
pub async fn delete(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let target = dav_target(&req, &store, &caller).await?;
    let username = path_username(&req);
    let answer = store
        .write_list(
            caller,
            target,
            Need::Own,
            None,
            refused,
            move |conn, identity, access| {
                if let Err(err) = own_calendars(identity, &username) {
                    return Ok(dav_answer(&err));
                }
                let Some(visible) = &access.list else {
                    return Err(AppError::internal("a named list without its record"));
                };
                if visible.list.is_default {
                    let mut answer = Answer::new(StatusCode::FORBIDDEN)
                        .header("content-type", "text/plain; charset=utf-8");
                    answer.body = format!(
                        "“{}” is the default list, which cannot be deleted",
                        visible.list.title
                    );
                    return Ok(answer);
                }
                List::delete(conn, visible.list.id)?;
                Ok(Answer::new(StatusCode::NO_CONTENT))
            },
        )
        .await?;
    Ok(answer.into_response())
}

/// `PROPPATCH` of a collection: `displayname` renames the list (its owner only); other properties
/// are refused, and then nothing changes (RFC 4918 §9.2: all or nothing).
pub async fn patch(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, DavError> {
    let caller = caller?;
    let target = dav_target(&req, &store, &caller).await?;
    let root = body_root(&body)?
        .filter(|root| root.is(DAV, "propertyupdate"))
        .ok_or_else(|| DavError::BadRequest("a PROPPATCH body is a DAV:propertyupdate".into()))?;
    let props = set_props(&root);
    let title = props
        .iter()
        .find(|prop| prop.is(DAV, "displayname"))
        .map(|prop| parse_list_title(Some(&serde_json::Value::String(prop.text.clone()))));
    let others: Vec<PropName> = props
        .iter()
        .filter(|prop| !prop.is(DAV, "displayname"))
        .map(|prop| PropName::new(&prop.ns, &prop.name))
        .collect();
    let path = req.path().to_owned();
    let username = path_username(&req);
    let mut out = Multistatus::new();
    let displayname = PropName::new(DAV, "displayname");
    match title {
        Some(Ok(title)) if others.is_empty() => {
            let answer = store
                .write_list(
                    caller,
                    target,
                    Need::Own,
                    None,
                    refused,
                    move |conn, identity, access| {
                        if let Err(err) = own_calendars(identity, &username) {
                            return Ok(dav_answer(&err));
                        }
                        List::rename(conn, access.scope.list(), &title)?;
                        Ok(Answer::new(StatusCode::OK))
                    },
                )
                .await?;
            if answer.status != StatusCode::OK.as_u16() {
                return Ok(answer.into_response());
            }
            out.response(&path, &[(displayname, String::new())], &[]);
        }
        _ => {
            // Nothing is changed: each property says why.
            out.refused(&path, &others, "403 Forbidden");
            if title.is_some() {
                out.refused(&path, &[displayname], "424 Failed Dependency");
            }
        }
    }
    Ok(multistatus(out.finish()))
}
