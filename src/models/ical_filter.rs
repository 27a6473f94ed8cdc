//! CalDAV's `calendar-query` filter (RFC 4791 §9.7) as a typed value, and whether a stored
//! iCalendar object matches it: component and property filters, `is-not-defined`, `text-match`
//! (collations, negation), parameter filters, and time ranges on VTODOs (§9.9) and on
//! date-time properties. Where an answer would need a time zone or a recurrence expanded, the
//! object matches: a query may answer a superset, never miss a task.

use chrono::NaiveDateTime;
use icalendar::parser::{Component, Property, read_components, unfold};
use icalendar::{CalendarDateTime, DatePerhapsTime};

use super::ical::{named, text};

/// A `comp-filter`: a component of this name (or none, with `is_not_defined`) whose properties
/// and subcomponents pass the nested filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub time_range: Option<TimeRange>,
    pub props: Vec<PropFilter>,
    pub comps: Vec<CompFilter>,
    /// `test="anyof"`: one nested filter passing is enough (the default is all of them).
    pub any_of: bool,
}

/// A `prop-filter`: a property of this name that passes the tests (or none, with `IsNotDefined`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub time_range: Option<TimeRange>,
    pub text_match: Option<TextMatch>,
    pub params: Vec<ParamFilter>,
    pub any_of: bool,
}

/// A `param-filter` on a property's parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub text_match: Option<TextMatch>,
}

/// How a `text-match` compares (its `collation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collation {
    /// `i;octet`: as the bytes are.
    Octet,
    /// `i;ascii-casemap`, the default: ASCII letters in either case.
    AsciiCasemap,
    /// `i;unicode-casemap`: any letters in either case.
    UnicodeCasemap,
}

/// Where the text must be (`match-type`, as CalDAV servers and clients extend RFC 4791).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Contains,
    Equals,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    pub text: String,
    pub collation: Collation,
    pub match_type: MatchType,
    pub negate: bool,
}

/// A `time-range`, in seconds since the epoch (UTC); an open end is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// How far a floating or zoned time can be from the same digits in UTC.
const ZONE_SLACK_SECS: i64 = 14 * 3600;

/// A point in time read from a property; `exact` when it was UTC.
#[derive(Debug, Clone, Copy)]
struct At {
    secs: i64,
    exact: bool,
}

fn at(property: &Property<'_>) -> Option<At> {
    match DatePerhapsTime::try_from(property).ok()? {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(utc)) => Some(At {
            secs: utc.timestamp(),
            exact: true,
        }),
        DatePerhapsTime::DateTime(
            CalendarDateTime::Floating(local)
            | CalendarDateTime::WithTimezone {
                date_time: local, ..
            },
        ) => Some(At {
            secs: local.and_utc().timestamp(),
            exact: false,
        }),
        DatePerhapsTime::Date(date) => Some(At {
            secs: date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp(),
            exact: false,
        }),
    }
}

/// A `DURATION` value in seconds (`P1W`, `PT15M`, `P1DT2H`).
fn duration(property: &Property<'_>) -> Option<i64> {
    let value = property.val.as_str().trim();
    let (sign, value) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value.trim_start_matches('+')),
    };
    let parsed = iso8601::duration(value).ok()?;
    let secs = i64::try_from(std::time::Duration::from(parsed).as_secs()).ok()?;
    Some(sign * secs)
}

impl TimeRange {
    /// Reads `start` and `end` as CalDAV writes them (`20270101T000000Z`); `None` when either is
    /// not a UTC date-time, or when there is neither.
    pub fn read(start: Option<&str>, end: Option<&str>) -> Option<TimeRange> {
        fn utc(value: &str) -> Option<i64> {
            NaiveDateTime::parse_from_str(value.trim(), "%Y%m%dT%H%M%SZ")
                .ok()
                .map(|at| at.and_utc().timestamp())
        }
        let range = TimeRange {
            start: match start {
                Some(value) => Some(utc(value)?),
                None => None,
            },
            end: match end {
                Some(value) => Some(utc(value)?),
                None => None,
            },
        };
        (range.start.is_some() || range.end.is_some()).then_some(range)
    }

