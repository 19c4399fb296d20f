//! Members of the organization: records, lookup, listing, user types, roles, and changing them
//! one at a time or in bulk.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::bulk::Reread;
use crate::error::{Error, Result};
use crate::http::Effect;
use crate::portal::client::{Portal, Root};
use crate::portal::envelope::{self, number};
use crate::portal::listings;
use crate::portal::paging::ItemKey;
pub use crate::portal::roles::{is_base_role, resolve_role, Role};
use crate::portal::url::path_segment;
pub(crate) use crate::portal::user_types::squash;
pub use crate::portal::user_types::{resolve_user_type, UserType, MAX_USER_TYPE_BATCH};

/// A member as [`Portal::member_rows`] reads them. A field that comes as something other
/// than text is None, as it would be read from the whole member.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberRow {
    #[serde(default, deserialize_with = "listings::text")]
    pub username: Option<String>,
    #[serde(
        rename = "userLicenseTypeId",
        default,
        deserialize_with = "listings::text"
    )]
    pub user_type: Option<String>,
    #[serde(default, deserialize_with = "listings::text")]
    pub role: Option<String>,
    #[serde(rename = "roleId", default, deserialize_with = "listings::text")]
    role_id: Option<String>,
    /// "1" or "2" (sent as text, sometimes as a number).
    #[serde(default)]
    level: Option<Value>,
    /// ms since 1970; -1 (or missing) for never.
    #[serde(rename = "lastLogin", default)]
    last_login: Option<Value>,
}

impl MemberRow {
    /// When the member last signed in (ms since 1970); None for never.
    pub fn last_login_ms(&self) -> Option<i64> {
        number(self.last_login.as_ref()).filter(|ms| *ms > 0)
    }

    /// The member's level, 1 or 2.
    pub fn level(&self) -> Option<u8> {
        match number(self.level.as_ref()) {
            Some(1) => Some(1),
            Some(2) => Some(2),
            _ => None,
        }
    }

    /// The role id: a custom role's id, or the built-in role's name (as [`User::role_id`]).
    pub fn role_id(&self) -> Option<&str> {
        self.role_id.as_deref().or(self.role.as_deref())
    }
}

/// A search for members as a Portal listing: its path, its fields (without `start` and
/// `num`), the key its items come under, and the most members wanted.
#[derive(Debug, Clone, Default)]
pub struct MemberSearch {
    pub path: &'static str,
    pub params: Vec<(&'static str, String)>,
    pub list_key: &'static str,
    pub max: Option<usize>,
    /// Keep only the members whose role id is exactly this, then at most `max_kept` of
    /// them ([`MemberSearch::kept`]): set for a built-in role (`org_user`...), which a
    /// portal's filter may also match members of the custom roles based on it (Viewer,
    /// Data Editor), whose roles read otherwise. The listing is then read whole.
    pub only_role: Option<String>,
    pub max_kept: Option<usize>,
}

impl MemberSearch {
    /// The members of `listed` this search keeps (see `only_role`), in order.
    pub fn kept<T>(&self, listed: Vec<T>, role_id: impl Fn(&T) -> Option<&str>) -> Vec<T> {
        let Some(only) = &self.only_role else {
            return listed;
        };
        let kept = listed
            .into_iter()
            .filter(|item| role_id(item) == Some(only));
        kept.take(self.max_kept.unwrap_or(usize::MAX)).collect()
    }

    /// The same search for the members whose user name is `part`, or begins with it when
    /// `begins`: a part of a search too large for the portal's window (see
    /// [`crate::portal::paging::search`]). None for a listing that takes no query.
    pub fn narrowed(&self, part: &str, begins: bool) -> Option<MemberSearch> {
        let (_, q) = self.params.iter().find(|(key, _)| *key == "q")?;
        // Characters the query syntax gives a meaning are escaped with a backslash.
        let mut name = String::new();
        for c in part.chars() {
            if "+-&|!(){}[]^\"~*?:\\/ ".contains(c) {
                name.push('\\');
            }
            name.push(c);
        }
        let q = format!("({q}) AND username:{name}{}", if begins { "*" } else { "" });
        let mut narrowed = self.clone();
        narrowed.params = self
            .params
            .iter()
            .map(|(key, value)| {
                (
                    *key,
                    if *key == "q" {
                        q.clone()
                    } else {
                        value.clone()
                    },
                )
            })
            .collect();
        narrowed.max = None;
        Some(narrowed)
    }
}

impl listings::Row for MemberRow {
    const KEY: ItemKey = ItemKey::MEMBERS;

