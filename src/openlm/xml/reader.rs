//! Reading OpenLM documents, streaming: tolerant of what servers vary in, bounded against
//! hostile input.

use std::collections::HashMap;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::QName;
use quick_xml::{Reader, XmlVersion};

use super::encoding::decode;
use super::record::{Document, OwnValues, Values};
use super::{normalize_name, Message, Paging, Record, Schema, XmlError};

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
    let mut reserved = false;
    loop {
        let at = reader.buffer_position();
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
        if !reserved && !message.records.is_empty() {
            reserved = true;
            parser.reserve(
                &mut message.records,
                text.len(),
                at,
                reader.buffer_position(),
            );
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
    parser.finish(&mut message);
    Ok(message)
}

/// How many distinct tags and attribute-name lists one document may intern. Real replies have
/// a handful; a hostile one may give every row its own names, and then the rows past these
/// bounds keep their names to themselves instead of growing the tables without end.
pub(super) const MAX_INTERNED: usize = 1024;

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
pub(super) struct Parser {
    stack: Vec<OpenElement>,
    seen_root: bool,
    param_name: Option<String>,
    session_attr: Option<String>,
    // Interning: records of one document share tags and attribute-name lists, found by hash
    // so that the work per record does not grow with the records seen before it.
    pub(super) tags: HashMap<String, Arc<str>>,
    pub(super) schemas: HashMap<String, Schema>,
    /// The attribute names of the record being read, as an unambiguous key:
    /// each name preceded by its length.
    schema_key: String,
    /// The last record's tag and schema: rows of a reply share them, and comparing with
    /// the last is cheaper than hashing into the tables for every row.
    last_tag: Option<Arc<str>>,
    last_schema: Option<Schema>,
    names: Vec<(usize, usize)>,
    /// The values of the records read so far, and where each ends.
    document: Document,
    /// What the records point to while the document is read: it is whole only at its end,
    /// and then `finish` puts it in their place.
    unfinished: Arc<Document>,
}

impl Parser {
    /// Room for the records the rest of the text holds if they are all like the first, read
    /// from `start` to `end` (at most one per 16 bytes of text, whatever the first's size),
    /// and for their values as if each were a quarter bigger than the first's: rows of a
    /// reply are alike, and a list or buffer that grew was copied as it grew. No more than
    /// the rest of the text, which values never outgrow (an attribute takes at least four
    /// bytes, `a=""`); a record kept alone keeps the room with its buffer.
    fn reserve(&mut self, records: &mut Vec<Record>, len: usize, start: u64, end: u64) {
        let span = usize::try_from(end - start).unwrap_or(usize::MAX).max(1);
        let rest = len.saturating_sub(usize::try_from(end).unwrap_or(len));
        let left = (rest / span).min(len / 16);
        records.reserve(left);
        let room = |first: usize| left.saturating_mul(first).saturating_mul(5) / 4;
        let Document { values, ends } = &mut self.document;
        values.reserve(room(values.len()).min(rest));
        ends.reserve(room(ends.len()).min(rest / 4));
    }

    /// The document is read: its records now point to it.
    pub(super) fn finish(&mut self, message: &mut Message) {
        let document = Arc::new(std::mem::take(&mut self.document));
        for record in &mut message.records {
            if let Values::InDocument { document: d, .. } = &mut record.values {
                *d = document.clone();
            }
        }
    }

    pub(super) fn start(
        &mut self,
        start: &BytesStart<'_>,
        empty: bool,
        message: &mut Message,
    ) -> Result<(), XmlError> {
        let tag = start.name();
        let tag = tag.as_ref();
        if self.stack.is_empty() {
            self.check_root(tag)?;
        }
        let open = self.read_element(tag, start, empty, message)?;
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

    /// One root, and it is `<ULM>`.
    fn check_root(&mut self, tag: &str) -> Result<(), XmlError> {
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
        Ok(())
    }

    /// Read an opening tag's attributes into `message`, by what the element is.
    fn read_element(
        &mut self,
        tag: &str,
        start: &BytesStart<'_>,
        empty: bool,
        message: &mut Message,
    ) -> Result<Open, XmlError> {
        if tag.eq_ignore_ascii_case("MESSAGE") {
            for (name, value) in attributes(start)? {
                if name.eq_ignore_ascii_case("type") {
                    message.kind = value;
                } else {
                    message.message_attrs.push((name, value));
                }
            }
            return Ok(Open::Message);
        }
        if tag.eq_ignore_ascii_case("PARAM") {
            self.param_name = attributes(start)?
                .into_iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("name"))
                .map(|(_, value)| value);
            if empty {
                if let Some(name) = self.param_name.take() {
                    message.params.push((name, String::new()));
                }
            }
            return Ok(Open::Param);
        }
        if tag.eq_ignore_ascii_case("SESSION") {
            for (name, value) in attributes(start)? {
                if name.eq_ignore_ascii_case("sessionid") {
                    self.session_attr = Some(value.trim().to_owned());
                } else {
                    message
                        .envelope_attrs
                        .push((format!("SESSION@{name}"), value));
                }
            }
        } else if tag.eq_ignore_ascii_case("PAGING") {
            message.paging = Some(read_paging(start, message)?);
        } else if tag.eq_ignore_ascii_case("ULM") || tag.eq_ignore_ascii_case("PARAMETERS") {
            for (name, value) in attributes(start)? {
                message
                    .envelope_attrs
                    .push((format!("{tag}@{name}"), value));
            }
        } else {
            self.record(tag, start, message)?;
        }
        Ok(Open::Other)
    }

    /// Keep a data element's attributes as a record (elements without attributes are containers or text).
    fn record(
        &mut self,
        tag: &str,
        start: &BytesStart<'_>,
        message: &mut Message,
    ) -> Result<(), XmlError> {
        let (base, first) = (self.document.values.len(), self.document.ends.len());
        let count = self.read_attributes(tag, start)?;
        if count == 0 {
            return Ok(());
        }
        let tag = match &self.last_tag {
            Some(last) if &**last == tag => last.clone(),
            _ => {
                let t = self.intern_tag(tag);
                self.last_tag = Some(t.clone());
                t
            }
        };
        let schema = match &self.last_schema {
            Some(last) if self.names.is_empty() && last.len() == count => last.clone(),
            Some(last) if self.names.is_empty() => {
                key_names(&mut self.schema_key, &mut self.names, &last[..count]);
                self.new_schema()
            }
            _ => self.new_schema(),
        };
        let values = match self.in_document(base, first) {
            Some(values) => values,
            None => Values::Own(Box::new(own_values(&tag, start)?)),
        };
        message.records.push(Record {
            tag,
            schema,
            values,
        });
        Ok(())
    }

    /// The values just read, from `base` in the document's buffer and their ends from
    /// `first`, as a record's; None, and taken back out, when they do not fit two-byte ends
    /// (64 KiB together) or four-byte places.
    fn in_document(&mut self, base: usize, first: usize) -> Option<Values> {
        let Document { values, ends } = &mut self.document;
        let fits = (
            u16::try_from(values.len() - base),
            u32::try_from(base),
            u32::try_from(first),
        );
        match fits {
            (Ok(_), Ok(base), Ok(first)) => Some(Values::InDocument {
                document: self.unfinished.clone(),
                base,
                first,
            }),
            _ => {
                values.truncate(base);
                ends.truncate(first);
                None
            }
        }
    }

    /// Read an element's attributes: their values (normalized) onto the document's, and
    /// how many there were. While the names are the last record's, they are only compared
    /// with it; from the first one that differs, all are written into `names` and
    /// `schema_key` (empty if none differed).
    fn read_attributes(&mut self, tag: &str, start: &BytesStart<'_>) -> Result<usize, XmlError> {
        let Parser {
            last_schema,
            schema_key,
            names,
            document: Document { values, ends },
            ..
        } = self;
        names.clear();
        schema_key.clear();
        let (base, first) = (values.len(), ends.len());
        let last: &[Box<str>] = last_schema.as_deref().unwrap_or_default();
        let mut same = last_schema.is_some();
        let mut attrs = start.attributes();
        attrs.with_checks(false);
        for attr in attrs {
            let attr = attr.map_err(|e| XmlError(format!("bad attribute in <{tag}>: {e}")))?;
            let name: &str = attr.key.as_ref();
            let count = ends.len() - first;
            if same && last.get(count).is_none_or(|n| **n != *name) {
                same = false;
                key_names(schema_key, names, &last[..count]);
            }
            if !same {
                key_names(schema_key, names, [name]);
            }
            // Attribute-value normalization changes only references (`&...;`) and tabs and
            // line breaks: without them, a value is its raw text, copied as it is. (Other
            // control characters take the normalizing path too, which leaves them be.)
            if attr.value.bytes().any(|b| b == b'&' || b < 0x20) {
                let value = attr
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|e| XmlError(format!("bad attribute value in <{tag}>: {e}")))?;
                values.push_str(&value);
            } else {
                values.push_str(&attr.value);
            }
            // Truncated when too long: `in_document` then finds the values too long and
            // takes them back out.
            ends.push((values.len() - base) as u16);
        }
        Ok(ends.len() - first)
    }

    /// The schema of the record whose names are in `names` and `schema_key`, interned, and
    /// now the last.
    fn new_schema(&mut self) -> Schema {
        let s = self.intern_schema();
        self.last_schema = Some(s.clone());
        s
    }

    fn intern_tag(&mut self, tag: &str) -> Arc<str> {
        if let Some(t) = self.tags.get(tag) {
            return t.clone();
        }
        let t: Arc<str> = Arc::from(tag);
        if self.tags.len() < MAX_INTERNED {
            self.tags.insert(tag.to_owned(), t.clone());
        }
        t
    }

    /// The schema of the record read into `names` and `schema_key`.
    fn intern_schema(&mut self) -> Schema {
        if let Some(s) = self.schemas.get(self.schema_key.as_str()) {
            return s.clone();
        }
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

    fn push_text(&mut self, text: &str) {
        if let Some(open) = self.stack.last_mut() {
            open.text.push_str(text);
        }
    }

    pub(super) fn end(&mut self, name: QName<'_>, message: &mut Message) -> Result<(), XmlError> {
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

/// Names written into a schema key, each preceded by its length, and where each is in it.
fn key_names<'a, N: AsRef<str> + ?Sized + 'a>(
    key: &mut String,
    at: &mut Vec<(usize, usize)>,
    names: impl IntoIterator<Item = &'a N>,
) {
    for name in names {
        let name = name.as_ref();
        push_length(key, name.len());
        at.push((key.len(), name.len()));
        key.push_str(name);
    }
}

/// `n` and a colon, pushed onto a schema key. Digit by digit: a `to_string` here was an
/// allocation per attribute, and `write!` was 7% of a 100,000-row parse in a profile.
fn push_length(key: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        key.push(char::from(digit));
    }
    key.push(':');
}

/// The values of an element whose values had to be rewritten, normalized, as its own.
fn own_values(tag: &str, start: &BytesStart<'_>) -> Result<OwnValues, XmlError> {
    let mut values = String::new();
    let mut ends = Vec::new();
    let mut attrs = start.attributes();
    attrs.with_checks(false);
    for attr in attrs {
        let attr = attr.map_err(|e| XmlError(format!("bad attribute in <{tag}>: {e}")))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| XmlError(format!("bad attribute value in <{tag}>: {e}")))?;
        values.push_str(&value);
        ends.push(
            u32::try_from(values.len())
                .map_err(|_| XmlError(format!("the values of <{tag}> are over 4 GiB")))?,
        );
    }
    Ok(OwnValues {
        values: values.into_boxed_str(),
        ends: ends.into_boxed_slice(),
    })
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

/// A PAGING element's numbers and sort, its attributes kept in the envelope's too.
fn read_paging(start: &BytesStart<'_>, message: &mut Message) -> Result<Paging, XmlError> {
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
    Ok(paging)
}
