//! The floors of `benches/run.py`: each benchmarked path done with nothing but what it
//! cannot avoid, so that the report can say how far gislicense is from the limit.
//!
//!     cargo build --release --example floors
//!     target/release/examples/floors parse FILE REPEATS
//!     target/release/examples/floors list PORTAL.json CONCURRENCY
//!     target/release/examples/floors change PORTAL.json NAMES.json BATCH IN_FLIGHT [LIST_CONCURRENCY]
//!     target/release/examples/floors close OPENLM_URL CONCURRENCY AGENT_DELAY_SECONDS
//!     target/release/examples/floors lmstat FILE REPEATS
//!     target/release/examples/floors lmgrd FILE
//!
//! `list` and `change` go through the crate's own HTTP layer (`gislicense::http`), so the
//! same connection pool, TLS and timeouts: what they leave out is everything above it.
//! Prints one JSON object, as `benches/workers.py` does: the times in seconds and the rows.

use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use gislicense::http::{Body, Effect, Http, HttpOptions, Request};
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::{json, Value};
use url::Url;

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Fallible<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |n: usize| -> Fallible<&str> {
        args.get(n).map(String::as_str).ok_or_else(|| {
            format!("missing argument {n}; see the top of examples/floors.rs").into()
        })
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = match arg(0)? {
        "parse" => parse(arg(1)?, arg(2)?.parse()?)?,
        "list" => runtime.block_on(list(arg(1)?, arg(2)?.parse()?))?,
        "change" => {
            let list_concurrency = match args.get(5) {
                Some(n) => Some(n.parse()?),
                None => None,
            };
            let (file, names) = (arg(1)?, arg(2)?);
            let (batch, in_flight) = (arg(3)?.parse()?, arg(4)?.parse()?);
            runtime.block_on(change(file, names, batch, in_flight, list_concurrency))?
        }
        "close" => runtime.block_on(close(arg(1)?, arg(2)?.parse()?, arg(3)?.parse()?))?,
        "lmstat" => lmstat(arg(1)?, arg(2)?.parse()?)?,
        "lmgrd" => lmgrd(arg(1)?)?,
        other => return Err(format!("no floor called {other:?}").into()),
    };
    println!("{result}");
    Ok(())
}

/// A bare quick-xml event scan of a GetActiveProducts reply: the text checked as UTF-8, every
/// event read, every attribute of every PRODUCT decoded. No records, no Python objects.
fn parse(path: &str, repeats: usize) -> Fallible<Value> {
    let data = std::fs::read(path)?;
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..repeats {
        let started = Instant::now();
        let (found, touched) = scan(&data)?;
        times.push(started.elapsed().as_secs_f64());
        std::hint::black_box(touched);
        rows = found;
    }
    Ok(json!({"times": times, "rows": rows}))
}

