//! The page's forms for lists themselves, without JavaScript: a new list (`POST /lists` with a
//! form body, see `lists::create`), rename and delete. Each answers 303, or the page again with
//! the message and what was typed (422), or a page that says why it was refused (403, 404, 409).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::account::to_sign_in_then;
use super::forms::{message_page, page_answer, refused_page, see_other, sentence};
use super::index::page_response;
use super::page::{self, PageState};
use super::request::{ListPath, origin_url};
use crate::auth::Caller;
use crate::error::AppError;
use crate::lists::{Need, Target};
use crate::models::parse_list_title;
use crate::store::Store;

type Fields = web::Form<HashMap<String, String>>;

/// A new list's form refused: the caller's default page again, with the message by the field and
/// the title as typed (422).
pub async fn new_list_refused(
    req: &HttpRequest,
    store: &Store,
    caller: Caller,
    (typed, message): (String, String),
) -> Result<HttpResponse, AppError> {
    let todos_url = format!("{}/todos/", origin_url(req));
    let html = store
        .read_list(
            caller,
            Target::Default,
            Need::Read,
            move |conn, who, access| {
                let state = PageState {
                    new_list: Some((typed, sentence(&message))),
                    ..PageState::default()
                };
                page::render_current(conn, (who, access), &todos_url, &state)
            },
        )
        .await?;
    Ok(page_response(StatusCode::UNPROCESSABLE_ENTITY, html))
}

/// `POST /lists/{id}/rename` (`title`): the owner renames the list; 303 back to its page.
pub async fn rename(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<ListPath>,
    fields: Fields,
) -> Result<HttpResponse, AppError> {
    let list = path.list;
    let back = format!("/lists/{list}");
    let caller = match caller {
        Ok(caller) => caller,
        Err(AppError::Unauthorized(_)) => return Ok(to_sign_in_then(&req, &back)),
        Err(err) => return Err(err),
    };
    let typed = fields.get("title").cloned().unwrap_or_default();
    let title = parse_list_title(Some(&Value::String(typed.clone())));
    let todos_url = format!("{}/lists/{list}/todos/", origin_url(&req));
    let answer = store
        .write_list(
            caller,
            Target::List(list),
            Need::Own,
            None,
            refused_page,
            move |conn, who, access| match title {
                Ok(title) => {
                    crate::models::List::rename(conn, list, &title)?;
                    Ok(see_other(&back))
                }
                Err(invalid) => {
                    let state = PageState {
                        rename: Some((typed, sentence(&invalid.message))),
                        ..PageState::default()
                    };
                    let html = page::render_current(conn, (who, access), &todos_url, &state)?;
                    page_answer(StatusCode::UNPROCESSABLE_ENTITY, html)
                }
            },
        )
        .await?;
    Ok(answer.into_response())
}

/// `POST /lists/{id}/delete`: the owner deletes the list and its todos; 303 to the default list.
/// The default list stays (409, with a page that says so).
pub async fn delete(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Result<Caller, AppError>,
    path: web::Path<ListPath>,
) -> Result<HttpResponse, AppError> {
    let list = path.list;
    let caller = match caller {
        Ok(caller) => caller,
        Err(AppError::Unauthorized(_)) => {
            return Ok(to_sign_in_then(&req, &format!("/lists/{list}")));
        }
        Err(err) => return Err(err),
    };
    let answer = store
        .write_list(
            caller,
            Target::List(list),
            Need::Own,
            None,
            refused_page,
            move |conn, _, access| {
                let visible = access.list.as_ref().ok_or_else(|| {
                    AppError::internal("a named list was checked without reading it")
                })?;
                if visible.list.is_default {
                    return Ok(message_page(
                        StatusCode::CONFLICT,
                        "Not deleted",
                        format!(
                            "“{}” is your default list, which cannot be deleted.",
                            visible.list.title
                        ),
                    ));
                }
                crate::models::List::delete(conn, list)?;
                Ok(see_other("/"))
            },
        )
        .await?;
    Ok(answer.into_response())
}
