//! The OpenLM wire, pinned by the golden files in `tests/golden/openlm/`: the exact requests the
//! client sends for each operation it uses, and replies of each kind it reads.
//!
//! (a) The client's request bodies equal the golden request files byte for byte. Nothing is
//!     normalised: the session id the client sends is the one the golden login reply gives
//!     it, and everything else in a request is fixed.
//! (b) The client reads the golden replies into the expected records and errors.
//! (c) The sandbox emulator answers the golden requests with the golden replies. Three values
//!     in its replies are variable and normalised: `duration` and `idle_time` (seconds since
//!     the session started and since it was last used, from the clock; `idle_time` is checked
//!     apart, within a minute of the golden value) and the `SESSIONID` a login returns
//!     (random).
//!
//! The golden listings are one moment as a real server would list it: every row's start
//! plus its duration is the same instant, and no row is idle for longer than it is open.
//!
//! A golden file holds a body exactly, with no line end after it.
//!
//! Shapes come from `spec/openlm-xml.md`. What it marks "unverified", and so what these files
//! pin as the client's (and the emulator's) choice rather than a real server's proven form:
//! the PRODUCT attribute names beyond `product`, `username` and `workstation`; where a paged
//! reply says its total (`PAGING total_records`); the `Success` and `Error` replies of
//! CloseApplication; the HTTP status of an `Error` reply (200 here).

use std::path::Path;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use gislicense::error::Error;
use gislicense::http::HttpOptions;
use gislicense::openlm::{ActiveProduct, CloseTarget, Field, OpenLm};
use gislicense::sandbox::{Checkout, FaultKind, OpenLmOptions, Sandbox, SandboxOptions};

/// The session id in the golden login reply, and so in the requests that follow it.
const SESSION_ID: &str = "5f3a9c0e1b2d4a68";

/// A golden file's content.
fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/openlm")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One license in use, as the golden listing replies hold it.
struct Row {
    product: &'static str,
    username: &'static str,
    workstation: &'static str,
    server: &'static str,
    vendor: &'static str,
    feature: &'static str,
    version: &'static str,
    start_ms: i64,
    duration_seconds: u64,
    idle_seconds: u64,
    handle: u64,
    licenses: u32,
    borrowed: bool,
    closable: bool,
    full_name: &'static str,
    group: &'static str,
    project: &'static str,
    host_ip: &'static str,
}

const ROWS: [Row; 3] = [
    Row {
        product: "Editor",
        username: "jsmith",
        workstation: "GIS-WS-017",
        server: "GIS License Server",
        vendor: "ARCGIS",
        feature: "Editor",
        version: "10.1",
        start_ms: 1_718_012_345_000,
        duration_seconds: 5400,
        idle_seconds: 0,
        handle: 101,
        licenses: 1,
        borrowed: false,
        closable: true,
        full_name: "Jane Smith",
        group: "Planning",
        project: "Zoning Update",
        host_ip: "10.10.0.19",
    },
    Row {
        product: "ARC/INFO",
        username: r"CORP\o'neil",
        workstation: "LAPTOP-3F2A",
        server: "GIS License Server (DR)",
        vendor: "ARCGIS",
        feature: "ARC/INFO",
        version: "10.1",
        start_ms: 1_718_016_000_000,
        duration_seconds: 1745,
        idle_seconds: 1260,
        handle: 102,
        licenses: 1,
        borrowed: true,
        closable: true,
        full_name: "Pat O'Neil",
        group: "Roads & Bridges",
        project: "Bridge Survey",
        host_ip: "10.10.0.44",
    },
    Row {
        product: "AutoCAD",
        username: "akhan",
        workstation: "ENG-PC042",
        server: "Autodesk Network License Manager",
        vendor: "adskflex",
        feature: "87545ACD_2024_0F",
        version: "1.0",
        start_ms: 1_718_001_000_000,
        duration_seconds: 16745,
        idle_seconds: 300,
        handle: 103,
        licenses: 2,
        borrowed: false,
        closable: false,
        full_name: "Aisha Khan",
        group: "Engineering",
        project: "Depot Redesign",
        host_ip: "10.10.0.61",
    },
];

/// The PRODUCT attributes of the golden replies, in order. Only the first three are confirmed
/// by the spec; the rest are the emulator's choice, which the client reads by alias.
const PRODUCT_ATTRIBUTES: [&str; 18] = [
    "product",
    "username",
    "workstation",
    "server_name",
    "vendor",
    "feature",
    "version",
    "start_time",
    "duration",
    "idle_time",
    "handle",
    "num_licenses",
    "borrowed",
    "close_enabled",
    "user_full_name",
    "group_name",
    "project_name",
    "host_ip",
];

