//! One license in use at the emulated site, and the PRODUCT attributes a listing gives for
//! it at a moment: times on the clock, as a real server's listing has them (`duration` since
//! the start, `idle_time` since the last use, never more than `duration`).

use crate::error::{Error, Result};

/// One license in use.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkout {
    pub handle: u64,
    pub product: String,
    pub username: String,
    pub workstation: String,
    /// The license server's descriptive name.
    pub server: String,
    pub vendor: String,
    pub feature: String,
    pub version: String,
    /// When the license was taken (ms since 1970 UTC).
    pub start_ms: i64,
    /// Since when the application has been idle (ms since 1970 UTC); None: in use now. Like
    /// the duration, the idle time a listing gives grows with the clock.
    pub idle_since_ms: Option<i64>,
    pub licenses: u32,
    pub borrowed: bool,
    pub full_name: String,
    pub group: String,
    pub project: String,
    pub host_ip: String,
}

impl Checkout {
    /// Seconds idle at `now_ms`: 0 while in use.
    pub fn idle_seconds(&self, now_ms: i64) -> i64 {
        self.idle_since_ms
            .map_or(0, |since| (now_ms - since).max(0) / 1000)
    }

    /// A session a real server could list at `now_ms`: started by then, and idle for no
    /// longer than it has been open.
    pub(super) fn check_times(&self, now_ms: i64) -> Result<()> {
        if self.start_ms > now_ms {
            return Err(Error::invalid(
                "a session cannot start in the future: give a start before now",
            ));
        }
        match self.idle_since_ms {
            Some(since) if since > now_ms => Err(Error::invalid(
                "a session cannot be idle since a time still to come: give idle as 0 or more",
            )),
            Some(since) if since < self.start_ms => Err(Error::invalid(format!(
                "a session cannot be idle for longer than it has been open ({} s idle, \
                 {} s open)",
                (now_ms - since) / 1000,
                (now_ms - self.start_ms) / 1000
            ))),
            _ => Ok(()),
        }
    }

    pub(super) fn attributes(&self, now_ms: i64, closable: bool) -> [(&'static str, String); 18] {
        [
            ("product", self.product.clone()),
            ("username", self.username.clone()),
            ("workstation", self.workstation.clone()),
            ("server_name", self.server.clone()),
            ("vendor", self.vendor.clone()),
            ("feature", self.feature.clone()),
            ("version", self.version.clone()),
            ("start_time", self.start_ms.to_string()),
            (
                "duration",
                ((now_ms - self.start_ms).max(0) / 1000).to_string(),
            ),
            ("idle_time", self.idle_seconds(now_ms).to_string()),
            ("handle", self.handle.to_string()),
            ("num_licenses", self.licenses.to_string()),
            ("borrowed", self.borrowed.to_string()),
            ("close_enabled", closable.to_string()),
            ("user_full_name", self.full_name.clone()),
            ("group_name", self.group.clone()),
            ("project_name", self.project.clone()),
            ("host_ip", self.host_ip.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_ms;
    use crate::sandbox::openlm::{OpenLmOptions, OpenLmSite};

    #[test]
    fn a_session_no_server_could_list_is_refused() {
        let site = OpenLmSite::seeded(
            OpenLmOptions {
                sessions: 0,
                ..Default::default()
            },
            1,
        )
        .unwrap();
        let now = now_ms();
        let session = |start_ms, idle_since_ms| Checkout {
            handle: 0,
            product: "Editor".into(),
            username: "jsmith".into(),
            workstation: "GIS-WS-001".into(),
            server: "GIS License Server".into(),
            vendor: "ARCGIS".into(),
            feature: "Editor".into(),
            version: "10.1".into(),
            start_ms,
            idle_since_ms,
            licenses: 1,
            borrowed: false,
            full_name: String::new(),
            group: String::new(),
            project: String::new(),
            host_ip: String::new(),
        };
        let hour = 3_600_000;
        for (start, idle_since, says) in [
            (now + hour, None, "future"),
            (
                now - hour,
                Some(now - 2 * hour),
                "longer than it has been open",
            ),
            (now - hour, Some(now + hour), "0 or more"),
        ] {
            let refused = site.add_checkout(session(start, idle_since)).unwrap_err();
            assert!(refused.to_string().contains(says), "{refused}");
        }
        site.add_checkout(session(now - 2 * hour, Some(now - hour)))
            .unwrap();
        assert_eq!(site.checkouts()[0].idle_seconds(now), 3600);
    }
}
