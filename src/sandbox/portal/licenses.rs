//! Named-user licenses of the emulated portal: purchases, user entitlements and their
//! provisioning, and releasing a license checked out for offline use through the classic
//! Portal Administrator API or the Enterprise Administrator API of Kubernetes deployments.
//!
//! Choices where the spec says "unverified": the listing of user entitlements names only
//! members who hold an entitlement or have the app checked out; releasing an app a member has
//! not checked out succeeds (there is nothing to free); before 10.7 (REST 7.1) the release
//! endpoint frees only ArcGIS Pro; Drone2Map entitlement ids are `drone2mapStdN` and
//! `drone2mapAdvN`.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::org::{user_type_def, PortalMember, MANAGE_LICENSES, ORG_ID};
use super::wire::{
    error_answer, forbidden, formatted, only_post, path_segment, search_page, user_missing, Answer,
    Api, PortalRequest,
};
use super::PortalSite;
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::portal::versions::Feature;

mod apps;

pub(super) use apps::type_apps;

/// Where the portal runs, and so where its administration lives (classic `/portaladmin`,
/// Kubernetes `/admin`, ArcGIS Online none): the version table's platforms.
pub use crate::portal::versions::Platform as Deployment;

/// A purchased app: its listing, the app id releaseLicense takes, and its entitlements.
pub struct ListingDef {
    pub item_id: &'static str,
    pub title: &'static str,
    pub app: &'static str,
    pub entitlements: &'static [&'static str],
}

pub const PRO_ITEM_ID: &str = "2d2a9c99bb2a43548c26ad0d8ae1d1e7";

pub const LISTINGS: &[ListingDef] = &[
    ListingDef {
        item_id: PRO_ITEM_ID,
        title: "ArcGIS Pro",
        app: "arcgisprodesktop",
        entitlements: &[
            "desktopBasicN",
            "desktopStdN",
            "desktopAdvN",
            "3DAnalystN",
            "spatialAnalystN",
            "networkAnalystN",
            "geostatAnalystN",
            "dataInteropN",
            "imageAnalystN",
            "workflowMgrN",
            "publisherN",
        ],
    },
    ListingDef {
        item_id: "7f3c1e0b5a2d4c6e8f9a0b1c2d3e4f5a",
        title: "ArcGIS Drone2Map",
        app: "drone2map",
        entitlements: &["drone2mapStdN", "drone2mapAdvN"],
    },
];

/// The user types that can hold ArcGIS Pro and its extensions: Creator (as an add-on),
/// Professional and Professional Plus, and Enterprise 10.7–10.9's GIS Professional Basic,
/// Standard and Advanced ("ArcGIS Pro is available to Creator, Professional and Professional
/// Plus user types", Esri's user types pages). A portal before user types (no user type) is
/// not judged here.
pub(super) const PRO_USER_TYPES: &[&str] = &[
    "creatorUT",
    "GISProfessionalBasicUT",
    "GISProfessionalStdUT",
    "GISProfessionalAdvUT",
];

/// Whether a member of `user_type` may hold a license of `app`: only ArcGIS Pro is limited.
pub(super) fn type_holds(user_type: &str, app: &str) -> bool {
    app != "arcgisprodesktop"
        || user_type.is_empty()
        || PRO_USER_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(user_type))
}

/// The name of an app id, for messages.
pub fn app_title(app: &str) -> &'static str {
    match app {
        "arcgisprodesktop" => "ArcGIS Pro",
        "drone2map" => "ArcGIS Drone2Map",
        "arcgisallsource" => "ArcGIS AllSource",
        _ => "app",
    }
}

/// The app ids releaseLicense takes at this REST version.
fn release_apps(version: &str) -> Vec<&'static str> {
    let mut apps = vec!["arcgisprodesktop"];
    if Feature::ReleaseDrone2Map.at(version) {
        apps.push("drone2map");
    }
    if Feature::ReleaseAllSource.at(version) {
        apps.push("arcgisallsource");
    }
    apps
}

