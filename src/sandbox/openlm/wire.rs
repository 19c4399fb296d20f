//! The OpenLM wire as the emulator speaks it: a reader for the requests it is sent and a
//! writer for its replies.
//!
//! Written apart from the client's codec (`crate::openlm::xml`) on purpose: if both sides
//! shared one, a bug in it would agree with itself and no end-to-end test would see it.
//!
//! A request is read as `spec/openlm-xml.md` gives it: a `ULM` root holding `MESSAGE/@type`,
//! `SESSION/@sessionid` (the attribute's name in any letter case), an optional `PAGING`,
//! `PARAMETERS/PARAM`, and `NAME` and `PWD` to log in. Values come as text, CDATA, entities or
//! character references. Only UTF-8 is read (with or without a BOM): the client sends nothing
//! else.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// How deep a request's elements may nest; OpenLM requests are three levels deep.
const MAX_DEPTH: usize = 32;

/// A request, as the emulator needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `MESSAGE/@type`: the operation.
    pub kind: String,
    /// `SESSION/@sessionid`, without surrounding spaces.
    pub session_id: Option<String>,
    pub paging: Option<Paging>,
    /// Every `PARAM` as `(name, value)`, in order, values exactly as sent.
    pub params: Vec<(String, String)>,
    /// The text of the other elements that hold only text (`NAME` and `PWD` of a login), by
    /// tag, exactly as sent: a password of spaces stays spaces.
    pub texts: Vec<(String, String)>,
}

impl Request {
    /// The value of the first PARAM of that name (in any letter case).
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.params, name)
    }

    /// The text of the first element with that tag (in any letter case).
    pub fn text(&self, tag: &str) -> Option<&str> {
        find(&self.texts, tag)
    }
}

/// `PAGING`: records `start`..=`end` (both 0: every record), sorted by the column `sort` in
/// the direction `dir` (`ASC`, `DESC`), keeping those that contain `search`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    pub start: u64,
    pub end: u64,
    pub sort: String,
    pub dir: String,
    pub search: String,
}

fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Read one request, or say why it cannot be read.
pub fn read_request(body: &[u8]) -> Result<Request, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|e| {
        format!(
            "the request is not UTF-8 (invalid byte at {})",
            e.valid_up_to()
        )
    })?;
    let mut reader = Reader::from_str(text);
    let mut reading = Reading::default();
    loop {
        // Where, not the parser's own words: those are its internals.
        let event = reader.read_event().map_err(|_| {
            format!(
                "the request is not well-formed XML (at byte {})",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(start) => reading.start(&start, false)?,
            Event::Empty(start) => reading.start(&start, true)?,
            Event::End(_) => reading.end(),
            Event::Text(text) => reading.text(&text.xml10_content()),
            Event::CData(data) => reading.text(&data.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| format!("unknown entity &{};", &*reference))?
                        .to_owned(),
                    Err(e) => return Err(format!("bad character reference: {e}")),
                };
                reading.text(&resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = reading.open.last() {
        return Err(format!(
            "the request ends before </{}> (truncated)",
            open.tag
        ));
    }
    if !reading.seen_root {
        return Err("an empty request: no <ULM> element".into());
    }
    Ok(reading.request)
}

/// An element being read: its tag, the PARAM name when it is a PARAM, the text inside it so
/// far, and whether an element opened inside it (then its text is layout, not a value).
struct Open {
    tag: String,
    param: Option<String>,
    text: String,
    has_children: bool,
}

#[derive(Default)]
struct Reading {
    request: Request,
    open: Vec<Open>,
    seen_root: bool,
}

impl Reading {
    fn start(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<(), String> {
        let name = start.name();
        let tag: &str = name.as_ref();
        if self.open.is_empty() {
            if self.seen_root {
                return Err(format!("a second root element <{tag}> after </ULM>"));
            }
            if !tag.eq_ignore_ascii_case("ULM") {
                return Err(format!(
                    "not an OpenLM request: the root element is <{tag}>, not <ULM>"
                ));
            }
            self.seen_root = true;
        }
        let attrs = attributes(tag, start)?;
        let mut param = None;
        match tag.to_ascii_uppercase().as_str() {
            "MESSAGE" => self.request.kind = find(&attrs, "type").unwrap_or("").to_owned(),
            "SESSION" => {
                self.request.session_id = find(&attrs, "sessionid").map(|id| id.trim().to_owned())
            }
            "PAGING" => self.request.paging = Some(paging(&attrs)?),
            "PARAM" => match find(&attrs, "name") {
                Some(name) => param = Some(name.to_owned()),
                None => return Err("a PARAM without a name".into()),
            },
            _ => {}
        }
        if let Some(parent) = self.open.last_mut() {
            parent.has_children = true;
        }
        if empty {
            if let Some(name) = param {
                self.request.params.push((name, String::new()));
            }
            return Ok(());
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(format!(
                "elements nested more than {MAX_DEPTH} deep at <{tag}>: not an OpenLM request"
            ));
        }
        self.open.push(Open {
            tag: tag.to_owned(),
            param,
            text: String::new(),
            has_children: false,
        });
        Ok(())
    }

    fn text(&mut self, text: &str) {
        if let Some(open) = self.open.last_mut() {
            open.text.push_str(text);
        }
    }

    /// The reader has already checked that the end tag closes the element open last.
    fn end(&mut self) {
        let Some(element) = self.open.pop() else {
            return;
        };
        match element.param {
            Some(name) => self.request.params.push((name, element.text)),
            None if !element.has_children && !element.text.is_empty() => {
                self.request.texts.push((element.tag, element.text))
            }
            None => {}
        }
    }
}

fn attributes(tag: &str, start: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    start
        .attributes()
        .map(|attr| {
            let attr = attr.map_err(|e| format!("a bad attribute in <{tag}>: {e}"))?;
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| format!("a bad attribute value in <{tag}>: {e}"))?;
            let name: &str = attr.key.as_ref();
            Ok((name.to_owned(), value.into_owned()))
        })
        .collect()
}

fn paging(attrs: &[(String, String)]) -> Result<Paging, String> {
    let record = |name: &str| match find(attrs, name) {
        None => Ok(0),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("PAGING {name}={value:?} is not a record number")),
    };
    let text = |name: &str| find(attrs, name).unwrap_or("").to_owned();
    Ok(Paging {
        start: record("start_record")?,
        end: record("end_record")?,
        sort: text("sort"),
        dir: text("dir"),
        search: text("search"),
    })
}

// ---------------------------------------------------------------------------------------------
// Replies

/// A reply document: `<ULM>`, the elements added, `</ULM>`. Every value is escaped.
pub struct Reply {
    xml: String,
}

impl Reply {
    pub fn with_capacity(bytes: usize) -> Reply {
        let mut xml = String::with_capacity(bytes);
        xml.push_str("<ULM>");
        Reply { xml }
    }

    /// `<tag name="value" .../>`
    pub fn empty<'a>(&mut self, tag: &str, attrs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.start_tag(tag, attrs);
        self.xml.push_str("/>");
    }

    /// `<tag name="value" ...>text</tag>`
    pub fn text_element<'a>(
        &mut self,
        tag: &str,
        attrs: impl IntoIterator<Item = (&'a str, &'a str)>,
        text: &str,
    ) {
        self.start_tag(tag, attrs);
        self.xml.push('>');
        escape_into(&mut self.xml, text, false);
        self.xml.push_str("</");
        self.xml.push_str(tag);
        self.xml.push('>');
    }

    fn start_tag<'a>(&mut self, tag: &str, attrs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.xml.push('<');
        self.xml.push_str(tag);
        for (name, value) in attrs {
            self.xml.push(' ');
            self.xml.push_str(name);
            self.xml.push_str("=\"");
            escape_into(&mut self.xml, value, true);
            self.xml.push('"');
        }
    }

    pub fn finish(mut self) -> String {
        self.xml.push_str("</ULM>");
        self.xml
    }
}

