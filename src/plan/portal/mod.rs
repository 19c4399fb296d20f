//! Planning and applying changes of members: user types, roles, entitlements, and releasing
//! licenses checked out for offline use.
//!
//! Planning reads, at once: the members, the user types with their seats, the roles, who is
//! signed in, and who has an app checked out (and the entitlements of the license being
//! changed). Then it applies the portal's rules to each member, in order:
//! - a role must fit the user type: a Viewer holds only the Viewer role; a Contributor or a
//!   Mobile Worker holds no role that publishes or administers (Esri, "User types, roles,
//!   and privileges"). A custom role's rank comes from its privileges. `roles="auto"` adds
//!   the role step a change needs; without it such a member is predicted to fail.
//! - a user type or entitlement change waits for the member's check-out to be released;
//! - a member takes a seat of the new user type (and of each entitlement gained) while any
//!   is left; seats freed by members who move away are not counted on (the order in which
//!   concurrent requests land is not known), so the prediction errs on the safe side;
//! - the signed-in administrator and the last administrator are not demoted unless asked.
//!
//! Levels (1 or 2): on a portal with user types (10.7 and later, ArcGIS Online) a member's
//! level follows their user type and updateUserLevel accepts only that level, so a level
//! change is predicted to fail with a pointer to the user type. Before 10.7 the level was
//! the member's license: a level 1 member holds only a custom role whose privileges are all
//! level 1 privileges (`LEVEL_1_PRIVILEGES`; the built-in roles are level 2), and each
//! level has a number of seats (`portals/self` → `subscriptionInfo.maxUsersPerLevel`).

mod again;
mod executor;
mod kinds;
mod make;
mod predict;
mod rules;
mod state;
mod wanted;

pub use again::{plan_resume, plan_undo, recheck};
pub use executor::PortalExecutor;
pub use kinds::{
    plan_level, plan_license_type, plan_provision, plan_release, plan_release_and_update,
    plan_request, plan_role, with_wanted, PlanRequest, ReleaseAndUpdate, Request,
};
pub use make::{plan, Asked, Members, Planning};
pub use rules::{check_level, level_refused};
pub use wanted::{Change, EntitlementsWanted, Expect, Guards, Mode, Roles, Wanted};
