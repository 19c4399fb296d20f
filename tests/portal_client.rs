//! The Portal client against the sandbox portal, end to end over HTTPS, without Python.

use std::time::Duration;

use gislicense::bulk::Outcome;
use gislicense::http::HttpOptions;
use gislicense::plan::{self, portal::Guards, Plan};
use gislicense::portal::{Credentials, Member, Portal, PortalOptions, UserQuery};
use gislicense::sandbox::{FaultKind, PortalSiteOptions, Sandbox, SandboxOptions};

async fn sandbox(portal: PortalSiteOptions) -> Sandbox {
    Sandbox::start(SandboxOptions {
        portal,
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

fn client(sb: &Sandbox, username: &str, password: &str) -> Portal {
    let http = HttpOptions {
        ca_bundle: Some(sb.ca_file()),
        backoff: Duration::from_millis(5),
        ..HttpOptions::default()
    };
    Portal::new(
        &sb.portal_url(),
        Credentials::Password {
            username: username.into(),
            password: password.into(),
        },
        PortalOptions::default(),
        http,
    )
    .unwrap()
}

/// Apply `plan` as the bindings do, without a journal: one outcome per item.
async fn applied(
    portal: &Portal,
    plan: Plan,
    batch_size: usize,
    concurrency: usize,
) -> Vec<Outcome> {
    let executor = plan::portal::PortalExecutor { portal, batch_size };
    let applied = plan::apply(&plan, &executor, None, concurrency, None).await;
    applied
        .unwrap()
        .into_iter()
        .map(|(outcome, _)| outcome)
        .collect()
}

/// Plan a change of user type as the bindings do (roles kept, no guard lifted).
async fn plan_license_type(
    portal: &Portal,
    members: Vec<gislicense::error::Result<Member>>,
    user_type: &str,
) -> Plan {
    let roles = plan::portal::Roles::Keep;
    plan::portal::plan_license_type(portal, members, user_type, &roles, &Guards::default())
        .await
        .unwrap()
}

fn admin(sb: &Sandbox) -> Portal {
    let o = PortalSiteOptions::default();
    client(sb, &o.admin_username, &o.admin_password)
}

#[tokio::test]
async fn signs_in_and_lists_every_member_once_in_order() {
    let sb = sandbox(PortalSiteOptions {
        members: 1_234,
        ..Default::default()
    })
    .await;
    let portal = admin(&sb);
    let users = portal.search_users(&UserQuery::default()).await.unwrap();
    assert_eq!(users.len(), 1_234);
    let names: Vec<String> = users.iter().map(|u| u.username().to_lowercase()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        names, sorted,
        "pages overlap, miss members, or are out of order"
    );
    let pages = sb
        .requests()
        .iter()
        .filter(|r| r.operation == "users")
        .count();
    assert_eq!(pages, 13);
    // One sign-in; the token went in the body and header, never the URL.
    let requests = sb.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.operation == "generateToken")
            .count(),
        1
    );
    for r in requests.iter().filter(|r| r.operation == "users") {
        assert_eq!(r.token_in, Some("body"));
        assert!(!r.query.contains("token"), "{}", r.query);
        assert_eq!(r.referer.as_deref(), Some("gislicense"));
    }
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error() {
    let sb = sandbox(PortalSiteOptions::default()).await;
    let portal = client(&sb, "portaladmin", "not-it");
    let err = portal.sign_in().await.unwrap_err();
    assert_eq!(err.kind(), "authentication");
    assert!(
        err.to_string().contains("Invalid username or password"),
        "{err}"
    );
    assert!(!err.to_string().contains("not-it"), "{err}");
}

#[tokio::test]
async fn a_revoked_token_is_renewed_once_and_the_request_repeated() {
    let sb = sandbox(PortalSiteOptions::default()).await;
    let portal = admin(&sb);
    portal.me().await.unwrap();
    sb.shared().portal.expire_tokens();
    let me = portal.me().await.unwrap();
    assert_eq!(me.username(), "portaladmin");
    let sign_ins = sb
        .requests()
        .iter()
        .filter(|r| r.operation == "generateToken")
        .count();
    assert_eq!(sign_ins, 2);
}

#[tokio::test]
async fn bulk_changes_report_every_member() {
    let sb = sandbox(PortalSiteOptions::default()).await;
    let portal = admin(&sb);
    let members = sb.shared().portal.members();
    let offline = members
        .iter()
        .find(|m| m.pro_offline())
        .unwrap()
        .username
        .clone();
    let creators: Vec<String> = members
        .iter()
        .filter(|m| m.user_type == "creatorUT" && !m.pro_offline())
        .take(30)
        .map(|m| m.username.clone())
        .collect();
    let already = members
        .iter()
        .find(|m| m.user_type == "GISProfessionalStdUT" && !m.pro_offline())
        .unwrap()
        .username
        .clone();
    let mut items: Vec<_> = creators
        .iter()
        .map(|n| Ok(Member::named(n.clone())))
        .collect();
    items.push(Ok(Member::named(offline)));
    items.push(Ok(Member::named(already)));
    items.push(Ok(Member::named(creators[0].to_uppercase())));
    items.push(Ok(Member::named("no-such-member")));
    // Exactly enough seats for the 30.
    let used = members
        .iter()
        .filter(|m| m.user_type == "GISProfessionalStdUT")
        .count() as i64;
    sb.shared()
        .portal
        .set_seats("GISProfessionalStdUT", used + 30)
        .unwrap();
    sb.fail_next(FaultKind::Http503, 1, Some("updateUserLicenseType".into()));
    let plan = plan_license_type(&portal, items, "professional").await;
    let outcomes = applied(&portal, plan, 7, 3).await;
    let statuses: Vec<&str> = outcomes.iter().map(|o| o.status()).collect();
    let reasons: Vec<_> = outcomes.iter().map(|o| o.reason()).collect();
    assert!(
        statuses[..30].iter().all(|s| *s == "changed"),
        "{reasons:?}"
    );
    assert_eq!(
        &statuses[30..],
        ["failed", "unchanged", "skipped", "failed"]
    );
    assert!(outcomes[30].reason().unwrap().contains("offline"));
    assert!(
        outcomes[33].reason().unwrap().contains("not a member"),
        "{:?}",
        outcomes[33].reason()
    );
    for name in &creators {
        assert_eq!(
            sb.shared().portal.member(name).unwrap().user_type,
            "GISProfessionalStdUT"
        );
    }
    // The seats are used up now: one more is predicted to be refused, and is not sent.
    let another = members
        .iter()
        .find(|m| m.user_type == "creatorUT" && !creators.contains(&m.username) && !m.pro_offline())
        .unwrap();
    let members = vec![Ok(Member::named(another.username.clone()))];
    let plan = plan_license_type(&portal, members, "GISProfessionalStdUT").await;
    let outcomes = applied(&portal, plan, 25, 1).await;
    assert!(
        outcomes[0].reason().unwrap().contains("no seat left"),
        "{:?}",
        outcomes[0].reason()
    );
}

/// Members with ArcGIS Pro checked out, per the sandbox.
fn pro_offline(sb: &Sandbox) -> Vec<String> {
    sb.shared()
        .portal
        .members()
        .into_iter()
        .filter(|m| m.pro_offline())
        .map(|m| m.username)
        .collect()
}

#[tokio::test]
async fn releases_on_every_deployment_and_version() {
    use gislicense::sandbox::portal::Deployment;
    for (deployment, version, path) in [
        (
            Deployment::Classic,
            "2024.1",
            "/portal/portaladmin/license/releaseLicense",
        ),
        (
            Deployment::Classic,
            "6.4",
            "/portal/portaladmin/system/licenses/releaseLicense",
        ),
        (
            Deployment::Kubernetes,
            "2024.1",
            "/portal/admin/orgs/0123456789ABCDEF/license/releaseLicense",
        ),
    ] {
        let sb = sandbox(PortalSiteOptions {
            deployment,
            version: version.into(),
            ..Default::default()
        })
        .await;
        let portal = admin(&sb);
        let offline = pro_offline(&sb);
        assert_eq!(offline.len(), 5);
        let members = offline
            .iter()
            .cloned()
            .map(|n| Ok(Member::named(n)))
            .collect();
        let plan = plan::portal::plan_release(&portal, members, "pro", &Guards::default())
            .await
            .unwrap();
        let outcomes = applied(&portal, plan, 1, 4).await;
        assert!(
            outcomes.iter().all(|o| o.status() == "released"),
            "{version}: {outcomes:?}"
        );
        assert!(pro_offline(&sb).is_empty(), "{version}");
        let releases: Vec<String> = sb
            .requests()
            .into_iter()
            .filter(|r| r.operation == "releaseLicense")
            .map(|r| r.path)
            .collect();
        assert_eq!(releases.len(), 5, "{version}");
        assert!(
            releases.iter().all(|p| p == path),
            "{version}: {releases:?}"
        );
    }
}

#[tokio::test]
async fn entitlements_are_provisioned_in_batches_of_25() {
    use gislicense::plan::portal::Change;
    let sb = sandbox(PortalSiteOptions::default()).await;
    sb.shared()
        .portal
        .set_entitlement_seats("desktopBasicN", 500)
        .unwrap();
    let viewers: Vec<String> = sb
        .shared()
        .portal
        .members()
        .into_iter()
        // Creators without Pro: only user types that can hold Pro are given it.
        .filter(|m| m.user_type == "creatorUT" && m.licenses[0].is_empty())
        .map(|m| m.username)
        .take(51)
        .collect();
    let portal = admin(&sb);
    let members = viewers
        .iter()
        .cloned()
        .map(|n| Ok(Member::named(n)))
        .collect();
    let change = Change::Set(vec!["desktopbasicn".into()]);
    let plan =
        plan::portal::plan_provision(&portal, "ArcGIS Pro", members, change, &Guards::default())
            .await
            .unwrap();
    let outcomes = applied(&portal, plan, 25, 3).await;
    assert!(
        outcomes.iter().all(|o| o.status() == "assigned"),
        "{outcomes:?}"
    );
    let batches = sb
        .requests()
        .into_iter()
        .filter(|r| r.operation == "provisionUserEntitlements")
        .count();
    assert_eq!(batches, 3);
    let pro = portal.license("pro").await.unwrap();
    let holders = portal.user_entitlements(&pro.item_id).await.unwrap();
    for name in &viewers {
        let holder = holders.iter().find(|h| &h.username == name).unwrap();
        assert_eq!(holder.entitlements, ["desktopBasicN"]);
    }
}
