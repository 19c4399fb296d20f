//! An ArcGIS Online organization: what its `portals/self` and `portals/self/subscriptionInfo`
//! say (no `isPortal`, a `urlKey`, the subscription with its type, seats per user type and
//! credits) and its members' credits. Everything else it shares with Enterprise; what Online
//! does not have (the administrator APIs, `releaseLicense`) is the version table's Online
//! column (`crate::portal::versions::Feature::online`).
//!
//! The shapes follow captures of Online's `portals/self` in Esri's public JavaScript test
//! fixtures (`subscriptionInfo` with `type`, `state`, `expDate`, `userLicenseTypes` (seats per
//! user type id), `maxUsersPerLevel`, `maxUsers`, `availableCredits`) and the official
//! client, which tells Online by `portalName` "ArcGIS Online" in `portalMode` "multitenant"
//! and reads `availableCredits`, `creditAssignments` and `defaultUserCreditAssignment` from
//! `portals/self`. Unverified (our choices): the subscription `type` "In House", that ordinary
//! members see `subscriptionInfo` too, and the seeded credits. See
//! docs/explanation/arcgis-online.md.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use super::org::{PortalMember, PortalState, USER_TYPES};
use super::wire::{formatted, Answer, Api, PortalRequest};
use super::PortalSite;

/// The organization's `urlKey`: its host would be `sandboxcounty.maps.arcgis.com`.
pub const URL_KEY: &str = "sandboxcounty";
/// Credits each member is given when credit budgeting is on (`defaultUserCreditAssignment`).
const DEFAULT_CREDITS: f64 = 500.0;
/// The organization's credits beyond what its members are given.
const SPARE_CREDITS: f64 = 10_000.0;

/// Give members their credits: administrators unlimited (`assignedCredits` -1, as the
/// official client's `deallocate` sets), others the default, some of it spent.
pub(super) fn seed_credits(members: &mut [PortalMember], seed_value: u64) {
    let mut rng = SmallRng::seed_from_u64(seed_value ^ 0x0c4e_d175);
    for m in members.iter_mut() {
        let spent = (rng.random_range(0..=4000) as f64) / 10.0;
        m.credits = Some(if m.role_id == "org_admin" {
            (-1.0, -1.0)
        } else {
            (DEFAULT_CREDITS, DEFAULT_CREDITS - spent)
        });
    }
}

/// The organization's credits left: it bought what its members are given and some to
/// spare, and they have spent part of theirs, so what is left is the spare and their rest.
fn available(members: &[PortalMember]) -> f64 {
    let left: f64 = members
        .iter()
        .filter_map(|m| m.credits)
        .filter(|(assigned, _)| *assigned >= 0.0)
        .map(|(_, available)| available)
        .sum();
    SPARE_CREDITS + left
}

impl PortalSite {
    /// The subscription: its type, seats per user type and per level, credits.
    fn subscription(&self, state: &PortalState) -> Value {
        let seats = |id: &str| state.seats.get(id).copied().unwrap_or(0);
        let per_type: Map<String, Value> = USER_TYPES
            .iter()
            .map(|t| (t.id.to_owned(), json!(seats(t.id))))
            .collect();
        let level_one = seats("viewerUT");
        let level_two: i64 = USER_TYPES
            .iter()
            .filter(|t| t.id != "viewerUT")
            .map(|t| seats(t.id))
            .sum();
        json!({
            "id": "0123456789",
            "type": "In House",
            "state": "active",
            "expDate": -1,
            "userLicenseTypes": per_type,
            "maxUsersPerLevel": {"1": level_one, "2": level_two},
            "maxUsers": level_one + level_two,
            "availableCredits": available(&state.members),
        })
    }

    /// Turn an Enterprise `portals/self` into an Online organization's.
    pub(super) fn online_self(&self, portal: &mut Value, state: &PortalState, signed_in: bool) {
        let available = available(&state.members);
        let fields = [
            ("portalName", json!("ArcGIS Online")),
            ("isPortal", json!(false)),
            ("portalMode", json!("multitenant")),
            ("urlKey", json!(URL_KEY)),
            ("customBaseUrl", json!("maps.arcgis.com")),
            ("portalHostname", json!("www.arcgis.com")),
            ("availableCredits", json!(available)),
            ("creditAssignments", json!("enabled")),
            ("defaultUserCreditAssignment", json!(DEFAULT_CREDITS)),
        ];
        for (key, value) in fields {
            portal[key] = value;
        }
        if signed_in {
            portal["subscriptionInfo"] = self.subscription(state);
        } else if let Some(p) = portal.as_object_mut() {
            p.remove("subscriptionInfo");
        }
    }

    /// `portals/self/subscriptionInfo` (Online only), which the official client reads.
    pub(super) fn subscription_info(
        &self,
        request: &PortalRequest<'_>,
    ) -> std::result::Result<Answer, Answer> {
        self.signed_in(request, Api::Sharing)?;
        let state = self.state();
        Ok(formatted(request, &self.subscription(&state)))
    }
}
