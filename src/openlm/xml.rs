//! The OpenLM XML envelope: a writer (quick-xml, every value escaped) and a streaming reader
//! that serves both directions, replies for the client and requests for the sandbox.
//!
//! The reader is tolerant: unknown elements and attributes are kept, CDATA and entities are
//! resolved, `sessionid` is matched in any letter case, PARAMs are found wherever they are.
//! On malformed input it returns an error; it never panics.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesCData, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use quick_xml::{Reader, Writer, XmlVersion};

use crate::error::Error;

/// Why a document could not be read; the client adds the URL and the body start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub String);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// XML 1.0 cannot carry these characters, escaped or not.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Refuse a value XML cannot carry, naming the field; this runs before anything is sent.
pub fn check_value(field: &str, value: &str) -> Result<(), Error> {
    match value.chars().find(|c| !is_xml_char(*c)) {
        None => Ok(()),
        Some(c) => Err(Error::invalid(format!(
            "{field} contains the character U+{:04X}, which XML cannot carry",
            c as u32
        ))),
    }
}

/// Escape element text. `\r` becomes a character reference: a literal one would be
/// turned into `\n` by every conforming parser.
fn escape_text(value: &str) -> Cow<'_, str> {
    let escaped = quick_xml::escape::escape(value);
    if escaped.contains('\r') {
        Cow::Owned(escaped.replace('\r', "&#13;"))
    } else {
        escaped
    }
}

/// A small XML document builder over quick-xml's writer.
pub struct XmlOut {
    writer: Writer<Vec<u8>>,
}

impl Default for XmlOut {
    fn default() -> Self {
        Self::with_capacity(512)
    }
}

impl XmlOut {
    pub fn with_capacity(bytes: usize) -> Self {
        XmlOut {
            writer: Writer::new(Vec::with_capacity(bytes)),
        }
    }

    fn start<'a>(
        tag: &'a str,
        attrs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> BytesStart<'a> {
        let mut start = BytesStart::new(tag);
        for (name, value) in attrs {
            // `Attribute::from` escapes <, >, &, quotes, and \t \r \n as character references.
            start.push_attribute(Attribute::from((name, value)));
        }
        start
    }

    pub fn open<'a>(&mut self, tag: &'a str, attrs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.write(Event::Start(Self::start(tag, attrs)));
    }

    pub fn empty<'a>(&mut self, tag: &'a str, attrs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.write(Event::Empty(Self::start(tag, attrs)));
    }

    pub fn close(&mut self, tag: &str) {
        self.write(Event::End(BytesEnd::new(tag)));
    }

    pub fn text(&mut self, text: &str) {
        self.write(Event::Text(BytesText::from_escaped(escape_text(text))));
    }

    /// Text in CDATA sections; a `]]>` inside is split across two sections.
    pub fn cdata(&mut self, text: &str) {
        let mut rest = text;
        while let Some(at) = rest.find("]]>") {
            self.write(Event::CData(BytesCData::new(&rest[..at + 2])));
            rest = &rest[at + 2..];
        }
        self.write(Event::CData(BytesCData::new(rest)));
    }

    pub fn text_element<'a>(
        &mut self,
        tag: &'a str,
        attrs: impl IntoIterator<Item = (&'a str, &'a str)>,
        text: &str,
    ) {
        self.open(tag, attrs);
        self.text(text);
        self.close(tag);
    }

    fn write(&mut self, event: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.writer.write_event(event);
    }

    pub fn finish(self) -> String {
        // Everything written came from &str, so the bytes are UTF-8.
        String::from_utf8(self.writer.into_inner()).unwrap_or_default()
    }
}

/// A request as the client sends it.
#[derive(Debug, Clone, Default)]
pub struct RequestDoc<'a> {
    pub message_type: &'a str,
    pub session_id: &'a str,
    pub paging: Option<Paging>,
    pub params: Vec<(&'a str, &'a str)>,
    /// `UserAuthentication`: the NAME and PWD elements.
    pub credentials: Option<(&'a str, &'a str)>,
}

