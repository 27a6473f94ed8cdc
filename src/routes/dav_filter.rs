//! A `calendar-query`'s `filter` element (RFC 4791 §9.7) read into the model's typed filter, once;
//! what it cannot be read as is refused with the `valid-filter` precondition.

use super::dav::DavError;
use super::dav_xml::{CALDAV, Element};
use crate::models::{
    Collation, CompFilter, MatchType, ParamFilter, PropFilter, TextMatch, TimeRange,
};

fn invalid(message: impl Into<String>) -> DavError {
    DavError::Precondition {
        element: "valid-filter",
        message: message.into(),
    }
}

fn name_of(element: &Element) -> Result<String, DavError> {
    element
        .attribute("name")
        .map(|name| name.trim().to_ascii_uppercase())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| invalid(format!("a {} needs a name", element.name)))
}

fn any_of(element: &Element) -> bool {
    element
        .attribute("test")
        .is_some_and(|test| test.eq_ignore_ascii_case("anyof"))
}

fn time_range(element: &Element) -> Result<Option<TimeRange>, DavError> {
    let Some(range) = element.child(CALDAV, "time-range") else {
        return Ok(None);
    };
    TimeRange::read(range.attribute("start"), range.attribute("end"))
        .map(Some)
        .ok_or_else(|| {
            invalid("a time-range needs a start or an end, each a UTC date-time (20270101T000000Z)")
        })
}

fn text_match(element: &Element) -> Result<Option<TextMatch>, DavError> {
    let Some(matched) = element.child(CALDAV, "text-match") else {
        return Ok(None);
    };
    let collation = match matched.attribute("collation").map(str::to_ascii_lowercase) {
        None => Collation::AsciiCasemap,
        Some(name) if name == "i;ascii-casemap" => Collation::AsciiCasemap,
        Some(name) if name == "i;octet" => Collation::Octet,
        Some(name) if name == "i;unicode-casemap" => Collation::UnicodeCasemap,
        Some(name) => {
            return Err(DavError::Precondition {
                element: "supported-collation",
                message: format!(
                    "the collation {name} is not one of i;ascii-casemap, i;octet, i;unicode-casemap"
                ),
            });
        }
    };
    let match_type = match matched.attribute("match-type").map(str::to_ascii_lowercase) {
        None => MatchType::Contains,
        Some(kind) if kind == "contains" => MatchType::Contains,
        Some(kind) if kind == "equals" => MatchType::Equals,
        Some(kind) if kind == "starts-with" => MatchType::StartsWith,
        Some(kind) if kind == "ends-with" => MatchType::EndsWith,
        Some(kind) => return Err(invalid(format!("a text-match cannot be {kind}"))),
    };
    Ok(Some(TextMatch {
        text: matched.text.clone(),
        collation,
        match_type,
        negate: matched.attribute("negate-condition") == Some("yes"),
    }))
}

fn param_filter(element: &Element) -> Result<ParamFilter, DavError> {
    Ok(ParamFilter {
        name: name_of(element)?,
        is_not_defined: element.child(CALDAV, "is-not-defined").is_some(),
        text_match: text_match(element)?,
    })
}

fn prop_filter(element: &Element) -> Result<PropFilter, DavError> {
    Ok(PropFilter {
        name: name_of(element)?,
        is_not_defined: element.child(CALDAV, "is-not-defined").is_some(),
        time_range: time_range(element)?,
        text_match: text_match(element)?,
        params: element
            .children
            .iter()
            .filter(|child| child.is(CALDAV, "param-filter"))
            .map(param_filter)
            .collect::<Result<_, _>>()?,
        any_of: any_of(element),
    })
}

/// Nesting deeper than any calendar object's (VCALENDAR / VTODO / VALARM) is refused.
const MAX_DEPTH: usize = 8;

fn comp_filter(element: &Element, depth: usize) -> Result<CompFilter, DavError> {
    if depth > MAX_DEPTH {
        return Err(invalid("the comp-filters are nested too deep"));
    }
    let children = |name: &'static str| {
        element
            .children
            .iter()
            .filter(move |child| child.is(CALDAV, name))
    };
    Ok(CompFilter {
        name: name_of(element)?,
        is_not_defined: element.child(CALDAV, "is-not-defined").is_some(),
        time_range: time_range(element)?,
        props: children("prop-filter")
            .map(prop_filter)
            .collect::<Result<_, _>>()?,
        comps: children("comp-filter")
            .map(|child| comp_filter(child, depth + 1))
            .collect::<Result<_, _>>()?,
        any_of: any_of(element),
    })
}

/// The query's filter; `None` when it has none (every object matches).
pub fn read(query: &Element) -> Result<Option<CompFilter>, DavError> {
    let Some(filter) = query.child(CALDAV, "filter") else {
        return Ok(None);
    };
    let Some(top) = filter.child(CALDAV, "comp-filter") else {
        return Err(invalid("a filter holds one comp-filter, VCALENDAR"));
    };
    let top = comp_filter(top, 0)?;
    if top.name != "VCALENDAR" {
        return Err(invalid(format!(
            "a filter's comp-filter is VCALENDAR, not {}",
            top.name
        )));
    }
    Ok(Some(top))
}
