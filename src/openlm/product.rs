//! A license in use, as a PRODUCT record of a GetActiveProducts reply, with typed access to
//! the fields OpenLM reports and every attribute kept as received.
//!
//! Only `product`, `username` and `workstation` are confirmed attribute names; the others
//! vary between OpenLM versions, so each field is found under any of several spellings.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::openlm::xml::{check_value, normalize_name, Record, Schema};

/// What kind of value a field holds, and so how it is parsed and filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Milliseconds since 1970-01-01 UTC.
    Time,
    /// A length of time in seconds (or `[D.]HH:MM:SS`).
    Seconds,
    Int,
    Bool,
}

macro_rules! fields {
    ($($variant:ident => $name:literal, $kind:ident, [$($alias:literal),*];)*) => {
        /// The typed fields of an active product.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Field { $($variant),* }

        impl Field {
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];

            /// The Python attribute name.
            pub fn name(self) -> &'static str {
                match self { $(Field::$variant => $name),* }
            }

            pub fn kind(self) -> Kind {
                match self { $(Field::$variant => Kind::$kind),* }
            }

            /// Wire spellings, normalized (lower case, no `_`/`-`), most likely first.
            fn aliases(self) -> &'static [&'static str] {
                match self { $(Field::$variant => &[$($alias),*]),* }
            }
        }
    };
}

fields! {
    Product => "product", Text, ["product", "productname"];
    Username => "username", Text, ["username", "user", "userid", "login"];
    Workstation => "workstation", Text, ["workstation", "workstationname", "hostname", "host", "computer", "machine"];
    Server => "server", Text, ["servername", "server", "licenseserver", "licenseservername", "serverdescription"];
    Vendor => "vendor", Text, ["vendor", "vendorname", "vendordaemon", "daemon"];
    Feature => "feature", Text, ["feature", "featurename"];
    Version => "version", Text, ["version", "featureversion", "productversion"];
    StartTime => "start_time", Time, ["starttime", "start", "checkouttime", "startdate"];
    Duration => "duration", Seconds, ["duration", "usageduration"];
    IdleTime => "idle_time", Seconds, ["idletime", "idle", "idleduration"];
    Handle => "handle", Text, ["handle", "licensehandle"];
    Licenses => "licenses", Int, ["numlicenses", "licenses", "numoflicenses", "licensecount", "quantity", "count"];
    Borrowed => "borrowed", Bool, ["borrowed", "isborrowed"];
    Closable => "closable", Bool, ["closeenabled", "canclose", "closable", "closeable", "enableclose"];
    FullName => "full_name", Text, ["userfullname", "fullname", "displayname"];
    Group => "group", Text, ["groupname", "group", "groups"];
    Project => "project", Text, ["projectname", "project"];
    HostIp => "host_ip", Text, ["hostip", "ipaddress", "ip", "workstationip"];
}

