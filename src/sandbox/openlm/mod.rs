//! An emulated OpenLM Server: the XML API of `spec/openlm-xml.md` over a seeded site.
//!
//! Choices where the spec says "unverified" (the client tolerates other forms):
//! PRODUCT attributes are `product username workstation server_name vendor feature version
//! start_time duration idle_time handle num_licenses borrowed close_enabled user_full_name
//! group_name project_name host_ip` (times in ms since 1970 UTC, durations in seconds);
//! a paged reply carries `<PAGING ... total_records="N"/>`; an expired session gets
//! `<MESSAGE type="Error">Session expired. Please log in again.</MESSAGE>`.
//!
//! Requests are read and replies written by `wire`, the emulator's own codec; a license in
//! use, and what a listing says of it, is `checkout`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::sandbox::seed;

mod checkout;
mod inventory;
mod wire;

pub use checkout::Checkout;
pub use wire::{error_reply, read_request, Request};
use wire::{kind_reply, Reply};

#[derive(Debug, Clone)]
pub struct OpenLmOptions {
    /// Licenses in use at start.
    pub sessions: usize,
    /// People at the site; by default enough for the sessions (at least 300).
    pub users: Option<usize>,
    /// Login required (`ShowLoginForm`), with `username` / `password`.
    pub permissions: bool,
    pub username: String,
    pub password: String,
    /// How long a login session lasts without use.
    pub login_lifetime: Duration,
    /// Whether GetActiveProducts2 (paged) is understood; older servers do not have it.
    pub paging: bool,
    /// How long after OpenLM acknowledges a close its Agent takes to close the
    /// application: until then the session is still listed. A real server queues the close
    /// for the Agent on the workstation; it is not done when the reply comes.
    pub close_delay: Duration,
}

impl Default for OpenLmOptions {
    fn default() -> Self {
        OpenLmOptions {
            sessions: 500,
            users: None,
            permissions: false,
            username: "admin".into(),
            password: "sandbox-password".into(),
            login_lifetime: Duration::from_secs(30 * 60),
            paging: true,
            close_delay: Duration::from_millis(200),
        }
    }
}

struct SiteState {
    checkouts: Vec<Checkout>,
    /// What each license server issues (fixed at seeding).
    issued: Vec<inventory::Issued>,
    /// Workstations (lower case) without the OpenLM Agent: closing there fails.
    no_agent: HashSet<String>,
    /// Workstations (lower case) whose Agent never acts: closes there are acknowledged and
    /// queued, and the applications stay open.
    stalled: HashSet<String>,
    /// Closes acknowledged and queued for the Agent: the session's handle, and when the
    /// Agent closes it.
    queued: HashMap<u64, Instant>,
    /// Login session id → when it was last used.
    logins: HashMap<String, Instant>,
    next_handle: u64,
    rng: SmallRng,
}

pub struct OpenLmSite {
    options: OpenLmOptions,
    state: Mutex<SiteState>,
}

/// Mixed into the seed for the stream that draws the sessions' times ("times" in ASCII).
const TIMES_STREAM: u64 = 0x74_69_6d_65_73;

impl OpenLmSite {
    pub fn seeded(options: OpenLmOptions, seed: u64) -> Result<OpenLmSite> {
        OpenLmSite::seeded_at(options, seed, now_ms())
    }

