//! Releasing a license a member checked out for offline use, on whichever deployment the
//! portal is, and where the deployment keeps the organization's license.
//!
//! releaseLicense lives in a different place per deployment: classic Enterprise 10.7+
//! `portaladmin/license/releaseLicense` (username, appId), classic before 10.7
//! `portaladmin/system/licenses/releaseLicense` (username; ArcGIS Pro only), and Enterprise
//! on Kubernetes 11.3+ `admin/orgs/<orgID>/license/releaseLicense` (username, appId).

use serde_json::Value;

use crate::bulk::Reread;
use crate::error::{Error, Result};
use crate::http::Effect;
use crate::portal::client::{Portal, Root};
use crate::portal::envelope;
use crate::portal::licenses::License;
use crate::portal::url::path_segment;
use crate::portal::versions::{Feature, Platform};

/// An app whose license a member can check out for offline use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    Pro,
    Drone2Map,
    AllSource,
}

impl App {
    /// The app from its appId or a friendly name ("pro", "drone2map", "allsource", or the
    /// listing title); an unknown one is refused with the valid ones listed.
    pub fn parse(text: &str) -> Result<App> {
        let key: String = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        let found = match key.as_str() {
            "arcgisprodesktop" | "pro" | "arcgispro" => Some(App::Pro),
            "drone2map" | "arcgisdrone2map" => Some(App::Drone2Map),
            "arcgisallsource" | "allsource" => Some(App::AllSource),
            _ => None,
        };
        found.ok_or_else(|| {
            Error::invalid(format!(
                "unknown app {text:?}: releaseLicense takes arcgisprodesktop (\"pro\"), \
                 drone2map or arcgisallsource (\"allsource\")"
            ))
        })
    }

    /// The `appId` releaseLicense takes.
    pub fn id(self) -> &'static str {
        match self {
            App::Pro => "arcgisprodesktop",
            App::Drone2Map => "drone2map",
            App::AllSource => "arcgisallsource",
        }
    }

    /// The title of its listing among the purchases.
    pub fn title(self) -> &'static str {
        match self {
            App::Pro => "ArcGIS Pro",
            App::Drone2Map => "ArcGIS Drone2Map",
            App::AllSource => "ArcGIS AllSource",
        }
    }

    /// The release from which releaseLicense frees this app; ArcGIS Pro always could.
    fn since(self) -> Option<Feature> {
        match self {
            App::Pro => None,
            App::Drone2Map => Some(Feature::ReleaseDrone2Map),
            App::AllSource => Some(Feature::ReleaseAllSource),
        }
    }
}

/// Where releaseLicense is on this portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployment {
    /// ArcGIS Enterprise with the Portal Administrator API; `version` is the REST version.
    Classic { version: String },
    /// ArcGIS Enterprise on Kubernetes with the Enterprise Administrator API.
    Kubernetes { version: String },
    /// ArcGIS Online: no administrator API for licenses.
    Online,
}

/// The platform `portals/self` says: ArcGIS Online when `isPortal` is false, Kubernetes
/// when `portalDeploymentType` says so, else classic Enterprise.
pub(crate) fn platform_of(properties: &serde_json::Map<String, Value>) -> Platform {
    if properties.get("isPortal").and_then(Value::as_bool) == Some(false) {
        return Platform::Online;
    }
    let kubernetes = properties
        .get("portalDeploymentType")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("ArcGISEnterpriseOnKubernetes"));
    if kubernetes {
        Platform::Kubernetes
    } else {
        Platform::Classic
    }
}

impl Deployment {
    /// Its column of the version table.
    pub fn platform(&self) -> Platform {
        match self {
            Deployment::Classic { .. } => Platform::Classic,
            Deployment::Kubernetes { .. } => Platform::Kubernetes,
            Deployment::Online => Platform::Online,
        }
    }
}

impl Portal {
    /// Which deployment the portal is, from `portals/self`.
    pub async fn deployment(&self) -> Result<Deployment> {
        let properties = self.properties().await?;
        let platform = platform_of(&properties);
        if platform == Platform::Online {
            return Ok(Deployment::Online);
        }
        let version = match properties.get("currentVersion") {
            Some(Value::String(v)) => v.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => self.version().await?,
        };
        Ok(if platform == Platform::Kubernetes {
            Deployment::Kubernetes { version }
        } else {
            Deployment::Classic { version }
        })
    }

    /// Where the organization's license is (its members and seats per user type): classic
    /// `portaladmin/license` from 10.7, on Kubernetes `admin/orgs/<orgID>/license`, read in
    /// the same shape (the official client's `KubeOrgLicense` describes it in the words Esri
    /// uses for the classic resource). ArcGIS Online has neither.
    pub(crate) async fn license_resource(&self) -> Result<(Root, String)> {
        match self.deployment().await? {
            Deployment::Classic { .. } => Ok((Root::PortalAdmin, "license".into())),
            Deployment::Kubernetes { .. } => {
                let org = self.admin_org_id().await?;
                Ok((Root::Admin, format!("orgs/{}/license", path_segment(&org))))
            }
            Deployment::Online => Err(Error::invalid(
                "this is ArcGIS Online: it has no administrator API, so no license resource \
                 (portaladmin/license)",
            )),
        }
    }

