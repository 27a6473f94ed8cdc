//! Who may do what with a list: the one place that turns a verified caller and the list a request
//! names into the scope its queries run in, or the refusal (404 for a list you are not on, 403 for
//! what your role does not allow).

use actix_web::http::StatusCode;

use crate::auth::Identity;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::models::{List, ListId, ListScope, Role, Visible};

/// Which list a request means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The caller's default list: `/todos`, `/` and the page's forms.
    Default,
    /// `/lists/{id}/...`.
    List(ListId),
}

/// What a request needs to do with the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read its todos (any role).
    Read,
    /// Change its todos (owner or editor).
    Write,
    /// Rename or delete it, or change its members (owner only).
    Own,
}

/// What the lists service refuses. Each variant says its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// 404: no such list, or not one the caller is on (which, for them, is the same).
    #[error("there is no list with id {0}")]
    NotFound(ListId),
    /// 403: a viewer's write.
    #[error("you can view “{0}” but not change it")]
    ReadOnly(String),
    /// 403: what only the owner may do.
    #[error("only the owner of “{title}” can {what}")]
    OwnerOnly { title: String, what: &'static str },
}

impl From<ListError> for AppError {
    fn from(err: ListError) -> Self {
        match err {
            ListError::NotFound(_) => Self::NotFound(err.to_string()),
            ListError::ReadOnly(_) | ListError::OwnerOnly { .. } => {
                Self::Forbidden(err.to_string())
            }
        }
    }
}

impl ListError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::ReadOnly(_) | Self::OwnerOnly { .. } => StatusCode::FORBIDDEN,
        }
    }
}

/// A caller's checked access to one list: the scope its queries run in, and their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub scope: ListScope,
    pub role: Role,
    /// The list as the caller sees it; `None` for the default list, which needs no query.
    pub list: Option<Visible>,
}

/// The list `target` names, if `who` may do `need` with it. The caller's own default list needs
/// no query (they own it); any other is read with the caller's role in it.
pub fn access(
    conn: &mut DbConnection,
    who: &Identity,
    target: Target,
    need: Need,
) -> Result<Result<Access, ListError>, diesel::result::Error> {
    let list = match target {
        Target::Default if need != Need::Own => {
            return Ok(Ok(Access {
                scope: who.scope,
                role: Role::Owner,
                list: None,
            }));
        }
        Target::Default => who.scope.list(),
        Target::List(id) => id,
    };
    let user = who.user_id();
    let Some(visible) = List::access(conn, list, user)? else {
        return Ok(Err(ListError::NotFound(list)));
    };
    Ok(allowed(visible, need))
}

/// Whether the role allows `need`.
fn allowed(visible: Visible, need: Need) -> Result<Access, ListError> {
    let role = visible.role;
    match need {
        Need::Read => {}
        Need::Write if role.writes() => {}
        Need::Write => return Err(ListError::ReadOnly(visible.list.title)),
        Need::Own if role == Role::Owner => {}
        Need::Own => {
            return Err(ListError::OwnerOnly {
                title: visible.list.title,
                what: "rename or delete it, or change who is on it",
            });
        }
    }
    Ok(Access {
        scope: ListScope::of(visible.list.id),
        role,
        list: Some(visible),
    })
}
