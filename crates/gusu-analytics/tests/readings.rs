//! The readings dataset end to end: hand-made files imported, refused, re-imported, aggregated.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use gusu_analytics::{
    AggregateError, Granularity, ImportError, ImportOptions, Total, aggregate, dataset,
    explain_analyze, import_file, import_file_with,
};
use gusu_core::Uscc;
use parquet::arrow::ArrowWriter;
use proptest::prelude::*;
use rustc_hash::FxHashSet;

fn uscc(n: u32) -> String {
    // 9132058 + 10 digits = 17 characters; the 18th is the GB 32100 check character.
    Uscc::with_check_character(&format!("9132058{n:010}"))
        .unwrap()
        .as_str()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Every file of the dataset with its bytes: equal snapshots mean nothing changed.
fn snapshot(data: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let root = dataset::readings_dir(data);
    dataset::listing(&root)
        .unwrap()
        .into_iter()
        .map(|(p, _)| (p.clone(), std::fs::read(root.join(&p)).unwrap()))
        .collect()
}

fn totals(data: &Path, by: Granularity) -> Vec<Total> {
    let spill = tempfile::tempdir().unwrap();
    aggregate(data, 64 << 20, spill.path(), by).unwrap()
}

fn find<'a>(
    totals: &'a [Total],
    u: &str,
    carrier: &str,
    year: i32,
    month: Option<u32>,
) -> &'a Total {
    totals
        .iter()
        .find(|t| t.uscc == u && t.carrier == carrier && t.year == year && t.month == month)
        .unwrap_or_else(|| panic!("no total {u} {carrier} {year} {month:?} in {totals:#?}"))
}

/// The base file: two enterprises, electricity and gas, in local time, +08:00 and UTC.
fn base_csv() -> String {
    let (a, b) = (uscc(1), uscc(2));
    format!(
        "uscc,meter_id,carrier,ts,value,unit\n\
         {a},M1,electricity,2024-01-31 22:00:00,10,kwh\n\
         {a},M1,electricity,2024-01-31 23:00:00,20,kwh\n\
         {a},M1,electricity,2024-02-01 00:00:00,30,kwh\n\
         {a},M1,electricity,2024-02-01 01:00:00,40,kwh\n\
         {a},G1,natural_gas,2024-03-10T12:00:00+08:00,0.5,10k_nm3\n\
         {b},M9,electricity,2023-12-31 23:00:00+08:00,1.5,mwh\n\
         {b},M9,electricity,2024-01-01T00:00:00Z,2,mwh\n"
    )
}

