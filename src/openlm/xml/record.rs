//! A document's records.
//!
//! The records of one document keep their values in one buffer they share, one after
//! another in the order they were read: a row costs no allocation of its own, and reading
//! the rows in order reads that buffer in order. (Ranges into the reply itself were tried:
//! they saved the copy, but each value read afterwards missed the CPU's caches in a
//! 38 MiB reply, and a kept record would have kept the whole reply.)

use std::sync::Arc;

use crate::packed::nth;

/// The attribute names of records that carry the same attributes in the same order;
/// shared between records so that 100,000 rows do not hold 100,000 copies of the names.
pub type Schema = Arc<[Box<str>]>;

/// What the records of one document share: their values, one after another.
#[derive(Default)]
pub(super) struct Document {
    pub(super) values: String,
    /// For each record, from its `first` on: where each of its values ends, counted from the
    /// record's `base` (two bytes each: a record's values are under 64 KiB together, or it
    /// keeps them to itself).
    pub(super) ends: Vec<u16>,
}

/// Where a record's values are.
#[derive(Clone)]
pub(super) enum Values {
    /// In the document's buffer: value `i` ends at `base + ends[first + i]`.
    InDocument {
        document: Arc<Document>,
        base: u32,
        first: u32,
    },
    /// Values of its own, one after another; `ends[i]` is where value `i` ends. For records
    /// made from pairs, and for the rare one too big for the document's two-byte ends (or
    /// past its first 4 GiB).
    Own(Box<OwnValues>),
}

#[derive(Clone)]
pub(super) struct OwnValues {
    pub(super) values: Box<str>,
    pub(super) ends: Box<[u32]>,
}

/// One data element (PRODUCT, USER, SERVER...): its tag and its attributes as received.
#[derive(Clone)]
pub struct Record {
    pub(super) tag: Arc<str>,
    /// The attribute names; a record has exactly as many values.
    pub(super) schema: Schema,
    pub(super) values: Values,
}

impl Record {
    pub fn new(tag: &str, attrs: &[(&str, &str)]) -> Record {
        let schema: Schema = attrs.iter().map(|(n, _)| Box::from(*n)).collect();
        let mut values = String::new();
        let mut ends = Vec::with_capacity(attrs.len());
        for (_, value) in attrs {
            values.push_str(value);
            ends.push(values.len() as u32);
        }
        Record {
            tag: Arc::from(tag),
            schema,
            values: Values::Own(Box::new(OwnValues {
                values: values.into_boxed_str(),
                ends: ends.into_boxed_slice(),
            })),
        }
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn len(&self) -> usize {
        self.schema.len()
    }

    pub fn is_empty(&self) -> bool {
        self.schema.is_empty()
    }

    pub fn name(&self, index: usize) -> &str {
        &self.schema[index]
    }

    pub fn value(&self, index: usize) -> &str {
        match &self.values {
            Values::InDocument {
                document,
                base,
                first,
            } => {
                let first = *first as usize;
                let ends = &document.ends[first..first + self.len()];
                nth(&document.values[*base as usize..], ends, index)
            }
            Values::Own(own) => nth(&own.values, &own.ends, index),
        }
    }

    /// The value of the first attribute with exactly this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.schema
            .iter()
            .position(|n| &**n == name)
            .map(|i| self.value(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.len()).map(move |i| (self.name(i), self.value(i)))
    }
}

/// Its tag and its own attributes (not the document's buffer).
impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("tag", &self.tag())
            .field("attributes", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag && self.iter().eq(other.iter())
    }
}
