//! The page's forms: every TodoMVC action without JavaScript. Each posts to the server, which
//! answers `303 See Other` back to the page it came from (Post/Redirect/Get), or with the page
//! again and a message: a refused title next to its field with the text kept, a stale form with
//! the todo as it is now. They go through the same model functions, validation, list scope and
//! versions as the JSON API; a form without a session goes to the sign-in page.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::account::to_sign_in_then;
use super::filter::Filter;
use super::listing::PER_USER;
use super::other_method;
use super::page::{self, Editing, PageBase, PageState};
use super::request::collection_url;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::idempotency::Answer;
use crate::lists::{Access, ListError, Need, Target};
use crate::models::{NewTodo, Todo, TodoChanges, TodoId, WriteOutcome};
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The default list's forms at the root, and every list's under `/lists/{list}`.
    for base in ["", "/lists/{list}"] {
        cfg.service(form(format!("{base}/add"), add))
            .service(form(format!("{base}/toggle-all"), toggle_all))
            .service(form(format!("{base}/clear-completed"), clear_completed))
            .service(form(format!("{base}/todos/{{id}}/toggle"), toggle))
            .service(form(format!("{base}/todos/{{id}}/edit"), edit))
            .service(form(format!("{base}/todos/{{id}}/delete"), delete));
    }
}

type Handler = fn(&Fields, Option<TodoId>) -> Action;

fn form(path: String, handler: Handler) -> actix_web::Resource {
    web::resource(path)
        .route(web::post().to(
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
        ))
        .default_service(other_method("POST"))
}

/// A form's fields, by name.
pub struct Fields(HashMap<String, String>);

impl Fields {
    fn text(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    fn filter(&self) -> Filter {
        Filter::named(self.text("filter"))
    }

    /// The version the form was rendered with: writes are conditional on it, as with If-Match.
    fn version(&self) -> Option<Vec<i32>> {
        self.text("version")
            .parse()
            .ok()
            .map(|version| vec![version])
    }

    fn flag(&self, name: &str) -> bool {
        self.text(name) == "true"
    }
}

/// What a form does, on the caller's connection, to the list the caller may write.
type Action = Box<dyn FnOnce(&mut DbConnection, &Access) -> Result<Outcome, AppError> + Send>;

/// Done (back to the page), or the page again with a status and what to show.
enum Outcome {
    Done,
    Again(StatusCode, Box<PageState>),
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
    let answer = store
        .write_list(
            caller,
            target,
            Need::Write,
            None,
            refused_page,
            move |conn, identity, access| match action(conn, access)? {
                Outcome::Done => Ok(see_other(&to)),
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

fn title_body(title: &str) -> Map<String, Value> {
    Map::from_iter([("title".to_owned(), Value::String(title.to_owned()))])
}

/// A sentence from a model's message: "title must not be empty" reads "Title must not be empty."
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str())
    })
}

fn notice(filter: Filter, status: StatusCode, message: String) -> Outcome {
    Outcome::Again(
        status,
        Box::new(PageState {
            filter,
            notice: Some(message),
            ..PageState::default()
        }),
    )
}

fn add(fields: &Fields, _: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let typed = fields.text("title").to_owned();
    Box::new(
        move |conn, who| match NewTodo::from_json(&title_body(&typed)) {
            Ok(new) => {
                Todo::create(conn, who.scope, new)?;
                Ok(Outcome::Done)
            }
            Err(invalid) => Ok(Outcome::Again(
                StatusCode::UNPROCESSABLE_ENTITY,
                Box::new(PageState {
                    filter,
                    new_todo: Some((typed, sentence(&invalid.message))),
                    ..PageState::default()
                }),
            )),
        },
    )
}

