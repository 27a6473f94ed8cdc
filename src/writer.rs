//! The one writer of the process. On SQLite every write of the server is done by one thread on
//! one connection, and the writes that queued up while one transaction ran go into the next one
//! together, each in a savepoint of its own (group commit: a failed one is undone alone). SQLite
//! takes one writer at a time anyway; done this way, many writes share one commit (one pass over
//! the WAL) and no thread waits on another's lock. Each request still gets its answer only after the commit that
//! holds its write.
//!
//! On PostgreSQL, where writers run side by side, each write runs on a pooled connection of the
//! blocking pool. On both, every commit is recorded in [`Commits`], which live updates and the
//! kept renderings watch.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, mpsc};

use tokio::sync::oneshot;

use crate::config::DatabaseSettings;
use crate::db::{self, Commits, DbConnection, DbError, DbPool};
use crate::error::AppError;

/// Writes one transaction takes at most.
const MAX_GROUP: usize = 64;

/// Where writes go: the queue to the writing thread (SQLite), or the pool (PostgreSQL).
#[derive(Debug, Clone)]
pub struct Writer {
    queue: Option<mpsc::Sender<Box<dyn Job>>>,
    pool: DbPool,
    commits: Arc<Commits>,
}

/// One queued write, type-erased for the queue.
trait Job: Send {
    /// Runs the write inside the group's transaction, in a savepoint that undoes it if it fails.
    fn run(&mut self, conn: &mut DbConnection);
    /// Hands the request its answer: its own result if the group committed, else the commit's
    /// failure.
    fn answer(self: Box<Self>, committed: Result<(), &diesel::result::Error>);
}

struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, AppError>>,
    reply: oneshot::Sender<Result<T, AppError>>,
    request: Option<String>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) {
        let Some(work) = self.work.take() else {
            return;
        };
        let request = self.request.clone();
        let depth = db::transaction_depth(conn).unwrap_or(1);
        let run = || crate::telemetry::with_request(request, || db::in_savepoint(&mut *conn, work));
        let result = std::panic::catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
            // Its savepoints are still open: undo what it did, keep the group's other writes.
            if let Err(err) = db::roll_back_to(conn, depth) {
                log::error!("a write panicked and could not be undone: {err}");
            }
            Err(AppError::internal("a write panicked"))
        });
        self.result = Some(result);
    }

    fn answer(self: Box<Self>, committed: Result<(), &diesel::result::Error>) {
        let result = match (self.result, committed) {
            (Some(Err(err)), _) => Err(err),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)) | None, Err(err)) => Err(not_committed(err)),
            (None, Ok(())) => Err(AppError::internal("a write was never run")),
        };
        // The request may have gone (client disconnected): nothing to tell.
        let _ = self.reply.send(result);
    }
}

/// A group whose transaction could not start or commit: nothing of it was written, and the same
/// request can succeed when sent again (503).
fn not_committed(err: &diesel::result::Error) -> AppError {
    AppError::Unavailable(format!("the write was not committed: {err}").into())
}

impl Writer {
    /// On SQLite, opens the writing connection and starts its thread; on PostgreSQL, writes will
    /// use `pool`. Commits are recorded in `commits`.
    pub fn start(
        settings: &DatabaseSettings,
        pool: DbPool,
        commits: Arc<Commits>,
    ) -> Result<Writer, DbError> {
        if !settings.url.is_sqlite() {
            return Ok(Writer {
                queue: None,
                pool,
                commits,
            });
        }
        let conn = db::open(settings)?;
        let (queue, jobs) = mpsc::channel();
        let kept = settings.clone();
        let recorded = commits.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_groups(conn, &jobs, &kept, &recorded))
            .map_err(|err| DbError::Connect {
                url: settings.url.redacted(),
                cause: Box::new(err),
            })?;
        Ok(Writer {
            queue: Some(queue),
            pool,
            commits,
        })
    }

    /// Whether writes go through the writing thread (SQLite).
    pub fn groups(&self) -> bool {
        self.queue.is_some()
    }

    /// What this process has committed.
    pub fn commits(&self) -> &Arc<Commits> {
        &self.commits
    }

    /// Runs `work` and returns its result once what it wrote is committed: on SQLite in a write
    /// transaction on the writing thread, together with the writes queued with it; on PostgreSQL
    /// on a pooled connection of the blocking pool.
    pub async fn write<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let Some(queue) = self.queue.as_ref() else {
            return self.write_on_pool(work).await;
        };
        let (reply, answer) = oneshot::channel();
        let job = Pending {
            work: Some(work),
            result: None,
            reply,
            request: crate::telemetry::current_request(),
        };
        queue
            .send(Box::new(job))
            .map_err(|_| AppError::internal("the writing thread has stopped"))?;
        answer
            .await
            .map_err(|_| AppError::internal("the writing thread dropped a write"))?
    }

    /// PostgreSQL's way: `work` on a pooled connection, off the async executor.
    async fn write_on_pool<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let request = crate::telemetry::current_request();
        let result = tokio::task::spawn_blocking(move || {
            crate::telemetry::with_request(request, || work(&mut *pool.get()?))
        })
        .await
        .map_err(|err| AppError::internal(format!("a write stopped: {err}")))?;
        if result.is_ok() {
            self.commits.record();
        }
        result
    }
}

