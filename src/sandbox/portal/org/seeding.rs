//! Seeding the emulated organization: a realistic organization made from a number.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{
    level_of, PortalMember, PortalState, ANALYST_ROLE, DATA_EDITOR_ROLE, USER_TYPES, VIEWER_ROLE,
};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::portal::versions::{parse_version, Feature, RELEASES};
use crate::sandbox::portal::licenses::{self, Deployment, LISTINGS};
use crate::sandbox::portal::{PortalSite, PortalSiteOptions};
use crate::sandbox::seed;

impl PortalSite {
    /// A portal of `options.members` members made from `seed_value`: the same seed makes the
    /// same organization (the two accounts first, then people drawn by `seed::people`).
    pub fn seeded(options: PortalSiteOptions, seed_value: u64) -> Result<PortalSite> {
        check_accounts(&options)?;
        check_release(&options)?;
        let mut members = seeded_members(&options, seed_value);
        licenses::seed_entitlements(&mut members, seed_value);
        if options.online() {
            crate::sandbox::portal::online::seed_credits(&mut members, seed_value);
        }
        // Before 10.7 a member's license was their level: Viewers were level 1.
        if !options.serves(Feature::UserTypes) {
            for m in &mut members {
                m.stored_level = level_of(&m.user_type);
                m.user_type.clear();
            }
        }
        members.sort_by_key(|m| m.username.to_lowercase());
        Ok(PortalSite {
            options,
            state: Mutex::new(initial_state(members)),
        })
    }
}

/// The two accounts' names and passwords, the app's credentials, the size and token lifetime.
fn check_accounts(options: &PortalSiteOptions) -> Result<()> {
    for (what, value) in [
        ("admin_username", &options.admin_username),
        ("admin_password", &options.admin_password),
        ("user_username", &options.user_username),
        ("user_password", &options.user_password),
        ("oauth_client_id", &options.oauth_client_id),
        ("oauth_client_secret", &options.oauth_client_secret),
    ] {
        if value.trim().is_empty() {
            return Err(Error::invalid(format!(
                "the sandbox portal's {what} is empty"
            )));
        }
    }
    if options
        .admin_username
        .eq_ignore_ascii_case(&options.user_username)
    {
        return Err(Error::invalid(
            "the sandbox portal's two accounts need different user names",
        ));
    }
    if options.members < 2 {
        return Err(Error::invalid(
            "the sandbox portal needs at least 2 members (the two accounts)",
        ));
    }
    if options.token_lifetime < Duration::from_secs(1) {
        return Err(Error::invalid("token_lifetime must be at least 1 second"));
    }
    Ok(())
}

/// The releases it plays are those of the version table; older or unreadable versions would
/// be served as guesses, and Kubernetes only from the release that brought it.
fn check_release(options: &PortalSiteOptions) -> Result<()> {
    let oldest = RELEASES[0];
    match parse_version(&options.version) {
        None => {
            return Err(Error::invalid(format!(
                "the sandbox portal's version {:?} is not a REST version such as \"2024.1\" \
                 or \"6.1\"",
                options.version
            )))
        }
        Some(v) if v < oldest.rest => {
            return Err(Error::invalid(format!(
                "the sandbox portal plays ArcGIS Enterprise {} (REST {}.{}) and later, \
                 not REST {}",
                oldest.name, oldest.rest.0, oldest.rest.1, options.version
            )))
        }
        Some(_) => {}
    }
    if options.deployment == Deployment::Kubernetes && !options.serves(Feature::Kubernetes) {
        let since = Feature::Kubernetes.since();
        return Err(Error::invalid(format!(
            "ArcGIS Enterprise on Kubernetes came with {} (REST {}.{}): the sandbox cannot \
             play it at REST {}",
            since.name, since.rest.0, since.rest.1, options.version
        )));
    }
    Ok(())
}

const DAY: i64 = 86_400_000;

/// The administrator, the member, then the people drawn from the seed (in that order: the
/// random stream decides every value after them).
fn seeded_members(options: &PortalSiteOptions, seed_value: u64) -> Vec<PortalMember> {
    let mut rng = SmallRng::seed_from_u64(seed_value ^ 0x0090_27a1);
    let now = now_ms();
    let people = seed::people(options.members - 2, &mut rng);
    let mut members = Vec::with_capacity(options.members);
    let mut admin = new_member(
        &mut rng,
        now,
        options.admin_username.clone(),
        "Portal Administrator".into(),
        "GIS",
    );
    admin.role_id = "org_admin".into();
    admin.user_type = "GISProfessionalAdvUT".into();
    members.push(admin);
    let user = new_member(
        &mut rng,
        now,
        options.user_username.clone(),
        "Sandbox Member".into(),
        "Planning",
    );
    members.push(user);
    for person in people {
        if person
            .username
            .eq_ignore_ascii_case(&options.admin_username)
            || person.username.eq_ignore_ascii_case(&options.user_username)
        {
            continue;
        }
        members.push(seeded_person(&mut rng, now, person));
    }
    give_offline_licenses(&mut members, options.offline_members);
    members
}

