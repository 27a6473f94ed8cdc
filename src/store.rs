//! The one road to a caller's data, whatever the door (JSON, forms, and later lists and CalDAV):
//! reads identify the caller on a pooled connection; writes go claim → writer → identify → once →
//! commit. Handlers ask for these; they don't re-implement them.

use actix_web::web;

use crate::auth::{Caller, Identity};
use crate::db::{DbConnection, DbPool};
use crate::error::AppError;
use crate::idempotency::{self, Answer, InFlightKeys, Key};
use crate::writer::Writer;

/// The pool for reads, the writer for writes, and the idempotency keys in flight.
#[derive(Debug, Clone)]
pub struct Store {
    pool: DbPool,
    writer: Writer,
    in_flight: web::Data<InFlightKeys>,
}

impl Store {
    pub fn new(pool: DbPool, writer: Writer, in_flight: web::Data<InFlightKeys>) -> Self {
        Self {
            pool,
            writer,
            in_flight,
        }
    }

    /// Reads for `caller` on the blocking thread pool: the pool checkout, then the caller's
    /// credential is checked on that same connection, then `work` runs with the identity (and so
    /// the one list) it was given. A request with no credential at all is refused first. The
    /// credential's last use, when due, is written by the writer before the answer.
    pub async fn read<T, E, F>(&self, caller: Caller, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection, &Identity) -> Result<T, E> + Send + 'static,
        E: Into<AppError>,
        T: Send + 'static,
    {
        caller.require_credential()?;
        let pool = self.pool.clone();
        let request = crate::telemetry::current_request();
        let (result, touch) = web::block(move || -> Result<_, AppError> {
            crate::telemetry::with_request(request, || {
                let mut conn = pool.get()?;
                let (identity, touch) = caller.identify_deferring(&mut conn)?;
                Ok((work(&mut conn, &identity).map_err(Into::into), touch))
            })
        })
        .await??;
        if let Some(touch) = touch {
            self.writer
                .write(move |conn| Ok(touch.write(conn)?))
                .await?;
        }
        result
    }

    /// A write for `caller`: its idempotency key (if any) is claimed, the work queued for the
    /// writer, the caller identified there, the work run once per key, and the answer given after
    /// the commit that holds it. On SQLite every write of the process takes this road through the
    /// one writing thread (group commit); on PostgreSQL it runs on a pooled connection.
    pub async fn write<F>(
        &self,
        caller: Caller,
        key: Option<Key>,
        work: F,
    ) -> Result<Answer, AppError>
    where
        F: FnOnce(&mut DbConnection, &Identity) -> Result<Answer, AppError> + Send + 'static,
    {
        caller.require_credential()?;
        let _claim = idempotency::claim(&self.in_flight, &caller, key.as_ref())?;
        let in_flight = self.in_flight.clone();
        self.writer
            .write(move |conn| {
                let identity = caller.identify(conn)?;
                idempotency::once(conn, &identity, &in_flight, key, work)
            })
            .await
    }

    /// The pool, for work that is not a caller's (health checks, the live-update broadcaster).
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// The writer, for writes that are not a caller's.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }
}
