//! The shipped policies compute their own cases; the loader refuses bad documents with file and
//! line.

use std::collections::BTreeMap;

use super::*;

#[test]
fn every_shipped_policy_computes_its_own_cases() {
    let library = PolicyLibrary::embedded().unwrap();
    assert_eq!(library.policies.len(), EMBEDDED.len());
    let mut failures = Vec::new();
    for p in &library.policies {
        assert!(!p.document.test.is_empty(), "{} has no cases", p.id);
        failures.extend(run_cases(p, &library));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn shipped(id: &str) -> String {
    EMBEDDED
        .iter()
        .find(|(f, _)| *f == format!("{id}.toml"))
        .map(|(_, t)| t.to_string())
        .unwrap()
}

fn load_error(text: &str) -> PolicyError {
    Policy::from_toml(text, "x.toml").unwrap_err()
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let text = shipped("suzhou-zgsz-loan-interest").replace(
        "delivery = \"apply\"",
        "delivery = \"apply\"\ndeliver_by = \"post\"",
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("deliver_by"))
        .unwrap()
        + 1;
    let e = load_error(&text);
    assert_eq!((e.file.as_str(), e.line), ("x.toml", line), "{e}");
    assert!(e.message.contains("deliver_by"), "{e}");
}

#[test]
fn a_bad_date_is_refused_with_its_line() {
    let text = shipped("suzhou-zgsz-loan-interest")
        .replace("valid_to = \"2023-12-31\"", "valid_to = \"2023-13-31\"");
    let line = text.lines().position(|l| l.contains("2023-13-31")).unwrap() + 1;
    let e = load_error(&text);
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("2023-13-31"), "{e}");
}

#[test]
fn a_condition_reading_an_unknown_fact_or_parameter_is_refused() {
    let text = shipped("suzhou-zgsz-loan-interest").replace(
        "when = \"kind == 'smart_transformation'\"",
        "when = \"purpose == 'smart_transformation'\"",
    );
    let line = text.lines().position(|l| l.contains("purpose ==")).unwrap() + 1;
    let e = load_error(&text);
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("`purpose`"), "{e}");
    let text = shipped("suzhou-zgsz-loan-interest").replace(
        "firm_cap_per_year = \"firm_cap_10k_yuan\"",
        "firm_cap_per_year = \"firm_cap\"",
    );
    let e = load_error(&text);
    assert!(e.message.contains("no parameter `firm_cap`"), "{e}");
}

#[test]
fn versions_follow_each_other_and_end_where_the_next_begins() {
    let library = PolicyLibrary::embedded().unwrap();
    let p = library
        .policies
        .iter()
        .find(|p| p.id == "jiangsu-manufacturing-loan-interest")
        .unwrap();
    let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(p.version_on(d("2024-08-22")).unwrap().id, "2024.03");
    assert_eq!(p.version_on(d("2024-08-23")).unwrap().id, "2024.08");
    assert_eq!(p.version_on(d("2026-12-31")).unwrap().id, "2026.01");
    assert!(p.version_on(d("2027-01-01")).is_none());
    assert!(p.version_on(d("2024-02-29")).is_none());
    let text = shipped("jiangsu-manufacturing-loan-interest")
        .replace("valid_from = \"2025-02-11\"", "valid_from = \"2024-01-11\"");
    assert!(load_error(&text).message.contains("must start after"));
}

#[test]
fn a_designation_holds_from_recognition_to_expiry() {
    let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let z = Designation {
        designation: "zjtx".into(),
        level: "provincial".into(),
        recognised: d("2024-01-01"),
        expires: Some(d("2026-12-31")),
    };
    assert!(!z.holds_on(d("2023-12-31")));
    assert!(z.holds_on(d("2024-01-01")));
    assert!(z.holds_on(d("2026-12-31")));
    assert!(!z.holds_on(d("2027-01-01")));
}

#[test]
fn a_decision_traces_each_condition_with_the_facts_it_read() {
    let library = PolicyLibrary::embedded().unwrap();
    let e = EnterpriseFacts {
        uscc: "u".into(),
        district: "320505".into(),
        division: Some(52),
        established: NaiveDate::from_ymd_opt(2010, 1, 1),
        designations: None,
        ..EnterpriseFacts::default()
    };
    let p = ProjectFacts {
        project_id: "p".into(),
        uscc: "u".into(),
        kind: Some("smart_transformation".into()),
        date: NaiveDate::from_ymd_opt(2022, 5, 1),
        loan_10k_yuan: Some(1000.0),
        ..ProjectFacts::default()
    };
    let decisions = decide_projects(&library, &BTreeMap::from([("u".to_string(), e)]), &[p]);
    let d = decisions
        .iter()
        .find(|d| d.policy == "suzhou-zgsz-loan-interest")
        .unwrap();
    assert_eq!(d.status, Status::NotEligible);
    assert_eq!(d.reasons, vec!["industrial".to_string()]);
    let industrial = d.trace.iter().find(|t| t.id == "industrial").unwrap();
    assert_eq!(industrial.outcome, Truth::False);
    assert_eq!(
        industrial.facts,
        vec![("division".to_string(), "52".to_string())]
    );
}

