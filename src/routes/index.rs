//! `GET /`, `/active` and `/completed`: the page, rendered on the server with the current todos;
//! `?edit=ID` shows one todo in its edit view (the no-JavaScript way to edit), and the undo
//! cookie a form action left offers to undo it, once.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::account::to_sign_in;
use super::cache::{ListCache, Representation, SharedBody};
use super::encoding::Coding;
use super::filter::Filter;
use super::listing::{Kept, PER_USER, rendered_list};
use super::page::{self, Editing, PageState};
use super::request::{collection_url, if_none_match};
use crate::auth::{Caller, Identity};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::freshness::Freshness;
use crate::lists::{Access, Need, Target};
use crate::models::{Todo, TodoId};
use crate::store::Store;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    edit: Option<String>,
}

/// The page for the signed-in user; without a valid session, the sign-in page instead.
pub async fn index(
    req: HttpRequest,
    store: web::Data<Store>,
    cache: web::Data<ListCache>,
    freshness: web::Data<Freshness>,
    caller: Result<Caller, AppError>,
    target: Target,
    query: Option<web::Query<PageQuery>>,
) -> Result<HttpResponse, AppError> {
    let path = req.path();
    let filter = if path.ends_with("/active") {
        Filter::Active
    } else if path.ends_with("/completed") {
        Filter::Completed
    } else {
        Filter::All
    };
    let editing = query
        .and_then(|query| query.into_inner().edit)
        .and_then(|id| id.parse::<TodoId>().ok())
        .map(|id| Editing {
            id,
            title: None,
            message: None,
        });
    let auth = req.app_data::<web::Data<crate::auth::Auth>>().cloned();
    let undo_token = auth.as_ref().and_then(|auth| auth.undo_token(&req));
    let state = PageState {
        filter,
        editing,
        undo_token,
        ..PageState::default()
    };
    let offers_undo = state.undo_token.is_some();
    let page = match caller {
        Ok(caller) if state.editing.is_none() && !offers_undo => {
            let request = (
                Representation::Page(filter),
                collection_url(&req),
                if_none_match(&req),
                Coding::accepted(&req),
            );
            let kept = Kept {
                cache: &cache,
                freshness: &freshness,
            };
            match rendered_list(&store, kept, (caller, target), request, render_page).await {
                Ok(listed) => listed.into_response("text/html; charset=utf-8").await,
                Err(err) => Err(err),
            }
        }
        Ok(caller) => fresh_page(&store, (caller, target), collection_url(&req), state)
            .await
            .map(|html| page_response(actix_web::http::StatusCode::OK, html)),
        Err(err) => Err(err),
    };
    // The undo is offered once: the browser forgets its token with this page.
    let page = match (page, auth) {
        (Ok(mut response), Some(auth)) if offers_undo => {
            let removal = auth.undo_removal_cookie();
            response.add_cookie(&removal).map_err(AppError::internal)?;
            Ok(response)
        }
        (page, _) => page,
    };
    match (page, target) {
        (Err(AppError::Unauthorized(_)), Target::Default) => Ok(to_sign_in(&req)),
        (Err(AppError::Unauthorized(_)), Target::List(_)) => {
            Ok(super::account::to_sign_in_then(&req, req.path()))
        }
        // A list the caller is not on does not exist for them: a page that says so.
        (Err(AppError::NotFound(_)), Target::List(id)) => {
            Ok(super::forms::refused_page(&crate::lists::ListError::NotFound(id)).into_response())
        }
        (other, _) => other,
    }
}

/// The page as HTML that no shared cache keeps (it shows one user's live data).
pub fn page_response(status: actix_web::http::StatusCode, html: web::Bytes) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(PER_USER.0)
        .insert_header(PER_USER.1)
        .body(SharedBody::new(html))
}

/// A page with something only this request shows (an edit view, a message): read and rendered
/// now, not kept.
pub async fn fresh_page(
    store: &web::Data<Store>,
    (caller, target): (Caller, Target),
    base: String,
    state: PageState,
) -> Result<web::Bytes, AppError> {
    store
        .read_list(caller, target, Need::Read, move |conn, identity, access| {
            page::render_current(conn, (identity, access), &base, &state)
        })
        .await
}

fn render_page(
    conn: &mut DbConnection,
    (todos, change): (&[Todo], i64),
    base: &str,
    (identity, access): (&Identity, &Access),
    representation: Representation,
) -> Result<Vec<u8>, AppError> {
    let filter = match representation {
        Representation::Page(filter) => filter,
        Representation::Json => Filter::All,
    };
    let state = PageState {
        filter,
        ..PageState::default()
    };
    page::render(conn, (todos, change), base, (identity, access), &state)
}
