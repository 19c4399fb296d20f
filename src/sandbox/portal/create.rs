//! Creating a member on Enterprise: `portaladmin/security/users/createUser` (administrators,
//! POST), as the official client's `gis.users.create` sends it. Esri's Create User page gives
//! the parameters (`username`, `password`, `firstname`, `lastname`, `email`, `role`,
//! `userLicenseTypeId`, `provider`...) and the reply `{"status": "success"}`. The refusals,
//! and their wording, are the sandbox's choice (unverified): a name already taken, a missing
//! required value, an unknown role or user type, a role the type cannot hold, no seat left.

use serde_json::json;

use super::licenses::LISTINGS;
use super::org::{level_of, role_def, user_type_def, PortalMember};
use super::wire::{error_answer, formatted, only_post, Answer, Api, PortalRequest};
use super::PortalSite;
use crate::clock::now_ms;

type Reply = std::result::Result<Answer, Answer>;

impl PortalSite {
    pub(super) fn create_user(&self, request: &PortalRequest<'_>) -> Reply {
        self.admin(request, Api::Admin)?;
        only_post(request, Api::Admin)?;
        let refuse = |message: String| Ok(error_answer(Api::Admin, 400, &message, &[]));
        let text = |name: &str| request.param(name).map(str::trim).unwrap_or("");
        for name in ["username", "password", "firstname", "lastname", "email"] {
            if text(name).is_empty() {
                return refuse(format!("Unable to create the user: '{name}' is required."));
            }
        }
        let username = text("username");
        let Some(role) = role_def(text("role")) else {
            return refuse(format!(
                "Unable to create the user: the role '{}' does not exist.",
                text("role")
            ));
        };
        let Some(user_type) = user_type_def(text("userLicenseTypeId")) else {
            return refuse(format!(
                "Unable to create the user: the user type '{}' does not exist.",
                text("userLicenseTypeId")
            ));
        };
        let mut state = self.state();
        if state.find(username).is_some() {
            return refuse(format!(
                "Unable to create the user: '{username}' already exists."
            ));
        }
        if role.rank > user_type.max_rank {
            return refuse(format!(
                "The role '{}' is not compatible with the user type '{}'.",
                role.name, user_type.name
            ));
        }
        let (used, seats) = (
            state.in_use(user_type.id),
            state.seats.get(user_type.id).copied().unwrap_or(0),
        );
        if used >= seats {
            return refuse(format!(
                "No more licenses are available for the user type '{}' ({used} of {seats} in use).",
                user_type.name
            ));
        }
        let now = now_ms();
        let (first, last) = (text("firstname"), text("lastname"));
        let member = PortalMember {
            id: format!("{:032x}", rand::random::<u128>()),
            username: username.to_owned(),
            full_name: format!("{first} {last}"),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            email: text("email").to_owned(),
            department: String::new(),
            role_id: role.id.to_owned(),
            user_type: user_type.id.to_owned(),
            stored_level: level_of(user_type.id),
            last_login: -1,
            created: now,
            modified: now,
            disabled: false,
            offline: Vec::new(),
            licenses: vec![Vec::new(); LISTINGS.len()],
            credits: None,
        };
        state.add(member);
        Ok(formatted(request, &json!({"status": "success"})))
    }
}