impl Field {
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }

    pub fn names() -> String {
        Field::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where each field is in records of one schema.
#[derive(Debug)]
struct FieldIndex {
    schema: Schema,
    positions: Vec<Option<u32>>,
}

impl FieldIndex {
    fn new(schema: &Schema) -> FieldIndex {
        let normalized: Vec<String> = schema.iter().map(|n| normalize_name(n)).collect();
        let positions = Field::ALL
            .iter()
            .map(|field| {
                field
                    .aliases()
                    .iter()
                    .find_map(|alias| normalized.iter().position(|n| n == alias))
                    .and_then(|i| u32::try_from(i).ok())
            })
            .collect();
        FieldIndex {
            schema: schema.clone(),
            positions,
        }
    }
}

/// The products of a reply's records, as `ActiveProduct::of_records` gives them.
pub struct ProductsOf {
    records: std::vec::IntoIter<Record>,
    left: usize,
    /// One index per schema, found by the schema's address (records keep their schemas
    /// alive, so an address stays theirs). Bounded like the reader's interning: a reply
    /// whose rows all have their own names gets an index per row, not a table search per row.
    indexes: HashMap<*const [Box<str>], Arc<FieldIndex>>,
    /// Rows of a reply share their schema: the last row's index is tried first.
    last: Option<Arc<FieldIndex>>,
}

impl ProductsOf {
    const MAX_INDEXES: usize = 1024;

    fn index(&mut self, schema: &Schema) -> Arc<FieldIndex> {
        if let Some(last) = &self.last {
            if Arc::ptr_eq(&last.schema, schema) {
                return last.clone();
            }
        }
        let index = match self.indexes.get(&Arc::as_ptr(schema)) {
            Some(index) => index.clone(),
            None => {
                let index = Arc::new(FieldIndex::new(schema));
                if self.indexes.len() < Self::MAX_INDEXES {
                    self.indexes
                        .insert(Arc::as_ptr(&index.schema), index.clone());
                }
                index
            }
        };
        self.last = Some(index.clone());
        index
    }
}

impl Iterator for ProductsOf {
    type Item = ActiveProduct;

    fn next(&mut self) -> Option<ActiveProduct> {
        let record = self
            .records
            .find(|r| r.tag().eq_ignore_ascii_case("PRODUCT"))?;
        self.left -= 1;
        let index = self.index(record.schema());
        Some(ActiveProduct { record, index })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for ProductsOf {}

/// One license in use.
#[derive(Debug, Clone)]
pub struct ActiveProduct {
    record: Record,
    index: Arc<FieldIndex>,
}

impl PartialEq for ActiveProduct {
    fn eq(&self, other: &Self) -> bool {
        self.record == other.record
    }
}

impl ActiveProduct {
    /// The PRODUCT records of a reply, in order.
    pub fn from_records(records: Vec<Record>) -> Vec<ActiveProduct> {
        ActiveProduct::of_records(records).collect()
    }

    /// The PRODUCT records of a reply, in order, one at a time: the bindings make each
    /// one's Python object as it comes, with no list of products between.
    pub fn of_records(records: Vec<Record>) -> ProductsOf {
        let left = records
            .iter()
            .filter(|r| r.tag().eq_ignore_ascii_case("PRODUCT"))
            .count();
        ProductsOf {
            records: records.into_iter(),
            left,
            indexes: HashMap::new(),
            last: None,
        }
    }

    /// A product from attribute pairs (tests, and dicts handed in from Python).
    pub fn from_attributes(attrs: &[(&str, &str)]) -> ActiveProduct {
        let record = Record::new("PRODUCT", attrs);
        let index = Arc::new(FieldIndex::new(record.schema()));
        ActiveProduct { record, index }
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The raw text of a field, as received.
    pub fn raw(&self, field: Field) -> Option<&str> {
        let position = self.index.positions[field as usize]?;
        Some(self.record.value(position as usize))
    }

    fn text(&self, field: Field) -> Option<&str> {
        self.raw(field).map(str::trim).filter(|s| !s.is_empty())
    }

    pub fn product(&self) -> &str {
        self.raw(Field::Product).unwrap_or("")
    }

    pub fn username(&self) -> &str {
        self.raw(Field::Username).unwrap_or("")
    }

    pub fn workstation(&self) -> &str {
        self.raw(Field::Workstation).unwrap_or("")
    }

    pub fn server(&self) -> Option<&str> {
        self.text(Field::Server)
    }

    pub fn vendor(&self) -> Option<&str> {
        self.text(Field::Vendor)
    }

    /// The license feature. Servers that report no feature name give the product name,
    /// which is the feature for ArcGIS (`Editor`, `Viewer`, `ARC/INFO`).
    pub fn feature(&self) -> &str {
        self.text(Field::Feature).unwrap_or_else(|| self.product())
    }

    /// Any text field by name.
    pub fn text_field(&self, field: Field) -> Option<&str> {
        match field {
            Field::Product => Some(self.product()),
            Field::Username => Some(self.username()),
            Field::Workstation => Some(self.workstation()),
            Field::Feature => Some(self.feature()),
            _ => self.text(field),
        }
    }

    /// Milliseconds since 1970 UTC.
    pub fn time_ms(&self, field: Field) -> Option<i64> {
        let text = self.text(field)?;
        text.parse::<i64>().ok().or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f as i64)
        })
    }

    pub fn seconds(&self, field: Field) -> Option<f64> {
        parse_seconds(self.text(field)?)
    }

    pub fn licenses(&self) -> i64 {
        self.text(Field::Licenses)
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(1)
    }

    pub fn flag(&self, field: Field) -> Option<bool> {
        parse_bool(self.text(field)?)
    }

    pub fn borrowed(&self) -> bool {
        self.flag(Field::Borrowed).unwrap_or(false)
    }

    /// What CloseApplication needs to close this session; `server` and `vendor` replace
    /// the product's own when given (OpenLM wants the server's descriptive name).
    pub fn close_target(&self, server: Option<&str>, vendor: Option<&str>) -> Result<CloseTarget> {
        let missing = |what: &str| {
            Error::invalid(format!(
                "this product has no {what}; pass {what}= to close it"
            ))
        };
        let target = CloseTarget {
            username: self.username().to_owned(),
            workstation: self.workstation().to_owned(),
            server: server
                .or(self.server())
                .ok_or_else(|| missing("server"))?
                .to_owned(),
            vendor: vendor
                .or(self.vendor())
                .ok_or_else(|| missing("vendor"))?
                .to_owned(),
            feature: self.feature().to_owned(),
        };
        target.validate()?;
        Ok(target)
    }
}

/// `[D.]HH:MM:SS` or a number of seconds.
fn parse_seconds(text: &str) -> Option<f64> {
    if let Ok(seconds) = text.parse::<f64>() {
        return Some(seconds).filter(|s| s.is_finite() && *s >= 0.0);
    }
    let (days, clock) = match text.split_once('.') {
        Some((d, rest)) if rest.contains(':') && !d.contains(':') => (d.parse::<f64>().ok()?, rest),
        _ => (0.0, text),
    };
    let parts: Vec<f64> = clock
        .split(':')
        .map(|p| p.parse::<f64>().ok())
        .collect::<Option<_>>()?;
    let clock_seconds = match parts.as_slice() {
        [h, m, s] => h * 3600.0 + m * 60.0 + s,
        [m, s] => m * 60.0 + s,
        _ => return None,
    };
    Some(days * 86400.0 + clock_seconds).filter(|s| s.is_finite() && *s >= 0.0)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "t" => Some(true),
        "false" | "0" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// The five things CloseApplication needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CloseTarget {
    pub username: String,
    pub workstation: String,
    /// The license server's descriptive name as configured in OpenLM (not `port@host`).
    pub server: String,
    /// The vendor daemon, `ARCGIS` for Esri.
    pub vendor: String,
    pub feature: String,
}

impl CloseTarget {
    /// Every field present and carriable by XML; runs before anything is sent.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in self.params() {
            if value.trim().is_empty() {
                return Err(Error::invalid(format!(
                    "{name} is empty: CloseApplication needs username, workstation, server, vendor and feature"
                )));
            }
            check_value(name, value)?;
        }
        Ok(())
    }

    pub fn params(&self) -> [(&'static str, &str); 5] {
        [
            ("username", &self.username),
            ("workstation", &self.workstation),
            ("server", &self.server),
            ("vendor", &self.vendor),
            ("feature", &self.feature),
        ]
    }

    /// "feature of username on workstation (server, vendor)", for people.
    pub fn describe(&self) -> String {
        format!(
            "{} of {} on {} ({}, {})",
            self.feature, self.username, self.workstation, self.server, self.vendor
        )
    }

    /// Equal for two targets that would close the same session. User names are kept
    /// exactly (FlexNet keeps their case); host, server, vendor and feature names are not
    /// case-sensitive.
    pub fn session_key(&self) -> SessionKey {
        SessionKey([
            self.username.clone(),
            self.workstation.to_lowercase(),
            self.server.to_lowercase(),
            self.vendor.to_lowercase(),
            self.feature.to_lowercase(),
        ])
    }
}

