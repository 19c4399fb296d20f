//! What each portal release serves, as the version table says.

use super::*;

/// A GET of `/portal{path}` with `token`.
fn get(site: &PortalSite, path: &str, params: &[(&str, &str)], token: &str) -> Value {
    ask(site, &format!("/portal{path}"), params, Some(token))
}

#[test]
fn the_endpoints_the_official_client_calls_are_served_where_the_version_has_them() {
    let site = site();
    let admin = site.options.admin_username.clone();
    let token = sign_in(&site, &admin, &site.options.admin_password.clone());
    let counts = get(
        &site,
        "/sharing/rest/portals/self/users/counts",
        &[("type", "userLicenseType"), ("num", "100")],
        &token,
    );
    let results = counts["results"].as_array().unwrap();
    let total: u64 = results.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(total, site.options.members as u64);
    assert!(results.iter().any(|r| r["key"] == "creatorUT"));
    let roles = get(
        &site,
        "/sharing/rest/portals/self/users/counts",
        &[("type", "role")],
        &token,
    );
    assert!(roles["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["key"] == "org_admin"));
    let wrong = get(
        &site,
        "/sharing/rest/portals/self/users/counts",
        &[("type", "colour")],
        &token,
    );
    assert_eq!(wrong["error"]["code"], 400, "{wrong}");
    let bundles = get(&site, "/sharing/rest/portals/self/appbundles", &[], &token);
    assert_eq!(
        (bundles["total"].clone(), bundles["appBundles"].clone()),
        (0.into(), json!([])),
        "{bundles}"
    );
    let record = get(
        &site,
        &format!("/sharing/rest/community/users/{admin}"),
        &[],
        &token,
    );
    assert_eq!(record["groups"], json!([]));
    assert!(record["storageQuota"].as_i64().unwrap() > 0);
    let mine = get(
        &site,
        &format!("/sharing/rest/community/users/{admin}/appbundles"),
        &[],
        &token,
    );
    assert_eq!(mine["appBundles"], json!([]));
    let system = get(&site, "/portaladmin/system", &[], &token);
    assert!(system["resources"]
        .as_array()
        .unwrap()
        .contains(&json!("licenses")));
    // From 10.7 the license is portaladmin/license; system/licenses was before it.
    let old_place = get(&site, "/portaladmin/system/licenses", &[], &token);
    assert_eq!(old_place["status"], "error", "{old_place}");
}

/// 10.6 (REST 6.1): the license under system/licenses, and no counts yet.
#[test]
fn a_portal_of_10_6_serves_its_license_where_it_was_then() {
    let admin = PortalSiteOptions::default().admin_username;
    let old = PortalSite::seeded(
        PortalSiteOptions {
            version: "6.1".into(),
            ..PortalSiteOptions::default()
        },
        7,
    )
    .unwrap();
    let old_token = sign_in(&old, &admin, &old.options.admin_password.clone());
    let licenses = get(&old, "/portaladmin/system/licenses", &[], &old_token);
    assert_eq!(licenses["currentRegisteredMembers"], old.options.members);
    let features = licenses["features"].as_array().unwrap();
    let members: i64 = features
        .iter()
        .map(|f| f["currentRegisteredMembers"].as_i64().unwrap())
        .sum();
    assert_eq!(members, old.options.members as i64);
    // It predates counts (REST 6.4).
    let counts = get(
        &old,
        "/sharing/rest/portals/self/users/counts",
        &[("type", "role")],
        &old_token,
    );
    assert!(counts.get("error").is_some(), "{counts}");
}

/// On Kubernetes the license and the organization are under admin/orgs/<id>.
#[test]
fn a_portal_on_kubernetes_serves_its_license_under_its_organization() {
    let admin = PortalSiteOptions::default().admin_username;
    let k8s = PortalSite::seeded(
        PortalSiteOptions {
            deployment: Deployment::Kubernetes,
            version: "2024.1".into(),
            ..PortalSiteOptions::default()
        },
        7,
    )
    .unwrap();
    let k8s_token = sign_in(&k8s, &admin, &k8s.options.admin_password.clone());
    let license = get(
        &k8s,
        &format!("/admin/orgs/{}/license", org::ORG_ID),
        &[],
        &k8s_token,
    );
    assert!(
        license["userTypes"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{license}"
    );
    assert_eq!(license["version"], "11.3");
    let org = get(
        &k8s,
        &format!("/admin/orgs/{}", org::ORG_ID),
        &[],
        &k8s_token,
    );
    assert!(
        org["webAdaptorRegistrationToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("eyJ")),
        "{org}"
    );
}

/// A portal of one release and deployment, signed in as its administrator.
struct Played {
    site: PortalSite,
    token: String,
    admin: String,
    version: String,
    release: &'static crate::portal::versions::Release,
    deployment: Deployment,
    what: String,
}

impl Played {
    fn new(release: &'static crate::portal::versions::Release, deployment: Deployment) -> Played {
        let version = format!("{}.{}", release.rest.0, release.rest.1);
        let site = PortalSite::seeded(
            PortalSiteOptions {
                members: 40,
                offline_members: 1,
                version: version.clone(),
                deployment,
                ..PortalSiteOptions::default()
            },
            7,
        )
        .unwrap();
        let admin = site.options.admin_username.clone();
        let token = sign_in(&site, &admin, &site.options.admin_password.clone());
        Played {
            site,
            token,
            admin,
            version,
            release,
            deployment,
            what: format!("{} {deployment:?}", release.name),
        }
    }

    fn get(&self, path: &str, params: &[(&str, &str)]) -> Value {
        ask(
            &self.site,
            &format!("/portal{path}"),
            params,
            Some(&self.token),
        )
    }

    fn has(&self, feature: Feature) -> bool {
        feature.at(&self.version)
    }

    /// The sharing API's root, counts and user types, where the release has them.
    fn check_sharing(&self) {
        let (what, version) = (&self.what, self.version.as_str());
        let root = self.get("/sharing/rest", &[]);
        assert_eq!(root["currentVersion"], version, "{what}");
        let named = self
            .has(Feature::EnterpriseVersion)
            .then(|| format!("{}.0", self.release.name));
        assert_eq!(
            root["enterpriseVersion"].as_str(),
            named.as_deref(),
            "{what}"
        );
        let counts = self.get(
            "/sharing/rest/portals/self/users/counts",
            &[("type", "role")],
        );
        let types = self.get("/sharing/rest/portals/self/userlicensetypes", &[]);
        for (reply, feature) in [(&counts, Feature::Counts), (&types, Feature::UserTypes)] {
            if self.has(feature) {
                assert!(reply.get("error").is_none(), "{what}: {reply}");
            } else {
                assert_eq!(reply["error"]["message"], "Invalid URL", "{what}: {reply}");
            }
        }
    }

    /// The administrator API under its deployment's root (not the other's), and its license.
    fn check_admin(&self) {
        let what = &self.what;
        let (admin_root, license_path) = match self.deployment {
            Deployment::Classic => ("/portaladmin", "/portaladmin/license".to_owned()),
            Deployment::Kubernetes => ("/admin", format!("/admin/orgs/{}/license", org::ORG_ID)),
            Deployment::Online => unreachable!("Online has no admin API: tests/online.rs"),
        };
        let other_root = match self.deployment {
            Deployment::Classic => "/portal/admin",
            Deployment::Kubernetes => "/portal/portaladmin",
            Deployment::Online => unreachable!("Online has no admin API: tests/online.rs"),
        };
        let (status, _, _) = self.site.respond(&PortalRequest {
            method: "GET",
            path: other_root,
            params: &[],
            header_token: Some(&self.token),
            referer: Some("test"),
            origin: "https://127.0.0.1:1",
            web_user: None,
        });
        assert_eq!(status, 404, "{what}: {other_root}");
        let root = self.get(admin_root, &[]);
        assert!(root.get("status").is_none(), "{what}: {root}");
        if self.deployment == Deployment::Kubernetes {
            assert_eq!(root["fullVersion"], self.release.name, "{what}: {root}");
        }
        let license = self.get(&license_path, &[]);
        if self.has(Feature::UserTypes) {
            assert_eq!(license["version"], self.release.name, "{what}: {license}");
        } else {
            assert_eq!(license["code"], 404, "{what}: {license}");
            let old = self.get("/portaladmin/system/licenses", &[]);
            assert_eq!(old["currentRegisteredMembers"], 40, "{what}: {old}");
        }
    }

    /// Releasing: where, and which apps.
    fn check_releasing(&self) {
        let what = &self.what;
        let release_path = match self.deployment {
            Deployment::Classic if self.has(Feature::UserTypes) => {
                "/portaladmin/license/releaselicense".to_owned()
            }
            Deployment::Classic => "/portaladmin/system/licenses/releaselicense".into(),
            Deployment::Kubernetes => {
                format!("/admin/orgs/{}/license/releaselicense", org::ORG_ID)
            }
            Deployment::Online => unreachable!("Online has no releaseLicense: tests/online.rs"),
        };
        let release_app = |app: &str| {
            self.get(
                &release_path,
                &[("username", self.admin.as_str()), ("appId", app)],
            )
        };
        let pro = release_app("arcgisprodesktop");
        if self.deployment == Deployment::Kubernetes && !self.has(Feature::KubernetesRelease) {
            assert_eq!(pro["code"], 404, "{what}: {pro}");
            return;
        }
        assert_eq!(pro["status"], "success", "{what}: {pro}");
        for (app, feature) in [
            ("drone2map", Feature::ReleaseDrone2Map),
            ("arcgisallsource", Feature::ReleaseAllSource),
        ] {
            let reply = release_app(app);
            // Before 10.7 the old endpoint takes no appId: it frees ArcGIS Pro.
            if self.has(feature) || !self.has(Feature::UserTypes) {
                assert_eq!(reply["status"], "success", "{what} {app}: {reply}");
            } else {
                assert!(
                    reply["messages"][0]
                        .as_str()
                        .unwrap()
                        .contains("Invalid appId"),
                    "{what} {app}: {reply}"
                );
            }
        }
    }
}

/// Each release of the version table serves what came with it and refuses the rest as a
/// real portal refuses an unknown resource.
#[test]
fn each_release_serves_what_the_version_table_gives_it() {
    use crate::portal::versions::RELEASES;
    for release in RELEASES {
        let version = format!("{}.{}", release.rest.0, release.rest.1);
        let mut deployments = vec![Deployment::Classic];
        if Feature::Kubernetes.at(&version) {
            deployments.push(Deployment::Kubernetes);
        }
        for deployment in deployments {
            let played = Played::new(release, deployment);
            played.check_sharing();
            played.check_admin();
            played.check_releasing();
        }
    }
}

/// Versions it does not play are refused when the site is made.
#[test]
fn versions_the_sandbox_does_not_play_are_refused() {
    for (version, deployment, says) in [
        ("5.1", Deployment::Classic, "10.6 (REST 6.1) and later"),
        ("ten", Deployment::Classic, "not a REST version"),
        ("8.4", Deployment::Kubernetes, "came with 10.9"),
    ] {
        let refused = PortalSite::seeded(
            PortalSiteOptions {
                version: version.into(),
                deployment,
                ..PortalSiteOptions::default()
            },
            7,
        );
        let message = refused.err().expect(version).to_string();
        assert!(message.contains(says), "{version}: {message}");
    }
}
