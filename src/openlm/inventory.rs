//! What OpenLM watches: the license servers (GetServerList) and the vendors (GetVendorList)
//! of the Open API 1.7.
//!
//! OpenLM names these operations in its Open API 1.7 but publishes no reply whose element
//! or attribute names a program could rely on, so every shape here is unverified: each
//! data element of the reply (whatever its tag) is one row, each typed field is found under
//! any of several spellings, and every attribute not taken by a typed field is kept as
//! received in `extra`.

use crate::error::Result;
use crate::http::Effect;
use crate::openlm::client::OpenLm;
use crate::openlm::xml::{normalize_name, Record, RequestDoc};

/// A license server OpenLM watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseServer {
    /// The descriptive name configured in OpenLM (what CloseApplication's `server` wants).
    pub name: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The vendor daemon (`ARCGIS` for Esri).
    pub vendor: Option<String>,
    /// As the server says it (`UP`, `DOWN`...).
    pub status: Option<String>,
    /// Licenses the server issues, over all its features.
    pub issued: Option<u64>,
    /// Licenses in use now.
    pub in_use: Option<u64>,
    /// The element's tag as received (`SERVER` from the sandbox).
    pub tag: String,
    /// Every attribute not read into a typed field, as received.
    pub extra: Vec<(String, String)>,
}

/// A vendor (license manager daemon) OpenLM watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vendor {
    pub name: String,
    /// How many of OpenLM's license servers serve it.
    pub servers: Option<u64>,
    pub issued: Option<u64>,
    pub in_use: Option<u64>,
    pub tag: String,
    pub extra: Vec<(String, String)>,
}

// Spellings, normalized (lower case, no `_`/`-`/spaces), most likely first. Unverified.
const SERVER_NAME: &[&str] = &[
    "servername",
    "name",
    "description",
    "serverdescription",
    "licenseserver",
    "server",
];
const HOST: &[&str] = &["host", "hostname", "serverhost", "machine", "computer"];
const PORT: &[&str] = &["port", "serverport", "lmport", "tcpport"];
/// `port@host`, as FlexNet writes a server's address.
const ADDRESS: &[&str] = &["address", "portathost", "connection", "licensefile"];
const VENDOR: &[&str] = &["vendor", "vendorname", "vendordaemon", "daemon"];
const STATUS: &[&str] = &["status", "serverstatus", "state"];
const ISSUED: &[&str] = &[
    "issued",
    "totallicenses",
    "numlicenses",
    "numoflicenses",
    "licenses",
    "total",
];
const IN_USE: &[&str] = &["inuse", "used", "usedlicenses", "numinuse", "consumed"];
const SERVERS: &[&str] = &["servers", "numservers", "servercount", "numofservers"];
const VENDOR_NAME: &[&str] = &["vendor", "vendorname", "name", "daemon", "vendordaemon"];

/// The attributes of one record, taken field by field; what is left over is `extra`.
struct Fields<'a> {
    record: &'a Record,
    taken: Vec<bool>,
}

impl<'a> Fields<'a> {
    fn new(record: &'a Record) -> Self {
        Fields {
            record,
            taken: vec![false; record.len()],
        }
    }

    /// The first non-empty attribute under any of `aliases` not taken yet, trimmed.
    fn text(&mut self, aliases: &[&str]) -> Option<String> {
        let names: Vec<String> = (0..self.record.len())
            .map(|i| normalize_name(self.record.name(i)))
            .collect();
        for alias in aliases {
            let found = (0..names.len()).find(|&i| {
                !self.taken[i] && names[i] == *alias && !self.record.value(i).trim().is_empty()
            });
            if let Some(i) = found {
                self.taken[i] = true;
                return Some(self.record.value(i).trim().to_owned());
            }
        }
        None
    }

    /// A count; a value that is not a whole number stays in `extra`.
    fn count(&mut self, aliases: &[&str]) -> Option<u64> {
        let before = self.taken.clone();
        match self.text(aliases).map(|v| v.parse::<u64>()) {
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                self.taken = before;
                None
            }
            None => None,
        }
    }

    fn extra(self) -> Vec<(String, String)> {
        self.record
            .iter()
            .zip(self.taken)
            .filter(|(_, taken)| !taken)
            .map(|((n, v), _)| (n.to_owned(), v.to_owned()))
            .collect()
    }
}

/// `27000@gislic01` into its port and host.
fn split_address(address: &str) -> Option<(Option<u16>, String)> {
    let (port, host) = address.split_once('@')?;
    let host = host.trim();
    if host.is_empty() {
        return None;
    }
    Some((port.trim().parse().ok(), host.to_owned()))
}

impl LicenseServer {
    pub fn from_record(record: &Record) -> LicenseServer {
        let mut fields = Fields::new(record);
        let name = fields.text(SERVER_NAME).unwrap_or_default();
        let mut host = fields.text(HOST);
        let mut port = {
            let before = fields.taken.clone();
            match fields.text(PORT).map(|p| p.parse::<u16>()) {
                Some(Ok(p)) => Some(p),
                Some(Err(_)) => {
                    fields.taken = before;
                    None
                }
                None => None,
            }
        };
        if host.is_none() || port.is_none() {
            let before = fields.taken.clone();
            match fields.text(ADDRESS).as_deref().and_then(split_address) {
                Some((address_port, address_host)) => {
                    host = host.or(Some(address_host));
                    port = port.or(address_port);
                }
                None => fields.taken = before,
            }
        }
        LicenseServer {
            name,
            host,
            port,
            vendor: fields.text(VENDOR),
            status: fields.text(STATUS),
            issued: fields.count(ISSUED),
            in_use: fields.count(IN_USE),
            tag: record.tag().to_owned(),
            extra: fields.extra(),
        }
    }
}