/// Give members the entitlements their user types suggest: ArcGIS Pro with the
/// Professional types (and the offline check-outs, which are Professional members), an
/// add-on Pro license for some Creators, Drone2Map for a few.
pub(super) fn seed_entitlements(members: &mut [PortalMember], seed_value: u64) {
    // An RNG of its own: the members themselves stay as they were seeded before licenses.
    let mut rng = SmallRng::seed_from_u64(seed_value ^ 0x11c3_5e75);
    let extensions = &LISTINGS[0].entitlements[3..];
    for (n, m) in members.iter_mut().enumerate() {
        let mut pro: Vec<String> = Vec::new();
        match m.user_type.as_str() {
            "GISProfessionalAdvUT" => {
                pro.push("desktopAdvN".into());
                for e in extensions {
                    // The first member is the administrator, who has every extension.
                    if n == 0 || rng.random_bool(0.3) {
                        pro.push((*e).into());
                    }
                }
            }
            "GISProfessionalStdUT" => {
                pro.push("desktopStdN".into());
                if rng.random_bool(0.2) {
                    pro.push("spatialAnalystN".into());
                }
            }
            "creatorUT" if rng.random_bool(0.12) => {
                pro.push(if rng.random_bool(0.5) {
                    "desktopBasicN".into()
                } else {
                    "desktopStdN".into()
                });
            }
            _ => {}
        }
        if m.pro_offline() && pro.is_empty() {
            pro.push("desktopStdN".into());
        }
        m.licenses[0] = pro;
        let creator_or_more = m.user_type == "creatorUT" || m.user_type.starts_with("GISProf");
        if creator_or_more && rng.random_bool(0.05) {
            m.licenses[1] = vec!["drone2mapStdN".into()];
        }
    }
}

/// Seats bought per entitlement: what the members hold, and some to spare.
pub(super) fn initial_seats(members: &[PortalMember]) -> Vec<HashMap<&'static str, i64>> {
    LISTINGS
        .iter()
        .enumerate()
        .map(|(l, listing)| {
            listing
                .entitlements
                .iter()
                .map(|e| {
                    let held = members
                        .iter()
                        .filter(|m| m.licenses[l].iter().any(|h| h == e))
                        .count() as i64;
                    (*e, held + (held / 10).max(3))
                })
                .collect()
        })
        .collect()
}

fn listing_index(item_id: &str) -> Option<usize> {
    LISTINGS
        .iter()
        .position(|l| l.item_id.eq_ignore_ascii_case(item_id))
}

fn user_entitlement_json(member: &PortalMember, l: usize) -> Value {
    json!({
        "username": member.username,
        "lastLogin": member.last_login,
        "disconnected": member.offline.contains(&LISTINGS[l].app),
        "entitlements": member.licenses[l],
    })
}

/// The users and entitlements of a provisionUserEntitlements request.
fn provision_request(raw: Option<&str>) -> std::result::Result<(Vec<String>, Vec<String>), String> {
    let raw = raw.ok_or("'userEntitlements' must be specified.")?;
    let value: Value =
        serde_json::from_str(raw).map_err(|_| "'userEntitlements' is not valid JSON.")?;
    let texts = |key: &str| -> std::result::Result<Vec<String>, String> {
        match value.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("'{key}' must be a list of strings."))
                })
                .collect(),
            _ => Err(format!("'userEntitlements' needs a '{key}' list.")),
        }
    };
    Ok((texts("users")?, texts("entitlements")?))
}

impl PortalSite {
    /// Check a member's ArcGIS Pro license out for offline use, or back in.
    pub fn set_pro_offline(&self, username: &str, offline: bool) -> Result<()> {
        self.set_offline(username, "arcgisprodesktop", offline)
    }

