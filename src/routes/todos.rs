//! `/todos`: the collection and single todos, as Backbone.sync and Todo-Backend clients use them.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::cache::{ListCache, Representation};
use super::encoding::Coding;
use super::listing::{Kept, rendered_list};
use super::request::{TodoPath, collection_url, if_none_match};
use super::todo_json::{canonical, etag, expected_versions, idempotency_key, refused, todo_answer};
use crate::auth::Caller;
use crate::error::AppError;
use crate::freshness::Freshness;
use crate::idempotency::Answer;
use crate::lists::{Need, Target};
use crate::models::{NewTodo, Todo, TodoChanges};
use crate::store::{Store, json_refusal};

type JsonObject = web::Json<Map<String, Value>>;

/// `GET /todos/`: the caller's list, by `order` then `id`.
#[utoipa::path(method(get, head), path = "/todos/", tag = "todos",
    params(("If-None-Match" = Option<String>, Header,
        description = "The list's ETag from an earlier answer: 304 while it is unchanged.")),
    responses(
        (status = 200, description = "The caller's todos.", body = Vec<crate::models::TodoJson<'static>>,
            headers(("ETag" = String, description = "The list's version."))),
        (status = 304, description = "Unchanged since the ETag sent in `If-None-Match`."),
        super::described::Refusals,
    ))]
pub async fn list(
    req: HttpRequest,
    store: web::Data<Store>,
    cache: web::Data<ListCache>,
    freshness: web::Data<Freshness>,
    caller: Caller,
    target: Target,
) -> Result<HttpResponse, AppError> {
    let request = (
        Representation::Json,
        collection_url(&req),
        if_none_match(&req),
        Coding::accepted(&req),
    );
    let kept = Kept {
        cache: &cache,
        freshness: &freshness,
    };
    let listed = rendered_list(
        &store,
        kept,
        (caller, target),
        request,
        |_, (todos, _), base, _, _| Todo::list_json(todos, base).map_err(AppError::internal),
    )
    .await?;
    listed.into_response(mime::APPLICATION_JSON.as_ref()).await
}

/// `POST /todos/`: a new todo at the end of the list (or at `order`).
#[utoipa::path(post, path = "/todos/", tag = "todos",
    params(super::described::IdempotencyKey),
    request_body = crate::models::NewTodoFields,
    responses(
        (status = 201, description = "Created.", body = crate::models::TodoJson<'static>,
            headers(("Location" = String, description = "The new todo's URL."),
                    ("ETag" = String, description = "Its version."))),
        super::described::Refusals, super::described::BodyRefusals, super::described::KeyRefusals,
    ))]
pub async fn create(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    target: Target,
    body: JsonObject,
) -> Result<HttpResponse, AppError> {
    let new = NewTodo::from_json(&body)?;
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
                let todo = Todo::create(conn, list.scope, new)?;
                let location = todo.to_json(&base).url;
                Ok(todo_answer(StatusCode::CREATED, &todo, &base)?.header("location", location))
            },
        )
        .await?;
    Ok(answer.into_response())
}

/// `GET /todos/{id}`: one todo of the caller's list.
#[utoipa::path(method(get, head), path = "/todos/{id}", tag = "todos",
    params(("id" = i32, Path, description = "The todo's id.")),
    responses(
        (status = 200, description = "The todo.", body = crate::models::TodoJson<'static>,
            headers(("ETag" = String, description = "Its version, for `If-Match`."))),
        super::described::Refusals,
    ))]
pub async fn get(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    target: Target,
    path: web::Path<TodoPath>,
) -> Result<HttpResponse, AppError> {
    let id = path.id;
    let todo = store
        .read_list(caller, target, Need::Read, move |conn, _, list| {
            Todo::find(conn, list.scope, id)
        })
        .await?
        .ok_or_else(|| AppError::todo_not_found(id))?;
    Ok(with_todo(HttpResponse::Ok(), &todo, &req))
}

/// The todo as JSON, with its ETag.
fn with_todo(mut response: HttpResponseBuilder, todo: &Todo, req: &HttpRequest) -> HttpResponse {
    response
        .insert_header((header::ETAG, etag(todo)))
        .json(todo.to_json(&collection_url(req)))
}

