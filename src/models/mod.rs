//! Diesel models: their rows, their queries and their JSON. Nothing here knows about HTTP.

mod api_token;
mod change;
mod clock;
mod generations;
mod ical;
mod ical_filter;
mod idempotency_key;
mod ids;
mod list;
mod list_dav_name;
mod list_export;
mod migrations;
mod scope;
mod session;
mod sign_in_failure;
mod todo;
mod todo_object;
mod undo;
mod user;

pub use api_token::{ApiToken, MAX_TOKEN_NAME_CHARS};
pub use change::Change;
pub use clock::now;
pub use generations::Generations;
pub use ical::{IcalError, TodoIcal, render as render_ical};
pub use ical_filter::{
    Collation, CompFilter, MatchType, ParamFilter, PropFilter, TextMatch, TimeRange,
};
pub use idempotency_key::IdempotencyKey;
pub use ids::{ListId, SessionId, TodoId, TokenId, UserId};
pub use list::{
    DEFAULT_LIST_TITLE, List, ListJson, MAX_LIST_TITLE_CHARS, Member, MemberRole, Role, Visible,
    parse_list_title,
};
pub use list_dav_name::{ListDavName, MAX_DAV_NAME_BYTES};
pub use list_export::{Imported, LISTS_FORMAT, ListsExport};
pub use migrations::run_pending_migrations;
pub use scope::ListScope;
pub use session::Session;
pub use sign_in_failure::{FailureCount, FailureCounts, SignInFailure, SignUpAttempt};
pub use todo::{
    ImportError, ImportRecord, MAX_TITLE_CHARS, MoveFields, MoveOutcome, MoveTo, NewTodo,
    NewTodoFields, ORDER_GAP, RestoreOutcome, Todo, TodoChanges, TodoFields, TodoJson,
    ValidationError, WriteOutcome,
};
pub use todo_object::{SentObject, TodoObject};
pub use undo::{UNDO_FOR_SECS, Undo, UndoConflict, UndoRecord, UndoStep};
pub use user::{
    AddUserError, MAX_USERNAME_CHARS, NormalizeError, User, Username, UsernameCollisions,
};