    /// Check a member's license of `app` out for offline use, or back in.
    pub fn set_offline(&self, username: &str, app: &str, offline: bool) -> Result<()> {
        let app: &'static str = ["arcgisprodesktop", "drone2map", "arcgisallsource"]
            .into_iter()
            .find(|a| a.eq_ignore_ascii_case(app))
            .ok_or_else(|| Error::invalid(format!("the sandbox knows no app {app:?}")))?;
        let mut state = self.state();
        let i = state.find(username).ok_or_else(|| {
            Error::invalid(format!("the sandbox portal has no member {username:?}"))
        })?;
        let member = &mut state.members[i];
        member.offline.retain(|a| *a != app);
        if offline {
            member.offline.push(app);
        }
        Ok(())
    }

    /// Set how many of an entitlement the organization bought.
    pub fn set_entitlement_seats(&self, entitlement: &str, seats: i64) -> Result<()> {
        let mut state = self.state();
        for (l, listing) in LISTINGS.iter().enumerate() {
            if let Some(e) = listing
                .entitlements
                .iter()
                .find(|e| e.eq_ignore_ascii_case(entitlement))
            {
                state.license_seats[l].insert(e, seats.max(0));
                return Ok(());
            }
        }
        Err(Error::invalid(format!(
            "the sandbox portal sells no entitlement {entitlement:?}"
        )))
    }

    /// `portals/self/purchases`: one purchase per listing, with the counts bought.
    pub(super) fn purchases(&self, request: &PortalRequest<'_>) -> Answer {
        let status = request.param("status").unwrap_or("active");
        if status.eq_ignore_ascii_case("expired") {
            return formatted(
                request,
                &json!({"purchases": [], "trials": [], "interests": []}),
            );
        }
        let state = self.state();
        let purchases: Vec<Value> = LISTINGS
            .iter()
            .enumerate()
            .map(|(l, listing)| {
                let counts: serde_json::Map<String, Value> = listing
                    .entitlements
                    .iter()
                    .map(|e| {
                        let num = state.license_seats[l].get(e).copied().unwrap_or(0);
                        ((*e).to_owned(), json!({"num": num}))
                    })
                    .collect();
                json!({
                    "listing": {
                        "itemId": listing.item_id,
                        "title": listing.title,
                        "type": "Desktop Application",
                        "licenseType": "perUser",
                    },
                    "provision": {
                        "itemId": listing.item_id,
                        "orgId": ORG_ID,
                        "purchaseDate": 1_700_000_000_000_i64,
                        "startDate": 1_700_000_000_000_i64,
                        "endDate": -1,
                        "canDisconnect": true,
                        "orgEntitlements": {"maxUsers": counts.len(), "entitlements": counts},
                    },
                })
            })
            .collect();
        formatted(
            request,
            &json!({"purchases": purchases, "trials": [], "interests": []}),
        )
    }