/// The row the golden CloseApplication request closes: the one whose user name needs escaping.
const CLOSED: usize = 1;

fn close_target(row: &Row) -> CloseTarget {
    CloseTarget {
        username: row.username.into(),
        workstation: row.workstation.into(),
        server: row.server.into(),
        vendor: row.vendor.into(),
        feature: row.feature.into(),
    }
}

/// (b): every field of every product as the golden rows say.
fn assert_products_are_the_rows(products: &[ActiveProduct], rows: &[Row]) {
    assert_eq!(products.len(), rows.len());
    for (product, row) in products.iter().zip(rows) {
        let names: Vec<&str> = product.record().iter().map(|(name, _)| name).collect();
        assert_eq!(names, PRODUCT_ATTRIBUTES);
        assert_eq!(product.product(), row.product);
        assert_eq!(product.username(), row.username);
        assert_eq!(product.workstation(), row.workstation);
        assert_eq!(product.server(), Some(row.server));
        assert_eq!(product.vendor(), Some(row.vendor));
        assert_eq!(product.feature(), row.feature);
        assert_eq!(product.text_field(Field::Version), Some(row.version));
        assert_eq!(product.time_ms(Field::StartTime), Some(row.start_ms));
        assert_eq!(
            product.seconds(Field::Duration),
            Some(row.duration_seconds as f64)
        );
        assert_eq!(
            product.seconds(Field::IdleTime),
            Some(row.idle_seconds as f64)
        );
        assert_eq!(
            product.text_field(Field::Handle),
            Some(row.handle.to_string().as_str())
        );
        assert_eq!(product.licenses(), i64::from(row.licenses));
        assert_eq!(product.borrowed(), row.borrowed);
        assert_eq!(product.flag(Field::Closable), Some(row.closable));
        assert_eq!(product.text_field(Field::FullName), Some(row.full_name));
        assert_eq!(product.text_field(Field::Group), Some(row.group));
        assert_eq!(product.text_field(Field::Project), Some(row.project));
        assert_eq!(product.text_field(Field::HostIp), Some(row.host_ip));
    }
}

// ---------------------------------------------------------------------------------------------
// (a) and (b): the client against a server that answers only golden requests

