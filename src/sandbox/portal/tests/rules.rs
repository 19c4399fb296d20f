//! The documented rules and shapes (docs/explanation/sandbox.md, "Documented rules"): Pro
//! only for user types that hold it, the organization search's capped total, `filter`,
//! `query`, organization-id paths, the userLicenseType shape, a 499's details.

use super::*;

const SHARING: &str = "/portal/sharing/rest";

fn admin_token(site: &PortalSite) -> String {
    let admin = site.options.admin_username.clone();
    sign_in(site, &admin, &site.options.admin_password.clone())
}

fn provision(site: &PortalSite, token: &str, user: &str, entitlements: &[&str]) -> Value {
    let body = json!({"users": [user], "entitlements": entitlements}).to_string();
    ask(
        site,
        &format!("{SHARING}/content/listings/{PRO_ITEM_ID}/provisionuserentitlements"),
        &[("userEntitlements", &body)],
        Some(token),
    )
}

#[test]
fn pro_goes_only_to_user_types_that_can_hold_it() {
    let site = site();
    let token = admin_token(&site);
    let members = site.members();
    let viewer = members.iter().find(|m| m.user_type == "viewerUT").unwrap();
    let reply = provision(&site, &token, &viewer.username, &["desktopBasicN"]);
    assert_eq!(reply["error"]["code"], 400, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("'Viewer' is not compatible with ArcGIS Pro"),
        "{message}"
    );
    assert!(site.member(&viewer.username).unwrap().licenses[0].is_empty());
    // Revoking (an empty list) is no grant: taken for anyone.
    assert_eq!(
        provision(&site, &token, &viewer.username, &[])["success"],
        true
    );
    let creator = members
        .iter()
        .find(|m| m.user_type == "creatorUT" && m.licenses[0].is_empty() && m.role_id == "org_user")
        .unwrap();
    let reply = provision(&site, &token, &creator.username, &["desktopBasicN"]);
    assert_eq!(reply["success"], true, "{reply}");
    // No seeded member holds Pro on a type that cannot.
    assert!(site.members().iter().all(
        |m| m.licenses[0].is_empty() || licenses::type_holds(&m.user_type, "arcgisprodesktop")
    ));
}

#[test]
fn the_organization_search_counts_at_most_10000_and_replies_carry_the_query() {
    let options = PortalSiteOptions {
        members: 10_050,
        offline_members: 0,
        ..PortalSiteOptions::default()
    };
    let site = PortalSite::seeded(options, 7).unwrap();
    let token = admin_token(&site);
    let search = |path: &str| {
        ask(
            &site,
            &format!("{SHARING}/{path}"),
            &[("q", "*")],
            Some(&token),
        )
    };
    let org = search("portals/self/users/search");
    assert_eq!(org["total"], 10_000);
    assert_eq!(org["query"], "*");
    let community = search("community/users");
    assert_eq!(community["total"], 10_050);
    assert_eq!(community["query"], "*");
    // The organization's id in the path is the organization itself.
    let by_id = search(&format!("portals/{}/users/search", org::ORG_ID));
    assert_eq!(by_id, org);
    let by_id = ask(
        &site,
        &format!("{SHARING}/portals/{}", org::ORG_ID),
        &[],
        Some(&token),
    );
    let own = ask(&site, &format!("{SHARING}/portals/self"), &[], Some(&token));
    assert_eq!(by_id, own);
    let listed = search(&format!("portals/{}/users", org::ORG_ID.to_lowercase()));
    assert_eq!(listed["total"], 10_050);
}

#[test]
fn filter_matches_whole_values_of_the_documented_fields_on_both_searches() {
    let site = site();
    let token = admin_token(&site);
    let someone = &site.members()[5];
    for path in ["community/users", "portals/self/users/search"] {
        let filtered = |filter: &str| {
            ask(
                &site,
                &format!("{SHARING}/{path}"),
                &[("q", "*"), ("filter", filter), ("num", "100")],
                Some(&token),
            )
        };
        let by_name = filtered(&format!("username:\"{}\"", someone.username));
        assert_eq!(names(&by_name), vec![someone.username.clone()]);
        let full = filtered(&format!("fullname:\"{}\"", someone.full_name));
        assert!(names(&full).contains(&someone.username));
        // A part of the value is no exact keyword match.
        let part = filtered(&format!("fullname:\"{}\"", someone.first_name));
        assert!(!names(&part).contains(&someone.username), "{part}");
        let refused = filtered("role:org_admin");
        assert_eq!(refused["error"]["code"], 400, "{refused}");
    }
}

