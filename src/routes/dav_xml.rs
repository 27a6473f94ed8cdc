//! WebDAV's XML: a request body read into a small tree of namespaced elements (what `PROPFIND`
//! and `REPORT` ask for), and the `207 Multi-Status` answers written back.

use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CALENDARSERVER: &str = "http://calendarserver.org/ns/";
pub const APPLE: &str = "http://apple.com/ns/ical/";

/// The deepest a request body may nest elements: no real request comes near it.
const MAX_DEPTH: usize = 32;

/// One element of a request body: its namespace, local name, attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub ns: String,
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child named so.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.is(ns, name))
    }

    /// Every descendant named so, in document order.
    pub fn descendants<'e>(&'e self, ns: &str, name: &str, found: &mut Vec<&'e Element>) {
        for child in &self.children {
            if child.is(ns, name) {
                found.push(child);
            }
            child.descendants(ns, name, found);
        }
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads a request body into its root element; `None` for an empty body.
pub fn parse(body: &str) -> Result<Option<Element>, String> {
    if body.trim().is_empty() {
        return Ok(None);
    }
    let mut reader = NsReader::from_str(body);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|err| format!("the XML body cannot be read: {err}"))?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => AsRef::<str>::as_ref(&ns).to_owned(),
            _ => String::new(),
        };
        match event {
            Event::Start(start) | Event::Empty(start) if stack.len() >= MAX_DEPTH => {
                let _ = start;
                return Err("the XML body nests too deeply".into());
            }
            Event::Start(start) => stack.push(element(ns, &start)),
            Event::Empty(start) => {
                let done = element(ns, &start);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(Some(done)),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err("the XML body has an end without a start".into());
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(Some(done)),
                }
            }
            Event::Text(text) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&text.xml10_content());
                }
            }
            Event::GeneralRef(entity) => {
                if let Some(open) = stack.last_mut() {
                    let resolved = match entity.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(&entity)
                            .ok_or_else(|| {
                                format!("the XML body uses an unknown entity &{};", &*entity)
                            })?
                            .to_owned(),
                    };
                    open.text.push_str(&resolved);
                }
            }
            Event::CData(data) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&data);
                }
            }
            Event::Eof => return Err("the XML body ends before its root element does".into()),
            _ => {}
        }
    }
}

fn element(ns: String, start: &quick_xml::events::BytesStart<'_>) -> Element {
    Element {
        ns,
        name: AsRef::<str>::as_ref(&start.local_name()).to_owned(),
        attributes: start
            .attributes()
            .flatten()
            .map(|attribute| {
                (
                    AsRef::<str>::as_ref(&attribute.key.local_name()).to_owned(),
                    attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(std::borrow::Cow::into_owned)
                        .unwrap_or_default(),
                )
            })
            .collect(),
        ..Element::default()
    }
}

/// A property's name: its namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropName {
    pub ns: String,
    pub name: String,
}

impl PropName {
    pub fn new(ns: &str, name: &str) -> Self {
        Self {
            ns: ns.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The element, empty, with its namespace declared unless it is one the answer declares.
    fn empty(&self) -> String {
        match prefix(&self.ns) {
            Some(prefix) => format!("<{prefix}:{}/>", self.name),
            None => format!("<{} xmlns=\"{}\"/>", self.name, escape(self.ns.as_str())),
        }
    }

    /// The element around `inner`.
    pub fn with(&self, inner: &str) -> String {
        match prefix(&self.ns) {
            Some(prefix) => format!("<{prefix}:{0}>{inner}</{prefix}:{0}>", self.name),
            None => format!(
                "<{0} xmlns=\"{1}\">{inner}</{0}>",
                self.name,
                escape(self.ns.as_str())
            ),
        }
    }
}

fn prefix(ns: &str) -> Option<&'static str> {
    match ns {
        DAV => Some("D"),
        CALDAV => Some("C"),
        CALENDARSERVER => Some("CS"),
        APPLE => Some("A"),
        _ => None,
    }
}

/// What `PROPFIND` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// `allprop`, or an empty body: every property the resource has (but `calendar-data`).
    All,
    /// `propname`: their names only.
    Names,
    Props(Vec<PropName>),
}

/// Reads a `PROPFIND` body.
pub fn propfind(body: &str) -> Result<Wanted, String> {
    let Some(root) = parse(body)? else {
        return Ok(Wanted::All);
    };
    if !root.is(DAV, "propfind") {
        return Err("a PROPFIND body is a DAV:propfind element".into());
    }
    if root.child(DAV, "propname").is_some() {
        return Ok(Wanted::Names);
    }
    Ok(props_of(&root).unwrap_or(Wanted::All))
}

/// The `DAV:prop` list of a request, if it has one.
pub fn props_of(root: &Element) -> Option<Wanted> {
    let prop = root.child(DAV, "prop")?;
    Some(Wanted::Props(
        prop.children
            .iter()
            .map(|child| PropName::new(&child.ns, &child.name))
            .collect(),
    ))
}

/// A `207 Multi-Status` body being written.
pub struct Multistatus {
    body: String,
}

