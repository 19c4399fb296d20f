//! The member endpoints of the sharing API: listing and searching members, one member, the
//! user types and roles on offer, and changing a member's user type, role or level.

use std::sync::MutexGuard;

use serde_json::{json, Value};

use super::licenses;
use super::org::{
    level_of, role_def, user_type_def, MemberView, PortalMember, PortalState, UserTypeDef, ROLES,
    USER_TYPES,
};
use super::query;
use super::wire::{
    error_answer, formatted, next_start, only_post, page, path_segment, search_page, user_missing,
    window, Answer, Api, PortalRequest, JSON, SEARCH_WINDOW,
};
use super::PortalSite;
use crate::clock::now_ms;
use crate::portal::versions::Feature;

/// The most users one updateUserLicenseType request may name.
pub const MAX_BATCH: usize = 100;

/// The users named in `users`: a JSON array, a comma-separated list, or repeated keys.
fn users_param(params: &[(String, String)]) -> Vec<String> {
    let mut users = Vec::new();
    for (key, value) in params {
        if !key.eq_ignore_ascii_case("users") {
            continue;
        }
        let value = value.trim();
        if value.starts_with('[') {
            if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(value) {
                users.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
                continue;
            }
        }
        users.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    users
}

/// A page of `portals/self/users`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct UsersPage<'a> {
    total: usize,
    start: usize,
    num: usize,
    next_start: i64,
    users: Vec<MemberView<'a>>,
}

impl PortalSite {
    pub(super) fn roles(&self, request: &PortalRequest<'_>) -> Answer {
        let custom: Vec<Value> = ROLES
            .iter()
            .filter(|r| r.id != r.role)
            .map(|r| {
                json!({
                    "id": r.id,
                    "name": r.name,
                    "description": format!("{} role", r.name),
                    "privileges": r.privileges,
                })
            })
            .collect();
        formatted(request, &page(request, custom, "roles", |v| v))
    }

