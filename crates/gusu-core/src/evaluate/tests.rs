//! Engine tests: the shipped schemes' own cases, and the invariants of ranking.

use super::*;
use crate::scheme::{SchemeLibrary, cases::run_cases};
use proptest::prelude::prop_oneof;
use proptest::strategy::Strategy;

#[test]
fn every_shipped_scheme_passes_its_own_cases() {
    let lib = SchemeLibrary::builtin().expect("shipped schemes load");
    let mut ran = 0;
    for scheme in lib.all() {
        assert!(
            !scheme.tests.is_empty(),
            "{} carries no test case",
            scheme.id()
        );
        for outcome in run_cases(scheme) {
            ran += 1;
            assert!(
                outcome.passed(),
                "{} / {}: {:#?}",
                outcome.scheme,
                outcome.case,
                outcome.failures
            );
        }
    }
    assert!(ran >= 3);
}

#[test]
fn competition_ranks() {
    assert_eq!(ranks_of(&[5.0, 7.0, 7.0, 1.0]), vec![3, 1, 1, 4]);
    assert_eq!(ranks_of(&[]), Vec::<u32>::new());
    assert_eq!(ranks_of(&[0.0, -0.0, 2.0]), vec![2, 2, 1]);
}

use crate::record::{Enterprise, Figure, Figures, YearlyRecord};
use crate::scheme::Scheme;
use crate::scheme::cases::test_uscc;
use chrono::NaiveDate;
use proptest::prelude::*;

fn library() -> SchemeLibrary {
    SchemeLibrary::builtin().unwrap()
}

fn standard() -> Scheme {
    library().select("jiangsu-standard", 2024).unwrap().clone()
}

fn enterprise(i: usize, above: bool, land: f64, district: &str) -> Enterprise {
    Enterprise {
        uscc: test_uscc(i),
        name: format!("e{i}"),
        district: district.to_string(),
        industry_code: "3911".into(),
        division: "39".into(),
        land_area_mu: Some(land),
        above_scale: above,
        established: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        exempt: false,
    }
}

fn record(i: usize, year: i32, figures: &[(Figure, f64)]) -> YearlyRecord {
    let mut f = Figures::default();
    for (k, v) in figures {
        f.set(*k, Some(*v));
    }
    YearlyRecord {
        figures: f,
        ..YearlyRecord::new(test_uscc(i), year)
    }
}

/// A small above-size group with spread-out figures.
fn city(taxes: &[f64]) -> (Vec<Enterprise>, Vec<YearlyRecord>) {
    let mut es = Vec::new();
    let mut rs = Vec::new();
    for (i, &tax) in taxes.iter().enumerate() {
        let district = if i % 2 == 0 { "320583" } else { "320571" };
        es.push(enterprise(i, true, 10.0 + i as f64, district));
        rs.push(record(
            i,
            2024,
            &[
                (Figure::TaxPaid, tax),
                (Figure::Revenue, 500.0 + 37.0 * i as f64),
                (Figure::EnergyTce, 20.0 + 3.0 * i as f64),
                (Figure::Cod, 0.5 + 0.1 * i as f64),
                (Figure::ValueAdded, 100.0 + 11.0 * i as f64),
                (Figure::Employees, 20.0 + i as f64),
                (Figure::RdExpense, 5.0 + (i % 7) as f64),
                (Figure::ElectricityKwh, 100_000.0 + 5_000.0 * i as f64),
            ],
        ));
    }
    (es, rs)
}

