//! The set of row hashes behind the duplicate rule: one 128-bit hash per
//! row, millions of rows, each looked up once in file order.
//!
//! A general hash map spends most of its time there waiting for memory: each
//! lookup lands on a random cache line of a table far larger than the
//! caches. This set is open addressing with linear probing over the hashes
//! themselves (already uniform, so their low bits are the slot), and it
//! looks hashes up in groups: first it touches every group member's slot,
//! independent loads the processor overlaps, then it probes them in order
//! from the cache.

/// A set of 128-bit row hashes.
#[derive(Debug, Clone)]
pub struct RowHashSet {
    /// `EMPTY` or a hash; the hash `EMPTY` itself is kept in `has_empty`.
    slots: Vec<u128>,
    len: usize,
    has_empty: bool,
}

const EMPTY: u128 = 0;
/// Members probed together.
const GROUP: usize = 16;

impl Default for RowHashSet {
    fn default() -> Self {
        RowHashSet {
            slots: vec![EMPTY; 1024],
            len: 0,
            has_empty: false,
        }
    }
}

impl RowHashSet {
    /// Number of distinct hashes.
    pub fn len(&self) -> usize {
        self.len + usize::from(self.has_empty)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes room for `more` hashes without growing.
    pub fn reserve(&mut self, more: usize) {
        let want = self.len + more;
        // At most 4 in 5 slots used.
        if want * 5 > self.slots.len() * 4 {
            let cap = (want * 5 / 4 + 1).next_power_of_two();
            self.rehash(cap);
        }
    }

    fn rehash(&mut self, cap: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; cap]);
        self.len = 0;
        for h in old.into_iter().filter(|&h| h != EMPTY) {
            self.insert_one(h);
        }
    }

    fn slot(&self, h: u128) -> usize {
        (h as usize) & (self.slots.len() - 1)
    }

    /// Adds `h`; `false` when it was already there.
    pub fn insert(&mut self, h: u128) -> bool {
        self.reserve(1);
        self.insert_one(h)
    }

    fn insert_one(&mut self, h: u128) -> bool {
        if h == EMPTY {
            return !std::mem::replace(&mut self.has_empty, true);
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(h);
        loop {
            let s = self.slots[i];
            if s == h {
                return false;
            }
            if s == EMPTY {
                self.slots[i] = h;
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds each hash in order, pushing to `repeated` whether it was
    /// already there (from before, or earlier in `hashes`).
    pub fn insert_all(&mut self, hashes: &[u128], repeated: &mut Vec<bool>) {
        self.reserve(hashes.len());
        repeated.reserve(hashes.len());
        for group in hashes.chunks(GROUP) {
            // Start every member's cache miss at once.
            let mut touched = 0u128;
            for &h in group {
                touched ^= self.slots[self.slot(h)];
            }
            std::hint::black_box(touched);
            for &h in group {
                repeated.push(!self.insert_one(h));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repeats_as_a_std_set_does() {
        let mut x: u64 = 1;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x
        };
        // Few distinct values, so repeats are common; 0 included.
        let hashes: Vec<u128> = (0..50_000)
            .map(|_| match next() % 5000 {
                0 => 0,
                v => (u128::from(v) << 64) | u128::from(v.wrapping_mul(31)),
            })
            .collect();
        let mut std_set = std::collections::HashSet::new();
        let expected: Vec<bool> = hashes.iter().map(|h| !std_set.insert(*h)).collect();

        let mut set = RowHashSet::default();
        let mut got = Vec::new();
        for block in hashes.chunks(7_777) {
            set.insert_all(block, &mut got);
        }
        assert_eq!(got, expected);
        assert_eq!(set.len(), std_set.len());

        let mut one = RowHashSet::default();
        let singly: Vec<bool> = hashes.iter().map(|&h| !one.insert(h)).collect();
        assert_eq!(singly, expected);
    }

    #[test]
    fn hashes_equal_in_their_low_bits_are_told_apart() {
        let mut set = RowHashSet::default();
        let mut got = Vec::new();
        set.insert_all(
            &[5, 5 | (1 << 100), 5, 5 | (1 << 100), 5 | (1 << 99)],
            &mut got,
        );
        assert_eq!(got, vec![false, false, true, true, false]);
    }
}
