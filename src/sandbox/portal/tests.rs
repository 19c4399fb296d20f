use super::auth::FAILED_LOGINS_BEFORE_LOCK;
use super::org::{user_type_def, USER_TYPES};
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
        web_user: None,
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

fn names(reply: &Value) -> Vec<String> {
    reply["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {reply}"))
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn searches_read_the_query_syntax_real_clients_send() {
    let site = site();
    let admin = site.options.admin_username.clone();
    let token = sign_in(&site, &admin, &site.options.admin_password.clone());
    let search = |q: &str, extra: &[(&str, &str)]| {
        let mut params = vec![("q", q), ("num", "100")];
        params.extend_from_slice(extra);
        ask(
            &site,
            "/portal/sharing/rest/community/users",
            &params,
            Some(&token),
        )
    };
    let all: Vec<(String, String, String)> = {
        let state = site.state();
        state
            .members
            .iter()
            .map(|m| {
                (
                    m.username.clone(),
                    m.user_type.clone(),
                    m.role().id.to_owned(),
                )
            })
            .collect()
    };
    let expect = |keep: &dyn Fn(&(String, String, String)) -> bool| -> Vec<String> {
        all.iter()
            .filter(|m| keep(m))
            .map(|m| m.0.clone())
            .collect()
    };
    // What the official client sends for gis.users.search("username:a*").
    let a = expect(&|m| m.0.starts_with('a'));
    assert!(!a.is_empty());
    let q = format!("username:a* accountid:{}", org::ORG_ID);
    assert_eq!(names(&search(&q, &[])), a);
    assert_eq!(
        names(&search("username:a* accountid:someone_else", &[])),
        Vec::<String>::new()
    );
    // OR, NOT, parentheses, a field before a group.
    let a_or_b = expect(&|m| m.0.starts_with('a') || m.0.starts_with('b'));
    assert_eq!(names(&search("username:a* OR username:b*", &[])), a_or_b);
    assert_eq!(names(&search("username:(a* OR b*)", &[])), a_or_b);
    let a_not_creator = expect(&|m| m.0.starts_with('a') && m.1 != "creatorUT");
    assert_eq!(
        names(&search("username:a* NOT userlicensetype:creatorUT", &[])),
        a_not_creator
    );
    assert_eq!(
        names(&search("username:a* -userlicensetype:creatorUT", &[])),
        a_not_creator
    );
    let viewers_or_admins =
        expect(&|m| m.0.starts_with('a') && (m.1 == "viewerUT" || m.2 == "org_admin"));
    assert_eq!(
        names(&search(
            "username:a* AND (userlicensetype:viewerUT OR role:org_admin)",
            &[]
        )),
        viewers_or_admins
    );
    // The filter parameters: one of them, or all with applyFiltersIntersection.
    let creators = expect(&|m| m.1 == "creatorUT");
    let creators_or_admins = expect(&|m| m.1 == "creatorUT" || m.2 == "org_admin");
    let admin_creators = expect(&|m| m.1 == "creatorUT" && m.2 == "org_admin");
    let reply = search("*", &[("userLicenseType", "creatorUT")]);
    assert_eq!(reply["total"], creators.len());
    let reply = search(
        "*",
        &[("userLicenseType", "creatorUT"), ("role", "org_admin")],
    );
    assert_eq!(reply["total"], creators_or_admins.len());
    let reply = search(
        "*",
        &[
            ("userLicenseType", "creatorUT"),
            ("role", "org_admin"),
            ("applyFiltersIntersection", "true"),
        ],
    );
    assert_eq!(reply["total"], admin_creators.len());
    // A query that cannot be read is refused, as a portal refuses it.
    let reply = search("(username:a* OR", &[]);
    assert_eq!(reply["error"]["code"], 400, "{reply}");
    // The organization's own search is for administrators.
    let q = format!("username:a* accountid:{}", org::ORG_ID);
    let reply = ask(
        &site,
        "/portal/sharing/rest/portals/self/users/search",
        &[("q", &q), ("num", "100")],
        Some(&token),
    );
    assert_eq!(names(&reply), a);
    let user = site.options.user_username.clone();
    let user_token = sign_in(&site, &user, &site.options.user_password.clone());
    let reply = ask(
        &site,
        "/portal/sharing/rest/portals/self/users/search",
        &[("q", &q)],
        Some(&user_token),
    );
    assert_eq!(reply["error"]["code"], 403, "{reply}");
}

