//! An emulated ArcGIS Enterprise portal: the sharing and portaladmin REST API of
//! `spec/portal-rest.md` over a seeded organization.
//!
//! Split as the client is: `wire` (requests, reply formats, error envelopes, paging), `auth`
//! (generateToken, tokens, referers, privileges), `org` (user types, roles, members, seats,
//! seeding), `users` (the member endpoints), `licenses` (purchases, entitlements, releasing).
//! This module holds the site and routes each request to its endpoint.
//!
//! Choices where the spec says "unverified" (the client tolerates other forms):
//! `updateUserLicenseType` takes at most 100 users per request and reports a failed user as
//! `{"username", "status": false, "error": {"code", "message"}}`; the default listing order
//! is by user name; `updateUserLevel` on a portal with user types accepts only the level the
//! user type implies. Before 10.7 (`version` below 7.1) there are no user types: members
//! have a level, `portals/self` states the seats per level as `subscriptionInfo.maxUsersPerLevel`
//! (the shape ArcGIS Online uses), and the user-type endpoints answer as unknown ones do.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use crate::portal::versions::{release_of, Feature};

mod auth;
mod create;
mod leavers;
mod licenses;
mod oauth;
mod online;
mod org;
mod query;
mod users;
mod wire;

pub use licenses::{Deployment, LISTINGS, PRO_ITEM_ID};
pub use oauth::{pkce_challenge, OOB};
pub use org::{member_map, PortalMember, ANALYST_ROLE, DATA_EDITOR_ROLE, ORG_ID, VIEWER_ROLE};
pub use users::MAX_BATCH;
pub use wire::{fault_reply, Answer, PortalRequest, REDIRECT};

use org::{PortalState, MANAGE_LICENSES};
use wire::{error_answer, formatted, not_found_page, page, Api, HTML};

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
    /// Classic Enterprise (portaladmin), Enterprise on Kubernetes (the `admin` API) or an
    /// ArcGIS Online organization (no administrator API, served at the host's root).
    pub deployment: Deployment,
    /// The registered OAuth app: its client id and secret (loopback and oob redirects).
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
}

impl PortalSiteOptions {
    /// Whether this portal's release has `feature` (`crate::portal::versions`, the one table
    /// of what came when).
    pub fn serves(&self, feature: Feature) -> bool {
        self.deployment.has(feature, &self.version)
    }

    /// Whether it plays an ArcGIS Online organization.
    pub fn online(&self) -> bool {
        self.deployment == Deployment::Online
    }

    /// Where the site is below its host: Enterprise behind its web adaptor (`/portal`), an
    /// Online organization at the root (`https://<urlKey>.maps.arcgis.com`).
    pub fn web_root(&self) -> &'static str {
        if self.online() {
            ""
        } else {
            "/portal"
        }
    }

    /// The release this portal plays, as `portaladmin/license` names it.
    pub fn release(&self) -> &str {
        release_of(&self.version).map_or(&self.version, |r| r.name)
    }
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
            oauth_client_id: "gislicensesandbox".into(),
            oauth_client_secret: "sandbox-app-secret".into(),
        }
    }
}

pub struct PortalSite {
    options: PortalSiteOptions,
    state: Mutex<PortalState>,
}

impl PortalSite {
    pub fn options(&self) -> &PortalSiteOptions {
        &self.options
    }

