//! The `todomvc` command line: serve (the default) and database migrations.

use std::error::Error;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{LogSettings, Settings};
use crate::models::{ImportRecord, Todo};
use crate::{db, startup};

#[derive(Debug, Parser)]
#[command(
    name = "todomvc",
    version,
    about = "The TodoMVC app: a server-rendered page and the /todos JSON API",
    after_help = "Settings come from config/default.toml, then config/<APP_ENV>.toml, then \
                  environment variables (APP__SECTION__KEY, DATABASE_URL, HOST, PORT)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the app (what running with no command does).
    Serve,
    /// Manage the database schema with the migrations built into this binary.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Write every todo to standard output as JSON.
    Export,
    /// Load todos from a file written by `export`, in one transaction: all of them or none.
    Import {
        /// The export file; `-` reads standard input.
        file: PathBuf,
    },
    /// Copy a SQLite database, consistently, while the server may be writing to it.
    Backup {
        /// The new file to write; it must not exist yet.
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Run,
    /// Revert the newest applied migration.
    Revert,
    /// Revert the newest applied migration and apply it again.
    Redo,
    /// List the migrations and whether each is applied.
    Status,
}

/// Runs the command line; the exit code is non-zero on any error, which is printed first.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Settings::load()
        .map_err(Box::<dyn Error>::from)
        .and_then(|settings| {
            init_logging(&settings.log);
            match cli.command.unwrap_or(Command::Serve) {
                Command::Serve => serve(&settings),
                Command::Migrate { action } => migrate(&settings, action),
                Command::Export => export(&settings),
                Command::Import { file } => import(&settings, &file),
                Command::Backup { path } => backup(&settings, &path),
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(settings: &LogSettings) {
    // RUST_LOG, when set, overrides the configured level.
    let _ = env_logger::Builder::new()
        .parse_filters(&settings.level)
        .parse_default_env()
        .try_init();
}

fn serve(settings: &Settings) -> Result<(), Box<dyn Error>> {
    let (host, port) = (&settings.server.host, settings.server.port);
    let listener = TcpListener::bind((host.as_str(), port))
        .map_err(|err| format!("cannot listen on {host}:{port}: {err}"))?;
    let address = listener.local_addr()?;
    actix_web::rt::System::new().block_on(async {
        let server = startup::build(settings, listener)?;
        startup::shutdown_on_signal(&server);
        let database = db::DatabaseUrl::parse(settings.database.url())?;
        log::info!(
            "serving http://{address} (environment {}, {} database {})",
            settings.environment,
            database.engine(),
            database.redacted()
        );
        server.await?;
        log::info!("stopped");
        Ok(())
    })
}

/// One connection for a one-off command.
fn connection(settings: &Settings) -> Result<db::PooledDbConnection, Box<dyn Error>> {
    let mut database = settings.database.clone();
    database.pool_size = 1;
    Ok(db::connect(&database)?.get()?)
}

fn migrate(settings: &Settings, action: MigrateAction) -> Result<(), Box<dyn Error>> {
    let mut conn = connection(settings)?;
    match action {
        MigrateAction::Run => {
            let applied = db::run_pending_migrations(&mut conn)?;
            if applied.is_empty() {
                println!("no pending migrations");
            }
            for version in applied {
                println!("applied {version}");
            }
        }
        MigrateAction::Revert => match db::revert_last_migration(&mut conn)? {
            Some(version) => println!("reverted {version}"),
            None => println!("no applied migration to revert"),
        },
        MigrateAction::Redo => match db::redo_last_migration(&mut conn)? {
            Some(version) => println!("redone {version}"),
            None => println!("no applied migration to redo"),
        },
        MigrateAction::Status => {
            for migration in db::migration_status(&mut conn)? {
                let state = if migration.applied {
                    "applied"
                } else {
                    "pending"
                };
                println!("{state:8} {}", migration.name);
            }
        }
    }
    Ok(())
}

fn export(settings: &Settings) -> Result<(), Box<dyn Error>> {
    let todos = Todo::all(&mut *connection(settings)?)?;
    let records: Vec<_> = todos.iter().map(Todo::to_export).collect();
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &records)?;
    writeln!(out)?;
    Ok(())
}

fn import(settings: &Settings, file: &Path) -> Result<(), Box<dyn Error>> {
    let mut json = String::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut json)?;
    } else {
        json = std::fs::read_to_string(file)
            .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
    }
    let records = ImportRecord::parse_all(&json)?;
    let count = Todo::import(&mut *connection(settings)?, records)?;
    println!("imported {count} todos");
    Ok(())
}

fn backup(settings: &Settings, path: &Path) -> Result<(), Box<dyn Error>> {
    db::backup_sqlite(&mut *connection(settings)?, path)?;
    println!("backed up to {}", path.display());
    Ok(())
}
