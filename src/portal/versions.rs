//! Portal releases and what came with each: one table for the client's choices (where to
//! release a license, which apps it takes) and for the sandbox's gates (what a 10.6, 10.7–10.9,
//! 11.x classic or Kubernetes portal serves). The README's "Portal versions" states the same
//! table; a test holds the two together.
//!
//! A portal reports its REST version (`currentVersion`), not its release. Where the official
//! client names a release beside a version check, the pair is taken from there (6.4 = 10.6.1,
//! 8.4 = 10.8.1, 2023.2 = 11.2, 2024.1 = 11.3, 2024.2 = 11.4, 2025.1 = 11.5; Esri's example of
//! the sharing root also gives 2024.1 with `enterpriseVersion` 11.3.0); the others are the
//! values portals of those releases are reported to give, not confirmed in a reference.
//!
//! ArcGIS Online is the table's other column ([`Platform::Online`]): it has no releases of
//! its own to gate on (it is always the newest), so each feature says whether Online has it
//! ([`Feature::online`]), and [`Platform`] says where each platform keeps what differs
//! (its administrator API, the seats of each user type).

/// A release of ArcGIS Enterprise and the REST version its sharing API reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    pub name: &'static str,
    pub rest: (u32, u32),
}

const fn release(name: &'static str, major: u32, minor: u32) -> Release {
    Release {
        name,
        rest: (major, minor),
    }
}

/// The releases, oldest first.
pub const RELEASES: &[Release] = &[
    release("10.6", 6, 1),
    release("10.6.1", 6, 4),
    release("10.7", 7, 1),
    release("10.7.1", 7, 3),
    release("10.8", 8, 2),
    release("10.8.1", 8, 4),
    release("10.9", 9, 2),
    release("10.9.1", 9, 4),
    release("11.0", 10, 3),
    release("11.1", 2023, 1),
    release("11.2", 2023, 2),
    release("11.3", 2024, 1),
    release("11.4", 2024, 2),
    release("11.5", 2025, 1),
];

/// What came with a release (and is gated on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `portals/self/users/counts` and app bundles.
    Counts,
    /// User types (`userLicenseTypes`, `updateUserLicenseType`, `portaladmin/license` with its
    /// `license/releaseLicense`); before them a member's license was their level.
    UserTypes,
    /// releaseLicense frees ArcGIS Drone2Map (`appId=drone2map`).
    ReleaseDrone2Map,
    /// ArcGIS Enterprise on Kubernetes and its Enterprise Administrator API (`admin`).
    Kubernetes,
    /// `admin/orgs/<orgID>/license/releaseLicense` on Kubernetes.
    KubernetesRelease,
    /// The sharing root names the release (`enterpriseVersion`) beside `currentVersion`.
    EnterpriseVersion,
    /// App credentials (the client_credentials grant) carry administrative privileges.
    AppCredentials,
    /// releaseLicense frees ArcGIS AllSource (`appId=arcgisallsource`).
    ReleaseAllSource,
}

impl Feature {
    pub const ALL: [Feature; 8] = [
        Feature::Counts,
        Feature::UserTypes,
        Feature::ReleaseDrone2Map,
        Feature::Kubernetes,
        Feature::KubernetesRelease,
        Feature::EnterpriseVersion,
        Feature::AppCredentials,
        Feature::ReleaseAllSource,
    ];

    /// The release it came with.
    pub fn since(self) -> Release {
        let name = match self {
            Feature::Counts => "10.6.1",
            Feature::UserTypes | Feature::ReleaseDrone2Map => "10.7",
            Feature::Kubernetes => "10.9",
            Feature::KubernetesRelease | Feature::EnterpriseVersion => "11.3",
            Feature::AppCredentials => "11.4",
            Feature::ReleaseAllSource => "11.5",
        };
        *RELEASES
            .iter()
            .find(|r| r.name == name)
            .expect("every feature's release is in RELEASES")
    }