fn scan(data: &[u8]) -> Fallible<(usize, usize)> {
    let text = std::str::from_utf8(data)?;
    let mut reader = Reader::from_str(text);
    let (mut rows, mut touched) = (0, 0);
    loop {
        match reader.read_event()? {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "PRODUCT" => {
                rows += 1;
                for attr in e.attributes() {
                    let attr = attr?;
                    touched += attr.key.as_ref().len();
                    touched += attr.normalized_value(XmlVersion::Implicit1_0)?.len();
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((rows, touched))
}

/// A signed-in portal: its sharing URL, the token, and a client for it.
struct Portal {
    sharing: String,
    token: String,
    http: Http,
}

impl Portal {
    async fn sign_in(file: &str) -> Fallible<Portal> {
        let portal: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
        let field = |name: &str| portal[name].as_str().unwrap_or_default().to_owned();
        let url = Url::parse(&field("url"))?;
        let options = HttpOptions {
            ca_bundle: Some(field("ca_file").into()),
            ..HttpOptions::default()
        };
        let mut signed = Portal {
            sharing: format!("{}/sharing/rest", field("url").trim_end_matches('/')),
            token: String::new(),
            http: Http::new(options, &url)?,
        };
        let reply = signed
            .post(
                "generateToken",
                vec![
                    ("username", field("username")),
                    ("password", field("password")),
                    ("client", "referer".into()),
                    ("referer", "bench".into()),
                ],
                Effect::Read,
            )
            .await?;
        let reply: Value = serde_json::from_slice(&reply)?;
        signed.token = reply["token"].as_str().ok_or("no token")?.to_owned();
        Ok(signed)
    }

    /// One POST, its reply as bytes.
    async fn post(
        &self,
        path: &str,
        fields: Vec<(&str, String)>,
        effect: Effect,
    ) -> Fallible<bytes::Bytes> {
        let mut form: Vec<(String, String)> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        form.push(("f".into(), "json".into()));
        if !self.token.is_empty() {
            form.push(("token".into(), self.token.clone()));
        }
        let url = Url::parse(&format!("{}/{path}", self.sharing))?;
        let request = Request::post(url, Body::Form(form), effect).header("Referer", "bench");
        let reply = self.http.send(&request).await?;
        if reply.status != 200 {
            return Err(format!("{path}: HTTP {}", reply.status).into());
        }
        Ok(reply.body)
    }
}

/// Every member as the pages' bytes: the first page for the total, then the others,
/// `concurrency` in flight, kept in order. Only the first page is parsed.
async fn list(file: &str, concurrency: usize) -> Fallible<Value> {
    let portal = Portal::sign_in(file).await?;
    let started = Instant::now();
    let (total, bytes) = all_members(&portal, concurrency).await?;
    let took = started.elapsed().as_secs_f64();
    Ok(json!({"times": [took], "rows": total, "bytes": bytes}))
}

/// Every page of the organization's members as bytes, `concurrency` in flight after the
/// first: the number of members and the bytes read.
async fn all_members(portal: &Portal, concurrency: usize) -> Fallible<(usize, usize)> {
    let page = |start: usize| async move {
        let fields = vec![("start", start.to_string()), ("num", "100".to_owned())];
        portal
            .post("portals/self/users", fields, Effect::Read)
            .await
    };
    let first: Value = serde_json::from_slice(&page(1).await?)?;
    let total = first["total"].as_u64().ok_or("no total")? as usize;
    let pages: Vec<Fallible<bytes::Bytes>> = stream::iter((101..=total).step_by(100).map(page))
        .buffered(concurrency)
        .collect()
        .await;
    let mut bytes = 0;
    for page in pages {
        bytes += page?.len();
    }
    Ok((total, bytes))
}

/// The user type changes alone: batches of `batch` names, `in_flight` at a time. With
/// `list_concurrency`, every member is first listed as bytes at that concurrency: the least
/// a change must do when its whole plan is made before anything is sent.
async fn change(
    file: &str,
    names: &str,
    batch: usize,
    in_flight: usize,
    list_concurrency: Option<usize>,
) -> Fallible<Value> {
    let portal = Portal::sign_in(file).await?;
    let names: Vec<String> = serde_json::from_str(&std::fs::read_to_string(names)?)?;
    let started = Instant::now();
    if let Some(concurrency) = list_concurrency {
        all_members(&portal, concurrency).await?;
    }
    let replies: Vec<Fallible<bytes::Bytes>> = stream::iter(names.chunks(batch).map(|chunk| {
        let portal = &portal;
        async move {
            let fields = vec![
                ("users", serde_json::to_string(chunk)?),
                ("userLicenseType", "creatorUT".to_owned()),
            ];
            let path = "portals/self/updateUserLicenseType";
            portal.post(path, fields, Effect::Idempotent).await
        }
    }))
    .buffer_unordered(in_flight)
    .collect()
    .await;
    let took = started.elapsed().as_secs_f64();
    let mut changed = 0;
    for reply in replies {
        let reply: Value = serde_json::from_slice(&reply?)?;
        let results = reply["results"].as_array().ok_or("no results")?;
        changed += results.iter().filter(|r| r["status"] == true).count();
    }
    Ok(json!({"times": [took], "rows": changed}))
}

/// The latency bound of closing every session: one listing, one CloseApplication each at
/// `concurrency`, the Agent's delay, one confirming listing.
async fn close(url: &str, concurrency: usize, agent_delay: f64) -> Fallible<Value> {
    let url = Url::parse(url)?;
    let http = Http::new(HttpOptions::default(), &url)?;
    let send = |xml: String, effect: Effect| {
        let (http, url) = (&http, &url);
        async move {
            let reply = http
                .send(&Request::post(url.clone(), Body::Xml(xml), effect))
                .await?;
            Fallible::Ok(reply.body)
        }
    };
    let listing = || {
        send(
            r#"<ULM><MESSAGE type="GetActiveProducts" /><SESSION sessionid="0" /></ULM>"#.into(),
            Effect::Read,
        )
    };
    let started = Instant::now();
    let sessions = products(&listing().await?)?;
    let closes: Vec<Fallible<bytes::Bytes>> = stream::iter(sessions.iter().map(|p| {
        let params: String = ["username", "workstation", "server", "vendor", "feature"]
            .iter()
            .zip(p)
            .map(|(name, value)| format!(r#"<PARAM name="{name}">{value}</PARAM>"#))
            .collect();
        send(
            format!(
                r#"<ULM><MESSAGE type="CloseApplication" /><SESSION sessionid="0" /><PARAMETERS>{params}</PARAMETERS></ULM>"#
            ),
            Effect::Write,
        )
    }))
    .buffer_unordered(concurrency)
    .collect()
    .await;
    tokio::time::sleep(Duration::from_secs_f64(agent_delay)).await;
    let left = products(&listing().await?)?.len();
    let took = started.elapsed().as_secs_f64();
    for close in closes {
        close?;
    }
    Ok(json!({"times": [took], "rows": sessions.len(), "left": left}))
}

/// Each PRODUCT's username, workstation, server_name, vendor and feature (the sandbox's
/// values need no escaping in a request).
fn products(data: &[u8]) -> Fallible<Vec<[String; 5]>> {
    let mut reader = Reader::from_str(std::str::from_utf8(data)?);
    let mut found = Vec::new();
    loop {
        match reader.read_event()? {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "PRODUCT" => {
                let mut row: [String; 5] = Default::default();
                for attr in e.attributes() {
                    let attr = attr?;
                    let at = match attr.key.as_ref() {
                        "username" => 0,
                        "workstation" => 1,
                        "server_name" => 2,
                        "vendor" => 3,
                        "feature" => 4,
                        _ => continue,
                    };
                    row[at] = attr.normalized_value(XmlVersion::Implicit1_0)?.into_owned();
                }
                found.push(row);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(found)
}

/// A bare scan of `lmutil lmstat -a` output: the file read and checked as UTF-8, split into
/// lines, and each session line's fields found from the right (licenses, start, server/port
/// and handle, version, then user, host and display from the left), without allocating per
/// line. Each field's length and first byte go into a checksum, printed, so that the work
/// cannot be optimised away. No records, no dates, no Python objects.
fn lmstat(path: &str, repeats: usize) -> Fallible<Value> {
    let mut times = Vec::new();
    let (mut rows, mut features, mut sum) = (0, 0, 0u64);
    for _ in 0..repeats {
        let started = Instant::now();
        let data = std::fs::read(path)?;
        let text = std::str::from_utf8(&data)?;
        (rows, features, sum) = (0, 0, 0);
        for line in text.split('\n') {
            if let Some(header) = line.strip_prefix("Users of ") {
                let name = header.split(':').next().unwrap_or("");
                features += 1;
                sum = sum.wrapping_add(name.len() as u64);
            } else if line.starts_with(' ') {
                if let Some(fields) = session_fields(line) {
                    rows += 1;
                    sum = fields.iter().fold(sum, |s, f| {
                        s.wrapping_mul(31)
                            .wrapping_add(f.len() as u64 + u64::from(*f.first().unwrap_or(&0)))
                    });
                }
            }
        }
        times.push(started.elapsed().as_secs_f64());
    }
    Ok(json!({"times": times, "rows": rows, "features": features, "checksum": sum}))
}

/// A session line's user, host, display, version, server, port, handle, start and licenses
/// (as the bytes of each), found from the right; None for any other line.
fn session_fields(line: &str) -> Option<[&[u8]; 9]> {
    let mut rest = line.trim();
    let mut licenses = "1";
    if let Some(at) = rest.rfind(", ") {
        let tail = &rest[at + 2..];
        if let Some(n) = tail
            .strip_suffix(" licenses")
            .or(tail.strip_suffix(" license"))
        {
            licenses = n;
            rest = &rest[..at];
        }
    }
    let at = rest.rfind(", start ")?;
    let start = &rest[at + 8..];
    let inner = rest[..at].strip_suffix(')')?;
    let open = inner.rfind('(')?;
    let (place, handle) = inner[open + 1..].rsplit_once(' ')?;
    let (server, port) = place.rsplit_once('/')?;
    let inner = inner[..open].trim_end().strip_suffix(')')?;
    let open = inner.rfind("(v")?;
    let version = &inner[open + 2..];
    let mut who = inner[..open].trim_end().splitn(3, ' ');
    let (user, host) = (who.next()?, who.next()?);
    let display = who.next().unwrap_or("");
    Some(
        [
            user, host, display, version, server, port, handle, start, licenses,
        ]
        .map(str::as_bytes),
    )
}

/// A bare streaming scan of a License Manager debug log: read in 64 KiB chunks, split into
/// lines (one buffer, reused), each line's clock and daemon skipped and its message
/// classified (OUT, IN, DENIED, TIMESTAMP, other); for OUT, IN and DENIED the feature and
/// user@host found. Counts and a checksum of the fields, and the process's peak memory.
fn lmgrd(path: &str) -> Fallible<Value> {
    use std::io::BufRead;
    let started = Instant::now();
    let mut input = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut line = Vec::with_capacity(256);
    let mut counts = [0u64; 5];
    let mut sum = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let (kind, fields) = log_line(&line);
        counts[kind] += 1;
        for field in fields {
            sum = sum
                .wrapping_mul(31)
                .wrapping_add(field.len() as u64 + u64::from(*field.first().unwrap_or(&0)));
        }
    }
    let took = started.elapsed().as_secs_f64();
    let [out, in_, denied, timestamp, other] = counts;
    Ok(json!({
        "times": [took],
        "rows": out + in_ + denied,
        "kinds": {"OUT": out, "IN": in_, "DENIED": denied, "TIMESTAMP": timestamp, "other": other},
        "checksum": sum,
        "peak_kib": peak_kib(),
    }))
}

/// The kind of a log line (0 OUT, 1 IN, 2 DENIED, 3 TIMESTAMP, 4 other) and its feature,
/// user and host, for a license event.
fn log_line(line: &[u8]) -> (usize, [&[u8]; 3]) {
    let none: [&[u8]; 3] = [b"", b"", b""];
    let line = line.trim_ascii();
    // `HH:MM:SS (daemon) message`
    let Some(space) = line.iter().position(|&b| b == b' ') else {
        return (4, none);
    };
    let mut message = line[space + 1..].trim_ascii_start();
    if message.first() == Some(&b'(') {
        let Some(close) = message.iter().position(|&b| b == b')') else {
            return (4, none);
        };
        message = message[close + 1..].trim_ascii_start();
    }
    let (kind, body) = if let Some(body) = message.strip_prefix(b"OUT:") {
        (0, body)
    } else if let Some(body) = message.strip_prefix(b"IN:") {
        (1, body)
    } else if let Some(body) = message.strip_prefix(b"DENIED:") {
        (2, body)
    } else if let Some(date) = message.strip_prefix(b"TIMESTAMP ") {
        return (3, [date, b"", b""]);
    } else {
        return (4, none);
    };
    let body = body.trim_ascii_start();
    let (feature, rest) = match body.strip_prefix(b"\"") {
        Some(quoted) => match quoted.iter().position(|&b| b == b'"') {
            Some(end) => (&quoted[..end], &quoted[end + 1..]),
            None => return (4, none),
        },
        None => return (4, none),
    };
    let who = rest
        .trim_ascii_start()
        .split(|&b| b == b' ')
        .next()
        .unwrap_or(b"");
    let (user, host) = match who.iter().rposition(|&b| b == b'@') {
        Some(at) => (&who[..at], &who[at + 1..]),
        None => (who, &b""[..]),
    };
    (kind, [feature, user, host])
}

/// The process's peak resident memory (VmHWM), in KiB; 0 where /proc does not say.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}
