//! `/todos`: the collection and single todos, as Backbone.sync and Todo-Backend clients use them.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{collection_url, with_connection};
use crate::db::DbPool;
use crate::error::AppError;
use crate::models::{NewTodo, Todo, TodoChanges};

type JsonObject = web::Json<Map<String, Value>>;

pub async fn list(req: HttpRequest, pool: web::Data<DbPool>) -> Result<HttpResponse, AppError> {
    let todos = with_connection(&pool, Todo::all).await?;
    let base = collection_url(&req);
    let body: Vec<_> = todos.iter().map(|todo| todo.to_json(&base)).collect();
    Ok(HttpResponse::Ok().json(body))
}

pub async fn create(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    body: JsonObject,
) -> Result<HttpResponse, AppError> {
    let new = NewTodo::from_json(&body)?;
    let todo = with_connection(&pool, move |conn| Todo::create(conn, new)).await?;
    let json = todo.to_json(&collection_url(&req));
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, json.url.as_str()))
        .json(json))
}

pub async fn get(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let todo = with_connection(&pool, move |conn| Todo::find(conn, id))
        .await?
        .ok_or_else(|| AppError::todo_not_found(id))?;
    Ok(HttpResponse::Ok().json(todo.to_json(&collection_url(&req))))
}

/// PUT and PATCH alike: only the known fields present in the body change.
pub async fn update(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    id: web::Path<i32>,
    body: JsonObject,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let changes = TodoChanges::from_json(&body)?;
    let todo = with_connection(&pool, move |conn| Todo::update(conn, id, &changes))
        .await?
        .ok_or_else(|| AppError::todo_not_found(id))?;
    Ok(HttpResponse::Ok().json(todo.to_json(&collection_url(&req))))
}

pub async fn delete(pool: web::Data<DbPool>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    if with_connection(&pool, move |conn| Todo::delete(conn, id)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::todo_not_found(id))
    }
}

#[derive(Debug, Deserialize)]
pub struct DeleteAllQuery {
    /// `true` clears completed todos, `false` active ones; absent clears all.
    completed: Option<bool>,
}

pub async fn delete_all(
    pool: web::Data<DbPool>,
    query: web::Query<DeleteAllQuery>,
) -> Result<HttpResponse, AppError> {
    let completed = query.completed;
    with_connection(&pool, move |conn| Todo::delete_all(conn, completed)).await?;
    Ok(HttpResponse::NoContent().finish())
}
