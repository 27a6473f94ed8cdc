//! The rendered list (JSON and page), kept and served again while the database's count of changes
//! to the list is the one it was rendered at.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

use crate::models::ListScope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Representation {
    Json,
    /// The page, with the todos of one filter.
    Page(super::page::Filter),
}

/// What a rendering depends on: its form, the base URL, and whose list it is.
pub type ListKey = (Representation, String, ListScope);

/// Rendered lists by representation, base URL and list. The base URL comes from the request's
/// Host, so the number of entries is capped.
#[derive(Debug, Default)]
pub struct ListCache {
    entries: Mutex<HashMap<ListKey, (i64, Bytes)>>,
    /// Held while a list is read and rendered, so that requests arriving together after a change
    /// wait for one rendering instead of each holding a copy of the list (with 100,000 todos, 32 of
    /// them took 1.5 GB).
    rendering: Mutex<()>,
}

const MAX_ENTRIES: usize = 256;

impl ListCache {
    /// The body rendered at `generation`, if that is still what is kept.
    pub fn get(&self, key: &ListKey, generation: i64) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(kept, _)| *kept == generation)
            .map(|(_, body)| body.clone())
    }

    /// One rendering at a time; see `rendering`.
    pub fn rendering(&self) -> std::sync::MutexGuard<'_, ()> {
        self.rendering
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn put(&self, key: ListKey, generation: i64, body: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            // Entries of older generations can never be served again.
            entries.retain(|_, (kept, _)| *kept == generation);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (generation, body));
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