    /// The site of `seed` as it is at `now` (ms since 1970): the same seed and moment, the
    /// same site, times included.
    fn seeded_at(options: OpenLmOptions, seed: u64, now: i64) -> Result<OpenLmSite> {
        if options.permissions && (options.username.is_empty() || options.password.is_empty()) {
            return Err(Error::invalid(
                "permissions mode needs a non-empty OpenLM username and password",
            ));
        }
        let mut rng = SmallRng::seed_from_u64(seed);
        let user_count = options
            .users
            .unwrap_or_else(|| (options.sessions / 3).max(300))
            .max(1);
        let people = seed::people(user_count, &mut rng);
        let (workstations, no_agent) = seeded_workstations(people.len(), &mut rng);
        // Times come from a stream of their own, so that how they are drawn does not change
        // who holds what for a seed.
        let mut times = SmallRng::seed_from_u64(seed ^ TIMES_STREAM);
        let mut checkouts: Vec<Checkout> = Vec::with_capacity(options.sessions);
        let mut taken: HashSet<(usize, usize, &'static str, &'static str)> = HashSet::new();
        let mut handle = 100;
        let mut attempts = 0;
        while checkouts.len() < options.sessions && attempts < options.sessions * 20 {
            attempts += 1;
            let who = rng.random_range(0..people.len());
            let which = rng.random_range(0..workstations[who].len());
            let feature = seed::pick_feature(&mut rng);
            let server = seed::pick_server(feature.vendor, &mut rng);
            // One checkout per person, workstation, server and feature: a second would be
            // the same session to OpenLM.
            if !taken.insert((who, which, server.name, feature.feature)) {
                continue;
            }
            let person = &people[who];
            let (workstation, ip) = &workstations[who][which];
            handle += rng.random_range(1..40);
            let when = seed::session_times(&mut times);
            checkouts.push(Checkout {
                handle,
                product: feature.product.into(),
                username: person.username.clone(),
                workstation: workstation.clone(),
                server: server.name.into(),
                vendor: feature.vendor.into(),
                feature: feature.feature.into(),
                version: feature.version.into(),
                start_ms: now - when.open_ms,
                idle_since_ms: when.idle_ms.map(|idle| now - idle),
                licenses: if rng.random_bool(0.03) { 2 } else { 1 },
                borrowed: rng.random_bool(0.02),
                full_name: person.full_name.clone(),
                group: person.department.into(),
                project: seed::pick_project(&mut rng).into(),
                host_ip: ip.clone(),
            });
        }
        Ok(OpenLmSite {
            options,
            state: Mutex::new(SiteState {
                issued: inventory::seeded_issued(&checkouts),
                checkouts,
                no_agent,
                stalled: HashSet::new(),
                queued: HashMap::new(),
                logins: HashMap::new(),
                next_handle: handle + 1,
                rng,
            }),
        })
    }

    pub fn options(&self) -> &OpenLmOptions {
        &self.options
    }