#[test]
fn every_document_in_rules_policies_is_shipped() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/policies");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".toml"))
        .collect();
    files.sort();
    let embedded: Vec<&str> = EMBEDDED.iter().map(|(f, _)| *f).collect();
    assert_eq!(files, embedded);
}

/// A small document with derived facts, for loader and stacking tests.
fn with_derived(facts: &str) -> String {
    format!(
        r#"[policy]
id = "t"
title_zh = "t"
title_en = "t"
issuer = "t"
subject = "project"
delivery = "apply"
confidence = "L"
region = "3205"
{facts}
[[version]]
id = "1"
valid_from = "2024-01-01"
document = "t"
published = "t"
confidence = "L"

[version.amount]
formula = "loan_10k_yuan"
article = "t"
"#
    )
}

#[test]
fn a_cycle_between_derived_facts_is_refused_with_its_line() {
    let text = with_derived(
        "[[fact]]\nname = \"a\"\nformula = \"b + 1.0\"\narticle = \"t\"\n\n[[fact]]\nname = \"b\"\nformula = \"a * 2.0\"\narticle = \"t\"\n",
    );
    let e = load_error(&text);
    assert!(e.message.contains("cycle"), "{e}");
    let line = text.lines().position(|l| l == "name = \"a\"").unwrap() + 1;
    assert_eq!(e.line, line, "{e}");
    // A fact reading itself is a cycle too; a chain is not.
    assert!(
        load_error(&with_derived(
            "[[fact]]\nname = \"a\"\nformula = \"a + 1.0\"\narticle = \"t\"\n"
        ))
        .message
        .contains("cycle")
    );
    let chain = with_derived(
        "[[fact]]\nname = \"b\"\nformula = \"a * 2.0\"\narticle = \"t\"\n\n[[fact]]\nname = \"a\"\nformula = \"loan_10k_yuan + 1.0\"\narticle = \"t\"\n",
    );
    let p = Policy::from_toml(&chain, "x.toml").unwrap();
    assert_eq!(p.derived_order, vec![1, 0]);
}

#[test]
fn a_type_slip_is_refused_with_its_line() {
    let text = shipped("suzhou-zgsz-loan-interest").replace(
        "when = \"division >= 6.0 && division <= 46.0\"",
        "when = \"division >= '6'\"",
    );
    let line = text
        .lines()
        .position(|l| l.contains("division >= '6'"))
        .unwrap()
        + 1;
    let e = load_error(&text);
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("compared"), "{e}");
}

/// Two policies of one stacking group over the same project.
fn stacking_pair(rule: &str, cap: &str) -> PolicyLibrary {
    let doc = |id: &str, rate: f64| {
        format!(
            r#"[policy]
id = "{id}"
title_zh = "t"
title_en = "t"
issuer = "t"
subject = "project"
delivery = "apply"
confidence = "L"
region = "3205"
stacking = {{ group = "g", rule = "{rule}", {cap} article = "t" }}

[[parameter]]
name = "rate"
unit = "比例"
article = "t"
confidence = "L"
values = [{{ from = "2024-01-01", value = {rate} }}]

[[parameter]]
name = "group_cap"
unit = "万元"
article = "t"
confidence = "L"
values = [{{ from = "2024-01-01", value = 150 }}]

[[version]]
id = "1"
valid_from = "2024-01-01"
document = "t"
published = "t"
confidence = "L"

[version.amount]
formula = "rate * loan_10k_yuan"
article = "t"
"#
        )
    };
    let files = [("a.toml", doc("a", 0.01)), ("b.toml", doc("b", 0.02))];
    PolicyLibrary {
        policies: files
            .iter()
            .map(|(f, t)| Policy::from_toml(t, f).unwrap())
            .collect(),
    }
}

fn decide_pair(library: &PolicyLibrary) -> Vec<Decision> {
    let e = EnterpriseFacts {
        uscc: "u".into(),
        district: "320505".into(),
        division: Some(30),
        ..EnterpriseFacts::default()
    };
    let projects: Vec<ProjectFacts> = ["p", "q"]
        .iter()
        .map(|id| ProjectFacts {
            project_id: id.to_string(),
            uscc: "u".into(),
            date: NaiveDate::from_ymd_opt(2024, 5, 1),
            loan_10k_yuan: Some(5000.0),
            ..ProjectFacts::default()
        })
        .collect();
    decide_projects(library, &BTreeMap::from([("u".to_string(), e)]), &projects)
}

fn amounts(ds: &[Decision], project: &str) -> (Option<f64>, Option<f64>) {
    let of = |policy: &str| {
        ds.iter()
            .find(|d| d.policy == policy && d.project_id.as_deref() == Some(project))
            .unwrap()
            .amount_10k_yuan
    };
    (of("a"), of("b"))
}

