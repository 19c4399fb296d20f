//! An emulated ArcGIS Enterprise portal: the sharing and portaladmin REST API of
//! `spec/portal-rest.md` over a seeded organization.
//!
//! Choices where the spec says "unverified" (the client tolerates other forms):
//! `updateUserLicenseType` takes at most 100 users per request and reports a failed user as
//! `{"username", "status": false, "error": {"code", "message"}}`; the default listing order
//! is by user name; `updateUserLevel` on a portal with user types accepts only the level the
//! user type implies.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::portal::licenses::version_at_least;
use crate::sandbox::openlm::now_ms;
use crate::sandbox::seed;

mod licenses;

pub use licenses::{Deployment, LISTINGS, PRO_ITEM_ID};

/// The organization id Enterprise portals commonly have.
pub const ORG_ID: &str = "0123456789ABCDEF";
pub const VIEWER_ROLE: &str = "iAAAAAAAAAAAAAAA";
pub const DATA_EDITOR_ROLE: &str = "iBBBBBBBBBBBBBBB";
/// The custom role the seeded organization has besides the templates.
pub const ANALYST_ROLE: &str = "aNaLySt0000RoLe1";
/// The most users one updateUserLicenseType request may name.
pub const MAX_BATCH: usize = 100;
/// The privilege releaseLicense and entitlement changes need ("Manage Licenses").
const MANAGE_LICENSES: &str = "portal:admin:manageLicenses";
const FAILED_LOGINS_BEFORE_LOCK: u32 = 5;
const LOCK_TIME: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct PortalSiteOptions {
    /// Members of the organization, the two accounts included.
    pub members: usize,
    /// Members whose ArcGIS Pro license is checked out for offline use.
    pub offline_members: usize,
    /// `currentVersion` of the sharing API.
    pub version: String,
    /// The longest a token lasts, whatever `expiration` asks for.
    pub token_lifetime: Duration,
    pub admin_username: String,
    pub admin_password: String,
    pub user_username: String,
    pub user_password: String,
    /// Classic Enterprise (portaladmin) or Enterprise on Kubernetes (the `admin` API).
    pub deployment: Deployment,
}

impl Default for PortalSiteOptions {
    fn default() -> Self {
        PortalSiteOptions {
            members: 300,
            offline_members: 5,
            version: "2024.1".into(),
            token_lifetime: Duration::from_secs(14 * 24 * 3600),
            admin_username: "portaladmin".into(),
            admin_password: "sandbox-admin-password".into(),
            user_username: "member".into(),
            user_password: "sandbox-member-password".into(),
            deployment: Deployment::Classic,
        }
    }
}

/// A user type: id, name, the highest role rank it allows, and its apps.
struct UserTypeDef {
    id: &'static str,
    name: &'static str,
    max_rank: u8,
    apps: &'static [&'static str],
    /// Share of the seeded members, in percent.
    share: u32,
}

const USER_TYPES: &[UserTypeDef] = &[
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
struct RoleDef {
    id: &'static str,
    role: &'static str,
    name: &'static str,
    rank: u8,
    privileges: &'static [&'static str],
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

const ROLES: &[RoleDef] = &[
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

fn role_def(id: &str) -> Option<&'static RoleDef> {
    ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

fn user_type_def(id: &str) -> Option<&'static UserTypeDef> {
    USER_TYPES.iter().find(|t| t.id.eq_ignore_ascii_case(id))
}

fn level_of(user_type: &str) -> &'static str {
    if user_type == "viewerUT" {
        "1"
    } else {
        "2"
    }
}

/// A member of the organization.
#[derive(Debug, Clone)]
pub struct PortalMember {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub department: String,
    pub role_id: String,
    pub user_type: String,
    /// ms since 1970; -1 for never.
    pub last_login: i64,
    pub created: i64,
    pub modified: i64,
    pub disabled: bool,
    /// Apps (`arcgisprodesktop`, `drone2map`...) whose license is checked out for offline use.
    pub offline: Vec<&'static str>,
    /// Entitlements per listing of `LISTINGS`, in its order.
    pub licenses: Vec<Vec<String>>,
}

