//! Finding codes (or code-and-year pairs) that occur in more than one row of a large file,
//! without an allocation per row: a code is packed into an integer and only repeats get a list.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use gusu_core::Uscc;

/// A code as an integer: its 18 ASCII characters, 7 bits each (126 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CodeKey(u128);

impl CodeKey {
    pub(crate) fn new(uscc: &Uscc) -> CodeKey {
        CodeKey(
            uscc.as_str()
                .bytes()
                .fold(0u128, |acc, b| (acc << 7) | u128::from(b & 0x7F)),
        )
    }

    /// The code back as text.
    pub(crate) fn code(self) -> String {
        (0..18)
            .rev()
            .map(|i| char::from(((self.0 >> (7 * i)) & 0x7F) as u8))
            .collect()
    }
}

/// FxHash (as in rustc): keys here are already well mixed integers and need no DoS protection,
/// and SipHash was the largest cost of reading a million-row file.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Fx = BuildHasherDefault<FxHasher>;

/// The rows each key was seen in, kept only for keys seen more than once.
pub(crate) struct Seen<K> {
    first: HashMap<K, u64, Fx>,
    repeated: HashMap<K, Vec<u64>, Fx>,
}

impl<K: Copy + Eq + Hash + Ord> Seen<K> {
    /// Sized for `rows` keys at once: rehashing a growing table of a million keys costs more in
    /// fresh pages than the lookups.
    pub(crate) fn with_capacity(rows: usize) -> Self {
        Seen {
            first: HashMap::with_capacity_and_hasher(rows, Fx::default()),
            repeated: HashMap::default(),
        }
    }

    pub(crate) fn add(&mut self, key: K, row: u64) {
        match self.first.entry(key) {
            Entry::Vacant(v) => {
                v.insert(row);
            }
            Entry::Occupied(o) => self
                .repeated
                .entry(key)
                .or_insert_with(|| vec![*o.get()])
                .push(row),
        }
    }

    /// Keys seen in more than one row, with those rows in file order; ordered by key.
    pub(crate) fn repeated(&self) -> Vec<(K, &[u64])> {
        let mut out: Vec<(K, &[u64])> = self
            .repeated
            .iter()
            .map(|(k, rows)| (*k, rows.as_slice()))
            .collect();
        out.sort_by_key(|(k, _)| *k);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_round_trips() {
        let u = Uscc::parse("91110000600037341L").unwrap();
        assert_eq!(CodeKey::new(&u).code(), "91110000600037341L");
    }

    #[test]
    fn repeats_only() {
        let mut seen = Seen::with_capacity(0);
        seen.add(1u32, 2);
        seen.add(2, 3);
        seen.add(1, 5);
        seen.add(1, 9);
        assert_eq!(seen.repeated(), vec![(1, &[2u64, 5, 9][..])]);
    }
}
