//! A todo as iCalendar (RFC 5545): the one VTODO of a VCALENDAR, as CalDAV clients send and read
//! it. `TodoIcal::read` takes what a client sent apart (validated by the same rules as the JSON
//! API), and `render` writes a todo back out: from what the client sent, with only the properties
//! the server models brought up to date, so that nothing else a client sent is ever lost.

use icalendar::parser::{Component, Property, read_components, unfold};

use super::MAX_TITLE_CHARS;
use super::todo::Todo;

/// What the server models of a VTODO, read from what a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoIcal {
    pub uid: String,
    /// `SUMMARY`, unescaped and trimmed: the todo's title.
    pub title: String,
    /// `STATUS:COMPLETED`.
    pub completed: bool,
    /// `X-APPLE-SORT-ORDER`, if sent.
    pub order: Option<i32>,
}

/// Why what a client sent cannot be a todo. Each names the CalDAV precondition it breaks (RFC
/// 4791 §5.3.2), for the 403 (or, for text that is not iCalendar at all, 400) that refuses it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcalError {
    /// 400: not iCalendar.
    #[error("the body is not iCalendar: {0}")]
    Unreadable(String),
    /// 403 `valid-calendar-object-resource`: not one VCALENDAR, no VTODO, a VTODO without a
    /// UID, or several VTODOs with different UIDs.
    #[error("{0}")]
    NotOneTodo(String),
    /// 403 `supported-calendar-component`: a VEVENT or VJOURNAL in a task list.
    #[error("a task list holds VTODOs only, not {0}")]
    NotATodo(String),
    /// 403 `valid-calendar-data`: the SUMMARY breaks the title's rules.
    #[error("{0}")]
    Title(String),
}

impl IcalError {
    /// The CalDAV precondition element (in the `urn:ietf:params:xml:ns:caldav` namespace) a 403
    /// names; `None` for a 400.
    pub fn precondition(&self) -> Option<&'static str> {
        match self {
            Self::Unreadable(_) => None,
            Self::NotOneTodo(_) => Some("valid-calendar-object-resource"),
            Self::NotATodo(_) => Some("supported-calendar-component"),
            Self::Title(_) => Some("valid-calendar-data"),
        }
    }
}

pub(super) fn named(name: &str, wanted: &str) -> bool {
    name.eq_ignore_ascii_case(wanted)
}

fn property<'c>(component: &'c Component<'_>, name: &str) -> Option<&'c Property<'c>> {
    component
        .properties
        .iter()
        .find(|property| named(property.name.as_str(), name))
}

/// The text value of a property, its escapes undone (RFC 5545 §3.3.11).
pub(super) fn text(property: &Property<'_>) -> String {
    property.val.clone().unescape_text().as_str().to_owned()
}

/// A text value escaped for a content line.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// The whole VCALENDAR, parsed.
fn parse(unfolded: &str) -> Result<Component<'_>, IcalError> {
    let mut roots = read_components(unfolded)
        .map_err(|err| IcalError::Unreadable(err.lines().take(3).collect::<Vec<_>>().join(" ")))?;
    let calendar = match roots.len() {
        1 => roots.remove(0),
        n => {
            return Err(IcalError::NotOneTodo(format!(
                "one VCALENDAR is expected, not {n} components"
            )));
        }
    };
    if !named(calendar.name.as_str(), "VCALENDAR") {
        return Err(IcalError::NotOneTodo(format!(
            "a VCALENDAR is expected, not {}",
            calendar.name.as_str()
        )));
    }
    Ok(calendar)
}