impl RequestDoc<'_> {
    /// The request document; a value XML cannot carry is refused before anything is sent.
    pub fn to_xml(&self) -> Result<String, Error> {
        for (name, value) in &self.params {
            check_value(name, value)?;
        }
        if let Some((name, password)) = self.credentials {
            check_value("username", name)?;
            check_value("password", password)?;
        }
        let mut out = XmlOut::default();
        out.open("ULM", []);
        out.empty("MESSAGE", [("type", self.message_type)]);
        out.empty("SESSION", [("sessionid", self.session_id)]);
        if let Some(paging) = &self.paging {
            let start = paging.start.to_string();
            let end = paging.end.to_string();
            out.empty(
                "PAGING",
                [
                    ("start_record", start.as_str()),
                    ("end_record", end.as_str()),
                    ("sort", paging.sort.as_str()),
                    ("dir", paging.dir.as_str()),
                    ("search", paging.search.as_str()),
                ],
            );
        }
        if !self.params.is_empty() {
            out.open("PARAMETERS", []);
            for (name, value) in &self.params {
                out.text_element("PARAM", [("name", *name)], value);
            }
            out.close("PARAMETERS");
        }
        if let Some((name, password)) = self.credentials {
            out.text_element("NAME", [], name);
            out.open("PWD", []);
            if password.contains('\r') {
                // CDATA cannot protect \r from line-end normalization; a character reference can.
                out.text(password);
            } else {
                out.cdata(password);
            }
            out.close("PWD");
        }
        out.close("ULM");
        Ok(out.finish())
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The PAGING element: records `start`..=`end`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    pub start: u64,
    pub end: u64,
    pub sort: String,
    pub dir: String,
    pub search: String,
}

/// The attribute names of records that carry the same attributes in the same order;
/// shared between records so that 100,000 rows do not hold 100,000 copies of the names.
pub type Schema = Arc<[Box<str>]>;

/// One data element (PRODUCT, USER, SERVER...): its tag and its attributes as received.
#[derive(Debug, Clone)]
pub struct Record {
    tag: Arc<str>,
    schema: Schema,
    /// All values, one after another; `ends[i]` is where value `i` ends.
    values: Box<str>,
    ends: Box<[u32]>,
}

impl Record {
    pub fn new(tag: &str, attrs: &[(&str, &str)]) -> Record {
        let schema: Schema = attrs.iter().map(|(n, _)| Box::from(*n)).collect();
        let mut values = String::new();
        let mut ends = Vec::with_capacity(attrs.len());
        for (_, value) in attrs {
            values.push_str(value);
            ends.push(values.len() as u32);
        }
        Record {
            tag: Arc::from(tag),
            schema,
            values: values.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn name(&self, index: usize) -> &str {
        &self.schema[index]
    }

    pub fn value(&self, index: usize) -> &str {
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        &self.values[start..self.ends[index] as usize]
    }

    /// The value of the first attribute with exactly this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.schema
            .iter()
            .position(|n| &**n == name)
            .map(|i| self.value(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.len()).map(move |i| (self.name(i), self.value(i)))
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag && self.iter().eq(other.iter())
    }
}

/// A whole OpenLM document: a reply for the client, or a request for the sandbox.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// `MESSAGE/@type`: the operation of a request, the kind of a reply.
    pub kind: String,
    /// The text inside MESSAGE (the error text of an `Error` reply).
    pub text: String,
    /// MESSAGE attributes other than `type`.
    pub message_attrs: Vec<(String, String)>,
    /// From `SESSION/@sessionid` (any letter case) or a `SESSIONID` element.
    pub session_id: Option<String>,
    pub paging: Option<Paging>,
    /// Every PARAM, wherever it was.
    pub params: Vec<(String, String)>,
    /// Text of other elements, by tag: NAME, PWD, SESSIONID, and whatever else came.
    pub texts: Vec<(String, String)>,
    /// Attributes of the envelope elements (ULM, SESSION, PAGING) as `ELEMENT@name`.
    pub envelope_attrs: Vec<(String, String)>,
    pub records: Vec<Record>,
}

impl Message {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text_of(&self, tag: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(tag))
            .map(|(_, v)| v.as_str())
    }

