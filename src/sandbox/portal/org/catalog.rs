//! What the emulated organization offers: its user types (with the highest role each allows
//! and its apps), its roles with their privileges, and the ids the seeded one has.

use crate::portal::users::LEVEL_1_PRIVILEGES;

/// The organization id Enterprise portals commonly have.
pub const ORG_ID: &str = "0123456789ABCDEF";
pub const VIEWER_ROLE: &str = "iAAAAAAAAAAAAAAA";
pub const DATA_EDITOR_ROLE: &str = "iBBBBBBBBBBBBBBB";
/// The custom role the seeded organization has besides the templates.
pub const ANALYST_ROLE: &str = "aNaLySt0000RoLe1";

/// The privilege releaseLicense and entitlement changes need ("Manage Licenses").
pub(in crate::sandbox::portal) const MANAGE_LICENSES: &str = "portal:admin:manageLicenses";
/// The privilege that makes a member an administrator here: changing other members.
pub(in crate::sandbox::portal) const UPDATE_USERS: &str = "portal:admin:updateUsers";

/// A user type: id, name, the highest role rank it allows, and its apps.
pub(in crate::sandbox::portal) struct UserTypeDef {
    pub(in crate::sandbox::portal) id: &'static str,
    pub(in crate::sandbox::portal) name: &'static str,
    pub(in crate::sandbox::portal) max_rank: u8,
    pub(in crate::sandbox::portal) apps: &'static [&'static str],
    /// Share of the seeded members, in percent.
    pub(super) share: u32,
}

pub(in crate::sandbox::portal) const USER_TYPES: &[UserTypeDef] = &[
    UserTypeDef {
        id: "viewerUT",
        name: "Viewer",
        max_rank: 0,
        apps: &[],
        share: 30,
    },
    UserTypeDef {
        id: "editorUT",
        name: "Contributor",
        max_rank: 2,
        apps: &["arcgisFieldMaps", "arcgisSurvey123"],
        share: 25,
    },
    UserTypeDef {
        id: "fieldWorkerUT",
        name: "Mobile Worker",
        max_rank: 2,
        apps: &[
            "arcgisFieldMaps",
            "arcgisSurvey123",
            "arcgisWorkforce",
            "arcgisQuickCapture",
        ],
        share: 10,
    },
    UserTypeDef {
        id: "creatorUT",
        name: "Creator",
        max_rank: 4,
        apps: &[
            "arcgisFieldMaps",
            "arcgisSurvey123",
            "arcgisWorkforce",
            "arcgisQuickCapture",
        ],
        share: 25,
    },
    UserTypeDef {
        id: "GISProfessionalStdUT",
        name: "Professional",
        max_rank: 4,
        apps: &[
            "arcgisFieldMaps",
            "arcgisSurvey123",
            "arcgisWorkforce",
            "arcgisprodesktop",
        ],
        share: 7,
    },
    UserTypeDef {
        id: "GISProfessionalAdvUT",
        name: "Professional Plus",
        max_rank: 4,
        apps: &[
            "arcgisFieldMaps",
            "arcgisSurvey123",
            "arcgisWorkforce",
            "arcgisprodesktop",
        ],
        share: 3,
    },
];

/// A role: id, the `role` it reports, its name, its rank (what user types may hold it), privileges.
pub(in crate::sandbox::portal) struct RoleDef {
    pub(in crate::sandbox::portal) id: &'static str,
    pub(in crate::sandbox::portal) role: &'static str,
    pub(in crate::sandbox::portal) name: &'static str,
    pub(in crate::sandbox::portal) rank: u8,
    pub(in crate::sandbox::portal) privileges: &'static [&'static str],
}

const VIEW: &[&str] = &[
    "portal:user:joinGroup",
    "portal:user:viewOrgGroups",
    "portal:user:viewOrgItems",
];
const EDIT: &[&str] = &[
    "features:user:edit",
    "portal:user:joinGroup",
    "portal:user:viewOrgGroups",
    "portal:user:viewOrgItems",
];
const USE: &[&str] = &[
    "features:user:edit",
    "portal:user:createGroup",
    "portal:user:createItem",
    "portal:user:joinGroup",
    "portal:user:shareToGroup",
    "portal:user:viewOrgGroups",
    "portal:user:viewOrgItems",
];
const ANALYSE: &[&str] = &[
    "features:user:edit",
    "portal:user:createItem",
    "portal:user:joinGroup",
    "portal:user:viewOrgItems",
    "premium:user:spatialanalysis",
];
const PUBLISH: &[&str] = &[
    "features:user:edit",
    "portal:publisher:publishFeatures",
    "portal:publisher:publishTiles",
    "portal:user:createGroup",
    "portal:user:createItem",
    "portal:user:joinGroup",
    "portal:user:shareToGroup",
    "portal:user:viewOrgGroups",
    "portal:user:viewOrgItems",
];
const ADMINISTER: &[&str] = &[
    "features:user:edit",
    "portal:admin:assignToGroups",
    "portal:admin:changeUserRoles",
    "portal:admin:deleteUsers",
    "portal:admin:manageLicenses",
    "portal:admin:updateUsers",
    "portal:admin:viewUsers",
    "portal:publisher:publishFeatures",
    "portal:user:createGroup",
    "portal:user:createItem",
    "portal:user:joinGroup",
    "portal:user:shareToGroup",
    "portal:user:viewOrgGroups",
    "portal:user:viewOrgItems",
];

pub(in crate::sandbox::portal) const ROLES: &[RoleDef] = &[
    RoleDef {
        id: VIEWER_ROLE,
        role: "org_user",
        name: "Viewer",
        rank: 0,
        privileges: VIEW,
    },
    RoleDef {
        id: DATA_EDITOR_ROLE,
        role: "org_user",
        name: "Data Editor",
        rank: 1,
        privileges: EDIT,
    },
    RoleDef {
        id: "org_user",
        role: "org_user",
        name: "User",
        rank: 2,
        privileges: USE,
    },
    RoleDef {
        id: ANALYST_ROLE,
        role: "org_user",
        name: "Analyst",
        rank: 2,
        privileges: ANALYSE,
    },
    RoleDef {
        id: "org_publisher",
        role: "org_publisher",
        name: "Publisher",
        rank: 3,
        privileges: PUBLISH,
    },
    RoleDef {
        id: "org_admin",
        role: "org_admin",
        name: "Administrator",
        rank: 4,
        privileges: ADMINISTER,
    },
];

pub(in crate::sandbox::portal) fn role_def(id: &str) -> Option<&'static RoleDef> {
    ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

pub(in crate::sandbox::portal) fn user_type_def(id: &str) -> Option<&'static UserTypeDef> {
    USER_TYPES.iter().find(|t| t.id.eq_ignore_ascii_case(id))
}

pub(in crate::sandbox::portal) fn level_of(user_type: &str) -> &'static str {
    if user_type == "viewerUT" {
        "1"
    } else {
        "2"
    }
}

impl RoleDef {
    /// Whether a member of `level` may hold the role: the built-in roles (administrator,
    /// publisher, user) are level 2; a custom role is level 1 when every privilege it has
    /// is one level 1 allows.
    pub(in crate::sandbox::portal) fn fits_level(&self, level: &str) -> bool {
        level != "1"
            || (self.id != self.role
                && self
                    .privileges
                    .iter()
                    .all(|p| LEVEL_1_PRIVILEGES.contains(p)))
    }
}