    /// The range as `(start, end)`, each widened by `slack`.
    fn bounds(self, slack: i64) -> (i64, i64) {
        (
            self.start
                .map_or(i64::MIN, |start| start.saturating_sub(slack)),
            self.end.map_or(i64::MAX, |end| end.saturating_add(slack)),
        )
    }

    /// RFC 4791 §9.9's table for a VTODO; a recurring one matches when its first instance
    /// starts before the range ends.
    fn holds_for_todo(self, todo: &Component<'_>) -> bool {
        let find = |name: &str| {
            todo.properties
                .iter()
                .find(|property| named(property.name.as_str(), name))
        };
        let dtstart = find("DTSTART").and_then(at);
        let due = find("DUE").and_then(at);
        let completed = find("COMPLETED").and_then(at);
        let created = find("CREATED").and_then(at);
        let length = find("DURATION").and_then(duration);
        let exact = [dtstart, due, completed, created]
            .iter()
            .flatten()
            .all(|at| at.exact);
        let (s, e) = self.bounds(if exact { 0 } else { ZONE_SLACK_SECS });
        if find("RRULE").is_some() || find("RDATE").is_some() {
            return dtstart.or(due).is_none_or(|first| first.secs < e);
        }
        match (dtstart.map(|at| at.secs), due.map(|at| at.secs), length) {
            (Some(start), _, Some(length)) => {
                let finish = start.saturating_add(length);
                s <= finish && (e > start || e >= finish)
            }
            (Some(start), Some(due), None) => (s < due || s <= start) && (e > start || e >= due),
            (Some(start), None, None) => s <= start && e > start,
            (None, Some(due), _) => s < due && e >= due,
            (None, None, _) => match (completed.map(|at| at.secs), created.map(|at| at.secs)) {
                (Some(done), Some(made)) => (s <= made || s <= done) && (e >= made || e >= done),
                (Some(done), None) => s <= done && e >= done,
                (None, Some(made)) => e > made,
                (None, None) => true,
            },
        }
    }

    /// A date-time property's value within the range.
    fn holds_for_value(self, property: &Property<'_>) -> bool {
        at(property).is_none_or(|at| {
            let (s, e) = self.bounds(if at.exact { 0 } else { ZONE_SLACK_SECS });
            s <= at.secs && at.secs < e
        })
    }
}

impl TextMatch {
    fn matches(&self, value: &str) -> bool {
        let fold = |text: &str| match self.collation {
            Collation::Octet => text.to_owned(),
            Collation::AsciiCasemap => text.to_ascii_lowercase(),
            Collation::UnicodeCasemap => text.to_lowercase(),
        };
        let (value, wanted) = (fold(value), fold(&self.text));
        let found = match self.match_type {
            MatchType::Contains => value.contains(&wanted),
            MatchType::Equals => value == wanted,
            MatchType::StartsWith => value.starts_with(&wanted),
            MatchType::EndsWith => value.ends_with(&wanted),
        };
        found != self.negate
    }
}

/// All of `tests` pass, or one of them with `any_of` (none to pass is a pass).
fn combine(any_of: bool, mut tests: impl Iterator<Item = bool>) -> bool {
    if any_of {
        let mut none = true;
        for passed in tests {
            if passed {
                return true;
            }
            none = false;
        }
        none
    } else {
        tests.all(|passed| passed)
    }
}

impl ParamFilter {
    fn holds(&self, property: &Property<'_>) -> bool {
        let values: Vec<&str> = property
            .params
            .iter()
            .filter(|param| named(param.key.as_str(), &self.name))
            .map(|param| param.val.as_ref().map_or("", |val| val.as_str()))
            .collect();
        if self.is_not_defined {
            return values.is_empty();
        }
        !values.is_empty()
            && self.text_match.as_ref().is_none_or(|matched| {
                values
                    .iter()
                    .any(|value| matched.matches(value.trim_matches('"')))
            })
    }
}

impl PropFilter {
    fn holds(&self, component: &Component<'_>) -> bool {
        let mut found = component
            .properties
            .iter()
            .filter(|property| named(property.name.as_str(), &self.name))
            .peekable();
        if self.is_not_defined {
            return found.peek().is_none();
        }
        found.any(|property| {
            let range = self.time_range.map(|range| range.holds_for_value(property));
            let text_match = self
                .text_match
                .as_ref()
                .map(|matched| matched.matches(&text(property)));
            let params = self.params.iter().map(|param| param.holds(property));
            combine(
                self.any_of,
                range.into_iter().chain(text_match).chain(params),
            )
        })
    }
}

