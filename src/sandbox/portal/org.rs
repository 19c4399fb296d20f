//! The emulated organization: its members, their seats, and its state (the user types and
//! roles it offers are `catalog`; seeding it from a number is `seeding`).

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::auth::IssuedToken;
use super::licenses::{Deployment, LISTINGS};
use super::oauth::{IssuedCode, IssuedRefresh, PendingSignIn};
use super::wire::{formatted, Answer, Api, PortalRequest};
use super::PortalSite;
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::portal::versions::Feature;

mod catalog;
mod seeding;

pub(super) use catalog::{
    level_of, role_def, user_type_def, RoleDef, UserTypeDef, MANAGE_LICENSES, ROLES, UPDATE_USERS,
    USER_TYPES,
};
pub use catalog::{ANALYST_ROLE, DATA_EDITOR_ROLE, ORG_ID, VIEWER_ROLE};

/// A member of the organization.
#[derive(Debug, Clone)]
pub struct PortalMember {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub department: String,
    pub role_id: String,
    /// Empty on a portal before user types (10.7), where `level` is the member's license.
    pub user_type: String,
    /// "1" or "2": used only where there are no user types (elsewhere the type decides).
    pub stored_level: &'static str,
    /// ms since 1970; -1 for never.
    pub last_login: i64,
    pub created: i64,
    pub modified: i64,
    pub disabled: bool,
    /// Apps (`arcgisprodesktop`, `drone2map`...) whose license is checked out for offline use.
    pub offline: Vec<&'static str>,
    /// Entitlements per listing of `LISTINGS`, in its order.
    pub licenses: Vec<Vec<String>>,
    /// ArcGIS Online only: credits assigned (-1: unlimited) and available.
    pub credits: Option<(f64, f64)>,
}

impl PortalMember {
    pub(super) fn role(&self) -> &'static RoleDef {
        role_def(&self.role_id).unwrap_or(&ROLES[2])
    }

    pub fn pro_offline(&self) -> bool {
        self.offline.contains(&"arcgisprodesktop")
    }

    pub(super) fn has_privilege(&self, privilege: &str) -> bool {
        self.role().privileges.contains(&privilege)
    }

    pub(super) fn is_admin(&self) -> bool {
        self.has_privilege(UPDATE_USERS)
    }

    /// The member's level: their user type's, or on a portal before user types their own.
    pub fn level(&self) -> &'static str {
        if self.user_type.is_empty() {
            self.stored_level
        } else {
            level_of(&self.user_type)
        }
    }

    /// The user as `community/users/<name>` describes it; `full` adds what only the user
    /// and administrators see.
    pub fn to_json(&self, full: bool) -> Value {
        serde_json::to_value(self.view(full)).unwrap_or(Value::Null)
    }

    /// The member's own record (`community/users/<name>`, `community/self`): the listing's
    /// fields and their groups (the sandbox has none), which the official client's
    /// `user.groups` reads there.
    pub(super) fn record(&self, full: bool) -> Value {
        let mut json = self.to_json(full);
        json["groups"] = Value::Array(Vec::new());
        json
    }

    /// The user's JSON fields, borrowed: a page of members is written without building
    /// JSON values first.
    pub(super) fn view(&self, full: bool) -> MemberView<'_> {
        let role = self.role();
        MemberView {
            username: &self.username,
            id: &self.id,
            full_name: &self.full_name,
            first_name: &self.first_name,
            last_name: &self.last_name,
            description: format!("{} department", self.department),
            org_id: ORG_ID,
            role: role.role,
            role_id: role.id,
            level: self.level(),
            user_license_type_id: (!self.user_type.is_empty()).then_some(self.user_type.as_str()),
            disabled: self.disabled,
            last_login: self.last_login,
            created: self.created,
            modified: self.modified,
            provider: "arcgis",
            user_type: "arcgisonly",
            access: "org",
            culture: "en",
            region: "US",
            units: "english",
            tags: [&self.department],
            thumbnail: None,
            mfa_enabled: false,
            // Documented member fields clients read; the sandbox keeps no content, so
            // nothing is stored, against ArcGIS's default quota of 2 TB.
            storage_usage: 0,
            storage_quota: 2_199_023_255_552,
            email: full.then_some(self.email.as_str()),
            privileges: full.then_some(role.privileges),
            assigned_credits: self.credits.map(|c| c.0),
            available_credits: self.credits.map(|c| c.1),
        }
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MemberView<'a> {
    username: &'a str,
    id: &'a str,
    full_name: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    description: String,
    org_id: &'static str,
    role: &'static str,
    role_id: &'static str,
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_license_type_id: Option<&'a str>,
    disabled: bool,
    last_login: i64,
    created: i64,
    modified: i64,
    provider: &'static str,
    user_type: &'static str,
    access: &'static str,
    culture: &'static str,
    region: &'static str,
    units: &'static str,
    tags: [&'a str; 1],
    thumbnail: Option<&'static str>,
    mfa_enabled: bool,
    storage_usage: i64,
    storage_quota: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    privileges: Option<&'static [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assigned_credits: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    available_credits: Option<f64>,
}