/// Identifies the session a close request is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey([String; 5]);

/// One value a filter accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone)]
enum Target {
    Field(Field),
    /// An attribute by its exact wire name.
    Attribute(String),
}

/// Equal text, ignoring letter case and surrounding spaces.
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.eq_ignore_ascii_case(b)
        || (!a.is_ascii() || !b.is_ascii())
            && a.chars()
                .flat_map(char::to_lowercase)
                .eq(b.chars().flat_map(char::to_lowercase))
}

#[derive(Debug, Clone)]
enum Matcher {
    /// Any of these, compared without regard to letter case or surrounding spaces.
    Text(Vec<String>),
    Int(Vec<i64>),
    Bool(bool),
}

/// Equality filters on fields or raw attributes; all must match.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    conditions: Vec<(Target, Matcher)>,
}

impl ProductFilter {
    /// Add a filter on a typed field, by its Python name; a product matches any of `values`.
    pub fn field(&mut self, name: &str, values: Vec<FilterValue>) -> Result<()> {
        let field = Field::from_name(name).ok_or_else(|| {
            Error::invalid(format!(
                "cannot filter on {name:?}: not a field of an active product. Fields: {}; \
                 filter other attributes with attributes={{...}}",
                Field::names()
            ))
        })?;
        if values.is_empty() {
            return Err(Error::invalid(format!(
                "the filter on {name} lists no value"
            )));
        }
        let wrong =
            |expected: &str| Error::invalid(format!("the filter on {name} takes {expected}"));
        let matcher = match field.kind() {
            Kind::Text => Matcher::Text(
                values
                    .into_iter()
                    .map(|v| match v {
                        FilterValue::Text(t) => Ok(t),
                        FilterValue::Int(i) => Ok(i.to_string()),
                        FilterValue::Bool(_) => Err(wrong("text")),
                    })
                    .collect::<Result<_>>()?,
            ),
            Kind::Int => Matcher::Int(
                values
                    .into_iter()
                    .map(|v| match v {
                        FilterValue::Int(i) => Ok(i),
                        _ => Err(wrong("whole numbers")),
                    })
                    .collect::<Result<_>>()?,
            ),
            Kind::Bool => match values.as_slice() {
                [FilterValue::Bool(b)] => Matcher::Bool(*b),
                _ => return Err(wrong("True or False")),
            },
            Kind::Time | Kind::Seconds => {
                return Err(Error::invalid(format!(
                    "{name} cannot be filtered by equality; pass a function instead, \
                     e.g. {name}=lambda value: value is not None and value < limit"
                )))
            }
        };
        self.conditions.push((Target::Field(field), matcher));
        Ok(())
    }

