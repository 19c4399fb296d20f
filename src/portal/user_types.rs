//! The portal's user types: their ids and the names people use for them, their seats, and
//! changing members' user type in batches (updateUserLicenseType).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::http::Effect;
use crate::portal::client::{Portal, Root};
use crate::portal::envelope::{self, number};
use crate::portal::listings::paged;
use crate::portal::paging::ItemKey;
use crate::portal::users::User;
use crate::portal::versions::SeatsAt;

/// The most members one updateUserLicenseType request may name (the portal's limit).
pub const MAX_USER_TYPE_BATCH: usize = 100;

/// A user type (named-user license type) of the portal, with its seats when known.
#[derive(Debug, Clone, PartialEq)]
pub struct UserType {
    pub id: String,
    pub name: String,
    /// Seats: (in use, maximum), from the organization's license when the user may read it
    /// (`portaladmin/license`, on Kubernetes `admin/orgs/<orgID>/license`).
    pub seats: Option<(i64, i64)>,
    pub raw: Map<String, Value>,
}

/// Friendly user type names, as administrators say them, to ids. The ids stayed when Esri
/// renamed the types in 2024 (Editor → Contributor, Field Worker → Mobile Worker).
const USER_TYPE_NAMES: &[(&str, &[&str])] = &[
    ("viewerUT", &["viewer"]),
    ("editorUT", &["contributor", "editor"]),
    (
        "fieldWorkerUT",
        &[
            "mobile worker",
            "mobileworker",
            "mobile_worker",
            "field worker",
            "fieldworker",
        ],
    ),
    ("creatorUT", &["creator"]),
    (
        "GISProfessionalStdUT",
        &[
            "professional",
            "gis professional",
            "gis professional standard",
        ],
    ),
    (
        "GISProfessionalAdvUT",
        &[
            "professional plus",
            "professionalplus",
            "professional_plus",
            "gis professional advanced",
        ],
    ),
    (
        "GISProfessionalBasicUT",
        &["gis professional basic", "professional basic"],
    ),
];

