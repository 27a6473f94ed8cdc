//! `/lists`: the caller's lists, one list, and its members. A list's todos answer under
//! `/lists/{id}/todos/` exactly as `/todos/` does (see `todos`), and its page under `/lists/{id}`
//! (see `index`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::request::{ListPath, origin_url};
use crate::auth::Caller;
use crate::error::AppError;
use crate::idempotency::Answer;
use crate::lists::{Access, Need, Target};
use crate::models::{List, MemberRole, Role, User, ValidationError, Visible, parse_list_title};
use crate::store::{Store, json_refusal};

/// A request body with fields: JSON, or a urlencoded form (what the page's forms send).
pub enum Body {
    Json(Map<String, Value>),
    Form(Map<String, Value>),
}

impl Body {
    pub fn read(req: &HttpRequest, body: &[u8]) -> Result<Body, AppError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let fields =
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).map_err(|err| {
                    AppError::BadRequest(format!("the form could not be read: {err}"))
                })?;
            Ok(Body::Form(
                fields
                    .into_iter()
                    .map(|(name, value)| (name, Value::String(value)))
                    .collect(),
            ))
        } else if content_type.starts_with("application/json") {
            match serde_json::from_slice(body) {
                Ok(Value::Object(object)) => Ok(Body::Json(object)),
                Ok(_) => Err(AppError::BadRequest(
                    "the request body must be a JSON object".into(),
                )),
                Err(err) => Err(AppError::BadRequest(format!(
                    "the request body is not valid JSON: {err}"
                ))),
            }
        } else {
            Err(AppError::UnsupportedMediaType)
        }
    }

    pub fn fields(&self) -> &Map<String, Value> {
        match self {
            Body::Json(fields) | Body::Form(fields) => fields,
        }
    }
}

/// A list's JSON for the caller, as an answer with `status`.
fn list_answer(status: StatusCode, visible: &Visible, origin: &str) -> Result<Answer, AppError> {
    Answer::new(status).json(&visible.to_json(origin))
}

fn json_response(answer: Answer) -> HttpResponse {
    answer.into_response()
}

/// `GET /lists`: every list the caller owns or is on, the default list first, then by creation.
#[utoipa::path(get, path = "/lists", tag = "lists", operation_id = "lists",
    responses(
        (status = 200, description = "The caller's lists.", body = Vec<crate::models::ListJson<'static>>),
        super::described::Refusals,
    ))]
pub async fn index(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    let origin = origin_url(&req);
    let body = store
        .read(caller, move |conn, who| {
            let lists = List::visible_to(conn, who.user_id())?;
            let json: Vec<_> = lists.iter().map(|list| list.to_json(&origin)).collect();
            serde_json::to_vec(&json).map_err(AppError::internal)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON.as_ref())
        .insert_header(super::listing::PER_USER.0)
        .insert_header(super::listing::PER_USER.1)
        .body(body))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ListFields {
    /// Trimmed, 1 to 100 characters.
    #[allow(
        dead_code,
        reason = "a description of the body; `parse_list_title` reads it"
    )]
    title: String,
}

/// `POST /lists`: a new list, owned by the caller. With a form body (the page's), 303 to its page.
#[utoipa::path(post, path = "/lists", tag = "lists", operation_id = "create_list",
    request_body(content = ListFields, content_type = "application/json",
        description = "A urlencoded form with `title` works too: it answers 303 to the new list's page."),
    responses(
        (status = 201, description = "Created.", body = crate::models::ListJson<'static>,
            headers(("Location" = String, description = "The new list's URL."))),
        (status = 303, description = "A form's answer: to the new list's page."),
        super::described::Refusals, super::described::BodyRefusals,
    ))]
pub async fn create(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let body = Body::read(&req, &body)?;
    let form = matches!(body, Body::Form(_));
    let caller = match caller {
        Err(AppError::Unauthorized(_)) if form => {
            return Ok(super::account::to_sign_in_then(&req, "/"));
        }
        caller => caller?,
    };
    let title = match parse_list_title(body.fields().get("title")) {
        Ok(title) => title,
        Err(invalid) if form => {
            let typed = body
                .fields()
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let refused = (typed.to_owned(), invalid.message);
            return super::list_forms::new_list_refused(&req, &store, caller, refused).await;
        }
        Err(invalid) => return Err(invalid.into()),
    };
    let origin = origin_url(&req);
    let answer = store
        .write(caller, None, move |conn, who| {
            let owner = who.user_id();
            let list = List::create(conn, owner, &title, crate::auth::now())?;
            let url = format!("{origin}/lists/{}", list.id);
            if form {
                return Ok(Answer::new(StatusCode::SEE_OTHER)
                    .header(header::LOCATION.as_str(), format!("/lists/{}", list.id))
                    .header(header::CACHE_CONTROL.as_str(), "no-store"));
            }
            let visible = Visible {
                list,
                role: Role::Owner,
                owner: who.user.as_ref().map(|user| user.username.clone()),
                members: 0,
            };
            Ok(list_answer(StatusCode::CREATED, &visible, &origin)?
                .header(header::LOCATION.as_str(), url))
        })
        .await?;
    Ok(json_response(answer))
}

