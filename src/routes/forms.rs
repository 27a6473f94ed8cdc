//! The page's forms: every TodoMVC action without JavaScript. Each posts to the server, which
//! answers `303 See Other` back to the page it came from (Post/Redirect/Get), or with the page
//! again and a message: a refused title next to its field with the text kept, a stale form with
//! the todo as it is now. They go through the same model functions, validation, list scope and
//! versions as the JSON API; a form without a session goes to the sign-in page.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::account::to_sign_in_then;
use super::form_actions::{self as actions, Action, Doer, Fields, Outcome};
use super::listing::PER_USER;
use super::other_method;
use super::page::{self, PageBase};
use super::request::collection_url;
use crate::auth::{Auth, Caller, token};
use crate::error::AppError;
use crate::idempotency::Answer;
use crate::lists::{ListError, Need, Target};
use crate::models::{TodoId, UndoRecord};
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The default list's forms at the root, and every list's under `/lists/{list}`.
    for base in ["", "/lists/{list}"] {
        cfg.service(form(format!("{base}/add"), actions::add))
            .service(form(format!("{base}/toggle-all"), actions::toggle_all))
            .service(form(
                format!("{base}/clear-completed"),
                actions::clear_completed,
            ))
            .service(form(format!("{base}/undo"), actions::undo))
            .service(form(format!("{base}/todos/{{id}}/toggle"), actions::toggle))
            .service(form(format!("{base}/todos/{{id}}/edit"), actions::edit))
            .service(form(format!("{base}/todos/{{id}}/delete"), actions::delete))
            .service(
                // One path, two doors: the API's JSON move, and the page's form.
                web::resource(format!("{base}/todos/{{id}}/move"))
                    .route(
                        web::post()
                            .guard(actix_web::guard::fn_guard(is_json))
                            .to(super::order::move_todo),
                    )
                    .route(form_route(actions::move_todo))
                    .default_service(other_method("POST")),
            );
    }
}

/// Whether a request's body is JSON (else it is taken for a form).
fn is_json(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.header::<header::ContentType>().is_some_and(|kind| {
        let kind = kind.0;
        kind.subtype() == mime::JSON || kind.suffix() == Some(mime::JSON)
    })
}

pub type Handler = fn(&Fields, Option<TodoId>) -> Action;

pub use super::form_actions::sentence;

fn form(path: String, handler: Handler) -> actix_web::Resource {
    web::resource(path)
        .route(form_route(handler))
        .default_service(other_method("POST"))
}

/// A form's route: the page's POST, run by `submit`.
fn form_route(handler: Handler) -> actix_web::Route {
    web::post().to(
        move |req: HttpRequest,
              store: web::Data<Store>,
              caller: Result<Caller, AppError>,
              target: Target,
              fields: web::Form<HashMap<String, String>>| {
            submit(
                req,
                store,
                (caller, target),
                Fields(fields.into_inner()),
                handler,
            )
        },
    )
}

/// Runs the form's action on the one road for writes (see `store`): 303 back to the page, or the
/// page again, rendered in the same transaction, with what went wrong.
async fn submit(
    req: HttpRequest,
    store: web::Data<Store>,
    (caller, target): (Result<Caller, AppError>, Target),
    fields: Fields,
    handler: Handler,
) -> Result<HttpResponse, AppError> {
    let filter = fields.filter();
    let id = req.match_info().get("id").map(str::parse::<TodoId>);
    let id = match id {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Err(AppError::todo_not_found(req.match_info().query("id"))),
        None => None,
    };
    let action = handler(&fields, id);
    let base = collection_url(&req);
    let back = PageBase::of_target(target).at(filter);
    let caller = match caller {
        Ok(caller) => caller,
        Err(AppError::Unauthorized(_)) => return Ok(to_sign_in_then(&req, &back)),
        Err(err) => return Err(err),
    };
    let to = back.clone();
    let auth = req.app_data::<web::Data<Auth>>().cloned();
    let answer = store
        .write_list(
            caller,
            target,
            Need::Write,
            None,
            refused_page,
            move |conn, identity, access| match action(conn, access, &Doer(identity.user_id()))? {
                Outcome::Done(None) => Ok(see_other(&to)),
                Outcome::Done(Some(undo)) => {
                    let Some(auth) = auth else {
                        return Ok(see_other(&to));
                    };
                    let token = token::generate("").map_err(AppError::internal)?;
                    let who = (access.scope, identity.user_id());
                    UndoRecord::keep(conn, who, &token::hash(&token), &undo, crate::auth::now())?;
                    Ok(see_other(&to).header(
                        header::SET_COOKIE.as_str(),
                        auth.undo_cookie(token).to_string(),
                    ))
                }
                Outcome::Again(status, state) => {
                    let html = page::render_current(conn, (identity, access), &base, &state)?;
                    page_answer(status, html)
                }
            },
        )
        .await;
    match answer {
        Ok(answer) => Ok(answer.into_response()),
        Err(AppError::Unauthorized(_)) => Ok(to_sign_in_then(&req, &back)),
        Err(err) => Err(err),
    }
}

/// 303 to `location`, which no cache keeps.
pub fn see_other(location: &str) -> Answer {
    Answer::new(StatusCode::SEE_OTHER)
        .header(header::LOCATION.as_str(), location)
        .header(header::CACHE_CONTROL.as_str(), "no-store")
}

#[derive(askama::Template)]
#[template(path = "refused.html")]
struct RefusedPage<'a> {
    heading: &'a str,
    message: &'a str,
}

/// A form the lists service refused (a viewer's, or one for a list the caller is not on): a page
/// that says why, with the refusal's status.
pub fn refused_page(refused: &ListError) -> Answer {
    let status = refused.status();
    let heading = if status == StatusCode::NOT_FOUND {
        "No such list"
    } else {
        "Not allowed"
    };
    message_page(status, heading, refused.to_string())
}

/// A page that says why a form was not done, with `status`.
pub fn message_page(status: StatusCode, heading: &str, message: String) -> Answer {
    let body = askama::Template::render(&RefusedPage {
        heading,
        message: &message,
    })
    .unwrap_or(message);
    let mut answer = Answer::new(status)
        .header(header::CONTENT_TYPE.as_str(), "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL.as_str(), "no-store");
    answer.body = body;
    answer
}

/// The page again, as `index::page_response` answers it.
pub fn page_answer(status: StatusCode, html: web::Bytes) -> Result<Answer, AppError> {
    let mut answer = Answer::new(status)
        .header(header::CONTENT_TYPE.as_str(), "text/html; charset=utf-8")
        .header(PER_USER.0.0.as_str(), PER_USER.0.1)
        .header(PER_USER.1.0.as_str(), PER_USER.1.1);
    answer.body = String::from_utf8(Vec::from(html)).map_err(AppError::internal)?;
    Ok(answer)
}
