//! The one road to a caller's data, whatever the door (JSON, forms, and later CalDAV): reads
//! identify the caller on a pooled connection, then check their access to the list; writes go
//! claim → writer → identify → access → once → commit. Handlers ask for these; they don't
//! re-implement them.

use actix_web::web;

use crate::auth::{Caller, Identity};
use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, ErrorBody};
use crate::idempotency::{self, Answer, InFlightKeys, Key};
use crate::lists::{self, Access, ListError, Need, Target};
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
                let list = identity.scope.list();
                idempotency::once(conn, &identity, list, &in_flight, key, |conn| {
                    work(conn, &identity)
                })
            })
            .await
    }

    /// Reads list `target` for `caller`, as [`Store::read`] does, once [`lists::access`] has found
    /// that they may (`need`): else 404 for a list they are not on, 403 for what their role does
    /// not allow.
    pub async fn read_list<T, E, F>(
        &self,
        caller: Caller,
        target: Target,
        need: Need,
        work: F,
    ) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection, &Identity, &Access) -> Result<T, E> + Send + 'static,
        E: Into<AppError>,
        T: Send + 'static,
    {
        self.read(caller, move |conn, who| -> Result<T, AppError> {
            let access = lists::access(conn, who, target, need)??;
            work(conn, who, &access).map_err(Into::into)
        })
        .await
    }

    /// A write to list `target` for `caller`: as [`Store::write`], with the caller's access to the
    /// list checked in the write's transaction. A refusal (404, 403) is an answer like any other:
    /// kept under the request's `Idempotency-Key`, so a write queued before access was lost gets
    /// the same refusal every time it is sent.
    pub async fn write_list<F>(
        &self,
        caller: Caller,
        target: Target,
        need: Need,
        key: Option<Key>,
        refuse: fn(&ListError) -> Answer,
        work: F,
    ) -> Result<Answer, AppError>
    where
        F: FnOnce(&mut DbConnection, &Identity, &Access) -> Result<Answer, AppError>
            + Send
            + 'static,
    {
        caller.require_credential()?;
        let _claim = idempotency::claim(&self.in_flight, &caller, key.as_ref())?;
        let in_flight = self.in_flight.clone();
        self.writer
            .write(move |conn| {
                let identity = caller.identify(conn)?;
                let list = match target {
                    Target::Default => identity.scope.list(),
                    Target::List(id) => id,
                };
                idempotency::once(conn, &identity, list, &in_flight, key, |conn| {
                    match lists::access(conn, &identity, target, need)? {
                        Ok(access) => work(conn, &identity, &access),
                        Err(refused) => Ok(refuse(&refused)),
                    }
                })
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

/// A refusal of the lists service as a JSON answer (for `write_list`'s `refuse`): kept under an
/// `Idempotency-Key` like any other, so that a write queued before access was lost gets the same
/// refusal every time it is sent.
pub fn json_refusal(refused: &ListError) -> Answer {
    let status = refused.status();
    Answer::new(status)
        .json(&ErrorBody::new(refused.to_string()))
        .unwrap_or_else(|_| Answer::new(status))
}
