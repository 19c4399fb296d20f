//! Named-user licenses: the organization's purchases (ArcGIS Pro, Drone2Map...), each
//! member's entitlements and their provisioning. Releasing a check-out, which depends on
//! the deployment, is in `release.rs`.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::http::Effect;
use crate::portal::client::{Portal, Root};
use crate::portal::envelope;
use crate::portal::listings::{self, paged};
use crate::portal::paging::ItemKey;
pub use crate::portal::release::{App, Deployment};
use crate::portal::url::path_segment;
use crate::portal::users::check_username;

/// The most users one provisionUserEntitlements request may name (the portal's limit).
pub const MAX_PROVISION_BATCH: usize = 25;

/// A license the organization bought: a listing with entitlements and their counts.
#[derive(Debug, Clone)]
pub struct License {
    pub item_id: String,
    pub title: String,
    /// Entitlement id and the number bought, in the portal's order.
    pub entitlements: Vec<(String, i64)>,
    /// The purchase as received.
    pub raw: Map<String, Value>,
}

impl License {
    fn from_purchase(raw: Map<String, Value>) -> Option<License> {
        let listing = raw.get("listing")?;
        let provision = raw.get("provision");
        let item_id = listing
            .get("itemId")
            .or_else(|| provision.and_then(|p| p.get("itemId")))?
            .as_str()?
            .to_owned();
        let title = listing
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(&item_id)
            .to_owned();
        let entitlements = match provision.and_then(|p| p.pointer("/orgEntitlements/entitlements"))
        {
            Some(Value::Object(counts)) => counts
                .iter()
                .map(|(id, count)| {
                    let num = count
                        .get("num")
                        .and_then(|n| n.as_i64().or_else(|| n.as_str()?.trim().parse().ok()))
                        .unwrap_or(0);
                    (id.clone(), num)
                })
                .collect(),
            _ => vec![],
        };
        Some(License {
            item_id,
            title,
            entitlements,
            raw,
        })
    }

    /// Ended purchases are left out, as the portal's own pages do.
    fn expired(&self, now_ms: i64) -> bool {
        let end = self
            .raw
            .get("provision")
            .and_then(|p| p.get("endDate"))
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        end > 0 && end < now_ms
    }

    /// The license's own spelling of an entitlement id given in any case.
    fn entitlement(&self, wanted: &str) -> Result<String> {
        let wanted = wanted.trim();
        self.entitlements
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(wanted))
            .map(|(id, _)| id.clone())
            .ok_or_else(|| {
                let ids: Vec<&str> = self
                    .entitlements
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect();
                Error::invalid(format!(
                    "{wanted:?} is not an entitlement of {}; its entitlements are: {}",
                    self.title,
                    ids.join(", ")
                ))
            })
    }

    pub(crate) fn entitlements_named(&self, wanted: &[String]) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(wanted.len());
        for w in wanted {
            let id = self.entitlement(w)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

/// One member's entitlements under a license.
#[derive(Debug, Clone)]
pub struct UserEntitlement {
    pub username: String,
    pub entitlements: Vec<String>,
    /// The app is checked out for offline use.
    pub disconnected: bool,
    pub last_login_ms: Option<i64>,
    pub raw: Map<String, Value>,
}

impl UserEntitlement {
    fn from_json(raw: Map<String, Value>) -> Option<UserEntitlement> {
        let username = raw.get("username")?.as_str()?.to_owned();
        let entitlements = texts(raw.get("entitlements"));
        let disconnected = flag(raw.get("disconnected"));
        let last_login_ms = raw
            .get("lastLogin")
            .and_then(Value::as_i64)
            .filter(|ms| *ms > 0);
        Some(UserEntitlement {
            username,
            entitlements,
            disconnected,
            last_login_ms,
            raw,
        })
    }
}

/// The text items of a JSON array (others are skipped); none for anything else.
fn texts(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => vec![],
    }
}

/// `true`, or the text "true" in any case.
fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A license's holder as planning reads them: only who, what and whether it is checked
/// out, read as [`UserEntitlement`] reads them.
#[derive(Debug, Deserialize)]
pub struct HolderRow {
    #[serde(default, deserialize_with = "listings::text")]
    username: Option<String>,
    #[serde(default)]
    entitlements: Option<Value>,
    #[serde(default)]
    disconnected: Option<Value>,
}

impl HolderRow {
    /// None for a row without a user name, which the listing refuses (see [`ItemKey`]).
    fn holder(self) -> Option<Holder> {
        Some(Holder {
            username: self.username?,
            entitlements: texts(self.entitlements.as_ref()),
            disconnected: flag(self.disconnected.as_ref()),
        })
    }
}

