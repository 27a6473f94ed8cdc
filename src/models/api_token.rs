//! Personal API tokens for programs, found by the hash of the bearer token.

use diesel::prelude::*;
use serde::Serialize;

use super::ids::{ListId, TokenId, UserId};
use crate::db::{self, DbConnection};
use crate::schema::{api_tokens, lists, users};

/// The longest token name accepted, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

/// A token as listed: never its secret, which is not stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    #[schema(value_type = i32)]
    pub id: TokenId,
    #[serde(skip)]
    #[schema(ignore)]
    pub user_id: UserId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl ApiToken {
    pub fn create(
        conn: &mut DbConnection,
        user: UserId,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> QueryResult<ApiToken> {
        db::write_transaction(conn, |conn| {
            diesel::insert_into(api_tokens::table)
                .values((
                    api_tokens::user_id.eq(user),
                    api_tokens::name.eq(name),
                    api_tokens::token_hash.eq(token_hash),
                    api_tokens::created_at.eq(now),
                ))
                .returning((
                    api_tokens::id,
                    api_tokens::user_id,
                    api_tokens::name,
                    api_tokens::created_at,
                    api_tokens::last_used_at,
                ))
                .get_result(conn)
        })
    }

    /// The token with this hash, and its user's name.
    pub fn find(
        conn: &mut DbConnection,
        token_hash: &str,
    ) -> QueryResult<Option<(ApiToken, String, ListId)>> {
        api_tokens::table
            .inner_join(
                users::table.inner_join(
                    lists::table.on(lists::owner_id
                        .eq(users::id.nullable())
                        .and(lists::is_default.eq(true))),
                ),
            )
            .filter(api_tokens::token_hash.eq(token_hash))
            .select((ApiToken::as_select(), users::username, lists::id))
            .first(conn)
            .optional()
    }

    /// The user's tokens, oldest first.
    pub fn list(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<ApiToken>> {
        api_tokens::table
            .filter(api_tokens::user_id.eq(user))
            .order(api_tokens::id.asc())
            .select(ApiToken::as_select())
            .load(conn)
    }

    pub fn touch(conn: &mut DbConnection, id: TokenId, now: i64) -> QueryResult<()> {
        db::write_transaction(conn, |conn| {
            diesel::update(api_tokens::table.find(id))
                .set(api_tokens::last_used_at.eq(now))
                .execute(conn)
                .map(drop)
        })
    }

    /// Revokes one of the user's tokens; returns whether the user had it.
    pub fn revoke(conn: &mut DbConnection, user: UserId, id: TokenId) -> QueryResult<bool> {
        db::write_transaction(conn, |conn| {
            diesel::delete(
                api_tokens::table
                    .filter(api_tokens::id.eq(id))
                    .filter(api_tokens::user_id.eq(user)),
            )
            .execute(conn)
            .map(|deleted| deleted > 0)
        })
    }
}