/// `PUT` and `PATCH /todos/{id}` alike: only the known fields present in the body change. With
/// `If-Match`, only if the todo is still at that version (else 412, and nothing changes). A `PUT`
/// with `If-None-Match: *` restores a todo deleted from the list instead (see `order::restore`).
#[utoipa::path(method(put, patch), path = "/todos/{id}", tag = "todos",
    params(("id" = i32, Path, description = "The todo's id."),
        super::described::IfMatch, super::described::IdempotencyKey,
        ("If-None-Match" = Option<String>, Header, description = "`*` on a `PUT`: restore todo             `id`, deleted from this list, with its id and the fields sent (`title` required).             201 when restored; 412 if it exists; 404 if the list has no record of deleting it.")),
    request_body = crate::models::TodoFields,
    responses(
        (status = 200, description = "Changed.", body = crate::models::TodoJson<'static>,
            headers(("ETag" = String, description = "Its new version."))),
        (status = 201, description = "Restored (`PUT` with `If-None-Match: *`): back under its             id, with a version above any it had.", body = crate::models::TodoJson<'static>,
            headers(("Location" = String, description = "Its URL."),
                    ("ETag" = String, description = "Its version."))),
        (status = 412, description = "`If-Match` names a version the todo no longer has: nothing \
            changed, and `current` holds the todo as it is.", body = crate::error::ErrorBody,
            headers(("ETag" = String, description = "Its current version."))),
        super::described::Refusals, super::described::BodyRefusals, super::described::KeyRefusals,
    ))]
pub async fn update(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    target: Target,
    path: web::Path<TodoPath>,
    body: JsonObject,
) -> Result<HttpResponse, AppError> {
    let id = path.id;
    if req.method() == actix_web::http::Method::PUT && super::order::is_restore(&req) {
        return super::order::restore(req, store, caller, target, id, body.into_inner()).await;
    }
    let changes = TodoChanges::from_json(&body)?;
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
                let outcome = Todo::update(conn, list.scope, id, &changes, expected.as_deref())?;
                todo_answer(StatusCode::OK, &refused(outcome, id, &base)?, &base)
            },
        )
        .await?;
    Ok(answer.into_response())
}

/// With `If-Match`, only if the todo is still at that version (else 412, and nothing changes).
#[utoipa::path(delete, path = "/todos/{id}", tag = "todos",
    params(("id" = i32, Path, description = "The todo's id."),
        super::described::IfMatch, super::described::IdempotencyKey),
    responses(
        (status = 204, description = "Deleted."),
        (status = 412, description = "`If-Match` names a version the todo no longer has: nothing \
            was deleted.", body = crate::error::ErrorBody),
        super::described::Refusals, super::described::KeyRefusals,
    ))]
pub async fn delete(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    target: Target,
    path: web::Path<TodoPath>,
) -> Result<HttpResponse, AppError> {
    let id = path.id;
    let expected = expected_versions(&req);
    let key = idempotency_key(&req, b"")?;
    let base = collection_url(&req);
    let answer = store
        .write_list(
            caller,
            target,
            Need::Write,
            key,
            json_refusal,
            move |conn, _, list| {
                let outcome = Todo::delete(conn, list.scope, id, expected.as_deref())?;
                refused(outcome, id, &base)?;
                Ok(Answer::new(StatusCode::NO_CONTENT))
            },
        )
        .await?;
    Ok(answer.into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteAllQuery {
    /// `true` clears completed todos, `false` active ones; absent clears all.
    completed: Option<bool>,
}

/// `DELETE /todos/`: clears the list, or its completed (`?completed=true`) or active todos.
#[utoipa::path(delete, path = "/todos/", tag = "todos",
    params(DeleteAllQuery, super::described::IdempotencyKey),
    responses(
        (status = 204, description = "Cleared."),
        super::described::Refusals, super::described::KeyRefusals,
    ))]
pub async fn delete_all(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    target: Target,
    query: web::Query<DeleteAllQuery>,
) -> Result<HttpResponse, AppError> {
    let completed = query.completed;
    let key = idempotency_key(&req, b"")?;
    let answer = store
        .write_list(
            caller,
            target,
            Need::Write,
            key,
            json_refusal,
            move |conn, _, list| {
                Todo::delete_all(conn, list.scope, completed)?;
                Ok(Answer::new(StatusCode::NO_CONTENT))
            },
        )
        .await?;
    Ok(answer.into_response())
}