impl listings::Row for HolderRow {
    const KEY: ItemKey = ItemKey::HOLDERS;

    fn key(&self) -> Option<&str> {
        self.username.as_deref()
    }
}

/// A holder of a license: who, their entitlements, and whether it is checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub username: String,
    pub entitlements: Vec<String>,
    pub disconnected: bool,
}

/// Bought, assigned and left of one entitlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitlementCount {
    pub entitlement: String,
    pub total: i64,
    pub assigned: i64,
    pub remaining: i64,
}

/// The counts of every entitlement of `license`, from its members' entitlements.
pub fn entitlement_report(license: &License, users: &[UserEntitlement]) -> Vec<EntitlementCount> {
    license
        .entitlements
        .iter()
        .map(|(id, total)| {
            let assigned = users
                .iter()
                .filter(|u| u.entitlements.iter().any(|e| e.eq_ignore_ascii_case(id)))
                .count() as i64;
            EntitlementCount {
                entitlement: id.clone(),
                total: *total,
                assigned,
                remaining: total.saturating_sub(assigned).max(0),
            }
        })
        .collect()
}

pub(crate) fn sorted(items: &[String]) -> Vec<String> {
    let mut items = items.to_vec();
    items.sort();
    items
}

/// An error about the member or the request that sending each member alone would pin down.
pub(crate) fn per_member_error(err: &Error) -> bool {
    match err {
        Error::NotFound { .. } => true,
        Error::Server { code, .. } => matches!(code, Some(400 | 404 | 409)),
        _ => false,
    }
}

impl Portal {
    /// The organization's active purchases (`portals/self/purchases`), trials included.
    pub async fn licenses(&self) -> Result<Vec<License>> {
        let mut reply = self
            .call(
                Root::Sharing,
                "portals/self/purchases",
                &[("status", "active".into())],
                Effect::Read,
            )
            .await?;
        let now = now_ms();
        let mut licenses = Vec::new();
        for key in ["purchases", "trials"] {
            if let Some(Value::Array(items)) = reply.remove(key) {
                for item in items {
                    if let Value::Object(purchase) = item {
                        match License::from_purchase(purchase) {
                            Some(license) if !license.expired(now) => licenses.push(license),
                            Some(_) => {}
                            None => log::debug!("a purchase without a listing was left out"),
                        }
                    }
                }
            }
        }
        Ok(licenses)
    }

    /// A license by title ("ArcGIS Pro"), friendly name ("pro", "drone2map", "allsource")
    /// or listing item id.
    pub async fn license(&self, name: &str) -> Result<License> {
        let wanted = name.trim();
        if wanted.is_empty() {
            return Err(Error::invalid("the license name is empty"));
        }
        let title: &str = App::parse(wanted).map_or(wanted, |app| app.title());
        let mut licenses = self.licenses().await?;
        match licenses.iter().position(|l| {
            l.title.eq_ignore_ascii_case(title) || l.item_id.eq_ignore_ascii_case(wanted)
        }) {
            Some(i) => Ok(licenses.swap_remove(i)),
            None => {
                let titles: Vec<&str> = licenses.iter().map(|l| l.title.as_str()).collect();
                Err(Error::NotFound {
                    url: self.url().to_owned(),
                    message: format!(
                        "the organization has no license {name:?}; its licenses are: {}",
                        if titles.is_empty() {
                            "none".to_owned()
                        } else {
                            titles.join(", ")
                        }
                    ),
                })
            }
        }
    }

    /// Every member's entitlements under a license; pages after the first are fetched
    /// concurrently.
    pub async fn user_entitlements(&self, item_id: &str) -> Result<Vec<UserEntitlement>> {
        let path = format!(
            "content/listings/{}/userEntitlements",
            path_segment(item_id)
        );
        let items = paged(self, &path, "userEntitlements", ItemKey::HOLDERS).await?;
        Ok(items
            .into_iter()
            .filter_map(UserEntitlement::from_json)
            .collect())
    }

    /// Who holds what under a license, as planning needs it: [`Portal::user_entitlements`]
    /// without each holder's whole record.
    pub async fn holders(&self, item_id: &str) -> Result<Vec<Holder>> {
        let path = format!(
            "content/listings/{}/userEntitlements",
            path_segment(item_id)
        );
        let rows: Vec<HolderRow> = listings::rows(self, &path, &[]).await?;
        Ok(rows.into_iter().filter_map(HolderRow::holder).collect())
    }