    /// The total number of records the server has, when a paged reply says it.
    /// Where it is said is unverified, so every plausible place is looked at.
    pub fn total(&self) -> Option<u64> {
        const NAMES: [&str; 5] = [
            "total",
            "totalrecords",
            "totalcount",
            "recordcount",
            "totalrows",
        ];
        let named = |name: &str| NAMES.contains(&normalize_name(name).as_str());
        self.envelope_attrs
            .iter()
            .chain(self.message_attrs.iter())
            .filter(|(name, _)| named(name.rsplit('@').next().unwrap_or(name)))
            .chain(self.texts.iter().filter(|(tag, _)| named(tag)))
            .find_map(|(_, value)| value.trim().parse().ok())
    }
}

/// Lower case without `_`, `-` or spaces: how names are compared when servers vary in spelling.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Turn reply bytes into text: UTF-8 (with or without BOM), UTF-16 with a BOM,
/// or the encoding the XML declaration names.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|e| XmlError(format!("invalid UTF-8 at byte {}", e.valid_up_to() + 3)));
    }
    for (bom, encoding) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE),
    ] {
        if bytes.starts_with(bom) {
            let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[2..]);
            if had_errors {
                return Err(XmlError(format!("invalid {}", encoding.name())));
            }
            return Ok(text);
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(utf8_error) => {
            let declared = declared_encoding(bytes)
                .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
                .filter(|e| *e != encoding_rs::UTF_8);
            match declared {
                Some(encoding) => {
                    let (text, _, had_errors) = encoding.decode(bytes);
                    if had_errors {
                        return Err(XmlError(format!("invalid {}", encoding.name())));
                    }
                    Ok(text)
                }
                None => Err(XmlError(format!(
                    "not UTF-8 text (invalid byte at {})",
                    utf8_error.valid_up_to()
                ))),
            }
        }
    }
}

fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    let decl = head.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_owned())
}

/// What kind of element is open, so its text goes to the right place.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    Message,
    Param,
    Other,
}

/// Read a whole OpenLM document.
pub fn read(bytes: &[u8]) -> Result<Message, XmlError> {
    let text = decode(bytes)?;
    read_str(&text)
}

