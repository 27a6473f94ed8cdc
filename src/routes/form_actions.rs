//! What each of the page's forms does to the list (see `forms` for how a form is run): every
//! TodoMVC action, moving a todo up or down, and undoing the last action. Each action that can
//! be undone leaves an `Undo` of exactly what it changed.

use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use super::filter::Filter;
use super::page::{Editing, PageState};
use crate::auth::token;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::lists::Access;
use crate::models::{
    MoveOutcome, NewTodo, Todo, TodoChanges, TodoId, Undo, UndoRecord, UndoStep, WriteOutcome,
};
use std::collections::HashMap;

/// A form's fields, by name.
pub struct Fields(pub HashMap<String, String>);

impl Fields {
    pub fn text(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    pub fn filter(&self) -> Filter {
        Filter::named(self.text("filter"))
    }

    /// The version the form was rendered with: writes are conditional on it, as with If-Match.
    pub fn version(&self) -> Option<Vec<i32>> {
        self.text("version")
            .parse()
            .ok()
            .map(|version| vec![version])
    }

    pub fn flag(&self, name: &str) -> bool {
        self.text(name) == "true"
    }
}

/// What a form does, on the caller's connection, to the list the caller may write: `Doer` says
/// who, for the undo it leaves.
pub type Action =
    Box<dyn FnOnce(&mut DbConnection, &Access, &Doer) -> Result<Outcome, AppError> + Send>;

/// Who submitted a form: the undo of their action is theirs alone.
pub struct Doer(pub Option<crate::models::UserId>);

/// Done (back to the page, with an undo of what was done, if it can be undone), or the page again
/// with a status and what to show.
pub enum Outcome {
    Done(Option<Undo>),
    Again(StatusCode, Box<PageState>),
}

/// The page again, with `message` at the top.
pub fn notice(filter: Filter, status: StatusCode, message: String) -> Outcome {
    Outcome::Again(
        status,
        Box::new(PageState {
            filter,
            notice: Some(message),
            ..PageState::default()
        }),
    )
}

/// A sentence from a model's message: "title must not be empty" reads "Title must not be empty."
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str())
    })
}

fn title_body(title: &str) -> Map<String, Value> {
    Map::from_iter([("title".to_owned(), Value::String(title.to_owned()))])
}

fn gone(filter: Filter) -> Outcome {
    notice(
        filter,
        StatusCode::NOT_FOUND,
        "That todo no longer exists; it was deleted elsewhere.".into(),
    )
}

fn stale_notice(filter: Filter, now: &Todo, what: &str) -> Outcome {
    notice(
        filter,
        StatusCode::PRECONDITION_FAILED,
        format!(
            "“{}” was changed elsewhere while this page was open, so {what}",
            now.title
        ),
    )
}

pub fn add(fields: &Fields, _: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let typed = fields.text("title").to_owned();
    Box::new(
        move |conn, who, _| match NewTodo::from_json(&title_body(&typed)) {
            Ok(new) => {
                Todo::create(conn, who.scope, new)?;
                Ok(Outcome::Done(None))
            }
            Err(invalid) => Ok(Outcome::Again(
                StatusCode::UNPROCESSABLE_ENTITY,
                Box::new(PageState {
                    filter,
                    new_todo: Some((typed, sentence(&invalid.message))),
                    ..PageState::default()
                }),
            )),
        },
    )
}

pub fn toggle(fields: &Fields, id: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let expected = fields.version();
    let completed = fields.flag("completed");
    Box::new(move |conn, who, _| {
        // Every form with an id in its path has one.
        let Some(id) = id else {
            return Ok(gone(filter));
        };
        let changes = TodoChanges {
            completed: Some(completed),
            ..TodoChanges::default()
        };
        Ok(
            match Todo::update(conn, who.scope, id, &changes, expected.as_deref())? {
                WriteOutcome::Done(todo) => Outcome::Done(Some(Undo {
                    message: format!(
                        "Marked “{}” {}.",
                        todo.title,
                        if completed {
                            "complete"
                        } else {
                            "not complete"
                        }
                    ),
                    steps: vec![UndoStep::Revert {
                        id,
                        version: todo.version,
                        title: None,
                        completed: Some(!completed),
                    }],
                })),
                WriteOutcome::NotFound => gone(filter),
                WriteOutcome::Stale(now) => {
                    stale_notice(filter, &now, "nothing was changed. This is how it is now.")
                }
            },
        )
    })
}

