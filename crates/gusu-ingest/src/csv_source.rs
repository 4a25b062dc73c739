//! Delimited text files (CSV, and tab-separated text): decoding (UTF-8 with or without BOM,
//! UTF-16 with BOM, else GBK) and streaming records.

use std::ops::ControlFlow;

use csv::StringRecord;

use crate::cell::Cell;

/// Decodes a text table's bytes. Department exports come as UTF-8 (often with the BOM Excel
/// writes), as UTF-16 with its BOM (Excel's "Unicode text", tab-separated) or, from older Excel on
/// Chinese Windows, as GBK; anything else that is not valid UTF-8 is read as GBK (decoded as
/// GB18030, its superset). Fails on files that are not text at all.
pub(crate) fn decode(bytes: Vec<u8>) -> Result<String, ()> {
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
        text.into_owned()
    } else {
        match String::from_utf8(bytes) {
            Ok(mut s) => {
                if s.starts_with('\u{feff}') {
                    s.drain(..'\u{feff}'.len_utf8());
                }
                s
            }
            Err(e) => {
                let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(e.as_bytes());
                text.into_owned()
            }
        }
    };
    // Text files have no NUL characters; binaries (PDF, images) almost always do.
    if text.contains('\0') {
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
    text: String,
    delimiter: u8,
}

impl CsvTable {
    pub(crate) fn new(text: String) -> CsvTable {
        let delimiter = sniff_delimiter(&text);
        CsvTable { text, delimiter }
    }

    /// Line breaks in the file, plus one: at least the number of records.
    pub(crate) fn line_count(&self) -> usize {
        self.text.bytes().filter(|&b| b == b'\n').count() + 1
    }

    /// Calls `f` with each record and the line it starts on, as an editor numbers lines. Rows may
    /// have any number of fields: title rows above the header usually have one.
    ///
    /// The line is counted here rather than taken from the csv crate's record position, which
    /// points at the end of the previous record: one line too early after a CRLF (which Excel
    /// writes) or a skipped empty line.
    pub(crate) fn for_each_row(
        &self,
        mut f: impl FnMut(u64, &StringRecord) -> ControlFlow<()>,
    ) -> Result<(), csv::Error> {
        let bytes = self.text.as_bytes();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(self.delimiter)
            .flexible(true)
            .from_reader(bytes);
        let mut record = StringRecord::new();
        let (mut counted_to, mut line) = (0usize, 1u64);
        while reader.read_record(&mut record)? {
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
            if f(line, &record).is_break() {
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

pub(crate) fn cell(record: &StringRecord, i: usize) -> Cell<'_> {
    match record.get(i) {
        Some(s) => Cell::Text(s),
        None => Cell::Empty,
    }
}
