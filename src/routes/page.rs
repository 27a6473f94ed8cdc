//! The list page as the server renders it: the whole app without JavaScript (forms for every
//! action, filters as links, an edit view), and the markup the Backbone app takes over.

use askama::Template;

use super::filter::Filter;
use crate::auth::Identity;
use crate::error::AppError;
use crate::lists::Access;
use crate::models::{MAX_TITLE_CHARS, Todo, TodoId};

/// What a page shows beyond the list: the todo being edited, what was typed, and messages.
#[derive(Debug, Default)]
pub struct PageState {
    pub filter: Filter,
    pub editing: Option<Editing>,
    /// A new todo's title that was refused, with why.
    pub new_todo: Option<(String, String)>,
    /// Something the user should know about their last action (a stale form, say).
    pub notice: Option<String>,
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
}

impl<'a> Item<'a> {
    fn of(todo: &'a Todo, editing: Option<&'a Editing>) -> Self {
        let editing = editing.filter(|editing| editing.id == todo.id);
        Item {
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
        }
    }
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
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
}

/// The page of a list at `change`, for `identity`, who may do with it what `access` says.
pub fn render(
    todos: &[Todo],
    change: i64,
    base: &str,
    (identity, _access): (&Identity, &Access),
    state: &PageState,
) -> Result<Vec<u8>, AppError> {
    let json = String::from_utf8(Todo::list_json(todos, base).map_err(AppError::internal)?)
        .map_err(AppError::internal)?;
    let completed = todos.iter().filter(|todo| todo.completed).count();
    let page = IndexPage {
        items: todos
            .iter()
            .filter(|todo| state.filter.shows(todo))
            .map(|todo| Item::of(todo, state.editing.as_ref()))
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
    };
    page.render()
        .map(String::into_bytes)
        .map_err(|err| AppError::internal(format!("rendering the page: {err}")))
}

/// The page of a list as it is now, read in one snapshot, with what `state` adds.
pub fn render_current(
    conn: &mut crate::db::DbConnection,
    who: (&Identity, &Access),
    base: &str,
    state: &PageState,
) -> Result<actix_web::web::Bytes, AppError> {
    let (todos, change) = Todo::all_at_change(conn, who.1.scope)?;
    render(&todos, change, base, who, state).map(actix_web::web::Bytes::from)
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
