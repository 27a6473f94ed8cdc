//! The list page as the server renders it: the whole app without JavaScript (forms for every
//! action, filters as links, an edit view), and the markup the Backbone app takes over.

use askama::Template;

use super::filter::Filter;
use crate::auth::Identity;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::lists::Access;
use crate::models::{
    List, MAX_LIST_TITLE_CHARS, MAX_TITLE_CHARS, Role, Todo, TodoId, UndoRecord, Visible,
};

/// What a page shows beyond the list: the todo being edited, what was typed, and messages.
#[derive(Debug, Default)]
pub struct PageState {
    pub filter: Filter,
    pub editing: Option<Editing>,
    /// A new todo's title that was refused, with why.
    pub new_todo: Option<(String, String)>,
    /// Something the user should know about their last action (a stale form, say).
    pub notice: Option<String>,
    /// A new list's title that was refused, with why.
    pub new_list: Option<(String, String)>,
    /// A rename that was refused: the title typed, and why.
    pub rename: Option<(String, String)>,
    /// The token of the last form action's undo, from the browser's cookie: the page offers it if
    /// it is this person's, on this list, and recent.
    pub undo_token: Option<String>,
}

/// The undo the page offers: what was done, and the token its form sends back.
pub struct UndoOffer {
    message: String,
    token: String,
}

/// One link of the list switcher.
pub struct ListLink {
    href: String,
    title: String,
    current: bool,
    shared: bool,
}

/// Where a list's page lives: `/` for the caller's default list reached as such, else
/// `/lists/{id}`; and its filters' paths under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageBase(pub String);

impl PageBase {
    /// The page of `access`'s list: the default list's is `/` (see `lists::Target`).
    pub fn of(access: &Access) -> PageBase {
        match &access.list {
            None => PageBase(String::new()),
            Some(visible) => PageBase(format!("/lists/{}", visible.list.id)),
        }
    }

    /// The page of the list a request names.
    pub fn of_target(target: crate::lists::Target) -> PageBase {
        match target {
            crate::lists::Target::Default => PageBase(String::new()),
            crate::lists::Target::List(id) => PageBase(format!("/lists/{id}")),
        }
    }

    /// The page's path under `filter`.
    pub fn at(&self, filter: Filter) -> String {
        match (self.0.as_str(), filter) {
            ("", filter) => filter.path().to_owned(),
            (base, Filter::All) => base.to_owned(),
            (base, filter) => format!("{base}{}", filter.path()),
        }
    }
}

/// The edit view of one todo: the title to show in the field, and why it was not saved.
#[derive(Debug)]
pub struct Editing {
    pub id: TodoId,
    pub title: Option<String>,
    pub message: Option<String>,
}

/// One `<li>`, as `todo-item.html` renders it. The page also renders a placeholder item inside a
/// `<template>`, with tokens the app replaces, so the item's markup exists once.
pub struct Item<'a> {
    id: String,
    title: &'a str,
    version: String,
    completed: bool,
    editing: bool,
    edit_title: &'a str,
    error: Option<&'a str>,
    /// Whether it has a todo above it, and one below, in the whole list.
    first: bool,
    last: bool,
}

impl<'a> Item<'a> {
    fn of(todo: &'a Todo, editing: Option<&'a Editing>, (first, last): (bool, bool)) -> Self {
        let editing = editing.filter(|editing| editing.id == todo.id);
        Item {
            first,
            last,
            id: todo.id.to_string(),
            title: &todo.title,
            version: todo.version.to_string(),
            completed: todo.completed,
            editing: editing.is_some(),
            edit_title: editing
                .and_then(|editing| editing.title.as_deref())
                .unwrap_or(&todo.title),
            error: editing.and_then(|editing| editing.message.as_deref()),
        }
    }

    fn placeholder() -> Self {
        Item {
            id: "__ID__".into(),
            title: "__TITLE__",
            version: "__VERSION__".into(),
            completed: false,
            editing: false,
            edit_title: "__TITLE__",
            error: None,
            first: false,
            last: false,
        }
    }
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    /// `` or `/lists/{id}`: what the forms' actions start with.
    base: &'a str,
    all_href: String,
    active_href: String,
    completed_href: String,
    /// The page under its filter: where an edit's Cancel goes.
    here: String,
    list_title: &'a str,
    list_id: String,
    role: &'static str,
    can_edit: bool,
    is_owner: bool,
    can_delete: bool,
    shared: bool,
    lists: Vec<ListLink>,
    /// The list's todos and live stream, for the app.
    todos_path: String,
    events_path: String,
    /// Tells this list's changes kept in the browser from other lists': empty for the caller's
    /// default list (as before lists), else `:list:{id}`.
    store_key: String,
    new_list_title: &'a str,
    new_list_error: Option<&'a str>,
    rename_title: &'a str,
    rename_error: Option<&'a str>,
    max_list_title: usize,
    items: Vec<Item<'a>>,
    placeholder: Item<'static>,
    any: bool,
    remaining: usize,
    completed: usize,
    filter: Filter,
    /// The todos as JSON for the front-end, safe to place inside a `<script>` element.
    todos_json: String,
    /// Who is signed in; `None` in open mode.
    username: Option<&'a str>,
    /// The list's change number the page shows: its live updates start after it.
    change: i64,
    editing: bool,
    new_title: &'a str,
    new_error: Option<&'a str>,
    notice: Option<&'a str>,
    max_title: usize,
    /// Todos can be moved: by an editor, with every todo shown (filter All).
    movable: bool,
    undo: Option<UndoOffer>,
}