    pub(super) fn user_types(&self, request: &PortalRequest<'_>) -> Answer {
        let types: Vec<Value> = USER_TYPES
            .iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "name": t.name,
                    "description": format!("The {} user type", t.name),
                    "level": level_of(t.id),
                    "apps": t.apps,
                })
            })
            .collect();
        formatted(request, &page(request, types, "userLicenseTypes", |v| v))
    }

    pub(super) fn list_users(&self, request: &PortalRequest<'_>) -> Answer {
        let (start, num) = window(request);
        // The page's members are copied out so that JSON is made without holding the lock:
        // concurrent page requests then run side by side.
        let (total, members) = {
            let state = self.state();
            let user_type = request.param("userLicenseType").filter(|s| !s.is_empty());
            let role = request.param("role").filter(|s| !s.is_empty());
            let provider = request.param("provider").filter(|s| !s.is_empty());
            let mut chosen: Vec<&PortalMember> = state
                .members
                .iter()
                .filter(|m| user_type.is_none_or(|t| m.user_type.eq_ignore_ascii_case(t)))
                .filter(|m| {
                    role.is_none_or(|r| {
                        m.role_id.eq_ignore_ascii_case(r) || m.role().role.eq_ignore_ascii_case(r)
                    })
                })
                .filter(|_| provider.is_none_or(|p| p.eq_ignore_ascii_case("arcgis")))
                .collect();
            sort_members(
                &mut chosen,
                request.param("sortField"),
                request.param("sortOrder"),
            );
            let total = chosen.len();
            let window: Vec<PortalMember> = chosen
                .into_iter()
                .skip(start - 1)
                .take(num)
                .cloned()
                .collect();
            (total, window)
        };
        let (next, num) = next_start(total, start, num, members.len());
        let page = UsersPage {
            total,
            start,
            num,
            next_start: next,
            users: members.iter().map(|m| m.view(true)).collect(),
        };
        if request
            .param("f")
            .is_some_and(|f| f.eq_ignore_ascii_case("json"))
        {
            // The common case, written straight from the members.
            return (200, JSON, serde_json::to_string(&page).unwrap_or_default());
        }
        formatted(request, &serde_json::to_value(&page).unwrap_or(Value::Null))
    }

    /// A member search: `community/users`, and the organization's own
    /// `portals/self/users/search` (administrators only). `q` is read as real portals read
    /// it ([`query`]); the filter parameters `userLicenseType`, `role` and `provider` (each
    /// a comma-separated list) narrow it: a member must match one of them, or all of them
    /// with `applyFiltersIntersection=true` (what the parameter's name says; unverified).
    /// Only the first 10,000 results can be paged through, as on a real portal.
    pub(super) fn search(&self, request: &PortalRequest<'_>, caller: usize) -> Answer {
        let q = match query::parse(request.param("q").unwrap_or("")) {
            Ok(q) => q,
            Err(why) => return error_answer(Api::Sharing, 400, &why, &[]),
        };
        let filters: Vec<(&str, Vec<String>)> = ["userLicenseType", "role", "provider"]
            .into_iter()
            .filter_map(|name| {
                let values: Vec<String> = request
                    .param(name)?
                    .split(',')
                    .map(|v| v.trim().to_lowercase())
                    .filter(|v| !v.is_empty())
                    .collect();
                (!values.is_empty()).then_some((name, values))
            })
            .collect();
        let filter = match request.param("filter").filter(|f| !f.trim().is_empty()) {
            None => None,
            Some(text) => match query::Filter::parse(text) {
                Ok(filter) => Some(filter),
                Err(why) => return error_answer(Api::Sharing, 400, &why, &[]),
            },
        };
        let intersection = request
            .param("applyFiltersIntersection")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let state = self.state();
        let full = state.members[caller].is_admin();
        let passes = |m: &PortalMember| {
            if filters.is_empty() {
                return true;
            }
            let role = m.role();
            let mut each = filters.iter().map(|(name, values)| {
                let have: &[&str] = match *name {
                    "userLicenseType" => &[m.user_type.as_str()],
                    "role" => &[role.id, role.role],
                    _ => &["arcgis"],
                };
                values
                    .iter()
                    .any(|v| have.iter().any(|h| h.eq_ignore_ascii_case(v)))
            });
            if intersection {
                each.all(|ok| ok)
            } else {
                each.any(|ok| ok)
            }
        };
        let mut chosen: Vec<&PortalMember> = state
            .members
            .iter()
            .filter(|m| passes(m) && q.matches(m, full))
            .filter(|m| filter.as_ref().is_none_or(|f| f.matches(m, full)))
            .collect();
        sort_members(
            &mut chosen,
            request.param("sortField"),
            request.param("sortOrder"),
        );
        let mut reply = search_page(request, chosen, "results", |m| m.to_json(full));
        // The organization search counts "up to 10,000, then 10,000 is returned" (Esri's
        // Search Users page); `community/users` states no such cap.
        if request.path.ends_with("/users/search") {
            let total = reply["total"].as_u64().unwrap_or(0);
            reply["total"] = json!(total.min(SEARCH_WINDOW as u64));
        }
        // Search replies repeat the query, as Esri's examples show.
        reply["query"] = json!(request.param("q").unwrap_or(""));
        formatted(request, &reply)
    }

    pub(super) fn one_user(
        &self,
        request: &PortalRequest<'_>,
        rest: &str,
    ) -> std::result::Result<Answer, Answer> {
        let caller = self.signed_in(request, Api::Sharing)?;
        let (name, tail) = match rest.split_once('/') {
            Some((name, tail)) => (name, Some(tail)),
            None => (rest, None),
        };
        let name = path_segment(name);
        let state = self.state();
        let Some(i) = state.find(&name) else {
            return Ok(user_missing());
        };
        let member = &state.members[i];
        let full = caller == i || state.members[caller].is_admin();
        match tail {
            None => Ok(formatted(request, &member.record(full))),
            // The app bundles assigned to the member: the sandbox has none.
            Some("appbundles") if self.options.serves(Feature::Counts) => Ok(formatted(
                request,
                &page(request, Vec::<Value>::new(), "appBundles", |v| v),
            )),
            Some("userlicensetype") if self.options.serves(Feature::UserTypes) => {
                let def = user_type_def(&member.user_type).unwrap_or(&USER_TYPES[0]);
                let apps = licenses::type_apps(def, &member.licenses);
                Ok(formatted(
                    request,
                    &json!({"id": def.id, "name": def.name, "apps": apps}),
                ))
            }
            Some(_) => Ok(error_answer(
                Api::Sharing,
                400,
                "Invalid URL",
                &["Invalid URL"],
            )),
        }
    }

    /// `portals/self/users/counts`: members per role, user type, app or app bundle (`type`),
    /// paged as `{"key", "count"}` results in key order. The sandbox assigns no apps or
    /// bundles outside user types, so those counts are empty.
    pub(super) fn user_counts(&self, request: &PortalRequest<'_>) -> Answer {
        let kind = request
            .param("type")
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let state = self.state();
        let key: fn(&PortalMember) -> &str = match kind.as_str() {
            "role" => |m| m.role().id,
            "userlicensetype" if self.options.serves(Feature::UserTypes) => {
                |m| m.user_type.as_str()
            }
            "app" | "appbundle" => |_| "",
            _ => {
                return error_answer(
                    Api::Sharing,
                    400,
                    &format!("Invalid type '{kind}'."),
                    &["type must be one of role, userLicenseType, app, appBundle."],
                )
            }
        };
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for member in &state.members {
            let k = key(member);
            if !k.is_empty() {
                *counts.entry(k).or_insert(0) += 1;
            }
        }
        let results: Vec<Value> = counts
            .into_iter()
            .map(|(key, count)| json!({"key": key, "count": count}))
            .collect();
        formatted(request, &page(request, results, "results", |v| v))
    }

    pub(super) fn update_license_type(
        &self,
        request: &PortalRequest<'_>,
    ) -> std::result::Result<Answer, Answer> {
        self.admin(request, Api::Sharing)?;
        only_post(request, Api::Sharing)?;
        let users = users_param(request.params);
        let wanted = request.param("userLicenseType").unwrap_or("").trim();
        let Some(target) = user_type_def(wanted) else {
            return Ok(error_answer(
                Api::Sharing,
                400,
                &format!("Invalid user type '{wanted}'."),
                &["userLicenseType must be the id of one of the organization's user types."],
            ));
        };
        if users.is_empty() {
            return Ok(error_answer(
                Api::Sharing,
                400,
                "'users' must be specified.",
                &[],
            ));
        }
        if users.len() > MAX_BATCH {
            return Ok(error_answer(
                Api::Sharing,
                400,
                &format!("Too many users: at most {MAX_BATCH} may be updated in one request."),
                &[],
            ));
        }
        let mut state = self.state();
        let mut results = Vec::with_capacity(users.len());
        for name in &users {
            let refusal = match state.find(name) {
                None => Some("User does not exist or is inaccessible.".to_owned()),
                Some(i) => self.change_user_type(&mut state, i, target).err(),
            };
            let shown = state
                .find(name)
                .map_or(name.clone(), |i| state.members[i].username.clone());
            results.push(match refusal {
                None => json!({"username": shown, "status": true}),
                Some(message) => json!({"username": shown, "status": false, "error": {"code": 400, "message": message}}),
            });
        }
        Ok(formatted(request, &json!({"results": results})))
    }

    fn change_user_type(
        &self,
        state: &mut PortalState,
        i: usize,
        target: &'static UserTypeDef,
    ) -> std::result::Result<(), String> {
        let member = &state.members[i];
        if member.user_type == target.id {
            return Ok(());
        }
        if let Some(app) = member.offline.first() {
            return Err(format!(
                "Unable to change the user type of '{}': their {} license is checked out for offline use. Release the license first.",
                member.username,
                licenses::app_title(app)
            ));
        }
        let role = member.role();
        if role.rank > target.max_rank {
            return Err(format!(
                "The role '{}' of '{}' is not compatible with the user type '{}'. Change the role first.",
                role.name, member.username, target.name
            ));
        }
        let used = state.in_use(target.id);
        let seats = state.seats.get(target.id).copied().unwrap_or(0);
        if used >= seats {
            return Err(format!(
                "No more licenses are available for the user type '{}' ({used} of {seats} in use).",
                target.name
            ));
        }
        state.set_user_type(i, target.id);
        Ok(())
    }

    /// The member that a change of one member names (`user`, or `username`), once the caller
    /// is known to be an administrator and the request a POST.
    fn member_to_change(
        &self,
        request: &PortalRequest<'_>,
    ) -> std::result::Result<(MutexGuard<'_, PortalState>, usize), Answer> {
        self.admin(request, Api::Sharing)?;
        only_post(request, Api::Sharing)?;
        let name = request
            .param("user")
            .or(request.param("username"))
            .unwrap_or("");
        let state = self.state();
        match state.find(name) {
            Some(i) => Ok((state, i)),
            None => Err(user_missing()),
        }
    }

    pub(super) fn update_role(
        &self,
        request: &PortalRequest<'_>,
    ) -> std::result::Result<Answer, Answer> {
        let (mut state, i) = self.member_to_change(request)?;
        let wanted = request.param("role").unwrap_or("").trim();
        let Some(role) = role_def(wanted) else {
            return Ok(error_answer(
                Api::Sharing,
                400,
                &format!("Invalid role '{wanted}'."),
                &[],
            ));
        };
        let member = &mut state.members[i];
        // Before user types the level limits the role; after, the user type does.
        let refusal = if !self.options.serves(Feature::UserTypes) {
            (!role.fits_level(member.level())).then(|| {
                format!(
                    "The role '{}' cannot be assigned to '{}', a level {} member: only custom roles with level 1 privileges can.",
                    role.name,
                    member.username,
                    member.level()
                )
            })
        } else {
            let user_type = user_type_def(&member.user_type).unwrap_or(&USER_TYPES[0]);
            (role.rank > user_type.max_rank).then(|| {
                format!(
                    "The role '{}' is not compatible with the user type '{}' of '{}'.",
                    role.name, user_type.name, member.username
                )
            })
        };
        if let Some(message) = refusal {
            return Ok(error_answer(Api::Sharing, 400, &message, &[]));
        }
        member.role_id = role.id.into();
        member.modified = now_ms();
        Ok(changed(request, &member.username))
    }

    pub(super) fn update_level(
        &self,
        request: &PortalRequest<'_>,
    ) -> std::result::Result<Answer, Answer> {
        let (mut state, i) = self.member_to_change(request)?;
        let level = match request.param("level").unwrap_or("").trim() {
            "1" => "1",
            "2" => "2",
            other => {
                return Ok(error_answer(
                    Api::Sharing,
                    400,
                    &format!("Invalid level '{other}'."),
                    &["level must be 1 or 2."],
                ))
            }
        };
        if !self.options.serves(Feature::UserTypes) {
            let member = &state.members[i];
            if member.level() == level {
                return Ok(changed(request, &member.username));
            }
            let role = member.role();
            if !role.fits_level(level) {
                return Ok(error_answer(
                    Api::Sharing,
                    400,
                    &format!(
                        "Unable to update the level of '{}': their role '{}' is not a level {level} role. Change the role first.",
                        member.username, role.name
                    ),
                    &[],
                ));
            }
            let used = state.in_level(level);
            let seats = state.level_seats.get(level).copied().unwrap_or(0);
            if used >= seats {
                return Ok(error_answer(
                    Api::Sharing,
                    400,
                    &format!(
                        "Unable to update the level of '{}': the organization has reached its maximum number of level {level} members ({used} of {seats}).",
                        member.username
                    ),
                    &[],
                ));
            }
            state.set_level(i, level);
            return Ok(changed(request, &state.members[i].username));
        }
        let member = &state.members[i];
        if member.level() != level {
            return Ok(error_answer(
                Api::Sharing,
                400,
                "The level of a user is set by their user type on this portal.",
                &["Change the user type instead."],
            ));
        }
        Ok(changed(request, &member.username))
    }
}

/// The reply to a change of one member.
fn changed(request: &PortalRequest<'_>, username: &str) -> Answer {
    formatted(request, &json!({"success": true, "username": username}))
}

fn sort_members(members: &mut [&PortalMember], field: Option<&str>, order: Option<&str>) {
    let field = field.unwrap_or("username").to_ascii_lowercase();
    match field.as_str() {
        "fullname" => members.sort_by_cached_key(|m| m.full_name.to_lowercase()),
        "created" => members.sort_by_key(|m| m.created),
        "lastlogin" => members.sort_by_key(|m| m.last_login),
        "level" => members.sort_by_key(|m| m.level()),
        "role" => members.sort_by_cached_key(|m| m.role_id.clone()),
        // Already in user name order.
        _ => {}
    }
    if order.is_some_and(|o| o.eq_ignore_ascii_case("desc")) {
        members.reverse();
    }
}