    fn key(&self) -> Option<&str> {
        self.username.as_deref()
    }
}

/// How the member listing (`portals/self/users`) is asked for: by user name, without the
/// portal's system accounts.
fn member_listing_order() -> Vec<(&'static str, String)> {
    vec![
        ("sortField", "username".to_owned()),
        ("sortOrder", "asc".to_owned()),
        ("excludeSystemUsers", "true".to_owned()),
    ]
}

/// A member of the organization, as the portal described it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    raw: Map<String, Value>,
}

impl User {
    pub fn from_json(raw: Map<String, Value>) -> User {
        User { raw }
    }

    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }

    pub fn into_json(self) -> Map<String, Value> {
        self.raw
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        self.raw.get(key).and_then(Value::as_str)
    }

    pub fn username(&self) -> &str {
        self.text("username").unwrap_or("")
    }

    /// `userLicenseTypeId`: the user type.
    pub fn user_type(&self) -> Option<&str> {
        self.text("userLicenseTypeId")
    }

    pub fn role(&self) -> Option<&str> {
        self.text("role")
    }

    /// The role id: a custom role's id, or the built-in role's name.
    pub fn role_id(&self) -> Option<&str> {
        self.text("roleId").or_else(|| self.role())
    }

    pub fn level(&self) -> Option<i64> {
        number(self.raw.get("level"))
    }

    /// Last sign-in, ms since 1970; None for never (-1) or not reported.
    pub fn last_login_ms(&self) -> Option<i64> {
        number(self.raw.get("lastLogin")).filter(|ms| *ms > 0)
    }

    pub fn time_ms(&self, key: &str) -> Option<i64> {
        number(self.raw.get(key)).filter(|ms| *ms > 0)
    }

    pub fn disabled(&self) -> bool {
        self.raw
            .get("disabled")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.raw.insert(key.to_owned(), value);
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// A search (`community/users` q syntax); None lists the organization's members.
    pub query: Option<String>,
    /// Only members of this user type (an id).
    pub user_type: Option<String>,
    /// Only members with this role (an id or built-in role name).
    pub role: Option<String>,
    pub max_users: Option<usize>,
}

/// A member to change, and what they are now when the caller knows it (from a `User`
/// listed earlier): planning uses it only when it cannot read the members itself.
#[derive(Debug, Clone)]
pub struct Member {
    pub username: String,
    pub user_type: Option<String>,
    pub role: Option<String>,
}

impl Member {
    pub fn named(username: impl Into<String>) -> Member {
        Member {
            username: username.into(),
            user_type: None,
            role: None,
        }
    }
}

/// Longer than any user name a portal makes (Online allows 128 characters; names from an
/// identity provider are e-mail addresses, at most 254).
const MAX_USERNAME_CHARS: usize = 1024;

pub(crate) fn check_username(username: &str) -> Result<()> {
    if username.trim().is_empty() {
        return Err(Error::invalid("the user name is empty"));
    }
    // These would change the URL's path instead of naming a member ("community/users/.."
    // is "community/").
    if username == "." || username == ".." {
        return Err(Error::invalid(format!("{username:?} is not a user name")));
    }
    let chars = username.chars().count();
    if chars > MAX_USERNAME_CHARS {
        return Err(Error::invalid(format!(
            "a user name of {chars} characters is longer than any portal allows (at most {MAX_USERNAME_CHARS})"
        )));
    }
    if username.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "the user name {username:?} holds control characters"
        )));
    }
    Ok(())
}

