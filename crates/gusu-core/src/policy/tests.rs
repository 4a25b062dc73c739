//! The shipped policies compute their own cases; the loader refuses bad documents with file and
//! line.

use super::*;

#[test]
fn every_shipped_policy_computes_its_own_cases() {
    let library = PolicyLibrary::embedded().unwrap();
    assert_eq!(library.policies.len(), EMBEDDED.len());
    let mut failures = Vec::new();
    for p in &library.policies {
        assert!(!p.document.test.is_empty(), "{} has no cases", p.id);
        failures.extend(run_cases(p));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn shipped(id: &str) -> String {
    EMBEDDED
        .iter()
        .find(|(f, _)| f.starts_with(id))
        .map(|(_, t)| t.to_string())
        .unwrap()
}

fn load_error(text: &str) -> PolicyError {
    Policy::from_toml(text, "x.toml").unwrap_err()
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let text = shipped("suzhou-zgsz").replace(
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
    let text =
        shipped("suzhou-zgsz").replace("valid_to = \"2023-12-31\"", "valid_to = \"2023-13-31\"");
    let line = text.lines().position(|l| l.contains("2023-13-31")).unwrap() + 1;
    let e = load_error(&text);
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("2023-13-31"), "{e}");
}

#[test]
fn a_condition_reading_an_unknown_fact_or_parameter_is_refused() {
    let text = shipped("suzhou-zgsz").replace(
        "when = \"kind == 'smart_transformation'\"",
        "when = \"purpose == 'smart_transformation'\"",
    );
    let line = text.lines().position(|l| l.contains("purpose ==")).unwrap() + 1;
    let e = load_error(&text);
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("`purpose`"), "{e}");
    let text = shipped("suzhou-zgsz").replace(
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
    let text = shipped("jiangsu-manufacturing")
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
