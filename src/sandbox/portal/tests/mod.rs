use super::auth::FAILED_LOGINS_BEFORE_LOCK;
use super::org::{user_type_def, USER_TYPES};
use super::*;

mod oauth;
mod online;
mod rules;
mod versions;

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

/// An administrator searching the default site, and what every member's name, user type
/// and role are, to say what a search should find.
struct Searching {
    site: PortalSite,
    token: String,
    all: Vec<(String, String, String)>,
}

impl Searching {
    fn new() -> Searching {
        let site = site();
        let admin = site.options.admin_username.clone();
        let token = sign_in(&site, &admin, &site.options.admin_password.clone());
        let all = site
            .state()
            .members
            .iter()
            .map(|m| {
                (
                    m.username.clone(),
                    m.user_type.clone(),
                    m.role().id.to_owned(),
                )
            })
            .collect();
        Searching { site, token, all }
    }

    fn search(&self, q: &str, extra: &[(&str, &str)]) -> Value {
        let mut params = vec![("q", q), ("num", "100")];
        params.extend_from_slice(extra);
        ask(
            &self.site,
            "/portal/sharing/rest/community/users",
            &params,
            Some(&self.token),
        )
    }

    fn expect(&self, keep: impl Fn(&(String, String, String)) -> bool) -> Vec<String> {
        self.all
            .iter()
            .filter(|m| keep(m))
            .map(|m| m.0.clone())
            .collect()
    }
}

#[test]
fn searches_read_the_query_syntax_real_clients_send() {
    let s = Searching::new();
    // What the official client sends for gis.users.search("username:a*").
    let a = s.expect(|m| m.0.starts_with('a'));
    assert!(!a.is_empty());
    let q = format!("username:a* accountid:{}", org::ORG_ID);
    assert_eq!(names(&s.search(&q, &[])), a);
    assert_eq!(
        names(&s.search("username:a* accountid:someone_else", &[])),
        Vec::<String>::new()
    );
    // OR, NOT, parentheses, a field before a group.
    let a_or_b = s.expect(|m| m.0.starts_with('a') || m.0.starts_with('b'));
    assert_eq!(names(&s.search("username:a* OR username:b*", &[])), a_or_b);
    assert_eq!(names(&s.search("username:(a* OR b*)", &[])), a_or_b);
    let a_not_creator = s.expect(|m| m.0.starts_with('a') && m.1 != "creatorUT");
    assert_eq!(
        names(&s.search("username:a* NOT userlicensetype:creatorUT", &[])),
        a_not_creator
    );
    assert_eq!(
        names(&s.search("username:a* -userlicensetype:creatorUT", &[])),
        a_not_creator
    );
    let viewers_or_admins =
        s.expect(|m| m.0.starts_with('a') && (m.1 == "viewerUT" || m.2 == "org_admin"));
    assert_eq!(
        names(&s.search(
            "username:a* AND (userlicensetype:viewerUT OR role:org_admin)",
            &[]
        )),
        viewers_or_admins
    );
    // A query that cannot be read is refused, as a portal refuses it.
    let reply = s.search("(username:a* OR", &[]);
    assert_eq!(reply["error"]["code"], 400, "{reply}");
}

#[test]
fn searches_take_the_filter_parameters_one_or_all() {
    let s = Searching::new();
    // The filter parameters: one of them, or all with applyFiltersIntersection.
    let creators = s.expect(|m| m.1 == "creatorUT");
    let creators_or_admins = s.expect(|m| m.1 == "creatorUT" || m.2 == "org_admin");
    let admin_creators = s.expect(|m| m.1 == "creatorUT" && m.2 == "org_admin");
    let reply = s.search("*", &[("userLicenseType", "creatorUT")]);
    assert_eq!(reply["total"], creators.len());
    let reply = s.search(
        "*",
        &[("userLicenseType", "creatorUT"), ("role", "org_admin")],
    );
    assert_eq!(reply["total"], creators_or_admins.len());
    let reply = s.search(
        "*",
        &[
            ("userLicenseType", "creatorUT"),
            ("role", "org_admin"),
            ("applyFiltersIntersection", "true"),
        ],
    );
    assert_eq!(reply["total"], admin_creators.len());
}

#[test]
fn the_organizations_own_search_is_for_administrators() {
    let s = Searching::new();
    let a = s.expect(|m| m.0.starts_with('a'));
    // The organization's own search is for administrators.
    let q = format!("username:a* accountid:{}", org::ORG_ID);
    let reply = ask(
        &s.site,
        "/portal/sharing/rest/portals/self/users/search",
        &[("q", &q), ("num", "100")],
        Some(&s.token),
    );
    assert_eq!(names(&reply), a);
    let user = s.site.options.user_username.clone();
    let user_token = sign_in(&s.site, &user, &s.site.options.user_password.clone());
    let reply = ask(
        &s.site,
        "/portal/sharing/rest/portals/self/users/search",
        &[("q", &q)],
        Some(&user_token),
    );
    assert_eq!(reply["error"]["code"], 403, "{reply}");
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
