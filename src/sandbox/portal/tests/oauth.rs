//! OAuth sign-in: codes with PKCE, refresh tokens, app credentials.

use super::*;

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

/// The sign-in page's form posted for `state`.
fn oauth_sign_in(site: &PortalSite, state: &str, username: &str, password: &str) -> Answer {
    raw(
        site,
        "POST",
        "/portal/sharing/oauth2/signin",
        &[
            ("oauth_state", state),
            ("username", username),
            ("password", password),
        ],
    )
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
    let sign_in = |password: &str| oauth_sign_in(&site, &state, &o.admin_username, password);
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
    let (_, _, location) = oauth_sign_in(&site, &state, &o.admin_username, &o.admin_password);
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
}

/// The official client's default: implicit grant to the portal's own origin.
#[test]
fn the_official_clients_implicit_grant_signs_in() {
    let site = site();
    let o = site.options.clone();
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
    let (status, _, location) = oauth_sign_in(&site, &state, &o.user_username, &o.user_password);
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
