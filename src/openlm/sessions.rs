//! Which listed session a close is for: the one CloseApplication would close, named by its
//! user, workstation, license server, vendor and feature.
//!
//! Every place that asks "is this close's session still open?" (planning, the look before
//! closing, watching closes end) asks it here. Host, server, vendor and feature compare
//! without regard to letter case, as the server compares them. The match is never narrower
//! than the server's: a narrower one would call an open session closed. So a user name's
//! case and a host's short or full name are not told apart (the real server's comparison
//! is unverified), and a server or vendor the listing does not give, or gives as
//! `port@host` rather than the descriptive name a close names, matches any.

use std::collections::HashMap;

use crate::openlm::product::{ActiveProduct, CloseTarget, Field};

/// The sessions open now, for telling whether a close's session is among them.
#[derive(Debug, Default)]
pub(crate) struct OpenSessions(HashMap<Who, Vec<Source>>);

/// Who holds what: user name, host and feature, as compared.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Who(String, String, String);

/// Where a listed session's license comes from (None: not said in a comparable form), and
/// whether the listing marks it closable.
#[derive(Debug)]
struct Source {
    server: Option<String>,
    vendor: Option<String>,
    closable: Option<bool>,
}

impl Who {
    fn new(username: &str, workstation: &str, feature: &str) -> Who {
        let workstation = workstation.trim();
        let host = workstation.split('.').next().unwrap_or(workstation);
        Who(compared(username), compared(host), compared(feature))
    }
}

impl OpenSessions {
    pub(crate) fn of(products: &[ActiveProduct]) -> OpenSessions {
        let mut open: HashMap<Who, Vec<Source>> = HashMap::with_capacity(products.len());
        for product in products {
            let who = Who::new(product.username(), product.workstation(), product.feature());
            open.entry(who).or_default().push(Source {
                server: product.server().and_then(server_name),
                vendor: product.vendor().map(compared),
                closable: product.flag(Field::Closable),
            });
        }
        OpenSessions(open)
    }

    /// Whether the session `target` names is open, and then whether the listing marks it
    /// closable (None: not said).
    pub(crate) fn find(&self, target: &CloseTarget) -> Option<Option<bool>> {
        let who = Who::new(&target.username, &target.workstation, &target.feature);
        let server = server_name(&target.server);
        let vendor = compared(&target.vendor);
        let same = |listed: &Option<String>, named: Option<&str>| match (listed, named) {
            (Some(listed), Some(named)) => listed == named,
            _ => true,
        };
        self.0.get(&who)?.iter().find_map(|source| {
            (same(&source.server, server.as_deref()) && same(&source.vendor, Some(&vendor)))
                .then_some(source.closable)
        })
    }

    pub(crate) fn contains(&self, target: &CloseTarget) -> bool {
        self.find(target).is_some()
    }
}

/// A value as compared: without surrounding spaces or letter case.
fn compared(value: &str) -> String {
    value.trim().to_lowercase()
}

/// A license server's descriptive name as compared; None for `port@host` (FlexNet's
/// address, which a close does not name: OpenLM wants the descriptive name).
fn server_name(server: &str) -> Option<String> {
    let server = compared(server);
    let address = server
        .split_once('@')
        .is_some_and(|(port, _)| port.chars().all(|c| c.is_ascii_digit()));
    (!server.is_empty() && !address).then_some(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(server: Option<&str>, vendor: Option<&str>, closable: &str) -> ActiveProduct {
        let mut attrs = vec![
            ("product", "Editor"),
            ("username", "ann"),
            ("workstation", "WS-1.corp.example.com"),
            ("close_enabled", closable),
        ];
        attrs.extend(server.map(|s| ("server_name", s)));
        attrs.extend(vendor.map(|v| ("vendor", v)));
        ActiveProduct::from_attributes(&attrs)
    }

    fn target(server: &str) -> CloseTarget {
        CloseTarget {
            username: "ann".into(),
            workstation: "WS-1.corp.example.com".into(),
            server: server.into(),
            vendor: "ARCGIS".into(),
            feature: "Editor".into(),
        }
    }

    #[test]
    fn a_look_alike_on_another_license_server_is_another_session() {
        let dr = OpenSessions::of(&[session(
            Some("GIS License Server (DR)"),
            Some("ARCGIS"),
            "1",
        )]);
        assert!(!dr.contains(&target("GIS License Server")));
        assert!(dr.contains(&target("gis license server (dr)")));
        let other_vendor =
            OpenSessions::of(&[session(Some("GIS License Server"), Some("MLM"), "1")]);
        assert!(!other_vendor.contains(&target("GIS License Server")));
    }

    #[test]
    fn both_of_a_pair_are_found_each_with_its_own_flag() {
        let pair = OpenSessions::of(&[
            session(Some("GIS License Server"), Some("ARCGIS"), "0"),
            session(Some("GIS License Server (DR)"), Some("ARCGIS"), "1"),
        ]);
        assert_eq!(pair.find(&target("GIS License Server")), Some(Some(false)));
        assert_eq!(
            pair.find(&target("GIS License Server (DR)")),
            Some(Some(true))
        );
        assert_eq!(pair.find(&target("Another")), None);
    }

    #[test]
    fn what_the_listing_does_not_say_comparably_matches_any() {
        for listed in [None, Some("27000@lic01"), Some("  ")] {
            let open = OpenSessions::of(&[session(listed, None, "1")]);
            assert!(open.contains(&target("GIS License Server")), "{listed:?}");
        }
        let named = OpenSessions::of(&[session(Some("GIS License Server"), Some("ARCGIS"), "1")]);
        assert!(
            named.contains(&target("27000@lic01")),
            "a close naming an address"
        );
    }

    #[test]
    fn spellings_the_server_may_take_as_the_same_still_match() {
        let open = OpenSessions::of(&[session(Some("GIS License Server"), Some("ARCGIS"), "1")]);
        let mut spelled = target("gis license server");
        spelled.username = "ANN".into();
        spelled.workstation = "ws-1".into();
        spelled.vendor = "arcgis".into();
        spelled.feature = "EDITOR".into();
        assert!(open.contains(&spelled));
        spelled.feature = "Viewer".into();
        assert!(!open.contains(&spelled));
    }
}
