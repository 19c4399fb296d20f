//! Text and bulk items from Python, checked one by one: a value a server cannot receive (a
//! lone surrogate, a number where a name belongs) becomes an `InvalidInput` error that says
//! which value and why, never a `UnicodeEncodeError` or a `TypeError` for a whole call.

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::error::Error;
use crate::portal::Member;

/// The first lone surrogate of a Python string that UTF-8 cannot carry, as `(position, code)`.
fn lone_surrogate(value: &Bound<'_, PyString>) -> Option<(usize, u32)> {
    // `surrogatepass` writes a surrogate as the 3 bytes ED A0..BF xx.
    let bytes = value
        .call_method1("encode", ("utf-8", "surrogatepass"))
        .ok()?;
    let bytes: Vec<u8> = bytes.extract().ok()?;
    let mut position = 0;
    for (i, byte) in bytes.iter().enumerate() {
        if *byte == 0xED && bytes.get(i + 1).is_some_and(|b| (0xA0..=0xBF).contains(b)) {
            let code = 0xD000
                | (u32::from(bytes[i + 1] & 0x3F) << 6)
                | u32::from(bytes.get(i + 2).copied().unwrap_or(0x80) & 0x3F);
            return Some((position, code));
        }
        if byte & 0xC0 != 0x80 {
            position += 1;
        }
    }
    None
}

/// The name of a Python value's type, for messages about a value of the wrong kind.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an object".into())
}

/// A Python str as Rust text; `what` names the value in the error ("the user name").
pub(crate) fn text(what: &str, value: &Bound<'_, PyAny>) -> Result<String, Error> {
    let Ok(string) = value.cast::<PyString>() else {
        return Err(Error::invalid(format!(
            "{what}: expected text (str), got {}",
            type_name(value)
        )));
    };
    match string.to_cow() {
        Ok(s) => Ok(s.into_owned()),
        Err(_) => Err(surrogate_error(what, string)),
    }
}

fn surrogate_error(what: &str, string: &Bound<'_, PyString>) -> Error {
    let at = match lone_surrogate(string) {
        Some((position, code)) => format!(" U+{code:04X} at position {position}"),
        None => String::new(),
    };
    Error::invalid(format!(
        "{what} contains a lone surrogate{at}: half of a character, which is not text and \
         cannot be sent (it often comes from reading bytes with errors=\"surrogateescape\"); \
         fix or re-decode the text"
    ))
}

/// Members of a bulk change, from the facade's `(item or user name, user type or None,
/// role or None)` triples (a bare item is a user name alone). Each pair that cannot be a member becomes that item's failure with its reason;
/// the others go on.
pub(crate) struct MemberItems(pub Vec<Result<Member, Error>>);

impl MemberItems {
    fn member(index: usize, pair: &Bound<'_, PyAny>) -> Result<Member, Error> {
        let none = || pair.py().None().into_bound(pair.py());
        let (name, user_type, role) =
            match pair.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)>() {
                Ok(triple) => triple,
                Err(_) => (pair.clone(), none(), none()),
            };
        if !name.is_instance_of::<PyString>() {
            return Err(Error::invalid(format!(
                "item {index} is not a user: expected a user name (str) or a User, got {}",
                type_name(&name)
            )));
        }
        // The label is made only for an error: 5,000 items made it 5,000 times for nothing.
        let username = match name.cast::<PyString>().ok().and_then(|s| s.to_cow().ok()) {
            Some(username) => username.into_owned(),
            None => text(&format!("item {index}: the user name"), &name)?,
        };
        // What the caller knows only stands in when the portal cannot be read; an
        // unreadable value is unknown, not an error (and None is simply not known).
        let known = |value: &Bound<'_, PyAny>, what: &str| {
            if value.is_none() {
                None
            } else {
                text(what, value).ok()
            }
        };
        Ok(Member {
            username,
            user_type: known(&user_type, "user type"),
            role: known(&role, "role"),
        })
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for MemberItems {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let mut members = Vec::new();
        for (index, pair) in obj.try_iter()?.enumerate() {
            members.push(Self::member(index, &pair?));
        }
        Ok(MemberItems(members))
    }
}