/// Write `value` escaped: `& < > " '` always; `\r` always, since a parser would read a literal
/// one as `\n`; in an attribute also `\t` and `\n`, which a parser would read as spaces.
fn escape_into(out: &mut String, value: &str, attribute: bool) {
    let mut written = 0;
    for (at, byte) in value.bytes().enumerate() {
        let escaped = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            b'\r' => "&#13;",
            b'\n' if attribute => "&#10;",
            b'\t' if attribute => "&#9;",
            _ => continue,
        };
        // Every escaped byte is ASCII, so `at` is a character boundary.
        out.push_str(&value[written..at]);
        out.push_str(escaped);
        written = at + 1;
    }
    out.push_str(&value[written..]);
}

/// How OpenLM says a request failed: `<MESSAGE type="Error">text</MESSAGE>`.
pub fn error_reply(text: &str) -> String {
    let mut reply = Reply::with_capacity(64 + text.len());
    reply.text_element("MESSAGE", [("type", "Error")], text);
    reply.finish()
}

/// A reply that is only its kind: `Success`, `SkipLoginForm`, `ShowLoginForm`.
pub fn kind_reply(kind: &str) -> String {
    let mut reply = Reply::with_capacity(64);
    reply.empty("MESSAGE", [("type", kind)]);
    reply.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openlm::xml::{self, RequestDoc};
    use proptest::prelude::*;

    fn read(xml: &str) -> Result<Request, String> {
        read_request(xml.as_bytes())
    }

    #[test]
    fn reads_what_the_client_sends() {
        let paged = RequestDoc {
            message_type: "GetActiveProducts2",
            session_id: "5f3a9c0e1b2d4a68",
            paging: Some(xml::Paging {
                start: 100,
                end: 199,
                sort: "start_time".into(),
                dir: "DESC".into(),
                search: "Editor".into(),
            }),
            ..Default::default()
        };
        let request = read_request(paged.to_xml().unwrap().as_bytes()).unwrap();
        assert_eq!(request.kind, "GetActiveProducts2");
        assert_eq!(request.session_id.as_deref(), Some("5f3a9c0e1b2d4a68"));
        assert_eq!(
            request.paging,
            Some(Paging {
                start: 100,
                end: 199,
                sort: "start_time".into(),
                dir: "DESC".into(),
                search: "Editor".into(),
            })
        );

        let close = RequestDoc {
            message_type: "CloseApplication",
            session_id: "0",
            params: vec![
                ("username", r#"CORP\o'neil & "sons" <x>"#),
                ("feature", "ARC/INFO"),
            ],
            ..Default::default()
        };
        let request = read_request(close.to_xml().unwrap().as_bytes()).unwrap();
        assert_eq!(
            request.param("USERNAME"),
            Some(r#"CORP\o'neil & "sons" <x>"#)
        );
        assert_eq!(request.param("feature"), Some("ARC/INFO"));
        assert_eq!(request.paging, None);
        assert!(request.texts.is_empty());

        let login = RequestDoc {
            message_type: "UserAuthentication",
            session_id: "0",
            credentials: Some(("admin", "p]]>w\r<d  ")),
            ..Default::default()
        };
        let request = read_request(login.to_xml().unwrap().as_bytes()).unwrap();
        assert_eq!(request.text("NAME"), Some("admin"));
        assert_eq!(request.text("pwd"), Some("p]]>w\r<d  "));
    }

    #[test]
    fn reads_the_forms_the_spec_allows() {
        let request = read(
            "\u{FEFF}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ulm>\n  <Message TYPE='GetActiveProducts'/>\n  \
             <SESSION sessionId=' 42 ' refresh='true'/>\n  <PARAMETERS>\n    \
             <PARAM name='a'><![CDATA[x<y]]>&amp;&#233;&#x20AC;</PARAM>\n    <PARAM name='empty'/>\n  \
             </PARAMETERS>\n  <NAME>   </NAME>\n</ulm>\n",
        )
        .unwrap();
        assert_eq!(request.kind, "GetActiveProducts");
        assert_eq!(request.session_id.as_deref(), Some("42"));
        assert_eq!(
            request.params,
            [
                ("a".into(), "x<y&é€".into()),
                ("empty".into(), String::new())
            ]
        );
        // A value of spaces is a value; the layout between elements is not.
        assert_eq!(request.texts, [("NAME".to_owned(), "   ".to_owned())]);
        // A literal line end is read as \n, as XML says; \r survives only as a reference.
        let request = read("<ULM><PARAM name='v'>a\r\nb&#13;</PARAM></ULM>").unwrap();
        assert_eq!(request.param("v"), Some("a\nb\r"));
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        for (body, says) in [
            (&b""[..], "no <ULM>"),
            (b"   ", "no <ULM>"),
            (b"<html><body>hi</body></html>", "root element is <html>"),
            (b"<ULM><MESSAGE type='x'/>", "truncated"),
            (b"<ULM></ULM><ULM></ULM>", "second root"),
            (b"<ULM><A></B></ULM>", "not well-formed"),
            (b"<ULM><PARAM>x</PARAM></ULM>", "PARAM without a name"),
            (b"<ULM><PAGING start_record='ten'/></ULM>", "start_record"),
            (
                b"<ULM><PARAM name='a'>&nbsp;</PARAM></ULM>",
                "unknown entity &nbsp;",
            ),
            (b"<ULM><MESSAGE type='\xff'/></ULM>", "not UTF-8"),
        ] {
            let err = read_request(body).unwrap_err();
            assert!(err.contains(says), "{body:?}: {err}");
        }
        let deep = format!("<ULM>{}{}</ULM>", "<A>".repeat(100), "</A>".repeat(100));
        assert!(read(&deep).unwrap_err().contains("nested"));
        let shallow = format!("<ULM>{}{}</ULM>", "<A>".repeat(10), "</A>".repeat(10));
        assert!(read(&shallow).is_ok());
    }

    #[test]
    fn writes_replies_with_every_value_escaped() {
        let mut reply = Reply::with_capacity(0);
        reply.empty("MESSAGE", [("type", "GetActiveProducts")]);
        reply.empty("PRODUCT", [("username", "a<b>&\"c'\t\r\n")]);
        reply.text_element("SESSIONID", [], "x<&>\"'\t\r\n");
        assert_eq!(
            reply.finish(),
            "<ULM><MESSAGE type=\"GetActiveProducts\"/>\
             <PRODUCT username=\"a&lt;b&gt;&amp;&quot;c&apos;&#9;&#13;&#10;\"/>\
             <SESSIONID>x&lt;&amp;&gt;&quot;&apos;\t&#13;\n</SESSIONID></ULM>"
        );
        assert_eq!(
            error_reply("No <such> session"),
            "<ULM><MESSAGE type=\"Error\">No &lt;such&gt; session</MESSAGE></ULM>"
        );
        assert_eq!(
            kind_reply("Success"),
            "<ULM><MESSAGE type=\"Success\"/></ULM>"
        );
    }

    /// Strings XML 1.0 can carry.
    fn xml_string() -> impl Strategy<Value = String> {
        any::<String>().prop_map(|s| {
            s.chars()
                .filter(|c| {
                    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
                })
                .collect()
        })
    }

    proptest! {
        /// The client's writer and this reader agree on every value.
        #[test]
        fn any_param_the_client_writes_is_read_as_sent(name in xml_string(), value in xml_string()) {
            let xml = RequestDoc {
                message_type: "CloseApplication",
                session_id: "0",
                params: vec![(name.as_str(), value.as_str())],
                ..Default::default()
            }.to_xml().unwrap();
            let request = read_request(xml.as_bytes()).unwrap();
            prop_assert_eq!(request.params, vec![(name, value)]);
        }

        /// This writer and the client's reader agree on every value.
        #[test]
        fn any_value_written_here_is_read_by_the_client(value in xml_string()) {
            let mut reply = Reply::with_capacity(0);
            reply.empty("MESSAGE", [("type", "GetActiveProducts")]);
            reply.empty("PRODUCT", [("username", value.as_str())]);
            let message = xml::read(reply.finish().as_bytes()).unwrap();
            prop_assert_eq!(message.records[0].get("username"), Some(value.as_str()));
            let message = xml::read(error_reply(&value).as_bytes()).unwrap();
            prop_assert_eq!(message.text, value.trim());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_request(&bytes);
        }
    }
}
