//! One line of the results table: a scenario's load, its ceiling and its target.

use crate::wrk::Load;

/// One line of the results table: a scenario's load, its ceiling and its target.
pub struct Row {
    pub scenario: String,
    pub app: Load,
    /// What the result is compared with, and its requests/s.
    pub ceiling: Option<(String, f64)>,
    /// The least ratio to the ceiling that meets the target.
    pub target: Option<f64>,
}

impl Row {
    pub fn new(scenario: String, app: Load) -> Row {
        Row {
            scenario,
            app,
            ceiling: None,
            target: None,
        }
    }

    pub fn against(mut self, ceiling: &str, rate: f64) -> Row {
        self.ceiling = Some((ceiling.to_owned(), rate));
        self
    }

    pub fn target(mut self, target: f64) -> Row {
        self.target = Some(target);
        self
    }

    pub fn ceiling_rate(&self) -> f64 {
        self.ceiling.as_ref().map_or(0.0, |(_, rate)| *rate)
    }

    /// The result as a share of the ceiling (0 without one).
    pub fn ratio(&self) -> f64 {
        let ceiling = self.ceiling_rate();
        if ceiling > 0.0 {
            self.app.requests_per_second / ceiling
        } else {
            0.0
        }
    }
}

/// How a target's line ends.
pub fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// A section's table of scenarios, with its head and no row yet.
pub fn scenario_table() -> Vec<String> {
    vec![
        "| scenario | result | target |".to_owned(),
        "|---|---|---|".to_owned(),
    ]
}
