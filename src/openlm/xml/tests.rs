use std::sync::Arc;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::reader::{Parser, MAX_INTERNED};
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
    let message =
        read(b"<ULM><MESSAGE type='SessionAuthenticationID'/><SESSIONID> 9f3 </SESSIONID></ULM>")
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
    parser.finish(&mut message);
    assert_eq!(message.records.len(), 5_000);
    assert_eq!(message.records[4_999].value(0), "Editor");
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

#[test]
fn records_keep_their_values_in_the_document_or_their_own() {
    // A byte-order mark; an entity and line breaks in values (each tab, CR LF and lone CR
    // one space; a character reference kept); values of over 64 KiB together, kept by their
    // record, with rows after it; empty values, the last one too; an element without
    // attributes between rows; rows of different lengths; and the exact limit.
    let long = "x".repeat(70_000);
    let (fits, over) = ("y".repeat(65_534), "y".repeat(65_535));
    let xml = format!(
        "{}<ULM><PRODUCT product='Editor' username='ann'/>\
         <PRODUCT product='Editor' username='O&apos;Brien' note='a\nb'/>\
         <PRODUCT product='Viewer' note='{long}' username='bob'/>\
         <PRODUCT a='' b='x' c=''/><GROUP></GROUP><EMPTY/>\
         <PRODUCT t='a\tb' crlf='a\r\nb' cr='a\rb' lf='a&#10;b'/>\
         <PRODUCT p='X' note='{fits}'/><PRODUCT p='X' note='{over}'/><PRODUCT last='z'/></ULM>",
        '\u{FEFF}'
    );
    let records = read(xml.as_bytes()).unwrap().records;
    let expected = [
        Record::new("PRODUCT", &[("product", "Editor"), ("username", "ann")]),
        Record::new(
            "PRODUCT",
            &[
                ("product", "Editor"),
                ("username", "O'Brien"),
                ("note", "a b"),
            ],
        ),
        Record::new(
            "PRODUCT",
            &[("product", "Viewer"), ("note", &long), ("username", "bob")],
        ),
        Record::new("PRODUCT", &[("a", ""), ("b", "x"), ("c", "")]),
        Record::new(
            "PRODUCT",
            &[("t", "a b"), ("crlf", "a b"), ("cr", "a b"), ("lf", "a\nb")],
        ),
        Record::new("PRODUCT", &[("p", "X"), ("note", &fits)]),
        Record::new("PRODUCT", &[("p", "X"), ("note", &over)]),
        Record::new("PRODUCT", &[("last", "z")]),
    ];
    assert_eq!(records, expected);
    let in_document: Vec<bool> = records
        .iter()
        .map(|r| matches!(r.values, record::Values::InDocument { .. }))
        .collect();
    assert_eq!(
        in_document,
        [true, true, false, true, true, true, false, true]
    );
    // A record kept alone still has its values.
    let first = records.into_iter().next().unwrap();
    assert_eq!(first.get("username"), Some("ann"));
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
        let xml = out.finish();
        let message = read(xml.as_bytes()).unwrap();
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