impl Portal {
    /// A member by user name (or user id).
    pub async fn get_user(&self, username: &str) -> Result<User> {
        check_username(username)?;
        let path = format!("community/users/{}", path_segment(username));
        let reply = self.call(Root::Sharing, &path, &[], Effect::Read).await?;
        if reply.get("username").is_none() {
            return Err(Error::NotFound {
                url: self.url().to_owned(),
                message: format!("the portal has no user {username:?}"),
            });
        }
        Ok(User::from_json(reply))
    }

    /// The signed-in user.
    pub async fn me(&self) -> Result<User> {
        if !self.is_signed_in() {
            return Err(Error::invalid(
                "no one is signed in: pass username= and password=, token=, client_id= or a \
                 client certificate (cert_file=)",
            ));
        }
        let reply = self
            .call(Root::Sharing, "community/self", &[], Effect::Read)
            .await?;
        Ok(User::from_json(reply))
    }

    /// Every member's user name, user type and role, read without the rest of each member:
    /// what planning a change needs of the whole organization, at a fraction of the cost
    /// of [`Portal::search_users`] (a member of 20 fields is read as 3). Checked as every
    /// listing is: each row has its user name, once.
    pub async fn member_rows(&self) -> Result<Vec<MemberRow>> {
        listings::rows(self, "portals/self/users", &member_listing_order()).await
    }

    /// Members, in the server's order (by user name).
    pub async fn search_users(&self, query: &UserQuery) -> Result<Vec<User>> {
        let Some(search) = self.member_search(query).await? else {
            return Ok(vec![]);
        };
        let found = listings::searched(self, &search).await?;
        let users = found.into_iter().map(User::from_json).collect();
        Ok(search.kept(users, User::role_id))
    }

