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
}
