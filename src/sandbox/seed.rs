//! Realistic, repeatable test data: people, workstations, license servers and the licenses
//! they hold. The same seed always gives the same site.

use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::Rng;

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Ayesha",
    "Mateo",
    "Priya",
    "Kenji",
    "Olga",
    "Tariq",
    "Ingrid",
    "Diego",
    "Mei",
    "Kwame",
    "Sofia",
    "Lars",
    "Fatima",
    "Hiroshi",
    "Amara",
    "Nikolai",
    "Chloé",
    "Rahul",
    "Zainab",
    "Björn",
    "Lucía",
    "Tomasz",
    "Aroha",
    "Emeka",
    "Hana",
    "Santiago",
    "Leilani",
    "Omar",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Khan",
    "Nakamura",
    "Okafor",
    "Ivanova",
    "Singh",
    "Müller",
    "Haddad",
    "Kowalski",
    "Nguyen",
    "Larsen",
    "Rossi",
    "Silva",
    "Papadopoulos",
    "Dubois",
    "O'Brien",
    "Chen",
    "Tanaka",
    "Mensah",
    "Novak",
    "Fernández",
    "Kaur",
    "Andersson",
    "Walker",
    "Young",
    "Allen",
];

pub const DEPARTMENTS: &[&str] = &[
    "GIS",
    "Planning",
    "Engineering",
    "Survey",
    "Utilities",
    "Environment",
    "Transportation",
    "Parks",
    "Assessor",
    "Public Works",
];

const PROJECTS: &[&str] = &[
    "",
    "",
    "Roads 2026",
    "Water Network Model",
    "Parcel Fabric Migration",
    "Flood Risk Study",
    "Street Tree Inventory",
    "Zoning Update",
    "Stormwater Asset Audit",
];

/// A person of the seeded organization.
#[derive(Debug, Clone)]
pub struct Person {
    pub username: String,
    pub full_name: String,
    pub first_name: String,
    pub last_name: String,
    pub department: &'static str,
}

fn ascii_login(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            'é' | 'É' => Some('e'),
            'ü' | 'Ü' => Some('u'),
            'ö' | 'Ö' => Some('o'),
            'á' | 'í' => Some(if c == 'á' { 'a' } else { 'i' }),
            _ => None,
        })
        .collect()
}

/// `count` people with unique user names like `jsmith`, `jsmith2`.
pub fn people(count: usize, rng: &mut SmallRng) -> Vec<Person> {
    let mut taken = std::collections::HashSet::new();
    (0..count)
        .map(|_| {
            let first = *FIRST_NAMES.choose(rng).unwrap_or(&"Alex");
            let last = *LAST_NAMES.choose(rng).unwrap_or(&"Lee");
            let base = format!(
                "{}{}",
                ascii_login(first).chars().next().unwrap_or('x'),
                ascii_login(last)
            );
            let mut username = base.clone();
            let mut n = 2;
            while !taken.insert(username.clone()) {
                username = format!("{base}{n}");
                n += 1;
            }
            Person {
                username,
                full_name: format!("{first} {last}"),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                department: DEPARTMENTS.choose(rng).copied().unwrap_or("GIS"),
            }
        })
        .collect()
}

/// A license server as OpenLM knows it.
#[derive(Debug, Clone)]
pub struct LicenseServer {
    /// The descriptive name configured in OpenLM; CloseApplication wants this.
    pub name: &'static str,
    pub host: &'static str,
    pub port: u16,
    pub vendor: &'static str,
}

pub const LICENSE_SERVERS: &[LicenseServer] = &[
    LicenseServer {
        name: "GIS License Server",
        host: "gislic01",
        port: 27000,
        vendor: "ARCGIS",
    },
    LicenseServer {
        name: "GIS License Server (DR)",
        host: "gislic02",
        port: 27000,
        vendor: "ARCGIS",
    },
    LicenseServer {
        name: "Autodesk Network License Manager",
        host: "adsklic01",
        port: 2080,
        vendor: "adskflex",
    },
    LicenseServer {
        name: "MATLAB License Server",
        host: "mathlic01",
        port: 27010,
        vendor: "MLM",
    },
];

