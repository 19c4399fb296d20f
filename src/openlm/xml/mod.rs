//! The OpenLM XML envelope: a writer (quick-xml, every value escaped) and a streaming reader
//! that serves both directions, replies for the client and requests for the sandbox.
//!
//! The reader is tolerant: unknown elements and attributes are kept, CDATA and entities are
//! resolved, `sessionid` is matched in any letter case, PARAMs are found wherever they are.
//! On malformed input it returns an error; it never panics.
//!
//! Here: the document's parts (paging, messages); `record`: the records and the buffer their
//! values share; `writer`: requests and replies out; `reader`: any document in; `encoding`:
//! its bytes as text.

use crate::error::Error;

/// Why a document could not be read; the client adds the URL and the body start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub String);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

mod encoding;
mod reader;
mod record;
mod writer;

pub use encoding::decode;
pub use reader::{read, read_str, MAX_DEPTH};
pub use record::{Record, Schema};
pub use writer::{RequestDoc, XmlOut};

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

/// The PAGING element: records `start`..=`end`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    pub start: u64,
    pub end: u64,
    pub sort: String,
    pub dir: String,
    pub search: String,
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

#[cfg(test)]
mod tests;