    /// Where the site is below its host ([`PortalSiteOptions::web_root`]).
    pub(super) fn web_root(&self) -> &'static str {
        self.options.web_root()
    }

    /// Answer one request. `path` is below the web adaptor (`/portal`).
    pub fn respond(&self, request: &PortalRequest<'_>) -> Answer {
        let path = request.path;
        // An Online organization is served at its host's root, as `<urlKey>.maps.arcgis.com`.
        let prefix = self.options.web_root();
        let Some(rest) = path.strip_prefix(prefix) else {
            return not_found_page();
        };
        match rest {
            "" | "/" | "/home" | "/home/index.html" if self.options.online() => (
                200,
                HTML,
                "<html><head><title>ArcGIS Online (gislicense sandbox)</title></head><body><h1>ArcGIS Online</h1></body></html>".into(),
            ),
            "" | "/home" | "/home/index.html" => (
                200,
                HTML,
                "<html><head><title>ArcGIS Enterprise (gislicense sandbox)</title></head><body><h1>Portal for ArcGIS</h1></body></html>".into(),
            ),
            // The official client probes these for IWA/PKI and reads only WWW-Authenticate.
            "/info" | "/rest/info" | "/rest/services" => not_found_page(),
            "/sharing" | "/sharing/rest" => {
                let mut root = json!({"currentVersion": self.options.version});
                if self.options.serves(Feature::EnterpriseVersion) {
                    // As Esri's example: "2024.1" with "11.3.0". The build number is left
                    // out: the sandbox has none to give.
                    root["enterpriseVersion"] = json!(format!("{}.0", self.options.release()));
                }
                formatted(request, &root)
            }
            "/sharing/rest/info" => {
                let sharing = format!("{}{prefix}/sharing/rest", request.origin);
                formatted(
                    request,
                    &json!({
                        "owningSystemUrl": format!("{}{prefix}", request.origin),
                        "authInfo": {
                            "tokenServicesUrl": format!("{sharing}/generateToken"),
                            "isTokenBasedSecurity": true,
                        },
                    }),
                )
            }
            "/sharing/rest/generatetoken" | "/sharing/generatetoken" => self.generate_token(request),
            "/sharing/rest/oauth2/authorize" | "/sharing/oauth2/authorize" => self.authorize(request),
            "/sharing/rest/oauth2/signin" | "/sharing/oauth2/signin" => self.oauth_sign_in(request),
            "/sharing/rest/oauth2/token" | "/sharing/oauth2/token" => self.oauth_token(request),
            _ => {
                if let Some(sharing) = rest.strip_prefix("/sharing/rest/") {
                    self.sharing(request, sharing)
                } else if rest == "/portaladmin" || rest.starts_with("/portaladmin/") {
                    // Kubernetes and Online have no Portal Administrator API: a 404 page.
                    match self.options.deployment {
                        Deployment::Classic => {
                            self.portal_admin(request, rest.trim_start_matches("/portaladmin"))
                        }
                        Deployment::Kubernetes | Deployment::Online => not_found_page(),
                    }
                } else if rest == "/admin" || rest.starts_with("/admin/") {
                    match self.options.deployment {
                        Deployment::Kubernetes => {
                            self.kubernetes_admin(request, rest.trim_start_matches("/admin"))
                        }
                        Deployment::Classic | Deployment::Online => not_found_page(),
                    }
                } else {
                    not_found_page()
                }
            }
        }
    }

    fn sharing(&self, request: &PortalRequest<'_>, path: &str) -> Answer {
        let api = Api::Sharing;
        let path = &wire::self_path(path);
        let result = match path.as_str() {
            "portals/self" => self.portal_self(request),
            "portals/self/roles" => self.signed_in(request, api).map(|_| self.roles(request)),
            "portals/self/users" => self.admin(request, api).map(|_| self.list_users(request)),
            "portals/self/userlicensetypes" if self.options.serves(Feature::UserTypes) => self
                .signed_in(request, api)
                .map(|_| self.user_types(request)),
            "portals/self/updateuserlicensetype" if self.options.serves(Feature::UserTypes) => {
                self.update_license_type(request)
            }
            "portals/self/updateuserrole" => self.update_role(request),
            "portals/self/updateuserlevel" => self.update_level(request),
            "portals/self/subscriptioninfo" if self.options.online() => {
                self.subscription_info(request)
            }
            "portals/self/purchases" => self
                .privileged(request, api, MANAGE_LICENSES)
                .map(|_| self.purchases(request)),
            "community/self" => self.signed_in(request, api).map(|i| {
                let state = self.state();
                formatted(request, &state.members[i].record(true))
            }),
            "community/users" => self
                .signed_in(request, api)
                .map(|i| self.search(request, i)),
            "portals/self/users/search" => {
                self.admin(request, api).map(|i| self.search(request, i))
            }
            "portals/self/users/counts" if self.options.serves(Feature::Counts) => {
                self.admin(request, api).map(|_| self.user_counts(request))
            }
            // The organization's app bundles: the sandbox has none.
            "portals/self/appbundles" if self.options.serves(Feature::Counts) => {
                self.signed_in(request, api).map(|_| {
                    formatted(
                        request,
                        &page(request, Vec::<Value>::new(), "appBundles", |v| v),
                    )
                })
            }
            _ => {
                if let Some(reply) = self.leavers(request, path) {
                    reply
                } else if let Some(rest) = path.strip_prefix("community/users/") {
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

    fn portal_admin(&self, request: &PortalRequest<'_>, path: &str) -> Answer {
        let result = match path {
            "" => self.admin(request, Api::Admin).map(|_| {
                formatted(
                    request,
                    &json!({"resources": ["license", "security", "system", "logs"], "currentVersion": self.options.version}),
                )
            }),
            "/license" if self.options.serves(Feature::UserTypes) => {
                self.admin(request, Api::Admin).map(|_| self.license(request))
            }
            p if p.eq_ignore_ascii_case("/security/users/createUser")
                && self.options.serves(Feature::UserTypes) =>
            {
                self.create_user(request)
            }
            "/license/releaselicense" if self.options.serves(Feature::UserTypes) => {
                self.release_license(request, true)
            }
            "/system/licenses/releaselicense" if !self.options.serves(Feature::UserTypes) => {
                self.release_license(request, false)
            }
            "/system" => self.admin(request, Api::Admin).map(|_| {
                formatted(
                    request,
                    &json!({"resources": ["properties", "directories", "licenses", "database", "indexer", "webadaptors", "languages"]}),
                )
            }),
            // The license resource before 10.7 (from 10.2.1): registered members against
            // the maximum, and per level (from 10.3).
            "/system/licenses" if !self.options.serves(Feature::UserTypes) => {
                self.admin(request, Api::Admin).map(|_| self.system_licenses(request))
            }
            _ => Ok(error_answer(Api::Admin, 404, "Resource not found.", &[])),
        };
        result.unwrap_or_else(|answer| answer)
    }
}

#[cfg(test)]
mod tests;
