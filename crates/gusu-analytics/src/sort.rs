//! An external sort of fixed-width reading records in bounded memory, for the import's duplicate,
//! conflict and gap checks.
//!
//! Records are 32 bytes (meter number, carrier code, time, value, source line). The sorter holds
//! at most `chunk_records` of them; when full it sorts the chunk and writes it as a *run* file in
//! the spill folder. `finish` then merges the runs with a heap (k-way), at most `fan_in` at a time:
//! with more runs than that, groups of `fan_in` are first merged into longer runs (a multi-pass
//! merge), so the merge's read buffers stay within the same budget however large the input.
//! Everything that fits in one chunk never touches the disk.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Bytes of one record on disk and in memory (the struct is 32 bytes with its padding).
pub const RECORD_BYTES: usize = 32;
/// Records a run reader decodes at a time: 64 KiB of file per reader.
pub const READ_BLOCK_RECORDS: usize = 2_048;

/// One reading as the import checks it. `line` is the row of the imported file it came from, or
/// 0 for a reading already stored, so that a stored reading sorts before the file's of the same
/// meter and time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    pub meter: u32,
    pub carrier: u8,
    pub ts: i64,
    pub value: f64,
    pub line: u64,
}

impl Record {
    #[inline]
    pub fn key(&self) -> (u32, i64, u64) {
        (self.meter, self.ts, self.line)
    }

    fn encode(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&self.meter.to_le_bytes());
        out[4] = self.carrier;
        out[5..8].fill(0);
        out[8..16].copy_from_slice(&self.ts.to_le_bytes());
        out[16..24].copy_from_slice(&self.value.to_le_bytes());
        out[24..32].copy_from_slice(&self.line.to_le_bytes());
    }

    fn decode(b: &[u8]) -> Record {
        let word = |at: usize| <[u8; 8]>::try_from(&b[at..at + 8]).expect("8 bytes");
        Record {
            meter: u32::from_le_bytes(b[0..4].try_into().expect("4 bytes")),
            carrier: b[4],
            ts: i64::from_le_bytes(word(8)),
            value: f64::from_le_bytes(word(16)),
            line: u64::from_le_bytes(word(24)),
        }
    }
}

/// Appends records to a file, unsorted or sorted, through a 64 KiB buffer.
pub struct RecordWriter {
    out: BufWriter<File>,
    block: Vec<u8>,
    pub path: PathBuf,
    pub records: u64,
}

impl RecordWriter {
    pub fn create(path: PathBuf) -> io::Result<RecordWriter> {
        let file = File::create(&path)?;
        Ok(RecordWriter {
            out: BufWriter::with_capacity(READ_BLOCK_RECORDS * RECORD_BYTES, file),
            block: vec![0; RECORD_BYTES],
            path,
            records: 0,
        })
    }

    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        r.encode(&mut self.block);
        self.records += 1;
        self.out.write_all(&self.block)
    }

    pub fn finish(mut self) -> io::Result<(PathBuf, u64)> {
        self.out.flush()?;
        Ok((self.path, self.records))
    }
}

/// Reads a record file from the start, a block at a time.
pub struct RecordReader {
    input: BufReader<File>,
    bytes: Vec<u8>,
    block: Vec<Record>,
    next: usize,
    left: u64,
}

impl RecordReader {
    pub fn open(path: &Path, records: u64) -> io::Result<RecordReader> {
        Ok(RecordReader {
            input: BufReader::with_capacity(0, File::open(path)?),
            bytes: vec![0; READ_BLOCK_RECORDS * RECORD_BYTES],
            block: Vec::with_capacity(READ_BLOCK_RECORDS),
            next: 0,
            left: records,
        })
    }

    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        if self.next == self.block.len() {
            if self.left == 0 {
                return Ok(None);
            }
            let n = (self.left as usize).min(READ_BLOCK_RECORDS);
            let bytes = &mut self.bytes[..n * RECORD_BYTES];
            self.input.read_exact(bytes)?;
            self.block.clear();
            self.block
                .extend(bytes.chunks_exact(RECORD_BYTES).map(Record::decode));
            self.left -= n as u64;
            self.next = 0;
        }
        let r = self.block[self.next];
        self.next += 1;
        Ok(Some(r))
    }
}

