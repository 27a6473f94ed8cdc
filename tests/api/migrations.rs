//! Migrations: up, down and redo, through the library and through `todomvc migrate`.

use std::path::Path;
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::Text;
use todomvc::db;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn schema_objects(path: &Path) -> Vec<String> {
    let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
         AND name != '__diesel_schema_migrations' ORDER BY name",
    )
    .load::<Name>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect()
}

fn titles(path: &Path) -> Vec<String> {
    let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    diesel::sql_query("SELECT title AS name FROM todos ORDER BY id")
        .load::<Name>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

#[test]
fn up_down_and_redo_keep_data_where_the_migration_allows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let mut settings = crate::helpers::test_settings();
    settings.database.url = Some(path.display().to_string());
    let pool = db::connect(&settings.database).unwrap();
    let mut conn = pool.get().unwrap();

    let status = db::migration_status(&mut conn).unwrap();
    assert!(status.len() >= 2 && status.iter().all(|m| !m.applied));

    let applied = db::run_pending_migrations(&mut conn).unwrap();
    assert_eq!(applied.len(), status.len());
    assert!(
        db::migration_status(&mut conn)
            .unwrap()
            .iter()
            .all(|m| m.applied)
    );
    assert!(
        db::run_pending_migrations(&mut conn).unwrap().is_empty(),
        "nothing left to apply"
    );
    assert_eq!(schema_objects(&path), ["todos", "todos_position_id"]);

    diesel::sql_query("INSERT INTO todos (title, position) VALUES ('kept', 1), ('also kept', 2)")
        .execute(&mut conn)
        .unwrap();

    // Redoing the index migration keeps the rows.
    let redone = db::redo_last_migration(&mut conn).unwrap();
    assert_eq!(redone.as_deref(), Some(applied.last().unwrap().as_str()));
    assert_eq!(titles(&path), ["kept", "also kept"]);
    assert_eq!(schema_objects(&path), ["todos", "todos_position_id"]);

    // Reverting it drops the index and keeps the rows; reverting the table drops everything.
    db::revert_last_migration(&mut conn).unwrap();
    assert_eq!(schema_objects(&path), ["todos"]);
    assert_eq!(titles(&path), ["kept", "also kept"]);
    db::revert_last_migration(&mut conn).unwrap();
    assert!(schema_objects(&path).is_empty());
    assert_eq!(db::revert_last_migration(&mut conn).unwrap(), None);

    db::run_pending_migrations(&mut conn).unwrap();
    assert_eq!(schema_objects(&path), ["todos", "todos_position_id"]);
}

fn todomvc_migrate(database: &Path, action: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .args(["migrate", action])
        .env("APP_ENV", "test")
        .env("DATABASE_URL", database)
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

#[test]
fn the_migrate_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cli.db");

    let status = todomvc_migrate(&path, "status");
    assert!(
        status.lines().count() >= 2 && status.lines().all(|l| l.starts_with("pending")),
        "{status}"
    );

    let run = todomvc_migrate(&path, "run");
    assert_eq!(
        run.lines().filter(|l| l.starts_with("applied")).count(),
        status.lines().count(),
        "{run}"
    );
    assert!(
        todomvc_migrate(&path, "status")
            .lines()
            .all(|l| l.starts_with("applied"))
    );
    assert_eq!(
        todomvc_migrate(&path, "run").trim(),
        "no pending migrations"
    );

    let mut conn = SqliteConnection::establish(&path.display().to_string()).unwrap();
    diesel::sql_query("INSERT INTO todos (title, position) VALUES ('survives redo', 1)")
        .execute(&mut conn)
        .unwrap();
    assert!(todomvc_migrate(&path, "redo").starts_with("redone"));
    assert_eq!(titles(&path), ["survives redo"]);

    assert!(todomvc_migrate(&path, "revert").starts_with("reverted"));
    let status = todomvc_migrate(&path, "status");
    assert!(
        status.lines().last().unwrap().starts_with("pending"),
        "{status}"
    );
    assert!(
        status.lines().next().unwrap().starts_with("applied"),
        "{status}"
    );
}