pub(crate) fn squash(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The id of a user type given by id, friendly name or the portal's own name.
pub fn resolve_user_type(types: &[UserType], wanted: &str) -> Result<String> {
    let key = squash(wanted);
    if key.is_empty() {
        return Err(Error::invalid("the user type is empty"));
    }
    let found = types
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(wanted.trim()))
        .or_else(|| {
            let by_friendly = USER_TYPE_NAMES
                .iter()
                .find(|(_, names)| names.contains(&key.as_str()))
                .and_then(|(id, _)| types.iter().find(|t| t.id == *id));
            by_friendly.or_else(|| types.iter().find(|t| squash(&t.name) == key))
        });
    match found {
        Some(t) => Ok(t.id.clone()),
        None => Err(Error::invalid(format!(
            "unknown user type {wanted:?}; this portal's user types are: {}",
            types
                .iter()
                .map(|t| format!("{} ({})", t.id, t.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

impl Portal {
    /// The portal's user types, with seats when the signed-in user may read them.
    pub async fn user_types(&self) -> Result<Vec<UserType>> {
        Ok(self.user_types_and_seats().await?.0)
    }

    /// The portal's user types, and when their seats could not be read, where they were
    /// looked for and why they are not there (for a plan's notes).
    pub(crate) async fn user_types_and_seats(&self) -> Result<(Vec<UserType>, Option<String>)> {
        let listed = paged(
            self,
            "portals/self/userLicenseTypes",
            "userLicenseTypes",
            ItemKey::USER_TYPES,
        )
        .await?;
        let (seats, unread) = match self.user_type_seats().await {
            Ok(seats) => (seats, None),
            Err(why) => (HashMap::new(), Some(why)),
        };
        let types = listed
            .into_iter()
            .filter_map(|raw| {
                let id = raw.get("id")?.as_str()?.to_owned();
                let name = raw
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(&id)
                    .to_owned();
                Some(UserType {
                    seats: seats.get(&id).copied(),
                    id,
                    name,
                    raw,
                })
            })
            .collect();
        Ok((types, unread))
    }

    /// Seats per user type, (in use, maximum) by type id, where the deployment states them
    /// (`versions::Platform::seats`). When there are none (the signed-in user is not an
    /// administrator, say), the resource tried and why.
    async fn user_type_seats(&self) -> std::result::Result<HashMap<String, (i64, i64)>, String> {
        let deployment = self.deployment().await.map_err(|err| err.to_string())?;
        match deployment.platform().seats() {
            SeatsAt::AdminLicense => self.admin_license_seats().await,
            SeatsAt::SubscriptionInfo => self.subscription_seats().await,
        }
    }

    /// Seats from the organization's license ([`Portal::license_resource`]).
    async fn admin_license_seats(
        &self,
    ) -> std::result::Result<HashMap<String, (i64, i64)>, String> {
        // Finding it reads portals/self (and on Kubernetes perhaps admin/orgs): its error
        // names the URL that failed.
        let (root, path) = self
            .license_resource()
            .await
            .map_err(|err| err.to_string())?;
        let resource = format!("{}/{path}", root.path());
        let license = self
            .call(root, &path, &[], Effect::Read)
            .await
            .map_err(|err| format!("{resource}: {}", err.reason()))?;
        let mut seats = HashMap::new();
        if let Some(Value::Array(types)) = license.get("userTypes") {
            for t in types {
                if let (Some(id), Some(max)) = (
                    t.get("id").and_then(Value::as_str),
                    number(t.get("maximumRegisteredMembers")),
                ) {
                    let current = number(t.get("currentRegisteredMembers")).unwrap_or(0);
                    seats.insert(id.to_owned(), (current, max));
                }
            }
        }
        if seats.is_empty() {
            return Err(format!("{resource} names no user type with its seats"));
        }
        Ok(seats)
    }

    /// Seats on ArcGIS Online: the maximum per type from `portals/self/subscriptionInfo` →
    /// `userLicenseTypes`, the members of each from `portals/self/users/counts`. Online has
    /// no administrator license resource; when the subscription does not state the seats,
    /// the reason says so, naming Online.
    async fn subscription_seats(&self) -> std::result::Result<HashMap<String, (i64, i64)>, String> {
        const INFO: &str = "portals/self/subscriptionInfo";
        const COUNTS: &str = "portals/self/users/counts";
        let by_type = [
            ("type", "userLicenseType".to_owned()),
            ("num", "100".to_owned()),
        ];
        let (info, counts) = futures::join!(
            self.call(Root::Sharing, INFO, &[], Effect::Read),
            self.call(Root::Sharing, COUNTS, &by_type, Effect::Read)
        );
        let info = info.map_err(|err| format!("ArcGIS Online, {INFO}: {}", err.reason()))?;
        let Some(Value::Object(maximum)) = info.get("userLicenseTypes") else {
            return Err(format!(
                "ArcGIS Online states them in {INFO} (userLicenseTypes), which names none here"
            ));
        };
        let counts = counts.map_err(|err| format!("ArcGIS Online, {COUNTS}: {}", err.reason()))?;
        let in_use = online_counts(&counts);
        Ok(maximum
            .iter()
            .filter_map(|(id, max)| {
                let max = number(Some(max))?;
                Some((id.clone(), (in_use.get(id).copied().unwrap_or(0), max)))
            })
            .collect())
    }

    /// The id of a user type given by id or name (the portal's types are fetched once).
    pub async fn resolve_user_type(&self, wanted: &str) -> Result<String> {
        let types = self
            .user_type_names
            .get_or_try_init(|| self.user_types())
            .await?;
        resolve_user_type(types, wanted)
    }

    /// updateUserLicenseType: change the user type of up to a batch of members in one
    /// request; one result each.
    pub(crate) async fn update_user_license_type(
        &self,
        usernames: &[String],
        user_type: &str,
    ) -> Result<Vec<(String, Result<()>)>> {
        let users = serde_json::to_string(usernames).map_err(|e| Error::invalid(e.to_string()))?;
        let reply = self
            .call(
                Root::Sharing,
                "portals/self/updateUserLicenseType",
                &[("users", users), ("userLicenseType", user_type.to_owned())],
                Effect::Idempotent,
            )
            .await?;
        let mut by_name: HashMap<String, Result<()>> = HashMap::new();
        if let Some(Value::Array(results)) = reply.get("results") {
            for result in results {
                let Some(name) = result.get("username").and_then(Value::as_str) else {
                    continue;
                };
                let ok = result
                    .get("status")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    || result
                        .get("success")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                let outcome = if ok {
                    Ok(())
                } else {
                    Err(envelope::item_error(
                        self.url(),
                        result,
                        "the portal did not change this user's type",
                    ))
                };
                by_name.insert(name.to_lowercase(), outcome);
            }
        }
        Ok(usernames
            .iter()
            .map(|name| {
                let outcome = by_name.remove(&name.to_lowercase()).unwrap_or_else(|| {
                    Err(Error::OutcomeUnknown {
                        url: self.url().to_owned(),
                        cause: "the portal's reply did not mention this user".into(),
                    })
                });
                (name.clone(), outcome)
            })
            .collect())
    }
}

/// Members per user type from a `users/counts` reply (`results` of `key` and `count`).
fn online_counts(reply: &Map<String, Value>) -> HashMap<String, i64> {
    let Some(Value::Array(results)) = reply.get("results") else {
        return HashMap::new();
    };
    results
        .iter()
        .filter_map(|r| {
            let key = r.get("key")?.as_str()?.to_owned();
            Some((key, number(r.get("count"))?))
        })
        .collect()
}

/// Whether a member re-read after a lost answer has the user type `wanted`, or what they have.
pub(crate) fn has_user_type(
    wanted: &str,
) -> impl Fn(&User) -> std::result::Result<(), String> + '_ {
    move |user| match user.user_type() {
        Some(now) if now.eq_ignore_ascii_case(wanted) => Ok(()),
        now => Err(format!(
            "the member unchanged: their user type is {}",
            now.unwrap_or("not stated")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> Vec<UserType> {
        [
            ("viewerUT", "Viewer"),
            ("editorUT", "Contributor"),
            ("fieldWorkerUT", "Mobile Worker"),
            ("creatorUT", "Creator"),
            ("GISProfessionalStdUT", "Professional"),
            ("GISProfessionalAdvUT", "Professional Plus"),
        ]
        .iter()
        .map(|(id, name)| UserType {
            id: (*id).into(),
            name: (*name).into(),
            seats: None,
            raw: Map::new(),
        })
        .collect()
    }

    #[test]
    fn online_counts_read_each_type() {
        let reply: Map<String, Value> = serde_json::from_str(
            r#"{"results": [{"key": "creatorUT", "count": 12}, {"key": "viewerUT", "count": "2"},
               {"count": 3}], "nextStart": -1}"#,
        )
        .unwrap();
        let counts = online_counts(&reply);
        assert_eq!(counts.len(), 2);
        assert_eq!((counts["creatorUT"], counts["viewerUT"]), (12, 2));
        assert!(online_counts(&Map::new()).is_empty());
    }

    #[test]
    fn friendly_user_type_names_map_to_ids() {
        let t = types();
        for (given, id) in [
            ("viewer", "viewerUT"),
            ("Contributor", "editorUT"),
            ("mobile  worker", "fieldWorkerUT"),
            ("creator", "creatorUT"),
            ("Professional", "GISProfessionalStdUT"),
            ("professional plus", "GISProfessionalAdvUT"),
            ("GISProfessionalAdvUT", "GISProfessionalAdvUT"),
            ("creatorut", "creatorUT"),
        ] {
            assert_eq!(resolve_user_type(&t, given).unwrap(), id, "{given}");
        }
        let err = resolve_user_type(&t, "contributorUT").unwrap_err();
        assert!(err.to_string().contains("editorUT (Contributor)"), "{err}");
        assert!(resolve_user_type(&t, "  ").is_err());
    }
}