#[test]
fn monthly_and_yearly_totals_equal_hand_sums() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = write(dir.path(), "readings.csv", &base_csv());
    let outcome = import_file(&file, &data, None).unwrap();
    assert!(outcome.committed(), "{:#?}", outcome.report);
    assert_eq!(outcome.imported, 7);
    assert_eq!(outcome.report.rows, 7);
    let parts: Vec<String> = dataset::listing(&dataset::readings_dir(&data))
        .unwrap()
        .iter()
        .map(|(p, _)| p.parent().unwrap().display().to_string())
        .collect();
    assert_eq!(
        parts,
        [
            "year=2023/month=12",
            "year=2024/month=01",
            "year=2024/month=02",
            "year=2024/month=03"
        ]
    );

    let (a, b) = (uscc(1), uscc(2));
    let monthly = totals(&data, Granularity::Month);
    assert_eq!(monthly.len(), 5);
    // January: 22:00 → 10, 23:00 → 20, and the reading at 00:00 on 1 February ends an interval of
    // 31 January, so it counts to January too: 10 + 20 + 30 = 60 kWh. February: 40 kWh.
    assert_eq!(find(&monthly, &a, "electricity", 2024, Some(1)).total, 60.0);
    assert_eq!(find(&monthly, &a, "electricity", 2024, Some(1)).readings, 3);
    assert_eq!(find(&monthly, &a, "electricity", 2024, Some(2)).total, 40.0);
    // Gas: 0.5 × 10,000 m³ = 5,000 m³, stored in m³.
    let gas = find(&monthly, &a, "natural_gas", 2024, Some(3));
    assert_eq!((gas.total, gas.unit.as_str()), (5_000.0, "m3"));
    // B: 1.5 MWh at 23:00 +08:00 on 31 Dec 2023 = 1,500 kWh in December 2023; 2 MWh at 00:00 UTC
    // on 1 Jan 2024 = 08:00 local, January 2024: 2,000 kWh.
    assert_eq!(
        find(&monthly, &b, "electricity", 2023, Some(12)).total,
        1_500.0
    );
    assert_eq!(
        find(&monthly, &b, "electricity", 2024, Some(1)).total,
        2_000.0
    );

    let yearly = totals(&data, Granularity::Year);
    // A electricity 2024: 60 + 40 = 100 kWh; A gas 2024: 5,000 m³; B: 1,500 (2023), 2,000 (2024).
    assert_eq!(yearly.len(), 4);
    assert_eq!(find(&yearly, &a, "electricity", 2024, None).total, 100.0);
    assert_eq!(find(&yearly, &a, "natural_gas", 2024, None).total, 5_000.0);
    assert_eq!(find(&yearly, &b, "electricity", 2023, None).total, 1_500.0);
    assert_eq!(find(&yearly, &b, "electricity", 2024, None).total, 2_000.0);

    // Those totals came from the run aggregation (the files are sorted by enterprise), with
    // DataFusion's final stage after it.
    for by in [Granularity::Month, Granularity::Year] {
        let spill = dir.path().join("spill");
        let plan = explain_analyze(&data, 64 << 20, &spill, by).unwrap();
        assert!(plan.contains("RunAggregateExec: mode=Partial"), "{plan}");
        assert!(
            plan.contains("AggregateExec: mode=FinalPartitioned"),
            "{plan}"
        );
    }
}

#[test]
fn the_same_file_twice_changes_nothing_and_a_different_value_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = write(dir.path(), "readings.csv", &base_csv());
    assert!(import_file(&file, &data, None).unwrap().committed());
    let before = snapshot(&data);

    let again = import_file(&file, &data, None).unwrap();
    assert!(again.committed());
    assert_eq!((again.imported, again.already_present), (0, 7));
    assert_eq!(snapshot(&data), before);

    // The same instant written three ways is the same reading: 08:00 local = 00:00 UTC.
    let b = uscc(2);
    let same = write(
        dir.path(),
        "same.csv",
        &format!(
            "uscc,meter_id,carrier,ts,value,unit\n\
             {b},M9,electricity,2024-01-01 08:00:00,2000,kwh\n\
             {b},M9,electricity,2024-01-01T08:00:00+08:00,2,mwh\n"
        ),
    );
    let same = import_file(&same, &data, None).unwrap();
    assert!(same.committed(), "{:#?}", same.report);
    assert_eq!((same.imported, same.already_present), (0, 2));
    assert_eq!(snapshot(&data), before);

    let a = uscc(1);
    let conflict = write(
        dir.path(),
        "conflict.csv",
        &format!(
            "uscc,meter_id,carrier,ts,value,unit\n\
             {a},M1,electricity,2024-02-01 02:00:00,50,kwh\n\
             {a},M1,electricity,2024-01-31 23:00:00,21,kwh\n"
        ),
    );
    let outcome = import_file(&conflict, &data, None).unwrap();
    assert!(!outcome.committed());
    assert_eq!(outcome.imported, 0);
    let issue = &outcome.report.issues[0];
    assert_eq!(issue.code, "conflicting_reading");
    assert_eq!(issue.row, Some(3));
    assert_eq!(issue.column.as_deref(), Some("value"));
    assert_eq!(issue.value.as_deref(), Some("21"));
    assert!(
        issue.reason.contains("already has 20 kwh in the dataset"),
        "{}",
        issue.reason
    );
    // The valid first row was not stored either: all or nothing.
    assert_eq!(snapshot(&data), before);
}

