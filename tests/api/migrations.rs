//! Migrations: up, down and redo, through the library and through `todomvc migrate`, on both engines.

use std::process::Command;

use todomvc::db;

use crate::helpers::{Backend, TestDatabase, on_both_backends, test_settings};

fn titles(database: &TestDatabase) -> Vec<String> {
    database.rows().into_iter().map(|row| row.title).collect()
}

async fn up_down_and_redo_keep_data_where_the_migration_allows(backend: Backend) {
    let database = TestDatabase::create(backend);
    let mut settings = test_settings();
    settings.database.url = todomvc::db::DatabaseUrl::parse(&database.url).unwrap();
    let pool = db::connect(&settings.database).unwrap();
    let mut conn = pool.get().unwrap();

    let status = db::migration_status(&mut conn).unwrap();
    assert!(status.len() >= 2 && status.iter().all(|m| !m.applied));

    let applied = todomvc::models::run_pending_migrations(&mut conn).unwrap();
    assert_eq!(applied.len(), status.len());
    assert!(
        db::migration_status(&mut conn)
            .unwrap()
            .iter()
            .all(|m| m.applied)
    );
    assert!(
        todomvc::models::run_pending_migrations(&mut conn)
            .unwrap()
            .is_empty(),
        "nothing left to apply"
    );
    let full_schema = database.schema_objects();
    for object in [
        "todos",
        "todos_list_position_id",
        "todos_generation",
        "lists",
        "memberships",
    ] {
        assert!(
            full_schema.iter().any(|o| o == object),
            "{object} in {full_schema:?}"
        );
    }

    database.execute("INSERT INTO todos (title, position) VALUES ('kept', 1), ('also kept', 2)");

    // Redoing the newest migration keeps the rows.
    let redone = db::redo_last_migration(&mut conn).unwrap();
    assert_eq!(redone.as_deref(), Some(applied.last().unwrap().as_str()));
    assert_eq!(titles(&database), ["kept", "also kept"]);
    assert_eq!(database.schema_objects(), full_schema);

    // Reverting one migration after another keeps the rows until the table itself goes.
    for _ in 1..applied.len() {
        db::revert_last_migration(&mut conn).unwrap();
        assert_eq!(titles(&database), ["kept", "also kept"]);
    }
    assert_eq!(
        database.schema_objects(),
        ["todos"],
        "the index went with its migration"
    );
    db::revert_last_migration(&mut conn).unwrap();
    assert!(database.schema_objects().is_empty());
    assert_eq!(db::revert_last_migration(&mut conn).unwrap(), None);

    todomvc::models::run_pending_migrations(&mut conn).unwrap();
    assert_eq!(database.schema_objects(), full_schema);
}

fn todomvc_migrate(database: &TestDatabase, action: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .args(["migrate", action])
        .env("APP_ENV", "test")
        .env("DATABASE_URL", &database.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "migrate {action}: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn the_migrate_command(backend: Backend) {
    let database = TestDatabase::create(backend);

    let status = todomvc_migrate(&database, "status");
    let count = status.lines().count();
    assert!(
        count >= 2 && status.lines().all(|l| l.starts_with("pending")),
        "{status}"
    );

    let run = todomvc_migrate(&database, "run");
    assert_eq!(
        run.lines().filter(|l| l.starts_with("applied")).count(),
        count,
        "{run}"
    );
    assert!(
        todomvc_migrate(&database, "status")
            .lines()
            .all(|l| l.starts_with("applied"))
    );
    assert_eq!(
        todomvc_migrate(&database, "run").trim(),
        "no pending migrations"
    );

    database.execute("INSERT INTO todos (title, position) VALUES ('survives redo', 1)");
    assert!(todomvc_migrate(&database, "redo").starts_with("redone"));
    assert_eq!(titles(&database), ["survives redo"]);

    assert!(todomvc_migrate(&database, "revert").starts_with("reverted"));
    let status = todomvc_migrate(&database, "status");
    assert!(
        status.lines().last().unwrap().starts_with("pending"),
        "{status}"
    );
    assert!(
        status.lines().next().unwrap().starts_with("applied"),
        "{status}"
    );
}

/// Both engines get the same schema from their own migrations.
#[test]
fn sqlite_and_postgres_migrations_match() {
    let names = |dir: &str| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("migrations/sqlite"), names("migrations/postgres"));
}

on_both_backends!(
    up_down_and_redo_keep_data_where_the_migration_allows,
    the_migrate_command
);