#[test]
fn stacking_highest_pays_the_higher_of_a_group_per_project() {
    // a: 1% × 5000 = 50; b: 2% × 5000 = 100. 就高: b alone, for each project.
    let ds = decide_pair(&stacking_pair("highest", ""));
    assert_eq!(amounts(&ds, "p"), (Some(0.0), Some(100.0)));
    assert_eq!(amounts(&ds, "q"), (Some(0.0), Some(100.0)));
    let a = ds.iter().find(|d| d.policy == "a").unwrap();
    assert_eq!(a.caps, vec!["stacking".to_string()]);
    assert_eq!(a.stacking, "g:highest");
}

#[test]
fn stacking_cumulative_cap_binds_a_group_per_enterprise_and_year() {
    // 50 + 100 per project, two projects: 300 in 2024 against a group cap of 150: × 1/2.
    let ds = decide_pair(&stacking_pair("cumulative_cap", "cap = \"group_cap\","));
    assert_eq!(amounts(&ds, "p"), (Some(25.0), Some(50.0)));
    assert_eq!(amounts(&ds, "q"), (Some(25.0), Some(50.0)));
    // Cumulative (the sources say they add): nothing is reduced.
    let ds = decide_pair(&stacking_pair("cumulative", ""));
    assert_eq!(amounts(&ds, "p"), (Some(50.0), Some(100.0)));
}

#[test]
fn every_shipped_policy_has_a_case_of_each_status_and_of_each_cap_it_can_reach() {
    let library = PolicyLibrary::embedded().unwrap();
    for p in &library.policies {
        let expected: Vec<&document::TestExpect> =
            p.document.test.iter().flat_map(|t| &t.expect).collect();
        for status in ["eligible", "not_eligible", "needs_information"] {
            assert!(
                expected.iter().any(|x| x.status == status),
                "{} has no {status} case",
                p.id
            );
        }
        let has_cap = p
            .versions
            .iter()
            .any(|v| v.amount.project_cap.is_some() || v.amount.firm_cap_per_year.is_some());
        // A cap binds only a published amount.
        let published = p.versions.iter().any(|v| v.amount.published());
        if has_cap && published {
            assert!(
                expected.iter().any(|x| x.capped),
                "{} has a cap and no case reaching it",
                p.id
            );
        }
    }
}

#[test]
fn the_differences_between_versions_are_named() {
    let library = PolicyLibrary::embedded().unwrap();
    let p = library.get("jiangsu-manufacturing-loan-interest").unwrap();
    let d = p.differences();
    assert_eq!(d.len(), 3);
    // 2024.08 dropped the one-year, 500万 and LPR + 50 bp conditions.
    assert_eq!(d[0].to, "2024.08");
    assert_eq!(
        d[0].conditions_dropped,
        vec!["operating_one_year", "equipment_loan_floor", "rate_ceiling"]
    );
    // 2026.01 lowered the caps: 1000 → 600 per project, 2000 → 1000 per firm.
    let caps = &d[2].parameters_changed;
    assert!(caps.contains(&("project_cap_10k_yuan".into(), Some(1000.0), Some(600.0))));
    assert!(caps.contains(&("firm_cap_10k_yuan".into(), Some(2000.0), Some(1000.0))));
}

#[test]
fn a_brief_decision_says_what_the_full_one_says_without_the_trace() {
    let library = PolicyLibrary::embedded().unwrap();
    let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let e = EnterpriseFacts {
        uscc: "u".into(),
        district: "320583".into(),
        division: Some(26),
        established: Some(day("2010-01-01")),
        designations: None,
        years: vec![YearFacts {
            year: 2024,
            class: Some("D".into()),
            ..YearFacts::default()
        }],
        ..EnterpriseFacts::default()
    };
    let projects: Vec<ProjectFacts> = ["2022-06-01", "2024-05-01", "2025-03-01"]
        .iter()
        .enumerate()
        .map(|(i, d)| ProjectFacts {
            project_id: format!("p{i}"),
            uscc: "u".into(),
            kind: Some("smart_transformation".into()),
            date: Some(day(d)),
            loan_10k_yuan: Some(30000.0),
            ..ProjectFacts::default()
        })
        .collect();
    let enterprises = [e];
    let calc = Calculation::run(
        &library,
        &enterprises,
        &projects,
        day("2025-06-30"),
        Coverage::Skip,
        1,
    );
    assert!(calc.verdicts.len() > 10);
    for v in &calc.verdicts {
        let (full, brief) = (calc.decision(v), calc.brief(v));
        assert!(brief.trace.is_empty() && brief.parameters.is_empty());
        assert_eq!(
            (
                &full.status,
                &full.amount_10k_yuan,
                &full.caps,
                &full.reasons,
                &full.unknown_facts
            ),
            (
                &brief.status,
                &brief.amount_10k_yuan,
                &brief.caps,
                &brief.reasons,
                &brief.unknown_facts
            ),
            "{}",
            full.policy
        );
    }
}
