//! A test's own database: a SQLite file in a temporary folder, or a PostgreSQL database created for
//! the test and dropped with it; and reading it directly, behind the server's back.

use std::sync::atomic::{AtomicU32, Ordering};

use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::SqlQuery;
use diesel::sql_types::{Bool, Integer, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use tempfile::TempDir;

use super::{Backend, postgres_server};

/// A database for one test: a SQLite file in a temporary folder, or a PostgreSQL database created
/// for the test and dropped with it.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    _dir: Option<TempDir>,
    /// The server's admin URL and this test's database name.
    postgres: Option<(String, String)>,
}

static DATABASES: AtomicU32 = AtomicU32::new(0);

impl TestDatabase {
    pub fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDatabase {
                    backend,
                    url: dir.path().join("todos.db").display().to_string(),
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_server("TestDatabase::create").expect("TEST_POSTGRES_URL");
                let name = format!(
                    "todomvc_test_{}_{}",
                    std::process::id(),
                    DATABASES.fetch_add(1, Ordering::Relaxed)
                );
                let mut conn = PgConnection::establish(&admin).expect("PostgreSQL server");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create the test database");
                TestDatabase {
                    backend,
                    url: with_database(&admin, &name),
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    /// An existing SQLite file, left in place afterwards.
    pub fn existing_sqlite(path: &str) -> TestDatabase {
        TestDatabase {
            backend: Backend::Sqlite,
            url: path.to_owned(),
            _dir: None,
            postgres: None,
        }
    }

    /// Runs a statement on the PostgreSQL server's admin database, where `{db}` stands for this
    /// test's database (to cut it off and let it back in).
    pub fn admin_execute(&self, sql: &str) {
        let (admin, name) = self.postgres.as_ref().expect("a PostgreSQL test database");
        let mut conn = PgConnection::establish(admin).expect("PostgreSQL server");
        let sql = sql.replace("{db}", name);
        diesel::sql_query(&sql).execute(&mut conn).expect(&sql);
    }

    /// Runs a query on the admin database that returns rows of one `name` column, where `{db}`
    /// stands for this test's database; returns the values.
    pub fn admin_load(&self, sql: &str) -> Vec<String> {
        let (admin, name) = self.postgres.as_ref().expect("a PostgreSQL test database");
        let mut conn = PgConnection::establish(admin).expect("PostgreSQL server");
        let sql = sql.replace("{db}", name);
        diesel::sql_query(&sql)
            .load::<Name>(&mut conn)
            .expect(&sql)
            .into_iter()
            .map(|row| row.name)
            .collect()
    }

    /// Runs a query returning rows, on a connection of the test's own.
    pub fn load<T>(&self, sql: &str) -> Vec<T>
    where
        T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        let query: SqlQuery = diesel::sql_query(sql);
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url).expect("open SQLite");
                query.load(&mut conn).expect(sql)
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).expect("open PostgreSQL");
                query.load(&mut conn).expect(sql)
            }
        }
    }

    /// Runs a statement on a connection of the test's own.
    pub fn execute(&self, sql: &str) {
        let query = diesel::sql_query(sql);
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url).expect("open SQLite");
                query.execute(&mut conn).expect(sql);
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).expect("open PostgreSQL");
                query.execute(&mut conn).expect(sql);
            }
        }
    }

    /// Every row of the todos table, by id, read with plain SQL.
    pub fn rows(&self) -> Vec<Row> {
        self.load("SELECT id, title, position, completed FROM todos ORDER BY id")
    }

    /// Tables and indexes of the application's schema, by name (not the migrations table, not
    /// primary keys).
    pub fn schema_objects(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
                 AND name != '__diesel_schema_migrations' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT name FROM (SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' \
                 UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public' \
                 AND indexname NOT LIKE '%_pkey') AS objects \
                 WHERE name NOT LIKE '%diesel_schema_migrations%' ORDER BY name"
            }
        };
        self.load::<Name>(sql).into_iter().map(|n| n.name).collect()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// `postgres://host/admin_db?x` with its database swapped for `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

#[derive(QueryableByName)]
pub struct Name {
    #[diesel(sql_type = Text)]
    pub name: String,
}

/// A row of the todos table.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Row {
    #[diesel(sql_type = Integer)]
    pub id: i32,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Integer)]
    pub position: i32,
    #[diesel(sql_type = Bool)]
    pub completed: bool,
}

/// Reverts migrations, newest first, through the one whose version is `version`
/// (`"20261208000001"` for `2026-12-08-000001_lists`), so that a test of a migration's data stays
/// right when newer migrations come.
pub fn revert_through(conn: &mut todomvc::db::DbConnection, version: &str) {
    loop {
        let reverted = todomvc::db::revert_last_migration(conn)
            .expect("a migration reverts")
            .unwrap_or_else(|| panic!("no migration {version} was applied"));
        if reverted == version {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_swapped() {
        assert_eq!(
            super::with_database("postgres://u@h:5/postgres?sslmode=disable", "t1"),
            "postgres://u@h:5/t1?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