/// Whether the request prefers HTML to JSON, as a browser's navigation does.
pub fn prefers_html(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let quality = |wanted: &[&str]| {
        accept
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next()?.to_ascii_lowercase();
                let q = parts
                    .find_map(|param| param.strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                wanted.contains(&media.as_str()).then_some(q)
            })
            .fold(0.0_f32, f32::max)
    };
    let html = quality(&["text/html"]);
    html > 0.0 && html > quality(&["application/json", "*/*", "application/*"])
}

/// `GET /lists/{id}`: the list as JSON, or its page for a request that prefers HTML.
#[utoipa::path(method(get, head), path = "/lists/{list}", tag = "lists", operation_id = "show_list",
    params(("list" = i32, Path, description = "The list's id.")),
    responses(
        (status = 200, description = "The list; its page (text/html) when the request prefers HTML.",
            body = crate::models::ListJson<'static>),
        super::described::Refusals,
    ))]
pub async fn show(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    path: web::Path<ListPath>,
) -> Result<HttpResponse, AppError> {
    let origin = origin_url(&req);
    let answer = store
        .read_list(
            caller,
            Target::List(path.list),
            Need::Read,
            move |_, _, access| list_answer(StatusCode::OK, visible(access)?, &origin),
        )
        .await?;
    Ok(json_response(answer))
}

/// The list as the caller sees it: always there for a named list (see `lists::access`).
fn visible(access: &Access) -> Result<&Visible, AppError> {
    access
        .list
        .as_ref()
        .ok_or_else(|| AppError::internal("a named list was checked without reading it"))
}

/// `PATCH /lists/{id}`: renames the list (the owner only).
#[utoipa::path(patch, path = "/lists/{list}", tag = "lists", operation_id = "rename_list",
    params(("list" = i32, Path, description = "The list's id.")),
    request_body = ListFields,
    responses(
        (status = 200, description = "Renamed.", body = crate::models::ListJson<'static>),
        super::described::Refusals, super::described::BodyRefusals,
    ))]
pub async fn rename(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    path: web::Path<ListPath>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let body = Body::read(&req, &body)?;
    let title = parse_list_title(body.fields().get("title"))?;
    let origin = origin_url(&req);
    let answer = store
        .write_list(
            caller,
            Target::List(path.list),
            Need::Own,
            None,
            json_refusal,
            move |conn, _, access| {
                let mut renamed = visible(access)?.clone();
                List::rename(conn, renamed.list.id, &title)?;
                renamed.list.title = title;
                list_answer(StatusCode::OK, &renamed, &origin)
            },
        )
        .await?;
    Ok(json_response(answer))
}

/// `DELETE /lists/{id}`: the list and its todos (the owner only); the default list stays (409).
#[utoipa::path(delete, path = "/lists/{list}", tag = "lists", operation_id = "delete_list",
    params(("list" = i32, Path, description = "The list's id.")),
    responses(
        (status = 204, description = "Deleted, with its todos."),
        (status = 409, description = "The default list cannot be deleted.", body = crate::error::ErrorBody),
        super::described::Refusals,
    ))]
pub async fn delete(
    store: web::Data<Store>,
    caller: Caller,
    path: web::Path<ListPath>,
) -> Result<HttpResponse, AppError> {
    let answer = store
        .write_list(
            caller,
            Target::List(path.list),
            Need::Own,
            None,
            json_refusal,
            move |conn, _, access| {
                let list = &visible(access)?.list;
                if list.is_default {
                    return Err(AppError::Conflict(format!(
                        "“{}” is your default list, which cannot be deleted",
                        list.title
                    )));
                }
                List::delete(conn, list.id)?;
                Ok(Answer::new(StatusCode::NO_CONTENT))
            },
        )
        .await?;
    Ok(json_response(answer))
}

/// `GET /lists/{id}/members`: who is on the list, the owner first.
#[utoipa::path(get, path = "/lists/{list}/members", tag = "lists", operation_id = "list_members",
    params(("list" = i32, Path, description = "The list's id.")),
    responses(
        (status = 200, description = "The members, the owner first.", body = Vec<crate::models::Member>),
        super::described::Refusals,
    ))]
