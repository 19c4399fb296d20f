//! The Open API 1.7 read operations that list what OpenLM watches: GetServerList,
//! GetVendorList, GetLicenseUsage, LicensesList, GetDenials.
//!
//! OpenLM names them but publishes no reply shape a program could rely on, so the shapes
//! here are the sandbox's choice (unverified), in the style of GetActiveProducts: one
//! upper-case element per row, its data in snake_case attributes.
//! - GetServerList: `SERVER name host port vendor status issued in_use`
//! - GetVendorList: `VENDOR vendor servers issued in_use`
//! - GetLicenseUsage: `FEATURE server_name vendor feature version issued in_use`
//! - LicensesList: `LICENSE server_name vendor feature version num_licenses`
//! - GetDenials: `DENIAL` rows; the sandbox models no denials, so the list is empty.
//!
//! What each license server issues is fixed when the site is seeded: for every feature of
//! its vendor, what was in use then and some headroom.

use std::collections::{BTreeMap, HashMap};

use super::checkout::Checkout;
use super::wire::Reply;
use crate::sandbox::seed::{self, LicenseServer};

/// What one license server issues of one feature.
#[derive(Debug, Clone)]
pub struct Issued {
    pub server: &'static LicenseServer,
    pub feature: &'static seed::Feature,
    pub count: u64,
}

/// What each server issues, from the sessions the site was seeded with.
pub fn seeded_issued(checkouts: &[Checkout]) -> Vec<Issued> {
    let mut used: HashMap<(&str, &str), u64> = HashMap::new();
    for c in checkouts {
        *used.entry((&c.server, &c.feature)).or_default() += u64::from(c.licenses);
    }
    let mut issued = Vec::new();
    for server in seed::LICENSE_SERVERS {
        for feature in seed::FEATURES.iter().filter(|f| f.vendor == server.vendor) {
            let in_use = used
                .get(&(server.name, feature.feature))
                .copied()
                .unwrap_or(0);
            issued.push(Issued {
                server,
                feature,
                count: in_use + (in_use / 4).max(2),
            });
        }
    }
    issued
}

/// Licenses in use now, by server name and feature.
fn in_use(checkouts: &[Checkout]) -> HashMap<(&str, &str), u64> {
    let mut used = HashMap::new();
    for c in checkouts {
        *used
            .entry((c.server.as_str(), c.feature.as_str()))
            .or_default() += u64::from(c.licenses);
    }
    used
}

/// The reply to one of the listing operations, or None when `kind` is not one of them.
pub fn reply(kind: &str, issued: &[Issued], checkouts: &[Checkout]) -> Option<String> {
    let is = |name: &str| kind.eq_ignore_ascii_case(name);
    let used = in_use(checkouts);
    let used_of = |i: &Issued| {
        used.get(&(i.server.name, i.feature.feature))
            .copied()
            .unwrap_or(0)
    };
    let mut reply = Reply::with_capacity(256 + issued.len() * 160);
    reply.empty("MESSAGE", [("type", kind)]);
    if is("GetServerList") {
        servers(&mut reply, issued, &used_of);
    } else if is("GetVendorList") {
        vendors(&mut reply, issued, &used_of);
    } else if is("GetLicenseUsage") || is("LicensesList") {
        let usage = is("GetLicenseUsage");
        for i in issued {
            let count = i.count.to_string();
            let now = used_of(i).to_string();
            let mut attrs = vec![
                ("server_name", i.server.name),
                ("vendor", i.feature.vendor),
                ("feature", i.feature.feature),
                ("version", i.feature.version),
            ];
            if usage {
                attrs.extend([("issued", count.as_str()), ("in_use", now.as_str())]);
                reply.empty("FEATURE", attrs);
            } else {
                attrs.push(("num_licenses", count.as_str()));
                reply.empty("LICENSE", attrs);
            }
        }
    } else if !is("GetDenials") {
        return None;
    }
    Some(reply.finish())
}

fn servers(reply: &mut Reply, issued: &[Issued], used_of: &dyn Fn(&Issued) -> u64) {
    for server in seed::LICENSE_SERVERS {
        let mine = issued.iter().filter(|i| i.server.name == server.name);
        let (count, now) = mine.fold((0, 0), |(c, u), i| (c + i.count, u + used_of(i)));
        let (port, count, now) = (server.port.to_string(), count.to_string(), now.to_string());
        reply.empty(
            "SERVER",
            [
                ("name", server.name),
                ("host", server.host),
                ("port", port.as_str()),
                ("vendor", server.vendor),
                ("status", "UP"),
                ("issued", count.as_str()),
                ("in_use", now.as_str()),
            ],
        );
    }
}

fn vendors(reply: &mut Reply, issued: &[Issued], used_of: &dyn Fn(&Issued) -> u64) {
    // Vendor → (servers, issued, in use), in name order.
    let mut totals: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for server in seed::LICENSE_SERVERS {
        totals.entry(server.vendor).or_default().0 += 1;
    }
    for i in issued {
        let entry = totals.entry(i.feature.vendor).or_default();
        entry.1 += i.count;
        entry.2 += used_of(i);
    }
    for (vendor, (servers, count, now)) in totals {
        let (servers, count, now) = (servers.to_string(), count.to_string(), now.to_string());
        reply.empty(
            "VENDOR",
            [
                ("vendor", vendor),
                ("servers", servers.as_str()),
                ("issued", count.as_str()),
                ("in_use", now.as_str()),
            ],
        );
    }
}