#[test]
fn user_license_type_gives_apps_as_objects_and_a_499_repeats_its_message() {
    let site = site();
    let token = admin_token(&site);
    let members = site.members();
    let pro = members
        .iter()
        .find(|m| m.user_type == "GISProfessionalAdvUT")
        .unwrap();
    let reply = ask(
        &site,
        &format!("{SHARING}/community/users/{}/userlicensetype", pro.username),
        &[],
        Some(&token),
    );
    assert_eq!(reply["id"], "GISProfessionalAdvUT");
    let apps = reply["apps"].as_array().unwrap();
    let bundle = apps.iter().find(|a| a["isAppBundle"] == true).unwrap();
    assert_eq!(bundle["type"], "App Bundle");
    assert!(bundle["apps"][0]["entitlements"].is_array());
    let desktop = apps.iter().find(|a| a["title"] == "ArcGIS Pro").unwrap();
    assert_eq!(desktop["isAppBundle"], false);
    assert_eq!(desktop["entitlements"], json!(pro.licenses[0]));
    assert!(apps.iter().all(|a| a["id"].as_str().unwrap().len() == 32));
    let reply = ask(&site, &format!("{SHARING}/community/self"), &[], None);
    assert_eq!(reply["error"]["details"], json!(["Token Required"]));
}

#[test]
fn the_endpoints_around_leavers_answer_in_the_documented_shapes() {
    let site = site();
    let token = admin_token(&site);
    let options = PortalSiteOptions::default();
    let member = sign_in(&site, &options.user_username, &options.user_password);
    let content = ask(
        &site,
        &format!("{SHARING}/content/users/{}", options.user_username),
        &[],
        Some(&token),
    );
    assert_eq!(
        (content["total"].clone(), content["items"].clone()),
        (json!(0), json!([]))
    );
    assert_eq!(content["folders"], json!([]));
    let privileges = ask(
        &site,
        &format!("{SHARING}/portals/self/roles/{DATA_EDITOR_ROLE}/privileges"),
        &[],
        Some(&token),
    );
    assert!(privileges["privileges"]
        .as_array()
        .unwrap()
        .contains(&json!("features:user:edit")));
    // Disabling is an administrator's; a disabled member's token stops working.
    let disable = format!(
        "{SHARING}/community/users/{}/disable",
        options.user_username
    );
    assert_eq!(
        ask(&site, &disable, &[], Some(&member))["error"]["code"],
        403
    );
    assert_eq!(ask(&site, &disable, &[], Some(&token))["status"], "success");
    let me = ask(
        &site,
        &format!("{SHARING}/community/self"),
        &[],
        Some(&member),
    );
    assert_eq!(me["error"]["code"], 498, "{me}");
    let enable = format!("{SHARING}/community/users/{}/enable", options.user_username);
    assert_eq!(ask(&site, &enable, &[], Some(&token))["status"], "success");
    assert!(!site.member(&options.user_username).unwrap().disabled);
    let holder = site
        .members()
        .into_iter()
        .find(|m| !m.licenses[0].is_empty())
        .unwrap();
    let listings = ask(
        &site,
        &format!(
            "{SHARING}/community/users/{}/provisionedlistings",
            holder.username
        ),
        &[],
        Some(&token),
    );
    assert_eq!(listings["provisionedListings"][0]["itemId"], PRO_ITEM_ID);
    assert_eq!(listings["nextStart"], -1);
}

#[test]
fn a_member_is_deleted_once_their_licenses_are_revoked() {
    let site = site();
    let token = admin_token(&site);
    let holder = site
        .members()
        .into_iter()
        .find(|m| !m.licenses[0].is_empty() && !m.pro_offline() && m.role_id != "org_admin")
        .unwrap();
    let before = site.members().len();
    let delete = format!("{SHARING}/community/users/{}/delete", holder.username);
    let refused = ask(&site, &delete, &[], Some(&token));
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Revoke them first"));
    provision(&site, &token, &holder.username, &[]);
    let reply = ask(&site, &delete, &[], Some(&token));
    assert_eq!(reply, json!({"success": true, "username": holder.username}));
    assert!(site.member(&holder.username).is_none());
    assert_eq!(site.members().len(), before - 1);
    // The others are still found, by name and by id.
    let other = &site.members()[before / 2];
    assert_eq!(site.member(&other.username).unwrap().id, other.id);
    let again = ask(&site, &delete, &[], Some(&token));
    assert_eq!(again["error"]["code"], 400);
}