    /// The site as it is now: closes whose time has come are carried out first, so every
    /// reply and every look from a test sees the Agents' work done on time.
    fn state(&self) -> std::sync::MutexGuard<'_, SiteState> {
        // A panic while holding the lock cannot leave the data half-changed in a way that
        // matters for a test server; keep serving.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.queued.is_empty() {
            let now = Instant::now();
            let due: HashSet<u64> = state
                .queued
                .iter()
                .filter(|(_, when)| **when <= now)
                .map(|(handle, _)| *handle)
                .collect();
            if !due.is_empty() {
                // One pass over the sessions, however many closes fall due at once.
                state.checkouts.retain(|c| !due.contains(&c.handle));
                state.queued.retain(|handle, _| !due.contains(handle));
            }
        }
        state
    }

    /// The licenses in use now.
    pub fn checkouts(&self) -> Vec<Checkout> {
        self.state().checkouts.clone()
    }

    pub fn checkout_count(&self) -> usize {
        self.state().checkouts.len()
    }

    /// Add a license in use (tests use this for hostile names); returns its handle.
    /// A session whose times no real server could list (started in the future, idle for
    /// longer than open) is refused.
    pub fn add_checkout(&self, mut checkout: Checkout) -> Result<u64> {
        checkout.check_times(now_ms())?;
        let mut state = self.state();
        if checkout.handle == 0 {
            checkout.handle = state.next_handle;
            state.next_handle += 1;
        }
        let handle = checkout.handle;
        state.checkouts.push(checkout);
        Ok(handle)
    }

    pub fn workstations_without_agent(&self) -> Vec<String> {
        let state = self.state();
        let mut names: Vec<String> = state
            .checkouts
            .iter()
            .filter(|c| state.no_agent.contains(&c.workstation.to_lowercase()))
            .map(|c| c.workstation.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Install or remove the OpenLM Agent on a workstation; an installed Agent that does
    /// not `act` acknowledges closes and never carries them out.
    pub fn set_agent(&self, workstation: &str, installed: bool, acts: bool) {
        let mut state = self.state();
        let name = workstation.to_lowercase();
        if installed {
            state.no_agent.remove(&name);
        } else {
            state.no_agent.insert(name.clone());
        }
        if acts {
            state.stalled.remove(&name);
        } else {
            state.stalled.insert(name);
        }
    }

    /// End every login session, as a server restart or a long idle would.
    pub fn expire_logins(&self) {
        self.state().logins.clear();
    }

    /// The reply to one request.
    pub fn respond(&self, request: &Request) -> String {
        let kind = request.kind.as_str();
        let is = |name: &str| kind.eq_ignore_ascii_case(name);
        if is("GetLoginFormSettings") {
            return kind_reply(if self.options.permissions {
                "ShowLoginForm"
            } else {
                "SkipLoginForm"
            });
        }
        if is("UserAuthentication") {
            return self.authenticate(request);
        }
        if let Err(text) = self.check_session(request) {
            return error_reply(text);
        }
        if is("GetActiveProducts") {
            self.products_reply(kind, None)
        } else if is("GetActiveProducts2") && self.options.paging {
            self.products_reply(kind, Some(request))
        } else if is("CloseApplication") {
            self.close(request)
        } else if kind.is_empty() {
            error_reply("The request has no MESSAGE type")
        } else {
            let state = self.state();
            inventory::reply(kind, &state.issued, &state.checkouts)
                .unwrap_or_else(|| error_reply(&format!("Unknown message type: {kind}")))
        }
    }

    fn authenticate(&self, request: &Request) -> String {
        let name = request.text("NAME").unwrap_or("");
        let password = request.text("PWD").unwrap_or("");
        if !self.options.permissions {
            return error_reply("User authentication is disabled on this server");
        }
        if name != self.options.username || password != self.options.password {
            return error_reply("Invalid user name or password");
        }
        let mut state = self.state();
        let id = format!("{:016x}", state.rng.random::<u64>());
        state.logins.insert(id.clone(), Instant::now());
        drop(state);
        let mut reply = Reply::with_capacity(128);
        reply.empty("MESSAGE", [("type", "SessionAuthenticationID")]);
        reply.text_element("SESSIONID", [], &id);
        reply.finish()
    }

    fn check_session(&self, request: &Request) -> std::result::Result<(), &'static str> {
        if !self.options.permissions {
            return Ok(());
        }
        let id = request.session_id.as_deref().unwrap_or("");
        let mut state = self.state();
        match state.logins.get_mut(id) {
            Some(last_use) if last_use.elapsed() < self.options.login_lifetime => {
                *last_use = Instant::now();
                Ok(())
            }
            Some(_) => {
                state.logins.remove(id);
                Err("Session expired. Please log in again.")
            }
            None => Err("Invalid session. Please log in."),
        }
    }

    fn products_reply(&self, kind: &str, paged: Option<&Request>) -> String {
        let state = self.state();
        let mut rows: Vec<&Checkout> = state.checkouts.iter().collect();
        let mut window = None;
        if let Some(request) = paged {
            let paging = request.paging.clone().unwrap_or_default();
            let search = paging.search.trim().to_lowercase();
            if !search.is_empty() {
                rows.retain(|c| {
                    [
                        &c.product,
                        &c.username,
                        &c.workstation,
                        &c.server,
                        &c.feature,
                        &c.full_name,
                    ]
                    .iter()
                    .any(|v| v.to_lowercase().contains(&search))
                });
            }
            sort_rows(&mut rows, &paging.sort);
            if paging.dir.eq_ignore_ascii_case("DESC") {
                rows.reverse();
            }
            let total = rows.len();
            let start = (paging.start as usize).min(total);
            let end = if paging.end == 0 && paging.start == 0 {
                total
            } else {
                (paging.end as usize)
                    .saturating_add(1)
                    .min(total)
                    .max(start)
            };
            rows = rows[start..end].to_vec();
            window = Some((paging.start, paging.end, total));
        }
        let now = now_ms();
        let mut reply = Reply::with_capacity(256 + rows.len() * 420);
        reply.empty("MESSAGE", [("type", kind)]);
        if let Some((start, end, total)) = window {
            let (start, end, total) = (start.to_string(), end.to_string(), total.to_string());
            reply.empty(
                "PAGING",
                [
                    ("start_record", start.as_str()),
                    ("end_record", end.as_str()),
                    ("total_records", total.as_str()),
                ],
            );
        }
        for checkout in rows {
            let closable = !state
                .no_agent
                .contains(&checkout.workstation.to_lowercase());
            let attrs = checkout.attributes(now, closable);
            reply.empty("PRODUCT", attrs.iter().map(|(n, v)| (*n, v.as_str())));
        }
        reply.finish()
    }

    fn close(&self, request: &Request) -> String {
        let mut values = Vec::with_capacity(5);
        for name in ["username", "workstation", "server", "vendor", "feature"] {
            match request.param(name) {
                Some(value) if !value.is_empty() => values.push(value),
                _ => return error_reply(&format!("Missing parameter: {name}")),
            }
        }
        let (username, workstation, server, vendor, feature) =
            (values[0], values[1], values[2], values[3], values[4]);
        let mut state = self.state();
        let matches = |c: &Checkout| {
            c.username == username
                && c.workstation.eq_ignore_ascii_case(workstation)
                && c.server.eq_ignore_ascii_case(server)
                && c.vendor.eq_ignore_ascii_case(vendor)
                && c.feature.eq_ignore_ascii_case(feature)
        };
        if !state.checkouts.iter().any(matches) {
            return error_reply(&format!(
                "No {vendor} {feature} license from {server} is in use by {username} on {workstation}"
            ));
        }
        if state.no_agent.contains(&workstation.to_lowercase()) {
            return error_reply(&format!(
                "The OpenLM Agent is not installed or not responding on workstation {workstation}"
            ));
        }
        // Acknowledged and queued for the Agent, which closes the application later (or,
        // stalled, never); asking again while queued is acknowledged again.
        let stalled = state.stalled.contains(&workstation.to_lowercase());
        let due = Instant::now() + self.options.close_delay;
        let handles: Vec<u64> = state
            .checkouts
            .iter()
            .filter(|c| matches(c))
            .map(|c| c.handle)
            .collect();
        if self.options.close_delay.is_zero() && !stalled {
            state.checkouts.retain(|c| !matches(c));
        } else if !stalled {
            for handle in handles {
                state.queued.entry(handle).or_insert(due);
            }
        }
        kind_reply("Success")
    }
}

