//! The lists export (`todomvc export --user NAME`): a user's own lists, each with its title, its
//! members by username, and its todos in the todos export format; and reading it back.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::UserId;
use super::list::{List, MemberRole, parse_list_title};
use super::scope::ListScope;
use super::todo::{ImportError, ImportRecord, Todo};
use super::user::User;
use crate::db::{self, DbConnection};

/// What the export's `format` field says.
pub const LISTS_FORMAT: &str = "todomvc-lists";

#[derive(Debug, Serialize, Deserialize)]
pub struct ListsExport {
    pub format: String,
    pub lists: Vec<ExportedList>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExportedList {
    pub title: String,
    /// The account's default list: imported into the importing user's default list.
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub members: Vec<ExportedMember>,
    #[serde(default)]
    pub todos: Vec<Value>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExportedMember {
    pub username: String,
    pub role: String,
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub lists: usize,
    pub todos: usize,
    pub members: usize,
}

impl ListsExport {
    /// Every list `owner` owns, the default one first, with its members and todos.
    pub fn of(conn: &mut DbConnection, owner: UserId) -> diesel::QueryResult<ListsExport> {
        let mut lists = Vec::new();
        for visible in List::visible_to(conn, Some(owner))? {
            if visible.list.owner_id != Some(owner) {
                continue;
            }
            let members = List::members(conn, &visible.list)?
                .into_iter()
                .filter(|member| member.role != super::Role::Owner)
                .map(|member| ExportedMember {
                    username: member.username,
                    role: member.role.as_str().to_owned(),
                })
                .collect();
            let todos = Todo::all(conn, ListScope::of(visible.list.id))?
                .iter()
                .map(Todo::to_export)
                .collect();
            lists.push(ExportedList {
                title: visible.list.title,
                default: visible.list.is_default,
                members,
                todos,
            });
        }
        Ok(ListsExport {
            format: LISTS_FORMAT.to_owned(),
            lists,
        })
    }

    /// Reads an export written by [`ListsExport::of`].
    pub fn parse(json: Value) -> Result<ListsExport, ImportError> {
        if json.get("format").is_none() {
            return Err(ImportError::Format(format!(
                "expected a JSON array of todos, or a lists export (with \"format\": \"{LISTS_FORMAT}\")"
            )));
        }
        let export: ListsExport =
            serde_json::from_value(json).map_err(|err| ImportError::Format(err.to_string()))?;
        if export.format != LISTS_FORMAT {
            return Err(ImportError::Format(format!(
                "format must be {LISTS_FORMAT:?}, not {:?}",
                export.format
            )));
        }
        Ok(export)
    }

    /// Loads the lists for `owner` in one transaction, all of it or nothing: the default list's
    /// todos join the owner's default list (which takes its title), every other list is made
    /// anew, and members are found by username (an unknown one refuses the import).
    pub fn import(
        self,
        conn: &mut DbConnection,
        owner: UserId,
        now: i64,
    ) -> Result<Imported, ImportError> {
        db::write_transaction(conn, |conn| {
            let mut imported = Imported::default();
            for (index, exported) in self.lists.into_iter().enumerate() {
                let fail = |message: String| {
                    ImportError::Format(format!(
                        "list {} ({:?}): {message}",
                        index + 1,
                        exported.title
                    ))
                };
                let title = parse_list_title(Some(&Value::String(exported.title.clone())))
                    .map_err(|err| fail(err.to_string()))?;
                let list = match List::default_of(conn, owner)? {
                    Some(default) if exported.default => {
                        List::rename(conn, default.id, &title)?;
                        default
                    }
                    _ => List::create(conn, Some(owner), &title, now)?,
                };
                for member in &exported.members {
                    let role = MemberRole::parse(&member.role).ok_or_else(|| {
                        fail(format!(
                            "role must be \"editor\" or \"viewer\", not {:?}",
                            member.role
                        ))
                    })?;
                    let user = User::find_by_name(conn, &member.username)?
                        .filter(|user| user.id != owner)
                        .ok_or_else(|| {
                            fail(format!(
                                "there is no other user {:?} to share it with",
                                member.username
                            ))
                        })?;
                    List::put_member(conn, list.id, user.id, role, now)?;
                    imported.members += 1;
                }
                let records = ImportRecord::parse_values(&exported.todos)
                    .map_err(|err| fail(err.to_string()))?;
                imported.todos += Todo::import(conn, ListScope::of(list.id), records).map_err(
                    |err| match err {
                        ImportError::Database(err) => ImportError::Database(err),
                        other => fail(other.to_string()),
                    },
                )?;
                imported.lists += 1;
            }
            Ok(imported)
        })
    }
}