fn run(
    scheme: &Scheme,
    es: &[Enterprise],
    rs: &[YearlyRecord],
    district: Option<&str>,
) -> Evaluation {
    evaluate(
        scheme,
        &EvaluationInput {
            year: 2024,
            enterprises: es,
            records: rs,
            district,
        },
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Raising one enterprise's tax never lowers its own score or rank (its own benchmark rises too,
    /// but never as fast as its own value).
    #[test]
    fn raising_tax_never_lowers_own_score_or_rank(
        taxes in prop::collection::vec(0.0f64..500.0, 3..25),
        who in 0usize..25,
        raise in 0.0f64..1000.0,
    ) {
        let who = who % taxes.len();
        let scheme = standard();
        let (es, rs) = city(&taxes);
        let before = run(&scheme, &es, &rs, None);
        let mut raised = rs.clone();
        let t = raised[who].figures.get(Figure::TaxPaid).unwrap();
        raised[who].figures.set(Figure::TaxPaid, Some(t + raise));
        let after = run(&scheme, &es, &raised, None);
        let (b, a) = (&before.results[who], &after.results[who]);
        prop_assert!(a.score.unwrap() >= b.score.unwrap() - 1e-9, "score {} → {}", b.score.unwrap(), a.score.unwrap());
        prop_assert!(a.rank.unwrap() <= b.rank.unwrap());
    }

    /// Classes follow rank: a better rank never has a worse class; ties share class and rank.
    #[test]
    fn classes_follow_rank(taxes in prop::collection::vec(-50.0f64..500.0, 1..40)) {
        let scheme = standard();
        let (es, rs) = city(&taxes);
        let eval = run(&scheme, &es, &rs, None);
        let graded: Vec<_> = eval.results.iter().filter(|r| r.status == Status::Graded).collect();
        for a in &graded {
            for b in &graded {
                if a.rank < b.rank {
                    prop_assert!(a.class <= b.class, "rank {:?} class {:?} vs rank {:?} class {:?}", a.rank, a.class, b.rank, b.class);
                    prop_assert!(a.score > b.score);
                }
                if a.score == b.score {
                    prop_assert_eq!(a.rank, b.rank);
                    prop_assert_eq!(&a.class, &b.class);
                }
            }
        }
        // Class shares follow the bands: with n graded, A takes those with p < 0.2.
        let n = graded.len() as f64;
        for r in &graded {
            let p = (r.rank.unwrap() - 1) as f64 / n;
            let expected = if p < 0.2 { "A" } else if p < 0.6 { "B" } else if p < 0.95 { "C" } else { "D" };
            prop_assert_eq!(r.class.as_deref(), Some(expected));
        }
    }
}

#[test]
fn explain_finds_a_change_that_really_reaches_the_next_class() {
    let scheme = standard();
    let taxes: Vec<f64> = (0..30).map(|i| 10.0 + 7.0 * i as f64).collect();
    let (es, rs) = city(&taxes);
    let eval = run(&scheme, &es, &rs, None);
    // The lowest-ranked enterprise is D or C; find its lift and apply it.
    let worst = eval.results.iter().max_by_key(|r| r.rank).unwrap();
    let input = EvaluationInput {
        year: 2024,
        enterprises: &es,
        records: &rs,
        district: None,
    };
    let ex = explain::explain(&scheme, &input, &worst.uscc).unwrap();
    let next = ex.next_class.clone().expect("not class A");
    let tax_lift = ex
        .lifts
        .iter()
        .find(|l| l.figure == Figure::TaxPaid)
        .expect("tax is a lever");
    let to = tax_lift.to.expect("reachable by raising tax");
    let who = es.iter().position(|e| e.uscc == worst.uscc).unwrap();
    let mut changed = rs.clone();
    changed[who].figures.set(Figure::TaxPaid, Some(to));
    let after = run(&scheme, &es, &changed, None);
    assert_eq!(after.results[who].class.as_deref(), Some(next.as_str()));
    // And it is the smallest such change: 0.1% less does not reach it.
    changed[who].figures.set(
        Figure::TaxPaid,
        Some(tax_lift.from + (to - tax_lift.from) * 0.999),
    );
    let short = run(&scheme, &es, &changed, None);
    assert_ne!(short.results[who].class.as_deref(), Some(next.as_str()));
    // Every reachable lift really reaches the class it claims.
    for lift in ex.lifts.iter().filter(|l| l.to.is_some()) {
        let mut c = rs.clone();
        c[who].figures.set(lift.figure, lift.to);
        let r = run(&scheme, &es, &c, None);
        assert_eq!(
            r.results[who].class.as_deref(),
            lift.class_reached.as_deref(),
            "{:?}",
            lift.figure
        );
        assert_eq!(lift.class_reached.as_deref(), Some(next.as_str()));
    }
    assert!(ex.best.is_some());
}

#[test]
fn class_a_has_no_next_class() {
    let scheme = standard();
    let (es, rs) = city(&[10.0, 20.0, 900.0]);
    let eval = run(&scheme, &es, &rs, None);
    let best = eval.results.iter().find(|r| r.rank == Some(1)).unwrap();
    let input = EvaluationInput {
        year: 2024,
        enterprises: &es,
        records: &rs,
        district: None,
    };
    let ex = explain::explain(&scheme, &input, &best.uscc).unwrap();
    assert_eq!(ex.next_class, None);
    assert!(ex.lifts.is_empty());
}

#[test]
fn a_district_ranks_on_its_own() {
    let scheme = standard();
    let taxes: Vec<f64> = (0..10).map(|i| 10.0 * (i + 1) as f64).collect();
    let (es, rs) = city(&taxes);
    let city_eval = run(&scheme, &es, &rs, None);
    let kunshan = run(&scheme, &es, &rs, Some("320583"));
    assert_eq!(kunshan.results.len(), 5);
    assert!(kunshan.results.iter().all(|r| &*r.district == "320583"));
    assert_eq!(
        kunshan.results.iter().filter(|r| r.rank == Some(1)).count(),
        1
    );
    // In the city run each enterprise also carries its rank within its district.
    let mut ranks: Vec<u32> = city_eval
        .results
        .iter()
        .filter(|r| &*r.district == "320583")
        .map(|r| r.rank_in_district.unwrap())
        .collect();
    ranks.sort();
    assert_eq!(ranks, vec![1, 2, 3, 4, 5]);
}

#[test]
fn d_class_pays_the_suzhou_surcharge_of_the_application_year() {
    let scheme = standard();
    let taxes: Vec<f64> = (0..20).map(|i| 10.0 + 10.0 * i as f64).collect();
    let (es, rs) = city(&taxes);
    let eval = run(&scheme, &es, &rs, None);
    let d: Vec<_> = eval
        .results
        .iter()
        .filter(|r| r.class.as_deref() == Some("D"))
        .collect();
    assert_eq!(d.len(), 1, "n = 20: p ≥ 0.95 only for the last");
    let m = &d[0].measures[0];
    assert_eq!(m.applies_in, 2025);
    assert_eq!(m.rate, Some(0.30));
    let who = es.iter().position(|e| e.uscc == d[0].uscc).unwrap();
    let kwh = rs[who].figures.get(Figure::ElectricityKwh).unwrap();
    assert_eq!(m.amount, Some(0.30 * kwh));
    assert!(
        eval.results
            .iter()
            .filter(|r| r.class.as_deref() != Some("D"))
            .all(|r| r.measures.is_empty())
    );
    // Evaluation year 2018 applies in 2019 at 0.10 元/kWh.
    let mut rs2018 = rs.clone();
    for r in &mut rs2018 {
        r.year = 2018;
    }
    let eval = evaluate(
        &scheme,
        &EvaluationInput {
            year: 2018,
            enterprises: &es,
            records: &rs2018,
            district: None,
        },
    )
    .unwrap();
    let d = eval
        .results
        .iter()
        .find(|r| r.class.as_deref() == Some("D"))
        .unwrap();
    assert_eq!(d.measures[0].rate, Some(0.10));
}

#[test]
fn huangyan_has_benchmarks_for_2021_and_2022_only() {
    let lib = library();
    let (es, mut rs) = city(&[10.0, 20.0]);
    for r in &mut rs {
        r.year = 2023;
    }
    // The library refuses to select the 2022 scheme for 2023 ...
    assert!(lib.select("zhejiang-huangyan-2022", 2023).is_err());
    // ... and a scheme stretched to 2023 names the missing benchmark.
    let mut scheme = lib.select("zhejiang-huangyan-2022", 2022).unwrap().clone();
    scheme.valid_to = Some(2023);
    let err = evaluate(
        &scheme,
        &EvaluationInput {
            year: 2023,
            enterprises: &es,
            records: &rs,
            district: None,
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, EvaluationError::MissingBenchmark { indicator, year: 2023, .. } if indicator == "tax_per_mu"),
        "{err}"
    );
}

#[test]
fn huaian_without_prior_year_data_is_an_error() {
    let scheme = library()
        .select("jiangsu-huaian-2024", 2024)
        .unwrap()
        .clone();
    let (es, rs) = city(&[10.0, 20.0]);
    let err = evaluate(
        &scheme,
        &EvaluationInput {
            year: 2024,
            enterprises: &es,
            records: &rs,
            district: None,
        },
    )
    .unwrap_err();
    assert_eq!(
        err,
        EvaluationError::NoPriorYearData {
            scheme: scheme.id(),
            prior_year: 2023
        }
    );
}

#[test]
fn undefined_benchmark_scores_zero_for_everyone_with_a_warning() {
    let scheme = standard();
    // Nobody reports pollutants: tax_per_pollutant has no benchmark.
    let (es, mut rs) = city(&[10.0, 20.0, 30.0]);
    for r in &mut rs {
        r.figures.set(Figure::Cod, None);
    }
    let eval = run(&scheme, &es, &rs, None);
    for r in &eval.results {
        let p = r
            .indicators
            .iter()
            .find(|i| &*i.key == "tax_per_pollutant")
            .unwrap();
        assert_eq!(p.score, 0.0);
        assert!(
            r.warnings
                .iter()
                .any(|w| &**w == "benchmark_undefined:tax_per_pollutant"),
            "{:?}",
            r.warnings
        );
    }
}

#[test]
fn adjustments_and_thresholds_from_a_rules_document() {
    let text = r#"
[scheme]
name = "county-test"
version = "1"
issued = "2024-01-01"
title_zh = "测试"
title_en = "test"
valid_from = 2024
confidence = "L"

[[groups]]
key = "above"
name_zh = "规上"
name_en = "above"
above_scale = true
indicators = [ { key = "tax_per_mu", weight = 100, benchmark = { method = "fixed", values = { "2024" = 10.0 } }, max_score = 120 } ]

[classes]
rule = "score_thresholds"
bands = [ { class = "A", min_score = 100 }, { class = "B", min_score = 60 }, { class = "C" } ]

[[adjustments]]
key = "innovation"
name_zh = "创新加分"
name_en = "innovation bonus"
when = "has(figures.rd_expense_10k_yuan) && figures.rd_expense_10k_yuan >= 50.0"
points = "5.0"

[[adjustments]]
key = "chemicals"
name_zh = "化工扣分"
name_en = "chemicals penalty"
when = "division == '26'"
points = "-10"
"#;
    let scheme = Scheme::from_toml(text, "county-test.toml").unwrap();
    let mut es = vec![
        enterprise(0, true, 10.0, "320583"),
        enterprise(1, true, 10.0, "320583"),
        enterprise(2, true, 10.0, "320583"),
    ];
    es[2].division = "26".into();
    let rs = vec![
        // x = 20 → 200 points, capped at 120.
        record(0, 2024, &[(Figure::TaxPaid, 200.0)]),
        // x = 9.6 → 96 + 5 bonus = 101 → A.
        record(
            1,
            2024,
            &[(Figure::TaxPaid, 96.0), (Figure::RdExpense, 50.0)],
        ),
        // x = 6.5 → 65 − 10 = 55 → C.
        record(2, 2024, &[(Figure::TaxPaid, 65.0)]),
    ];
    let eval = run(&scheme, &es, &rs, None);
    let score = |i: usize| eval.results[i].score.unwrap();
    assert_eq!(score(0), 120.0);
    assert!((score(1) - 101.0).abs() < 1e-9);
    assert!((score(2) - 55.0).abs() < 1e-9);
    let classes: Vec<_> = eval
        .results
        .iter()
        .map(|r| r.class.clone().unwrap())
        .collect();
    assert_eq!(
        classes.iter().map(|c| &**c).collect::<Vec<_>>(),
        vec!["A", "A", "C"]
    );
}

#[test]
fn unknown_keys_are_errors_that_name_file_and_line() {
    let text = "[scheme]\nname = \"x\"\nversion = \"1\"\nissued = \"2024-01-01\"\ntitle_zh = \"x\"\ntitle_en = \"x\"\nvalid_from = 2024\nconfidence = \"L\"\nweigth = 3\n";
    let err = Scheme::from_toml(text, "rules/x.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("rules/x.toml"), "{err}");
    assert!(err.contains("line 9"), "{err}");
    assert!(err.contains("weigth"), "{err}");
}

#[test]
fn a_large_group_gets_the_published_class_shares() {
    // 20,000 enterprises with distinct totals: A takes exactly those with p < 0.2.
    let taxes: Vec<f64> = (0..20_000).map(|i| ((i * 7919) % 10_007) as f64).collect();
    let (es, rs) = city(&taxes);
    let eval = run(&standard(), &es, &rs, None);
    let a = eval
        .results
        .iter()
        .filter(|r| r.class.as_deref() == Some("A"))
        .count();
    assert_eq!(a, 4_000);
}

proptest::proptest! {
    /// Ranks are the definition, 1 + the number of strictly higher totals, for any totals
    /// (many ties included), in any subset.
    #[test]
    fn ranks_are_one_plus_the_strictly_higher_totals(
        totals in proptest::collection::vec(prop_oneof![(-5i32..5).prop_map(f64::from), -1e3..1e3f64], 0..200),
        ids in proptest::collection::vec(0u32..4, 200),
    ) {
        let naive = |of: &[f64], t: f64| 1 + of.iter().filter(|&&s| s > t).count() as u32;
        let ranks = ranks_of(&totals);
        for (i, &t) in totals.iter().enumerate() {
            proptest::prop_assert_eq!(ranks[i], naive(&totals, t));
        }
        let idx: Vec<usize> = (0..totals.len()).collect();
        let sub = sub_ranks(&idx, &totals, &ids[..totals.len()]);
        for (k, &t) in totals.iter().enumerate() {
            let same: Vec<f64> = (0..totals.len()).filter(|&j| ids[j] == ids[k]).map(|j| totals[j]).collect();
            proptest::prop_assert_eq!(sub[k], naive(&same, t));
        }
    }
}
