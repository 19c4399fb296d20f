//! Python strings made once per distinct text while many rows become objects.
//!
//! 100,000 sessions name a handful of products: one `str` per distinct name, shared by the
//! rows that have it, is fewer strings to make and to keep than one per row. (For values with
//! tens of thousands of distinct texts, such as users, a lookup per row misses the CPU's
//! caches and costs more than it saves.)

use hashbrown::HashTable;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// How many distinct texts one cache keeps; past this, a text gets a string of its own each
/// time, so that a reply whose every value differs cannot make the cache grow without end.
const MAX_ENTRIES: usize = 1 << 17;

/// The strings made so far, found by their text. The texts are kept one after another in
/// `texts` rather than each in an allocation of its own.
#[derive(Default)]
pub struct StringCache {
    table: HashTable<Entry>,
    texts: String,
}

struct Entry {
    hash: u64,
    start: u32,
    len: u32,
    string: Py<PyString>,
}

impl StringCache {
    /// The Python string of `text`: the one made before for the same text, or a new one.
    pub fn get(&mut self, py: Python<'_>, text: &str) -> Py<PyString> {
        let hash = fx_hash(text.as_bytes());
        let texts = &self.texts;
        let same = |e: &Entry| {
            e.hash == hash && &texts[e.start as usize..(e.start + e.len) as usize] == text
        };
        if let Some(entry) = self.table.find(hash, same) {
            return entry.string.clone_ref(py);
        }
        let string = PyString::new(py, text).unbind();
        let start = self.texts.len();
        let fits = u32::try_from(start + text.len()).is_ok();
        if fits && self.table.len() < MAX_ENTRIES {
            self.texts.push_str(text);
            let entry = Entry {
                hash,
                start: start as u32,
                len: text.len() as u32,
                string: string.clone_ref(py),
            };
            self.table.insert_unique(hash, entry, |e| e.hash);
        }
        string
    }
}

/// The Fx hash (rustc's): a multiply and a rotate per word. These are short keys of one
/// reply, chosen by nobody who could aim collisions at a table bounded like this one. The
/// table finds buckets by the hash's low bits, which a multiply mixes worst: the last rotate
/// brings the well-mixed high bits down (as rustc-hash 2 does); without it, workstations
/// differing only in their last digits fell into a few buckets, and a parse took 30% longer.
fn fx_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(K);
    let mut hash = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    hash.rotate_left(26)
}

#[cfg(test)]
mod tests {
    use super::fx_hash;

    #[test]
    fn the_hash_tells_apart_texts_that_pad_alike() {
        assert_ne!(fx_hash(b"ab"), fx_hash(b"ab\0"));
        assert_ne!(fx_hash(b""), fx_hash(b"\0"));
        assert_eq!(fx_hash(b"Editor"), fx_hash(b"Editor"));
    }

    #[test]
    fn texts_differing_in_their_last_digits_spread_over_the_low_bits() {
        let buckets: std::collections::HashSet<u64> = (0..4096)
            .map(|i| fx_hash(format!("GIS-WS-{i:05}").as_bytes()) & 4095)
            .collect();
        assert!(buckets.len() > 2048, "{} buckets of 4096", buckets.len());
    }
}
