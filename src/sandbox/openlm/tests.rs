use super::*;
use crate::openlm::xml::{read, Message, RequestDoc};

/// The client's writer makes the request and the client's reader reads the reply, so the
/// emulator's codec meets the client's on both sides.
fn ask(site: &OpenLmSite, doc: RequestDoc<'_>) -> Message {
    let request = read_request(doc.to_xml().unwrap().as_bytes()).unwrap();
    read(site.respond(&request).as_bytes()).unwrap()
}

#[test]
fn seeds_a_realistic_repeatable_site() {
    let options = OpenLmOptions {
        sessions: 2_000,
        ..Default::default()
    };
    // Times follow the clock: the same seed at the same moment is the same site.
    let now = now_ms();
    let seeded = |options| OpenLmSite::seeded_at(options, 9, now).unwrap().checkouts();
    let (a, b) = (seeded(options.clone()), seeded(options));
    assert_eq!(a.len(), 2_000);
    assert!(a == b, "the same seed gave two different sites");
    for vendor in ["ARCGIS", "adskflex", "MLM"] {
        assert!(a.iter().any(|c| c.vendor == vendor), "{vendor}");
    }
    for feature in ["Editor", "Viewer", "ARC/INFO", "desktopAdvP"] {
        assert!(a.iter().any(|c| c.feature == feature), "{feature}");
    }
    let servers: HashSet<_> = a.iter().map(|c| c.server.as_str()).collect();
    assert!(servers.len() >= 3);
}

/// The default site lists what the nightly job is for: Editor sessions idle for hours
/// and open for days, each idle for no longer than it has been open.
#[test]
fn the_default_site_lists_sessions_idle_for_hours_and_open_for_days() {
    let site = OpenLmSite::seeded(OpenLmOptions::default(), 1).unwrap();
    let reply = ask(
        &site,
        RequestDoc {
            message_type: "GetActiveProducts",
            session_id: "0",
            ..Default::default()
        },
    );
    let seconds = |record: &crate::openlm::xml::Record, name: &str| -> i64 {
        record.get(name).unwrap().parse().unwrap()
    };
    let editors: Vec<_> = reply
        .records
        .iter()
        .filter(|r| r.get("feature") == Some("Editor"))
        .collect();
    let idle_2h = editors
        .iter()
        .filter(|r| seconds(r, "idle_time") >= 2 * 3600)
        .count();
    let open_2d = editors
        .iter()
        .filter(|r| seconds(r, "duration") >= 2 * 86_400)
        .count();
    assert!(idle_2h >= 20 && open_2d >= 20, "{idle_2h} {open_2d}");
    assert!(reply
        .records
        .iter()
        .all(|r| seconds(r, "idle_time") <= seconds(r, "duration")));
}

#[test]
fn paging_reports_the_total() {
    let site = OpenLmSite::seeded(
        OpenLmOptions {
            sessions: 250,
            ..Default::default()
        },
        1,
    )
    .unwrap();
    let reply = ask(
        &site,
        RequestDoc {
            message_type: "GetActiveProducts2",
            session_id: "0",
            paging: Some(crate::openlm::xml::Paging {
                start: 200,
                end: 299,
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    assert_eq!(reply.total(), Some(250));
    assert_eq!(reply.records.len(), 50);
}

#[test]
fn permissions_mode_wants_a_login() {
    let site = OpenLmSite::seeded(
        OpenLmOptions {
            sessions: 5,
            permissions: true,
            ..Default::default()
        },
        1,
    )
    .unwrap();
    let reply = ask(
        &site,
        RequestDoc {
            message_type: "GetActiveProducts",
            session_id: "0",
            ..Default::default()
        },
    );
    assert_eq!(reply.kind, "Error");
    let reply = ask(
        &site,
        RequestDoc {
            message_type: "UserAuthentication",
            session_id: "0",
            credentials: Some(("admin", "wrong")),
            ..Default::default()
        },
    );
    assert_eq!(reply.text, "Invalid user name or password");
    let reply = ask(
        &site,
        RequestDoc {
            message_type: "UserAuthentication",
            session_id: "0",
            credentials: Some(("admin", "sandbox-password")),
            ..Default::default()
        },
    );
    let id = reply.session_id.unwrap();
    let reply = ask(
        &site,
        RequestDoc {
            message_type: "GetActiveProducts",
            session_id: &id,
            ..Default::default()
        },
    );
    assert_eq!(reply.records.len(), 5);
}
