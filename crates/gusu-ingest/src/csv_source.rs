//! Delimited text files (CSV, and tab-separated text): decoding (UTF-8 with or without BOM,
//! UTF-16 with BOM, else GBK) and streaming records.

use std::ops::ControlFlow;

use csv::ByteRecord;

use crate::cell::Cell;
use crate::file_bytes::{FileBytes, Text};

/// Decodes a text table's bytes. Department exports come as UTF-8 (often with the BOM Excel
/// writes), as UTF-16 with its BOM (Excel's "Unicode text", tab-separated) or, from older Excel on
/// Chinese Windows, as GBK; anything else that is not valid UTF-8 is read as GBK (decoded as
/// GB18030, its superset). Fails on files that are not text at all.
pub(crate) fn decode(bytes: FileBytes) -> Result<Text, ()> {
    let utf16 = if bytes.starts_with(b"\xFF\xFE") {
        Some(encoding_rs::UTF_16LE)
    } else if bytes.starts_with(b"\xFE\xFF") {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    };
    let text = if let Some(encoding) = utf16 {
        let (text, _, malformed) = encoding.decode(&bytes);
        if malformed {
            return Err(());
        }
        Text::decoded(text.into_owned())
    } else {
        // UTF-8 (the usual case) is read in place, past the BOM Excel writes.
        let start = if bytes.starts_with("\u{feff}".as_bytes()) {
            3
        } else {
            0
        };
        match Text::utf8(bytes, start) {
            Ok(text) => text,
            Err(bytes) => {
                let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
                Text::decoded(text.into_owned())
            }
        }
    };
    // Text files have no NUL characters; binaries (PDF, images) almost always do.
    if text.as_str().contains('\0') {
        return Err(());
    }
    Ok(text)
}

/// Lines looked at to tell tab-separated from comma-separated text.
const SNIFF_LINES: usize = 30;

/// Tab when the first lines hold more tabs than commas (Excel's "Unicode text" and "Text (Tab
/// delimited)" exports, and most database tools), otherwise comma. Quoted commas inside a
/// tab-separated file are counted too, but a file of tab-separated figures has a tab per column on
/// every line, far more than the odd quoted comma.
fn sniff_delimiter(text: &str) -> u8 {
    let (mut tabs, mut commas) = (0usize, 0usize);
    for line in text.lines().take(SNIFF_LINES) {
        tabs += line.bytes().filter(|&b| b == b'\t').count();
        commas += line.bytes().filter(|&b| b == b',').count();
    }
    if tabs > commas { b'\t' } else { b',' }
}

/// A decoded CSV file.
#[derive(Debug)]
pub(crate) struct CsvTable {
    text: Text,
    delimiter: u8,
}

impl CsvTable {
    pub(crate) fn new(text: Text) -> CsvTable {
        let delimiter = sniff_delimiter(text.as_str());
        CsvTable { text, delimiter }
    }

    /// Line breaks in the file, plus one: at least the number of records.
    pub(crate) fn line_count(&self) -> usize {
        self.text.as_str().bytes().filter(|&b| b == b'\n').count() + 1
    }

    /// Calls `f` with each record and the line it starts on, as an editor numbers lines. Rows may
    /// have any number of fields: title rows above the header usually have one.
    ///
    /// The line is counted here rather than taken from the csv crate's record position, which
    /// points at the end of the previous record: one line too early after a CRLF (which Excel
    /// writes) or a skipped empty line.
    pub(crate) fn for_each_row(
        &self,
        mut f: impl FnMut(u64, TextRecord<'_>) -> ControlFlow<()>,
    ) -> Result<(), csv::Error> {
        let bytes = self.text.as_str().as_bytes();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(self.delimiter)
            .flexible(true)
            .from_reader(bytes);
        let mut record = ByteRecord::new();
        let (mut counted_to, mut line) = (0usize, 1u64);
        while reader.read_byte_record(&mut record)? {
            let mut start = record
                .position()
                .map_or(0, |p| p.byte() as usize)
                .min(bytes.len());
            // Step over the line ends (and skipped empty lines) in front of the record.
            while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
                start += 1;
            }
            if start > counted_to {
                line += line_breaks(&bytes[counted_to..start], bytes.get(start).copied());
                counted_to = start;
            }
            if f(line, TextRecord(&record)).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Line breaks in `bytes`: `\n`, `\r\n`, or a lone `\r` (old Mac files; the csv reader ends
/// records there too). `next` is the byte after the slice, to see a `\r\n` split across its end.
fn line_breaks(bytes: &[u8], next: Option<u8>) -> u64 {
    let mut n = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let following = bytes.get(i + 1).copied().or(next);
        if b == b'\n' || (b == b'\r' && following != Some(b'\n')) {
            n += 1;
        }
    }
    n
}

/// One record of a [`CsvTable`], its fields as text.
///
/// The fields are read as bytes and not checked for UTF-8 one by one (the csv crate's
/// `StringRecord` does, a tenth of the time of reading a large file): the whole text was valid
/// UTF-8 when the table was made, and the reader only splits it at ASCII bytes (delimiters,
/// quotes, line ends) and drops ASCII quotes, so every field is valid UTF-8 too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextRecord<'a>(&'a ByteRecord);

impl<'a> TextRecord<'a> {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        let bytes = self.0.get(i)?;
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: a field of a record read from a `str`, split at ASCII bytes (see above).
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }
}

pub(crate) fn cell(record: TextRecord<'_>, i: usize) -> Cell<'_> {
    match record.get(i) {
        Some(s) => Cell::Text(s),
        None => Cell::Empty,
    }
}