/// A server that answers each golden request of its script with that request's golden reply,
/// anything else with HTTP 400, and keeps every body it received.
struct GoldenServer {
    url: String,
    received: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl GoldenServer {
    async fn start(script: &[(&str, &str)]) -> GoldenServer {
        let answers: Arc<Vec<(String, String)>> = Arc::new(
            script
                .iter()
                .map(|(request, reply)| (golden(request), golden(reply)))
                .collect(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/OpenLMServer", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (answers, log) = (answers.clone(), log.clone());
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let (answers, log) = (answers.clone(), log.clone());
                    async move {
                        let body = request.into_body().collect().await?.to_bytes();
                        let body = String::from_utf8_lossy(&body).into_owned();
                        let reply = answers
                            .iter()
                            .find(|(request, _)| *request == body)
                            .map(|(_, reply)| reply.clone());
                        log.lock().unwrap().push(body);
                        let mut response = hyper::Response::new(Full::new(Bytes::from(
                            reply
                                .clone()
                                .unwrap_or_else(|| "not a golden request".into()),
                        )));
                        if reply.is_none() {
                            *response.status_mut() = hyper::StatusCode::BAD_REQUEST;
                        }
                        Ok::<_, hyper::Error>(response)
                    }
                });
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        GoldenServer {
            url,
            received,
            task,
        }
    }

    /// (a): the bodies received, in order, are exactly these golden requests.
    fn assert_received(&self, requests: &[&str]) {
        let received = self.received.lock().unwrap().clone();
        let expected: Vec<String> = requests.iter().map(|name| golden(name)).collect();
        assert_eq!(received, expected);
    }
}

impl Drop for GoldenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn client(url: &str, login: bool) -> OpenLm {
    let credentials = login.then(|| ("admin".to_owned(), "sandbox-password".to_owned()));
    let (username, password) = credentials.unzip();
    OpenLm::new(url, username, password, HttpOptions::default()).unwrap()
}

/// A login, then a listing of two pages of two rows. Filters never reach the wire (the client
/// applies them to what it read), so `sort` and `search` are always empty.
#[tokio::test]
async fn a_login_and_a_paged_listing() {
    let server = GoldenServer::start(&[
        (
            "request-get-login-form-settings.xml",
            "reply-show-login-form.xml",
        ),
        (
            "request-user-authentication.xml",
            "reply-session-authentication-id.xml",
        ),
        (
            "request-get-active-products2-page-1.xml",
            "reply-get-active-products2-page-1.xml",
        ),
        (
            "request-get-active-products2-page-2.xml",
            "reply-get-active-products2-page-2.xml",
        ),
    ])
    .await;
    let products = client(&server.url, true)
        .get_active_products(2)
        .await
        .unwrap();
    server.assert_received(&[
        "request-get-login-form-settings.xml",
        "request-user-authentication.xml",
        "request-get-active-products2-page-1.xml",
        "request-get-active-products2-page-2.xml",
    ]);
    assert!(golden("request-get-active-products2-page-1.xml").contains(SESSION_ID));
    assert_products_are_the_rows(&products, &ROWS);
}

/// The unpaged listing of servers before GetActiveProducts2 (`page_size` 0 asks for it).
#[tokio::test]
async fn an_unpaged_listing() {
    let server = GoldenServer::start(&[
        (
            "request-get-login-form-settings.xml",
            "reply-skip-login-form.xml",
        ),
        (
            "request-get-active-products.xml",
            "reply-get-active-products.xml",
        ),
    ])
    .await;
    let products = client(&server.url, false)
        .get_active_products(0)
        .await
        .unwrap();
    server.assert_received(&[
        "request-get-login-form-settings.xml",
        "request-get-active-products.xml",
    ]);
    assert_products_are_the_rows(&products, &ROWS);
}

/// CloseApplication: its five parameters, escaped; `Success` is done, `Error` a server error
/// with the reply's message.
#[tokio::test]
async fn closing_an_application_and_its_two_answers() {
    let target = close_target(&ROWS[CLOSED]);
    for (reply, closed) in [("reply-success.xml", true), ("reply-error.xml", false)] {
        // A close acknowledged is queued for the Agent: the client then lists the open
        // sessions (large pages) until the session is gone. Here it is gone at once.
        let mut exchange = vec![
            (
                "request-get-login-form-settings.xml",
                "reply-skip-login-form.xml",
            ),
            ("request-close-application.xml", reply),
        ];
        if closed {
            exchange.push((
                "request-get-active-products2-reread.xml",
                "reply-get-active-products2-after-close.xml",
            ));
        }
        let server = GoldenServer::start(&exchange).await;
        let result = client(&server.url, false).close_application(&target).await;
        let sent: Vec<&str> = exchange.iter().map(|(request, _)| *request).collect();
        server.assert_received(&sent);
        match result {
            Ok(()) => assert!(closed, "{reply} was taken for a success"),
            Err(Error::Server { message, .. }) if !closed => assert_eq!(message, "Server Error"),
            Err(other) => panic!("{reply}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (c): the sandbox emulator answers the golden requests with the golden replies

/// A sandbox whose licenses in use are exactly the golden rows.
async fn sandbox_with_the_rows(permissions: bool) -> Sandbox {
    let sb = Sandbox::start(SandboxOptions {
        openlm: OpenLmOptions {
            sessions: 0,
            permissions,
            // The Agent acts at once: these tests are about the replies.
            close_delay: std::time::Duration::ZERO,
            ..Default::default()
        },
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let site = &sb.shared().openlm;
    let now = gislicense::clock::now_ms();
    for row in &ROWS {
        site.add_checkout(Checkout {
            handle: row.handle,
            product: row.product.into(),
            username: row.username.into(),
            workstation: row.workstation.into(),
            server: row.server.into(),
            vendor: row.vendor.into(),
            feature: row.feature.into(),
            version: row.version.into(),
            start_ms: row.start_ms,
            idle_since_ms: (row.idle_seconds > 0).then(|| now - row.idle_seconds as i64 * 1000),
            licenses: row.licenses,
            borrowed: row.borrowed,
            full_name: row.full_name.into(),
            group: row.group.into(),
            project: row.project.into(),
            host_ip: row.host_ip.into(),
        })
        .unwrap();
        // Closing is enabled where the OpenLM Agent runs.
        site.set_agent(row.workstation, row.closable, true);
    }
    sb
}

/// POST a golden request to the sandbox, as bytes on a socket, and return the reply's body.
async fn post(sb: &Sandbox, request: &str) -> String {
    let url = url::Url::parse(&sb.openlm_url()).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let body = golden(request);
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.path(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 "), "{request}: {head}");
    body.to_owned()
}

/// Each `name="…"` attribute's value replaced by `*`.
fn without_attribute(xml: &str, name: &str) -> String {
    let marker = format!(" {name}=\"");
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(at) = rest.find(&marker) {
        let value_start = at + marker.len();
        let value_end = value_start + rest[value_start..].find('"').unwrap();
        out.push_str(&rest[..value_start]);
        out.push('*');
        rest = &rest[value_end..];
    }
    out.push_str(rest);
    out
}

/// The text of each `<tag>…</tag>` replaced by `*`.
fn without_text(xml: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let start = xml.find(&open).unwrap() + open.len();
    let end = xml.find(&close).unwrap();
    format!("{}*{}", &xml[..start], &xml[end..])
}

/// Replies compared with `duration` and `idle_time` (from the clock) normalised.
fn assert_same_reply(sandbox_reply: &str, golden_reply: &str) {
    let normalised =
        |xml: &str| without_attribute(&without_attribute(xml, "duration"), "idle_time");
    assert_eq!(
        normalised(sandbox_reply),
        normalised(&golden(golden_reply)),
        "{golden_reply}"
    );
}

/// The golden rows are one listing as a real server gives it: the same moment for every row,
/// and no row idle for longer than it has been open.
#[test]
fn the_golden_listing_is_one_moment() {
    let moment = |row: &Row| row.start_ms + row.duration_seconds as i64 * 1000;
    assert!(ROWS.iter().all(|row| moment(row) == moment(&ROWS[0])));
    assert!(ROWS
        .iter()
        .all(|row| row.idle_seconds <= row.duration_seconds));
}

#[tokio::test]
async fn the_sandbox_answers_the_listing_and_close_requests_as_the_golden_replies_say() {
    let sb = sandbox_with_the_rows(false).await;
    // Idle times follow the clock: within a minute of the golden ones.
    let listed = client(&sb.openlm_url(), false)
        .get_active_products(0)
        .await
        .unwrap();
    for (product, row) in listed.iter().zip(&ROWS) {
        let idle = product.seconds(Field::IdleTime).unwrap();
        let golden = row.idle_seconds as f64;
        assert!(
            (golden..golden + 60.0).contains(&idle),
            "{idle} for {golden}"
        );
    }
    for (request, reply) in [
        (
            "request-get-login-form-settings.xml",
            "reply-skip-login-form.xml",
        ),
        // With permissions off the sandbox takes any session id, the golden one included.
        (
            "request-get-active-products2-page-1.xml",
            "reply-get-active-products2-page-1.xml",
        ),
        (
            "request-get-active-products2-page-2.xml",
            "reply-get-active-products2-page-2.xml",
        ),
        (
            "request-get-active-products.xml",
            "reply-get-active-products.xml",
        ),
        ("request-close-application.xml", "reply-success.xml"),
    ] {
        assert_same_reply(&post(&sb, request).await, reply);
    }
    // The close ended that session and only that one.
    let handles: Vec<u64> = sb
        .shared()
        .openlm
        .checkouts()
        .iter()
        .map(|c| c.handle)
        .collect();
    assert_eq!(handles, [ROWS[0].handle, ROWS[2].handle]);

    // Closing it again is an Error reply with a message. Its wording is the emulator's own:
    // how a real server words it is unverified.
    let again = post(&sb, "request-close-application.xml").await;
    let message = again
        .strip_prefix(r#"<ULM><MESSAGE type="Error">"#)
        .and_then(|rest| rest.strip_suffix("</MESSAGE></ULM>"))
        .unwrap_or_else(|| panic!("not an Error reply: {again}"));
    assert!(message.contains("ARC/INFO"), "{message}");

    // An injected server error is the golden Error reply, whatever the request.
    for request in [
        "request-get-login-form-settings.xml",
        "request-get-active-products2-page-1.xml",
        "request-close-application.xml",
    ] {
        sb.fail_next(FaultKind::Error, 1, None);
        assert_same_reply(&post(&sb, request).await, "reply-error.xml");
    }
}

#[tokio::test]
async fn the_sandbox_answers_the_login_requests_as_the_golden_replies_say() {
    let sb = sandbox_with_the_rows(true).await;
    assert_same_reply(
        &post(&sb, "request-get-login-form-settings.xml").await,
        "reply-show-login-form.xml",
    );
    // The session id is random: compared without it, then used.
    let login = post(&sb, "request-user-authentication.xml").await;
    assert_eq!(
        without_text(&login, "SESSIONID"),
        without_text(&golden("reply-session-authentication-id.xml"), "SESSIONID")
    );
    assert!(sb
        .requests()
        .iter()
        .any(|r| r.operation == "UserAuthentication"
            && r.params.contains(&("NAME".into(), "admin".into()))
            && r.params.contains(&("PWD".into(), "***".into()))));
    // The golden listing request carries the golden session id, which this sandbox never
    // issued: it is refused as a login that is not there.
    let refused = post(&sb, "request-get-active-products2-page-1.xml").await;
    assert!(
        refused.starts_with(r#"<ULM><MESSAGE type="Error">"#),
        "{refused}"
    );
}
