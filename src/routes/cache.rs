//! The rendered list (JSON and page), kept and served again while the database's count of changes
//! to the list is the one it was rendered at.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

use sha2::{Digest, Sha256};

use crate::lists::Access;
use crate::models::{ListId, ListScope, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Representation {
    Json,
    /// The page, with the todos of one filter.
    Page(super::filter::Filter),
}

/// What a rendering depends on: its form, the base URL, which list, and (for the page, which shows
/// the viewer's lists and role) who it is for.
pub type ListKey = (Representation, String, ListScope, Option<UserId>);

/// Rendered lists by representation, base URL and list. The base URL comes from the request's
/// Host, so the number of entries is capped.
/// A rendering, its ETag, and its compressed forms (made once, when first asked for, and shared
/// by every copy of it).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub etag: String,
    pub compressed: std::sync::Arc<super::encoding::Compressed>,
}

/// The ETag of a list's rendering: the list's state (`Change::list_state`) and a digest of what
/// else the bytes depend on (the representation, the base URL, whose list, this build's
/// templates). It changes exactly when one of them does.
pub fn list_etag(state: i64, key: &ListKey) -> String {
    let mut digest = Sha256::new();
    digest.update(format!("{:?}\n{}\n{:?}\n{:?}\n", key.0, key.1, key.2, key.3).as_bytes());
    digest.update(env!("CARGO_PKG_VERSION").as_bytes());
    if key.0 != Representation::Json {
        digest.update(*PAGE_TEMPLATES_DIGEST);
    }
    let digest = digest.finalize();
    let short = hex::encode(&digest[..6]);
    format!("\"{state}-{short}\"")
}

/// The page's templates, digested once, so that a deploy that changes them changes the page's
/// tags.
static PAGE_TEMPLATES_DIGEST: std::sync::LazyLock<[u8; 32]> = std::sync::LazyLock::new(|| {
    let mut digest = Sha256::new();
    for template in [
        include_str!("../../templates/base.html"),
        include_str!("../../templates/index.html"),
        include_str!("../../templates/todo-item.html"),
    ] {
        digest.update(template.as_bytes());
    }
    digest.finalize().into()
});

/// Whether an `If-None-Match` value names `etag` (or is `*`). Weak tags compare by their value.
pub fn none_match_hits(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Lists callers may read, by list and caller, with the count of changes each was checked at.
type KeptAccess = HashMap<(ListId, Option<UserId>), (i64, ListScope)>;

#[derive(Debug, Default)]
pub struct ListCache {
    entries: Mutex<HashMap<ListKey, (i64, Rendered)>>,
    /// What callers may do with lists, as last checked: good for as long as the count of changes
    /// it was read at is current (every change to a list or its members raises it), so that a
    /// member's read of a kept list needs no query either.
    access: Mutex<KeptAccess>,
    /// Held while a list is read and rendered, so that requests arriving together after a change
    /// wait for one rendering instead of each holding a copy of the list (with 100,000 todos, 32 of
    /// them took 1.5 GB).
    rendering: Mutex<()>,
}

const MAX_ENTRIES: usize = 256;

/// Verified callers' access decisions kept at once (by list and user: no value a client chooses).
const MAX_ACCESS_ENTRIES: usize = 4096;

impl ListCache {
    /// The body rendered at `generation`, if that is still what is kept.
    pub fn get(&self, key: &ListKey, generation: i64) -> Option<Rendered> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(kept, _)| *kept == generation)
            .map(|(_, rendered)| rendered.clone())
    }

    /// One rendering at a time; see `rendering`.
    pub fn rendering(&self) -> std::sync::MutexGuard<'_, ()> {
        self.rendering
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The scope of `list` for `user`, if their read of it was allowed at `generation` and that
    /// is still what is kept.
    pub fn access(&self, list: ListId, user: Option<UserId>, generation: i64) -> Option<ListScope> {
        let kept = self.access.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(&(list, user))
            .filter(|(at, _)| *at == generation)
            .map(|(_, scope)| *scope)
    }

    /// Keeps an access checked at `generation` (read before the check).
    pub fn keep_access(&self, user: Option<UserId>, generation: i64, access: &Access) {
        let mut kept = self.access.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= MAX_ACCESS_ENTRIES {
            kept.retain(|_, (at, _)| *at == generation);
            if kept.len() >= MAX_ACCESS_ENTRIES {
                kept.clear();
            }
        }
        kept.insert((access.scope.list(), user), (generation, access.scope));
    }

    pub fn put(&self, key: ListKey, generation: i64, rendered: Rendered) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            // Entries of older generations can never be served again.
            entries.retain(|_, (kept, _)| *kept == generation);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (generation, rendered));
    }
}

/// A kept body, sent in slices of the one shared buffer. Sent whole, it would be copied into each
/// connection's write buffer at once: with 100,000 todos and 32 clients, 1.5 GB. In slices, each
/// connection holds one slice at a time, taken as its socket drains.
pub struct SharedBody {
    bytes: Bytes,
}

const SLICE: usize = 64 * 1024;

impl SharedBody {
    pub fn new(bytes: Bytes) -> Self {
        Self { bytes }
    }
}

impl MessageBody for SharedBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.bytes.len() as u64)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if this.bytes.is_empty() {
            return Poll::Ready(None);
        }
        let slice = this.bytes.split_to(SLICE.min(this.bytes.len()));
        Poll::Ready(Some(Ok(slice)))
    }
}