/// Read a whole OpenLM document from text.
pub fn read_str(text: &str) -> Result<Message, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut message = Message::default();
    let mut parser = Parser::default();
    loop {
        let event = reader.read_event().map_err(|e| {
            XmlError(format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::Start(start) => parser.start(&start, false, &mut message)?,
            Event::Empty(start) => parser.start(&start, true, &mut message)?,
            Event::End(end) => parser.end(end.name(), &mut message)?,
            Event::Text(text) => parser.push_text(&text.xml10_content()),
            Event::CData(data) => parser.push_text(&data.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&reference) {
                        Some(s) => s.to_owned(),
                        // An entity we cannot know: keep it as written rather than lose it.
                        None => format!("&{};", &*reference),
                    },
                    Err(e) => return Err(XmlError(format!("bad character reference: {e}"))),
                };
                parser.push_text(&resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !parser.stack.is_empty() {
        return Err(XmlError(format!(
            "the document ends before </{}> (truncated reply)",
            parser
                .stack
                .last()
                .map(|open| open.tag.as_str())
                .unwrap_or("")
        )));
    }
    if !parser.seen_root {
        return Err(XmlError("empty document: no <ULM> element".into()));
    }
    message.session_id = parser
        .session_attr
        .take()
        .or_else(|| message.text_of("SESSIONID").map(|s| s.trim().to_owned()));
    Ok(message)
}

/// How many distinct tags and attribute-name lists one document may intern. Real replies have
/// a handful; a hostile one may give every row its own names, and then the rows past these
/// bounds keep their names to themselves instead of growing the tables without end.
const MAX_INTERNED: usize = 1024;

/// How deep elements may nest. OpenLM documents are four levels deep; a reply nested deeper
/// than this is refused rather than held open element by element.
pub const MAX_DEPTH: usize = 256;

/// An open element: its tag, what it is, the text read inside it so far, and whether an
/// element opened inside it (then its whitespace is layout, not a value).
struct OpenElement {
    tag: String,
    open: Open,
    text: String,
    has_children: bool,
}

#[derive(Default)]
struct Parser {
    stack: Vec<OpenElement>,
    seen_root: bool,
    param_name: Option<String>,
    session_attr: Option<String>,
    // Interning: records of one document share tags and attribute-name lists, found by hash
    // so that the work per record does not grow with the records seen before it.
    tags: HashMap<String, Arc<str>>,
    schemas: HashMap<String, Schema>,
    /// The attribute names of the record being read, as an unambiguous key:
    /// each name preceded by its length.
    schema_key: String,
    names: Vec<(usize, usize)>,
    values: String,
    ends: Vec<u32>,
}

impl Parser {
    fn start(
        &mut self,
        start: &BytesStart<'_>,
        empty: bool,
        message: &mut Message,
    ) -> Result<(), XmlError> {
        let tag = start.name();
        let tag = tag.as_ref();
        if self.stack.is_empty() {
            if self.seen_root {
                return Err(XmlError(format!(
                    "a second root element <{tag}> after </ULM>"
                )));
            }
            if !tag.eq_ignore_ascii_case("ULM") {
                return Err(XmlError(format!(
                    "not an OpenLM reply: the root element is <{tag}>, not <ULM>"
                )));
            }
            self.seen_root = true;
        }
        let open = if tag.eq_ignore_ascii_case("MESSAGE") {
            for (name, value) in attributes(start)? {
                if name.eq_ignore_ascii_case("type") {
                    message.kind = value;
                } else {
                    message.message_attrs.push((name, value));
                }
            }
            Open::Message
        } else if tag.eq_ignore_ascii_case("PARAM") {
            self.param_name = attributes(start)?
                .into_iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("name"))
                .map(|(_, value)| value);
            if empty {
                if let Some(name) = self.param_name.take() {
                    message.params.push((name, String::new()));
                }
            }
            Open::Param
        } else if tag.eq_ignore_ascii_case("SESSION") {
            for (name, value) in attributes(start)? {
                if name.eq_ignore_ascii_case("sessionid") {
                    self.session_attr = Some(value.trim().to_owned());
                } else {
                    message
                        .envelope_attrs
                        .push((format!("SESSION@{name}"), value));
                }
            }
            Open::Other
        } else if tag.eq_ignore_ascii_case("PAGING") {
            let mut paging = Paging::default();
            for (name, value) in attributes(start)? {
                match normalize_name(&name).as_str() {
                    "startrecord" | "start" => paging.start = value.trim().parse().unwrap_or(0),
                    "endrecord" | "end" => paging.end = value.trim().parse().unwrap_or(0),
                    "sort" => paging.sort = value.clone(),
                    "dir" => paging.dir = value.clone(),
                    "search" => paging.search = value.clone(),
                    _ => {}
                }
                message
                    .envelope_attrs
                    .push((format!("PAGING@{name}"), value));
            }
            message.paging = Some(paging);
            Open::Other
        } else if tag.eq_ignore_ascii_case("ULM") || tag.eq_ignore_ascii_case("PARAMETERS") {
            for (name, value) in attributes(start)? {
                message
                    .envelope_attrs
                    .push((format!("{tag}@{name}"), value));
            }
            Open::Other
        } else {
            self.record(tag, start, message)?;
            Open::Other
        };
        if let Some(parent) = self.stack.last_mut() {
            parent.has_children = true;
        }
        if !empty {
            if self.stack.len() >= MAX_DEPTH {
                return Err(XmlError(format!(
                    "elements nested more than {MAX_DEPTH} deep at <{tag}>: not an OpenLM document"
                )));
            }
            self.stack.push(OpenElement {
                tag: tag.to_owned(),
                open,
                text: String::new(),
                has_children: false,
            });
        }
        Ok(())
    }

    /// Keep a data element's attributes as a record (elements without attributes are containers or text).
    fn record(
        &mut self,
        tag: &str,
        start: &BytesStart<'_>,
        message: &mut Message,
    ) -> Result<(), XmlError> {
        self.names.clear();
        self.schema_key.clear();
        self.values.clear();
        self.ends.clear();
        let mut attrs = start.attributes();
        attrs.with_checks(false);
        for attr in attrs {
            let attr = attr.map_err(|e| XmlError(format!("bad attribute in <{tag}>: {e}")))?;
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| XmlError(format!("bad attribute value in <{tag}>: {e}")))?;
            let name: &str = attr.key.as_ref();
            self.schema_key.push_str(&name.len().to_string());
            self.schema_key.push(':');
            let at = self.schema_key.len();
            self.schema_key.push_str(name);
            self.names.push((at, name.len()));
            self.values.push_str(&value);
            self.ends.push(self.values.len() as u32);
        }
        if self.names.is_empty() {
            return Ok(());
        }
        let tag = match self.tags.get(tag) {
            Some(t) => t.clone(),
            None => {
                let t: Arc<str> = Arc::from(tag);
                if self.tags.len() < MAX_INTERNED {
                    self.tags.insert(tag.to_owned(), t.clone());
                }
                t
            }
        };
        let schema = match self.schemas.get(self.schema_key.as_str()) {
            Some(s) => s.clone(),
            None => {
                let key = &self.schema_key;
                let s: Schema = self
                    .names
                    .iter()
                    .map(|&(at, len)| Box::from(&key[at..at + len]))
                    .collect();
                if self.schemas.len() < MAX_INTERNED {
                    self.schemas.insert(key.clone(), s.clone());
                }
                s
            }
        };
        message.records.push(Record {
            tag,
            schema,
            values: Box::from(self.values.as_str()),
            ends: Box::from(self.ends.as_slice()),
        });
        Ok(())
    }

    fn push_text(&mut self, text: &str) {
        if let Some(open) = self.stack.last_mut() {
            open.text.push_str(text);
        }
    }

    fn end(&mut self, name: QName<'_>, message: &mut Message) -> Result<(), XmlError> {
        let Some(OpenElement {
            tag,
            open,
            text,
            has_children,
        }) = self.stack.pop()
        else {
            return Err(XmlError(format!("unexpected </{}>", name.as_ref())));
        };
        match open {
            Open::Message => message.text = text.trim().to_owned(),
            Open::Param => {
                if let Some(name) = self.param_name.take() {
                    message.params.push((name, text));
                }
            }
            Open::Other => {
                // The text of an element with no element inside is a value (NAME, PWD): kept
                // exactly, even when it is only spaces. Between child elements, only text
                // that is more than layout is kept.
                let value = if has_children {
                    !text.trim().is_empty()
                } else {
                    !text.is_empty()
                };
                if value {
                    message.texts.push((tag, text));
                }
            }
        }
        Ok(())
    }
}

fn attributes(start: &BytesStart<'_>) -> Result<Vec<(String, String)>, XmlError> {
    let mut attrs = start.attributes();
    attrs.with_checks(false);
    attrs
        .map(|attr| {
            let attr = attr.map_err(|e| XmlError(format!("bad attribute: {e}")))?;
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| XmlError(format!("bad attribute value: {e}")))?;
            Ok((attr.key.as_ref().to_owned(), value.into_owned()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn request_with_param(value: &str) -> String {
        RequestDoc {
            message_type: "CloseApplication",
            session_id: "0",
            params: vec![("username", value)],
            ..Default::default()
        }
        .to_xml()
        .unwrap()
    }

    #[test]
    fn writes_the_envelope_with_escaped_values() {
        let xml = request_with_param(r#"a<b&"c"#);
        assert_eq!(
            xml,
            r#"<ULM><MESSAGE type="CloseApplication"/><SESSION sessionid="0"/><PARAMETERS><PARAM name="username">a&lt;b&amp;&quot;c</PARAM></PARAMETERS></ULM>"#
        );
    }

    #[test]
    fn hostile_values_survive_a_round_trip() {
        for value in [
            r#"a<b&"c"#,
            "]]>",
            "x]]>y<![CDATA[z",
            "Ünïcødé 名前 🙂",
            "",
            " padded ",
            "tab\there\r\nline",
            &"L".repeat(100_000),
        ] {
            let message = read(request_with_param(value).as_bytes()).unwrap();
            assert_eq!(message.param("username"), Some(value));
        }
    }

    #[test]
    fn control_characters_are_refused_before_sending() {
        let err = RequestDoc {
            message_type: "CloseApplication",
            session_id: "0",
            params: vec![("workstation", "ws\u{1}")],
            ..Default::default()
        }
        .to_xml()
        .unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
        assert!(err.to_string().contains("workstation"));
        assert!(err.to_string().contains("U+0001"));
    }

    #[test]
    fn credentials_go_in_name_and_cdata_pwd() {
        let xml = RequestDoc {
            message_type: "UserAuthentication",
            session_id: "0",
            credentials: Some(("admin", "p]]>w<d")),
            ..Default::default()
        }
        .to_xml()
        .unwrap();
        assert!(
            xml.contains("<NAME>admin</NAME><PWD><![CDATA[p]]]]><![CDATA[>w<d]]></PWD>"),
            "{xml}"
        );
        let message = read(xml.as_bytes()).unwrap();
        assert_eq!(message.text_of("NAME"), Some("admin"));
        assert_eq!(message.text_of("PWD"), Some("p]]>w<d"));
    }

    #[test]
    fn reads_products_unknown_elements_and_either_session_spelling() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
            <ULM version="2">
              <MESSAGE type="GetActiveProducts" timeformat="ms"/>
              <SESSION sessionId="42"/>
              <FUTURE_THING><NESTED a="1"/></FUTURE_THING>
              <PRODUCT product="Editor" username="jsmith" workstation="WS-1" extra="kept &amp; unescaped"/>
              <PRODUCT product="Viewer" username="akhan" workstation="WS-2" extra="x"/>
              <PRODUCT product="ARC/INFO" username="b" workstation="W"/>
            </ULM>"#;
        let message = read(xml).unwrap();
        assert_eq!(message.kind, "GetActiveProducts");
        assert_eq!(message.session_id.as_deref(), Some("42"));
        let products: Vec<&Record> = message
            .records
            .iter()
            .filter(|r| r.tag() == "PRODUCT")
            .collect();
        assert_eq!(products.len(), 3);
        assert_eq!(products[0].get("extra"), Some("kept & unescaped"));
        assert_eq!(products[1].get("username"), Some("akhan"));
        // The first two share one schema; the third has its own.
        assert!(Arc::ptr_eq(products[0].schema(), products[1].schema()));
        assert!(!Arc::ptr_eq(products[0].schema(), products[2].schema()));
        assert!(message.records.iter().any(|r| r.tag() == "NESTED"));
        assert!(message
            .envelope_attrs
            .contains(&("ULM@version".into(), "2".into())));
    }

    #[test]
    fn reads_error_replies_params_inside_message_and_cdata() {
        let xml = br#"<ULM><MESSAGE type="Error">Server <![CDATA[Error & more]]><PARAM name="code">7</PARAM></MESSAGE></ULM>"#;
        let message = read(xml).unwrap();
        assert_eq!(message.kind, "Error");
        assert_eq!(message.text, "Server Error & more");
        assert_eq!(message.param("code"), Some("7"));
    }

    #[test]
    fn session_id_from_a_sessionid_element() {
        let message = read(
            b"<ULM><MESSAGE type='SessionAuthenticationID'/><SESSIONID> 9f3 </SESSIONID></ULM>",
        )
        .unwrap();
        assert_eq!(message.session_id.as_deref(), Some("9f3"));
    }

    #[test]
    fn total_is_found_where_servers_put_it() {
        for xml in [
            &br#"<ULM><MESSAGE type="x"/><PAGING start_record="0" end_record="9" total_records="123"/></ULM>"#[..],
            br#"<ULM><MESSAGE type="x" total="123"/></ULM>"#,
            br#"<ULM><MESSAGE type="x"/><TOTAL>123</TOTAL></ULM>"#,
        ] {
            assert_eq!(read(xml).unwrap().total(), Some(123));
        }
    }

    #[test]
    fn html_and_garbage_are_errors() {
        let err = read(b"<html><body>Proxy error</body></html>").unwrap_err();
        assert!(err.0.contains("<html>"), "{err}");
        assert!(read(b"").is_err());
        assert!(read(b"<ULM><PRODUCT a='1'/>")
            .unwrap_err()
            .0
            .contains("truncated"));
        assert!(read(b"\xff\xfe\xff").is_err());
    }

    #[test]
    fn utf16_and_declared_legacy_encodings() {
        let text = "<ULM><MESSAGE type=\"Success\">é</MESSAGE></ULM>";
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(read(&utf16).unwrap().text, "é");
        let latin1 = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><ULM><MESSAGE type=\"Success\">\xe9</MESSAGE></ULM>";
        assert_eq!(read(latin1).unwrap().text, "é");
    }

    /// A GetActiveProducts reply of `rows` PRODUCT rows; with `distinct`, every row has its
    /// own attribute names (as a hostile server may send).
    fn products_reply(rows: usize, distinct: bool) -> String {
        let mut xml = String::from(r#"<ULM><MESSAGE type="GetActiveProducts"/>"#);
        for row in 0..rows {
            let suffix = if distinct {
                row.to_string()
            } else {
                String::new()
            };
            xml.push_str(&format!(
                r#"<PRODUCT product{suffix}="Editor" username{suffix}="user{row}" workstation{suffix}="WS-{row}" start_time{suffix}="1700000000000"/>"#
            ));
        }
        xml.push_str("</ULM>");
        xml
    }

    /// The fastest of a few runs, so that a busy machine does not decide the result.
    fn fastest(bytes: &[u8]) -> std::time::Duration {
        (0..3)
            .map(|_| {
                let started = std::time::Instant::now();
                let message = read(bytes).unwrap();
                let products = crate::openlm::ActiveProduct::from_records(message.records);
                assert_eq!(products.len(), 40_000);
                started.elapsed()
            })
            .min()
            .unwrap_or_default()
    }

    #[test]
    fn rows_with_their_own_attribute_names_parse_in_linear_time() {
        let same = products_reply(40_000, false);
        let distinct = products_reply(40_000, true);
        // Warm up the allocator once, then compare. The quadratic reader took 1000x longer.
        let _ = read(same.as_bytes());
        let same_time = fastest(same.as_bytes());
        let distinct_time = fastest(distinct.as_bytes());
        eprintln!("40,000 rows: same names {same_time:?}, distinct names {distinct_time:?}");
        assert!(
            distinct_time <= same_time * 20 + std::time::Duration::from_millis(50),
            "distinct names: {distinct_time:?}, same names: {same_time:?}"
        );
        // And every row still has its own names and values.
        let message = read(distinct.as_bytes()).unwrap();
        assert_eq!(
            message.records[39_999].get("username39999"),
            Some("user39999")
        );
        let products = crate::openlm::ActiveProduct::from_records(message.records);
        let record = products[12_345].record();
        assert_eq!(record.get("username12345"), Some("user12345"));
        assert_eq!(record.get("workstation12345"), Some("WS-12345"));
    }

    #[test]
    fn interning_tables_stay_bounded_whatever_the_names() {
        let distinct = products_reply(5_000, true);
        let text = decode(distinct.as_bytes()).unwrap();
        let mut reader = Reader::from_str(&text);
        let mut parser = Parser::default();
        let mut message = Message::default();
        loop {
            match reader.read_event().unwrap() {
                Event::Start(start) => parser.start(&start, false, &mut message).unwrap(),
                Event::Empty(start) => parser.start(&start, true, &mut message).unwrap(),
                Event::End(end) => parser.end(end.name(), &mut message).unwrap(),
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(message.records.len(), 5_000);
        assert!(parser.schemas.len() <= MAX_INTERNED);
        assert!(parser.tags.len() <= MAX_INTERNED);
        // Rows past the bound keep their own names.
        assert_eq!(message.records[4_999].name(0), "product4999");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!(
            "<ULM>{}{}</ULM>",
            "<A>".repeat(10_000),
            "</A>".repeat(10_000)
        );
        let err = read(deep.as_bytes()).unwrap_err();
        assert!(err.0.contains("nested"), "{err}");
        let ok = format!("<ULM>{}{}</ULM>", "<A>".repeat(100), "</A>".repeat(100));
        assert!(read(ok.as_bytes()).is_ok());
    }

    #[test]
    fn whitespace_only_values_are_kept_exactly() {
        for value in [" ", "   ", "\t", " \n "] {
            let xml = RequestDoc {
                message_type: "UserAuthentication",
                session_id: "0",
                params: vec![("username", value)],
                credentials: Some((value, value)),
                ..Default::default()
            }
            .to_xml()
            .unwrap();
            let message = read(xml.as_bytes()).unwrap();
            assert_eq!(message.text_of("NAME"), Some(value), "{xml}");
            assert_eq!(message.text_of("PWD"), Some(value), "{xml}");
            assert_eq!(message.param("username"), Some(value), "{xml}");
        }
        // Layout between elements is still not a value.
        let message =
            read(b"<ULM>\n  <MESSAGE type='x'/>\n  <OUTER>\n <NAME> a </NAME>\n</OUTER>\n</ULM>")
                .unwrap();
        assert_eq!(message.texts, vec![("NAME".to_owned(), " a ".to_owned())]);
    }

    /// Strings XML can carry: everything but the control characters it forbids.
    fn xml_string() -> impl Strategy<Value = String> {
        any::<String>().prop_map(|s| s.chars().filter(|c| is_xml_char(*c)).collect())
    }

    // Cases: PROPTEST_CASES (CI sets 100000), else proptest's default.
    proptest! {
        #[test]
        fn any_string_survives_a_param_round_trip(value in xml_string(), name in xml_string()) {
            let xml = RequestDoc {
                message_type: "CloseApplication",
                session_id: "0",
                params: vec![(name.as_str(), value.as_str())],
                ..Default::default()
            }.to_xml().unwrap();
            let message = read(xml.as_bytes()).unwrap();
            prop_assert_eq!(&message.params, &vec![(name.clone(), value.clone())]);
        }

        #[test]
        fn any_string_is_either_carried_or_refused(value in any::<String>()) {
            let doc = RequestDoc { message_type: "X", session_id: "0", params: vec![("v", value.as_str())], ..Default::default() };
            match doc.to_xml() {
                Ok(xml) => {
                    let message = read(xml.as_bytes()).unwrap();
                    prop_assert_eq!(message.param("v"), Some(value.as_str()));
                }
                Err(err) => prop_assert_eq!(err.kind(), "invalid_input"),
            }
        }

        #[test]
        fn any_attribute_value_survives_a_record_round_trip(value in xml_string()) {
            let mut out = XmlOut::default();
            out.open("ULM", []);
            out.empty("PRODUCT", [("username", value.as_str())]);
            out.close("ULM");
            let message = read(out.finish().as_bytes()).unwrap();
            prop_assert_eq!(message.records[0].get("username"), Some(value.as_str()));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read(&bytes);
        }

        #[test]
        fn arbitrary_xmlish_text_never_panics(text in "(<|>|/|ULM|PRODUCT|PARAM|MESSAGE| |=|\"|'|&|;|#|x|[0-9]|\\]|\\[|!|CDATA|-|\\?)*") {
            let _ = read(text.as_bytes());
        }
    }
}