/// Sorts records by (meter, ts, line) in at most `chunk_records` records of memory.
pub struct Sorter {
    dir: PathBuf,
    chunk: Vec<Record>,
    chunk_records: usize,
    fan_in: usize,
    runs: Vec<(PathBuf, u64)>,
    seq: u32,
    /// Bytes written to run files, for the report.
    pub spilled_bytes: u64,
}

impl Sorter {
    /// `chunk` may already hold records (it is sorted with the rest); its capacity is kept.
    pub fn new(dir: PathBuf, chunk: Vec<Record>, chunk_records: usize, fan_in: usize) -> Sorter {
        Sorter {
            dir,
            chunk,
            chunk_records: chunk_records.max(1),
            fan_in: fan_in.max(2),
            runs: Vec::new(),
            seq: 0,
            spilled_bytes: 0,
        }
    }

    pub fn push(&mut self, r: Record) -> io::Result<()> {
        if self.chunk.len() >= self.chunk_records {
            self.spill()?;
        }
        grow_within(&mut self.chunk, self.chunk_records);
        self.chunk.push(r);
        Ok(())
    }

    fn next_path(&mut self) -> PathBuf {
        self.seq += 1;
        self.dir.join(format!("run-{:06}.bin", self.seq))
    }

    fn spill(&mut self) -> io::Result<()> {
        self.chunk.sort_unstable_by_key(Record::key);
        let mut w = RecordWriter::create(self.next_path())?;
        for r in &self.chunk {
            w.write(r)?;
        }
        let run = w.finish()?;
        self.spilled_bytes += run.1 * RECORD_BYTES as u64;
        self.runs.push(run);
        self.chunk.clear();
        Ok(())
    }

    /// All records in order, and the bytes written to run files in all. Runs are merged down to
    /// at most `fan_in` first. Records that fill at most half a chunk stay in memory; more are
    /// spilled as a run, so that whoever reads the records has half the budget for itself.
    pub fn finish(mut self) -> io::Result<(Sorted, u64)> {
        // Kept in memory only when at most half the chunk: the other half is the reader's budget.
        if self.runs.is_empty() && self.chunk.len() <= self.chunk_records / 2 {
            self.chunk.sort_unstable_by_key(Record::key);
            let records = std::mem::take(&mut self.chunk).into_iter();
            return Ok((Sorted::Memory(records), 0));
        }
        if !self.chunk.is_empty() {
            self.spill()?;
        }
        // The chunk's memory goes back before the merge buffers are taken.
        self.chunk = Vec::new();
        while self.runs.len() > self.fan_in {
            let group: Vec<(PathBuf, u64)> = self.runs.drain(..self.fan_in).collect();
            let mut merge = Merge::new(&group)?;
            let mut w = RecordWriter::create(self.next_path())?;
            while let Some(r) = merge.next_record()? {
                w.write(&r)?;
            }
            let run = w.finish()?;
            self.spilled_bytes += run.1 * RECORD_BYTES as u64;
            for (path, _) in &group {
                std::fs::remove_file(path)?;
            }
            self.runs.push(run);
        }
        Ok((Sorted::Runs(Merge::new(&self.runs)?), self.spilled_bytes))
    }
}

/// Grows a vector by doubling but never past `limit` records, so its memory stays in the budget.
pub fn grow_within(v: &mut Vec<Record>, limit: usize) {
    if v.len() == v.capacity() && v.capacity() < limit {
        let target = (v.capacity() * 2).max(1_024).min(limit);
        v.reserve_exact(target - v.len());
    }
}

/// The sorted records: from memory, or merged from runs.
pub enum Sorted {
    Memory(std::vec::IntoIter<Record>),
    Runs(Merge),
}

impl Sorted {
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        match self {
            Sorted::Memory(it) => Ok(it.next()),
            Sorted::Runs(m) => m.next_record(),
        }
    }
}

