//! A process killed (SIGKILL) in the middle of an import leaves the database exactly as before.
//!
//! The test re-runs its own binary as a child, selecting the `#[ignore]`d helper below with an
//! environment variable. The child reports progress from inside the import transaction; the
//! parent kills it mid-way, then reopens the file and compares everything a reader can see.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use gusu_core::Figure::{self, Employees, Revenue, TaxPaid};
use gusu_core::{SourceRow, YearlyRecord};
use gusu_store::{NewRun, Store, StoredResult};

const CHILD_ENV: &str = "GUSU_STORE_KILL_CHILD_DB";
const BIG_ROWS: u32 = 300_000;
/// The parent kills once the child has reported this many rows done (still writing: 100,000
/// rows and the commit are ahead of it).
const KILL_AFTER: usize = 200_000;
/// Safety net against a slow parent on a loaded machine: here the child stops and waits, still
/// inside its transaction, so that the kill always lands before the commit.
const CHILD_WAITS_AT: usize = 250_000;

/// 300,000 rows of 2024 and 2025: the first ones correct values the parent imported, the rest are
/// new enterprises.
fn big_file() -> Vec<SourceRow<YearlyRecord>> {
    (0..BIG_ROWS)
        .map(|i| {
            // Every figure: enough data that SQLite spills uncommitted pages into the WAL file
            // long before the commit, so the kill leaves a half-written transaction on disk.
            let values: Vec<(Figure, f64)> = Figure::ALL
                .iter()
                .map(|&f| (f, f64::from(i) * 1.5 + 7.0))
                .collect();
            SourceRow {
                row: u64::from(i) + 2,
                record: record(i, 2024 + (i % 2) as i32, &values),
            }
        })
        .collect()
}

#[test]
#[ignore = "helper run as a child process by sigkill_mid_import_leaves_previous_state"]
fn child_imports_until_killed() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let file = big_file();
    let mut store = Store::open(Path::new(&path)).expect("open");
    store.set_progress(Some(Box::new(|p| {
        let mut out = std::io::stdout().lock();
        if p.done == 0 {
            let _ = writeln!(out, "started");
        }
        let _ = writeln!(out, "progress {}", p.done);
        let _ = out.flush();
        if p.done == CHILD_WAITS_AT {
            std::thread::sleep(Duration::from_secs(120));
        }
    })));
    store
        .import_annual(&meta("stats", "big.csv"), &file)
        .expect("import");
    println!("done");
}

#[test]
fn sigkill_mid_import_leaves_previous_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gusu.db");

    // The state before: a register, two sources for 2024 (one conflict), a published run.
    let watched: Vec<_> = [0, 1, 2, 999].iter().map(|&i| (uscc(i), 2024)).collect();
    let before = {
        let mut store = Store::open(&path).unwrap();
        let register: Vec<_> = (0..1000)
            .map(|i| enterprise(i, &format!("企业{i}")))
            .collect();
        store
            .import_enterprises(&meta("bureau", "register.csv"), &rows(&register))
            .unwrap();
        let stats: Vec<_> = (0..1000)
            .map(|i| {
                record(
                    i,
                    2024,
                    &[(Revenue, f64::from(i) + 0.25), (Employees, 10.0)],
                )
            })
            .collect();
        store
            .import_annual(&meta("stats", "stats-2024.csv"), &rows(&stats))
            .unwrap();
        let tax: Vec<_> = (0..1000)
            .map(|i| record(i, 2024, &[(TaxPaid, 3.0), (Revenue, f64::from(i))]))
            .collect();
        store
            .import_annual(&meta("tax", "tax-2024.csv"), &rows(&tax))
            .unwrap();
        let run = store
            .save_run(
                &NewRun {
                    year: 2024,
                    scheme: "s".into(),
                    scheme_version: "1".into(),
                    region: None,
                    created_at: "2025-01-01T00:00:00Z".into(),
                },
                &[StoredResult {
                    uscc: uscc(1),
                    group: None,
                    status: "evaluated".into(),
                    class: Some("A".into()),
                    score: Some(88.5),
                    rank: Some(1),
                    detail_json: "{}".into(),
                }],
            )
            .unwrap();
        store.publish_run(run).unwrap();
        (snapshot(&store, &watched), table_counts(&path))
    };
    assert_eq!(before.0.conflicts.len(), 1000);

    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "child_imports_until_killed",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut started = false;
    let mut done_rows = 0;
    for line in lines.by_ref() {
        let line = line.unwrap();
        // libtest prints "test NAME ... " without a newline before the test's own output.
        if line.ends_with("started") {
            started = true;
        }
        if let Some(n) = line.strip_prefix("progress ") {
            done_rows = n.parse().unwrap();
            if done_rows >= KILL_AFTER {
                break;
            }
        }
        assert_ne!(line, "done", "the child finished before it could be killed");
    }
    assert!(started, "the child never began its import");
    std::thread::sleep(Duration::from_millis(20));
    child.0.kill().unwrap(); // SIGKILL on Unix: no destructor, no rollback by the child
    let status = child.0.wait().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        !rest.iter().any(|l| l == "done"),
        "import completed: {rest:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }
    // The parent's store was closed (WAL checkpointed and removed) before the child ran, so
    // whatever is in the WAL now is the child's uncommitted transaction.
    let wal = std::fs::metadata(dir.path().join("gusu.db-wal")).map_or(0, |m| m.len());
    eprintln!("killed after {done_rows} of {BIG_ROWS} rows; WAL left behind: {wal} bytes");
    assert!(
        wal > 0,
        "the uncommitted transaction never reached the disk"
    );

    // Recovery happens on open; the interrupted batch is gone without trace.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(snapshot(&store, &watched), before.0);
    assert!(
        store
            .batches()
            .unwrap()
            .iter()
            .all(|b| b.file_name != "big.csv")
    );
    assert_eq!(store.runs(None).unwrap().len(), 1);
    drop(store);
    assert_eq!(table_counts(&path), before.1);
}

/// Kills the child if the test fails before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Row counts of every table, read with plain SQLite.
fn table_counts(path: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let n = conn
                .query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap();
            (t, n)
        })
        .collect()
}