#[test]
fn a_csv_with_one_bad_last_line_leaves_the_dataset_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = write(dir.path(), "readings.csv", &base_csv());
    assert!(import_file(&file, &data, None).unwrap().committed());
    let before = snapshot(&data);

    let a = uscc(1);
    let mut text = String::from("uscc,meter_id,carrier,ts,value,unit\n");
    for h in 2..200 {
        text.push_str(&format!(
            "{a},M1,electricity,2024-02-{:02} {:02}:00:00,1,kwh\n",
            1 + h / 24,
            h % 24
        ));
    }
    // Line 200 of the file: cut off in the middle, as when a copy is interrupted.
    text.push_str(&format!("{a},M1,electricity,2024-02-09 09:0"));
    let bad = write(dir.path(), "bad.csv", &text);
    let outcome = import_file(&bad, &data, None).unwrap();
    assert!(!outcome.committed());
    assert_eq!(outcome.report.issues.len(), 1, "{:#?}", outcome.report);
    let issue = &outcome.report.issues[0];
    assert_eq!(issue.code, "malformed_row");
    assert_eq!(issue.row, Some(200));
    assert!(
        issue.reason.contains("4 fields, the header has 6"),
        "{}",
        issue.reason
    );
    assert_eq!(snapshot(&data), before);
    assert!(!data.join(".readings-staging").exists());
}