    /// The listing that answers `query` (None when it asks for no member at all); read by
    /// [`Portal::search_users`], and by the Python binding straight into Python objects.
    pub async fn member_search(&self, query: &UserQuery) -> Result<Option<MemberSearch>> {
        if query.max_users == Some(0) {
            return Ok(None);
        }
        let mut params: Vec<(&'static str, String)> = Vec::new();
        let (path, key) = match &query.query {
            None => {
                params.extend(member_listing_order());
                if let Some(user_type) = &query.user_type {
                    params.push(("userLicenseType", user_type.clone()));
                }
                if let Some(role) = &query.role {
                    params.push(("role", role.clone()));
                }
                ("portals/self/users", "users")
            }
            Some(text) => {
                let org = self.org_id().await?;
                let mut q = format!("({text}) AND orgid:{org}");
                if let Some(user_type) = &query.user_type {
                    q.push_str(&format!(" AND userlicensetype:{user_type}"));
                }
                if let Some(role) = &query.role {
                    q.push_str(&format!(" AND role:{role}"));
                }
                params.push(("q", q));
                params.push(("sortField", "username".into()));
                params.push(("sortOrder", "asc".into()));
                ("community/users", "results")
            }
        };
        let only_role = query.role.clone().filter(|role| is_base_role(role));
        Ok(Some(MemberSearch {
            path,
            params,
            list_key: key,
            max: query.max_users.filter(|_| only_role.is_none()),
            only_role,
            max_kept: query.max_users,
        }))
    }

    /// updateUserRole: one member's role (an id).
    pub(crate) async fn update_user_role(&self, username: &str, role: &str) -> Result<()> {
        check_username(username)?;
        let reply = self
            .call(
                Root::Sharing,
                "portals/self/updateUserRole",
                &[("user", username.to_owned()), ("role", role.to_owned())],
                Effect::Idempotent,
            )
            .await?;
        envelope::success(self.url(), &reply, "the portal did not change the role")
    }

    /// updateUserLevel: one member's level (1 or 2, see `plan::check_level`), for portals
    /// before 10.7; newer ones derive it from the user type.
    pub(crate) async fn update_user_level(&self, username: &str, level: u8) -> Result<()> {
        check_username(username)?;
        let reply = self
            .call(
                Root::Sharing,
                "portals/self/updateUserLevel",
                // The documentation says userName, the official client sends user: send both.
                &[
                    ("user", username.to_owned()),
                    ("userName", username.to_owned()),
                    ("level", level.to_string()),
                ],
                Effect::Idempotent,
            )
            .await?;
        envelope::success(self.url(), &reply, "the portal did not change the level")
    }

    pub(crate) async fn reread_member(
        &self,
        username: &str,
        is_done: impl Fn(&User) -> std::result::Result<(), String>,
    ) -> Reread {
        match self.get_user(username).await {
            Ok(user) => match is_done(&user) {
                Ok(()) => Reread::Done,
                Err(state) => Reread::NotDone(state),
            },
            Err(err) => Reread::Failed(err),
        }
    }
}

/// Whether a member re-read has the level asked for.
pub(crate) fn has_level(wanted: u8) -> impl Fn(&User) -> std::result::Result<(), String> {
    move |user| match user.level() {
        Some(now) if now == i64::from(wanted) => Ok(()),
        now => Err(format!(
            "the member unchanged: their level is {}",
            now.map_or("not stated".to_owned(), |n| n.to_string())
        )),
    }
}

/// The privileges a level 1 member may have, on a portal before user types (10.7). Esri's
/// updateUserLevel documentation lists nine; the ninth, cut off where we could read it, is
/// taken to be `premium:user:featurereport` (unverified). The built-in roles (administrator,
/// publisher, user) are level 2 only.
pub const LEVEL_1_PRIVILEGES: &[&str] = &[
    "portal:user:joinGroup",
    "portal:user:viewOrgGroups",
    "portal:user:viewOrgItems",
    "portal:user:viewOrgUsers",
    "premium:user:geocode",
    "premium:user:networkanalysis",
    "premium:user:demographics",
    "premium:user:elevation",
    "premium:user:featurereport",
];

/// Whether a member re-read after a lost answer has the role `wanted`, or what they have.
pub(crate) fn has_role(wanted: &str) -> impl Fn(&User) -> std::result::Result<(), String> + '_ {
    move |user| match user.role_id() {
        Some(now) if now == wanted => Ok(()),
        now => Err(format!(
            "the member unchanged: their role is {}",
            now.unwrap_or("not stated")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_rows_read_fields_of_another_kind_as_none() {
        let page: listings::RowsPage<MemberRow> = serde_json::from_str(
            r#"{"total": "3", "start": 1, "users": [
                {"username": "ann", "userLicenseTypeId": "creatorUT", "role": "org_user",
                 "roleId": "abc123", "groups": [{"id": 1}], "thumbnail": null},
                {"username": 5, "role": null, "userLicenseTypeId": ["a", {"b": 1}]},
                {"username": "bob", "role": "org_admin", "userLicenseTypeId": {"id": "x"}}
            ]}"#,
        )
        .unwrap();
        let rows = &page.rows;
        assert_eq!(rows[0].username.as_deref(), Some("ann"));
        assert_eq!(rows[0].role_id(), Some("abc123"));
        assert_eq!(rows[1].username, None);
        assert_eq!(rows[1].user_type, None);
        assert_eq!(rows[2].role_id(), Some("org_admin"));
        assert_eq!(rows[2].user_type, None);
        assert_eq!(number(page.total.as_ref()), Some(3));
    }

    #[test]
    fn a_search_by_a_base_role_keeps_that_role_only_then_cuts() {
        let listed = || {
            vec![
                ("v", Some("iAAAAAAAAAAAAAAA")),
                ("a", Some("org_user")),
                ("n", None),
                ("b", Some("org_user")),
            ]
        };
        let by_role = MemberSearch {
            only_role: Some("org_user".into()),
            max_kept: Some(1),
            ..MemberSearch::default()
        };
        assert_eq!(
            by_role.kept(listed(), |(_, role)| *role),
            [("a", Some("org_user"))]
        );
        assert_eq!(
            MemberSearch::default().kept(listed(), |(_, role)| *role),
            listed()
        );
    }
}