/// The VTODO that is the todo itself: the one without `RECURRENCE-ID` (the others are
/// exceptions of a recurring todo, which share its UID).
fn master_index(calendar: &Component<'_>) -> Result<usize, IcalError> {
    let mut uid: Option<String> = None;
    let mut master = None;
    for (index, component) in calendar.components.iter().enumerate() {
        let name = component.name.as_str();
        if named(name, "VEVENT") || named(name, "VJOURNAL") || named(name, "VFREEBUSY") {
            return Err(IcalError::NotATodo(name.to_ascii_uppercase()));
        }
        if !named(name, "VTODO") {
            continue; // VTIMEZONE, and whatever else a client keeps beside the todo
        }
        let Some(this) = property(component, "UID").map(text) else {
            return Err(IcalError::NotOneTodo("the VTODO has no UID".into()));
        };
        if uid.as_ref().is_some_and(|uid| *uid != this) {
            return Err(IcalError::NotOneTodo(
                "one object holds one todo: these VTODOs have different UIDs".into(),
            ));
        }
        uid = Some(this);
        if property(component, "RECURRENCE-ID").is_none() || master.is_none() {
            master = Some(index);
        }
    }
    master.ok_or_else(|| IcalError::NotOneTodo("there is no VTODO".into()))
}

impl TodoIcal {
    /// Reads a VCALENDAR a client sent: one todo (one UID), with a SUMMARY that is a valid title.
    pub fn read(sent: &str) -> Result<TodoIcal, IcalError> {
        let unfolded = unfold(sent);
        let calendar = parse(&unfolded)?;
        let todo = &calendar.components[master_index(&calendar)?];
        let uid = property(todo, "UID").map(text).unwrap_or_default();
        let Some(summary) = property(todo, "SUMMARY") else {
            return Err(IcalError::Title(
                "the VTODO has no SUMMARY, which is its title".into(),
            ));
        };
        let title = text(summary).trim().to_owned();
        let length = title.chars().count();
        if title.is_empty() || length > MAX_TITLE_CHARS || title.contains('\0') {
            return Err(IcalError::Title(format!(
                "the SUMMARY is the todo's title: 1 to {MAX_TITLE_CHARS} characters, not {length}"
            )));
        }
        let completed = property(todo, "STATUS")
            .is_some_and(|status| named(status.val.as_str().trim(), "COMPLETED"));
        let order = property(todo, "X-APPLE-SORT-ORDER")
            .and_then(|order| order.val.as_str().trim().parse::<i32>().ok());
        Ok(TodoIcal {
            uid,
            title,
            completed,
            order,
        })
    }
}

/// An iCalendar UTC date-time, `YYYYMMDDTHHMMSSZ`, for seconds since the epoch.
fn utc(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// Splits a content line longer than 75 octets (RFC 5545 §3.1), never inside a character.
fn fold(line: &str) -> String {
    let mut folded = String::with_capacity(line.len() + line.len() / 74 * 3);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            folded.push_str("\r\n ");
            width = 1;
        }
        folded.push(c);
        width += c.len_utf8();
    }
    folded
}

/// The properties the server models, as `todo` has them now: each a name and its whole line.
fn modelled(
    todo: &Todo,
    was_completed: bool,
    completed_at: Option<&str>,
    modified: i64,
) -> Vec<(&'static str, String)> {
    let now = utc(modified);
    let mut lines = vec![
        ("DTSTAMP", format!("DTSTAMP:{now}")),
        ("LAST-MODIFIED", format!("LAST-MODIFIED:{now}")),
        ("SUMMARY", format!("SUMMARY:{}", escape(&todo.title))),
        (
            "X-APPLE-SORT-ORDER",
            format!("X-APPLE-SORT-ORDER:{}", todo.position),
        ),
    ];
    if todo.completed {
        lines.push(("STATUS", "STATUS:COMPLETED".into()));
        lines.push(("PERCENT-COMPLETE", "PERCENT-COMPLETE:100".into()));
        let at = completed_at
            .filter(|_| was_completed)
            .map_or_else(|| format!("COMPLETED:{now}"), str::to_owned);
        lines.push(("COMPLETED", at));
    } else {
        lines.push(("STATUS", "STATUS:NEEDS-ACTION".into()));
    }
    lines
}

/// The properties `modelled` writes, and those a todo that is not completed must not have.
const MODELLED: [&str; 7] = [
    "DTSTAMP",
    "LAST-MODIFIED",
    "SUMMARY",
    "X-APPLE-SORT-ORDER",
    "STATUS",
    "PERCENT-COMPLETE",
    "COMPLETED",
];