fn parquet_file(path: &Path, value: ArrayRef) {
    let a = uscc(3);
    let n = value.len();
    let text = |v: Vec<String>| Arc::new(StringArray::from(v)) as ArrayRef;
    let schema = Arc::new(Schema::new(vec![
        Field::new("uscc", DataType::Utf8, false),
        Field::new("meter_id", DataType::Utf8, false),
        Field::new("carrier", DataType::Utf8, false),
        Field::new("ts", DataType::Utf8, false),
        Field::new("value", value.data_type().clone(), false),
        Field::new("unit", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            text(vec![a; n]),
            text(vec!["P1".into(); n]),
            text(vec!["electricity".into(); n]),
            text(
                (0..n)
                    .map(|h| format!("2024-05-{:02} {:02}:00", 1 + h / 24, h % 24))
                    .collect(),
            ),
            value,
            text(vec!["kwh".into(); n]),
        ],
    )
    .unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn parquet_imports_and_a_truncated_or_mistyped_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = write(dir.path(), "readings.csv", &base_csv());
    assert!(import_file(&csv, &data, None).unwrap().committed());
    let before = snapshot(&data);

    // 500 hourly readings of 2 kWh from 2024-05-01 00:00 (the first counts to April).
    let good = dir.path().join("good.parquet");
    parquet_file(&good, Arc::new(Float64Array::from(vec![2.0; 500])));
    let bytes = std::fs::read(&good).unwrap();

    let truncated = dir.path().join("truncated.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let outcome = import_file(&truncated, &data, None).unwrap();
    assert!(!outcome.committed());
    assert_eq!(outcome.report.issues[0].code, "unreadable_file");
    assert!(
        outcome.report.issues[0]
            .reason
            .contains("not a readable Parquet file")
    );
    assert_eq!(snapshot(&data), before);

    let mistyped = dir.path().join("mistyped.parquet");
    parquet_file(&mistyped, Arc::new(StringArray::from(vec!["2"; 500])));
    let outcome = import_file(&mistyped, &data, None).unwrap();
    assert!(!outcome.committed());
    let issue = &outcome.report.issues[0];
    assert_eq!(issue.code, "wrong_type");
    assert_eq!(issue.column.as_deref(), Some("value"));
    assert!(
        issue.reason.contains("expected a number"),
        "{}",
        issue.reason
    );
    assert_eq!(snapshot(&data), before);

    let outcome = import_file(&good, &data, None).unwrap();
    assert!(outcome.committed(), "{:#?}", outcome.report);
    assert_eq!(outcome.imported, 500);
    let yearly = totals(&data, Granularity::Year);
    // 500 readings × 2 kWh = 1,000 kWh, all in 2024.
    assert_eq!(
        find(&yearly, &uscc(3), "electricity", 2024, None).total,
        1_000.0
    );
    let monthly = totals(&data, Granularity::Month);
    // April gets the one reading stamped 2024-05-01 00:00 (2 kWh), May the other 499 (998 kWh).
    assert_eq!(
        find(&monthly, &uscc(3), "electricity", 2024, Some(4)).total,
        2.0
    );
    assert_eq!(
        find(&monthly, &uscc(3), "electricity", 2024, Some(5)).total,
        998.0
    );
}

#[test]
fn every_bad_cell_is_named_with_row_column_value_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (a, stranger) = (uscc(1), uscc(77));
    let mut wrong_check = uscc(1);
    let last = if wrong_check.ends_with('0') { "1" } else { "0" };
    wrong_check.replace_range(17..18, last);
    let file = write(
        dir.path(),
        "bad.csv",
        &format!(
            "统一社会信用代码,表计编号,能源品种,时间,用量,单位\n\
             {a},M1,electricity,2024-01-01 01:00,5,kwh\n\
             {stranger},M1,electricity,2024-01-01 01:00,5,kwh\n\
             {a},M1,electricity,2024-01-01 02:00,5,m3\n\
             {a},M1,electricity,2024-01-01 03:00,-5,kwh\n\
             {a},M1,electricity,2024-01-01 04:00,1e12,kwh\n\
             {a},M1,coal,2024-01-01 05:00,5,t\n\
             {a},M1,electricity,2024-02-30 06:00,5,kwh\n\
             {wrong_check},M1,electricity,2024-01-01 07:00,5,kwh\n\
             {a},,electricity,2024-01-01 08:00,abc,kwh\n"
        ),
    );
    let known: FxHashSet<String> = [a.clone()].into_iter().collect();
    let outcome = import_file(&file, &data, Some(&known)).unwrap();
    assert!(!outcome.committed());
    let found: Vec<(u64, &str, &str, &str)> = outcome
        .report
        .issues
        .iter()
        .map(|i| {
            (
                i.row.unwrap(),
                i.column.as_deref().unwrap(),
                i.value.as_deref().unwrap(),
                i.code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (3, "uscc", stranger.as_str(), "unknown_enterprise"),
            (4, "unit", "m3", "unit_mismatch"),
            (5, "value", "-5", "negative_value"),
            (6, "value", "1e12", "impossible_value"),
            (7, "carrier", "coal", "unknown_carrier"),
            (8, "ts", "2024-02-30 06:00", "invalid_timestamp"),
            (9, "uscc", wrong_check.as_str(), "uscc_check_character"),
            (10, "meter_id", "", "missing_value"),
            (10, "value", "abc", "invalid_number"),
        ]
    );
    assert!(
        outcome
            .report
            .issues
            .iter()
            .all(|i| !i.reason.is_empty() && !i.reason_zh.is_empty())
    );
    assert!(snapshot(&data).is_empty());
}

#[test]
fn gaps_are_reported_against_the_meters_usual_interval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let a = uscc(1);
    let mut text = String::from("uscc,meter_id,carrier,ts,value,unit\n");
    // Hourly at 01-05 and 09-10: 06, 07 and 08 are missing. A daily meter with no gap beside it.
    for h in [1, 2, 3, 4, 5, 9, 10] {
        text.push_str(&format!("{a},H,electricity,2024-06-01 {h:02}:00,1,kwh\n"));
    }
    for d in 1..=5 {
        text.push_str(&format!("{a},D,electricity,2024-06-{d:02} 00:00,24,kwh\n"));
    }
    let file = write(dir.path(), "gaps.csv", &text);
    let outcome = import_file(&file, &data, None).unwrap();
    assert!(outcome.committed());
    assert_eq!(outcome.gaps.len(), 1, "{:#?}", outcome.gaps);
    let gap = &outcome.gaps[0];
    assert_eq!(
        (gap.meter_id.as_str(), gap.usual_interval_secs, gap.missing),
        ("H", 3600, 3)
    );
    assert_eq!(
        gusu_analytics::time::format_local(gap.after_micros),
        "2024-06-01 05:00:00+08:00"
    );
    assert_eq!(
        gusu_analytics::time::format_local(gap.before_micros),
        "2024-06-01 09:00:00+08:00"
    );

    // Filling the gap in a second file: the gaps are judged over stored and new readings together.
    let fill = write(
        dir.path(),
        "fill.csv",
        &format!(
            "uscc,meter_id,carrier,ts,value,unit\n\
             {a},H,electricity,2024-06-01 06:00,1,kwh\n\
             {a},H,electricity,2024-06-01 07:00,1,kwh\n\
             {a},H,electricity,2024-06-01 08:00,1,kwh\n"
        ),
    );
    let outcome = import_file(&fill, &data, None).unwrap();
    assert!(outcome.committed());
    assert!(outcome.gaps.is_empty(), "{:#?}", outcome.gaps);
}

/// `n` enterprises with one meter each and `hours` hourly readings of 1.5 kWh.
fn many(dir: &Path, n: u32, hours: u32) -> PathBuf {
    let mut text = String::from("uscc,meter_id,carrier,ts,value,unit\n");
    for e in 0..n {
        let u = uscc(100 + e);
        for h in 1..=hours {
            text.push_str(&format!(
                "{u},M,electricity,2024-07-{:02} {:02}:00,1.5,kwh\n",
                1 + h / 24,
                h % 24
            ));
        }
    }
    write(dir, "many.csv", &text)
}

#[test]
fn a_tiny_memory_pool_fails_with_a_clear_error_and_a_fair_one_gives_the_totals() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = many(dir.path(), 400, 48);
    assert!(import_file(&file, &data, None).unwrap().committed());
    let spill = dir.path().join("spill");
    let error = aggregate(&data, 4 << 10, &spill, Granularity::Month).unwrap_err();
    match &error {
        AggregateError::MemoryExhausted { pool_bytes, .. } => assert_eq!(*pool_bytes, 4096),
        other => panic!("expected MemoryExhausted, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("pool of 4096 bytes"), "{message}");
    assert!(message.contains("--memory-limit"), "{message}");

    let monthly = aggregate(&data, 64 << 20, &spill, Granularity::Month).unwrap();
    // 400 enterprises × 48 readings × 1.5 kWh, all in July: 72 kWh each.
    assert_eq!(monthly.len(), 400);
    assert!(
        monthly
            .iter()
            .all(|t| t.total == 72.0 && t.readings == 48 && t.month == Some(7))
    );

    // 1 MiB is far below DataFusion's default 10 MiB merge reservation of a sort; the query must
    // still finish inside it (the reservation scales with the pool) with the same totals.
    let small = aggregate(&data, 1 << 20, &spill, Granularity::Month).unwrap();
    assert_eq!(small, monthly);
}

/// A stored row: uscc, meter_id, carrier, ts, value, unit.
type StoredRow = (String, String, String, i64, f64, String);

/// Every stored row of the dataset, file by file.
fn stored_rows(data: &Path) -> Vec<Vec<StoredRow>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Float64Type, TimestampMicrosecondType};
    let root = dataset::readings_dir(data);
    let mut files = Vec::new();
    for (path, _) in dataset::listing(&root).unwrap() {
        let file = std::fs::File::open(root.join(path)).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let mut rows = Vec::new();
        for batch in reader {
            let b = batch.unwrap();
            let text = |i: usize| b.column(i).as_string::<i32>().clone();
            let (u, m, c, unit) = (text(0), text(1), text(2), text(5));
            let ts = b.column(3).as_primitive::<TimestampMicrosecondType>();
            let v = b.column(4).as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                rows.push((
                    u.value(i).to_string(),
                    m.value(i).to_string(),
                    c.value(i).to_string(),
                    ts.value(i),
                    v.value(i),
                    unit.value(i).to_string(),
                ));
            }
        }
        files.push(rows);
    }
    files
}

