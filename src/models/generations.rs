//! The counts of changes that say whether something kept in memory is still current: the todos'
//! (raised by every write to any list) and the credentials' (raised by every deletion of a
//! session, API token or user). Triggers raise both, whoever writes.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{auth_generation, todos_generation};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generations {
    pub todos: i64,
    pub auth: i64,
}

impl Generations {
    /// Both counts, in one query.
    pub fn read(conn: &mut DbConnection) -> QueryResult<Generations> {
        todos_generation::table
            .inner_join(auth_generation::table.on(auth_generation::id.eq(todos_generation::id)))
            .select((todos_generation::value, auth_generation::value))
            .first(conn)
            .map(|(todos, auth)| Generations { todos, auth })
    }
}