pub async fn members(
    store: web::Data<Store>,
    caller: Caller,
    path: web::Path<ListPath>,
) -> Result<HttpResponse, AppError> {
    let members = store
        .read_list(
            caller,
            Target::List(path.list),
            Need::Read,
            move |conn, _, access| -> Result<_, AppError> {
                Ok(List::members(conn, &visible(access)?.list)?)
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(members))
}

/// `/lists/{list}/members/{username}`.
#[derive(Debug, Deserialize)]
pub struct MemberPath {
    list: crate::models::ListId,
    username: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MemberFields {
    /// `editor` or `viewer`.
    #[allow(dead_code, reason = "a description of the body; `put_member` reads it")]
    role: String,
}

/// The role a body gives: `editor` or `viewer`, else 422.
fn member_role(body: &Body) -> Result<MemberRole, AppError> {
    body.fields()
        .get("role")
        .and_then(Value::as_str)
        .and_then(MemberRole::parse)
        .ok_or_else(|| {
            AppError::Validation(ValidationError {
                field: "role",
                message: "role must be \"editor\" or \"viewer\"".into(),
            })
        })
}

/// `PUT /lists/{id}/members/{username}`: adds a member or changes their role (the owner only).
#[utoipa::path(put, path = "/lists/{list}/members/{username}", tag = "lists", operation_id = "put_member",
    params(("list" = i32, Path, description = "The list's id."),
        ("username" = String, Path, description = "Who to add, or whose role to change.")),
    request_body = MemberFields,
    responses(
        (status = 201, description = "Added.", body = crate::models::Member),
        (status = 200, description = "Already a member: their role is now this one.", body = crate::models::Member),
        super::described::Refusals, super::described::BodyRefusals,
    ))]
pub async fn put_member(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    path: web::Path<MemberPath>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let body = Body::read(&req, &body)?;
    let role = member_role(&body)?;
    let MemberPath { list, username } = path.into_inner();
    let answer = store
        .write_list(
            caller,
            Target::List(list),
            Need::Own,
            None,
            json_refusal,
            move |conn, _, access| {
                let list = &visible(access)?.list;
                let user = User::find_by_name(conn, &username)?
                    .ok_or_else(|| AppError::NotFound(format!("there is no user {username:?}")))?;
                if Some(user.id) == list.owner_id {
                    return Err(AppError::Validation(ValidationError {
                        field: "username",
                        message: format!(
                            "{} owns “{}”: an owner has no role to give",
                            user.username, list.title
                        ),
                    }));
                }
                let added = List::put_member(conn, list.id, user.id, role, crate::auth::now())?;
                let status = if added {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                Answer::new(status).json(&crate::models::Member {
                    username: user.username,
                    role: match role {
                        MemberRole::Editor => Role::Editor,
                        MemberRole::Viewer => Role::Viewer,
                    },
                })
            },
        )
        .await?;
    Ok(json_response(answer))
}

/// `DELETE /lists/{id}/members/{username}`: the owner removes anyone; a member leaves.
#[utoipa::path(delete, path = "/lists/{list}/members/{username}", tag = "lists", operation_id = "remove_member",
    params(("list" = i32, Path, description = "The list's id."),
        ("username" = String, Path, description = "Who to remove: anyone for the owner, yourself for a member.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 422, description = "The owner cannot leave their own list.", body = crate::error::ErrorBody),
        super::described::Refusals,
    ))]
pub async fn remove_member(
    store: web::Data<Store>,
    caller: Caller,
    path: web::Path<MemberPath>,
) -> Result<HttpResponse, AppError> {
    let MemberPath { list, username } = path.into_inner();
    let answer = store
        .write_list(
            caller,
            Target::List(list),
            Need::Read,
            None,
            json_refusal,
            move |conn, who, access| {
                let visible = visible(access)?;
                let list = &visible.list;
                let user = User::find_by_name(conn, &username)?
                    .ok_or_else(|| AppError::NotFound(format!("there is no user {username:?}")))?;
                let yourself = Some(user.id) == who.user_id();
                if !yourself && access.role != Role::Owner {
                    return Err(crate::lists::ListError::OwnerOnly {
                        title: list.title.clone(),
                        what: "remove other people from it",
                    }
                    .into());
                }
                if Some(user.id) == list.owner_id {
                    return Err(AppError::Validation(ValidationError {
                        field: "username",
                        message: format!(
                            "{} owns “{}” and cannot leave it; delete the list instead",
                            user.username, list.title
                        ),
                    }));
                }
                if List::remove_member(conn, list.id, user.id)? {
                    Ok(Answer::new(StatusCode::NO_CONTENT))
                } else {
                    Err(AppError::NotFound(format!(
                        "{} is not on “{}”",
                        user.username, list.title
                    )))
                }
            },
        )
        .await?;
    Ok(json_response(answer))
}