impl Multistatus {
    pub fn new() -> Self {
        Self {
            body: format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"{DAV}\" \
                 xmlns:C=\"{CALDAV}\" xmlns:CS=\"{CALENDARSERVER}\" xmlns:A=\"{APPLE}\">"
            ),
        }
    }

    /// One resource: the properties it has (name and value, already XML) and those asked for
    /// that it does not have (404).
    pub fn response(&mut self, href: &str, found: &[(PropName, String)], missing: &[PropName]) {
        self.body.push_str("<D:response><D:href>");
        self.body.push_str(&escape(href));
        self.body.push_str("</D:href>");
        if !found.is_empty() || missing.is_empty() {
            self.body.push_str("<D:propstat><D:prop>");
            for (name, value) in found {
                self.body.push_str(&if value.is_empty() {
                    name.empty()
                } else {
                    name.with(value)
                });
            }
            self.body
                .push_str("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
        }
        if !missing.is_empty() {
            self.body.push_str("<D:propstat><D:prop>");
            for name in missing {
                self.body.push_str(&name.empty());
            }
            self.body
                .push_str("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
        }
        self.body.push_str("</D:response>");
    }

    /// Properties a resource could not be given, with the status that says why.
    pub fn refused(&mut self, href: &str, names: &[PropName], status: &str) {
        if names.is_empty() {
            return;
        }
        self.body.push_str("<D:response><D:href>");
        self.body.push_str(&escape(href));
        self.body.push_str("</D:href><D:propstat><D:prop>");
        for name in names {
            self.body.push_str(&name.empty());
        }
        self.body.push_str("</D:prop><D:status>HTTP/1.1 ");
        self.body.push_str(status);
        self.body.push_str("</D:status></D:propstat></D:response>");
    }

    /// A resource answered with a status alone (a deleted object in a sync report, say).
    pub fn status(&mut self, href: &str, status: &str) {
        self.body.push_str("<D:response><D:href>");
        self.body.push_str(&escape(href));
        self.body.push_str("</D:href><D:status>HTTP/1.1 ");
        self.body.push_str(status);
        self.body.push_str("</D:status></D:response>");
    }

    /// Raw XML after the responses (a sync report's `sync-token`).
    pub fn push(&mut self, xml: &str) {
        self.body.push_str(xml);
    }

    pub fn finish(mut self) -> String {
        self.body.push_str("</D:multistatus>");
        self.body
    }
}

impl Default for Multistatus {
    fn default() -> Self {
        Self::new()
    }
}

/// Text as XML character data.
pub fn text(value: &str) -> String {
    escape(value).into_owned()
}

/// What of a name must be escaped in a path segment (RFC 3986: all but unreserved characters and
/// the sub-delimiters a segment may hold).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@')
    .remove(b'+')
    .remove(b'=');

/// A name (an object's, a collection's) as a path segment.
pub fn segment(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, SEGMENT).to_string()
}

/// An `href` element.
pub fn href(path: &str) -> String {
    format!("<D:href>{}</D:href>", escape(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_propfind_names_its_properties_whatever_the_prefixes() {
        let body = r#"<?xml version="1.0"?>
            <x:propfind xmlns:x="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav">
              <x:prop><x:getetag/><cal:supported-calendar-component-set/><other xmlns="urn:x"/></x:prop>
            </x:propfind>"#;
        assert_eq!(
            propfind(body),
            Ok(Wanted::Props(vec![
                PropName::new(DAV, "getetag"),
                PropName::new(CALDAV, "supported-calendar-component-set"),
                PropName::new("urn:x", "other"),
            ]))
        );
        assert_eq!(propfind(""), Ok(Wanted::All));
        assert_eq!(
            propfind(r#"<propfind xmlns="DAV:"><allprop/></propfind>"#),
            Ok(Wanted::All)
        );
        assert_eq!(
            propfind(r#"<propfind xmlns="DAV:"><propname/></propfind>"#),
            Ok(Wanted::Names)
        );
        assert!(propfind("<propfind xmlns=\"DAV:\"><prop>").is_err());
        assert!(propfind("<nope/>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn names_become_path_segments() {
        assert_eq!(segment("abc-123.ics"), "abc-123.ics");
        assert_eq!(segment("a b/c?.ics"), "a%20b%2Fc%3F.ics");
        assert_eq!(segment("todo@example.com.ics"), "todo@example.com.ics");
    }

    #[test]
    fn a_multistatus_escapes_and_declares_what_it_must() {
        let mut answer = Multistatus::new();
        answer.response(
            "/dav/a&b/",
            &[
                (PropName::new(DAV, "displayname"), text("Tom & Jerry <3")),
                (PropName::new(DAV, "resourcetype"), String::new()),
            ],
            &[PropName::new("urn:x", "other")],
        );
        let body = answer.finish();
        assert!(body.contains("<D:href>/dav/a&amp;b/</D:href>"), "{body}");
        assert!(body.contains("<D:displayname>Tom &amp; Jerry &lt;3</D:displayname>"));
        assert!(body.contains("<D:resourcetype/>"));
        assert!(body.contains("<other xmlns=\"urn:x\"/>"));
        assert!(body.contains("HTTP/1.1 404 Not Found"));
        assert!(parse(&body).is_ok(), "well-formed");
    }
}
