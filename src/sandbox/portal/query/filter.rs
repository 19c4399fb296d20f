//! `filter` of the member searches (`community/users`, `portals/self/users/search`):
//! "structured filtering ... an exact keyword match of the expected value for the specified
//! field" (Esri's Search reference), on the fields the official client's `search` documents
//! for users: username, firstname, lastname, fullname and email (`arcgis/gis/_impl/_search.py`).
//! Terms combine as in `q`. A filter naming another field, or a term without a field, is
//! refused with a 400 (a choice: unverified).

use super::{analysed, glob, parse, Query, Value};
use crate::sandbox::portal::org::PortalMember;

/// The fields a member search's `filter` takes.
pub(in crate::sandbox::portal) const FILTER_FIELDS: &[&str] =
    &["username", "firstname", "lastname", "fullname", "email"];

/// A `filter`, read.
pub(in crate::sandbox::portal) struct Filter(Query);

impl Filter {
    /// Read `text`; why it cannot be used otherwise.
    pub(in crate::sandbox::portal) fn parse(text: &str) -> Result<Filter, String> {
        let query = parse(text)?;
        check(&query)?;
        Ok(Filter(query))
    }

    /// Whether `member` matches, as seen by a caller who sees e-mail addresses or not.
    pub(in crate::sandbox::portal) fn matches(
        &self,
        member: &PortalMember,
        sees_email: bool,
    ) -> bool {
        exact(&self.0, member, sees_email)
    }
}

fn check(query: &Query) -> Result<(), String> {
    match query {
        Query::All => Ok(()),
        Query::And(parts) | Query::Or(parts) => parts.iter().try_for_each(check),
        Query::Not(inner) => check(inner),
        Query::Term {
            field: Some(field),
            value: Value::Word(_) | Value::Phrase(_),
        } if FILTER_FIELDS.contains(&field.as_str()) => Ok(()),
        Query::Term { .. } => Err(format!(
            "Invalid filter: a member search filters by field:\"value\" on the fields {}.",
            FILTER_FIELDS.join(", ")
        )),
    }
}

/// Whole values, not words: `fullname:"Jane"` does not match Jane Smith.
fn exact(query: &Query, member: &PortalMember, sees_email: bool) -> bool {
    match query {
        Query::All => true,
        Query::And(parts) => parts.iter().all(|q| exact(q, member, sees_email)),
        Query::Or(parts) => parts.iter().any(|q| exact(q, member, sees_email)),
        Query::Not(inner) => !exact(inner, member, sees_email),
        Query::Term { field, value } => {
            let have: &str = match field.as_deref() {
                Some("username") => &member.username,
                Some("firstname") => &member.first_name,
                Some("lastname") => &member.last_name,
                Some("fullname") => &member.full_name,
                Some("email") if sees_email => &member.email,
                _ => return false,
            };
            match value {
                Value::Word(w) => glob(w, have),
                Value::Phrase(words) => analysed(have) == *words,
                Value::Range { .. } => false,
            }
        }
    }
}
