//! What planning reads of a portal, all at once: the members, the user types with their
//! seats, the roles, who is signed in, who has an app checked out, and who holds what under
//! the license being changed.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::portal::envelope::number;
use crate::portal::licenses::sorted;
use crate::portal::users::MemberRow;
use crate::portal::{App, License, Portal, Role, UserType};

/// What planning reads, as its notes and reasons name it.
pub(super) const MEMBER_LISTING: &str = "the member listing";
pub(super) const CHECK_OUTS: &str = "who has a license checked out";

/// A member as planning knows them.
#[derive(Debug, Clone)]
pub(super) struct Known {
    pub(super) username: String,
    /// Empty on a portal before user types.
    pub(super) user_type: String,
    pub(super) role: String,
    pub(super) level: Option<u8>,
    /// ms since 1970; None for never signed in.
    pub(super) last_login: Option<i64>,
}

/// Apps each member has checked out (lower-case user name); Err: what stopped the read.
pub(super) type CheckOuts = std::result::Result<HashMap<String, Vec<App>>, Error>;

/// The license whose entitlements change, and who holds what under it (lower-case user
/// name to sorted entitlements).
pub(super) type Changed = (License, HashMap<String, Vec<String>>);

/// The state a plan is made from.
pub(super) struct State {
    pub(super) me: Option<String>,
    /// By lower-case user name; Err: what stopped the listing.
    pub(super) members: std::result::Result<HashMap<String, Known>, Error>,
    pub(super) types: Vec<UserType>,
    pub(super) roles: Vec<Role>,
    pub(super) offline: CheckOuts,
    pub(super) license: Option<Changed>,
    /// Seats left per level (portals before user types), when the portal says them.
    pub(super) level_seats: Option<HashMap<u8, i64>>,
    /// A portal before 10.7: members have levels, not user types.
    pub(super) before_user_types: bool,
}

/// What a plan of members needs read.
pub(super) struct Needs {
    pub(super) types: bool,
    /// The seats per level (`portals/self`).
    pub(super) levels: bool,
    pub(super) offline: bool,
    pub(super) license: Option<String>,
}

/// Read what `needs` says, at once; what could not be read is said in `notes`.
pub(super) async fn read_state(
    portal: &Portal,
    needs: Needs,
    notes: &mut Vec<String>,
) -> Result<State> {
    // Only name, user type and role of each member: the listing is most of planning's cost.
    let members = portal.member_rows();
    let me = async {
        if portal.is_signed_in() {
            portal.me().await.ok().map(|u| u.username().to_lowercase())
        } else {
            None
        }
    };
    let types = async {
        if needs.types {
            portal.user_types_and_seats().await
        } else {
            Ok((Vec::new(), None))
        }
    };
    let (members, me, types, roles, licensing, level_seats) = futures::join!(
        members,
        me,
        types,
        portal.roles(),
        read_licensing(portal, &needs),
        read_level_seats(portal, needs.levels)
    );
    // Without the license being changed nothing can be planned; without who has what
    // checked out, the members it concerns are not predicted.
    let (offline, license) = match licensing {
        Ok(read) => read,
        Err(err) if needs.license.is_some() => return Err(err),
        Err(err) => (Err(err), None),
    };
    let members = members.map(known_members);
    if let Err(err) = &members {
        notes.push(format!(
            "{MEMBER_LISTING} could not be read ({}): members it does not know are not predicted",
            err.reason()
        ));
    }
    let level_seats = seats_left_per_level(level_seats, &members);
    // A portal before user types (10.7) lists members without one.
    let before_user_types = members
        .as_ref()
        .is_ok_and(|all| !all.is_empty() && all.values().all(|m| m.user_type.is_empty()));
    if needs.levels && before_user_types && level_seats.is_none() {
        notes.push(
            "the seats of each level could not be read (portals/self, maxUsersPerLevel): \
             a change may still be refused for want of seats"
                .into(),
        );
    }
    // Such a portal has no user types to list either.
    let (types, seats_unread) = match types {
        Err(_) if before_user_types => (Vec::new(), None),
        types => types?,
    };
    if let Some(why) = seats_unread.filter(|_| needs.types && !before_user_types) {
        notes.push(format!(
            "the seats of each user type could not be read ({why}): \
             a change may still be refused for want of seats"
        ));
    }
    if let Err(err) = &offline {
        notes.push(format!("{CHECK_OUTS} could not be read ({})", err.reason()));
    }
    Ok(State {
        me,
        members,
        types,
        roles: roles?,
        offline,
        license,
        level_seats,
        before_user_types,
    })
}

