//! The OpenLM client against the sandbox, end to end over HTTP, without Python.

use std::time::Duration;

use gislicense::bulk::Outcome;
use gislicense::error::Result;
use gislicense::http::HttpOptions;
use gislicense::openlm::{CloseTarget, OpenLm};
use gislicense::plan;
use gislicense::sandbox::{Checkout, FaultKind, OpenLmOptions, Sandbox, SandboxOptions};

/// Close `items` as the bindings do: plan the closes, then apply the plan without a journal.
async fn close(
    client: &OpenLm,
    items: Vec<Result<CloseTarget>>,
    concurrency: usize,
) -> Vec<Outcome> {
    let plan = plan::openlm::plan_close(client, items, false)
        .await
        .unwrap();
    let executor = plan::openlm::CloseExecutor::new(client);
    let applied = plan::apply(&plan, &executor, None, concurrency, None).await;
    applied
        .unwrap()
        .into_iter()
        .map(|(outcome, _)| outcome)
        .collect()
}

fn quick_retries() -> HttpOptions {
    HttpOptions {
        backoff: Duration::from_millis(5),
        ..HttpOptions::default()
    }
}

async fn sandbox(openlm: OpenLmOptions) -> Sandbox {
    Sandbox::start(SandboxOptions {
        openlm,
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn lists_every_product_and_pages_large_sites() {
    let sb = sandbox(OpenLmOptions {
        sessions: 2_345,
        ..Default::default()
    })
    .await;
    let client = OpenLm::new(&sb.openlm_url(), None, None, quick_retries()).unwrap();
    let products = client.get_active_products(500).await.unwrap();
    assert_eq!(products.len(), 2_345);
    let handles: std::collections::HashSet<_> = products
        .iter()
        .map(|p| p.record().get("handle").unwrap().to_owned())
        .collect();
    assert_eq!(handles.len(), 2_345, "pages overlap or miss rows");
    let pages = sb
        .requests()
        .iter()
        .filter(|r| r.operation == "GetActiveProducts2")
        .count();
    assert_eq!(pages, 5);
}

#[tokio::test]
async fn falls_back_to_the_unpaged_request_on_old_servers() {
    let sb = sandbox(OpenLmOptions {
        sessions: 50,
        paging: false,
        ..Default::default()
    })
    .await;
    let client = OpenLm::new(&sb.openlm_url(), None, None, quick_retries()).unwrap();
    assert_eq!(client.get_active_products(10).await.unwrap().len(), 50);
    assert_eq!(client.get_active_products(10).await.unwrap().len(), 50);
    let kinds: Vec<String> = sb.requests().into_iter().map(|r| r.operation).collect();
    assert_eq!(
        kinds,
        [
            "GetLoginFormSettings",
            "GetActiveProducts2",
            "GetActiveProducts",
            "GetActiveProducts"
        ]
    );
}

#[tokio::test]
async fn closes_a_session_and_only_that_one() {
    let sb = sandbox(OpenLmOptions::default()).await;
    let hostile = "a<b&\"c</PARAM><PARAM name=\"username\">*";
    let victim = sb.shared().openlm.checkouts()[0].clone();
    sb.shared()
        .openlm
        .add_checkout(Checkout {
            handle: 0,
            username: hostile.into(),
            ..victim.clone()
        })
        .unwrap();
    let before = sb.shared().openlm.checkout_count();
    let client = OpenLm::new(&sb.openlm_url(), None, None, quick_retries()).unwrap();
    let target = CloseTarget {
        username: hostile.into(),
        workstation: victim.workstation.clone(),
        server: victim.server.clone(),
        vendor: victim.vendor.clone(),
        feature: victim.feature.clone(),
    };
    client.close_application(&target).await.unwrap();
    let after = sb.shared().openlm.checkouts();
    assert_eq!(after.len(), before - 1);
    assert!(
        after.contains(&victim),
        "the hostile name closed someone else's session"
    );
    // Closing again: the server says there is no such session.
    let err = client.close_application(&target).await.unwrap_err();
    assert_eq!(err.kind(), "server");
}

#[tokio::test]
async fn logs_in_and_logs_in_again_when_the_session_expires() {
    let sb = sandbox(OpenLmOptions {
        sessions: 20,
        permissions: true,
        ..Default::default()
    })
    .await;
    let anonymous = OpenLm::new(&sb.openlm_url(), None, None, quick_retries()).unwrap();
    assert_eq!(
        anonymous.get_active_products(100).await.unwrap_err().kind(),
        "authentication"
    );
    let wrong = OpenLm::new(
        &sb.openlm_url(),
        Some("admin".into()),
        Some("nope".into()),
        quick_retries(),
    )
    .unwrap();
    let err = wrong.get_active_products(100).await.unwrap_err();
    assert_eq!(err.kind(), "authentication");
    assert!(!err.to_string().contains("nope"), "{err}");

    let client = OpenLm::new(
        &sb.openlm_url(),
        Some("admin".into()),
        Some("sandbox-password".into()),
        quick_retries(),
    )
    .unwrap();
    assert_eq!(client.get_active_products(100).await.unwrap().len(), 20);
    sb.shared().openlm.expire_logins();
    assert_eq!(client.get_active_products(100).await.unwrap().len(), 20);
    let logins = sb
        .requests()
        .iter()
        .filter(|r| r.operation == "UserAuthentication")
        .count();
    assert_eq!(logins, 3, "one failed login, one login, one after expiry");
    assert!(sb
        .requests()
        .iter()
        .filter(|r| r.operation == "UserAuthentication")
        .all(|r| r.params.iter().any(|(k, v)| k == "PWD" && v == "***")));
}

#[tokio::test]
async fn reads_are_retried_through_faults() {
    let sb = sandbox(OpenLmOptions {
        sessions: 10,
        ..Default::default()
    })
    .await;
    let client = OpenLm::new(&sb.openlm_url(), None, None, quick_retries()).unwrap();
    sb.fail_next(FaultKind::Http503, 1, None);
    sb.fail_next(FaultKind::Drop, 1, None);
    assert_eq!(client.get_active_products(100).await.unwrap().len(), 10);
    // The login check takes the first fault, the listing the second; both are retried.
    let seen: Vec<_> = sb
        .requests()
        .iter()
        .map(|r| (r.operation.clone(), r.fault))
        .collect();
    assert_eq!(
        seen,
        [
            ("GetLoginFormSettings".to_owned(), Some("http503")),
            ("GetLoginFormSettings".to_owned(), Some("drop")),
            ("GetLoginFormSettings".to_owned(), None),
            ("GetActiveProducts2".to_owned(), None),
        ]
    );

    // A 500 is often passing, so reads retry it too; one that persists is a server error.
    sb.fail_next(FaultKind::Http500, 1, None);
    assert_eq!(client.get_active_products(100).await.unwrap().len(), 10);
    let attempts = 1 + quick_retries().retries as usize;
    sb.fail_next(FaultKind::Http500, attempts, None);
    let err = client.get_active_products(100).await.unwrap_err();
    assert_eq!(err.kind(), "server");
    assert!(err.to_string().contains("500"), "{err}");
}

#[tokio::test]
async fn writes_are_not_retried_after_the_server_may_have_acted() {
    let sb = sandbox(OpenLmOptions {
        sessions: 10,
        ..Default::default()
    })
    .await;
    // The dropped close never reached the Agent: watching for the session to end is cut
    // short, or the test would wait the default 30 s.
    let client = OpenLm::new(&sb.openlm_url(), None, None, quick_retries())
        .unwrap()
        .with_close_wait(std::time::Duration::from_millis(500));
    let products = client.get_active_products(100).await.unwrap();
    let target = products[0].close_target(None, None).unwrap();
    sb.fail_next(FaultKind::Drop, 1, Some("CloseApplication".into()));
    // Sent, and the answer lost: not a failure, an outcome nobody knows.
    let err = client.close_application(&target).await.unwrap_err();
    assert_eq!(err.kind(), "outcome_unknown", "{err}");
    assert!(
        err.to_string().contains("may or may not have done it"),
        "{err}"
    );
    let closes = sb
        .requests()
        .iter()
        .filter(|r| r.operation == "CloseApplication")
        .count();
    assert_eq!(closes, 1);
}

#[tokio::test]
async fn bulk_close_reports_every_item() {
    let sb = sandbox(OpenLmOptions {
        sessions: 300,
        ..Default::default()
    })
    .await;
    let client = OpenLm::new(&sb.openlm_url(), None, None, quick_retries()).unwrap();
    let products = client.get_active_products(1000).await.unwrap();
    let no_agent = sb.shared().openlm.workstations_without_agent();
    let mut items: Vec<_> = products
        .iter()
        .map(|p| p.close_target(None, None))
        .collect();
    items.push(products[0].close_target(None, None)); // a duplicate
    items.push(products[0].close_target(Some(""), None)); // invalid
    let outcomes = close(&client, items, 16).await;
    assert_eq!(outcomes.len(), products.len() + 2);
    let count = |status: &str| outcomes.iter().filter(|o| o.status() == status).count();
    let expected_failures = products
        .iter()
        .filter(|p| no_agent.contains(&p.workstation().to_owned()))
        .count();
    assert!(expected_failures > 0);
    assert_eq!(count("failed"), expected_failures + 1);
    assert_eq!(count("skipped"), 1);
    assert_eq!(count("closed"), products.len() - expected_failures);
    assert_eq!(sb.shared().openlm.checkout_count(), expected_failures);
}

#[tokio::test]
async fn closes_are_queued_and_only_a_session_seen_gone_counts_as_closed() {
    let sb = sandbox(OpenLmOptions {
        sessions: 40,
        close_delay: Duration::from_millis(600),
        ..Default::default()
    })
    .await;
    let site = &sb.shared().openlm;
    let products: Vec<_> = OpenLm::new(&sb.openlm_url(), None, None, quick_retries())
        .unwrap()
        .get_active_products(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| {
            !site
                .workstations_without_agent()
                .contains(&p.workstation().to_owned())
        })
        .collect();
    // One workstation's Agent acknowledges closes and never acts.
    let stalled = products[0].workstation().to_owned();
    site.set_agent(&stalled, true, false);
    let on_stalled = products
        .iter()
        .filter(|p| p.workstation() == stalled)
        .count();
    let client = OpenLm::new(&sb.openlm_url(), None, None, quick_retries())
        .unwrap()
        .with_close_wait(Duration::from_secs(3));
    let items = products
        .iter()
        .map(|p| p.close_target(None, None))
        .collect();
    let started = std::time::Instant::now();
    let outcomes = close(&client, items, 8).await;
    let took = started.elapsed();
    let count = |status: &str| outcomes.iter().filter(|o| o.status() == status).count();
    // Not a false "closed" for the stalled Agent, nor a false "failed": unknown, saying why.
    assert_eq!(count("unknown"), on_stalled);
    assert_eq!(count("closed"), products.len() - on_stalled);
    for (product, outcome) in products.iter().zip(&outcomes) {
        if product.workstation() == stalled {
            let why = outcome.reason().unwrap_or_default();
            assert!(why.contains("has not closed the application"), "{why}");
        }
    }
    // The others were closed by their Agents after the delay, and watched until gone.
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert_eq!(site.checkout_count(), 40 - (products.len() - on_stalled));

    // A single close returns once its session is gone.
    let sb = sandbox(OpenLmOptions {
        sessions: 5,
        close_delay: Duration::from_millis(400),
        ..Default::default()
    })
    .await;
    let client = OpenLm::new(&sb.openlm_url(), None, None, quick_retries()).unwrap();
    let product = client
        .get_active_products(100)
        .await
        .unwrap()
        .into_iter()
        .find(|p| {
            !sb.shared()
                .openlm
                .workstations_without_agent()
                .contains(&p.workstation().to_owned())
        })
        .unwrap();
    client
        .close_application(&product.close_target(None, None).unwrap())
        .await
        .unwrap();
    assert!(!sb
        .shared()
        .openlm
        .checkouts()
        .iter()
        .any(|c| c.username == product.username()
            && c.workstation == product.workstation()
            && c.feature == product.feature()));
}

#[tokio::test]
async fn tls_trust_comes_from_the_system_or_a_ca_bundle() {
    let sb = Sandbox::start(SandboxOptions {
        openlm_tls: true,
        openlm: OpenLmOptions {
            sessions: 5,
            ..Default::default()
        },
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    assert!(sb.openlm_url().starts_with("https://127.0.0.1:"));

    let untrusted = OpenLm::new(&sb.openlm_url(), None, None, quick_retries()).unwrap();
    let err = untrusted.get_active_products(100).await.unwrap_err();
    assert_eq!(err.kind(), "tls", "{err}");
    assert!(err.to_string().contains("certificate not trusted"), "{err}");
    assert!(err.to_string().contains("ca_bundle="), "{err}");

    let trusting = HttpOptions {
        ca_bundle: Some(sb.ca_file()),
        ..quick_retries()
    };
    let client = OpenLm::new(&sb.openlm_url(), None, None, trusting).unwrap();
    assert_eq!(client.get_active_products(100).await.unwrap().len(), 5);

    let unverified = HttpOptions {
        verify: false,
        ..quick_retries()
    };
    let client = OpenLm::new(&sb.openlm_url(), None, None, unverified).unwrap();
    assert_eq!(client.get_active_products(100).await.unwrap().len(), 5);
}
