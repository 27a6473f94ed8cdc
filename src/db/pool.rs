//! Opening connections: the pool, one connection outside it, and the settings every connection
//! gets.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;

use super::{DatabaseUrl, DbConnection, DbError, DbPool};
use crate::config::DatabaseSettings;

/// Applied to every new pooled connection. SQLite pragmas are per connection, so they cannot be set
/// once for the database; `busy_timeout` comes first so that the others wait for a busy database too.
#[derive(Debug, Clone, Copy)]
struct ConnectionSetup {
    busy_timeout: std::time::Duration,
}

impl ConnectionSetup {
    fn apply(&self, conn: &mut DbConnection) -> QueryResult<()> {
        match conn {
            DbConnection::Sqlite(conn) => conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON;",
                self.busy_timeout.as_millis()
            )),
            DbConnection::Pg(_) => Ok(()),
        }
    }
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool after opening one connection by hand, so that a bad URL or an unreachable
/// server stops start-up at once with the driver's own message (which names the host).
pub fn connect(settings: &DatabaseSettings) -> Result<DbPool, DbError> {
    let url = &settings.url;
    let connect_error = |message: String| DbError::Connect {
        url: url.redacted(),
        cause: message.trim().to_owned().into(),
    };
    let connection_string = url.connection_string(settings.connection_timeout);
    let setup = ConnectionSetup {
        busy_timeout: settings.busy_timeout,
    };
    // For SQLite this also switches the file to WAL once: the switch takes an exclusive lock, which
    // the pool's connections, opened in parallel, would otherwise race for.
    drop(open(settings)?);

    Pool::builder()
        .max_size(settings.pool_size)
        .connection_timeout(settings.connection_timeout)
        // A PostgreSQL connection can die with the server or the network; a SQLite one cannot, so
        // it is not checked with a query at every checkout.
        .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
        .connection_customizer(Box::new(setup))
        .event_handler(Box::new(PoolEvents))
        .build(ConnectionManager::new(connection_string))
        .map_err(|err| connect_error(err.to_string()))
}

/// One connection outside the pool, set up as the pool's are.
pub fn open(settings: &DatabaseSettings) -> Result<DbConnection, DbError> {
    let url = &settings.url;
    let connect_error = |message: String| DbError::Connect {
        url: url.redacted(),
        cause: message.trim().to_owned().into(),
    };
    let mut conn = establish(url, &url.connection_string(settings.connection_timeout))
        .map_err(connect_error)?;
    ConnectionSetup {
        busy_timeout: settings.busy_timeout,
    }
    .apply(&mut conn)
    .map_err(|err| connect_error(err.to_string()))?;
    Ok(conn)
}

fn establish(url: &DatabaseUrl, connection_string: &str) -> Result<DbConnection, String> {
    let result = match url {
        DatabaseUrl::Postgres(_) => {
            PgConnection::establish(connection_string).map(DbConnection::Pg)
        }
        DatabaseUrl::Sqlite(_) => {
            SqliteConnection::establish(connection_string).map(DbConnection::Sqlite)
        }
    };
    result.map_err(|err| err.to_string())
}

/// Waits for a pooled connection and timeouts, from r2d2's events, as metrics.
#[derive(Debug, Default)]
struct PoolEvents;

impl diesel::r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        metrics::histogram!("db_pool_wait_seconds").record(event.duration().as_secs_f64());
    }

    fn handle_timeout(&self, _: diesel::r2d2::event::TimeoutEvent) {
        metrics::counter!("db_pool_timeouts_total").increment(1);
    }
}
