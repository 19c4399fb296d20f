//! One member, one change, now: the calls that change a single member without a plan
//! (`User.update_license_type`, `gis.admin.license.release`...). Each resolves the names
//! people use, sends the wire request, and settles a lost answer by reading the member
//! again; the portal's refusal is the error, with what to do added where the portal's
//! words leave it out.

use crate::bulk::{self, Reread};
use crate::error::{Error, Result};
use crate::portal::user_types::has_user_type;
use crate::portal::users::{check_username, has_role};
use crate::portal::{App, Portal, User};

use super::portal::check_level;

/// Change one member's user type, given by id or name.
pub async fn update_license_type(portal: &Portal, username: &str, user_type: &str) -> Result<()> {
    check_username(username)?;
    let id = portal.resolve_user_type(user_type).await?;
    let result = portal
        .update_user_license_type(&[username.to_owned()], &id)
        .await
        .and_then(|mut results| results.pop().map_or(Ok(()), |(_, result)| result));
    let result = confirm(portal, username, result, has_user_type(&id)).await;
    when_incompatible(result, || {
        format!(
            "Give {username} a role that user type can hold first (user.update_role(...)), \
             or let gis.users.update_license_type([{username:?}], {id:?}, roles=\"auto\") \
             do both."
        )
    })
}

/// Change one member's role, given by id or name.
pub async fn update_role(portal: &Portal, username: &str, role: &str) -> Result<()> {
    check_username(username)?;
    let id = portal.resolve_role(role).await?;
    let result = portal.update_user_role(username, &id).await;
    let result = confirm(portal, username, result, has_role(&id)).await;
    when_incompatible(result, || {
        format!(
            "Change {username}'s user type first, to one that can hold this role \
             (user.update_license_type(...))."
        )
    })
}

/// Change one member's level, 1 or 2 (portals before 10.7; newer ones derive the level
/// from the user type and refuse any other).
pub async fn update_level(portal: &Portal, username: &str, level: i64) -> Result<()> {
    check_username(username)?;
    let level = check_level(level)?;
    portal.update_user_level(username, level).await
}

/// Release the license of `app` that `username` checked out for offline use.
pub async fn release(portal: &Portal, username: &str, app: &str) -> Result<()> {
    check_username(username)?;
    let app = App::parse(app)?;
    let endpoint = portal.release_endpoint(app).await?;
    let result = portal.release_license(&endpoint, username, app).await;
    bulk::settle_one(result, "released", || async {
        match portal.license(app.title()).await {
            Ok(license) => portal.reread_release(&license, username, app).await,
            Err(err) => Reread::Failed(err),
        }
    })
    .await
}

/// A single change's result; when its answer was lost, settled by reading the member
/// again (`is_done` says whether they are as asked, or what they are instead).
async fn confirm(
    portal: &Portal,
    username: &str,
    result: Result<()>,
    is_done: impl Fn(&User) -> std::result::Result<(), String>,
) -> Result<()> {
    bulk::settle_one(result, "changed", || {
        portal.reread_member(username, is_done)
    })
    .await
}

/// A refusal because a role and a user type do not go together (the portal says they are
/// not "compatible"), with `what_to_do` added to the portal's words; any other result as it is.
fn when_incompatible(result: Result<()>, what_to_do: impl FnOnce() -> String) -> Result<()> {
    match result {
        Err(Error::Server {
            url,
            status,
            code,
            message,
            details,
        }) if message.to_lowercase().contains("compatible") => Err(Error::Server {
            url,
            status,
            code,
            message: format!("{} {}", message.trim_end(), what_to_do()),
            details,
        }),
        other => other,
    }
}