/// Saves a new title; an empty one deletes the todo, as in TodoMVC.
pub fn edit(fields: &Fields, id: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let expected = fields.version();
    let typed = fields.text("title").to_owned();
    Box::new(move |conn, who, _| {
        // Every form with an id in its path has one.
        let Some(id) = id else {
            return Ok(gone(filter));
        };
        let again = |status, title: Option<String>, message: String| {
            Outcome::Again(
                status,
                Box::new(PageState {
                    filter,
                    editing: Some(Editing {
                        id,
                        title,
                        message: Some(message),
                    }),
                    ..PageState::default()
                }),
            )
        };
        let stale = |now: Todo| {
            again(
                StatusCode::PRECONDITION_FAILED,
                None,
                format!(
                    "This todo was changed elsewhere while you edited it: it now reads “{}”. \
                     Your text, “{}”, was not saved.",
                    now.title,
                    typed.trim()
                ),
            )
        };
        let Some(before) = Todo::find(conn, who.scope, id)? else {
            return Ok(if typed.trim().is_empty() {
                Outcome::Done(None)
            } else {
                gone(filter)
            });
        };
        if typed.trim().is_empty() {
            return Ok(
                match Todo::delete(conn, who.scope, id, expected.as_deref())? {
                    WriteOutcome::Done(()) => Outcome::Done(Some(deleted(&before))),
                    WriteOutcome::NotFound => Outcome::Done(None),
                    WriteOutcome::Stale(now) => stale(now),
                },
            );
        }
        let changes = match TodoChanges::from_json(&title_body(&typed)) {
            Ok(changes) => changes,
            Err(invalid) => {
                return Ok(again(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(typed.clone()),
                    sentence(&invalid.message),
                ));
            }
        };
        Ok(
            match Todo::update(conn, who.scope, id, &changes, expected.as_deref())? {
                WriteOutcome::Done(todo) if todo.title == before.title => Outcome::Done(None),
                WriteOutcome::Done(todo) => Outcome::Done(Some(Undo {
                    message: format!("Renamed “{}” to “{}”.", before.title, todo.title),
                    steps: vec![UndoStep::Revert {
                        id,
                        version: todo.version,
                        title: Some(before.title),
                        completed: None,
                    }],
                })),
                WriteOutcome::NotFound => gone(filter),
                WriteOutcome::Stale(now) => stale(now),
            },
        )
    })
}

fn deleted(todo: &Todo) -> Undo {
    Undo::restore(
        format!("Deleted “{}”.", todo.title),
        std::slice::from_ref(todo),
    )
}

pub fn delete(fields: &Fields, id: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let expected = fields.version();
    Box::new(move |conn, who, _| {
        // Every form with an id in its path has one.
        let Some(id) = id else {
            return Ok(gone(filter));
        };
        let Some(before) = Todo::find(conn, who.scope, id)? else {
            return Ok(Outcome::Done(None));
        };
        Ok(
            match Todo::delete(conn, who.scope, id, expected.as_deref())? {
                WriteOutcome::Done(()) => Outcome::Done(Some(deleted(&before))),
                WriteOutcome::NotFound => Outcome::Done(None),
                WriteOutcome::Stale(now) => stale_notice(
                    filter,
                    &now,
                    "it was not deleted. Delete it again if you still want to.",
                ),
            },
        )
    })
}

