//! The readings dataset on disk: Parquet files under `<data>/readings/year=YYYY/month=MM/`
//! (Hive-style partitions of the Asia/Shanghai month a reading counts towards), one file per
//! import and partition, never rewritten.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The dataset's folder inside the data directory.
pub fn readings_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("readings")
}

/// Where an import stages its files before moving them in: beside the dataset (same file system,
/// so the move is a rename) but outside it, so a query never lists a half-written file.
pub fn staging_root(data_dir: &Path) -> PathBuf {
    data_dir.join(".readings-staging")
}

/// The partition folder of a month, relative to the dataset.
pub fn partition_path(year: i32, month: u32) -> PathBuf {
    PathBuf::from(format!("year={year}")).join(format!("month={month:02}"))
}

/// The columns of every stored file. `ts` is the end of the interval, in UTC; `value` is in the
/// carrier's stored unit (see `carrier::CARRIERS`), which `unit` names.
pub fn stored_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("uscc", DataType::Utf8, false),
        Field::new("meter_id", DataType::Utf8, false),
        Field::new("carrier", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("value", DataType::Float64, false),
        Field::new("unit", DataType::Utf8, false),
    ]))
}

/// The Parquet files of one partition, sorted by name.
pub fn partition_files(dataset: &Path, year: i32, month: u32) -> io::Result<Vec<PathBuf>> {
    let dir = dataset.join(partition_path(year, month));
    parquet_files_in(&dir)
}

fn parquet_files_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "parquet") {
                    files.push(path);
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    files.sort();
    Ok(files)
}

/// Every file under the dataset (relative path and size), sorted: what tests compare to prove an
/// import changed nothing.
pub fn listing(dataset: &Path) -> io::Result<Vec<(PathBuf, u64)>> {
    let mut out = Vec::new();
    walk(dataset, dataset, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, u64)>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            out.push((rel, entry.metadata()?.len()));
        }
    }
    Ok(())
}

/// True when the dataset holds at least one Parquet file.
pub fn has_files(dataset: &Path) -> io::Result<bool> {
    Ok(listing(dataset)?
        .iter()
        .any(|(p, _)| p.extension().is_some_and(|e| e == "parquet")))
}

/// Flushes a file's contents and then its directory entry to disk.
pub fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

pub fn sync_dir(path: &Path) -> io::Result<()> {
    // Directories can be opened and fsynced on Unix; elsewhere this is a no-op error we ignore.
    match File::open(path) {
        Ok(f) => f.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}