/// A Creator member with the `org_user` role, created 400 to 3,000 days ago.
fn new_member(
    rng: &mut SmallRng,
    now: i64,
    username: String,
    full_name: String,
    department: &str,
) -> PortalMember {
    let (first, last) = full_name.split_once(' ').unwrap_or((&full_name, ""));
    let created = now - rng.random_range(400..3000) * DAY;
    PortalMember {
        id: random_text(rng, 32, HEX),
        email: format!("{username}@example.gov"),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        username,
        full_name: full_name.clone(),
        department: department.to_owned(),
        role_id: "org_user".into(),
        user_type: "creatorUT".into(),
        stored_level: "2",
        last_login: now - rng.random_range(0..30) * DAY,
        created,
        modified: created,
        disabled: false,
        offline: Vec::new(),
        licenses: vec![Vec::new(); LISTINGS.len()],
        credits: None,
    }
}

/// A person of the seed as a member: a user type by the types' shares, a role that type
/// allows, a last sign-in (or none), and now and then disabled.
fn seeded_person(rng: &mut SmallRng, now: i64, person: seed::Person) -> PortalMember {
    let mut m = new_member(
        rng,
        now,
        person.username,
        person.full_name,
        person.department,
    );
    let roll = rng.random_range(0..100);
    let mut cumulative = 0;
    let user_type = USER_TYPES
        .iter()
        .find(|t| {
            cumulative += t.share;
            roll < cumulative
        })
        .unwrap_or(&USER_TYPES[0]);
    m.user_type = user_type.id.into();
    m.role_id = match user_type.max_rank {
        0 => VIEWER_ROLE,
        2 => [DATA_EDITOR_ROLE, "org_user", "org_user"][rng.random_range(0..3)],
        _ => match rng.random_range(0..100) {
            0..=2 => "org_admin",
            3..=32 => "org_publisher",
            33..=40 => ANALYST_ROLE,
            _ => "org_user",
        },
    }
    .into();
    // Some never signed in; the rest spread over the last 400 days.
    m.last_login = if rng.random_bool(0.08) {
        -1
    } else {
        now - rng.random_range(0..400 * DAY)
    };
    m.created = m
        .created
        .min(if m.last_login > 0 { m.last_login } else { now });
    m.modified = m.created;
    m.disabled = rng.random_bool(0.02);
    m
}

/// Offline check-outs go to members whose user type includes ArcGIS Pro (not the two
/// accounts), up to `count`.
fn give_offline_licenses(members: &mut [PortalMember], count: usize) {
    let mut offline = 0;
    for m in members.iter_mut().skip(2) {
        if offline >= count {
            break;
        }
        if m.user_type.starts_with("GISProfessional") && !m.disabled {
            m.offline.push("arcgisprodesktop");
            offline += 1;
        }
    }
}

impl PortalState {
    /// Add a new member (a created account), keeping the counts and the index.
    pub(in crate::sandbox::portal) fn add(&mut self, member: PortalMember) {
        let i = self.members.len();
        *self.counts.entry(member.user_type.clone()).or_insert(0) += 1;
        *self.level_counts.entry(member.level()).or_insert(0) += 1;
        self.index.insert(member.username.to_lowercase(), i);
        self.index.insert(member.id.clone(), i);
        self.members.push(member);
    }

    /// Remove member `i` (a deleted account), keeping the counts and the index.
    pub(in crate::sandbox::portal) fn remove(&mut self, i: usize) {
        let member = self.members.remove(i);
        *self.counts.entry(member.user_type.clone()).or_insert(0) -= 1;
        *self.level_counts.entry(member.level()).or_insert(0) -= 1;
        self.index.clear();
        for (n, m) in self.members.iter().enumerate() {
            self.index.insert(m.username.to_lowercase(), n);
            self.index.insert(m.id.clone(), n);
        }
    }
}

/// The state of a new portal: its members indexed by name and id, counted, and seats for
/// each user type and level with headroom above what is used.
fn initial_state(members: Vec<PortalMember>) -> PortalState {
    let mut index = HashMap::with_capacity(members.len() * 2);
    for (i, m) in members.iter().enumerate() {
        index.insert(m.username.to_lowercase(), i);
        index.insert(m.id.clone(), i);
    }
    let license_seats = licenses::initial_seats(&members);
    let mut seats = HashMap::new();
    for t in USER_TYPES {
        let used = members.iter().filter(|m| m.user_type == t.id).count() as i64;
        let headroom = if t.id == "viewerUT" {
            used / 2
        } else {
            used / 10
        };
        seats.insert(t.id, used + headroom.max(3));
    }
    let mut level_seats = HashMap::new();
    for level in ["1", "2"] {
        let used = members.iter().filter(|m| m.level() == level).count() as i64;
        let headroom = if level == "1" { used / 2 } else { used / 10 };
        level_seats.insert(level, used + headroom.max(3));
    }
    let (counts, level_counts) = count_members(&members);
    PortalState {
        counts,
        level_counts,
        members,
        index,
        seats,
        level_seats,
        license_seats,
        tokens: HashMap::new(),
        pending_sign_ins: HashMap::new(),
        codes: HashMap::new(),
        refresh_tokens: HashMap::new(),
        failed_logins: HashMap::new(),
    }
}

/// Members per user type and per level, counted once: a change then updates them, so its
/// cost does not grow with the organization.
fn count_members(members: &[PortalMember]) -> (HashMap<String, i64>, HashMap<&'static str, i64>) {
    let mut per_type = HashMap::new();
    let mut per_level = HashMap::new();
    for m in members {
        *per_type.entry(m.user_type.clone()).or_insert(0) += 1;
        *per_level.entry(m.level()).or_insert(0) += 1;
    }
    (per_type, per_level)
}

fn random_text(rng: &mut SmallRng, len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

const HEX: &[u8] = b"0123456789abcdef";