pub(super) struct PortalState {
    pub(super) members: Vec<PortalMember>,
    /// Lower-case user name, and id, to the member's index.
    index: HashMap<String, usize>,
    /// Seats per user type.
    pub(super) seats: HashMap<&'static str, i64>,
    /// Seats per level ("1", "2") on a portal before user types.
    pub(super) level_seats: HashMap<&'static str, i64>,
    /// Members per user type ("" for none) and per level.
    counts: HashMap<String, i64>,
    level_counts: HashMap<&'static str, i64>,
    /// Purchased count per entitlement, per listing of `LISTINGS`.
    pub(super) license_seats: Vec<HashMap<&'static str, i64>>,
    pub(super) tokens: HashMap<String, IssuedToken>,
    /// OAuth: sign-in pages shown, authorization codes and refresh tokens issued.
    pub(super) pending_sign_ins: HashMap<String, PendingSignIn>,
    pub(super) codes: HashMap<String, IssuedCode>,
    pub(super) refresh_tokens: HashMap<String, IssuedRefresh>,
    /// Failed sign-ins per lower-case user name: how many, and when the last was.
    pub(super) failed_logins: HashMap<String, (u32, Instant)>,
}

impl PortalState {
    pub(super) fn find(&self, name_or_id: &str) -> Option<usize> {
        self.index
            .get(&name_or_id.to_lowercase())
            .or_else(|| self.index.get(name_or_id))
            .copied()
    }

    pub(super) fn in_use(&self, user_type: &str) -> i64 {
        self.counts.get(user_type).copied().unwrap_or(0)
    }

    pub(super) fn in_level(&self, level: &str) -> i64 {
        self.level_counts.get(level).copied().unwrap_or(0)
    }

    /// Change member `i`'s user type, keeping the counts.
    pub(super) fn set_user_type(&mut self, i: usize, user_type: &'static str) {
        let member = &self.members[i];
        *self.counts.entry(member.user_type.clone()).or_insert(0) -= 1;
        *self.level_counts.entry(member.level()).or_insert(0) -= 1;
        let member = &mut self.members[i];
        member.user_type = user_type.into();
        member.modified = now_ms();
        *self.counts.entry(user_type.into()).or_insert(0) += 1;
        *self.level_counts.entry(level_of(user_type)).or_insert(0) += 1;
    }

    /// Change member `i`'s level (a portal before user types), keeping the counts.
    pub(super) fn set_level(&mut self, i: usize, level: &'static str) {
        *self
            .level_counts
            .entry(self.members[i].level())
            .or_insert(0) -= 1;
        let member = &mut self.members[i];
        member.stored_level = level;
        member.modified = now_ms();
        *self.level_counts.entry(level).or_insert(0) += 1;
    }
}

impl PortalSite {
    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, PortalState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn member(&self, username: &str) -> Option<PortalMember> {
        let state = self.state();
        state.find(username).map(|i| state.members[i].clone())
    }

    pub fn members(&self) -> Vec<PortalMember> {
        self.state().members.clone()
    }

    /// Set the seats of a level, on a portal before user types.
    pub fn set_level_seats(&self, level: i64, seats: i64) -> Result<()> {
        let level = match level {
            1 => "1",
            2 => "2",
            _ => return Err(Error::invalid(format!("a level is 1 or 2, not {level}"))),
        };
        if self.options.serves(Feature::UserTypes) {
            return Err(Error::invalid(format!(
                "the sandbox portal is version {}: levels follow user types there; \
                 seats per level exist before 10.7 (portal_version below \"7.1\")",
                self.options.version
            )));
        }
        self.state().level_seats.insert(level, seats.max(0));
        Ok(())
    }

    /// Set the seats of a user type.
    pub fn set_seats(&self, user_type: &str, seats: i64) -> Result<()> {
        let def = user_type_def(user_type).ok_or_else(|| {
            Error::invalid(format!("the sandbox portal has no user type {user_type:?}"))
        })?;
        self.state().seats.insert(def.id, seats.max(0));
        Ok(())
    }