    /// `content/listings/<itemId>/...`: user entitlements, one member's, and provisioning.
    pub(super) fn listing(
        &self,
        request: &PortalRequest<'_>,
        rest: &str,
    ) -> std::result::Result<Answer, Answer> {
        let api = Api::Sharing;
        let (item_id, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(l) = listing_index(item_id) else {
            return Ok(error_answer(
                api,
                400,
                "Item does not exist or is inaccessible.",
                &[],
            ));
        };
        match tail {
            "userentitlements" => {
                self.privileged(request, api, MANAGE_LICENSES)?;
                let state = self.state();
                let holders: Vec<&PortalMember> = state
                    .members
                    .iter()
                    .filter(|m| !m.licenses[l].is_empty() || m.offline.contains(&LISTINGS[l].app))
                    .collect();
                Ok(formatted(
                    request,
                    // Windowed as searches are: large organizations see the official
                    // client's License.all() stop at 10,000 (Esri/arcgis-python-api#1815).
                    &search_page(request, holders, "userEntitlements", |m| {
                        user_entitlement_json(m, l)
                    }),
                ))
            }
            "provisionuserentitlements" => self.provision(request, l),
            _ => match tail.strip_prefix("userentitlements/") {
                Some(name) => {
                    let caller = self.signed_in(request, api)?;
                    let name = path_segment(name);
                    let state = self.state();
                    let Some(i) = state.find(&name) else {
                        return Ok(user_missing());
                    };
                    // Members may read their own; others need Manage Licenses.
                    if i != caller && !state.members[caller].has_privilege(MANAGE_LICENSES) {
                        return Ok(forbidden(api));
                    }
                    let member = &state.members[i];
                    let one = if member.licenses[l].is_empty()
                        && !member.offline.contains(&LISTINGS[l].app)
                    {
                        json!({})
                    } else {
                        user_entitlement_json(member, l)
                    };
                    Ok(formatted(request, &json!({"userEntitlements": one})))
                }
                None => Ok(error_answer(api, 400, "Invalid URL", &["Invalid URL"])),
            },
        }
    }

    /// `provisionUserEntitlements`: set the entitlements of at most 25 members at once, all
    /// or none; an empty list revokes.
    fn provision(
        &self,
        request: &PortalRequest<'_>,
        l: usize,
    ) -> std::result::Result<Answer, Answer> {
        let api = Api::Sharing;
        self.privileged(request, api, MANAGE_LICENSES)?;
        only_post(request, api)?;
        let fail = |message: &str| Ok(error_answer(api, 400, message, &[]));
        let (users, wanted) = match provision_request(request.param("userEntitlements")) {
            Ok(parsed) => parsed,
            Err(message) => return fail(&message),
        };
        if users.is_empty() {
            return fail("'users' must name at least one user.");
        }
        if users.len() > 25 {
            return fail("Entitlements can be provisioned to at most 25 users in one request.");
        }
        let listing = &LISTINGS[l];
        let mut entitlements: Vec<&'static str> = Vec::new();
        for e in &wanted {
            match listing
                .entitlements
                .iter()
                .find(|k| k.eq_ignore_ascii_case(e))
            {
                Some(k) if !entitlements.contains(k) => entitlements.push(k),
                Some(_) => {}
                None => {
                    return fail(&format!(
                        "'{e}' is not an entitlement of {}.",
                        listing.title
                    ))
                }
            }
        }
        let mut state = self.state();
        let mut chosen = Vec::with_capacity(users.len());
        for name in &users {
            let Some(i) = state.find(name) else {
                return fail(&format!("User '{name}' does not exist or is inaccessible."));
            };
            let member = &state.members[i];
            if member.offline.contains(&listing.app) {
                return fail(&format!(
                    "Unable to change the licenses of '{}': their {} license is checked out for offline use. Release the license first.",
                    member.username, listing.title
                ));
            }
            if !entitlements.is_empty() && !type_holds(&member.user_type, listing.app) {
                return fail(&format!(
                    "Unable to assign {} licenses to '{}': the user type '{}' is not compatible with {}. Assign a compatible user type (Creator, Professional or Professional Plus) first.",
                    listing.title,
                    member.username,
                    user_type_def(&member.user_type).map_or(member.user_type.as_str(), |t| t.name),
                    listing.title
                ));
            }
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        for e in &entitlements {
            let held_elsewhere = state
                .members
                .iter()
                .enumerate()
                .filter(|(i, m)| !chosen.contains(i) && m.licenses[l].iter().any(|h| h == e))
                .count() as i64;
            let seats = state.license_seats[l].get(e).copied().unwrap_or(0);
            let after = held_elsewhere + chosen.len() as i64;
            if after > seats {
                return fail(&format!(
                    "Not enough '{e}' licenses: {seats} purchased, {held_elsewhere} assigned to others, {} requested.",
                    chosen.len()
                ));
            }
        }
        for i in chosen {
            state.members[i].licenses[l] = entitlements.iter().map(|e| (*e).to_owned()).collect();
        }
        Ok(formatted(request, &json!({"success": true})))
    }

    /// releaseLicense, classic: `portaladmin/license/releaseLicense` (10.7+, with `appId`)
    /// or `portaladmin/system/licenses/releaseLicense` (before 10.7, ArcGIS Pro only).
    pub(super) fn release_license(
        &self,
        request: &PortalRequest<'_>,
        with_app_id: bool,
    ) -> std::result::Result<Answer, Answer> {
        let api = Api::Admin;
        self.privileged(request, api, MANAGE_LICENSES)?;
        // Documented with GET (the official client posts): both are taken. From 10.7 the
        // app must be named; a missing appId is not taken for ArcGIS Pro.
        let app = if with_app_id {
            request.param("appId")
        } else {
            Some("arcgisprodesktop")
        };
        self.release(request, app)
    }

    /// The Enterprise Administrator API of a Kubernetes deployment: `orgs` and
    /// `orgs/<orgID>/license/releaseLicense`.
    pub(super) fn kubernetes_admin(&self, request: &PortalRequest<'_>, path: &str) -> Answer {
        let api = Api::Admin;
        let result = (|| {
            if path.is_empty() {
                self.signed_in(request, api)?;
                return Ok(formatted(
                    request,
                    // The deployment's release, as documented ("fullVersion": "10.9.1").
                    &json!({
                        "resources": ["orgs", "system"],
                        "fullVersion": self.options.release(),
                        "currentVersion": self.options.release(),
                    }),
                ));
            }
            if path == "/orgs" {
                self.privileged(request, api, MANAGE_LICENSES)?;
                return Ok(formatted(request, &json!({"organizations": [ORG_ID]})));
            }
            let Some(rest) = path.strip_prefix("/orgs/") else {
                return Ok(error_answer(api, 404, "Resource not found.", &[]));
            };
            let (org, tail) = rest.split_once('/').unwrap_or((rest, ""));
            if !org.eq_ignore_ascii_case(ORG_ID) {
                return Ok(error_answer(
                    api,
                    404,
                    &format!("Organization '{org}' does not exist."),
                    &[],
                ));
            }
            match tail {
                // The organization: its web adaptor registration token, base64 JSON as
                // documented (with no shared key: the sandbox has no web adaptor to trust).
                "" => {
                    self.privileged(request, api, MANAGE_LICENSES)?;
                    let token = json!({
                        "orgId": ORG_ID,
                        "prefixUrl": format!("{}/portal/", request.origin),
                    });
                    Ok(formatted(
                        request,
                        &json!({"webAdaptorRegistrationToken": STANDARD.encode(token.to_string())}),
                    ))
                }
                // The organization's license, as classic `portaladmin/license` gives it.
                "license" => {
                    self.privileged(request, api, MANAGE_LICENSES)?;
                    Ok(self.license(request))
                }
                "license/releaselicense" if self.options.serves(Feature::KubernetesRelease) => {
                    self.privileged(request, api, MANAGE_LICENSES)?;
                    only_post(request, api)?;
                    self.release(request, request.param("appId"))
                }
                _ => Ok(error_answer(api, 404, "Resource not found.", &[])),
            }
        })();
        result.unwrap_or_else(|answer| answer)
    }

    /// Free the license of `app` that the member `username` checked out.
    /// Release `app` (None when the request named none) for the request's `username`: the
    /// user name is checked first, then the app.
    fn release(
        &self,
        request: &PortalRequest<'_>,
        app: Option<&str>,
    ) -> std::result::Result<Answer, Answer> {
        let api = Api::Admin;
        let username = request
            .param("username")
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let Some(username) = username else {
            return Ok(error_answer(api, 400, "'username' must be specified.", &[]));
        };
        let Some(app) = app.map(str::trim).filter(|a| !a.is_empty()) else {
            return Ok(error_answer(api, 400, "'appId' must be specified.", &[]));
        };
        let apps = release_apps(&self.options.version);
        let Some(app) = apps.iter().find(|a| a.eq_ignore_ascii_case(app.trim())) else {
            return Ok(error_answer(
                api,
                400,
                &format!("Invalid appId '{app}'."),
                &[&format!("appId must be one of: {}.", apps.join(", "))],
            ));
        };
        let mut state = self.state();
        let Some(i) = state.find(username) else {
            return Ok(error_answer(
                api,
                400,
                &format!("User '{username}' does not exist."),
                &[],
            ));
        };
        state.members[i].offline.retain(|a| a != app);
        state.members[i].modified = now_ms();
        Ok(formatted(request, &json!({"status": "success"})))
    }
}
