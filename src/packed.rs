//! Strings kept one after another in one buffer, each found by where it ends: records of
//! many short fields without an allocation per field (OpenLM's records, lmstat's sessions).

/// String `index` of those packed in `text`, where `ends[i]` is where string `i` ends.
pub(crate) fn nth<'a, E: Copy + Into<u64>>(text: &'a str, ends: &[E], index: usize) -> &'a str {
    let at = |i: usize| ends[i].into() as usize;
    let start = if index == 0 { 0 } else { at(index - 1) };
    &text[start..at(index)]
}
