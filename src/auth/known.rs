//! Credentials verified recently, kept in memory for as long as the database's count of
//! revocations is the one read with them, so that a request checks its credential without a query
//! of its own and a revocation by any process still takes effect at once.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::models::{ListId, SessionId, TokenId, UserId};

/// What a verified credential stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// The count of revocations it was verified at.
    pub generation: i64,
    pub user_id: UserId,
    pub username: String,
    /// The user's default list (which is never deleted).
    pub default_list: ListId,
    pub record: Record,
}

/// The row behind the credential, with the times that decide its expiry and its next touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Session {
        id: SessionId,
        created_at: i64,
        last_seen_at: i64,
    },
    Token {
        id: TokenId,
        last_used_at: Option<i64>,
    },
}

/// Verified credentials by the hash of their secret.
#[derive(Debug, Default)]
pub struct KnownCredentials {
    entries: Mutex<HashMap<String, Known>>,
}

/// Beyond this many, entries of older generations go, and then all.
const MAX_ENTRIES: usize = 10_000;

impl KnownCredentials {
    /// The credential with this hash, if it was verified at `generation` as the same kind: a
    /// session's secret is known only as a session, an API token's only as a token.
    pub fn get(&self, hash: &str, generation: i64, session: bool) -> Option<Known> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(hash)
            .filter(|known| {
                known.generation == generation
                    && matches!(known.record, Record::Session { .. }) == session
            })
            .cloned()
    }

    pub fn put(&self, hash: String, known: Known) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&hash) {
            entries.retain(|_, kept| kept.generation == known.generation);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(hash, known);
    }
}
