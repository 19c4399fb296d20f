//! The sandbox playing an ArcGIS Online organization.

use super::*;

fn online() -> PortalSite {
    let options = PortalSiteOptions {
        deployment: Deployment::Online,
        ..PortalSiteOptions::default()
    };
    PortalSite::seeded(options, 7).unwrap()
}

fn raw(site: &PortalSite, path: &str, token: Option<&str>) -> (u16, String) {
    let params = vec![("f".to_owned(), "json".to_owned())];
    let request = PortalRequest {
        method: "GET",
        path,
        params: &params,
        header_token: token,
        referer: Some("test"),
        origin: "https://127.0.0.1:1",
        web_user: None,
    };
    let (status, _, body) = site.respond(&request);
    (status, body)
}

fn admin_token(site: &PortalSite) -> String {
    let reply = ask(
        site,
        "/sharing/rest/generatetoken",
        &[
            ("username", &site.options.admin_username.clone()),
            ("password", &site.options.admin_password.clone()),
            ("client", "referer"),
            ("referer", "test"),
        ],
        None,
    );
    reply["token"].as_str().unwrap().to_owned()
}

#[test]
fn online_is_served_at_the_root_and_says_it_is_online() {
    let site = online();
    let token = admin_token(&site);
    let me = ask(&site, "/sharing/rest/portals/self", &[], Some(&token));
    assert_eq!(me["isPortal"], false);
    assert_eq!(me["portalName"], "ArcGIS Online");
    assert_eq!(me["portalMode"], "multitenant");
    assert_eq!(me["urlKey"], "sandboxcounty");
    assert_eq!(me["customBaseUrl"], "maps.arcgis.com");
    assert_eq!(me["subscriptionInfo"]["type"], "In House");
    assert!(me["availableCredits"].as_f64().unwrap() > 0.0);
    assert_eq!(me["creditAssignments"], "enabled");
    // Seats per user type are stated, and the type ids are those the official client knows.
    let per_type = me["subscriptionInfo"]["userLicenseTypes"]
        .as_object()
        .unwrap();
    for id in ["viewerUT", "editorUT", "fieldWorkerUT", "creatorUT"] {
        assert!(per_type.contains_key(id), "{id} missing in {per_type:?}");
    }
    assert!(per_type.contains_key("GISProfessionalAdvUT"));
    // The same at portals/self/subscriptionInfo.
    let info = ask(
        &site,
        "/sharing/rest/portals/self/subscriptioninfo",
        &[],
        Some(&token),
    );
    assert_eq!(
        info["userLicenseTypes"],
        me["subscriptionInfo"]["userLicenseTypes"]
    );
    // Anonymous callers see no subscription.
    let anonymous = ask(&site, "/sharing/rest/portals/self", &[], None);
    assert!(anonymous.get("subscriptionInfo").is_none(), "{anonymous}");
    // No web adaptor: /portal is not there.
    let (status, _) = raw(&site, "/portal/sharing/rest/portals/self", Some(&token));
    assert_eq!(status, 404);
}

#[test]
fn online_seats_follow_set_seats() {
    let site = online();
    let token = admin_token(&site);
    site.set_seats("creatorUT", 1234).unwrap();
    let info = ask(
        &site,
        "/sharing/rest/portals/self/subscriptioninfo",
        &[],
        Some(&token),
    );
    assert_eq!(info["userLicenseTypes"]["creatorUT"], 1234);
}

#[test]
fn online_members_have_credits() {
    let site = online();
    let token = admin_token(&site);
    let admin = site.options.admin_username.clone();
    let me = ask(
        &site,
        &format!("/sharing/rest/community/users/{admin}"),
        &[],
        Some(&token),
    );
    assert_eq!(me["assignedCredits"], -1.0);
    let user = site.options.user_username.clone();
    let member = ask(
        &site,
        &format!("/sharing/rest/community/users/{user}"),
        &[],
        Some(&token),
    );
    assert_eq!(member["assignedCredits"], 500.0);
    let available = member["availableCredits"].as_f64().unwrap();
    assert!((100.0..=500.0).contains(&available), "{available}");
    // Enterprise members have no credits.
    let classic = site_enterprise_member();
    assert!(classic.get("assignedCredits").is_none());
}

fn site_enterprise_member() -> Value {
    let site = site();
    let admin = site.options.admin_username.clone();
    let token = sign_in(&site, &admin, &site.options.admin_password.clone());
    ask(
        &site,
        &format!("/portal/sharing/rest/community/users/{admin}"),
        &[],
        Some(&token),
    )
}

#[test]
fn online_has_no_administrator_api() {
    let site = online();
    let token = admin_token(&site);
    for path in [
        "/portaladmin",
        "/portaladmin/license",
        "/portaladmin/license/releaselicense",
        "/admin",
        "/admin/orgs",
    ] {
        let (status, body) = raw(&site, path, Some(&token));
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains("Not Found"), "{path}: {body}");
    }
    // What Online has works: user types, counts, and changing a member's type.
    let types = ask(
        &site,
        "/sharing/rest/portals/self/userlicensetypes",
        &[],
        Some(&token),
    );
    assert_eq!(types["userLicenseTypes"].as_array().unwrap().len(), 6);
    let counts = ask(
        &site,
        "/sharing/rest/portals/self/users/counts",
        &[("type", "userLicenseType")],
        Some(&token),
    );
    assert!(!counts["results"].as_array().unwrap().is_empty());
    // The sharing root names no Enterprise release.
    let root = ask(&site, "/sharing/rest", &[], None);
    assert!(root.get("enterpriseVersion").is_none(), "{root}");
}