/// The members by lower-case user name.
fn known_members(rows: Vec<MemberRow>) -> HashMap<String, Known> {
    rows.into_iter()
        .map(|row| {
            let level = row.level();
            let last_login = row.last_login_ms();
            let role = row.role_id().unwrap_or("").to_owned();
            let known = Known {
                username: row.username.unwrap_or_default(),
                user_type: row.user_type.unwrap_or_default(),
                role,
                level,
                last_login,
            };
            (known.username.to_lowercase(), known)
        })
        .collect()
}

/// The seats of each level (`portals/self` → `subscriptionInfo.maxUsersPerLevel`), when
/// `wanted` and the portal says them.
async fn read_level_seats(portal: &Portal, wanted: bool) -> Option<HashMap<u8, i64>> {
    if !wanted {
        return None;
    }
    let properties = portal.properties().await.ok()?;
    let per_level = properties
        .get("subscriptionInfo")?
        .get("maxUsersPerLevel")?
        .as_object()?;
    let seats: HashMap<u8, i64> = [1u8, 2]
        .into_iter()
        .filter_map(|l| Some((l, number(per_level.get(&l.to_string()))?)))
        .collect();
    (!seats.is_empty()).then_some(seats)
}

/// Seats left per level: the seats less the members at each level now.
fn seats_left_per_level(
    seats: Option<HashMap<u8, i64>>,
    members: &std::result::Result<HashMap<String, Known>, Error>,
) -> Option<HashMap<u8, i64>> {
    let (Some(max), Ok(all)) = (seats, members) else {
        return None;
    };
    let left = max.into_iter().map(|(level, seats)| {
        let used = all.values().filter(|m| m.level == Some(level)).count() as i64;
        (level, (seats - used).max(0))
    });
    Some(left.collect())
}

/// Who has what checked out, and who holds what under the license being changed. The
/// purchases are read once, and each license's holders once: both come from the same
/// listings.
async fn read_licensing(portal: &Portal, needs: &Needs) -> Result<(CheckOuts, Option<Changed>)> {
    let mut offline: CheckOuts = Ok(HashMap::new());
    let mut changed = None;
    if !needs.offline && needs.license.is_none() {
        return Ok((offline, changed));
    }
    // The licenses that matter, their holders read all at once (a few listings).
    let needed: Vec<_> = portal
        .licenses()
        .await?
        .into_iter()
        .filter_map(|license| {
            let app = App::parse(&license.title).ok();
            let is_changed = needs.license.as_deref() == Some(license.item_id.as_str());
            (is_changed || (needs.offline && app.is_some())).then_some((license, app, is_changed))
        })
        .collect();
    let read = futures::future::join_all(
        needed
            .iter()
            .map(|(license, _, _)| portal.holders(&license.item_id)),
    )
    .await;
    for ((license, app, is_changed), holders) in needed.into_iter().zip(read) {
        let holders = match holders {
            Ok(holders) => holders,
            Err(err) if is_changed => return Err(err),
            Err(err) => {
                offline = Err(err);
                continue;
            }
        };
        if let (true, Some(app), Ok(out)) = (needs.offline, app, &mut offline) {
            for holder in holders.iter().filter(|h| h.disconnected) {
                out.entry(holder.username.to_lowercase())
                    .or_default()
                    .push(app);
            }
        }
        if is_changed {
            let held = holders
                .into_iter()
                .map(|h| (h.username.to_lowercase(), sorted(&h.entitlements)))
                .collect();
            changed = Some((license, held));
        }
    }
    if let (Some(item_id), None) = (&needs.license, &changed) {
        return Err(Error::NotFound {
            url: portal.url().to_owned(),
            message: format!("the organization has no license {item_id:?} now"),
        });
    }
    Ok((offline, changed))
}
