//! The live sample: a uniform sample of the records the endpoint scored
//! (algorithm R), kept so a candidate's training data can be compared with
//! real traffic before it is promoted.

use tablero_core::monitor::LiveSlot;
use tablero_core::train::dataset::Value;

use crate::window::db_now;

/// A uniform sample of the live records (algorithm R), kept so a
/// candidate's training data can be compared with real traffic before it is
/// promoted. Slots changed since the last flush are written to the metrics
/// sink.
pub(crate) struct Reservoir {
    pub(crate) capacity: usize,
    seen: u64,
    /// Record as JSON (feature → value) and when it was seen.
    slots: Vec<(String, String)>,
    dirty: Vec<usize>,
    rng: Rng,
}

impl Reservoir {
    pub(crate) fn new(capacity: usize, stored: Vec<LiveSlot>) -> Reservoir {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        let mut slots: Vec<(String, String)> = Vec::new();
        for s in stored.into_iter().take(capacity) {
            slots.push((s.record, s.seen_at));
        }
        Reservoir {
            capacity,
            seen: slots.len() as u64,
            slots,
            dirty: Vec::new(),
            rng: Rng::new(u64::from_le_bytes(seed)),
        }
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.rng.next()
    }

    /// Offers a record; `encode` runs only when it is kept.
    pub(crate) fn offer(&mut self, encode: impl FnOnce() -> String) {
        if self.capacity == 0 {
            return;
        }
        let Some(slot) = self.take_slot() else {
            return;
        };
        self.slots[slot] = (encode(), db_now());
        self.dirty.push(slot);
    }

    /// Counts one more record and returns the slot algorithm R gives it (a
    /// new one, created empty, or one to replace), if any.
    fn take_slot(&mut self) -> Option<usize> {
        self.seen += 1;
        let slot = self
            .rng
            .reservoir_slot(self.seen, self.slots.len(), self.capacity)?;
        if slot == self.slots.len() {
            self.slots.push((String::new(), String::new()));
        }
        Some(slot)
    }

    /// Offers the `rows` rows of a batch at once, as if each had been
    /// offered in turn: which slots the batch takes depends only on the
    /// random draws, and the rows that land there are a uniform subset of
    /// the batch, drawn from the parts' own uniform samples (see
    /// [`BatchSample`]).
    pub(crate) fn offer_batch(&mut self, sample: BatchSample, encode: impl Fn(&[Value]) -> String) {
        let rows: u64 = sample.parts.iter().map(|(n, _)| n).sum();
        if self.capacity == 0 || rows == 0 {
            return;
        }
        // Algorithm R's slot choices for the batch; only the last row to land
        // in a slot stays there, so the batch fills `taken.len()` slots.
        let mut taken: Vec<usize> = Vec::new();
        let mut in_batch = vec![false; self.capacity];
        for _ in 0..rows {
            let Some(slot) = self.take_slot() else {
                continue;
            };
            if !in_batch[slot] {
                in_batch[slot] = true;
                taken.push(slot);
            }
        }
        // Which rows: a uniform `taken.len()`-subset of the batch (Floyd's
        // algorithm over row numbers), then each part gives that many rows
        // from its shuffled sample.
        let k = taken.len() as u64;
        let mut chosen = std::collections::BTreeSet::new();
        for j in rows - k..rows {
            let t = self.next() % (j + 1);
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        let mut wanted = vec![0usize; sample.parts.len()];
        let mut bounds = sample.parts.iter().scan(0u64, |end, (n, _)| {
            *end += n;
            Some(*end)
        });
        let mut part = 0;
        let mut end = bounds.next().unwrap_or(0);
        for t in chosen {
            while t >= end {
                part += 1;
                end = bounds.next().unwrap_or(u64::MAX);
            }
            if let Some(w) = wanted.get_mut(part) {
                *w += 1;
            }
        }
        let at = db_now();
        let mut slots = taken.into_iter();
        for ((_, mut rows), want) in sample.parts.into_iter().zip(wanted) {
            // A uniform order, so the first `want` rows are a uniform subset.
            for i in (1..rows.len()).rev() {
                let j = (self.next() % (i as u64 + 1)) as usize;
                rows.swap(i, j);
            }
            for row in rows.iter().take(want) {
                if let Some(slot) = slots.next() {
                    self.slots[slot] = (encode(row), at.clone());
                    self.dirty.push(slot);
                }
            }
        }
    }

    pub(crate) fn take_dirty(&mut self) -> Vec<LiveSlot> {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        dirty
            .into_iter()
            .filter_map(|i| {
                self.slots.get(i).map(|(r, at)| LiveSlot {
                    slot: i,
                    record: r.clone(),
                    seen_at: at.clone(),
                })
            })
            .collect()
    }
}

/// The live-sample candidates of a batch: per part of the CSV, its row
/// count and a uniform sample of up to the reservoir's capacity of its rows
/// (algorithm R inside the part, model features only).
#[derive(Debug, Clone, Default)]
pub struct BatchSample {
    /// (rows in the part, sampled rows).
    pub parts: Vec<(u64, Vec<Vec<Value>>)>,
}

/// Algorithm R over one part's rows (xorshift64* from `seed`).
pub(crate) struct PartSampler {
    capacity: usize,
    pub(crate) seen: u64,
    pub(crate) rows: Vec<Vec<Value>>,
    rng: Rng,
}

impl PartSampler {
    pub(crate) fn new(capacity: usize, seed: u64) -> PartSampler {
        PartSampler {
            capacity,
            seen: 0,
            rows: Vec::new(),
            rng: Rng::new(seed),
        }
    }

    pub(crate) fn offer(&mut self, row: &[Value]) {
        if self.capacity == 0 {
            return;
        }
        self.seen += 1;
        match self
            .rng
            .reservoir_slot(self.seen, self.rows.len(), self.capacity)
        {
            Some(new) if new == self.rows.len() => self.rows.push(row.to_vec()),
            Some(old) => {
                if let Some(slot) = self.rows.get_mut(old) {
                    slot.clear();
                    slot.extend_from_slice(row);
                }
            }
            None => {}
        }
    }
}

/// xorshift64*: fast, and its quality is ample for sampling.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Algorithm R: where the `seen`-th record (counted from 1) goes when
    /// `len` of `capacity` slots are filled — the next free slot, a slot to
    /// replace, or nowhere.
    fn reservoir_slot(&mut self, seen: u64, len: usize, capacity: usize) -> Option<usize> {
        if len < capacity {
            return Some(len);
        }
        let j = self.next() % seen.max(1);
        (j < capacity as u64).then_some(j as usize)
    }
}