    /// Add a filter on a raw attribute, by its exact wire name.
    pub fn attribute(&mut self, name: &str, values: Vec<String>) -> Result<()> {
        if values.is_empty() {
            return Err(Error::invalid(format!(
                "the filter on attribute {name:?} lists no value"
            )));
        }
        self.conditions
            .push((Target::Attribute(name.to_owned()), Matcher::Text(values)));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    pub fn matches(&self, product: &ActiveProduct) -> bool {
        self.conditions.iter().all(|(target, matcher)| {
            let text = match target {
                Target::Field(field) => match field.kind() {
                    Kind::Int => {
                        let Matcher::Int(wanted) = matcher else {
                            return false;
                        };
                        return wanted.contains(&product.licenses());
                    }
                    Kind::Bool => {
                        let Matcher::Bool(wanted) = matcher else {
                            return false;
                        };
                        let value = match field {
                            Field::Borrowed => Some(product.borrowed()),
                            _ => product.flag(*field),
                        };
                        return value == Some(*wanted);
                    }
                    _ => product.text_field(*field),
                },
                Target::Attribute(name) => product.record().get(name),
            };
            match (text, matcher) {
                (Some(text), Matcher::Text(wanted)) => wanted.iter().any(|w| same_text(w, text)),
                _ => false,
            }
        })
    }
}

#[cfg(test)]
mod tests;