    /// One member's entitlements under a license; None when they hold none.
    pub async fn user_entitlement(
        &self,
        item_id: &str,
        username: &str,
    ) -> Result<Option<UserEntitlement>> {
        check_username(username)?;
        let path = format!(
            "content/listings/{}/userEntitlements/{}",
            path_segment(item_id),
            path_segment(username)
        );
        let mut reply = self.call(Root::Sharing, &path, &[], Effect::Read).await?;
        // `{"userEntitlements": {}}` says "none"; a reply without the key says nothing, and
        // must not pass for "none" (a re-read would take it as a revoke or release done).
        match reply.remove("userEntitlements") {
            Some(Value::Object(one)) => Ok(UserEntitlement::from_json(one)),
            _ => Err(envelope::lacking(
                self.url(),
                &reply,
                format!("{username}'s entitlements reply has no userEntitlements object"),
            )),
        }
    }

    /// provisionUserEntitlements: set the entitlements of up to 25 members in one request
    /// (an empty list revokes).
    pub(crate) async fn provision_user_entitlements(
        &self,
        item_id: &str,
        usernames: &[String],
        entitlements: &[String],
    ) -> Result<()> {
        if usernames.is_empty() || usernames.len() > MAX_PROVISION_BATCH {
            return Err(Error::invalid(format!(
                "provisionUserEntitlements takes 1 to {MAX_PROVISION_BATCH} users, not {}",
                usernames.len()
            )));
        }
        let body = serde_json::json!({"users": usernames, "entitlements": entitlements});
        let path = format!(
            "content/listings/{}/provisionUserEntitlements",
            path_segment(item_id)
        );
        let reply = self
            .call(
                Root::Sharing,
                &path,
                &[
                    ("userEntitlements", body.to_string()),
                    ("suppressCustomerEmail", "true".into()),
                ],
                Effect::Idempotent,
            )
            .await?;
        envelope::success(
            self.url(),
            &reply,
            "the portal did not change the entitlements",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_are_read_as_whole_records_are() {
        let page: listings::RowsPage<HolderRow> = serde_json::from_str(
            r#"{"total": 3, "userEntitlements": [
                {"username": "ann", "entitlements": ["desktopAdvN", 7, "3DAnalystN"],
                 "disconnected": "TRUE", "lastLogin": 1, "extra": {"a": [1]}},
                {"username": 5, "entitlements": ["desktopBasicN"]},
                {"username": "bob", "entitlements": "desktopAdvN", "disconnected": 1}
            ]}"#,
        )
        .unwrap();
        let rows: Vec<Value> = serde_json::from_str::<Map<String, Value>>(
            r#"{"users": [
                {"username": "ann", "entitlements": ["desktopAdvN", 7, "3DAnalystN"],
                 "disconnected": "TRUE", "lastLogin": 1, "extra": {"a": [1]}},
                {"username": 5, "entitlements": ["desktopBasicN"]},
                {"username": "bob", "entitlements": "desktopAdvN", "disconnected": 1}
            ]}"#,
        )
        .unwrap()["users"]
            .as_array()
            .unwrap()
            .clone();
        let whole: Vec<Holder> = rows
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(raw) => UserEntitlement::from_json(raw),
                _ => None,
            })
            .map(|u| Holder {
                username: u.username,
                entitlements: u.entitlements,
                disconnected: u.disconnected,
            })
            .collect();
        let read: Vec<Holder> = page
            .rows
            .into_iter()
            .filter_map(HolderRow::holder)
            .collect();
        assert_eq!(read, whole);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].entitlements, ["desktopAdvN", "3DAnalystN"]);
        assert!(read[0].disconnected);
        assert!(read[1].entitlements.is_empty() && !read[1].disconnected);
    }

    #[test]
    fn purchases_are_read_tolerantly() {
        let raw: Map<String, Value> = serde_json::from_str(
            r#"{"listing": {"itemId": "abc", "title": "ArcGIS Pro"},
                "provision": {"endDate": -1, "orgEntitlements": {"entitlements":
                    {"desktopAdvN": {"num": 5}, "3DAnalystN": {"num": "2"}}}},
                "unknown": 1}"#,
        )
        .unwrap();
        let license = License::from_purchase(raw).unwrap();
        assert_eq!(license.title, "ArcGIS Pro");
        assert!(license.entitlements.contains(&("3DAnalystN".into(), 2)));
        assert_eq!(license.entitlement("desktopadvn").unwrap(), "desktopAdvN");
        let err = license.entitlement("desktopBasicN").unwrap_err();
        assert!(err.to_string().contains("desktopAdvN"), "{err}");
        assert!(!license.expired(now_ms()));
        assert!(License::from_purchase(Map::new()).is_none());
    }
}