    /// The organization id the Enterprise Administrator API wants: `portals/self` → `id`,
    /// or the first of `admin/orgs`.
    async fn admin_org_id(&self) -> Result<String> {
        if let Ok(id) = self.org_id().await {
            return Ok(id);
        }
        let reply = self.call(Root::Admin, "orgs", &[], Effect::Read).await?;
        reply
            .get("organizations")
            .and_then(Value::as_array)
            .and_then(|orgs| orgs.first())
            .and_then(|org| org.as_str().or_else(|| org.get("id")?.as_str()))
            .map(str::to_owned)
            .ok_or_else(|| {
                envelope::lacking(self.url(), &reply, "admin/orgs names no organization")
            })
    }

    /// Where to release `app` on this portal: root, path and whether it takes `appId`; a
    /// portal too old for the app (or ArcGIS Online) is refused before anything is sent.
    pub(crate) async fn release_endpoint(&self, app: App) -> Result<(Root, String, bool)> {
        let takes_app = |version: &str| app.since().is_none_or(|f| f.at(version));
        let too_old = |version: &str, what: &str| {
            let release = app.since().map_or("", |f| f.since().name);
            Error::invalid(format!(
                "this portal ({what}, REST version {version}) cannot release {} licenses: \
                 releaseLicense takes appId {} from ArcGIS Enterprise {release}",
                app.title(),
                app.id()
            ))
        };
        match self.deployment().await? {
            Deployment::Online => Err(Error::invalid(
                "this is ArcGIS Online: releaseLicense is an ArcGIS Enterprise administrator \
                 operation, not available here",
            )),
            Deployment::Kubernetes { version } => {
                if !Feature::KubernetesRelease.at(&version) {
                    return Err(Error::invalid(format!(
                        "this portal (ArcGIS Enterprise on Kubernetes, REST version {version}) \
                         has no releaseLicense: it came with {}",
                        Feature::KubernetesRelease.since().name
                    )));
                }
                if !takes_app(&version) {
                    return Err(too_old(&version, "ArcGIS Enterprise on Kubernetes"));
                }
                let org = self.admin_org_id().await?;
                let path = format!("orgs/{}/license/releaseLicense", path_segment(&org));
                Ok((Root::Admin, path, true))
            }
            Deployment::Classic { version } => {
                if !takes_app(&version) {
                    return Err(too_old(&version, "ArcGIS Enterprise"));
                }
                if Feature::UserTypes.at(&version) {
                    Ok((Root::PortalAdmin, "license/releaseLicense".into(), true))
                } else {
                    // Before 10.7 the operation frees ArcGIS Pro and takes no appId.
                    Ok((
                        Root::PortalAdmin,
                        "system/licenses/releaseLicense".into(),
                        false,
                    ))
                }
            }
        }
    }

    /// releaseLicense at `endpoint` (see [`Portal::release_endpoint`]): free the license of
    /// `app` that `username` checked out for offline use.
    pub(crate) async fn release_license(
        &self,
        endpoint: &(Root, String, bool),
        username: &str,
        app: App,
    ) -> Result<()> {
        let (root, path, with_app_id) = endpoint;
        let mut params = vec![("username", username.to_owned())];
        if *with_app_id {
            params.push(("appId", app.id().to_owned()));
        }
        let reply = self.call(*root, path, &params, Effect::Idempotent).await?;
        envelope::success(self.url(), &reply, "the portal did not release the license")
    }

    /// Whether `username` still has `app` checked out, to settle a release whose answer was lost.
    pub(crate) async fn reread_release(
        &self,
        license: &License,
        username: &str,
        app: App,
    ) -> Reread {
        match self.user_entitlement(&license.item_id, username).await {
            Ok(Some(holder)) if holder.disconnected => {
                Reread::NotDone(format!("the {} license still checked out", app.title()))
            }
            Ok(_) => Reread::Done,
            Err(err) => Reread::Failed(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_is_read_from_portals_self() {
        let of = |text: &str| platform_of(&serde_json::from_str(text).unwrap());
        assert_eq!(
            of(r#"{"isPortal": false, "urlKey": "x"}"#),
            Platform::Online
        );
        assert_eq!(of(r#"{"isPortal": true}"#), Platform::Classic);
        assert_eq!(of(r#"{}"#), Platform::Classic);
        assert_eq!(
            of(r#"{"isPortal": true, "portalDeploymentType": "ArcGISEnterpriseOnKubernetes"}"#),
            Platform::Kubernetes
        );
        assert_eq!(Deployment::Online.platform().admin_api(), None);
    }

    #[test]
    fn apps_by_id_or_friendly_name() {
        for (given, app) in [
            ("pro", App::Pro),
            ("ArcGIS Pro", App::Pro),
            ("arcgisprodesktop", App::Pro),
            ("Drone2Map", App::Drone2Map),
            ("allsource", App::AllSource),
            ("arcgisallsource", App::AllSource),
        ] {
            assert_eq!(App::parse(given).unwrap(), app, "{given}");
        }
        let err = App::parse("arcmap").unwrap_err();
        assert!(err.to_string().contains("arcgisprodesktop"), "{err}");
    }
}