/// A licensed feature and how often it is in use, relative to the others.
#[derive(Debug, Clone)]
pub struct Feature {
    pub vendor: &'static str,
    pub product: &'static str,
    pub feature: &'static str,
    pub version: &'static str,
    pub weight: u32,
}

pub const FEATURES: &[Feature] = &[
    Feature {
        vendor: "ARCGIS",
        product: "Editor",
        feature: "Editor",
        version: "10.1",
        weight: 30,
    },
    Feature {
        vendor: "ARCGIS",
        product: "Viewer",
        feature: "Viewer",
        version: "10.1",
        weight: 16,
    },
    Feature {
        vendor: "ARCGIS",
        product: "ARC/INFO",
        feature: "ARC/INFO",
        version: "10.1",
        weight: 10,
    },
    Feature {
        vendor: "ARCGIS",
        product: "desktopAdvP",
        feature: "desktopAdvP",
        version: "10.1",
        weight: 9,
    },
    Feature {
        vendor: "ARCGIS",
        product: "desktopStdP",
        feature: "desktopStdP",
        version: "10.1",
        weight: 8,
    },
    Feature {
        vendor: "ARCGIS",
        product: "desktopBasicP",
        feature: "desktopBasicP",
        version: "10.1",
        weight: 6,
    },
    Feature {
        vendor: "ARCGIS",
        product: "Spatial",
        feature: "Spatial",
        version: "10.1",
        weight: 5,
    },
    Feature {
        vendor: "ARCGIS",
        product: "3DAnalyst",
        feature: "3DAnalyst",
        version: "10.1",
        weight: 3,
    },
    Feature {
        vendor: "ARCGIS",
        product: "Network",
        feature: "Network",
        version: "10.1",
        weight: 2,
    },
    Feature {
        vendor: "adskflex",
        product: "AutoCAD 2024",
        feature: "87545ACD_2024_0F",
        version: "1.000",
        weight: 7,
    },
    Feature {
        vendor: "adskflex",
        product: "Civil 3D 2024",
        feature: "87547CIV3D_2024_0F",
        version: "1.000",
        weight: 4,
    },
    Feature {
        vendor: "MLM",
        product: "MATLAB",
        feature: "MATLAB",
        version: "44",
        weight: 5,
    },
    Feature {
        vendor: "MLM",
        product: "Mapping Toolbox",
        feature: "Mapping_Toolbox",
        version: "44",
        weight: 2,
    },
    Feature {
        vendor: "MLM",
        product: "Signal Processing Toolbox",
        feature: "Signal_Toolbox",
        version: "44",
        weight: 1,
    },
];

pub fn pick_feature(rng: &mut SmallRng) -> &'static Feature {
    let total: u32 = FEATURES.iter().map(|f| f.weight).sum();
    let mut roll = rng.random_range(0..total);
    for feature in FEATURES {
        if roll < feature.weight {
            return feature;
        }
        roll -= feature.weight;
    }
    &FEATURES[0]
}

pub fn pick_server(vendor: &str, rng: &mut SmallRng) -> &'static LicenseServer {
    let servers: Vec<&LicenseServer> = LICENSE_SERVERS
        .iter()
        .filter(|s| s.vendor == vendor)
        .collect();
    // Most ArcGIS seats come from the primary server.
    if servers.len() > 1 && rng.random_bool(0.8) {
        return servers[0];
    }
    servers.choose(rng).copied().unwrap_or(&LICENSE_SERVERS[0])
}

pub fn pick_project(rng: &mut SmallRng) -> &'static str {
    PROJECTS.choose(rng).copied().unwrap_or("")
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How long a license in use has been open, and idle, as of now (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    pub open_ms: i64,
    /// None: in use now. Never longer than `open_ms`.
    pub idle_ms: Option<i64>,
}