/// One content line as sent: its physical lines (folds kept), and its property name.
struct Line<'a> {
    physical: Vec<&'a str>,
    name: String,
}

impl Line<'_> {
    fn value(&self) -> String {
        let unfolded: String = self
            .physical
            .iter()
            .enumerate()
            .map(|(i, part)| if i == 0 { *part } else { &part[1..] })
            .collect();
        unfolded
            .split_once(':')
            .map_or_else(String::new, |(_, value)| value.to_owned())
    }
}

fn lines(sent: &str) -> Vec<Line<'_>> {
    let mut lines: Vec<Line<'_>> = Vec::new();
    for physical in sent
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
    {
        match (physical.starts_with([' ', '\t']), lines.last_mut()) {
            (true, Some(last)) => last.physical.push(physical),
            _ if physical.is_empty() => {}
            _ => lines.push(Line {
                physical: vec![physical],
                name: physical
                    .split([';', ':'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase(),
            }),
        }
    }
    lines
}

/// Where the VTODO that is the todo itself (the one without `RECURRENCE-ID`) begins, and where its
/// own properties end (its first sub-component, or its END).
fn master_lines(lines: &[Line<'_>]) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut found: Option<(usize, usize, usize, bool)> = None;
    let mut open: Option<(usize, Option<usize>, bool)> = None;
    for (index, line) in lines.iter().enumerate() {
        let value = line.value().to_ascii_uppercase();
        match line.name.as_str() {
            "BEGIN" => {
                depth += 1;
                if depth == 2 && value == "VTODO" {
                    open = Some((index, None, false));
                } else if depth == 3
                    && let Some((_, props_end @ None, _)) = open.as_mut()
                {
                    *props_end = Some(index);
                }
            }
            "END" => {
                if depth == 2
                    && value == "VTODO"
                    && let Some((begin, props_end, recurrence)) = open.take()
                    && found.is_none_or(|(_, _, _, was_recurrence)| was_recurrence && !recurrence)
                {
                    found = Some((begin, props_end.unwrap_or(index), index, recurrence));
                }
                depth = depth.saturating_sub(1);
            }
            "RECURRENCE-ID" if depth == 2 => {
                if let Some((_, _, recurrence)) = open.as_mut() {
                    *recurrence = true;
                }
            }
            _ => {}
        }
    }
    found.map(|(begin, props_end, _, _)| (begin, props_end))
}

/// The todo as a VCALENDAR. From `sent` (what a client last sent) when there is one: every line of
/// it is kept as it was sent, folds and all, but for the properties the server models, which say
/// what `todo` holds now; else a new VCALENDAR with `uid`. `modified` (seconds since the epoch) is
/// the todo's last change, for `DTSTAMP`, `LAST-MODIFIED` and `COMPLETED`.
pub fn render(sent: Option<&str>, todo: &Todo, uid: &str, modified: i64) -> String {
    let Some((sent, (begin, props_end))) = sent.and_then(|sent| {
        let parsed = lines(sent);
        let range = master_lines(&parsed)?;
        Some((parsed, range))
    }) else {
        let mut out = String::from(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//todomvc-rs//todomvc//EN\r\nBEGIN:VTODO\r\n",
        );
        out.push_str(&fold(&format!("UID:{}", escape(uid))));
        out.push_str("\r\n");
        for (_, line) in modelled(todo, false, None, modified) {
            out.push_str(&fold(&line));
            out.push_str("\r\n");
        }
        out.push_str("END:VTODO\r\nEND:VCALENDAR\r\n");
        return out;
    };
    let own = &sent[begin + 1..props_end];
    let was_completed = own
        .iter()
        .any(|line| line.name == "STATUS" && line.value().trim().eq_ignore_ascii_case("COMPLETED"));
    let completed_at = own
        .iter()
        .find(|line| line.name == "COMPLETED")
        .map(|line| format!("COMPLETED:{}", line.value()));
    let mut fresh = modelled(todo, was_completed, completed_at.as_deref(), modified);
    let mut out = String::with_capacity(
        sent.iter()
            .map(|line| line.physical.iter().map(|p| p.len() + 2).sum::<usize>())
            .sum::<usize>()
            + 256,
    );
    let mut push = |text: &str| {
        out.push_str(text);
        out.push_str("\r\n");
    };
    for (index, line) in sent.iter().enumerate() {
        if index == props_end {
            // What the sent todo did not have goes after its own properties.
            for (_, new) in fresh.drain(..) {
                push(&fold(&new));
            }
        }
        let own_property = index > begin && index < props_end;
        if own_property && MODELLED.contains(&line.name.as_str()) {
            // In its place, the first time; a second of the same name (invalid) goes.
            if let Some(at) = fresh.iter().position(|(name, _)| *name == line.name) {
                let (_, new) = fresh.remove(at);
                push(&fold(&new));
            }
            continue;
        }
        push(&line.physical.join("\r\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ListId, TodoId};

    const SENT: &str = "BEGIN:VCALENDAR\r\n\
        VERSION:2.0\r\n\
        PRODID:-//Tasks.org//EN\r\n\
        BEGIN:VTODO\r\n\
        UID:abc-123\r\n\
        DTSTAMP:20260101T000000Z\r\n\
        SUMMARY:Buy milk\\, eggs\\; bread\r\n\
        DESCRIPTION:From the corner shop\r\n\
        DUE;VALUE=DATE:20261224\r\n\
        PRIORITY:1\r\n\
        CATEGORIES:home,errands\r\n\
        RRULE:FREQ=WEEKLY\r\n\
        RELATED-TO;RELTYPE=PARENT:parent-1\r\n\
        X-TASKS-ORG-THING:kept\r\n\
        ATTENDEE;CN=\"Doe, John\";ROLE=REQ-PARTICIPANT:mailto:john@example.com\r\n\
        X-LONG:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n \
        bbbb\r\n\
        X-APPLE-SORT-ORDER:42\r\n\
        BEGIN:VALARM\r\n\
        ACTION:DISPLAY\r\n\
        TRIGGER:-PT15M\r\n\
        DESCRIPTION:Reminder\r\n\
        END:VALARM\r\n\
        END:VTODO\r\n\
        END:VCALENDAR\r\n";

    fn todo(title: &str, completed: bool) -> Todo {
        Todo {
            id: TodoId(7),
            title: title.into(),
            position: 3,
            completed,
            version: 2,
            list_id: ListId(1),
        }
    }

    #[test]
    fn reads_what_the_server_models() {
        let read = TodoIcal::read(SENT).expect("a todo");
        assert_eq!(
            read,
            TodoIcal {
                uid: "abc-123".into(),
                title: "Buy milk, eggs; bread".into(),
                completed: false,
                order: Some(42),
            }
        );
        let done = SENT.replace("PRIORITY:1\r\n", "STATUS:COMPLETED\r\n");
        assert!(TodoIcal::read(&done).expect("a todo").completed);
    }

    #[test]
    fn refuses_what_cannot_be_a_todo() {
        let cases = [
            ("not iCalendar at all", None),
            (
                "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                Some("valid-calendar-object-resource"),
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                Some("supported-calendar-component"),
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                Some("valid-calendar-object-resource"),
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:a\r\nSUMMARY:x\r\nEND:VTODO\r\n\
                 BEGIN:VTODO\r\nUID:b\r\nSUMMARY:y\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                Some("valid-calendar-object-resource"),
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                Some("valid-calendar-data"),
            ),
            (
                "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:a\r\nSUMMARY:  \r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
                Some("valid-calendar-data"),
            ),
        ];
        for (sent, precondition) in cases {
            let err = TodoIcal::read(sent).expect_err(sent);
            assert_eq!(err.precondition(), precondition, "{sent}: {err}");
        }
        let long = SENT.replace(
            "Buy milk\\, eggs\\; bread",
            &"x".repeat(MAX_TITLE_CHARS + 1),
        );
        assert_eq!(
            TodoIcal::read(&long).expect_err("too long").precondition(),
            Some("valid-calendar-data")
        );
    }

    #[test]
    fn a_web_edit_keeps_everything_it_does_not_model() {
        let rendered = render(
            Some(SENT),
            &todo("Buy oat milk; now", true),
            "abc-123",
            1_800_000_000,
        );
        for kept in [
            "UID:abc-123",
            "DESCRIPTION:From the corner shop",
            "DUE;VALUE=DATE:20261224",
            "PRIORITY:1",
            "CATEGORIES:home,errands",
            "RRULE:FREQ=WEEKLY",
            "RELATED-TO;RELTYPE=PARENT:parent-1",
            "X-TASKS-ORG-THING:kept",
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM",
            "PRODID:-//Tasks.org//EN",
            "ATTENDEE;CN=\"Doe, John\";ROLE=REQ-PARTICIPANT:mailto:john@example.com",
        ] {
            assert!(rendered.contains(kept), "{kept} lost:\n{rendered}");
        }
        for now in [
            "SUMMARY:Buy oat milk\\; now",
            "STATUS:COMPLETED",
            "PERCENT-COMPLETE:100",
            "COMPLETED:20270115T080000Z",
            "LAST-MODIFIED:20270115T080000Z",
            "DTSTAMP:20270115T080000Z",
            "X-APPLE-SORT-ORDER:3",
        ] {
            assert!(rendered.contains(now), "{now} missing:\n{rendered}");
        }
        assert_eq!(rendered.matches("SUMMARY:").count(), 1);
        // Byte for byte, folds included.
        assert!(
            rendered.contains(&format!("X-LONG:{}\r\n bbbb\r\n", "a".repeat(82))),
            "{rendered}"
        );
        let back = TodoIcal::read(&rendered).expect("still a todo");
        assert_eq!(
            (back.title.as_str(), back.completed, back.order),
            ("Buy oat milk; now", true, Some(3))
        );

        let reopened = render(
            Some(&rendered),
            &todo("Buy oat milk; now", false),
            "abc-123",
            1_800_000_100,
        );
        assert!(reopened.contains("STATUS:NEEDS-ACTION"));
        assert!(!reopened.contains("\r\nCOMPLETED:"));
        assert!(!reopened.contains("PERCENT-COMPLETE"));
    }

    #[test]
    fn a_todo_made_on_the_web_gets_a_whole_vcalendar() {
        let rendered = render(None, &todo("Walk\nthe dog", false), "todo-7@todomvc", 0);
        assert!(
            rendered.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"),
            "{rendered}"
        );
        assert!(rendered.contains("BEGIN:VTODO\r\nUID:todo-7@todomvc\r\n"));
        assert!(rendered.contains("SUMMARY:Walk\\nthe dog\r\n"));
        assert!(rendered.ends_with("END:VTODO\r\nEND:VCALENDAR\r\n"));
        let read = TodoIcal::read(&rendered).expect("readable");
        assert_eq!(
            (read.uid.as_str(), read.title.as_str()),
            ("todo-7@todomvc", "Walk\nthe dog")
        );
    }

    #[test]
    fn the_master_of_a_recurring_todo_is_the_one_changed_and_long_lines_are_folded() {
        let sent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
            BEGIN:VTODO\r\nUID:r\r\nRECURRENCE-ID:20260102T000000Z\r\nSUMMARY:one time\r\nEND:VTODO\r\n\
            BEGIN:VTODO\r\nUID:r\r\nSUMMARY:every day\r\nRRULE:FREQ=DAILY\r\nEND:VTODO\r\n\
            END:VCALENDAR\r\n";
        assert_eq!(TodoIcal::read(sent).expect("a todo").title, "every day");
        let title = "é".repeat(MAX_TITLE_CHARS);
        let rendered = render(Some(sent), &todo(&title, false), "r", 0);
        assert!(
            rendered.contains("SUMMARY:one time\r\n"),
            "the exception is kept: {rendered}"
        );
        assert!(!rendered.contains("SUMMARY:every day"));
        assert!(
            rendered.split("\r\n").all(|line| line.len() <= 75),
            "{rendered}"
        );
        assert_eq!(TodoIcal::read(&rendered).expect("readable").title, title);
    }
}