#[test]
fn a_small_pool_spills_and_stores_exactly_what_a_large_one_does() {
    let dir = tempfile::tempdir().unwrap();
    // 400 meters × 48 hourly readings = 19,200 rows, in enterprise order, July 2024.
    let file = many(dir.path(), 400, 48);
    let (large, small) = (dir.path().join("large"), dir.path().join("small"));
    let roomy = import_file(&file, &large, None).unwrap();
    assert!(roomy.committed());
    assert_eq!((roomy.imported, roomy.spilled_bytes), (19_200, 0));

    // 160 KiB: the dictionary of 400 meters takes about 80 KB, leaving chunks of about 2,500
    // records: 8 sorted runs, merged two at a time. Spills go to a folder of our choice.
    let spill = dir.path().join("spill");
    let tight = ImportOptions {
        memory_limit: 160 << 10,
        spill_dir: Some(spill.clone()),
    };
    let outcome = import_file_with(&file, &small, None, &tight).unwrap();
    assert!(outcome.committed(), "{:#?}", outcome.report);
    assert_eq!(outcome.imported, 19_200);
    assert!(
        outcome.spilled_bytes > 19_200 * 32,
        "{}",
        outcome.spilled_bytes
    );
    // The spill folder is left empty, and the stored rows are the same, sorted by uscc, meter, ts.
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
    let rows = stored_rows(&small);
    assert_eq!(rows, stored_rows(&large));
    assert_eq!(rows.len(), 1);
    let keys: Vec<_> = rows[0].iter().map(|r| (&r.0, &r.1, r.3)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(
        totals(&small, Granularity::Month),
        totals(&large, Granularity::Month)
    );

    // Again with the small pool: every reading is already there; one changed value conflicts.
    let before = snapshot(&small);
    let again = import_file_with(&file, &small, None, &tight).unwrap();
    assert!(again.committed());
    assert_eq!((again.imported, again.already_present), (0, 19_200));
    let mut text = std::fs::read_to_string(&file).unwrap();
    text = text.replacen(",1.5,kwh\n", ",1.6,kwh\n", 1);
    let changed = write(dir.path(), "changed.csv", &text);
    let outcome = import_file_with(&changed, &small, None, &tight).unwrap();
    assert!(!outcome.committed());
    let codes: Vec<_> = outcome
        .report
        .issues
        .iter()
        .map(|i| (i.code.as_str(), i.row))
        .collect();
    // The first data row is line 2 of the file.
    assert_eq!(codes, [("conflicting_reading", Some(2))]);
    assert_eq!(snapshot(&small), before);
}

#[test]
fn a_pool_too_small_for_the_files_meters_is_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let base = write(dir.path(), "readings.csv", &base_csv());
    assert!(import_file(&base, &data, None).unwrap().committed());
    let before = snapshot(&data);
    let file = many(dir.path(), 400, 2);
    let tiny = ImportOptions {
        memory_limit: 16 << 10,
        spill_dir: None,
    };
    let error = import_file_with(&file, &data, None, &tiny).unwrap_err();
    assert!(
        matches!(
            error,
            ImportError::MemoryExhausted {
                pool_bytes: 16_384,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("pool of 16384 bytes"), "{message}");
    assert!(message.contains("--memory-limit"), "{message}");
    assert_eq!(snapshot(&data), before);
    assert!(!data.join(".readings-staging").exists());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// For any readings, the months of a year sum to the year, and the year to the inputs.
    #[test]
    fn monthly_totals_sum_to_the_yearly_total(
        readings in prop::collection::btree_map(
            (0u32..3, 0i64..(2 * 366 * 24)),
            0u32..100_000,
            1..120,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let mut text = String::from("uscc,meter_id,carrier,ts,value,unit\n");
        let mut expected: std::collections::BTreeMap<(String, i32), f64> = Default::default();
        for ((e, hour), centi) in &readings {
            let ts = start + chrono::TimeDelta::hours(*hour);
            let value = f64::from(*centi) / 100.0;
            text.push_str(&format!("{},M,electricity,{},{value},kwh\n", uscc(*e), ts.format("%Y-%m-%d %H:%M")));
            let (year, _) = gusu_analytics::time::accounting_month(
                gusu_analytics::time::parse_ts(&ts.format("%Y-%m-%d %H:%M").to_string()).unwrap(),
            );
            *expected.entry((uscc(*e), year)).or_default() += value;
        }
        let file = write(dir.path(), "p.csv", &text);
        let outcome = import_file(&file, &data, None).unwrap();
        prop_assert!(outcome.committed());
        let monthly = totals(&data, Granularity::Month);
        let yearly = totals(&data, Granularity::Year);
        prop_assert_eq!(yearly.len(), expected.len());
        for y in &yearly {
            let months: f64 = monthly
                .iter()
                .filter(|m| m.uscc == y.uscc && m.year == y.year)
                .map(|m| m.total)
                .sum();
            prop_assert!((months - y.total).abs() < 1e-6, "{} {}: {months} vs {}", y.uscc, y.year, y.total);
            let input = expected[&(y.uscc.clone(), y.year)];
            prop_assert!((input - y.total).abs() < 1e-6);
        }
    }
}