    /// How the README's table names it.
    pub fn what(self) -> &'static str {
        match self {
            Feature::Counts => "`users/counts`, app bundles",
            Feature::UserTypes => "user types",
            Feature::ReleaseDrone2Map => "`appId=drone2map`",
            Feature::Kubernetes => "Enterprise on Kubernetes",
            Feature::KubernetesRelease => "Kubernetes `releaseLicense`",
            Feature::EnterpriseVersion => "`enterpriseVersion`",
            Feature::AppCredentials => "app credentials",
            Feature::ReleaseAllSource => "`appId=arcgisallsource`",
        }
    }

    /// Whether a portal reporting REST `version` has it. A version that cannot be read counts
    /// as new: the portal then answers for itself.
    pub fn at(self, version: &str) -> bool {
        version_at_least(version, self.since().rest)
    }

    /// Whether ArcGIS Online has it (the README table's Online column). Online has user types
    /// and `users/counts`, but no administrator API: no `portaladmin/license`, no
    /// `releaseLicense` (so no `appId` it takes), no Kubernetes. Its sharing root states no
    /// `enterpriseVersion` (it is no Enterprise release). App credentials with
    /// administrative privileges: Online's developer credentials can be given privileges
    /// (unverified for the `client_credentials` grant; see docs/explanation/arcgis-online.md).
    pub fn online(self) -> bool {
        match self {
            Feature::Counts | Feature::UserTypes | Feature::AppCredentials => true,
            Feature::ReleaseDrone2Map
            | Feature::Kubernetes
            | Feature::KubernetesRelease
            | Feature::EnterpriseVersion
            | Feature::ReleaseAllSource => false,
        }
    }

    /// How the README's Online column says it: the feature's name and yes or no.
    pub fn online_cell(self) -> String {
        format!(
            "{}: {}",
            self.what(),
            if self.online() { "yes" } else { "no" }
        )
    }
}

/// Where a portal runs: the columns of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// ArcGIS Enterprise with the Portal Administrator API (`/portaladmin`).
    Classic,
    /// ArcGIS Enterprise on Kubernetes with the Enterprise Administrator API (`/admin`).
    Kubernetes,
    /// ArcGIS Online: the sharing API only, at the root of the organization's host.
    Online,
}

/// Where a platform states the seats of each user type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatsAt {
    /// The organization's license in the administrator API (`portaladmin/license`, on
    /// Kubernetes `admin/orgs/<orgID>/license`): `userTypes` with maximum and current.
    AdminLicense,
    /// `portals/self/subscriptionInfo` → `userLicenseTypes` (the maximum per type id), the
    /// members of each from `portals/self/users/counts?type=userLicenseType`.
    SubscriptionInfo,
}

impl Platform {
    /// Whether a portal of this platform reporting REST `version` has `feature`: Enterprise
    /// by its release, Online by the Online column.
    pub fn has(self, feature: Feature, version: &str) -> bool {
        match self {
            Platform::Online => feature.online(),
            Platform::Classic | Platform::Kubernetes => feature.at(version),
        }
    }

    /// The root of its administrator API, if it has one.
    pub fn admin_api(self) -> Option<&'static str> {
        match self {
            Platform::Classic => Some("portaladmin"),
            Platform::Kubernetes => Some("admin"),
            Platform::Online => None,
        }
    }

    /// Where it states the seats of each user type.
    pub fn seats(self) -> SeatsAt {
        match self {
            Platform::Classic | Platform::Kubernetes => SeatsAt::AdminLicense,
            Platform::Online => SeatsAt::SubscriptionInfo,
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Classic => "ArcGIS Enterprise",
            Platform::Kubernetes => "ArcGIS Enterprise on Kubernetes",
            Platform::Online => "ArcGIS Online",
        }
    }
}

/// `currentVersion` as (major, minor): "2024.1" → (2024, 1), "7.1" → (7, 1).
pub fn parse_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.trim().parse().ok()?;
    let minor = match parts.next() {
        Some(minor) => minor.trim().parse().ok()?,
        None => 0,
    };
    Some((major, minor))
}

