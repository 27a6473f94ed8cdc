//! Which todos the page lists (`/`, `/active`, `/completed`), as the page, its forms and the kept
//! renderings name it.

use crate::models::Todo;

/// Which todos the page lists: `/`, `/active` or `/completed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Filter {
    #[default]
    All,
    Active,
    Completed,
}

impl Filter {
    /// The filter a form names (its hidden `filter` field); anything else is all.
    pub fn named(name: &str) -> Self {
        match name {
            "active" => Self::Active,
            "completed" => Self::Completed,
            _ => Self::All,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::All => "",
            Self::Active => "active",
            Self::Completed => "completed",
        }
    }

    /// The page's path for this filter, where forms go back to.
    pub fn path(self) -> &'static str {
        match self {
            Self::All => "/",
            Self::Active => "/active",
            Self::Completed => "/completed",
        }
    }

    /// Whether the page under this filter lists `todo`.
    pub fn shows(self, todo: &Todo) -> bool {
        match self {
            Self::All => true,
            Self::Active => !todo.completed,
            Self::Completed => todo.completed,
        }
    }
}