impl Vendor {
    pub fn from_record(record: &Record) -> Vendor {
        let mut fields = Fields::new(record);
        Vendor {
            name: fields.text(VENDOR_NAME).unwrap_or_default(),
            servers: fields.count(SERVERS),
            issued: fields.count(ISSUED),
            in_use: fields.count(IN_USE),
            tag: record.tag().to_owned(),
            extra: fields.extra(),
        }
    }
}

impl OpenLm {
    /// The data records of a read-only request without parameters.
    async fn records(&self, message_type: &'static str) -> Result<Vec<Record>> {
        let reply = self
            .call(Effect::Read, |session| {
                RequestDoc {
                    message_type,
                    session_id: session,
                    ..Default::default()
                }
                .to_xml()
            })
            .await?;
        Ok(reply.records)
    }

    /// The license servers OpenLM watches (GetServerList).
    pub async fn get_servers(&self) -> Result<Vec<LicenseServer>> {
        let records = self.records("GetServerList").await?;
        Ok(records.iter().map(LicenseServer::from_record).collect())
    }

    /// The vendors OpenLM watches (GetVendorList).
    pub async fn get_vendors(&self) -> Result<Vec<Vendor>> {
        let records = self.records("GetVendorList").await?;
        Ok(records.iter().map(Vendor::from_record).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openlm::xml::read_str;

    #[test]
    fn servers_are_read_under_their_spellings_and_unknown_attributes_kept() {
        let reply = read_str(
            r#"<ULM><MESSAGE type="GetServerList"/>
            <SERVER name="GIS License Server" host="gislic01" port="27000" vendor="ARCGIS"
                    status="UP" issued="40" in_use="12" lm_type="FlexLM" uptime="3d"/>
            <LICENSE_SERVER ServerName="Spare" Address="27001@gislic03" VendorName="ARCGIS"
                    TotalLicenses="n/a" Used="" />
            </ULM>"#,
        )
        .unwrap();
        let servers: Vec<_> = reply
            .records
            .iter()
            .map(LicenseServer::from_record)
            .collect();
        assert_eq!(servers[0].name, "GIS License Server");
        assert_eq!(servers[0].host.as_deref(), Some("gislic01"));
        assert_eq!(servers[0].port, Some(27000));
        assert_eq!(servers[0].vendor.as_deref(), Some("ARCGIS"));
        assert_eq!(servers[0].status.as_deref(), Some("UP"));
        assert_eq!((servers[0].issued, servers[0].in_use), (Some(40), Some(12)));
        assert_eq!(
            servers[0].extra,
            vec![
                ("lm_type".to_owned(), "FlexLM".to_owned()),
                ("uptime".to_owned(), "3d".to_owned())
            ]
        );
        let spare = &servers[1];
        assert_eq!(spare.tag, "LICENSE_SERVER");
        assert_eq!(spare.name, "Spare");
        assert_eq!(
            (spare.host.as_deref(), spare.port),
            (Some("gislic03"), Some(27001))
        );
        // A count that is not a number is kept as received, not guessed.
        assert_eq!(spare.issued, None);
        assert_eq!(
            spare.extra,
            vec![
                ("TotalLicenses".to_owned(), "n/a".to_owned()),
                ("Used".to_owned(), String::new())
            ]
        );
    }

    #[test]
    fn vendors_are_read_and_unknown_attributes_kept() {
        let reply = read_str(
            r#"<ULM><MESSAGE type="GetVendorList"/>
            <VENDOR vendor="ARCGIS" servers="2" issued="90" in_use="31" color="blue"/>
            <VENDOR_ITEM VendorName="MLM" NumServers="x"/></ULM>"#,
        )
        .unwrap();
        let vendors: Vec<_> = reply.records.iter().map(Vendor::from_record).collect();
        assert_eq!(vendors[0].name, "ARCGIS");
        assert_eq!(
            (vendors[0].servers, vendors[0].issued, vendors[0].in_use),
            (Some(2), Some(90), Some(31))
        );
        assert_eq!(
            vendors[0].extra,
            vec![("color".to_owned(), "blue".to_owned())]
        );
        assert_eq!(vendors[1].name, "MLM");
        assert_eq!(vendors[1].servers, None);
        assert_eq!(
            vendors[1].extra,
            vec![("NumServers".to_owned(), "x".to_owned())]
        );
    }

    #[test]
    fn an_address_gives_only_what_is_missing() {
        assert_eq!(
            split_address("27000@gislic01"),
            Some((Some(27000), "gislic01".to_owned()))
        );
        assert_eq!(split_address("gislic01"), None);
        assert_eq!(split_address("27000@ "), None);
    }
}
