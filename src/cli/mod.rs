//! The `todomvc` command line: serve (the default), database migrations, operators' commands, and
//! users and their API tokens.

use std::error::Error;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::{self, password};
use crate::config::{AuthMode, Environment, LogSettings, Settings};
use crate::models::{Session, User, Username};
use crate::{db, startup};

mod lists;

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
    /// Write to standard output as JSON: a user's lists with their members and todos, or (without
    /// --user) the todos of open mode's list.
    Export {
        /// Whose lists (the ones they own); without it, open mode's list.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// Load a file written by `export`, in one transaction: all of it or nothing. A user's lists
    /// are made anew (their default list's todos join the user's default list); a plain array of
    /// todos (the older format) joins the user's default list, or open mode's list.
    Import {
        /// The export file; `-` reads standard input.
        file: PathBuf,
        /// Whose lists they become; without it, todos join open mode's list.
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// Manage lists and who they are shared with.
    Lists {
        #[command(subcommand)]
        action: lists::ListsAction,
    },
    /// Manage users. Passwords are read from standard input, or prompted for on a terminal.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Manage users' API tokens.
    Tokens {
        #[command(subcommand)]
        action: TokensAction,
    },
    /// Copy a SQLite database, consistently, while the server may be writing to it.
    Backup {
        /// The new file to write; it must not exist yet.
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Subcommand)]
enum UsersAction {
    /// Add a user.
    Add {
        name: String,
        /// Also give them every todo that belongs to nobody (made before accounts, or in open mode).
        #[arg(long)]
        claim_unowned: bool,
    },
    /// List the users and how many todos each has.
    List,
    /// Remove a user with their todos, sessions and API tokens.
    Remove { name: String },
    /// Set a user's password; their sessions end.
    Passwd { name: String },
    /// Give a user every todo that belongs to nobody.
    Claim { name: String },
}

#[derive(Debug, Clone, Subcommand)]
enum TokensAction {
    /// Print a new API token for a user (shown this once; only its hash is kept).
    Create {
        username: String,
        #[arg(long)]
        name: Option<String>,
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
                Command::Export { user } => {
                    lists::export(&mut *connection(&settings)?, user.as_deref())
                }
                Command::Import { file, user } => {
                    lists::import(&mut *connection(&settings)?, &file, user.as_deref())
                }
                Command::Lists { action } => lists::run(&mut *connection(&settings)?, action),
                Command::Users { action } => users(&settings, action),
                Command::Tokens { action } => tokens(&settings, action),
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
    crate::telemetry::init_logging(settings);
}

fn serve(settings: &Settings) -> Result<(), Box<dyn Error>> {
    settings.validate_for_serving()?;
    let (host, port) = (&settings.server.host, settings.server.port);
    let listener = TcpListener::bind((host.as_str(), port))
        .map_err(|err| format!("cannot listen on {host}:{port}: {err}"))?;
    let address = listener.local_addr()?;
    if settings.auth.mode == AuthMode::Open && settings.environment == Environment::Production {
        log::warn!(
            "*** auth.mode = \"open\" in production: there is no sign-in, and anyone who can \
             reach this server can read, change and delete every todo ***"
        );
    }
    let copy = listener.try_clone()?;
    actix_web::rt::System::new().block_on(async {
        let running = startup::build(settings, listener)?;
        running.stop_on_signal(copy, (settings.server.drain, settings.server.when_stopping));
        let database = &settings.database.url;
        log::info!(
            "serving http://{address} (environment {}, {} database {})",
            settings.environment,
            database.engine(),
            database.redacted()
        );
        if !settings.server.metrics_addr.is_empty() {
            // Without its metrics the server still serves: the failure is logged, not fatal.
            match startup::metrics_server(&settings.server.metrics_addr, &running) {
                Ok(metrics) => {
                    log::info!("metrics on http://{}/metrics", settings.server.metrics_addr);
                    actix_web::rt::spawn(metrics);
                }
                Err(err) => log::error!(
                    "no metrics: cannot listen on server.metrics_addr {}: {err}",
                    settings.server.metrics_addr
                ),
            }
        }
        running.server.await?;
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
            let applied = crate::models::run_pending_migrations(&mut conn)?;
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

fn find_user(conn: &mut db::DbConnection, name: &str) -> Result<User, Box<dyn Error>> {
    User::find_by_name(conn, name)?.ok_or_else(|| format!("there is no user {name:?}").into())
}

fn backup(settings: &Settings, path: &Path) -> Result<(), Box<dyn Error>> {
    db::backup_sqlite(&mut *connection(settings)?, path)?;
    println!("backed up to {}", path.display());
    Ok(())
}

/// A new password: prompted for twice on a terminal, else the first line of standard input.
fn read_new_password() -> Result<String, Box<dyn Error>> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.strip_suffix('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .unwrap_or(&line)
            .to_owned()
    };
    password::check(&password)?;
    Ok(password)
}

fn users(settings: &Settings, action: UsersAction) -> Result<(), Box<dyn Error>> {
    let mut conn = connection(settings)?;
    match action {
        UsersAction::Add {
            name,
            claim_unowned,
        } => {
            let name = Username::parse(&name)?;
            if User::find_by_name(&mut conn, name.as_str())?.is_some() {
                return Err(format!("the username {:?} is taken", name.as_str()).into());
            }
            let hash = password::hash(&read_new_password()?).map_err(|err| err.to_string())?;
            let user = User::add(&mut conn, &name, &hash, auth::now())?;
            println!("added {}", user.username);
            if claim_unowned {
                let count = User::claim_unowned(&mut conn, user.id())?;
                println!(
                    "{} now owns {count} todos that belonged to nobody",
                    user.username
                );
            }
        }
        UsersAction::List => {
            for (user, todos) in User::all_with_todo_counts(&mut conn)? {
                println!("{}\t{todos} todos", user.username);
            }
        }
        UsersAction::Remove { name } => {
            let user = find_user(&mut conn, &name)?;
            User::remove(&mut conn, user.id())?;
            println!(
                "removed {} with their todos, sessions and tokens",
                user.username
            );
        }
        UsersAction::Passwd { name } => {
            let user = find_user(&mut conn, &name)?;
            let hash = password::hash(&read_new_password()?).map_err(|err| err.to_string())?;
            User::set_password_hash(&mut conn, user.id(), &hash)?;
            let ended = Session::end_all(&mut conn, user.id())?;
            println!(
                "changed the password of {}; ended {ended} sessions",
                user.username
            );
        }
        UsersAction::Claim { name } => {
            let user = find_user(&mut conn, &name)?;
            let count = User::claim_unowned(&mut conn, user.id())?;
            println!(
                "{} now owns {count} todos that belonged to nobody",
                user.username
            );
        }
    }
    Ok(())
}

fn tokens(settings: &Settings, action: TokensAction) -> Result<(), Box<dyn Error>> {
    let mut conn = connection(settings)?;
    match action {
        TokensAction::Create { username, name } => {
            let user = find_user(&mut conn, &username)?;
            let (_, secret) =
                auth::create_api_token(&mut conn, user.id(), name.as_deref().unwrap_or_default())?;
            println!("{secret}");
        }
    }
    Ok(())
}