impl PortalMember {
    fn role(&self) -> &'static RoleDef {
        role_def(&self.role_id).unwrap_or(&ROLES[2])
    }

    pub fn pro_offline(&self) -> bool {
        self.offline.contains(&"arcgisprodesktop")
    }

    fn has_privilege(&self, privilege: &str) -> bool {
        self.role().privileges.contains(&privilege)
    }

    fn is_admin(&self) -> bool {
        self.has_privilege("portal:admin:updateUsers")
    }

    /// The user as `community/users/<name>` describes it; `full` adds what only the user
    /// and administrators see.
    pub fn to_json(&self, full: bool) -> Value {
        serde_json::to_value(self.view(full)).unwrap_or(Value::Null)
    }

    /// The user's JSON fields, borrowed: a page of members is written without building
    /// JSON values first.
    fn view(&self, full: bool) -> MemberView<'_> {
        let role = self.role();
        MemberView {
            username: &self.username,
            id: &self.id,
            full_name: &self.full_name,
            first_name: &self.first_name,
            last_name: &self.last_name,
            description: format!("{} department", self.department),
            org_id: ORG_ID,
            role: role.role,
            role_id: role.id,
            level: level_of(&self.user_type),
            user_license_type_id: &self.user_type,
            disabled: self.disabled,
            last_login: self.last_login,
            created: self.created,
            modified: self.modified,
            provider: "arcgis",
            user_type: "arcgisonly",
            access: "org",
            culture: "en",
            region: "US",
            units: "english",
            tags: [&self.department],
            thumbnail: None,
            mfa_enabled: false,
            email: full.then_some(self.email.as_str()),
            privileges: full.then_some(role.privileges),
        }
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberView<'a> {
    username: &'a str,
    id: &'a str,
    full_name: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    description: String,
    org_id: &'static str,
    role: &'static str,
    role_id: &'static str,
    level: &'static str,
    user_license_type_id: &'a str,
    disabled: bool,
    last_login: i64,
    created: i64,
    modified: i64,
    provider: &'static str,
    user_type: &'static str,
    access: &'static str,
    culture: &'static str,
    region: &'static str,
    units: &'static str,
    tags: [&'a str; 1],
    thumbnail: Option<&'static str>,
    mfa_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    privileges: Option<&'static [&'static str]>,
}

struct IssuedToken {
    username: String,
    expires_ms: i64,
    referer: String,
}

struct PortalState {
    members: Vec<PortalMember>,
    /// Lower-case user name, and id, to the member's index.
    index: HashMap<String, usize>,
    /// Seats per user type.
    seats: HashMap<&'static str, i64>,
    /// Purchased count per entitlement, per listing of `LISTINGS`.
    license_seats: Vec<HashMap<&'static str, i64>>,
    tokens: HashMap<String, IssuedToken>,
    /// Failed sign-ins per lower-case user name: how many, and when the last was.
    failed_logins: HashMap<String, (u32, Instant)>,
    rng: SmallRng,
}

impl PortalState {
    fn find(&self, name_or_id: &str) -> Option<usize> {
        self.index
            .get(&name_or_id.to_lowercase())
            .or_else(|| self.index.get(name_or_id))
            .copied()
    }

    fn in_use(&self, user_type: &str) -> i64 {
        self.members
            .iter()
            .filter(|m| m.user_type == user_type)
            .count() as i64
    }
}

pub struct PortalSite {
    options: PortalSiteOptions,
    state: Mutex<PortalState>,
}

/// A request, as the portal emulator needs it.
pub struct PortalRequest<'a> {
    pub method: &'a str,
    /// Normalized: lower case, `//` collapsed, without the trailing slash.
    pub path: &'a str,
    pub params: &'a [(String, String)],
    /// A token from `X-Esri-Authorization` or `Authorization`.
    pub header_token: Option<&'a str>,
    pub referer: Option<&'a str>,
    /// `scheme://host:port`, to build URLs in replies.
    pub origin: &'a str,
}

impl PortalRequest<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn token(&self) -> Option<&str> {
        self.param("token")
            .filter(|t| !t.is_empty())
            .or(self.header_token)
    }
}

