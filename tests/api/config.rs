//! Configuration: default.toml, then <env>.toml, then environment variables, each overriding the last.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use todomvc::config::{Environment, Settings};

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn repo_settings(pairs: &[(&str, &str)]) -> Result<Settings, String> {
    Settings::load_from(Path::new("config"), &vars(pairs)).map_err(|err| err.to_string())
}

#[test]
fn development_is_the_default_and_needs_no_setup() {
    let settings = repo_settings(&[]).unwrap();
    assert_eq!(settings.environment, Environment::Development);
    assert_eq!(
        (settings.server.host.as_str(), settings.server.port),
        ("127.0.0.1", 8080)
    );
    assert_eq!(settings.database.url(), "todos.db");
    assert!(settings.database.run_migrations);
    assert!(settings.cors.allows_any_origin());
}

#[test]
fn production_binds_everywhere_and_takes_the_url_from_the_environment_only() {
    let err = repo_settings(&[("APP_ENV", "production")]).unwrap_err();
    assert!(
        err.contains("database.url") && err.contains("DATABASE_URL"),
        "{err}"
    );

    let err = repo_settings(&[("APP_ENV", "production"), ("DATABASE_URL", "/srv/todos.db")])
        .unwrap()
        .validate_for_serving()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("server.allowed_hosts") && err.contains("APP__SERVER__ALLOWED_HOSTS"),
        "production refuses to answer for any host: {err}"
    );

    let settings = repo_settings(&[
        ("APP_ENV", "production"),
        ("DATABASE_URL", "/srv/todos.db"),
        ("APP__SERVER__ALLOWED_HOSTS", "todo.example.com"),
    ])
    .unwrap();
    assert_eq!(settings.environment, Environment::Production);
    assert_eq!(settings.server.allowed_hosts, ["todo.example.com"]);
    assert_eq!(settings.server.host, "0.0.0.0");
    assert_eq!(settings.database.url(), "/srv/todos.db");
    assert!(!settings.cors.allows_any_origin());
}

#[test]
fn production_without_allowed_hosts_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .env("APP_ENV", "production")
        .env("DATABASE_URL", dir.path().join("todos.db"))
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.allowed_hosts"), "{stderr}");
    assert!(
        !dir.path().join("todos.db").exists(),
        "refused before opening the database"
    );
}

#[test]
fn unknown_environment_lists_the_valid_ones() {
    let err = repo_settings(&[("APP_ENV", "staging")]).unwrap_err();
    for name in ["staging", "development", "test", "production"] {
        assert!(err.contains(name), "{err}");
    }
}

#[test]
fn each_layer_overrides_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy("config/default.toml", dir.path().join("default.toml")).unwrap();
    fs::write(
        dir.path().join("test.toml"),
        "[server]\nport = 9001\nworkers = 3\n[database]\nurl = \"from-file.db\"\npool_size = 5\n",
    )
    .unwrap();
    let load = |pairs: &[(&str, &str)]| {
        let mut all = vec![("APP_ENV", "test")];
        all.extend_from_slice(pairs);
        Settings::load_from(dir.path(), &vars(&all))
    };

    let settings = load(&[]).unwrap();
    assert_eq!(settings.server.host, "127.0.0.1", "from default.toml");
    assert_eq!(settings.server.body_limit, 65536, "from default.toml");
    assert_eq!(
        (settings.server.port, settings.server.workers),
        (9001, 3),
        "from test.toml"
    );
    assert_eq!(settings.database.url(), "from-file.db");

    let settings = load(&[
        ("APP__SERVER__WORKERS", "7"),
        ("APP__SERVER__HOST", "10.0.0.1"),
        ("APP__DATABASE__URL", "from-app-var.db"),
        ("APP__DATABASE__RUN_MIGRATIONS", "false"),
        (
            "APP__CORS__ALLOWED_ORIGINS",
            "https://a.example,https://b.example",
        ),
    ])
    .unwrap();
    assert_eq!(settings.server.workers, 7);
    assert_eq!(settings.server.port, 9001);
    assert_eq!(settings.server.host, "10.0.0.1");
    assert_eq!(settings.database.url(), "from-app-var.db");
    assert_eq!(settings.database.pool_size, 5);
    assert!(!settings.database.run_migrations);
    assert_eq!(
        settings.cors.allowed_origins,
        ["https://a.example", "https://b.example"]
    );

    // The short names win over everything.
    let settings = load(&[
        ("APP__SERVER__PORT", "9002"),
        ("PORT", "9003"),
        ("APP__SERVER__HOST", "10.0.0.1"),
        ("HOST", "::1"),
        ("APP__DATABASE__URL", "from-app-var.db"),
        ("DATABASE_URL", "from-database-url.db"),
    ])
    .unwrap();
    assert_eq!(settings.server.port, 9003);
    assert_eq!(settings.server.host, "::1");
    assert_eq!(settings.database.url(), "from-database-url.db");
}

#[test]
fn bad_values_name_their_key() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("PORT", "eighty")], "server.port"),
        (&[("PORT", "70000")], "server.port"),
        (&[("APP__SERVER__WORKERS", "-1")], "server.workers"),
        (&[("APP__DATABASE__POOL_SIZE", "0")], "database.pool_size"),
        (
            &[("APP__DATABASE__RUN_MIGRATIONS", "sometimes")],
            "database.run_migrations",
        ),
        (&[("DATABASE_URL", "mysql://db/todos")], "mysql://db/todos"),
        (&[("DATABASE_URL", ":memory:")], "database.url"),
        (
            &[("APP__CORS__ALLOWED_ORIGINS", "example.com")],
            "cors.allowed_origins",
        ),
        (
            &[("APP__CORS__ALLOWED_METHODS", "GET,NOT A METHOD")],
            "cors.allowed_methods",
        ),
        (&[("APP__SERVER__NO_SUCH_KEY", "1")], "no_such_key"),
    ];
    for (pairs, key) in cases {
        let result = repo_settings(pairs).and_then(|settings| {
            todomvc::db::DatabaseUrl::parse(settings.database.url())
                .map(|_| ())
                .map_err(|err| err.to_string())
        });
        let err = result.expect_err(&format!("{pairs:?} should be refused"));
        assert!(err.contains(key), "{pairs:?}: {err}");
    }
}

#[test]
fn the_binary_refuses_to_start_on_a_bad_value_naming_the_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_todomvc"))
        .env("APP_ENV", "test")
        .env("PORT", "not-a-port")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.port"), "{stderr}");
}
