//! `GET /`: the page, rendered on the server with the current todos.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::account::to_sign_in;
use super::cache::{ListCache, Representation, SharedBody};
use super::todos::list_json;
use super::{collection_url, rendered_list};
use crate::auth::{Caller, Identity};
use crate::db::DbPool;
use crate::error::AppError;
use crate::models::Todo;

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    todos: &'a [Todo],
    remaining: usize,
    completed: usize,
    /// The todos as JSON for the front-end, safe to place inside a `<script>` element.
    todos_json: String,
    /// Who is signed in; `None` in open mode.
    username: Option<&'a str>,
    /// The list's change number the page shows: its live updates start after it.
    change: i64,
}

/// The page for the signed-in user; without a valid session, the sign-in page instead.
pub async fn index(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    cache: web::Data<ListCache>,
    caller: Result<Caller, AppError>,
) -> Result<HttpResponse, AppError> {
    let base = collection_url(&req);
    let html = match caller {
        Ok(caller) => {
            rendered_list(
                &pool,
                &cache,
                caller,
                Representation::Page,
                base,
                render_page,
            )
            .await
        }
        Err(err) => Err(err),
    };
    let html = match html {
        Ok(html) => html,
        Err(AppError::Unauthorized(_)) => return Ok(to_sign_in(&req)),
        Err(err) => return Err(err),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The page shows live data: always ask the server again.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(SharedBody::new(html)))
}

fn render_page(
    todos: &[Todo],
    change: i64,
    base: &str,
    identity: &Identity,
) -> Result<Vec<u8>, AppError> {
    let json = String::from_utf8(list_json(todos, base)?)
        .map_err(|err| AppError::Internal(err.to_string()))?;
    let completed = todos.iter().filter(|todo| todo.completed).count();
    let page = IndexPage {
        remaining: todos.len() - completed,
        completed,
        todos,
        todos_json: script_safe_json(&json),
        username: identity.user.as_ref().map(|user| user.username.as_str()),
        change,
    };
    page.render()
        .map(String::into_bytes)
        .map_err(|err| AppError::Internal(format!("rendering the page: {err}")))
}

/// JSON that cannot end its `<script>` element early or open a comment: `<`, `>` and `&` only occur
/// inside JSON strings, where their `\uXXXX` escapes mean the same.
fn script_safe_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::script_safe_json;

    #[test]
    fn escaped_json_still_parses_to_the_same_value() {
        let original = serde_json::json!([{"title": "</script><!-- & -->"}]);
        let escaped = script_safe_json(&original.to_string());
        assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('&'));
        let parsed: serde_json::Value = serde_json::from_str(&escaped).expect("valid JSON");
        assert_eq!(parsed, original);
    }
}
