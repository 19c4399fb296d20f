//! The apps a user type includes, as `community/users/<u>/userLicenseType` gives them:
//! objects with `id`, `title`, `type` and `isAppBundle`, a bundle holding its `apps`, each
//! app with its `entitlements` (the shape of Esri's "User License Type" example, 10.7+).
//! The sandbox bundles the mobile apps as one "Field Apps Bundle"; ArcGIS Pro stands alone
//! with the entitlements the member holds. Item ids are made from the app ids (stable).

use serde_json::{json, Value};

use super::{LISTINGS, PRO_ITEM_ID};
use crate::sandbox::portal::org::UserTypeDef;

fn title(app: &str) -> &str {
    match app {
        "arcgisFieldMaps" => "ArcGIS Field Maps",
        "arcgisSurvey123" => "ArcGIS Survey123",
        "arcgisWorkforce" => "ArcGIS Workforce",
        "arcgisQuickCapture" => "ArcGIS QuickCapture",
        other => other,
    }
}

/// A 32-hex item id made from `name` (FNV-1a, twice for 128 bits).
fn item_id(name: &str) -> String {
    let hash = |seed: u64| {
        name.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        hash(0xcbf2_9ce4_8422_2325),
        hash(0x8422_2325_cbf2_9ce4)
    )
}

/// The `apps` of a member of `def` holding `licenses` (one list per listing).
pub(in crate::sandbox::portal) fn type_apps(
    def: &UserTypeDef,
    licenses: &[Vec<String>],
) -> Vec<Value> {
    let mut apps = Vec::new();
    let field: Vec<Value> = def
        .apps
        .iter()
        .filter(|a| **a != LISTINGS[0].app)
        .map(|a| {
            json!({
                "id": item_id(a),
                "title": title(a),
                "type": "Native Application",
                "entitlements": [a],
            })
        })
        .collect();
    if !field.is_empty() {
        apps.push(json!({
            "id": item_id("fieldAppsBundle"),
            "title": "Field Apps Bundle",
            "type": "App Bundle",
            "isAppBundle": true,
            "apps": field,
        }));
    }
    if def.apps.contains(&LISTINGS[0].app) {
        apps.push(json!({
            "id": PRO_ITEM_ID,
            "title": LISTINGS[0].title,
            "type": "Desktop Application",
            "isAppBundle": false,
            "entitlements": licenses.first().cloned().unwrap_or_default(),
        }));
    }
    apps
}
