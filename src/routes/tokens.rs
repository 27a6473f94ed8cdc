//! `/tokens`: a signed-in user's personal API tokens, for programs that send
//! `Authorization: Bearer <token>`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::auth::{self, Caller, Identity, SignedIn};
use crate::error::AppError;
use crate::idempotency::Answer;
use crate::models::{ApiToken, MAX_TOKEN_NAME_CHARS, TokenId, ValidationError};
use crate::store::Store;

/// The signed-in user; open mode has no users, and so no tokens.
fn user(identity: &Identity) -> Result<&SignedIn, AppError> {
    identity.user.as_ref().ok_or_else(|| {
        AppError::NotFound("there are no API tokens: this server runs without accounts".into())
    })
}

/// The optional `name`, from a JSON object or a urlencoded form (or no body at all).
fn token_name(req: &HttpRequest, body: &[u8]) -> Result<String, AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let name = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map_err(|err| AppError::BadRequest(format!("the form could not be read: {err}")))?
            .into_iter()
            .find(|(key, _)| key == "name")
            .map(|(_, name)| Value::String(name))
    } else if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(body).map_err(|err| {
            AppError::BadRequest(format!("the request body is not valid JSON: {err}"))
        })?;
        match value {
            // `null`: no fields, as no body at all.
            Value::Null => None,
            Value::Object(mut object) => object.remove("name"),
            _ => {
                return Err(AppError::BadRequest(
                    "the request body must be a JSON object".into(),
                ));
            }
        }
    } else {
        return Err(AppError::UnsupportedMediaType);
    };
    let invalid = |message: String| {
        AppError::Validation(ValidationError {
            field: "name",
            message,
        })
    };
    let name = match name {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(name)) => name.trim().to_owned(),
        Some(_) => return Err(invalid("name must be a string".into())),
    };
    let length = name.chars().count();
    if length > MAX_TOKEN_NAME_CHARS {
        return Err(invalid(format!(
            "name must be at most {MAX_TOKEN_NAME_CHARS} characters long, not {length}"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("name must not contain control characters".into()));
    }
    Ok(name)
}

/// A new token's name, as JSON or a urlencoded form (or no body at all).
#[derive(Debug, utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "a description of the body; the body is read by `token_name`"
)]
pub struct NewTokenFields {
    /// At most 100 characters, no control characters.
    #[schema(max_length = 100, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    name: Option<String>,
}

/// A new token, with its secret: shown this once, never stored.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NewToken {
    #[schema(value_type = i32)]
    pub id: TokenId,
    pub name: String,
    /// Send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
}

/// `POST /tokens`: 201 with the new token, whose secret is shown this once.
#[utoipa::path(post, path = "/tokens", tag = "tokens",
    request_body(content = Option<NewTokenFields>, content_type = "application/json",
        description = "Optional; a urlencoded form with `name` works too."),
    responses(
        (status = 201, description = "The new token, its secret shown this once.", body = NewToken),
        super::described::Refusals, super::described::BodyRefusals,
    ))]
pub async fn create(
    req: HttpRequest,
    store: web::Data<Store>,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let name = token_name(&req, &body)?;
    let answer = store
        .write(caller, None, move |conn, who| {
            let user = user(who)?;
            let (record, secret) = auth::create_api_token(conn, user.id, &name)?;
            Answer::new(StatusCode::CREATED)
                .header(header::CACHE_CONTROL.as_str(), "no-store")
                .json(&NewToken {
                    id: record.id,
                    name: record.name,
                    token: secret,
                    created_at: record.created_at,
                })
        })
        .await?;
    Ok(answer.into_response())
}

/// `GET /tokens`: the caller's tokens, without their secrets.
#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses(
        (status = 200, description = "The caller's tokens, never their secrets.",
            body = Vec<crate::models::ApiToken>),
        super::described::Refusals,
    ))]
pub async fn list(store: web::Data<Store>, caller: Caller) -> Result<HttpResponse, AppError> {
    let tokens = store
        .read(caller, move |conn, who| {
            let user = user(who)?;
            ApiToken::list(conn, user.id).map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// `DELETE /tokens/{id}`: 204; a token that is not the caller's is 404, like a missing one.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens",
    params(("id" = i32, Path, description = "The token's id.")),
    responses(
        (status = 204, description = "Revoked: it works nowhere from now on."),
        super::described::Refusals,
    ))]
pub async fn revoke(
    store: web::Data<Store>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let raw = id.into_inner();
    let not_found = || AppError::NotFound(format!("there is no API token with id {raw}"));
    let id: TokenId = raw.parse().map_err(|_| not_found())?;
    let answer = store
        .write(caller, None, move |conn, who| {
            let user = user(who)?;
            if ApiToken::revoke(conn, user.id, id)? {
                Ok(Answer::new(StatusCode::NO_CONTENT))
            } else {
                Err(AppError::NotFound(format!(
                    "there is no API token with id {id}"
                )))
            }
        })
        .await?;
    Ok(answer.into_response())
}
