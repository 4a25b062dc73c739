//! Finding codes (or code-and-year pairs) that occur in more than one row of a large file,
//! without an allocation per row: a code is packed into an integer.

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

/// Every (key, row) seen; repeats are found by sorting once at the end, which for a million
/// rows is several times faster than a hash map (no random memory access, no hashing).
pub(crate) struct Seen<K> {
    entries: Vec<(K, u64)>,
}

impl<K: Copy + Ord> Seen<K> {
    /// Room for `rows` keys at once: growing a vector of a million keys by doubling costs more
    /// in fresh pages than filling it.
    pub(crate) fn with_capacity(rows: usize) -> Self {
        Seen {
            entries: Vec::with_capacity(rows),
        }
    }

    pub(crate) fn add(&mut self, key: K, row: u64) {
        self.entries.push((key, row));
    }

    /// Keys seen in more than one row, ordered by key, with those rows in file order.
    pub(crate) fn repeated(mut self) -> Vec<(K, Vec<u64>)> {
        self.entries.sort_unstable();
        self.entries
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|group| group.len() > 1)
            .map(|group| (group[0].0, group.iter().map(|(_, row)| *row).collect()))
            .collect()
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
        assert_eq!(seen.repeated(), vec![(1, vec![2u64, 5, 9])]);
    }
}
