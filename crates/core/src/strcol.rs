//! A compact column of strings: one buffer plus end offsets, so half a
//! million rows do not mean half a million allocations.

/// A column of strings. An empty string stands for a missing value where the
/// column allows one (see [`crate::ingest::Transactions`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrCol {
    data: String,
    ends: Vec<usize>,
}

impl StrCol {
    /// An empty column with room for `rows` values of about `avg` bytes.
    pub fn with_capacity(rows: usize, avg: usize) -> StrCol {
        StrCol {
            data: String::with_capacity(rows * avg),
            ends: Vec::with_capacity(rows),
        }
    }

    /// Appends a value.
    pub fn push(&mut self, s: &str) {
        self.data.push_str(s);
        self.ends.push(self.data.len());
    }

    /// The value at `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    /// An empty column with room for exactly `rows` values of `bytes` bytes in all.
    pub fn with_exact_capacity(rows: usize, bytes: usize) -> StrCol {
        StrCol {
            data: String::with_capacity(bytes),
            ends: Vec::with_capacity(rows),
        }
    }

    /// Bytes of text in all values.
    pub fn text_len(&self) -> usize {
        self.data.len()
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Iterates over the values.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// A new column with the values at `rows`, in that order.
    pub fn take(&self, rows: &[usize]) -> StrCol {
        let mut out = StrCol::with_capacity(rows.len(), self.data.len() / self.len().max(1) + 1);
        for &r in rows {
            out.push(self.get(r));
        }
        out
    }

    /// Appends all values of `other`.
    pub fn extend(&mut self, other: &StrCol) {
        let base = self.data.len();
        self.data.push_str(&other.data);
        self.ends.extend(other.ends.iter().map(|e| e + base));
    }
}

impl<'a> FromIterator<&'a str> for StrCol {
    fn from_iter<T: IntoIterator<Item = &'a str>>(iter: T) -> Self {
        let mut c = StrCol::default();
        for s in iter {
            c.push(s);
        }
        c
    }
}