/// The writing thread: waits for a write, takes whatever else is queued (up to `MAX_GROUP`), runs
/// them all in one transaction, and answers each. Ends when every `Writer` is gone.
fn write_groups(
    mut conn: DbConnection,
    jobs: &mpsc::Receiver<Box<dyn Job>>,
    settings: &DatabaseSettings,
    commits: &Commits,
) {
    while let Ok(first) = jobs.recv() {
        // A connection left inside a transaction (a failed rollback) would refuse every later
        // write: start again on a new one.
        if db::transaction_depth(&mut conn).map_or(true, |depth| depth > 0) {
            match db::open(settings) {
                Ok(fresh) => {
                    log::warn!("the writing connection was left in a transaction; opened anew");
                    conn = fresh;
                }
                Err(err) => log::error!("the writing connection cannot be opened anew: {err}"),
            }
        }
        let mut group = vec![first];
        while group.len() < MAX_GROUP
            && let Ok(job) = jobs.try_recv()
        {
            group.push(job);
        }
        #[allow(clippy::cast_precision_loss, reason = "at most MAX_GROUP")]
        metrics::histogram!("db_write_group_size").record(group.len() as f64);
        let committed = db::write_transaction(&mut conn, |conn| {
            for job in &mut group {
                job.run(conn);
            }
            Ok::<_, diesel::result::Error>(())
        });
        match &committed {
            Ok(()) => commits.record(),
            Err(err) => log::warn!("a group of {} writes was not committed: {err}", group.len()),
        }
        for job in group {
            job.answer(committed.as_ref().map(|_| ()));
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::Integer;

    use super::Writer;
    use crate::config::DatabaseSettings;
    use crate::db::{self, DbConnection};
    use crate::error::AppError;

    #[derive(QueryableByName)]
    struct Number {
        #[diesel(sql_type = Integer)]
        n: i32,
    }

    fn insert(conn: &mut DbConnection, n: i32) -> Result<(), AppError> {
        conn.batch_execute(&format!("INSERT INTO numbers VALUES ({n})"))
            .map_err(AppError::from)
    }

    /// A write that panics is undone alone: the writes before and after it are kept, and the
    /// writing thread goes on.
    #[tokio::test]
    async fn a_write_that_panics_is_undone_alone() {
        let dir = tempfile::tempdir().unwrap();
        let settings = DatabaseSettings {
            url: crate::config::DatabaseUrl::parse(
                &dir.path().join("writer.db").display().to_string(),
            )
            .unwrap(),
            pool_size: 1,
            connection_timeout: std::time::Duration::from_millis(1000),
            busy_timeout: std::time::Duration::from_millis(1000),
            run_migrations: false,
        };
        let pool = db::connect(&settings).unwrap();
        let writer = Writer::start(&settings, pool, std::sync::Arc::default()).unwrap();
        assert!(writer.groups());
        writer
            .write(|conn| {
                conn.batch_execute("CREATE TABLE numbers (n INTEGER NOT NULL)")
                    .map_err(AppError::from)?;
                insert(conn, 1)
            })
            .await
            .unwrap();
        let panicked = writer
            .write(|conn| {
                insert(conn, 2)?;
                // A nested write transaction is a savepoint of its own, left open by the panic.
                db::write_transaction(conn, |conn| -> Result<(), AppError> {
                    insert(conn, 3)?;
                    panic!("a bug in a write");
                })
            })
            .await;
        assert!(
            matches!(panicked, Err(AppError::Internal(_))),
            "{panicked:?}"
        );
        writer.write(|conn| insert(conn, 4)).await.unwrap();

        let mut conn = db::open(&settings).unwrap();
        let numbers: Vec<i32> = diesel::sql_query("SELECT n FROM numbers ORDER BY n")
            .load::<Number>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|row| row.n)
            .collect();
        assert_eq!(numbers, [1, 4]);
    }
}
