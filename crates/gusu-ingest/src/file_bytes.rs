//! A file's bytes as read, and its decoded text: a large file is mapped from the page cache
//! rather than copied into fresh memory.
//!
//! Copying a 100 MB department file into a new buffer cost more than parsing it: the kernel zeroes
//! every fresh page before the copy fills it (BENCHMARKS.md). A mapped file is read in place.

use std::ops::Deref;
use std::path::Path;

/// Files at least this large are mapped; smaller ones are read (a mapping costs a few system
/// calls, and small files are most uploads).
const MAP_FROM_BYTES: u64 = 8 << 20;

/// The bytes of a file or an upload.
#[derive(Debug)]
pub(crate) enum FileBytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl FileBytes {
    /// Reads or maps `path`.
    pub(crate) fn read(path: &Path) -> std::io::Result<FileBytes> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        if len >= MAP_FROM_BYTES {
            // SAFETY: the mapping is read-only and private to this process. A file truncated by
            // another program while it is read would end the process with SIGBUS (as it would
            // ripgrep); department files are not rewritten while gusu reads them.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                return Ok(FileBytes::Mapped(map));
            }
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        std::io::Read::read_to_end(&mut &file, &mut bytes)?;
        Ok(FileBytes::Owned(bytes))
    }

    /// The bytes as an owned vector (workbooks, whose reader takes ownership).
    pub(crate) fn into_vec(self) -> Vec<u8> {
        match self {
            FileBytes::Owned(v) => v,
            FileBytes::Mapped(m) => m.to_vec(),
        }
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> FileBytes {
        FileBytes::Owned(bytes)
    }
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Owned(v) => v,
            FileBytes::Mapped(m) => m,
        }
    }
}

/// A text file's content as UTF-8: decoded into a string, or the file's own bytes when they were
/// UTF-8 already (checked once, when made).
#[derive(Debug)]
pub(crate) struct Text(TextInner);

#[derive(Debug)]
enum TextInner {
    Decoded(String),
    /// Valid UTF-8 from `start` (past a byte-order mark).
    Utf8 {
        bytes: FileBytes,
        start: usize,
    },
}

impl Text {
    pub(crate) fn decoded(text: String) -> Text {
        Text(TextInner::Decoded(text))
    }

    /// The bytes from `start` when they are UTF-8, or the bytes back.
    pub(crate) fn utf8(bytes: FileBytes, start: usize) -> Result<Text, FileBytes> {
        match std::str::from_utf8(&bytes[start.min(bytes.len())..]) {
            Ok(_) => Ok(Text(TextInner::Utf8 { bytes, start })),
            Err(_) => Err(bytes),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            TextInner::Decoded(s) => s,
            TextInner::Utf8 { bytes, start } => {
                let tail = &bytes[*start..];
                // SAFETY: checked to be UTF-8 by `Text::utf8`, the only way to make this variant,
                // and the bytes are never changed after.
                unsafe { std::str::from_utf8_unchecked(tail) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_file_is_mapped_and_reads_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (small, large) = (dir.path().join("small.csv"), dir.path().join("large.csv"));
        std::fs::write(&small, "uscc,name\n").unwrap();
        let big: Vec<u8> = b"0123456789abcdef\n"
            .iter()
            .copied()
            .cycle()
            .take(MAP_FROM_BYTES as usize + 17)
            .collect();
        std::fs::write(&large, &big).unwrap();
        let s = FileBytes::read(&small).unwrap();
        assert!(matches!(s, FileBytes::Owned(_)));
        assert_eq!(&*s, b"uscc,name\n");
        let l = FileBytes::read(&large).unwrap();
        assert!(matches!(l, FileBytes::Mapped(_)));
        assert_eq!(&*l, big.as_slice());
    }

    #[test]
    fn text_is_taken_in_place_only_when_it_is_utf8() {
        let t = Text::utf8(FileBytes::from(b"\xEF\xBB\xBFuscc".to_vec()), 3).unwrap();
        assert_eq!(t.as_str(), "uscc");
        let not_utf8 = Text::utf8(FileBytes::from(b"\xC4\xFA\xBA\xC3".to_vec()), 0);
        assert_eq!(&*not_utf8.unwrap_err(), b"\xC4\xFA\xBA\xC3");
    }
}
