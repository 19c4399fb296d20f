//! The text of a document's bytes: UTF-8 (with or without a byte-order mark), UTF-16 with
//! one, or the encoding the XML declaration names.

use std::borrow::Cow;

use super::XmlError;

/// Turn reply bytes into text: UTF-8 (with or without BOM), UTF-16 with a BOM,
/// or the encoding the XML declaration names.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|e| XmlError(format!("invalid UTF-8 at byte {}", e.valid_up_to() + 3)));
    }
    for (bom, encoding) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE),
    ] {
        if bytes.starts_with(bom) {
            let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[2..]);
            if had_errors {
                return Err(XmlError(format!("invalid {}", encoding.name())));
            }
            return Ok(text);
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(utf8_error) => {
            let declared = declared_encoding(bytes)
                .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
                .filter(|e| *e != encoding_rs::UTF_8);
            match declared {
                Some(encoding) => {
                    let (text, _, had_errors) = encoding.decode(bytes);
                    if had_errors {
                        return Err(XmlError(format!("invalid {}", encoding.name())));
                    }
                    Ok(text)
                }
                None => Err(XmlError(format!(
                    "not UTF-8 text (invalid byte at {})",
                    utf8_error.valid_up_to()
                ))),
            }
        }
    }
}

fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    let decl = head.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_owned())
}
