use super::*;

#[test]
fn redaction_hides_user_info_and_secret_fields() {
    assert_eq!(
        redact_url("https://admin:hunter2@portal.example.com/portal/sharing/rest?f=json&token=abc"),
        "https://portal.example.com/portal/sharing/rest?f=json&token=***"
    );
    assert_eq!(redact_url("not a url?password=x"), "not a url");
}

#[tokio::test]
async fn refused_connection_names_the_cause_and_the_url() {
    // Bind and drop a listener so the port is (almost certainly) closed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/OpenLMServer")).unwrap();
    let options = HttpOptions {
        retries: 0,
        ..HttpOptions::default()
    };
    let http = Http::new(options, &url).unwrap();
    let err = http
        .send(&Request::post(url, Body::Empty, Effect::Read))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), "transport", "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{port}/OpenLMServer")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[test]
fn missing_ca_bundle_is_invalid_input() {
    let options = HttpOptions {
        ca_bundle: Some("/nonexistent/ca.pem".into()),
        ..HttpOptions::default()
    };
    let err = Http::new(options, &Url::parse("https://portal.example.com").unwrap()).unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
    assert!(err.to_string().contains("/nonexistent/ca.pem"));
}