/// A reply: HTTP status, content type, body.
pub type Answer = (u16, &'static str, String);

const JSON: &str = "application/json; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

/// Which envelope errors take.
#[derive(Clone, Copy, PartialEq)]
enum Api {
    Sharing,
    Admin,
}

/// An error reply in the envelope of `api`, with HTTP 200 as real portals send it.
fn error_answer(api: Api, code: i64, message: &str, details: &[&str]) -> Answer {
    let body = match api {
        Api::Sharing => json!({"error": {"code": code, "message": message, "details": details}}),
        Api::Admin => {
            let mut messages = vec![message];
            messages.extend_from_slice(details);
            json!({"status": "error", "messages": messages, "code": code})
        }
    };
    (200, JSON, body.to_string())
}

/// The reply a fault of kind "error" gets.
pub fn fault_reply(path: &str) -> Answer {
    let api = if path.contains("/portaladmin") || path.contains("/admin/") {
        Api::Admin
    } else {
        Api::Sharing
    };
    error_answer(
        api,
        500,
        "Unable to complete the operation: an internal error occurred.",
        &[],
    )
}

/// The JSON in the format `f` asks for: json, pjson, or (default) an HTML page.
fn formatted(request: &PortalRequest<'_>, value: &Value) -> Answer {
    match request.param("f").map(str::to_ascii_lowercase).as_deref() {
        Some("json") => (200, JSON, value.to_string()),
        Some("pjson") => (
            200,
            JSON,
            serde_json::to_string_pretty(value).unwrap_or_default(),
        ),
        _ => {
            let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
            let escaped = pretty
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            (
                200,
                HTML,
                format!("<html><head><title>ArcGIS Portal Directory</title></head><body><pre>{escaped}</pre></body></html>"),
            )
        }
    }
}

fn not_found_page() -> Answer {
    (
        404,
        HTML,
        "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
            .into(),
    )
}

fn random_text(rng: &mut SmallRng, len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

const HEX: &[u8] = b"0123456789abcdef";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

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

fn number_param(request: &PortalRequest<'_>, name: &str, default: usize) -> usize {
    request
        .param(name)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map_or(default, |n| n.max(0) as usize)
}

/// The window a listing asks for, as the sharing API pages: 1-based `start`, and `num`
/// (at most 100).
fn window(request: &PortalRequest<'_>) -> (usize, usize) {
    let start = number_param(request, "start", 1).max(1);
    let num = number_param(request, "num", 10).min(100);
    (start, num)
}

/// A page of `items` as the sharing API pages. Only the page's items are turned into JSON:
/// a listing of 10,000 members stays cheap.
fn page<T>(
    request: &PortalRequest<'_>,
    items: Vec<T>,
    key: &str,
    to_json: impl Fn(T) -> Value,
) -> Value {
    let total = items.len();
    let (start, num) = window(request);
    let chosen: Vec<Value> = items
        .into_iter()
        .skip(start - 1)
        .take(num)
        .map(to_json)
        .collect();
    page_json(key, total, start, num, chosen)
}

/// The reply for a page: `items` are the window (`start`, `num`) of `total`.
fn page_json(key: &str, total: usize, start: usize, num: usize, chosen: Vec<Value>) -> Value {
    let (next, num) = next_start(total, start, num, chosen.len());
    json!({"total": total, "start": start, "num": num, "nextStart": next, key: chosen})
}

/// `nextStart` (-1 on the last page) and `num` of a page of `count` items.
fn next_start(total: usize, start: usize, num: usize, count: usize) -> (i64, usize) {
    let end = start - 1 + count;
    let next = if end < total && num > 0 {
        (end + 1) as i64
    } else {
        -1
    };
    (next, num)
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
    pub fn seeded(options: PortalSiteOptions, seed_value: u64) -> Result<PortalSite> {
        for (what, value) in [
            ("admin_username", &options.admin_username),
            ("admin_password", &options.admin_password),
            ("user_username", &options.user_username),
            ("user_password", &options.user_password),
        ] {
            if value.trim().is_empty() {
                return Err(Error::invalid(format!(
                    "the sandbox portal's {what} is empty"
                )));
            }
        }
        if options
            .admin_username
            .eq_ignore_ascii_case(&options.user_username)
        {
            return Err(Error::invalid(
                "the sandbox portal's two accounts need different user names",
            ));
        }
        if options.members < 2 {
            return Err(Error::invalid(
                "the sandbox portal needs at least 2 members (the two accounts)",
            ));
        }
        if options.token_lifetime < Duration::from_secs(1) {
            return Err(Error::invalid("token_lifetime must be at least 1 second"));
        }
        let mut rng = SmallRng::seed_from_u64(seed_value ^ 0x0090_27a1);
        let now = now_ms();
        const DAY: i64 = 86_400_000;
        let people = seed::people(options.members - 2, &mut rng);
        let mut members = Vec::with_capacity(options.members);
        let make = |rng: &mut SmallRng, username: String, full_name: String, department: &str| {
            let (first, last) = full_name.split_once(' ').unwrap_or((&full_name, ""));
            let created = now - rng.random_range(400..3000) * DAY;
            PortalMember {
                id: random_text(rng, 32, HEX),
                email: format!("{username}@example.gov"),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                username,
                full_name: full_name.clone(),
                department: department.to_owned(),
                role_id: "org_user".into(),
                user_type: "creatorUT".into(),
                last_login: now - rng.random_range(0..30) * DAY,
                created,
                modified: created,
                disabled: false,
                offline: Vec::new(),
                licenses: vec![Vec::new(); LISTINGS.len()],
            }
        };
        let mut admin = make(
            &mut rng,
            options.admin_username.clone(),
            "Portal Administrator".into(),
            "GIS",
        );
        admin.role_id = "org_admin".into();
        admin.user_type = "GISProfessionalAdvUT".into();
        members.push(admin);
        let user = make(
            &mut rng,
            options.user_username.clone(),
            "Sandbox Member".into(),
            "Planning",
        );
        members.push(user);
        for person in people {
            if person
                .username
                .eq_ignore_ascii_case(&options.admin_username)
                || person.username.eq_ignore_ascii_case(&options.user_username)
            {
                continue;
            }
            let mut m = make(
                &mut rng,
                person.username,
                person.full_name,
                person.department,
            );
            let roll = rng.random_range(0..100);
            let mut cumulative = 0;
            let user_type = USER_TYPES
                .iter()
                .find(|t| {
                    cumulative += t.share;
                    roll < cumulative
                })
                .unwrap_or(&USER_TYPES[0]);
            m.user_type = user_type.id.into();
            m.role_id = match user_type.max_rank {
                0 => VIEWER_ROLE,
                2 => [DATA_EDITOR_ROLE, "org_user", "org_user"][rng.random_range(0..3)],
                _ => match rng.random_range(0..100) {
                    0..=2 => "org_admin",
                    3..=32 => "org_publisher",
                    33..=40 => ANALYST_ROLE,
                    _ => "org_user",
                },
            }
            .into();
            // Some never signed in; the rest spread over the last 400 days.
            m.last_login = if rng.random_bool(0.08) {
                -1
            } else {
                now - rng.random_range(0..400 * DAY)
            };
            m.created = m
                .created
                .min(if m.last_login > 0 { m.last_login } else { now });
            m.modified = m.created;
            m.disabled = rng.random_bool(0.02);
            members.push(m);
        }
        // Offline check-outs go to members whose user type includes ArcGIS Pro.
        let mut offline = 0;
        for m in members.iter_mut().skip(2) {
            if offline >= options.offline_members {
                break;
            }
            if m.user_type.starts_with("GISProfessional") && !m.disabled {
                m.offline.push("arcgisprodesktop");
                offline += 1;
            }
        }
        licenses::seed_entitlements(&mut members, seed_value);
        members.sort_by_key(|m| m.username.to_lowercase());
        let mut index = HashMap::with_capacity(members.len() * 2);
        for (i, m) in members.iter().enumerate() {
            index.insert(m.username.to_lowercase(), i);
            index.insert(m.id.clone(), i);
        }
        let license_seats = licenses::initial_seats(&members);
        let mut seats = HashMap::new();
        for t in USER_TYPES {
            let used = members.iter().filter(|m| m.user_type == t.id).count() as i64;
            let headroom = if t.id == "viewerUT" {
                used / 2
            } else {
                used / 10
            };
            seats.insert(t.id, used + headroom.max(3));
        }
        Ok(PortalSite {
            options,
            state: Mutex::new(PortalState {
                members,
                index,
                seats,
                license_seats,
                tokens: HashMap::new(),
                failed_logins: HashMap::new(),
                rng,
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PortalState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn options(&self) -> &PortalSiteOptions {
        &self.options
    }

    /// The member's user name a token belongs to, if the token is valid now.
    pub fn token_user(&self, token: &str) -> Option<String> {
        let state = self.state();
        let issued = state.tokens.get(token)?;
        (issued.expires_ms > now_ms()).then(|| issued.username.clone())
    }

    /// Revoke every token: the next request with one gets 498.
    pub fn expire_tokens(&self) {
        self.state().tokens.clear();
    }

    pub fn member(&self, username: &str) -> Option<PortalMember> {
        let state = self.state();
        state.find(username).map(|i| state.members[i].clone())
    }

    pub fn members(&self) -> Vec<PortalMember> {
        self.state().members.clone()
    }

    /// Check a member's ArcGIS Pro license out for offline use, or back in.
    pub fn set_pro_offline(&self, username: &str, offline: bool) -> Result<()> {
        self.set_offline(username, "arcgisprodesktop", offline)
    }

    /// Set the seats of a user type.
    pub fn set_seats(&self, user_type: &str, seats: i64) -> Result<()> {
        let def = user_type_def(user_type).ok_or_else(|| {
            Error::invalid(format!("the sandbox portal has no user type {user_type:?}"))
        })?;
        self.state().seats.insert(def.id, seats.max(0));
        Ok(())
    }

    /// Answer one request. `path` is below the web adaptor (`/portal`).
    pub fn respond(&self, request: &PortalRequest<'_>) -> Answer {
        let path = request.path;
        let Some(rest) = path.strip_prefix("/portal") else {
            return not_found_page();
        };
        match rest {
            "" | "/home" | "/home/index.html" => (
                200,
                HTML,
                "<html><head><title>ArcGIS Enterprise (gislicense sandbox)</title></head><body><h1>Portal for ArcGIS</h1></body></html>".into(),
            ),
            // The official client probes these for IWA/PKI and reads only WWW-Authenticate.
            "/info" | "/rest/info" | "/rest/services" => not_found_page(),
            "/sharing" | "/sharing/rest" => formatted(request, &json!({"currentVersion": self.options.version})),
            "/sharing/rest/info" => {
                let sharing = format!("{}/portal/sharing/rest", request.origin);
                formatted(
                    request,
                    &json!({
                        "owningSystemUrl": format!("{}/portal", request.origin),
                        "authInfo": {
                            "tokenServicesUrl": format!("{sharing}/generateToken"),
                            "isTokenBasedSecurity": true,
                        },
                    }),
                )
            }
            "/sharing/rest/generatetoken" | "/sharing/generatetoken" => self.generate_token(request),
            _ => {
                if let Some(sharing) = rest.strip_prefix("/sharing/rest/") {
                    self.sharing(request, sharing)
                } else if rest == "/portaladmin" || rest.starts_with("/portaladmin/") {
                    match self.options.deployment {
                        Deployment::Classic => {
                            self.portal_admin(request, rest.trim_start_matches("/portaladmin"))
                        }
                        Deployment::Kubernetes => not_found_page(),
                    }
                } else if rest == "/admin" || rest.starts_with("/admin/") {
                    match self.options.deployment {
                        Deployment::Kubernetes => {
                            self.kubernetes_admin(request, rest.trim_start_matches("/admin"))
                        }
                        Deployment::Classic => not_found_page(),
                    }
                } else {
                    not_found_page()
                }
            }
        }
    }

    fn generate_token(&self, request: &PortalRequest<'_>) -> Answer {
        let fail =
            |detail: &str| error_answer(Api::Sharing, 400, "Unable to generate token.", &[detail]);
        if request.method != "POST" {
            return fail("Token requests must be made with POST.");
        }
        let (Some(username), Some(password)) =
            (request.param("username"), request.param("password"))
        else {
            return fail("'username' and 'password' must be specified.");
        };
        let key = username.to_lowercase();
        let mut state = self.state();
        if let Some((count, last)) = state.failed_logins.get(&key) {
            if *count >= FAILED_LOGINS_BEFORE_LOCK && last.elapsed() < LOCK_TIME {
                return fail("Too many invalid logon attempts. Please try again later.");
            }
        }
        let expected = if key == self.options.admin_username.to_lowercase() {
            Some(&self.options.admin_password)
        } else if key == self.options.user_username.to_lowercase() {
            Some(&self.options.user_password)
        } else {
            None
        };
        let Some(i) = state
            .find(username)
            .filter(|_| expected.is_some_and(|p| p == password))
        else {
            let entry = state
                .failed_logins
                .entry(key)
                .or_insert((0, Instant::now()));
            if entry.1.elapsed() >= LOCK_TIME {
                entry.0 = 0;
            }
            entry.0 += 1;
            entry.1 = Instant::now();
            return fail("Invalid username or password.");
        };
        if state.members[i].disabled {
            return fail("This account has been disabled.");
        }
        state.failed_logins.remove(&key);
        let minutes = request
            .param("expiration")
            .and_then(|e| e.trim().parse::<i64>().ok())
            .filter(|m| *m > 0)
            .unwrap_or(60);
        let lifetime_ms =
            (minutes.saturating_mul(60_000)).min(self.options.token_lifetime.as_millis() as i64);
        let expires_ms = now_ms() + lifetime_ms;
        let client = request
            .param("client")
            .unwrap_or("referer")
            .to_ascii_lowercase();
        let referer = if client == "referer" {
            request.param("referer").unwrap_or("").to_owned()
        } else {
            String::new()
        };
        let token = random_text(&mut state.rng, 96, TOKEN_CHARS);
        let canonical = state.members[i].username.clone();
        state.members[i].last_login = now_ms();
        state.tokens.insert(
            token.clone(),
            IssuedToken {
                username: canonical,
                expires_ms,
                referer,
            },
        );
        let ssl = request.origin.starts_with("https");
        formatted(
            request,
            &json!({"token": token, "expires": expires_ms, "ssl": ssl}),
        )
    }

    /// Who is calling: Ok(None) anonymous, Ok(Some(index)) signed in, Err(answer) rejected.
    fn caller(
        &self,
        request: &PortalRequest<'_>,
        api: Api,
    ) -> std::result::Result<Option<usize>, Answer> {
        let Some(token) = request.token() else {
            return Ok(None);
        };
        let state = self.state();
        let valid = state.tokens.get(token).filter(|t| {
            t.expires_ms > now_ms()
                && (t.referer.is_empty() || request.referer == Some(t.referer.as_str()))
        });
        match valid.and_then(|t| state.find(&t.username)) {
            Some(i) if !state.members[i].disabled => Ok(Some(i)),
            _ => Err(error_answer(api, 498, "Invalid token.", &[])),
        }
    }

    fn signed_in(
        &self,
        request: &PortalRequest<'_>,
        api: Api,
    ) -> std::result::Result<usize, Answer> {
        match self.caller(request, api)? {
            Some(i) => Ok(i),
            None => Err(match api {
                Api::Sharing => (
                    200,
                    JSON,
                    json!({"error": {"code": 499, "message": "Token Required", "messageCode": "GWM_0003", "details": []}})
                        .to_string(),
                ),
                Api::Admin => error_answer(api, 499, "Token Required", &[]),
            }),
        }
    }

    fn admin(&self, request: &PortalRequest<'_>, api: Api) -> std::result::Result<usize, Answer> {
        self.privileged(request, api, "portal:admin:updateUsers")
    }

    /// The caller, if signed in with `privilege`; a 403 in the envelope of `api` otherwise.
    fn privileged(
        &self,
        request: &PortalRequest<'_>,
        api: Api,
        privilege: &str,
    ) -> std::result::Result<usize, Answer> {
        let i = self.signed_in(request, api)?;
        if self.state().members[i].has_privilege(privilege) {
            Ok(i)
        } else {
            Err(forbidden(api))
        }
    }

    fn sharing(&self, request: &PortalRequest<'_>, path: &str) -> Answer {
        let api = Api::Sharing;
        let result = match path {
            "portals/self" => self.portal_self(request),
            "portals/self/roles" => self.signed_in(request, api).map(|_| self.roles(request)),
            "portals/self/users" => self.admin(request, api).map(|_| self.list_users(request)),
            "portals/self/userlicensetypes" => self
                .signed_in(request, api)
                .map(|_| self.user_types(request)),
            "portals/self/updateuserlicensetype" => self.update_license_type(request),
            "portals/self/updateuserrole" => self.update_role(request),
            "portals/self/updateuserlevel" => self.update_level(request),
            "portals/self/purchases" => self
                .privileged(request, api, MANAGE_LICENSES)
                .map(|_| self.purchases(request)),
            "community/self" => self.signed_in(request, api).map(|i| {
                let state = self.state();
                formatted(request, &state.members[i].to_json(true))
            }),
            "community/users" => self
                .signed_in(request, api)
                .map(|i| self.search(request, i)),
            _ => {
                if let Some(rest) = path.strip_prefix("community/users/") {
                    self.one_user(request, rest)
                } else if let Some(rest) = path.strip_prefix("content/listings/") {
                    self.listing(request, rest)
                } else {
                    Ok(error_answer(api, 400, "Invalid URL", &["Invalid URL"]))
                }
            }
        };
        result.unwrap_or_else(|answer| answer)
    }

    fn portal_self(&self, request: &PortalRequest<'_>) -> std::result::Result<Answer, Answer> {
        let caller = self.caller(request, Api::Sharing)?;
        let state = self.state();
        let mut portal = json!({
            "id": ORG_ID,
            "name": "Sandbox County GIS",
            "portalName": "Portal for ArcGIS",
            "isPortal": true,
            "allSSL": request.origin.starts_with("https"),
            "portalMode": "multitenant",
            "currentVersion": self.options.version,
            "supportsOAuth": true,
            "urlKey": null,
            "customBaseUrl": request.origin.trim_start_matches("https://").trim_start_matches("http://"),
            "portalHostname": format!("{}/portal", request.origin.trim_start_matches("https://").trim_start_matches("http://")),
            "defaultUserTypeIdForUser": "creatorUT",
            "subscriptionInfo": {"type": "Enterprise"},
        });
        if let Some(i) = caller {
            portal["user"] = state.members[i].to_json(true);
        }
        if self.options.deployment == Deployment::Kubernetes {
            portal["portalDeploymentType"] = json!("ArcGISEnterpriseOnKubernetes");
        }
        Ok(formatted(request, &portal))
    }

    fn roles(&self, request: &PortalRequest<'_>) -> Answer {
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

    fn user_types(&self, request: &PortalRequest<'_>) -> Answer {
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

    fn list_users(&self, request: &PortalRequest<'_>) -> Answer {
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

    /// `community/users` search: `field:value` terms (orgid, username, fullname, email, role,
    /// userlicensetype; a trailing `*` matches a prefix) and free text, all of which must match.
    fn search(&self, request: &PortalRequest<'_>, caller: usize) -> Answer {
        let q = request.param("q").unwrap_or("").replace(['(', ')'], " ");
        let terms: Vec<&str> = q
            .split_whitespace()
            .filter(|t| !t.eq_ignore_ascii_case("AND"))
            .collect();
        let state = self.state();
        let full = state.members[caller].is_admin();
        let matches = |m: &PortalMember| {
            terms.iter().all(|term| {
                let term = term.trim_matches('"');
                let (field, value) = match term.split_once(':') {
                    Some((f, v)) => (Some(f.to_ascii_lowercase()), v.to_lowercase()),
                    None => (None, term.to_lowercase()),
                };
                let like = |text: &str| {
                    let text = text.to_lowercase();
                    if value == "*" {
                        true
                    } else if let Some(prefix) = value.strip_suffix('*') {
                        text.starts_with(prefix)
                    } else {
                        text == value
                    }
                };
                match field.as_deref() {
                    Some("orgid") => like(ORG_ID),
                    Some("username") => like(&m.username),
                    Some("fullname") => {
                        like(&m.full_name)
                            || m.full_name
                                .to_lowercase()
                                .contains(value.trim_end_matches('*'))
                    }
                    Some("email") => full && like(&m.email),
                    Some("role") => like(&m.role_id) || like(m.role().role),
                    Some("userlicensetype") => like(&m.user_type),
                    Some(_) => false,
                    None => {
                        let needle = value.trim_end_matches('*');
                        [&m.username, &m.full_name, &m.department]
                            .iter()
                            .any(|f| f.to_lowercase().contains(needle))
                    }
                }
            })
        };
        let mut chosen: Vec<&PortalMember> = state.members.iter().filter(|m| matches(m)).collect();
        sort_members(
            &mut chosen,
            request.param("sortField"),
            request.param("sortOrder"),
        );
        formatted(
            request,
            &page(request, chosen, "results", |m| m.to_json(full)),
        )
    }

    fn one_user(
        &self,
        request: &PortalRequest<'_>,
        rest: &str,
    ) -> std::result::Result<Answer, Answer> {
        let caller = self.signed_in(request, Api::Sharing)?;
        let (name, tail) = match rest.split_once('/') {
            Some((name, tail)) => (name, Some(tail)),
            None => (rest, None),
        };
        let name = percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .to_string();
        let state = self.state();
        let Some(i) = state.find(&name) else {
            return Ok(user_missing());
        };
        let member = &state.members[i];
        let full = caller == i || state.members[caller].is_admin();
        match tail {
            None => Ok(formatted(request, &member.to_json(full))),
            Some("userlicensetype") => {
                let def = user_type_def(&member.user_type).unwrap_or(&USER_TYPES[0]);
                Ok(formatted(
                    request,
                    &json!({"id": def.id, "name": def.name, "apps": def.apps}),
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

    fn update_license_type(
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
        let member = &mut state.members[i];
        member.user_type = target.id.into();
        member.modified = now_ms();
        Ok(())
    }

    fn update_role(&self, request: &PortalRequest<'_>) -> std::result::Result<Answer, Answer> {
        self.admin(request, Api::Sharing)?;
        only_post(request, Api::Sharing)?;
        let name = request
            .param("user")
            .or(request.param("username"))
            .unwrap_or("");
        let wanted = request.param("role").unwrap_or("").trim();
        let mut state = self.state();
        let Some(i) = state.find(name) else {
            return Ok(user_missing());
        };
        let Some(role) = role_def(wanted) else {
            return Ok(error_answer(
                Api::Sharing,
                400,
                &format!("Invalid role '{wanted}'."),
                &[],
            ));
        };
        let member = &mut state.members[i];
        let user_type = user_type_def(&member.user_type).unwrap_or(&USER_TYPES[0]);
        if role.rank > user_type.max_rank {
            return Ok(error_answer(
                Api::Sharing,
                400,
                &format!(
                    "The role '{}' is not compatible with the user type '{}' of '{}'.",
                    role.name, user_type.name, member.username
                ),
                &[],
            ));
        }
        member.role_id = role.id.into();
        member.modified = now_ms();
        let username = member.username.clone();
        Ok(formatted(
            request,
            &json!({"success": true, "username": username}),
        ))
    }

    fn update_level(&self, request: &PortalRequest<'_>) -> std::result::Result<Answer, Answer> {
        self.admin(request, Api::Sharing)?;
        only_post(request, Api::Sharing)?;
        let name = request
            .param("user")
            .or(request.param("userName"))
            .unwrap_or("");
        let level = request.param("level").unwrap_or("").trim();
        let state = self.state();
        let Some(i) = state.find(name) else {
            return Ok(user_missing());
        };
        if level != "1" && level != "2" {
            return Ok(error_answer(
                Api::Sharing,
                400,
                &format!("Invalid level '{level}'."),
                &["level must be 1 or 2."],
            ));
        }
        let member = &state.members[i];
        if level_of(&member.user_type) != level {
            return Ok(error_answer(
                Api::Sharing,
                400,
                "The level of a user is set by their user type on this portal.",
                &["Change the user type instead."],
            ));
        }
        let username = member.username.clone();
        Ok(formatted(
            request,
            &json!({"success": true, "username": username}),
        ))
    }

    fn portal_admin(&self, request: &PortalRequest<'_>, path: &str) -> Answer {
        let result = match path {
            "" => self.admin(request, Api::Admin).map(|_| {
                formatted(
                    request,
                    &json!({"resources": ["license", "security", "system", "logs"], "currentVersion": self.options.version}),
                )
            }),
            "/license" => self.admin(request, Api::Admin).map(|_| self.license(request)),
            "/license/releaselicense" if version_at_least(&self.options.version, (7, 1)) => {
                self.release_license(request, true)
            }
            "/system/licenses/releaselicense"
                if !version_at_least(&self.options.version, (7, 1)) =>
            {
                self.release_license(request, false)
            }
            _ => Ok(error_answer(Api::Admin, 404, "Resource not found.", &[])),
        };
        result.unwrap_or_else(|answer| answer)
    }

    fn license(&self, request: &PortalRequest<'_>) -> Answer {
        let state = self.state();
        let types: Vec<Value> = USER_TYPES
            .iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "maximumRegisteredMembers": state.seats.get(t.id).copied().unwrap_or(0),
                    "currentRegisteredMembers": state.in_use(t.id),
                    "expiration": -1,
                })
            })
            .collect();
        let maximum: i64 = state.seats.values().sum();
        formatted(
            request,
            &json!({
                "currentRegisteredMembers": state.members.len(),
                "maximumRegisteredMembers": maximum,
                "userTypes": types,
                "appBundles": [],
            }),
        )
    }
}

fn user_missing() -> Answer {
    error_answer(
        Api::Sharing,
        400,
        "User does not exist or is inaccessible.",
        &[],
    )
}

/// The 403 a signed-in member without the privilege gets, in the envelope of `api`.
fn forbidden(api: Api) -> Answer {
    error_answer(
        api,
        403,
        "You do not have permissions to access this resource or perform this operation.",
        &[],
    )
}

fn only_post(request: &PortalRequest<'_>, api: Api) -> std::result::Result<(), Answer> {
    if request.method == "POST" {
        Ok(())
    } else {
        Err(error_answer(
            api,
            405,
            "This operation is supported only with POST.",
            &[],
        ))
    }
}

fn sort_members(members: &mut [&PortalMember], field: Option<&str>, order: Option<&str>) {
    let field = field.unwrap_or("username").to_ascii_lowercase();
    match field.as_str() {
        "fullname" => members.sort_by_cached_key(|m| m.full_name.to_lowercase()),
        "created" => members.sort_by_key(|m| m.created),
        "lastlogin" => members.sort_by_key(|m| m.last_login),
        "level" => members.sort_by_key(|m| level_of(&m.user_type)),
        "role" => members.sort_by_cached_key(|m| m.role_id.clone()),
        // Already in user name order.
        _ => {}
    }
    if order.is_some_and(|o| o.eq_ignore_ascii_case("desc")) {
        members.reverse();
    }
}

/// A JSON map of a member, for the sandbox's Python inspection helpers.
pub fn member_map(member: &PortalMember) -> Map<String, Value> {
    let mut map = match member.to_json(true) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    map.insert("proOffline".into(), json!(member.pro_offline()));
    map.insert("offlineApps".into(), json!(member.offline));
    let entitlements: Map<String, Value> = LISTINGS
        .iter()
        .zip(&member.licenses)
        .map(|(listing, held)| (listing.title.to_owned(), json!(held)))
        .collect();
    map.insert("entitlements".into(), Value::Object(entitlements));
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> PortalSite {
        PortalSite::seeded(PortalSiteOptions::default(), 7).unwrap()
    }

    fn ask(site: &PortalSite, path: &str, params: &[(&str, &str)], token: Option<&str>) -> Value {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([("f".to_owned(), "json".to_owned())])
            .collect();
        let request = PortalRequest {
            method: "POST",
            path,
            params: &params,
            header_token: token,
            referer: Some("test"),
            origin: "https://127.0.0.1:1",
        };
        let (_, _, body) = site.respond(&request);
        serde_json::from_str(&body).unwrap()
    }

    fn sign_in(site: &PortalSite, username: &str, password: &str) -> String {
        let reply = ask(
            site,
            "/portal/sharing/rest/generatetoken",
            &[
                ("username", username),
                ("password", password),
                ("client", "referer"),
                ("referer", "test"),
            ],
            None,
        );
        reply["token"].as_str().unwrap().to_owned()
    }

    #[test]
    fn the_seeded_org_has_every_user_type_and_fits_its_seats() {
        let site = site();
        let members = site.members();
        assert_eq!(members.len(), 300);
        for t in USER_TYPES {
            assert!(members.iter().any(|m| m.user_type == t.id), "{}", t.id);
        }
        assert_eq!(members.iter().filter(|m| m.pro_offline()).count(), 5);
        for m in &members {
            let t = user_type_def(&m.user_type).unwrap();
            assert!(m.role().rank <= t.max_rank, "{m:?}");
        }
    }

    #[test]
    fn wrong_password_and_lockout() {
        let site = site();
        let options = PortalSiteOptions::default();
        for _ in 0..FAILED_LOGINS_BEFORE_LOCK {
            let reply = ask(
                &site,
                "/portal/sharing/rest/generatetoken",
                &[("username", "member"), ("password", "no")],
                None,
            );
            assert_eq!(
                reply["error"]["details"][0],
                "Invalid username or password."
            );
        }
        let reply = ask(
            &site,
            "/portal/sharing/rest/generatetoken",
            &[("username", "member"), ("password", &options.user_password)],
            None,
        );
        assert!(
            reply["error"]["details"][0]
                .as_str()
                .unwrap()
                .contains("Too many"),
            "{reply}"
        );
    }

    #[test]
    fn changes_follow_the_rules() {
        let site = site();
        let options = PortalSiteOptions::default();
        let token = sign_in(&site, &options.admin_username, &options.admin_password);
        let members = site.members();
        let offline = members.iter().find(|m| m.pro_offline()).unwrap();
        let publisher = members
            .iter()
            .find(|m| m.role_id == "org_publisher" && !m.pro_offline())
            .unwrap();
        let viewer = members.iter().find(|m| m.user_type == "viewerUT").unwrap();
        let users = json!([
            offline.username,
            publisher.username,
            viewer.username,
            "nobody-here"
        ])
        .to_string();
        let reply = ask(
            &site,
            "/portal/sharing/rest/portals/self/updateuserlicensetype",
            &[("users", &users), ("userLicenseType", "editorUT")],
            Some(&token),
        );
        let results = reply["results"].as_array().unwrap();
        assert!(results[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("offline"));
        assert!(results[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not compatible"));
        assert_eq!(results[2]["status"], true);
        assert!(results[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"));
        assert_eq!(site.member(&viewer.username).unwrap().user_type, "editorUT");

        let member_token = sign_in(&site, &options.user_username, &options.user_password);
        let reply = ask(
            &site,
            "/portal/sharing/rest/portals/self/updateuserlicensetype",
            &[
                ("users", &viewer.username),
                ("userLicenseType", "creatorUT"),
            ],
            Some(&member_token),
        );
        assert_eq!(reply["error"]["code"], 403);
    }

    #[test]
    fn tokens_expire_and_are_checked() {
        let site = site();
        let reply = ask(&site, "/portal/sharing/rest/community/self", &[], None);
        assert_eq!(reply["error"]["code"], 499);
        let reply = ask(
            &site,
            "/portal/sharing/rest/community/self",
            &[],
            Some("made-up"),
        );
        assert_eq!(reply["error"]["code"], 498);
        let options = PortalSiteOptions::default();
        let token = sign_in(&site, &options.user_username, &options.user_password);
        let reply = ask(
            &site,
            "/portal/sharing/rest/community/self",
            &[],
            Some(&token),
        );
        assert_eq!(reply["username"], options.user_username);
        site.expire_tokens();
        let reply = ask(
            &site,
            "/portal/sharing/rest/community/self",
            &[],
            Some(&token),
        );
        assert_eq!(reply["error"]["code"], 498);
    }
}
