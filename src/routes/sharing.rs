//! `/lists/{id}/sharing`: who is on a list, and the forms that change it without JavaScript: add a
//! person (username and role), change a role, remove someone, or leave.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::account::to_sign_in_then;
use super::forms::{page_answer, refused_page, see_other};
use super::index::page_response;
use super::request::ListPath;
use crate::auth::{Caller, Identity};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::idempotency::Answer;
use crate::lists::{Access, ListError, Need, Target};
use crate::models::{List, ListId, MemberRole, Role, User};
use crate::store::Store;

/// One row of the members table.
struct MemberRow {
    username: String,
    role: &'static str,
    you: bool,
}

#[derive(Template)]
#[template(path = "sharing.html")]
struct SharingPage<'a> {
    heading: String,
    title: &'a str,
    list_id: ListId,
    list_href: String,
    members: Vec<MemberRow>,
    is_owner: bool,
    is_open: bool,
    you: &'a str,
    notice: Option<&'a str>,
    typed_username: &'a str,
    typed_role: &'a str,
}

/// What the page shows beyond the members: a refused form's message and what was typed.
#[derive(Debug, Default)]
struct Typed {
    notice: Option<String>,
    username: String,
    role: String,
}

fn render(
    conn: &mut DbConnection,
    who: &Identity,
    access: &Access,
    typed: &Typed,
) -> Result<web::Bytes, AppError> {
    let visible = access
        .list
        .as_ref()
        .ok_or_else(|| AppError::internal("a named list was checked without reading it"))?;
    let you = who.user.as_ref().map_or("", |user| user.username.as_str());
    let list = &visible.list;
    let members = List::members(conn, list)?
        .into_iter()
        .map(|member| MemberRow {
            you: member.username == you,
            role: member.role.as_str(),
            username: member.username,
        })
        .collect();
    let is_owner = visible.role == Role::Owner;
    let page = SharingPage {
        heading: if is_owner {
            format!("Share “{}”", list.title)
        } else {
            format!("Who is on “{}”", list.title)
        },
        title: &list.title,
        list_id: list.id,
        list_href: if list.is_default && is_owner {
            "/".to_owned()
        } else {
            format!("/lists/{}", list.id)
        },
        members,
        is_owner,
        is_open: list.owner_id.is_none(),
        you,
        notice: typed.notice.as_deref(),
        typed_username: &typed.username,
        typed_role: &typed.role,
    };
    page.render()
        .map(web::Bytes::from)
        .map_err(|err| AppError::internal(format!("rendering the sharing page: {err}")))
}

/// `GET /lists/{id}/sharing`: for any member.
pub async fn page(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<ListPath>,
) -> Result<HttpResponse, AppError> {
    let here = format!("/lists/{}/sharing", path.list);
    let caller = match caller {
        Ok(caller) => caller,
        Err(AppError::Unauthorized(_)) => return Ok(to_sign_in_then(&req, &here)),
        Err(err) => return Err(err),
    };
    let html = store
        .read_list(
            caller,
            Target::List(path.list),
            Need::Read,
            |conn, who, access| render(conn, who, access, &Typed::default()),
        )
        .await;
    match html {
        Ok(html) => Ok(page_response(StatusCode::OK, html)),
        Err(AppError::Unauthorized(_)) => Ok(to_sign_in_then(&req, &here)),
        Err(AppError::NotFound(_)) => {
            Ok(refused_page(&ListError::NotFound(path.list)).into_response())
        }
        Err(err) => Err(err),
    }
}

type Fields = web::Form<HashMap<String, String>>;

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map_or("", |value| value.trim())
}

/// Runs a sharing form for the caller: refusals as pages, sign-in first without a session.
async fn submit<F>(
    req: &HttpRequest,
    store: &Store,
    caller: Result<Caller, AppError>,
    (list, need): (ListId, Need),
    work: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConnection, &Identity, &Access) -> Result<Answer, AppError> + Send + 'static,
{
    let here = format!("/lists/{list}/sharing");
    let caller = match caller {
        Ok(caller) => caller,
        Err(AppError::Unauthorized(_)) => return Ok(to_sign_in_then(req, &here)),
        Err(err) => return Err(err),
    };
    match store
        .write_list(caller, Target::List(list), need, None, refused_page, work)
        .await
    {
        Ok(answer) => Ok(answer.into_response()),
        Err(AppError::Unauthorized(_)) => Ok(to_sign_in_then(req, &here)),
        Err(err) => Err(err),
    }
}