#[test]
fn the_endpoints_the_official_client_calls_are_served_where_the_version_has_them() {
    let site = site();
    let admin = site.options.admin_username.clone();
    let token = sign_in(&site, &admin, &site.options.admin_password.clone());
    let get = |site: &PortalSite, path: &str, params: &[(&str, &str)], token: &str| {
        ask(site, &format!("/portal{path}"), params, Some(token))
    };
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
    // 10.6 (REST 6.1) predates counts (6.4).
    let counts = get(
        &old,
        "/sharing/rest/portals/self/users/counts",
        &[("type", "role")],
        &old_token,
    );
    assert!(counts.get("error").is_some(), "{counts}");
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
            let what = format!("{} {deployment:?}", release.name);
            let admin = site.options.admin_username.clone();
            let token = sign_in(&site, &admin, &site.options.admin_password.clone());
            let get = |path: &str, params: &[(&str, &str)]| {
                ask(&site, &format!("/portal{path}"), params, Some(&token))
            };
            let root = get("/sharing/rest", &[]);
            assert_eq!(root["currentVersion"], version.as_str(), "{what}");
            let named = Feature::EnterpriseVersion
                .at(&version)
                .then(|| format!("{}.0", release.name));
            assert_eq!(
                root["enterpriseVersion"].as_str(),
                named.as_deref(),
                "{what}"
            );
            let counts = get(
                "/sharing/rest/portals/self/users/counts",
                &[("type", "role")],
            );
            let types = get("/sharing/rest/portals/self/userlicensetypes", &[]);
            for (reply, feature) in [(&counts, Feature::Counts), (&types, Feature::UserTypes)] {
                if feature.at(&version) {
                    assert!(reply.get("error").is_none(), "{what}: {reply}");
                } else {
                    assert_eq!(reply["error"]["message"], "Invalid URL", "{what}: {reply}");
                }
            }
            let (admin_root, license_path) = match deployment {
                Deployment::Classic => ("/portaladmin", "/portaladmin/license".to_owned()),
                Deployment::Kubernetes => {
                    ("/admin", format!("/admin/orgs/{}/license", org::ORG_ID))
                }
            };
            let other_root = match deployment {
                Deployment::Classic => "/portal/admin",
                Deployment::Kubernetes => "/portal/portaladmin",
            };
            let (status, _, _) = site.respond(&PortalRequest {
                method: "GET",
                path: other_root,
                params: &[],
                header_token: Some(&token),
                referer: Some("test"),
                origin: "https://127.0.0.1:1",
                web_user: None,
            });
            assert_eq!(status, 404, "{what}: {other_root}");
            let root = get(admin_root, &[]);
            assert!(root.get("status").is_none(), "{what}: {root}");
            if deployment == Deployment::Kubernetes {
                assert_eq!(root["fullVersion"], release.name, "{what}: {root}");
            }
            let license = get(&license_path, &[]);
            if Feature::UserTypes.at(&version) {
                assert_eq!(license["version"], release.name, "{what}: {license}");
            } else {
                assert_eq!(license["code"], 404, "{what}: {license}");
                let old = get("/portaladmin/system/licenses", &[]);
                assert_eq!(old["currentRegisteredMembers"], 40, "{what}: {old}");
            }
            // Releasing: where, and which apps.
            let release_path = match deployment {
                Deployment::Classic if Feature::UserTypes.at(&version) => {
                    "/portaladmin/license/releaselicense".to_owned()
                }
                Deployment::Classic => "/portaladmin/system/licenses/releaselicense".into(),
                Deployment::Kubernetes => {
                    format!("/admin/orgs/{}/license/releaselicense", org::ORG_ID)
                }
            };
            let release_app = |app: &str| {
                get(
                    &release_path,
                    &[("username", admin.as_str()), ("appId", app)],
                )
            };
            let pro = release_app("arcgisprodesktop");
            if deployment == Deployment::Kubernetes && !Feature::KubernetesRelease.at(&version) {
                assert_eq!(pro["code"], 404, "{what}: {pro}");
                continue;
            }
            assert_eq!(pro["status"], "success", "{what}: {pro}");
            for (app, feature) in [
                ("drone2map", Feature::ReleaseDrone2Map),
                ("arcgisallsource", Feature::ReleaseAllSource),
            ] {
                let reply = release_app(app);
                // Before 10.7 the old endpoint takes no appId: it frees ArcGIS Pro.
                if feature.at(&version) || !Feature::UserTypes.at(&version) {
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
    // Versions it does not play are refused when the site is made.
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

fn raw(site: &PortalSite, method: &str, path: &str, params: &[(&str, &str)]) -> Answer {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    site.respond(&PortalRequest {
        method,
        path,
        params: &params,
        header_token: None,
        referer: None,
        origin: "https://127.0.0.1:1",
        web_user: None,
    })
}

/// The `oauth_state` of a sign-in page (its `var oAuthInfo = {...};` line).
fn oauth_state(page: &str) -> String {
    let line = page
        .lines()
        .find_map(|l| l.strip_prefix("var oAuthInfo = "))
        .unwrap_or_else(|| panic!("no oAuthInfo in {page}"));
    let info: Value = serde_json::from_str(line.trim_end_matches(';')).unwrap();
    info["oauth_state"].as_str().unwrap().to_owned()
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(&location.replace('#', "?")).unwrap();
    url.query_pairs().into_owned().collect()
}

#[test]
fn oauth_signs_in_with_a_code_and_pkce_and_renews_by_refresh_token() {
    let site = site();
    let o = site.options.clone();
    let app = o.oauth_client_id.as_str();
    let redirect = "http://127.0.0.1:53682/callback";
    let verifier = "a-verifier-of-enough-length-for-pkce-0123456789";
    let challenge = pkce_challenge(verifier);
    let authorize = |client_id: &str, redirect: &str| {
        raw(
            &site,
            "GET",
            "/portal/sharing/rest/oauth2/authorize",
            &[
                ("client_id", client_id),
                ("response_type", "code"),
                ("redirect_uri", redirect),
                ("state", "xyz"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    };
    assert!(authorize("nobody", redirect)
        .2
        .contains("Invalid client_id"));
    assert!(authorize(app, "https://evil.example.com/")
        .2
        .contains("Invalid redirect_uri"));
    let page = authorize(app, redirect);
    assert_eq!(page.0, 200);
    let state = oauth_state(&page.2);
    let sign_in = |password: &str| {
        raw(
            &site,
            "POST",
            "/portal/sharing/oauth2/signin",
            &[
                ("oauth_state", &state),
                ("username", &o.admin_username),
                ("password", password),
            ],
        )
    };
    let refused = sign_in("wrong");
    assert!(refused.2.contains("OAUTH_0015") && refused.2.contains("Invalid username"));
    let (status, kind, location) = sign_in(&o.admin_password);
    assert_eq!((status, kind), (302, REDIRECT));
    assert!(location.starts_with(redirect), "{location}");
    let back = query_of(&location);
    assert_eq!(back["state"], "xyz");
    let code = back["code"].clone();
    let token = |params: &[(&str, &str)]| {
        let mut all = vec![("client_id", app)];
        all.extend_from_slice(params);
        let (_, _, body) = raw(&site, "POST", "/portal/sharing/rest/oauth2/token", &all);
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let exchange = |code: &str, verifier: &str| {
        token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
    };
    // A wrong verifier spends the code: a code is exchanged once.
    assert_eq!(exchange(&code, "wrong")["error"]["error"], "invalid_grant");
    assert_eq!(exchange(&code, verifier)["error"]["error"], "invalid_grant");
    let state = oauth_state(&authorize(app, redirect).2);
    let (_, _, location) = raw(
        &site,
        "POST",
        "/portal/sharing/oauth2/signin",
        &[
            ("oauth_state", &state),
            ("username", &o.admin_username),
            ("password", &o.admin_password),
        ],
    );
    let tokens = exchange(&query_of(&location)["code"], verifier);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        site.token_user(access).as_deref(),
        Some(o.admin_username.as_str())
    );
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let renewed = token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
    assert!(renewed["access_token"].as_str().is_some(), "{renewed}");
    site.revoke_refresh_tokens();
    let revoked = token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]);
    assert_eq!(revoked["error"]["error"], "invalid_token", "{revoked}");

    // The official client's default: implicit grant to the portal's own origin.
    let page = raw(
        &site,
        "GET",
        "/portal/sharing/rest/oauth2/authorize",
        &[
            ("client_id", "pythonapi"),
            ("response_type", "token"),
            ("redirect_uri", "https://127.0.0.1:1"),
            ("state", "abc"),
        ],
    );
    let state = oauth_state(&page.2);
    let (status, _, location) = raw(
        &site,
        "POST",
        "/portal/sharing/oauth2/signin",
        &[
            ("oauth_state", &state),
            ("username", &o.user_username),
            ("password", &o.user_password),
        ],
    );
    assert_eq!(status, 302);
    let back = query_of(&location);
    assert_eq!(back["state"], "abc");
    assert_eq!(
        site.token_user(&back["access_token"]).as_deref(),
        Some(o.user_username.as_str())
    );
}

#[test]
fn app_credentials_act_for_their_owner_from_11_4() {
    for (version, acts) in [("2024.1", false), ("2024.2", true)] {
        let site = PortalSite::seeded(
            PortalSiteOptions {
                version: version.into(),
                ..PortalSiteOptions::default()
            },
            7,
        )
        .unwrap();
        let o = site.options.clone();
        let grant = |secret: &str| {
            let (_, _, body) = raw(
                &site,
                "POST",
                "/portal/sharing/rest/oauth2/token",
                &[
                    ("client_id", &o.oauth_client_id),
                    ("client_secret", secret),
                    ("grant_type", "client_credentials"),
                ],
            );
            serde_json::from_str::<Value>(&body).unwrap()
        };
        assert_eq!(
            grant("wrong")["error"]["error_description"],
            "Invalid client_secret"
        );
        let token = grant(&o.oauth_client_secret)["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let listed = ask(
            &site,
            "/portal/sharing/rest/portals/self/users",
            &[],
            Some(&token),
        );
        assert_eq!(listed.get("error").is_none(), acts, "{version}: {listed}");
        if !acts {
            assert_eq!(listed["error"]["code"], 403, "{listed}");
        }
    }
}

#[test]
fn searches_page_through_only_the_first_10000_results() {
    let site = PortalSite::seeded(
        PortalSiteOptions {
            members: 10_250,
            ..PortalSiteOptions::default()
        },
        7,
    )
    .unwrap();
    let admin = site.options.admin_username.clone();
    let token = sign_in(&site, &admin, &site.options.admin_password.clone());
    let page = |path: &str, start: &str| {
        ask(
            &site,
            path,
            &[("q", "*"), ("start", start), ("num", "100")],
            Some(&token),
        )
    };
    let search = "/portal/sharing/rest/community/users";
    let last = page(search, "9901");
    assert_eq!(last["total"], 10_250);
    assert_eq!(last["results"].as_array().unwrap().len(), 100);
    assert_eq!(last["nextStart"], -1);
    let past = page(search, "10001");
    assert_eq!(past["total"], 10_250);
    assert!(past["results"].as_array().unwrap().is_empty());
    let straddling = page(search, "9951");
    assert_eq!(straddling["results"].as_array().unwrap().len(), 50);
    assert_eq!(straddling["nextStart"], -1);
    // The member listing is not a search: it serves every member.
    let listing = ask(
        &site,
        "/portal/sharing/rest/portals/self/users",
        &[("start", "10201"), ("num", "100")],
        Some(&token),
    );
    assert_eq!(listing["users"].as_array().unwrap().len(), 50);
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
fn a_portal_before_10_7_has_levels_and_seats_per_level_and_no_user_types() {
    let options = PortalSiteOptions {
        version: "6.1".into(),
        ..PortalSiteOptions::default()
    };
    let site = PortalSite::seeded(options.clone(), 7).unwrap();
    let token = sign_in(&site, &options.admin_username, &options.admin_password);
    let members = site.members();
    assert!(members.iter().all(|m| m.user_type.is_empty()));
    assert!(members.iter().all(|m| m.role().fits_level(m.level())));
    let listed = ask(
        &site,
        "/portal/sharing/rest/portals/self/users",
        &[],
        Some(&token),
    );
    let first = &listed["users"][0];
    assert!(first.get("userLicenseTypeId").is_none(), "{first}");
    assert!(first["level"] == "1" || first["level"] == "2");
    let me = ask(
        &site,
        "/portal/sharing/rest/portals/self",
        &[],
        Some(&token),
    );
    let per_level = &me["subscriptionInfo"]["maxUsersPerLevel"];
    assert!(per_level["1"].as_i64().unwrap() > 0 && per_level["2"].as_i64().unwrap() > 0);
    for path in [
        "/portal/sharing/rest/portals/self/userlicensetypes",
        "/portal/sharing/rest/portals/self/updateuserlicensetype",
    ] {
        let reply = ask(&site, path, &[], Some(&token));
        assert_eq!(reply["error"]["message"], "Invalid URL", "{path}");
    }
    let reply = ask(&site, "/portal/portaladmin/license", &[], Some(&token));
    assert_eq!(reply["code"], 404, "{reply}");

    // Down to level 1 only with a level 1 role; up to level 2 while seats last.
    let user = members
        .iter()
        .find(|m| m.level() == "2" && m.role_id == "org_user")
        .unwrap();
    let level = |l: &str| {
        ask(
            &site,
            "/portal/sharing/rest/portals/self/updateuserlevel",
            &[("user", &user.username), ("level", l)],
            Some(&token),
        )
    };
    assert!(level("1")["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a level 1 role"));
    let reply = ask(
        &site,
        "/portal/sharing/rest/portals/self/updateuserrole",
        &[("user", &user.username), ("role", VIEWER_ROLE)],
        Some(&token),
    );
    assert_eq!(reply["success"], true, "{reply}");
    assert_eq!(level("1")["success"], true);
    assert_eq!(site.member(&user.username).unwrap().level(), "1");
    let reply = ask(
        &site,
        "/portal/sharing/rest/portals/self/updateuserrole",
        &[("user", &user.username), ("role", "org_user")],
        Some(&token),
    );
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .contains("level 1 member"));
    let twos = site.members().iter().filter(|m| m.level() == "2").count();
    site.set_level_seats(2, twos as i64).unwrap();
    assert!(level("2")["error"]["message"]
        .as_str()
        .unwrap()
        .contains("maximum number of level 2"));
    site.set_level_seats(2, twos as i64 + 1).unwrap();
    assert_eq!(level("2")["success"], true);
    assert_counts_true(&site);
}

fn assert_counts_true(site: &PortalSite) {
    let state = site.state();
    for t in USER_TYPES {
        let recount = state.members.iter().filter(|m| m.user_type == t.id).count();
        assert_eq!(state.in_use(t.id), recount as i64, "{}", t.id);
    }
    for level in ["1", "2"] {
        let recount = state.members.iter().filter(|m| m.level() == level).count();
        assert_eq!(state.in_level(level), recount as i64, "level {level}");
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
    // The counts a change keeps (instead of recounting the organization) stay true.
    assert_counts_true(&site);

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
