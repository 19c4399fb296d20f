use super::*;

fn product(attrs: &[(&str, &str)]) -> ActiveProduct {
    ActiveProduct::from_attributes(attrs)
}

#[test]
fn fields_are_found_under_any_spelling() {
    let p = product(&[
        ("Product", "Editor"),
        ("UserName", "jsmith"),
        ("HostName", "WS-1"),
        ("server_name", "GIS Licenses"),
        ("VENDOR", "ARCGIS"),
        ("StartTime", "1700000000000"),
        ("NumLicenses", "2"),
        ("borrowed", "False"),
        ("close_enabled", "1"),
        ("idle_time", "01:02:03"),
    ]);
    assert_eq!(p.product(), "Editor");
    assert_eq!(p.username(), "jsmith");
    assert_eq!(p.workstation(), "WS-1");
    assert_eq!(p.server(), Some("GIS Licenses"));
    assert_eq!(p.vendor(), Some("ARCGIS"));
    assert_eq!(p.feature(), "Editor", "falls back to the product name");
    assert_eq!(p.time_ms(Field::StartTime), Some(1_700_000_000_000));
    assert_eq!(p.licenses(), 2);
    assert!(!p.borrowed());
    assert_eq!(p.flag(Field::Closable), Some(true));
    assert_eq!(p.seconds(Field::IdleTime), Some(3723.0));
    assert_eq!(p.raw(Field::Version), None);
}

#[test]
fn seconds_parse_numbers_and_clock_times() {
    assert_eq!(parse_seconds("90"), Some(90.0));
    assert_eq!(parse_seconds("1.02:00:00"), Some(93600.0));
    assert_eq!(parse_seconds("05:30"), Some(330.0));
    assert_eq!(parse_seconds("soon"), None);
    assert_eq!(parse_seconds("-5"), None);
}

#[test]
fn filters_match_fields_case_insensitively_and_attributes_exactly_by_name() {
    let p = product(&[
        ("product", "Editor"),
        ("username", "JSmith"),
        ("vendor", "ARCGIS"),
        ("num_licenses", "2"),
        ("custom", "Blue"),
    ]);
    let mut filter = ProductFilter::default();
    filter
        .field(
            "username",
            vec![
                FilterValue::Text("jsmith".into()),
                FilterValue::Text("x".into()),
            ],
        )
        .unwrap();
    filter.field("licenses", vec![FilterValue::Int(2)]).unwrap();
    filter
        .field("borrowed", vec![FilterValue::Bool(false)])
        .unwrap();
    filter.attribute("custom", vec!["blue".into()]).unwrap();
    assert!(filter.matches(&p));
    filter
        .field("feature", vec![FilterValue::Text("Viewer".into())])
        .unwrap();
    assert!(!filter.matches(&p));
}

#[test]
fn bad_filters_are_refused_with_the_valid_fields() {
    let mut filter = ProductFilter::default();
    let err = filter
        .field("usernme", vec![FilterValue::Text("x".into())])
        .unwrap_err();
    assert!(err.to_string().contains("workstation"), "{err}");
    assert!(filter
        .field("start_time", vec![FilterValue::Int(1)])
        .is_err());
    assert!(filter
        .field("borrowed", vec![FilterValue::Text("yes".into())])
        .is_err());
    assert!(filter.field("product", vec![]).is_err());
}

#[test]
fn close_target_needs_every_field() {
    let p = product(&[
        ("product", "Editor"),
        ("username", "u"),
        ("workstation", "w"),
    ]);
    let err = p.close_target(None, Some("ARCGIS")).unwrap_err();
    assert!(err.to_string().contains("server"), "{err}");
    let target = p
        .close_target(Some("GIS Licenses"), Some("ARCGIS"))
        .unwrap();
    assert_eq!(target.feature, "Editor");
    let blank = product(&[
        ("product", "Editor"),
        ("username", " "),
        ("workstation", "w"),
    ]);
    assert!(blank.close_target(Some("s"), Some("v")).is_err());
}

#[test]
fn products_of_records_are_the_product_rows_in_order_with_their_count_known() {
    let reply = concat!(
        r#"<ULM><MESSAGE type="GetActiveProducts"/>"#,
        r#"<PRODUCT product="Editor" username="a" workstation="WS-1"/>"#,
        r#"<SERVER name="GIS Licenses"/>"#,
        r#"<product product="Viewer" username="b"/>"#,
        r#"<PRODUCT Product="Advanced" UserName="c" HostName="WS-3"/>"#,
        r#"<PRODUCT product="Editor" username="d" workstation="WS-4"/>"#,
        "</ULM>"
    );
    let records = crate::openlm::xml::read(reply.as_bytes()).unwrap().records;
    let mut products = ActiveProduct::of_records(records);
    assert_eq!(products.len(), 4);
    let first = products.next().unwrap();
    assert_eq!(products.len(), 3);
    let rest: Vec<ActiveProduct> = products.collect();
    let users: Vec<&str> = std::iter::once(&first)
        .chain(&rest)
        .map(|p| p.username())
        .collect();
    assert_eq!(users, ["a", "b", "c", "d"]);
    // Each row's fields are found by its own schema, whichever schema came before it.
    assert_eq!(rest[1].workstation(), "WS-3");
    assert_eq!(rest[2].workstation(), "WS-4");
    assert_eq!(rest[0].workstation(), "");
}