/// The sharing page again with a message (422), keeping what was typed.
fn again(
    conn: &mut DbConnection,
    who: &Identity,
    access: &Access,
    typed: &Typed,
) -> Result<Answer, AppError> {
    page_answer(
        StatusCode::UNPROCESSABLE_ENTITY,
        render(conn, who, access, typed)?,
    )
}

/// `POST /lists/{id}/sharing` (`username`, `role`): the owner adds a person, or changes their role.
pub async fn add(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<ListPath>,
    fields: Fields,
) -> Result<HttpResponse, AppError> {
    let typed = Typed {
        notice: None,
        username: field(&fields, "username").to_owned(),
        role: field(&fields, "role").to_owned(),
    };
    let list = path.list;
    submit(
        &req,
        &store,
        caller,
        (list, Need::Own),
        move |conn, who, access| {
            let Some(role) = MemberRole::parse(&typed.role) else {
                let notice = Some("Choose a role: editor or viewer.".to_owned());
                return again(conn, who, access, &Typed { notice, ..typed });
            };
            let user = match User::find_by_name(conn, &typed.username)? {
                Some(user) if Some(user.id) != who.user_id() => user,
                Some(_) => {
                    let notice = Some("You own this list already.".to_owned());
                    return again(conn, who, access, &Typed { notice, ..typed });
                }
                None => {
                    let notice = Some(format!("There is no user “{}”.", typed.username));
                    return again(conn, who, access, &Typed { notice, ..typed });
                }
            };
            List::put_member(conn, list, user.id, role, crate::auth::now())?;
            Ok(see_other(&format!("/lists/{list}/sharing")))
        },
    )
    .await
}

/// `/lists/{list}/sharing/{username}...`.
#[derive(Debug, serde::Deserialize)]
pub struct MemberPath {
    list: ListId,
    username: String,
}

/// `POST /lists/{id}/sharing/{username}` (`role`): the owner changes a member's role.
pub async fn change_role(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<MemberPath>,
    fields: Fields,
) -> Result<HttpResponse, AppError> {
    let MemberPath { list, username } = path.into_inner();
    let role = field(&fields, "role").to_owned();
    submit(
        &req,
        &store,
        caller,
        (list, Need::Own),
        move |conn, who, access| {
            let typed = Typed::default();
            let Some(role) = MemberRole::parse(&role) else {
                let notice = Some("Choose a role: editor or viewer.".to_owned());
                return again(conn, who, access, &Typed { notice, ..typed });
            };
            match User::find_by_name(conn, &username)? {
                Some(user)
                    if List::access(conn, list, Some(user.id))?
                        .is_some_and(|v| v.role != Role::Owner) =>
                {
                    List::put_member(conn, list, user.id, role, crate::auth::now())?;
                    Ok(see_other(&format!("/lists/{list}/sharing")))
                }
                _ => {
                    let notice = Some(format!("{username} is not a member of this list."));
                    again(conn, who, access, &Typed { notice, ..typed })
                }
            }
        },
    )
    .await
}

/// `POST /lists/{id}/sharing/{username}/remove`: the owner removes a member; a member leaves.
pub async fn remove(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<MemberPath>,
) -> Result<HttpResponse, AppError> {
    let MemberPath { list, username } = path.into_inner();
    submit(
        &req,
        &store,
        caller,
        (list, Need::Read),
        move |conn, who, access| {
            let me = who.user_id();
            let user = User::find_by_name(conn, &username)?;
            let leaving = user.as_ref().is_some_and(|user| Some(user.id) == me);
            if access.role != Role::Owner && !leaving {
                let title = access
                    .list
                    .as_ref()
                    .map_or_else(String::new, |v| v.list.title.clone());
                return Ok(refused_page(&ListError::OwnerOnly {
                    title,
                    what: "remove other people from it",
                }));
            }
            match user {
                Some(user) if List::remove_member(conn, list, user.id)? => {
                    let to = if leaving {
                        "/".to_owned()
                    } else {
                        format!("/lists/{list}/sharing")
                    };
                    Ok(see_other(&to))
                }
                _ => {
                    let notice = Some(format!("{username} is not a member of this list."));
                    again(
                        conn,
                        who,
                        access,
                        &Typed {
                            notice,
                            ..Typed::default()
                        },
                    )
                }
            }
        },
    )
    .await
}
