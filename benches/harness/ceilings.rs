//! The database ceiling: the same writes done straight through diesel, with no HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use todomvc::config::DatabaseSettings;
use todomvc::db;
use todomvc::models::{ListScope, NewTodo, Todo, TodoChanges, TodoId};

/// The database ceiling: the server's own writes (one row per immediate transaction, same
/// pragmas and pool), straight through diesel, from as many threads as give the most rows/s.
pub fn diesel_ceiling(seconds: u64, update: bool) -> (f64, u32) {
    ceiling_on(seconds, update, |dir| {
        dir.join("ceiling.db").display().to_string()
    })
}

/// The same ceiling for inserts on another database: `fresh` makes a new one, and returns its URL,
/// for each try.
pub fn diesel_insert_ceiling(seconds: u64, fresh: impl Fn() -> String) -> (f64, u32) {
    ceiling_on(seconds, false, |_| fresh())
}

/// The ceiling on the database that `url` makes (given a temp dir) for each number of threads.
fn ceiling_on(seconds: u64, update: bool, url: impl Fn(&std::path::Path) -> String) -> (f64, u32) {
    let mut best = (0.0, 1);
    for threads in [1, 2, 4, 32] {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = DatabaseSettings {
            url: todomvc::db::DatabaseUrl::parse(&url(dir.path())).expect("a database URL"),
            pool_size: 16,
            connection_timeout: Duration::from_millis(3000),
            busy_timeout: Duration::from_millis(5000),
            run_migrations: true,
        };
        let pool = db::connect(&settings).expect("pool");
        todomvc::models::run_pending_migrations(&mut pool.get().expect("conn"))
            .expect("migrations");
        for i in 0..100 {
            let new = NewTodo {
                title: format!("Todo number {i}"),
                position: None,
                completed: false,
            };
            Todo::create(
                &mut pool.get().expect("conn"),
                ListScope::of(todomvc::models::ListId::OPEN),
                new,
            )
            .expect("seed");
        }
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let rows = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (pool, rows) = (pool.clone(), rows.clone());
                thread::spawn(move || {
                    let mut n: i32 = 0;
                    while Instant::now() < deadline {
                        n += 1;
                        let mut conn = pool.get().expect("conn");
                        if update {
                            let changes = TodoChanges {
                                title: Some(format!("edited {t} {n}")),
                                position: None,
                                completed: Some(n % 2 == 0),
                            };
                            let id = TodoId((n * 7 + t as i32) % 100 + 1);
                            Todo::update(
                                &mut conn,
                                ListScope::of(todomvc::models::ListId::OPEN),
                                id,
                                &changes,
                                None,
                            )
                            .expect("update");
                        } else {
                            let new = NewTodo {
                                title: format!("ceiling {t} {n}"),
                                position: None,
                                completed: false,
                            };
                            Todo::create(
                                &mut conn,
                                ListScope::of(todomvc::models::ListId::OPEN),
                                new,
                            )
                            .expect("insert");
                        }
                        rows.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("worker");
        }
        let rate = rows.load(Ordering::Relaxed) as f64 / seconds as f64;
        if rate > best.0 {
            best = (rate, threads);
        }
    }
    best
}
