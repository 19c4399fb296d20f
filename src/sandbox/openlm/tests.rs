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

fn listing(site: &OpenLmSite, kind: &str, session_id: &str) -> Message {
    ask(
        site,
        RequestDoc {
            message_type: kind,
            session_id,
            ..Default::default()
        },
    )
}

/// GetServerList and GetVendorList say what is in use as the sessions listing does, and
/// issue at least that; a close shows in both.
#[test]
fn server_and_vendor_lists_count_what_the_sessions_hold() {
    use crate::openlm::{LicenseServer, Vendor};
    let site = OpenLmSite::seeded(OpenLmOptions::default(), 3).unwrap();
    let servers: Vec<_> = listing(&site, "GetServerList", "0")
        .records
        .iter()
        .map(LicenseServer::from_record)
        .collect();
    assert_eq!(servers.len(), seed::LICENSE_SERVERS.len());
    let checkouts = site.checkouts();
    for server in &servers {
        let held: u64 = checkouts
            .iter()
            .filter(|c| c.server == server.name)
            .map(|c| u64::from(c.licenses))
            .sum();
        assert_eq!(server.in_use, Some(held), "{}", server.name);
        assert!(server.issued.unwrap() >= held, "{}", server.name);
        assert!(server.host.is_some() && server.port.is_some() && server.extra.is_empty());
    }
    let vendors: Vec<_> = listing(&site, "GetVendorList", "0")
        .records
        .iter()
        .map(Vendor::from_record)
        .collect();
    let names: Vec<_> = vendors.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["ARCGIS", "MLM", "adskflex"]);
    let arcgis = &vendors[0];
    assert_eq!(arcgis.servers, Some(2));
    let arcgis_servers = servers
        .iter()
        .filter(|s| s.vendor.as_deref() == Some("ARCGIS"));
    assert_eq!(
        arcgis.in_use,
        Some(arcgis_servers.map(|s| s.in_use.unwrap()).sum())
    );
    // Take one session away: the counts follow, what is issued does not.
    let gone = &checkouts[0];
    site.state().checkouts.retain(|c| c.handle != gone.handle);
    let after: Vec<_> = listing(&site, "GetServerList", "0")
        .records
        .iter()
        .map(LicenseServer::from_record)
        .collect();
    let (before, now) = (
        servers.iter().find(|s| s.name == gone.server).unwrap(),
        after.iter().find(|s| s.name == gone.server).unwrap(),
    );
    assert_eq!(
        now.in_use,
        Some(before.in_use.unwrap() - u64::from(gone.licenses))
    );
    assert_eq!(now.issued, before.issued);
}

#[test]
fn usage_licenses_and_denials_are_served_and_need_the_login() {
    let site = OpenLmSite::seeded(OpenLmOptions::default(), 3).unwrap();
    let usage = listing(&site, "GetLicenseUsage", "0");
    let held: u64 = usage
        .records
        .iter()
        .map(|r| r.get("in_use").unwrap().parse::<u64>().unwrap())
        .sum();
    let total: u64 = site.checkouts().iter().map(|c| u64::from(c.licenses)).sum();
    assert_eq!(held, total);
    let licenses = listing(&site, "LicensesList", "0");
    assert_eq!(licenses.records.len(), usage.records.len());
    assert!(licenses.records.iter().all(|r| r.tag() == "LICENSE"));
    let denials = listing(&site, "GetDenials", "0");
    assert_eq!(
        (denials.kind.as_str(), denials.records.len()),
        ("GetDenials", 0)
    );
    assert_eq!(listing(&site, "GetSomethingElse", "0").kind, "Error");
    let guarded = OpenLmSite::seeded(
        OpenLmOptions {
            sessions: 5,
            permissions: true,
            ..Default::default()
        },
        1,
    )
    .unwrap();
    for kind in [
        "GetServerList",
        "GetVendorList",
        "GetLicenseUsage",
        "LicensesList",
        "GetDenials",
    ] {
        assert_eq!(listing(&guarded, kind, "0").kind, "Error", "{kind}");
    }
}