fn toggle(fields: &Fields, id: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let expected = fields.version();
    let completed = fields.flag("completed");
    Box::new(move |conn, who| {
        // Every form with an id in its path has one.
        let Some(id) = id else {
            return Ok(gone(filter));
        };
        let changes = TodoChanges::from_json(&Map::from_iter([(
            "completed".to_owned(),
            Value::Bool(completed),
        )]))?;
        Ok(
            match Todo::update(conn, who.scope, id, &changes, expected.as_deref())? {
                WriteOutcome::Done(_) => Outcome::Done,
                WriteOutcome::NotFound => gone(filter),
                WriteOutcome::Stale(now) => notice(
                    filter,
                    StatusCode::PRECONDITION_FAILED,
                    format!(
                        "“{}” was changed elsewhere while this page was open, so nothing was \
                         changed. This is how it is now.",
                        now.title
                    ),
                ),
            },
        )
    })
}

fn gone(filter: Filter) -> Outcome {
    notice(
        filter,
        StatusCode::NOT_FOUND,
        "That todo no longer exists; it was deleted elsewhere.".into(),
    )
}

/// Saves a new title; an empty one deletes the todo, as in TodoMVC.
fn edit(fields: &Fields, id: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let expected = fields.version();
    let typed = fields.text("title").to_owned();
    Box::new(move |conn, who| {
        // Every form with an id in its path has one.
        let Some(id) = id else {
            return Ok(gone(filter));
        };
        let again = |status, title: Option<String>, message: String| {
            Outcome::Again(
                status,
                Box::new(PageState {
                    filter,
                    editing: Some(Editing {
                        id,
                        title,
                        message: Some(message),
                    }),
                    ..PageState::default()
                }),
            )
        };
        let stale = |now: Todo| {
            again(
                StatusCode::PRECONDITION_FAILED,
                None,
                format!(
                    "This todo was changed elsewhere while you edited it: it now reads “{}”. \
                     Your text, “{}”, was not saved.",
                    now.title,
                    typed.trim()
                ),
            )
        };
        if typed.trim().is_empty() {
            return Ok(
                match Todo::delete(conn, who.scope, id, expected.as_deref())? {
                    WriteOutcome::Done(()) | WriteOutcome::NotFound => Outcome::Done,
                    WriteOutcome::Stale(now) => stale(now),
                },
            );
        }
        let changes = match TodoChanges::from_json(&title_body(&typed)) {
            Ok(changes) => changes,
            Err(invalid) => {
                return Ok(again(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(typed.clone()),
                    sentence(&invalid.message),
                ));
            }
        };
        Ok(
            match Todo::update(conn, who.scope, id, &changes, expected.as_deref())? {
                WriteOutcome::Done(_) => Outcome::Done,
                WriteOutcome::NotFound => gone(filter),
                WriteOutcome::Stale(now) => stale(now),
            },
        )
    })
}

fn delete(fields: &Fields, id: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let expected = fields.version();
    Box::new(move |conn, who| {
        // Every form with an id in its path has one.
        let Some(id) = id else {
            return Ok(gone(filter));
        };
        Ok(
            match Todo::delete(conn, who.scope, id, expected.as_deref())? {
                WriteOutcome::Done(()) | WriteOutcome::NotFound => Outcome::Done,
                WriteOutcome::Stale(now) => notice(
                    filter,
                    StatusCode::PRECONDITION_FAILED,
                    format!(
                        "“{}” was changed elsewhere while this page was open, so it was not \
                         deleted. Delete it again if you still want to.",
                        now.title
                    ),
                ),
            },
        )
    })
}

fn toggle_all(fields: &Fields, _: Option<TodoId>) -> Action {
    let completed = fields.flag("completed");
    Box::new(move |conn, who| {
        Todo::complete_all(conn, who.scope, completed)?;
        Ok(Outcome::Done)
    })
}

fn clear_completed(_: &Fields, _: Option<TodoId>) -> Action {
    Box::new(move |conn, who| {
        Todo::delete_all(conn, who.scope, Some(true))?;
        Ok(Outcome::Done)
    })
}
