//! Endpoints the official client calls around licenses and leavers (`User.delete`,
//! `gis.admin.license.provisions`, `User.disable`), answered in the shapes Esri documents:
//! a role's privileges (`portals/self/roles/<id>/privileges`: `{"privileges": [...]}`), a
//! member's content (`content/users/<u>`: the sandbox's members own no items or folders),
//! disabling and enabling a member (`community/users/<u>/disable|enable`, administrators,
//! POST: `{"status": "success"}`), and a member's add-on licenses
//! (`community/users/<u>/provisionedListings`, paged; each entry's fields beyond `itemId`,
//! `title` and `entitlements` are unverified), and deleting a member
//! (`community/users/<u>/delete`, administrators, POST: `{"success": true, "username"}`),
//! refused while they hold add-on licenses (the official client's `User.delete` revokes
//! them first; the refusal is unverified) and for the signed-in account itself; removing
//! several (`portals/self/removeUsers`, administrators, POST, `users=a,b`: Esri's "Remove
//! Users" answers `{"notRemoved": [...]}`), each refused as a delete is (refused ones, and
//! names that are no member, are listed in `notRemoved`: unverified).

use serde_json::{json, Value};

use super::licenses::LISTINGS;
use super::org::role_def;
use super::wire::{
    error_answer, forbidden, formatted, only_post, page, path_segment, user_missing, Answer, Api,
    PortalRequest,
};
use super::PortalSite;
use crate::clock::now_ms;

type Reply = std::result::Result<Answer, Answer>;

impl PortalSite {
    /// The endpoints of this module, or None for a path that is none of them.
    pub(super) fn leavers(&self, request: &PortalRequest<'_>, path: &str) -> Option<Reply> {
        if path.eq_ignore_ascii_case("portals/self/removeUsers") {
            return Some(self.remove_users(request));
        }
        if let Some(id) = path
            .strip_prefix("portals/self/roles/")
            .and_then(|rest| rest.strip_suffix("/privileges"))
        {
            return Some(self.role_privileges(request, id));
        }
        if let Some(name) = path.strip_prefix("content/users/") {
            return (!name.contains('/')).then(|| self.content_of(request, name));
        }
        let (name, tail) = path.strip_prefix("community/users/")?.split_once('/')?;
        match tail {
            "disable" => Some(self.set_disabled(request, name, true)),
            "enable" => Some(self.set_disabled(request, name, false)),
            "provisionedlistings" => Some(self.provisioned(request, name)),
            "delete" => Some(self.delete_member(request, name)),
            _ => None,
        }
    }

    fn role_privileges(&self, request: &PortalRequest<'_>, id: &str) -> Reply {
        self.signed_in(request, Api::Sharing)?;
        match role_def(&path_segment(id)) {
            Some(role) => Ok(formatted(request, &json!({"privileges": role.privileges}))),
            None => Ok(error_answer(
                Api::Sharing,
                400,
                "Role does not exist or is inaccessible.",
                &[],
            )),
        }
    }

    fn content_of(&self, request: &PortalRequest<'_>, name: &str) -> Reply {
        let caller = self.signed_in(request, Api::Sharing)?;
        let state = self.state();
        let Some(i) = state.find(&path_segment(name)) else {
            return Ok(user_missing());
        };
        if i != caller && !state.members[caller].is_admin() {
            return Ok(forbidden(Api::Sharing));
        }
        let username = state.members[i].username.clone();
        drop(state);
        let mut reply = page(request, Vec::<Value>::new(), "items", |v| v);
        reply["username"] = json!(username);
        reply["currentFolder"] = Value::Null;
        reply["folders"] = json!([]);
        Ok(formatted(request, &reply))
    }

    fn set_disabled(&self, request: &PortalRequest<'_>, name: &str, disabled: bool) -> Reply {
        self.admin(request, Api::Sharing)?;
        only_post(request, Api::Sharing)?;
        let mut state = self.state();
        let Some(i) = state.find(&path_segment(name)) else {
            return Ok(user_missing());
        };
        let member = &mut state.members[i];
        member.disabled = disabled;
        member.modified = now_ms();
        Ok(formatted(request, &json!({"status": "success"})))
    }

    fn delete_member(&self, request: &PortalRequest<'_>, name: &str) -> Reply {
        let caller = self.admin(request, Api::Sharing)?;
        only_post(request, Api::Sharing)?;
        let mut state = self.state();
        let Some(i) = state.find(&path_segment(name)) else {
            return Ok(user_missing());
        };
        if let Some(message) = delete_refusal(&state, caller, i) {
            return Ok(error_answer(Api::Sharing, 400, &message, &[]));
        }
        let username = state.members[i].username.clone();
        state.remove(i);
        Ok(formatted(
            request,
            &json!({"success": true, "username": username}),
        ))
    }

    /// `portals/self/removeUsers`: each name removed as a delete would, or listed in
    /// `notRemoved`.
    fn remove_users(&self, request: &PortalRequest<'_>) -> Reply {
        let caller = self.admin(request, Api::Sharing)?;
        only_post(request, Api::Sharing)?;
        let names: Vec<&str> = request
            .param("users")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Ok(error_answer(
                Api::Sharing,
                400,
                "Unable to remove users: 'users' is required.",
                &[],
            ));
        }
        let mut state = self.state();
        let caller_name = state.members[caller].username.clone();
        let mut not_removed = Vec::new();
        for name in names {
            // Removing a member moves the others: the caller is found again each time.
            let caller = state.find(&caller_name).unwrap_or(usize::MAX);
            let removable = state
                .find(name)
                .filter(|&i| delete_refusal(&state, caller, i).is_none());
            match removable {
                Some(i) => state.remove(i),
                None => not_removed.push(name.to_owned()),
            }
        }
        Ok(formatted(request, &json!({"notRemoved": not_removed})))
    }

    fn provisioned(&self, request: &PortalRequest<'_>, name: &str) -> Reply {
        let caller = self.signed_in(request, Api::Sharing)?;
        let state = self.state();
        let Some(i) = state.find(&path_segment(name)) else {
            return Ok(user_missing());
        };
        if i != caller && !state.members[caller].is_admin() {
            return Ok(forbidden(Api::Sharing));
        }
        let member = &state.members[i];
        let held: Vec<Value> = LISTINGS
            .iter()
            .zip(&member.licenses)
            .filter(|(_, held)| !held.is_empty())
            .map(|(listing, held)| {
                json!({
                    "itemId": listing.item_id,
                    "title": listing.title,
                    "entitlements": held,
                    "username": member.username,
                })
            })
            .collect();
        drop(state);
        Ok(formatted(
            request,
            &page(request, held, "provisionedListings", |v| v),
        ))
    }
}

/// Why deleting member `i` is refused, if it is: the account signed in cannot delete itself,
/// and a member holding add-on licenses must have them revoked first.
fn delete_refusal(state: &super::org::PortalState, caller: usize, i: usize) -> Option<String> {
    let member = &state.members[i];
    if i == caller {
        return Some(format!(
            "Unable to delete '{}': an account cannot delete itself.",
            member.username
        ));
    }
    LISTINGS
        .iter()
        .zip(&member.licenses)
        .find(|(_, held)| !held.is_empty())
        .map(|(listing, _)| {
            format!(
                "Unable to delete '{}': they hold {} licenses. Revoke them first.",
                member.username, listing.title
            )
        })
}
