//! Ids as types of their own, so that a todo's id cannot be passed where a user's or a token's is
//! meant. Each is stored as the integer column it wraps and shown as that integer (in JSON, paths
//! and messages).

use diesel_derive_newtype::DieselNewType;
use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, DieselNewType, Serialize,
            Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i32);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    };
}

id!(
    /// A todo's id: in `/todos/{id}`, its JSON and the change log.
    TodoId
);
id!(
    /// A user's id. Only the auth layer makes one for a caller, from a verified credential.
    UserId
);
id!(
    /// A sign-in session's id (never shown; its token is what a browser holds).
    SessionId
);
id!(
    /// An API token's id: in `/tokens/{id}` and the token list.
    TokenId
);
id!(
    /// A list's id: in `/lists/{id}`, its JSON and the change log.
    ListId
);

impl ListId {
    /// Open mode's one list: made by the migration that brought lists, owned by nobody.
    pub const OPEN: ListId = ListId(1);
}