/// The list the page shows, as its viewer sees it, and every list of theirs for the switcher.
fn lists_of(
    conn: &mut DbConnection,
    identity: &Identity,
    access: &Access,
) -> Result<(Visible, Vec<Visible>), AppError> {
    let user = identity.user_id();
    let this = match &access.list {
        Some(visible) => visible.clone(),
        None => List::access(conn, access.scope.list(), user)?
            .ok_or_else(|| AppError::internal("the caller's default list is missing"))?,
    };
    Ok((this, List::visible_to(conn, user)?))
}

/// The switcher's links: the caller's default list is `/`, any other `/lists/{id}`.
fn links(all: &[Visible], current: &Visible) -> Vec<ListLink> {
    all.iter()
        .map(|visible| ListLink {
            href: if visible.list.is_default && visible.role == Role::Owner {
                "/".to_owned()
            } else {
                format!("/lists/{}", visible.list.id)
            },
            title: visible.list.title.clone(),
            current: visible.list.id == current.list.id,
            shared: visible.is_shared(),
        })
        .collect()
}

/// The page of a list at `change`, for `identity`, who may do with it what `access` says.
pub fn render(
    conn: &mut DbConnection,
    (todos, change): (&[Todo], i64),
    todos_url: &str,
    (identity, access): (&Identity, &Access),
    state: &PageState,
) -> Result<Vec<u8>, AppError> {
    let json = String::from_utf8(Todo::list_json(todos, todos_url).map_err(AppError::internal)?)
        .map_err(AppError::internal)?;
    let completed = todos.iter().filter(|todo| todo.completed).count();
    let (this, all) = lists_of(conn, identity, access)?;
    let base = PageBase::of(access);
    let page = IndexPage {
        base: &base.0,
        all_href: base.at(Filter::All),
        active_href: base.at(Filter::Active),
        completed_href: base.at(Filter::Completed),
        here: base.at(state.filter),
        list_title: &this.list.title,
        list_id: this.list.id.to_string(),
        role: this.role.as_str(),
        can_edit: this.role.writes(),
        is_owner: this.role == Role::Owner,
        can_delete: this.role == Role::Owner && !this.list.is_default,
        shared: this.is_shared(),
        lists: links(&all, &this),
        todos_path: format!("{}/todos/", base.0),
        store_key: if this.list.is_default && this.role == Role::Owner {
            String::new()
        } else {
            format!(":list:{}", this.list.id)
        },
        events_path: if base.0.is_empty() {
            "/todos/events".to_owned()
        } else {
            format!("{}/events", base.0)
        },
        new_list_title: state.new_list.as_ref().map_or("", |(title, _)| title),
        new_list_error: state.new_list.as_ref().map(|(_, message)| message.as_str()),
        rename_title: state
            .rename
            .as_ref()
            .map_or(this.list.title.as_str(), |(title, _)| title),
        rename_error: state.rename.as_ref().map(|(_, message)| message.as_str()),
        max_list_title: MAX_LIST_TITLE_CHARS,
        items: todos
            .iter()
            .enumerate()
            .filter(|(_, todo)| state.filter.shows(todo))
            .map(|(place, todo)| {
                let ends = (place == 0, place + 1 == todos.len());
                Item::of(todo, state.editing.as_ref(), ends)
            })
            .collect(),
        placeholder: Item::placeholder(),
        any: !todos.is_empty(),
        remaining: todos.len() - completed,
        completed,
        filter: state.filter,
        todos_json: script_safe_json(&json),
        username: identity.user.as_ref().map(|user| user.username.as_str()),
        change,
        editing: state
            .editing
            .as_ref()
            .is_some_and(|editing| todos.iter().any(|todo| todo.id == editing.id)),
        new_title: state.new_todo.as_ref().map_or("", |(title, _)| title),
        new_error: state.new_todo.as_ref().map(|(_, message)| message.as_str()),
        notice: state.notice.as_deref(),
        max_title: MAX_TITLE_CHARS,
        movable: this.role.writes() && state.filter == Filter::All,
        undo: match &state.undo_token {
            Some(token) => UndoRecord::find(
                conn,
                (access.scope, identity.user_id()),
                &crate::auth::token::hash(token),
                crate::auth::now(),
            )?
            .map(|undo| UndoOffer {
                message: undo.message,
                token: token.clone(),
            }),
            None => None,
        },
    };
    page.render()
        .map(String::into_bytes)
        .map_err(|err| AppError::internal(format!("rendering the page: {err}")))
}

/// The page of a list as it is now, read in one snapshot, with what `state` adds.
pub fn render_current(
    conn: &mut DbConnection,
    who: (&Identity, &Access),
    todos_url: &str,
    state: &PageState,
) -> Result<actix_web::web::Bytes, AppError> {
    let (todos, change) = Todo::all_at_change(conn, who.1.scope)?;
    render(conn, (&todos, change), todos_url, who, state).map(actix_web::web::Bytes::from)
}

/// JSON that cannot end its `<script>` element early or open a comment: `<`, `>` and `&` only occur
/// inside JSON strings, where their `\uXXXX` escapes mean the same.
fn script_safe_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::script_safe_json;

    #[test]
    fn escaped_json_still_parses_to_the_same_value() {
        let original = serde_json::json!([{"title": "</script><!-- & -->"}]);
        let escaped = script_safe_json(&original.to_string());
        assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('&'));
        let parsed: serde_json::Value = serde_json::from_str(&escaped).expect("valid JSON");
        assert_eq!(parsed, original);
    }
}
