//! The database URL, parsed once when settings load: it picks the engine, and it never shows its
//! password in a log or a message.

use std::time::Duration;

/// A database URL, checked before any connection is tried: MultiConnection would otherwise try
/// each engine in turn and report only the last one's error.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    /// What SQLite opens: a file path or a `file:` URI.
    Sqlite(String),
}

/// A URL that names no engine this server speaks (its password left out).
#[derive(Debug, thiserror::Error)]
#[error(
    "database URL {0:?} is not supported: use postgres://user:password@host/db, or a SQLite file \
     path such as todos.db or sqlite://todos.db"
)]
pub struct UnsupportedUrl(pub String);

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, UnsupportedUrl> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(Self::Sqlite(path.to_owned()));
        }
        // Anything else with a scheme (mysql://, http://) is not a SQLite path either.
        if url.is_empty() || url.contains("://") {
            return Err(UnsupportedUrl(redact(url)));
        }
        Ok(Self::Sqlite(url.to_owned()))
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "PostgreSQL",
            Self::Sqlite(_) => "SQLite",
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// What the driver is given, before any options are added: the PostgreSQL URL, or the path
    /// SQLite opens.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Postgres(url) | Self::Sqlite(url) => url,
        }
    }

    /// The URL, fit for logs and error messages: without its password.
    pub fn redacted(&self) -> String {
        match self {
            Self::Postgres(url) => redact(url),
            Self::Sqlite(path) => path.clone(),
        }
    }

    /// What the driver is given. A PostgreSQL URL gets a connect timeout unless it has one, so
    /// that an unreachable host fails in seconds rather than after the system's TCP timeout.
    pub fn connection_string(&self, connect_timeout: Duration) -> String {
        match self {
            Self::Postgres(url) if !url.contains("connect_timeout=") => {
                let seconds = connect_timeout.as_millis().div_ceil(1000).max(2);
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}connect_timeout={seconds}")
            }
            Self::Postgres(url) | Self::Sqlite(url) => url.clone(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.engine(), self.redacted())
    }
}

/// `scheme://user:password@host` becomes `scheme://user:***@host`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{DatabaseUrl, redact};

    #[test]
    fn the_scheme_picks_the_engine() {
        for url in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db?sslmode=require",
        ] {
            assert!(
                matches!(DatabaseUrl::parse(url), Ok(DatabaseUrl::Postgres(_))),
                "{url}"
            );
        }
        for (url, path) in [
            ("todos.db", "todos.db"),
            ("sqlite://data/t.db", "data/t.db"),
        ] {
            assert_eq!(
                DatabaseUrl::parse(url).ok(),
                Some(DatabaseUrl::Sqlite(path.into()))
            );
        }
        for url in ["mysql://h/db", "http://h/db", "", "  "] {
            assert!(DatabaseUrl::parse(url).is_err(), "{url:?}");
        }
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db.internal:5432/todos"),
            "postgres://app:***@db.internal:5432/todos"
        );
        assert_eq!(redact("postgres://app@db/todos"), "postgres://app@db/todos");
        let err = DatabaseUrl::parse("mysql://root:hunter2@h/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
