//! Member listing pages read in two steps. First without Python, on whichever thread the
//! page arrives: the page's total, next start and envelope marks, and each member as the
//! slice of the page's text it was sent as, with the fields the listing checks (its user
//! name, and its role id when the search keeps members by role). Then, attached to Python,
//! each member is only wrapped: its dict is read from its text the first time it is asked
//! for ([`ListedMember::fields`]), with the same values the whole page read at once gives.
//!
//! Why: a listing's time after its last reply was the time to make some 30 Python objects
//! per member, one page at a time under the GIL, on CPU the bytes-only floor never spends.
//! The checks still see every member before the listing returns.

use std::sync::Arc;

use bytes::Bytes;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::portal::paging::ItemKey;
use crate::python::json::{KeyStrings, PyValue};

/// A member of a listing as the portal sent it: `gislicense.User` reads its dict from
/// it on first use. Holds the page's text (shared with the page's other members, not
/// copied) until then.
#[pyclass(frozen, module = "gislicense._core")]
pub struct ListedMember {
    text: Bytes,
    keys: Arc<KeyStrings>,
    fields: PyOnceLock<Py<PyDict>>,
}

#[pymethods]
impl ListedMember {
    /// The member's fields as a dict of its JSON: read the first time, the same dict after.
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let fields = self.fields.get_or_try_init(py, || {
            let seed = PyValue {
                py,
                keys: &self.keys,
            };
            let mut text = serde_json::Deserializer::from_slice(&self.text);
            // The text was read as a JSON object when its page came: this cannot fail but
            // for want of memory.
            let value = seed
                .deserialize(&mut text)
                .map_err(|err| PyValueError::new_err(format!("a listed member: {err}")))?;
            Ok::<_, PyErr>(value.cast_into::<PyDict>()?.unbind())
        })?;
        Ok(fields.bind(py).clone())
    }
}

/// A page of a member listing, read without Python.
#[derive(Default)]
pub struct MemberPage {
    pub total: Option<Value>,
    pub next_start: Option<Value>,
    /// The envelope's marks (`error`, `status`): such a reply is judged by the envelope check.
    pub marked: bool,
    pub members: Vec<MemberText>,
}

/// A member as the slice of its page's text, with the fields the listing checks.
pub struct MemberText {
    text: Bytes,
    /// Its user name ([`ItemKey::MEMBERS`]); None when it has no text there.
    pub key: Option<String>,
    /// Its role id, as `User.role_id` reads it (`roleId`, else `role`), when asked for.
    pub role_id: Option<String>,
}

impl MemberText {
    /// The member as the object that stands for it in Python until its dict is wanted.
    pub fn into_py(self, py: Python<'_>, keys: &Arc<KeyStrings>) -> PyResult<Py<ListedMember>> {
        let member = ListedMember {
            text: self.text,
            keys: keys.clone(),
            fields: PyOnceLock::new(),
        };
        Py::new(py, member)
    }
}

/// A listing page's total, next start, marks and members under `list_key`; None when the
/// body is not a JSON object (the envelope check then says what it is). The members are
/// the objects in that list; anything else there is skipped (and a list that is not a list
/// reads as empty), as reading the whole JSON does.
pub fn read_page(body: &Bytes, list_key: &str, role_ids: bool) -> Option<MemberPage> {
    let mut text = serde_json::Deserializer::from_slice(body);
    let seed = PageSeed { list_key };
    let (mut page, items) = seed.deserialize(&mut text).ok()?;
    text.end().ok()?;
    page.members.reserve(items.len());
    for item in items {
        let text = item.get();
        if !text.starts_with('{') {
            continue;
        }
        let checked: Checked = serde_json::from_str(text).ok()?;
        let role_id = match role_ids {
            true => checked.role_id.or(checked.role),
            false => None,
        };
        page.members.push(MemberText {
            text: body.slice_ref(text.as_bytes()),
            key: checked.username,
            role_id,
        });
    }
    Some(page)
}

struct PageSeed<'a> {
    list_key: &'a str,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = (MemberPage, Vec<&'de RawValue>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = (MemberPage, Vec<&'de RawValue>);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a listing page (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut page = MemberPage::default();
        let mut items = Vec::new();
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "total" => page.total = Some(map.next_value()?),
                "nextStart" => page.next_start = Some(map.next_value()?),
                "error" | "status" => {
                    map.next_value::<IgnoredAny>()?;
                    page.marked = true;
                }
                name if name == self.list_key => items = map.next_value_seed(Items)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((page, items))
    }
}

/// A page's items, each as its text; a value that is not a list gives none.
struct Items;

impl<'de> DeserializeSeed<'de> for Items {
    type Value = Vec<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(100));
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item);
        }
        Ok(items)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(vec![])
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(vec![])
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(vec![])
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(vec![])
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(vec![])
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(vec![])
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(vec![])
    }
}

/// The fields of a member the listing checks, each the text it holds (None when it holds
/// anything else); a field given twice reads as its last, as in the member's dict.
#[derive(Default)]
struct Checked {
    username: Option<String>,
    role_id: Option<String>,
    role: Option<String>,
}

impl<'de> serde::Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a member (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut checked = Checked::default();
        let text = |value: Value| match value {
            Value::String(text) => Some(text),
            _ => None,
        };
        while let Some(field) = map.next_key::<Field>()? {
            let slot = match field {
                Field::Username => &mut checked.username,
                Field::RoleId => &mut checked.role_id,
                Field::Role => &mut checked.role,
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = text(map.next_value()?);
        }
        Ok(checked)
    }
}

/// A member's key, compared unescaped (as the dict holds it) and without being copied.
enum Field {
    Username,
    RoleId,
    Role,
    Other,
}

impl<'de> serde::Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FieldVisitor)
    }
}

struct FieldVisitor;

impl Visitor<'_> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
        Ok(match name {
            name if name == ItemKey::MEMBERS.field => Field::Username,
            "roleId" => Field::RoleId,
            "role" => Field::Role,
            _ => Field::Other,
        })
    }
}