impl CompFilter {
    /// Whether the stored object matches: its outermost component is this filter's.
    pub fn matches(&self, ical: &str) -> bool {
        let unfolded = unfold(ical);
        let Ok(roots) = read_components(&unfolded) else {
            return false;
        };
        let mut named_roots = roots
            .iter()
            .filter(|root| named(root.name.as_str(), &self.name));
        if self.is_not_defined {
            return named_roots.next().is_none();
        }
        named_roots.any(|root| self.holds(root))
    }

    fn holds(&self, component: &Component<'_>) -> bool {
        if let Some(range) = self.time_range
            && named(component.name.as_str(), "VTODO")
            && !range.holds_for_todo(component)
        {
            return false;
        }
        let props = self.props.iter().map(|filter| filter.holds(component));
        let comps = self.comps.iter().map(|filter| {
            let mut children = component
                .components
                .iter()
                .filter(|child| named(child.name.as_str(), &filter.name));
            if filter.is_not_defined {
                children.next().is_none()
            } else {
                children.any(|child| filter.holds(child))
            }
        });
        combine(self.any_of, props.chain(comps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(todo_lines: &str) -> String {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:a\r\n\
             SUMMARY:Buy milk\r\n{todo_lines}END:VTODO\r\nEND:VCALENDAR\r\n"
        )
    }

    fn todos(todo: CompFilter) -> CompFilter {
        CompFilter {
            name: "VCALENDAR".into(),
            is_not_defined: false,
            time_range: None,
            props: Vec::new(),
            comps: vec![todo],
            any_of: false,
        }
    }

    fn todo_with(props: Vec<PropFilter>, time_range: Option<TimeRange>) -> CompFilter {
        todos(CompFilter {
            name: "VTODO".into(),
            is_not_defined: false,
            time_range,
            props,
            comps: Vec::new(),
            any_of: false,
        })
    }

    fn prop(name: &str) -> PropFilter {
        PropFilter {
            name: name.into(),
            is_not_defined: false,
            time_range: None,
            text_match: None,
            params: Vec::new(),
            any_of: false,
        }
    }

    fn text_match(text: &str, collation: Collation, negate: bool) -> Option<TextMatch> {
        Some(TextMatch {
            text: text.into(),
            collation,
            match_type: MatchType::Contains,
            negate,
        })
    }

    fn range(start: &str, end: &str) -> Option<TimeRange> {
        TimeRange::read(Some(start), Some(end))
    }

    #[test]
    fn is_not_defined_tells_open_todos_from_done_ones() {
        let open = todo_with(
            vec![PropFilter {
                is_not_defined: true,
                ..prop("COMPLETED")
            }],
            None,
        );
        assert!(open.matches(&object("STATUS:NEEDS-ACTION\r\n")));
        assert!(!open.matches(&object(
            "STATUS:COMPLETED\r\nCOMPLETED:20270101T100000Z\r\n"
        )));
        let uncategorised = todo_with(
            vec![PropFilter {
                is_not_defined: true,
                ..prop("CATEGORIES")
            }],
            None,
        );
        assert!(uncategorised.matches(&object("")));
        assert!(!uncategorised.matches(&object("CATEGORIES:home,errands\r\n")));
    }

    #[test]
    fn text_match_follows_its_collation_and_negation() {
        let with = |matched| {
            todo_with(
                vec![PropFilter {
                    text_match: matched,
                    ..prop("SUMMARY")
                }],
                None,
            )
        };
        let milk = object("");
        assert!(with(text_match("MILK", Collation::AsciiCasemap, false)).matches(&milk));
        assert!(!with(text_match("MILK", Collation::Octet, false)).matches(&milk));
        assert!(with(text_match("milk", Collation::Octet, false)).matches(&milk));
        assert!(!with(text_match("milk", Collation::AsciiCasemap, true)).matches(&milk));
        assert!(with(text_match("bread", Collation::AsciiCasemap, true)).matches(&milk));
        let equals = TextMatch {
            match_type: MatchType::Equals,
            ..text_match("buy", Collation::AsciiCasemap, false).expect("a match")
        };
        assert!(!with(Some(equals)).matches(&milk));
        let categories = todo_with(
            vec![PropFilter {
                text_match: text_match("errands", Collation::AsciiCasemap, false),
                ..prop("CATEGORIES")
            }],
            None,
        );
        assert!(categories.matches(&object("CATEGORIES:home,Errands\r\n")));
        assert!(!categories.matches(&object("")));
    }

    #[test]
    fn param_filters_read_the_parameters() {
        let parent = todo_with(
            vec![PropFilter {
                params: vec![ParamFilter {
                    name: "RELTYPE".into(),
                    is_not_defined: false,
                    text_match: text_match("PARENT", Collation::AsciiCasemap, false),
                }],
                ..prop("RELATED-TO")
            }],
            None,
        );
        assert!(parent.matches(&object("RELATED-TO;RELTYPE=PARENT:b\r\n")));
        assert!(!parent.matches(&object("RELATED-TO;RELTYPE=SIBLING:b\r\n")));
    }

    #[test]
    fn time_ranges_follow_rfc_4791s_table_for_todos() {
        let january = todo_with(Vec::new(), range("20270101T000000Z", "20270201T000000Z"));
        let cases = [
            ("DTSTART:20270110T120000Z\r\n", true),
            ("DTSTART:20270210T120000Z\r\n", false),
            ("DUE:20270115T120000Z\r\n", true),
            ("DUE:20261215T120000Z\r\n", false),
            ("DTSTART:20261231T230000Z\r\nDURATION:PT2H\r\n", true),
            ("DTSTART:20261230T120000Z\r\nDURATION:PT2H\r\n", false),
            ("DTSTART:20261201T000000Z\r\nDUE:20270301T000000Z\r\n", true),
            ("COMPLETED:20270105T000000Z\r\n", true),
            ("COMPLETED:20270305T000000Z\r\n", false),
            ("CREATED:20270305T000000Z\r\n", false),
            ("", true),
            // A recurring todo that began before the range may have an instance in it.
            ("DTSTART:20261101T120000Z\r\nRRULE:FREQ=MONTHLY\r\n", true),
            ("DTSTART:20270301T120000Z\r\nRRULE:FREQ=MONTHLY\r\n", false),
            // A floating or zoned time may be up to 14 hours either way of UTC.
            ("DTSTART:20270201T050000\r\n", true),
            ("DTSTART;TZID=Europe/Oslo:20270201T050000\r\n", true),
            ("DTSTART;VALUE=DATE:20270201\r\n", true),
            ("DTSTART;VALUE=DATE:20270203\r\n", false),
        ];
        for (lines, expected) in cases {
            assert_eq!(january.matches(&object(lines)), expected, "{lines}");
        }
        let due_after = todo_with(
            vec![PropFilter {
                time_range: TimeRange::read(Some("20270101T000000Z"), None),
                ..prop("DUE")
            }],
            None,
        );
        assert!(due_after.matches(&object("DUE:20270115T120000Z\r\n")));
        assert!(!due_after.matches(&object("DUE:20261215T120000Z\r\n")));
        assert_eq!(TimeRange::read(Some("tomorrow"), None), None);
        assert_eq!(TimeRange::read(None, None), None);
    }

    #[test]
    fn a_query_for_events_matches_no_todo() {
        let events = todos(CompFilter {
            name: "VEVENT".into(),
            is_not_defined: false,
            time_range: None,
            props: Vec::new(),
            comps: Vec::new(),
            any_of: false,
        });
        assert!(!events.matches(&object("")));
        let no_alarm = todos(CompFilter {
            comps: vec![CompFilter {
                name: "VALARM".into(),
                is_not_defined: true,
                time_range: None,
                props: Vec::new(),
                comps: Vec::new(),
                any_of: false,
            }],
            ..todo_with(Vec::new(), None).comps.remove(0)
        });
        assert!(no_alarm.matches(&object("")));
        assert!(!no_alarm.matches(&object(
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
        )));
    }
}
