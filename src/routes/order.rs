//! Moving a todo (`POST /todos/{id}/move`, JSON) and restoring a deleted one (`PUT /todos/{id}`
//! with `If-None-Match: *`): the API's side of putting todos in order and of undo.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::request::{TodoPath, collection_url};
use super::todo_json::{
    canonical, etag, expected_versions, idempotency_key, refused as stale_or_missing, todo_answer,
};
use crate::auth::Caller;
use crate::error::AppError;
use crate::lists::{Need, Target};
use crate::models::{
    MoveOutcome, MoveTo, NewTodo, RestoreOutcome, Todo, TodoId, ValidationError, WriteOutcome,
};
use crate::store::{Store, json_refusal};

/// Whether a request is a restore: `If-None-Match: *`, "only if there is no such todo".
pub fn is_restore(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == "*")
}

/// The answer to a move the model could not make.
pub fn move_refused(outcome: MoveOutcome, id: TodoId, base: &str) -> Result<Todo, AppError> {
    match outcome {
        MoveOutcome::Done(todo) => Ok(todo),
        MoveOutcome::NoNeighbour(after) => Err(ValidationError::new(
            "after",
            format!("there is no other todo with id {after} in this list to follow"),
        )
        .into()),
        other => stale_or_missing(WriteOutcome::from(other), id, base),
    }
}

/// `POST /todos/{id}/move`: puts the todo just after another, or first.
#[utoipa::path(post, path = "/todos/{id}/move", tag = "todos",
    params(("id" = i32, Path, description = "The todo's id."),
        super::described::IfMatch, super::described::IdempotencyKey),
    request_body = crate::models::MoveFields,
    responses(
        (status = 200, description = "Moved: its `order` now lies between its new neighbours'. \
            (When they were too close, the whole list was renumbered in the same order.)",
            body = crate::models::TodoJson<'static>,
            headers(("ETag" = String, description = "Its new version."))),
        (status = 412, description = "`If-Match` names a version the todo no longer has: it did \
            not move, and `current` holds it as it is.", body = crate::error::ErrorBody,
            headers(("ETag" = String, description = "Its current version."))),
        super::described::Refusals, super::described::BodyRefusals, super::described::KeyRefusals,
    ))]
pub async fn move_todo(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    target: Target,
    path: web::Path<TodoPath>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let id = path.id;
    let to = MoveTo::from_json(&body)?;
    let expected = expected_versions(&req);
    let key = idempotency_key(&req, &canonical(&body))?;
    let base = collection_url(&req);
    let answer = store
        .write_list(
            caller,
            target,
            Need::Write,
            key,
            json_refusal,
            move |conn, _, list| {
                let outcome =
                    Todo::move_after(conn, list.scope, id, to.after, expected.as_deref())?;
                todo_answer(StatusCode::OK, &move_refused(outcome, id, &base)?, &base)
            },
        )
        .await?;
    Ok(answer.into_response())
}

/// `PUT /todos/{id}` with `If-None-Match: *`: a todo deleted from this list comes back with its
/// id and the fields sent (`title` required), as undo does.
pub async fn restore(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    target: Target,
    id: TodoId,
    body: Map<String, Value>,
) -> Result<HttpResponse, AppError> {
    let new = NewTodo::from_json(&body)?;
    let key = idempotency_key(&req, &canonical(&body))?;
    let base = collection_url(&req);
    let answer =
        store
            .write_list(
                caller,
                target,
                Need::Write,
                key,
                json_refusal,
                move |conn, _, list| match Todo::restore(conn, list.scope, id, new)? {
                    RestoreOutcome::Done(todo) => {
                        let location = todo.to_json(&base).url;
                        Ok(todo_answer(StatusCode::CREATED, &todo, &base)?
                            .header("location", location))
                    }
                    RestoreOutcome::Exists(todo) => Err(AppError::Exists {
                        id: id.to_string(),
                        etag: etag(&todo),
                        current: serde_json::to_value(todo.to_json(&base)).unwrap_or_default(),
                    }),
                    RestoreOutcome::Unknown => Err(AppError::NotFound(format!(
                        "todo {id} was not deleted from this list, or was deleted too long ago to \
                     restore"
                    ))),
                },
            )
            .await?;
    Ok(answer.into_response())
}
