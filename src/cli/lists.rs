//! Operators' commands for lists: export and import (a user's lists, or open mode's todos), and
//! `todomvc lists` (a user's lists; share and unshare).

use std::error::Error;
use std::io::{Read, Write};
use std::path::Path;

use clap::Subcommand;
use serde_json::Value;

use super::find_user;
use crate::db::DbConnection;
use crate::models::{
    ImportRecord, List, ListId, ListScope, ListsExport, MemberRole, Role, Todo, User,
};

#[derive(Debug, Clone, Subcommand)]
pub enum ListsAction {
    /// A user's lists: the ones they own and the ones shared with them.
    List {
        /// Whose lists.
        user: String,
    },
    /// Share a list with a user as an editor or a viewer (or change their role).
    Share {
        /// The list's id (as `todomvc lists list` shows it).
        list: ListId,
        user: String,
        /// `editor` (reads and writes its todos) or `viewer` (reads them).
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// Take a user off a list.
    Unshare { list: ListId, user: String },
}

/// The default list of the named user, or open mode's list without a name.
fn default_list(conn: &mut DbConnection, user: Option<&str>) -> Result<ListScope, Box<dyn Error>> {
    let Some(name) = user else {
        return Ok(ListScope::of(ListId::OPEN));
    };
    let user = find_user(conn, name)?;
    let list = List::default_of(conn, user.id())?
        .ok_or_else(|| format!("the user {name:?} has no default list"))?;
    Ok(ListScope::of(list.id))
}

/// `todomvc export`: a user's lists (the lists format), or open mode's todos (an array).
pub fn export(conn: &mut DbConnection, user: Option<&str>) -> Result<(), Box<dyn Error>> {
    let json = match user {
        Some(name) => {
            let user = find_user(conn, name)?;
            serde_json::to_value(ListsExport::of(conn, user.id())?)?
        }
        None => {
            let todos = Todo::all(conn, ListScope::of(ListId::OPEN))?;
            Value::Array(todos.iter().map(Todo::to_export).collect())
        }
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &json)?;
    writeln!(out)?;
    Ok(())
}

/// `todomvc import`: the lists format for a user, or an array of todos into a default list.
pub fn import(
    conn: &mut DbConnection,
    file: &Path,
    user: Option<&str>,
) -> Result<(), Box<dyn Error>> {
    let mut json = String::new();
    if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut json)?;
    } else {
        json = std::fs::read_to_string(file)
            .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
    }
    let value: Value =
        serde_json::from_str(&json).map_err(|err| format!("the file is not an export: {err}"))?;
    if value.is_array() {
        let records = ImportRecord::parse_all(&json)?;
        let scope = default_list(conn, user)?;
        let count = Todo::import(conn, scope, records)?;
        println!("imported {count} todos");
        return Ok(());
    }
    let export = ListsExport::parse(value)?;
    let name = user.ok_or("a user's lists are imported for a user: add --user NAME")?;
    let owner = find_user(conn, name)?;
    let imported = export.import(conn, owner.id(), crate::auth::now())?;
    println!(
        "imported {} lists with {} todos and {} members for {}",
        imported.lists, imported.todos, imported.members, owner.username
    );
    Ok(())
}

/// `todomvc lists ...`.
pub fn run(conn: &mut DbConnection, action: ListsAction) -> Result<(), Box<dyn Error>> {
    match action {
        ListsAction::List { user } => {
            let user = find_user(conn, &user)?;
            for visible in List::visible_to(conn, Some(user.id()))? {
                let todos = Todo::all(conn, ListScope::of(visible.list.id))?.len();
                let members: Vec<String> = List::members(conn, &visible.list)?
                    .into_iter()
                    .filter(|member| member.role != Role::Owner)
                    .map(|member| format!("{} ({})", member.username, member.role.as_str()))
                    .collect();
                println!(
                    "{}\t{}\t{}\towner {}\t{todos} todos\t{}",
                    visible.list.id,
                    visible.list.title,
                    visible.role.as_str(),
                    visible.owner.as_deref().unwrap_or("-"),
                    if members.is_empty() {
                        "not shared".to_owned()
                    } else {
                        members.join(", ")
                    }
                );
            }
        }
        ListsAction::Share { list, user, role } => {
            let role = MemberRole::parse(&role)
                .ok_or_else(|| format!("--role must be editor or viewer, not {role:?}"))?;
            let (list, user) = list_and_user(conn, list, &user)?;
            List::put_member(conn, list.id, user.id(), role, crate::auth::now())?;
            println!(
                "{} is now a{} {} of {} {:?}",
                user.username,
                if role == MemberRole::Editor { "n" } else { "" },
                role.as_str(),
                list.id,
                list.title
            );
        }
        ListsAction::Unshare { list, user } => {
            let (list, user) = list_and_user(conn, list, &user)?;
            if !List::remove_member(conn, list.id, user.id())? {
                return Err(
                    format!("{} is not on {} {:?}", user.username, list.id, list.title).into(),
                );
            }
            println!(
                "{} is no longer on {} {:?}",
                user.username, list.id, list.title
            );
        }
    }
    Ok(())
}

/// A list by id and a user by name, for sharing: the list must have an owner other than the user.
fn list_and_user(
    conn: &mut DbConnection,
    id: ListId,
    name: &str,
) -> Result<(List, User), Box<dyn Error>> {
    let user = find_user(conn, name)?;
    let list = List::find(conn, id)?.ok_or_else(|| format!("there is no list {id}"))?;
    match list.owner_id {
        None => Err(format!("list {id} is open mode's: it has no owner to share it").into()),
        Some(owner) if owner == user.id() => Err(format!(
            "{} owns list {id}: an owner has no role to give",
            user.username
        )
        .into()),
        Some(_) => Ok((list, user)),
    }
}