/// A record's sort key and the run it came from, smallest first in the heap.
type Head = Reverse<((u32, i64, u64), usize)>;

/// A k-way merge of sorted runs.
pub struct Merge {
    readers: Vec<RecordReader>,
    heap: BinaryHeap<Head>,
    heads: Vec<Option<Record>>,
}

impl Merge {
    fn new(runs: &[(PathBuf, u64)]) -> io::Result<Merge> {
        let mut readers = Vec::with_capacity(runs.len());
        let mut heap = BinaryHeap::with_capacity(runs.len());
        let mut heads = Vec::with_capacity(runs.len());
        for (i, (path, n)) in runs.iter().enumerate() {
            let mut reader = RecordReader::open(path, *n)?;
            let head = reader.next_record()?;
            if let Some(r) = &head {
                heap.push(Reverse((r.key(), i)));
            }
            heads.push(head);
            readers.push(reader);
        }
        Ok(Merge {
            readers,
            heap,
            heads,
        })
    }

    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        let Some(Reverse((_, i))) = self.heap.pop() else {
            return Ok(None);
        };
        let out = self.heads[i].take();
        let next = self.readers[i].next_record()?;
        if let Some(r) = &next {
            self.heap.push(Reverse((r.key(), i)));
        }
        self.heads[i] = next;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(meter: u32, ts: i64, line: u64) -> Record {
        Record {
            meter,
            carrier: 1,
            ts,
            value: ts as f64 * 0.5,
            line,
        }
    }

    fn drain((mut s, _): (Sorted, u64)) -> Vec<Record> {
        let mut out = Vec::new();
        while let Some(r) = s.next_record().unwrap() {
            out.push(r);
        }
        out
    }

    #[test]
    fn records_round_trip_through_their_bytes() {
        let r = Record {
            meter: 7,
            carrier: 3,
            ts: -1_709_222_400_000_000,
            value: 12.25,
            line: 1 << 40,
        };
        let mut b = [0u8; RECORD_BYTES];
        r.encode(&mut b);
        assert_eq!(Record::decode(&b), r);
        assert_eq!(std::mem::size_of::<Record>(), RECORD_BYTES);
    }

    #[test]
    fn many_small_runs_merge_in_several_passes_to_the_in_memory_order() {
        // 10,000 records in chunks of 64 = 157 runs, merged 3 at a time until 3 are left.
        let dir = tempfile::tempdir().unwrap();
        let mut input = Vec::new();
        let mut x: u64 = 12345;
        for line in 0..10_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            input.push(record((x >> 40) as u32 % 50, (x >> 20) as i64 % 300, line));
        }
        let mut sorter = Sorter::new(dir.path().to_path_buf(), Vec::new(), 64, 3);
        for r in &input {
            sorter.push(*r).unwrap();
        }
        // 156 full chunks spill while pushing (9,984 records); the last 16 at the end.
        assert_eq!(sorter.spilled_bytes, 9_984 * RECORD_BYTES as u64);
        let (sorted, spilled) = sorter.finish().unwrap();
        // Every record is written once as a run and again by each merge pass it goes through.
        assert!(spilled > 2 * 10_000 * RECORD_BYTES as u64, "{spilled}");
        let merged = drain((sorted, spilled));
        let mut expected = input.clone();
        expected.sort_by_key(Record::key);
        assert_eq!(merged, expected);
        // Merged groups' files are removed: at most the three last runs remain.
        assert!(std::fs::read_dir(dir.path()).unwrap().count() <= 3);
    }

    #[test]
    fn what_fits_in_one_chunk_stays_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut sorter = Sorter::new(dir.path().to_path_buf(), vec![record(2, 1, 1)], 6, 4);
        sorter.push(record(1, 5, 2)).unwrap();
        sorter.push(record(1, 5, 0)).unwrap();
        let out = drain(sorter.finish().unwrap());
        assert_eq!(
            out.iter().map(Record::key).collect::<Vec<_>>(),
            [(1, 5, 0), (1, 5, 2), (2, 1, 1)]
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