#[test]
fn remove_users_removes_each_as_a_delete_would_and_lists_the_rest() {
    let site = site();
    let token = admin_token(&site);
    let admin = site.options.admin_username.clone();
    let members = site.members();
    let plain: Vec<_> = members
        .iter()
        .filter(|m| m.licenses.iter().all(|l| l.is_empty()))
        .filter(|m| m.username != admin && m.username != site.options.user_username)
        .take(2)
        .map(|m| m.username.clone())
        .collect();
    let holder = members
        .iter()
        .find(|m| !m.licenses[0].is_empty() && m.role_id != "org_admin")
        .unwrap();
    let users = format!(
        "{}, {},{},no-such-member,{admin}",
        plain[0], plain[1], holder.username
    );
    let path = format!("{SHARING}/portals/self/removeUsers");
    let reply = ask(&site, &path, &[("users", &users)], Some(&token));
    assert_eq!(
        reply,
        json!({"notRemoved": [holder.username, "no-such-member", admin]})
    );
    assert!(site.member(&plain[0]).is_none() && site.member(&plain[1]).is_none());
    assert!(site.member(&holder.username).is_some() && site.member(&admin).is_some());
    assert_eq!(site.members().len(), members.len() - 2);
    // Nothing named, a member who is no administrator, or a GET: refused, nothing removed.
    let empty = ask(&site, &path, &[("users", " , ")], Some(&token));
    assert_eq!(empty["error"]["code"], 400, "{empty}");
    let (user, password) = (
        site.options.user_username.clone(),
        site.options.user_password.clone(),
    );
    let theirs = sign_in(&site, &user, &password);
    let refused = ask(&site, &path, &[("users", &holder.username)], Some(&theirs));
    assert_eq!(refused["error"]["code"], 403, "{refused}");
    assert_eq!(site.members().len(), members.len() - 2);
}

#[test]
fn create_user_adds_a_member_as_esri_documents_and_refuses_what_cannot_be() {
    let site = site();
    let token = admin_token(&site);
    let path = "/portal/portaladmin/security/users/createUser";
    let form = |username: &'static str, role: &'static str, user_type: &'static str| {
        vec![
            ("username", username),
            ("password", "S3cret-pass!"),
            ("firstname", "New"),
            ("lastname", "Member"),
            ("email", "new.member@example.gov"),
            ("role", role),
            ("userLicenseTypeId", user_type),
            ("provider", "arcgis"),
        ]
    };
    let before = site.members().len();
    let reply = ask(
        &site,
        path,
        &form("newmember1", "org_user", "creatorUT"),
        Some(&token),
    );
    assert_eq!(reply, json!({"status": "success"}));
    let created = site.member("newmember1").unwrap();
    assert_eq!(
        (
            created.user_type.as_str(),
            created.role_id.as_str(),
            created.full_name.as_str()
        ),
        ("creatorUT", "org_user", "New Member")
    );
    assert_eq!(site.members().len(), before + 1);
    // Found by id too.
    assert!(site.member(&created.id).is_some());
    for (params, expected) in [
        (
            form("NEWMEMBER1", "org_user", "creatorUT"),
            "already exists",
        ),
        (
            form("newmember2", "org_publisher", "viewerUT"),
            "not compatible",
        ),
        (form("newmember3", "no_such_role", "creatorUT"), "role"),
        (form("newmember4", "org_user", "noSuchUT"), "user type"),
        (form("", "org_user", "creatorUT"), "'username' is required"),
    ] {
        let refused = ask(&site, path, &params, Some(&token));
        // The Portal Administrator API's envelope: status, code, messages.
        assert_eq!(
            (&refused["status"], &refused["code"]),
            (&json!("error"), &json!(400))
        );
        let message = refused["messages"][0].as_str().unwrap_or("");
        assert!(message.contains(expected), "{refused}");
    }
    assert_eq!(site.members().len(), before + 1);
}