    pub(super) fn portal_self(
        &self,
        request: &PortalRequest<'_>,
    ) -> std::result::Result<Answer, Answer> {
        let caller = self.caller(request, Api::Sharing)?;
        let state = self.state();
        let mut portal = json!({
            "id": ORG_ID,
            "name": "Sandbox County GIS",
            "portalName": "Portal for ArcGIS",
            "isPortal": true,
            "allSSL": request.origin.starts_with("https"),
            "portalMode": "multitenant",
            "currentVersion": self.options.version,
            "supportsOAuth": true,
            "urlKey": null,
            "customBaseUrl": request.origin.trim_start_matches("https://").trim_start_matches("http://"),
            "portalHostname": format!("{}/portal", request.origin.trim_start_matches("https://").trim_start_matches("http://")),
            "defaultUserTypeIdForUser": "creatorUT",
            "subscriptionInfo": {"type": "Enterprise"},
        });
        if !self.options.serves(Feature::UserTypes) {
            // Before user types a license was a number of members per level, which
            // portals/self says as ArcGIS Online still does (`maxUsersPerLevel`).
            let one = state.level_seats.get("1").copied().unwrap_or(0);
            let two = state.level_seats.get("2").copied().unwrap_or(0);
            portal
                .as_object_mut()
                .map(|p| p.remove("defaultUserTypeIdForUser"));
            portal["subscriptionInfo"] = json!({
                "type": "Enterprise",
                "maxUsersPerLevel": {"1": one, "2": two},
                "maxUsers": one + two,
            });
        }
        if let Some(i) = caller {
            portal["user"] = state.members[i].to_json(true);
        }
        if self.options.deployment == Deployment::Kubernetes {
            portal["portalDeploymentType"] = json!("ArcGISEnterpriseOnKubernetes");
        }
        if self.options.online() {
            self.online_self(&mut portal, &state, caller.is_some());
        }
        Ok(formatted(request, &portal))
    }

    pub(super) fn license(&self, request: &PortalRequest<'_>) -> Answer {
        let state = self.state();
        let types: Vec<Value> = USER_TYPES
            .iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "maximumRegisteredMembers": state.seats.get(t.id).copied().unwrap_or(0),
                    "currentRegisteredMembers": state.in_use(t.id),
                    "expiration": -1,
                })
            })
            .collect();
        let maximum: i64 = state.seats.values().sum();
        formatted(
            request,
            &json!({
                "currentRegisteredMembers": state.members.len(),
                "maximumRegisteredMembers": maximum,
                "version": self.options.release(),
                "userTypes": types,
                "appBundles": [],
            }),
        )
    }
}

impl PortalSite {
    /// `portaladmin/system/licenses` before 10.7, in the documented shape (Portal
    /// Administrator API, "Licenses", from 10.2.1): registered members against the
    /// maximum, and from 10.5 one feature per level. The features' `name` and `level`
    /// values are not given in the documentation: `level1`/`level2` and "1"/"2" are ours.
    pub(super) fn system_licenses(&self, request: &PortalRequest<'_>) -> Answer {
        let state = self.state();
        let seats = |level: &str| state.level_seats.get(level).copied().unwrap_or(0);
        let feature = |level: &str| {
            json!({
                "level": level,
                "name": format!("level{level}"),
                "displayName": format!("Level {level}"),
                "isValid": true,
                "currentRegisteredMembers": state.in_level(level),
                "maximumRegisteredMembers": seats(level),
                "version": "10.5",
                "expiration": -1,
            })
        };
        formatted(
            request,
            &json!({
                "isValid": true,
                "currentRegisteredMembers": state.members.len(),
                "maximumRegisteredMembers": seats("1") + seats("2"),
                "expiration": -1,
                "features": [feature("1"), feature("2")],
            }),
        )
    }
}

/// A JSON map of a member, for the sandbox's Python inspection helpers.
pub fn member_map(member: &PortalMember) -> Map<String, Value> {
    let mut map = match member.to_json(true) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    map.insert("proOffline".into(), json!(member.pro_offline()));
    map.insert("offlineApps".into(), json!(member.offline));
    let entitlements: Map<String, Value> = LISTINGS
        .iter()
        .zip(&member.licenses)
        .map(|(listing, held)| (listing.title.to_owned(), json!(held)))
        .collect();
    map.insert("entitlements".into(), Value::Object(entitlements));
    map
}
