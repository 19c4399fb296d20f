//! The Portal client against the sandbox's ArcGIS Online organization, without Python: the
//! seats read where Online states them, and what Online lacks refused before sending.

use std::time::Duration;

use gislicense::error::Error;
use gislicense::http::{Effect, HttpOptions};
use gislicense::portal::versions::Platform;
use gislicense::portal::{Credentials, Deployment, Portal, PortalOptions, Root};
use gislicense::sandbox::portal::Deployment as Played;
use gislicense::sandbox::{PortalSiteOptions, Sandbox, SandboxOptions};

async fn online() -> Sandbox {
    Sandbox::start(SandboxOptions {
        portal: PortalSiteOptions {
            deployment: Played::Online,
            members: 120,
            ..PortalSiteOptions::default()
        },
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

fn admin(sb: &Sandbox) -> Portal {
    let options = &sb.options().portal;
    let http = HttpOptions {
        ca_bundle: Some(sb.ca_file()),
        backoff: Duration::from_millis(5),
        ..HttpOptions::default()
    };
    let credentials = Credentials::Password {
        username: options.admin_username.clone(),
        password: options.admin_password.clone(),
    };
    Portal::new(
        &sb.portal_url(),
        credentials,
        PortalOptions::default(),
        http,
    )
    .unwrap()
}

fn admin_requests(sb: &Sandbox) -> Vec<String> {
    sb.requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/portaladmin") || p.starts_with("/admin"))
        .collect()
}

#[tokio::test]
async fn online_is_its_own_platform_and_states_its_seats() {
    let sb = online().await;
    assert!(!sb.portal_url().ends_with("/portal"), "{}", sb.portal_url());
    let portal = admin(&sb);
    let deployment = portal.deployment().await.unwrap();
    assert_eq!(deployment, Deployment::Online);
    assert_eq!(deployment.platform(), Platform::Online);
    sb.shared().portal.set_seats("creatorUT", 77).unwrap();
    let types = portal.user_types().await.unwrap();
    let members = sb.shared().portal.members();
    for t in &types {
        let in_use = members.iter().filter(|m| m.user_type == t.id).count() as i64;
        let (now, _) = t.seats.unwrap_or_else(|| panic!("{} has no seats", t.id));
        assert_eq!(now, in_use, "{}", t.id);
    }
    let creator = types.iter().find(|t| t.id == "creatorUT").unwrap();
    assert_eq!(creator.seats.unwrap().1, 77);
    assert!(admin_requests(&sb).is_empty(), "{:?}", admin_requests(&sb));
}

#[tokio::test]
async fn no_administrator_request_is_sent_to_online() {
    let sb = online().await;
    let portal = admin(&sb);
    portal.properties().await.unwrap();
    for root in [Root::PortalAdmin, Root::Admin] {
        let err = portal
            .call(root, "license", &[], Effect::Read)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        assert!(err.to_string().contains("ArcGIS Online"), "{err}");
    }
    assert!(admin_requests(&sb).is_empty(), "{:?}", admin_requests(&sb));
}
