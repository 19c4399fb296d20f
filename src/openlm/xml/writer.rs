//! Writing OpenLM documents: every value escaped, and refused if XML cannot carry it.

use std::borrow::Cow;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesCData, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{check_value, Paging};
use crate::error::Error;

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