/// The times of one seeded session. Four kinds, in the shares administrators of concurrent
/// licenses describe (our estimate, no published figures): people working now (45%),
/// people stepped away for lunch or a meeting (20%), sessions left open overnight or for
/// days and used on and off (20%, up to a week: a concurrent license is often left open
/// from Monday to Friday), and sessions forgotten since soon after they were opened (15%,
/// up to two weeks, idle nearly all that time). So a good share is idle for hours, some
/// for days, and "close what has been idle for 2 hours" finds sessions, as it does on a
/// real site.
pub fn session_times(rng: &mut SmallRng) -> SessionTimes {
    let roll = rng.random_range(0..100);
    let (open_ms, idle_ms) = if roll < 45 {
        let open = rng.random_range(5 * MINUTE_MS..9 * HOUR_MS);
        let idle = rng
            .random_bool(0.5)
            .then(|| rng.random_range(MINUTE_MS..15 * MINUTE_MS));
        (open, idle)
    } else if roll < 65 {
        let open = rng.random_range(30 * MINUTE_MS..10 * HOUR_MS);
        (open, Some(rng.random_range(15 * MINUTE_MS..3 * HOUR_MS)))
    } else if roll < 85 {
        let open = rng.random_range(14 * HOUR_MS..7 * DAY_MS);
        // Idle since yesterday evening, or back at work this morning.
        let idle = rng
            .random_bool(0.7)
            .then(|| rng.random_range(HOUR_MS..18 * HOUR_MS));
        (open, idle)
    } else {
        let open = rng.random_range(DAY_MS..14 * DAY_MS);
        (
            open,
            Some(open - rng.random_range(10 * MINUTE_MS..2 * HOUR_MS)),
        )
    };
    SessionTimes {
        open_ms,
        // Idle no longer than open, and not to the very start: someone used it once.
        idle_ms: idle_ms.map(|idle| idle.min(open_ms - MINUTE_MS).max(0)),
    }
}

/// A workstation name in the styles organizations use.
pub fn workstation_name(index: usize, rng: &mut SmallRng) -> String {
    match rng.random_range(0..10) {
        0..=5 => format!("GIS-WS-{:03}", index + 1),
        6..=8 => format!("LAPTOP-{:04X}", rng.random_range(0..0xFFFFu32)),
        _ => format!("ENG-PC{:03}", index + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn people_are_unique_and_repeatable() {
        let a = people(2_000, &mut SmallRng::seed_from_u64(3));
        let b = people(2_000, &mut SmallRng::seed_from_u64(3));
        let names: std::collections::HashSet<_> = a.iter().map(|p| &p.username).collect();
        assert_eq!(names.len(), 2_000);
        assert!(a.iter().zip(&b).all(|(x, y)| x.username == y.username));
        assert!(a
            .iter()
            .all(|p| p.username.chars().all(|c| c.is_ascii_alphanumeric())));
    }

    #[test]
    fn session_times_spread_from_minutes_to_weeks_and_idle_never_exceeds_open() {
        let mut rng = SmallRng::seed_from_u64(5);
        let times: Vec<SessionTimes> = (0..2_000).map(|_| session_times(&mut rng)).collect();
        let share = |keep: &dyn Fn(&SessionTimes) -> bool| {
            times.iter().filter(|t| keep(t)).count() as f64 / times.len() as f64
        };
        let idle = |t: &SessionTimes| t.idle_ms.unwrap_or(0);
        assert!(times
            .iter()
            .all(|t| t.open_ms > 0 && (0..t.open_ms).contains(&idle(t))));
        let in_use = share(&|t| t.idle_ms.is_none());
        assert!((0.25..0.45).contains(&in_use), "{in_use}");
        let idle_2h = share(&|t| idle(t) >= 2 * HOUR_MS);
        assert!((0.25..0.5).contains(&idle_2h), "{idle_2h}");
        let idle_1d = share(&|t| idle(t) >= DAY_MS);
        assert!((0.05..0.2).contains(&idle_1d), "{idle_1d}");
        let open_2d = share(&|t| t.open_ms >= 2 * DAY_MS);
        assert!((0.15..0.4).contains(&open_2d), "{open_2d}");
        assert!(times.iter().any(|t| t.open_ms >= 7 * DAY_MS));
        assert!(times.iter().any(|t| t.open_ms < HOUR_MS));
    }
}
