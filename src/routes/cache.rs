//! The rendered list (JSON and page), kept and served again while the database's count of changes
//! to the list is the one it was rendered at.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use actix_web::web::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Representation {
    Json,
    Page,
}

/// Rendered lists by representation and base URL. The base URL comes from the request's Host, so
/// the number of entries is capped.
#[derive(Debug, Default)]
pub struct ListCache {
    entries: Mutex<HashMap<(Representation, String), (i64, Bytes)>>,
    /// Held while a list is read and rendered, so that requests arriving together after a change
    /// wait for one rendering instead of each holding a copy of the list (with 100,000 todos, 32 of
    /// them took 1.5 GB).
    rendering: Mutex<()>,
}

const MAX_ENTRIES: usize = 16;

impl ListCache {
    /// The body rendered at `generation`, if that is still what is kept.
    pub fn get(
        &self,
        representation: Representation,
        base: &str,
        generation: i64,
    ) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(&(representation, base.to_owned()))
            .filter(|(kept, _)| *kept == generation)
            .map(|(_, body)| body.clone())
    }

    /// One rendering at a time; see `rendering`.
    pub fn rendering(&self) -> std::sync::MutexGuard<'_, ()> {
        self.rendering
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn put(&self, representation: Representation, base: String, generation: i64, body: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&(representation, base.clone())) {
            entries.clear();
        }
        entries.insert((representation, base), (generation, body));
    }
}
