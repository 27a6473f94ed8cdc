//! Whether what is kept in memory (rendered lists, verified credentials) is still current, asked on
//! the worker's own thread, without a trip to the blocking pool.
//!
//! On SQLite each worker thread keeps a read-only connection of its own and asks it
//! `PRAGMA data_version`, which changes when any other connection (of this process or of another:
//! `todomvc import`, a second server) has committed. While it is unchanged, the counts of changes
//! (`Generations`) read earlier on that connection are the database's. That question costs a
//! look at SQLite's shared memory (two file locks) instead of a thread hop, a pool checkout and a
//! query. It is asked again whenever this process has committed a write since (`db::Commits`),
//! and otherwise at most every [`RECHECK_AFTER`]: this process's own writes are never served
//! stale, another process's for at most that long.
//!
//! On PostgreSQL the instance's listening connection (`events::listener`) hears `generations`,
//! which a trigger notifies whenever a count is raised, and reads the counts again: what it read is
//! [`Heard`], and a request takes it as current while this process has committed nothing since it
//! was read. So a kept list is answered with no query there either. Bound: this process's own writes
//! are never served stale (a commit makes every request ask the database until the listener has
//! read the counts after it); another instance's show once its notification has reached the
//! listener and the counts are read (the listener looks every [`LISTEN_POLL`]). While the listening
//! connection is down, nothing is heard and every request asks the database.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::sqlite::SqliteConnection;

use crate::db::{Commits, DatabaseUrl, DbConnection};
use crate::models::Generations;

/// How long the answer of one check stands, unless this process writes: the longest that a
/// change committed by another process can go unseen by a read.
pub const RECHECK_AFTER: Duration = Duration::from_millis(1);

/// How often PostgreSQL's listening connection is looked at for notifications.
pub const LISTEN_POLL: Duration = Duration::from_millis(5);

/// Asks, on the calling thread, whether the database changed.
#[derive(Debug, Clone)]
pub struct Freshness {
    /// What SQLite opens; `None` on PostgreSQL.
    sqlite: Option<String>,
    /// This process's commits: one since the last check makes the next check ask again.
    commits: Arc<Commits>,
    /// On PostgreSQL, the counts the listening connection read last.
    heard: Option<Arc<Heard>>,
}

/// PostgreSQL: the counts of changes as the listening connection last read them, and this
/// process's count of commits before it read them; nothing while it is not listening.
#[derive(Debug)]
pub struct Heard {
    commits: Arc<Commits>,
    last: Mutex<Option<(Generations, u64)>>,
}

impl Heard {
    /// Reads the counts on `conn` (the listening connection) and keeps them.
    pub fn read(&self, conn: &mut DbConnection) -> QueryResult<()> {
        // This process's count first: a commit after it makes the counts look older than they
        // are, which only sends requests to the database until the next read.
        let commits = self.commits.count();
        let generations = Generations::read(conn)?;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((generations, commits));
        Ok(())
    }

    /// Whether this process committed since the counts were read.
    pub fn behind(&self) -> bool {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none_or(|(_, commits)| commits != self.commits.count())
    }

    /// Forgets the counts: the listening connection is down, and what it would have heard is lost.
    pub fn forget(&self) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn current(&self) -> Option<Generations> {
        let last = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.filter(|(_, commits)| *commits == self.commits.count())
            .map(|(generations, _)| generations)
    }
}

/// One worker thread's connection, and what it read at which `data_version`.
struct Watch {
    url: String,
    /// Always the SQLite kind, so that the models' queries run on it.
    conn: DbConnection,
    seen: Option<Seen>,
}

/// What one check found, and when.
#[derive(Clone, Copy)]
struct Seen {
    data_version: i64,
    generations: Generations,
    at: Instant,
    commit_count: u64,
}

thread_local! {
    static WATCH: RefCell<Option<Watch>> = const { RefCell::new(None) };
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = BigInt)]
    data_version: i64,
}

impl Freshness {
    pub fn new(url: &DatabaseUrl, commits: Arc<Commits>) -> Self {
        match url {
            DatabaseUrl::Sqlite(path) => Self {
                sqlite: Some(path.clone()),
                commits,
                heard: None,
            },
            DatabaseUrl::Postgres(_) => Self {
                sqlite: None,
                heard: Some(Arc::new(Heard {
                    commits: commits.clone(),
                    last: Mutex::new(None),
                })),
                commits,
            },
        }
    }

    /// On PostgreSQL, where the listening connection keeps what it reads.
    pub fn heard(&self) -> Option<Arc<Heard>> {
        self.heard.clone()
    }

    /// The database's counts of changes as they are now, if this thread can tell without waiting:
    /// `None` whenever SQLite is busy or the connection fails, and on PostgreSQL while the
    /// listener has not read the counts since this process's last commit or is not listening (the
    /// caller then asks on the blocking pool).
    pub fn generations(&self) -> Option<Generations> {
        if let Some(heard) = &self.heard {
            return heard.current();
        }
        let url = self.sqlite.as_deref()?;
        WATCH.with_borrow_mut(|watch| {
            if watch.as_ref().is_none_or(|kept| kept.url != url) {
                *watch = Watch::open(url)
                    .inspect_err(|err| log::debug!("freshness: cannot open {url}: {err}"))
                    .ok();
            }
            let result = watch.as_mut()?.check(self.commits.count());
            match result {
                Ok(generations) => Some(generations),
                Err(err) => {
                    // Opened again on the next request: a busy moment or a replaced file.
                    log::debug!("freshness: {err}");
                    *watch = None;
                    None
                }
            }
        })
    }
}

impl Watch {
    fn open(url: &str) -> ConnectionResult<Watch> {
        let mut conn = SqliteConnection::establish(url)?;
        // Never wait here: this runs on a worker that serves other connections. A busy database
        // sends the request the slow way instead.
        conn.batch_execute("PRAGMA busy_timeout = 0; PRAGMA query_only = ON;")
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(Watch {
            url: url.to_owned(),
            conn: DbConnection::Sqlite(conn),
            seen: None,
        })
    }

    /// The version first, then the counts: a commit between the two leaves counts newer than the
    /// version, which only makes the next check read them again.
    fn check(&mut self, commit_count: u64) -> QueryResult<Generations> {
        let now = Instant::now();
        if let Some(seen) = self.seen
            && seen.commit_count == commit_count
            && now.duration_since(seen.at) < RECHECK_AFTER
        {
            return Ok(seen.generations);
        }
        let DbConnection::Sqlite(sqlite) = &mut self.conn else {
            return Err(diesel::result::Error::NotFound);
        };
        let data_version = diesel::sql_query("PRAGMA data_version")
            .get_result::<DataVersion>(sqlite)?
            .data_version;
        let generations = match self.seen {
            Some(seen) if seen.data_version == data_version => seen.generations,
            _ => Generations::read(&mut self.conn)?,
        };
        self.seen = Some(Seen {
            data_version,
            generations,
            at: now,
            commit_count,
        });
        Ok(generations)
    }
}