/// A sort column's name as compared: lower case, without `_`, `-` or spaces
/// (`start_time`, `StartTime` and `start-time` are one column).
fn column_key(column: &str) -> String {
    column
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn sort_rows(rows: &mut [&Checkout], column: &str) {
    match column_key(column).as_str() {
        "" | "handle" => rows.sort_by_key(|c| c.handle),
        "starttime" | "start" => rows.sort_by_key(|c| (c.start_ms, c.handle)),
        "username" | "user" => {
            rows.sort_by(|a, b| a.username.cmp(&b.username).then(a.handle.cmp(&b.handle)))
        }
        "workstation" => rows.sort_by(|a, b| {
            a.workstation
                .cmp(&b.workstation)
                .then(a.handle.cmp(&b.handle))
        }),
        "product" => rows.sort_by(|a, b| a.product.cmp(&b.product).then(a.handle.cmp(&b.handle))),
        "feature" => rows.sort_by(|a, b| a.feature.cmp(&b.feature).then(a.handle.cmp(&b.handle))),
        "servername" | "server" => {
            rows.sort_by(|a, b| a.server.cmp(&b.server).then(a.handle.cmp(&b.handle)))
        }
        _ => rows.sort_by_key(|c| c.handle),
    }
}

/// Each person's workstations, a main one and sometimes a laptop, with their addresses; and
/// the names (lower case) of those without an OpenLM agent.
fn seeded_workstations(
    people: usize,
    rng: &mut SmallRng,
) -> (Vec<Vec<(String, String)>>, HashSet<String>) {
    let mut workstations: Vec<Vec<(String, String)>> = Vec::with_capacity(people);
    let mut no_agent = HashSet::new();
    let mut count = 0;
    for _ in 0..people {
        let mut own = Vec::new();
        for _ in 0..if rng.random_bool(0.2) { 2 } else { 1 } {
            let name = seed::workstation_name(count, rng);
            let ip = format!(
                "10.{}.{}.{}",
                10 + count / 60_000,
                (count / 250) % 250,
                count % 250 + 2
            );
            if rng.random_bool(0.1) {
                no_agent.insert(name.to_lowercase());
            }
            own.push((name, ip));
            count += 1;
        }
        workstations.push(own);
    }
    (workstations, no_agent)
}

#[cfg(test)]
mod tests;