/// Whether a REST version is `wanted` or newer; one that cannot be read counts as new.
pub fn version_at_least(version: &str, wanted: (u32, u32)) -> bool {
    parse_version(version).is_none_or(|v| v >= wanted)
}

/// The release a portal reporting REST `version` is: the newest in the table at or below it
/// (a version between two releases is a patch the table does not name). None before 10.6 or
/// when the version cannot be read.
pub fn release_of(version: &str) -> Option<Release> {
    let v = parse_version(version)?;
    RELEASES.iter().rev().find(|r| r.rest <= v).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_and_compare() {
        assert_eq!(parse_version("2024.1"), Some((2024, 1)));
        assert_eq!(parse_version("7.1"), Some((7, 1)));
        assert_eq!(parse_version("11"), Some((11, 0)));
        assert!(version_at_least("2024.1", (7, 1)));
        assert!(version_at_least("10.3", (7, 1)));
        assert!(!version_at_least("6.4", (7, 1)));
        assert!(!version_at_least("2024.2", (2025, 1)));
        assert!(version_at_least("not a version", (2025, 1)));
    }

    #[test]
    fn the_table_is_in_order_and_names_each_release_once() {
        for pair in RELEASES.windows(2) {
            assert!(pair[0].rest < pair[1].rest, "{pair:?}");
        }
        for feature in Feature::ALL {
            let since = feature.since();
            assert!(feature.at(&format!("{}.{}", since.rest.0, since.rest.1)));
            assert!(!feature.at("6.0"), "{feature:?}");
        }
        assert_eq!(release_of("6.1").unwrap().name, "10.6");
        assert_eq!(release_of("9.3").unwrap().name, "10.9");
        assert_eq!(release_of("2024.1").unwrap().name, "11.3");
        assert_eq!(release_of("2099.1").unwrap().name, "11.5");
        assert_eq!(release_of("5.1"), None);
        assert_eq!(release_of("x"), None);
    }

    /// The README states this table: every release, and each feature in its release's row.
    #[test]
    fn the_readme_states_the_table() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("### Portal versions")
            .nth(1)
            .expect("README has a Portal versions section");
        let section = section.split("\n#").next().unwrap();
        for r in RELEASES {
            let row = format!("| {} | {}.{} |", r.name, r.rest.0, r.rest.1);
            assert!(section.contains(&row), "README lacks the row {row}");
        }
        for feature in Feature::ALL {
            let since = feature.since();
            let row = section
                .lines()
                .find(|l| l.starts_with(&format!("| {} |", since.name)))
                .unwrap();
            assert!(
                row.contains(feature.what()),
                "README's row for {} does not name {}",
                since.name,
                feature.what()
            );
            // The last cell is the Online column.
            let online = row.trim_end_matches('|').rsplit('|').next().unwrap_or("");
            assert!(
                online.contains(&feature.online_cell()),
                "README's Online column for {} does not say {}",
                since.name,
                feature.online_cell()
            );
        }
        assert!(
            section.contains("| ArcGIS Online |"),
            "README's table has no ArcGIS Online column"
        );
    }

    #[test]
    fn online_has_what_its_column_says() {
        let online = Platform::Online;
        assert!(online.has(Feature::UserTypes, "6.1"));
        assert!(online.has(Feature::Counts, "x"));
        assert!(!online.has(Feature::ReleaseAllSource, "2099.1"));
        assert!(!online.has(Feature::Kubernetes, "2099.1"));
        assert_eq!(online.admin_api(), None);
        assert_eq!(online.seats(), SeatsAt::SubscriptionInfo);
        assert_eq!(Platform::Classic.seats(), SeatsAt::AdminLicense);
        assert_eq!(Platform::Kubernetes.admin_api(), Some("admin"));
        assert!(!Platform::Classic.has(Feature::UserTypes, "6.4"));
        assert!(Platform::Classic.has(Feature::UserTypes, "7.1"));
    }
}