pub fn toggle_all(fields: &Fields, _: Option<TodoId>) -> Action {
    let completed = fields.flag("completed");
    Box::new(move |conn, who, _| {
        let changed = Todo::complete_all(conn, who.scope, completed)?;
        if changed.is_empty() {
            return Ok(Outcome::Done(None));
        }
        Ok(Outcome::Done(Some(Undo {
            message: format!(
                "Marked {} {} {}.",
                changed.len(),
                if changed.len() == 1 { "todo" } else { "todos" },
                if completed {
                    "complete"
                } else {
                    "not complete"
                }
            ),
            steps: changed
                .iter()
                .map(|todo| UndoStep::Revert {
                    id: todo.id,
                    version: todo.version,
                    title: None,
                    completed: Some(!completed),
                })
                .collect(),
        })))
    })
}

pub fn clear_completed(_: &Fields, _: Option<TodoId>) -> Action {
    Box::new(move |conn, who, _| {
        let cleared = Todo::delete_all(conn, who.scope, Some(true))?;
        if cleared.is_empty() {
            return Ok(Outcome::Done(None));
        }
        let message = match cleared.as_slice() {
            [one] => format!("Cleared “{}”.", one.title),
            many => format!("Cleared {} completed todos.", many.len()),
        };
        Ok(Outcome::Done(Some(Undo::restore(message, &cleared))))
    })
}

/// Moves a todo one place up or down (`direction`), in the whole list. A form rendered before
/// another change of the todo moves it from where it is now: the user is not asked.
pub fn move_todo(fields: &Fields, id: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let direction = fields.text("direction").to_owned();
    Box::new(move |conn, who, _| {
        let Some(id) = id else {
            return Ok(gone(filter));
        };
        let up = match direction.as_str() {
            "up" => true,
            "down" => false,
            _ => {
                return Ok(notice(
                    filter,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "A todo moves up or down: direction must be “up” or “down”.".into(),
                ));
            }
        };
        let list = Todo::all(conn, who.scope)?;
        let Some(place) = list.iter().position(|todo| todo.id == id) else {
            return Ok(gone(filter));
        };
        // The todo it follows now, and the one it is to follow.
        let follows = place.checked_sub(1).map(|before| list[before].id);
        let after = if up {
            match place {
                0 => return Ok(Outcome::Done(None)),
                1 => None,
                _ => Some(list[place - 2].id),
            }
        } else {
            match list.get(place + 1) {
                Some(next) => Some(next.id),
                None => return Ok(Outcome::Done(None)),
            }
        };
        Ok(match Todo::move_after(conn, who.scope, id, after, None)? {
            MoveOutcome::Done(todo) => {
                let to = if up { place } else { place + 2 };
                Outcome::Done(Some(Undo {
                    message: format!("Moved “{}” to position {to} of {}.", todo.title, list.len()),
                    steps: vec![UndoStep::MoveBack {
                        id,
                        version: todo.version,
                        after: follows,
                    }],
                }))
            }
            _ => gone(filter),
        })
    })
}

/// Undoes the action whose token the form carries, all of it, or nothing if any todo it
/// touched was changed since.
pub fn undo(fields: &Fields, _: Option<TodoId>) -> Action {
    let filter = fields.filter();
    let token = fields.text("token").to_owned();
    Box::new(move |conn, who, doer| {
        let now = crate::auth::now();
        let Some(undo) = UndoRecord::take(conn, (who.scope, doer.0), &token::hash(&token), now)?
        else {
            return Ok(notice(
                filter,
                StatusCode::CONFLICT,
                "There is nothing to undo: that action was undone already, another came after \
                 it, or it is too long ago."
                    .into(),
            ));
        };
        Ok(match undo.apply(conn, who.scope)? {
            Ok(()) => Outcome::Done(None),
            Err(conflict) => notice(
                filter,
                StatusCode::PRECONDITION_FAILED,
                match conflict.title {
                    Some(title) => format!(
                        "“{title}” was changed after that, so nothing was undone. This is how \
                         the list is now."
                    ),
                    None => "A todo it changed was deleted after that, so nothing was undone. \
                             This is how the list is now."
                        .into(),
                },
            ),
        })
    })
}
