//! Property tests: any sequence of annual files merges as a simple model says, and importing any
//! of them again changes nothing.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::*;
use gusu_core::{Figure, SourceRow, YearlyRecord};
use gusu_store::{BatchMeta, SourcePriority, Store};
use proptest::prelude::*;

const SOURCES: [&str; 4] = ["tax", "stats", "power", "land"];
const FIELDS: [Figure; 4] = [
    Figure::Revenue,
    Figure::TaxPaid,
    Figure::ElectricityKwh,
    Figure::LandAreaMu,
];
/// Few distinct values, so that restated (unchanged) values and agreements happen often.
const VALUES: [f64; 4] = [0.0, 1.0, 2.5, 1e6];

#[derive(Debug, Clone)]
struct Row {
    uscc: u32,
    year: i32,
    /// Per entry of FIELDS: blank or an index into VALUES.
    values: [Option<usize>; 4],
    above_scale: Option<bool>,
}

#[derive(Debug, Clone)]
struct Batch {
    source: usize,
    rows: Vec<Row>,
}

fn row() -> impl Strategy<Value = Row> {
    (
        0u32..4,
        2023i32..2025,
        proptest::array::uniform4(proptest::option::of(0usize..VALUES.len())),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(uscc, year, values, above_scale)| Row {
            uscc,
            year,
            values,
            above_scale,
        })
}

fn batch() -> impl Strategy<Value = Batch> {
    (
        0usize..SOURCES.len(),
        proptest::collection::vec(row(), 0..6),
    )
        .prop_map(|(source, rows)| Batch { source, rows })
}

/// Either the default priority or one that ranks two sources for revenue and none for land.
fn priority(custom: bool) -> SourcePriority {
    if custom {
        SourcePriority::default()
            .with("revenue_10k_yuan", &["tax", "stats"])
            .with("land_area_mu", &[])
    } else {
        SourcePriority::default()
    }
}

fn file(b: &Batch) -> Vec<SourceRow<YearlyRecord>> {
    b.rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let values: Vec<(Figure, f64)> = FIELDS
                .iter()
                .zip(r.values)
                .filter_map(|(&f, v)| v.map(|v| (f, VALUES[v])))
                .collect();
            let mut record = record(r.uscc, r.year, &values);
            record.above_scale = r.above_scale;
            SourceRow {
                row: i as u64 + 2,
                record,
            }
        })
        .collect()
}

fn batch_meta(i: usize, b: &Batch) -> BatchMeta {
    meta(SOURCES[b.source], &format!("file-{i}.csv"))
}

/// (uscc, year, field key, source) → (value, sequence number of the batch that set it).
type Model = BTreeMap<(u32, i32, String, String), (f64, usize)>;

fn apply(model: &mut Model, seq: usize, b: &Batch) {
    for r in &b.rows {
        let mut values: Vec<(&str, f64)> = FIELDS
            .iter()
            .zip(r.values)
            .filter_map(|(f, v)| v.map(|v| (f.key(), VALUES[v])))
            .collect();
        if let Some(flag) = r.above_scale {
            values.push(("above_scale", if flag { 1.0 } else { 0.0 }));
        }
        for (field, value) in values {
            let key = (
                r.uscc,
                r.year,
                field.to_string(),
                SOURCES[b.source].to_string(),
            );
            match model.get(&key) {
                // A restated value keeps the batch that first set it.
                Some(&(old, _)) if old == value => {}
                _ => {
                    model.insert(key, (value, seq));
                }
            }
        }
    }
}

/// (uscc, year, field key): the field of one enterprise and year.
type Key = (u32, i32, String);

/// The model's effective value per (uscc, year, field): the first listed source with a value,
/// else the most recently set one.
fn effective(model: &Model, p: &SourcePriority) -> HashMap<Key, (String, f64)> {
    let mut groups: HashMap<Key, Vec<(&str, f64, usize)>> = HashMap::new();
    for ((u, y, f, s), &(v, seq)) in model {
        groups
            .entry((*u, *y, f.clone()))
            .or_default()
            .push((s.as_str(), v, seq));
    }
    groups
        .into_iter()
        .map(|(key, cands)| {
            let ranked = p
                .sources(&key.2)
                .iter()
                .find_map(|s| cands.iter().find(|c| c.0 == s));
            let chosen = ranked
                .or_else(|| cands.iter().max_by_key(|c| c.2))
                .expect("non-empty group");
            (key, (chosen.0.to_string(), chosen.1))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn merge_follows_the_model_and_reimport_changes_nothing(
        batches in proptest::collection::vec(batch(), 1..8),
        custom in any::<bool>(),
        again in any::<proptest::sample::Index>(),
    ) {
        let mut store = Store::open_in_memory().unwrap();
        let p = priority(custom);
        store.set_priority(p.clone());
        let mut model = Model::new();
        for (i, b) in batches.iter().enumerate() {
            let s = store.import_annual(&batch_meta(i, b), &file(b)).unwrap();
            prop_assert!(!s.already_imported);
            apply(&mut model, i, b);
        }

        // Effective values equal the highest-priority source's current value.
        let expected = effective(&model, &p);
        let mut seen = 0;
        for year in store.years().unwrap() {
            for r in store.yearly_records(year).unwrap() {
                let i = (0..4).find(|&i| uscc(i) == r.uscc).unwrap();
                let one = store.yearly_record(&r.uscc, year).unwrap();
                prop_assert_eq!(one.as_ref(), Some(&r));
                for f in FIELDS {
                    let want = expected.get(&(i, year, f.key().to_string())).map(|e| e.1);
                    prop_assert_eq!(r.figures.get(f), want, "{} {} {}", i, year, f.key());
                    seen += usize::from(want.is_some());
                }
                let want = expected.get(&(i, year, "above_scale".to_string())).map(|e| e.1 != 0.0);
                prop_assert_eq!(r.above_scale, want);
                seen += usize::from(want.is_some());
            }
        }
        prop_assert_eq!(seen, expected.len(), "every model value appears in a record");

        // Conflicts: exactly the other sources' differing current values.
        let mut want_conflicts = Vec::new();
        for ((u, y, f, s), &(v, _)) in &model {
            let (used, used_value) = &expected[&(*u, *y, f.clone())];
            if s != used && v != *used_value {
                want_conflicts.push((*u, *y, f.clone(), used.clone(), s.clone(), v));
            }
        }
        want_conflicts.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        let mut got: Vec<_> = store
            .conflicts(None)
            .unwrap()
            .into_iter()
            .map(|c| {
                let i = (0..4).find(|&i| uscc(i) == c.uscc).unwrap();
                (i, c.year, c.field, c.used_source, c.other_source, c.other_value)
            })
            .collect();
        got.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        prop_assert_eq!(got, want_conflicts);

        // Importing any of the files again changes nothing at all.
        let watched: Vec<_> = (0..4)
            .flat_map(|i| [(uscc(i), 2023), (uscc(i), 2024)])
            .collect();
        let before = snapshot(&store, &watched);
        let k = again.index(batches.len());
        let s = store.import_annual(&batch_meta(k, &batches[k]), &file(&batches[k])).unwrap();
        prop_assert!(s.already_imported);
        prop_assert_eq!(s.batch_id, None);
        prop_assert_eq!(snapshot(&store, &watched), before);
    }
}
