//! A caller's list as a GET gets it, page or JSON: the kept rendering while it is current, else read
//! and rendered and kept; 304 for a tag the client has; headers that keep it per user.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::cache::{ListCache, Rendered, Representation, SharedBody, list_etag, none_match_hits};
use super::encoding::{Coding, LIST_QUALITY};
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

/// A list as a GET gets it, in the coding the request accepts: rendered, or not modified since
/// the tag the client has (the identity tag; the answer tags it for the coding).
pub enum Listed {
    Fresh(Rendered, Coding),
    NotModified(String, Coding),
}

/// A user's list, as a page or JSON: kept by no shared cache, revalidated by the browser before
/// every use, and told apart by the credential it was asked with and the codings it accepts.
pub const PER_USER: ((header::HeaderName, &str), (header::HeaderName, &str)) = (
    (header::CACHE_CONTROL, "private, no-cache"),
    (header::VARY, "Cookie, Authorization, Accept-Encoding"),
);

/// Bodies up to this size are compressed on the worker that first asks (a page of 1,000 todos
/// in a few milliseconds); larger ones on the blocking pool.
const COMPRESS_INLINE_BYTES: usize = 256 * 1024;

impl Listed {
    /// 200 with the body (`content_type`), compressed as the request accepts, and the tag of that
    /// form; or 304 with the tag alone.
    pub async fn into_response(self, content_type: &str) -> Result<HttpResponse, AppError> {
        match self {
            Listed::Fresh(rendered, coding) => {
                let body = match rendered.compressed.made(coding) {
                    Some(made) => made,
                    None if rendered.body.len() <= COMPRESS_INLINE_BYTES => rendered
                        .compressed
                        .get(coding, &rendered.body, LIST_QUALITY),
                    None => {
                        let (compressed, identity) =
                            (rendered.compressed.clone(), rendered.body.clone());
                        web::block(move || compressed.get(coding, &identity, LIST_QUALITY))
                            .await
                            .map_err(AppError::internal)?
                    }
                };
                let mut response = HttpResponse::Ok();
                response
                    .content_type(content_type)
                    .insert_header((header::ETAG, coding.tag(&rendered.etag)))
                    .insert_header(PER_USER.0)
                    .insert_header(PER_USER.1);
                if let Some(token) = coding.token() {
                    response.insert_header((header::CONTENT_ENCODING, token));
                }
                Ok(response.body(SharedBody::new(body)))
            }
            Listed::NotModified(etag, coding) => Ok(HttpResponse::NotModified()
                .insert_header((header::ETAG, coding.tag(&etag)))
                .insert_header(PER_USER.0)
                .insert_header(PER_USER.1)
                .finish()),
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
    request: (Representation, String, Option<String>, Coding),
    render: Render,
) -> Result<Listed, AppError> {
    let (representation, base, if_none_match, coding) = request;
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
        return Ok(answer_kept(rendered, if_none_match.as_deref(), coding));
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
                return Ok(answer_kept(rendered, if_none_match.as_deref(), coding));
            }
            if let Some(tags) = &if_none_match {
                let etag = list_etag(Change::list_state(conn, key.2)?, &key);
                if none_match_hits(tags, &coding.tag(&etag)) {
                    kept_lists("not_modified");
                    return Ok(Listed::NotModified(etag, coding));
                }
            }
            let _rendering = cache.rendering();
            // Whoever held the lock before may have rendered this very generation.
            let generation = Todo::generation(conn)?;
            if let Some(rendered) = cache.get(&key, generation) {
                return Ok(answer_kept(rendered, if_none_match.as_deref(), coding));
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
                compressed: std::sync::Arc::default(),
            };
            cache.put(key, generation, rendered.clone());
            Ok::<_, AppError>(Listed::Fresh(rendered, coding))
        })
        .await
}

/// A kept rendering, or 304 when the client has the tag of its form in `coding`.
fn answer_kept(rendered: Rendered, if_none_match: Option<&str>, coding: Coding) -> Listed {
    if if_none_match.is_some_and(|tags| none_match_hits(tags, &coding.tag(&rendered.etag))) {
        kept_lists("not_modified");
        Listed::NotModified(rendered.etag, coding)
    } else {
        kept_lists("hit");
        Listed::Fresh(rendered, coding)
    }
}
