//! A caller's list as a GET gets it, page or JSON: the kept rendering while it is current, else read
//! and rendered and kept; 304 for a tag the client has; headers that keep it per user.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::cache::{ListCache, Rendered, Representation, SharedBody, list_etag, none_match_hits};
use crate::auth::{Caller, Identity};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::freshness::Freshness;
use crate::lists::{self, Access, Need, Target};
use crate::models::{Change, Todo};
use crate::store::Store;

/// Renders a list for a caller: the todos, the list's change number they are at, the collection
/// URL, who is signed in and what they may do with the list.
type Render = fn(
    &mut DbConnection,
    (&[Todo], i64),
    &str,
    (&Identity, &Access),
    Representation,
) -> Result<Vec<u8>, AppError>;

/// Counts a read of a kept rendering: `hit`, `miss` (read and rendered) or `not_modified`.
fn kept_lists(result: &'static str) {
    metrics::counter!("kept_list_reads_total", "result" => result).increment(1);
}

/// A list as a GET gets it: rendered, or not modified since the tag the client has.
pub enum Listed {
    Fresh(Rendered),
    NotModified(String),
}

/// A user's list, as a page or JSON: kept by no shared cache, revalidated by the browser before
/// every use, and told apart by the credential it was asked with.
pub const PER_USER: ((header::HeaderName, &str), (header::HeaderName, &str)) = (
    (header::CACHE_CONTROL, "private, no-cache"),
    (header::VARY, "Cookie, Authorization"),
);

impl Listed {
    /// 200 with the body (`content_type`) and its ETag, or 304 with the tag alone.
    pub fn into_response(self, content_type: &str) -> HttpResponse {
        match self {
            Listed::Fresh(rendered) => HttpResponse::Ok()
                .content_type(content_type)
                .insert_header((header::ETAG, rendered.etag))
                .insert_header(PER_USER.0)
                .insert_header(PER_USER.1)
                .body(SharedBody::new(rendered.body)),
            Listed::NotModified(etag) => HttpResponse::NotModified()
                .insert_header((header::ETAG, etag))
                .insert_header(PER_USER.0)
                .insert_header(PER_USER.1)
                .finish(),
        }
    }
}

/// Where kept renderings live, and how to tell on this thread that they are current.
pub struct Kept<'a> {
    pub cache: &'a web::Data<ListCache>,
    pub freshness: &'a web::Data<Freshness>,
}

/// The caller's list rendered as `representation` for `base`: the kept copy while the database's
/// generation is unchanged, else read and rendered on the blocking pool, and kept. Concurrent
/// readers share one buffer instead of each holding a copy of the list. A request whose
/// `If-None-Match` names the list's present tag gets `NotModified`.
///
/// When this thread can tell that the kept copy of the caller's default list is current and who
/// the caller is (see `freshness`), it is answered here, without the blocking pool. Any other
/// list is read after the caller's access to it is checked.
pub async fn rendered_list(
    store: &web::Data<Store>,
    kept: Kept<'_>,
    (caller, target): (Caller, Target),
    request: (Representation, String, Option<String>),
    render: Render,
) -> Result<Listed, AppError> {
    let (representation, base, if_none_match) = request;
    let viewer = move |identity: &Identity| match representation {
        Representation::Json => None,
        Representation::Page(_) => identity.user_id(),
    };
    if let Some(generations) = kept.freshness.generations()
        && let Some(identity) = caller.identify_known(generations)
        && let Some(scope) = match target {
            Target::Default => Some(identity.scope),
            Target::List(list) => {
                let user = identity.user_id();
                kept.cache.access(list, user, generations.todos)
            }
        }
        && let Some(rendered) = kept.cache.get(
            &(representation, base.clone(), scope, viewer(&identity)),
            generations.todos,
        )
    {
        return Ok(answer_kept(rendered, if_none_match.as_deref()));
    }
    let cache = kept.cache.clone();
    store
        .read(caller, move |conn, identity| {
            let access = lists::access(conn, identity, target, Need::Read)??;
            let user = identity.user_id();
            cache.keep_access(user, identity.todos_generation, &access);
            let key = (representation, base, access.scope, viewer(identity));
            // The generation was read first, so the list read after it is never older than it.
            if let Some(rendered) = cache.get(&key, identity.todos_generation) {
                return Ok(answer_kept(rendered, if_none_match.as_deref()));
            }
            if let Some(tags) = &if_none_match {
                let etag = list_etag(Change::list_state(conn, key.2)?, &key);
                if none_match_hits(tags, &etag) {
                    kept_lists("not_modified");
                    return Ok(Listed::NotModified(etag));
                }
            }
            let _rendering = cache.rendering();
            // Whoever held the lock before may have rendered this very generation.
            let generation = Todo::generation(conn)?;
            if let Some(rendered) = cache.get(&key, generation) {
                return Ok(answer_kept(rendered, if_none_match.as_deref()));
            }
            kept_lists("miss");
            let (todos, change) = Todo::all_at_change(conn, key.2)?;
            let rendered = Rendered {
                body: web::Bytes::from(render(
                    conn,
                    (&todos, change),
                    &key.1,
                    (identity, &access),
                    representation,
                )?),
                etag: list_etag(change, &key),
            };
            cache.put(key, generation, rendered.clone());
            Ok::<_, AppError>(Listed::Fresh(rendered))
        })
        .await
}

/// A kept rendering, or 304 when the client has its tag.
fn answer_kept(rendered: Rendered, if_none_match: Option<&str>) -> Listed {
    if if_none_match.is_some_and(|tags| none_match_hits(tags, &rendered.etag)) {
        kept_lists("not_modified");
        Listed::NotModified(rendered.etag)
    } else {
        kept_lists("hit");
        Listed::Fresh(rendered)
    }
}
