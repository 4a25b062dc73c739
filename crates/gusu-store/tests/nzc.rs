//! Near-zero-carbon applications in the store: the route enterprise → district → city with every
//! step kept and audited, refusals that write nothing, and scope (another enterprise's or another
//! district's application is as if absent).

mod common;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use common::*;
use gusu_core::carbon::nzc::{self, Criteria, EnergyQuota, Evidence, GreenFactoryLevel, Offset};
use gusu_core::carbon::nzc_application::{Action, ApplicationError, ApplicationStatus};
use gusu_core::{Role, Uscc, Viewer};
use gusu_store::{Store, StoreError};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn sip() -> Criteria {
    nzc::builtin()
        .unwrap()
        .into_iter()
        .find(|c| c.name == "sip-nzc")
        .unwrap()
}

fn viewer(user: &str, role: Role, district: Option<&str>, uscc: Option<Uscc>) -> Viewer {
    Viewer::new(user, role, district, uscc).unwrap()
}

/// Enterprises 1 and 2 in district 320505 (see common::enterprise).
fn store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    s.import_enterprises(
        &meta("bureau", "e"),
        &rows(&[enterprise(1, "甲"), enterprise(2, "乙")]),
    )
    .unwrap();
    s
}

/// Evidence meeting all three SIP criteria for 2025: a provincial green factory; 1,000 tCO₂ of
/// scope 1 + 2 in 2025 and 600 + 400 = 1,000 tCO₂ retired for 2025, a ratio of 1,000 ÷ 1,000 = 1
/// (needs 1); no quota standard applies.
fn passing() -> Evidence {
    let date = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    Evidence {
        green_factory: Some(GreenFactoryLevel::Provincial),
        emissions: [(2025, 1000.0)].into(),
        offsets: vec![
            Offset {
                kind: "green_certificate".into(),
                reference: "GEC-1".into(),
                amount_tco2: 600.0,
                retired_on: date("2026-01-15"),
                for_year: 2025,
            },
            Offset {
                kind: "ccer".into(),
                reference: "CCER-9".into(),
                amount_tco2: 400.0,
                retired_on: date("2026-02-01"),
                for_year: 2025,
            },
        ],
        energy_quota: Some(EnergyQuota {
            applicable: false,
            standard: None,
            value: None,
            advanced: None,
        }),
        ..Evidence::default()
    }
}

fn nzc_error(e: StoreError) -> ApplicationError {
    match e {
        StoreError::Application(a) => a,
        other => panic!("expected an application error, got {other}"),
    }
}

#[test]
fn an_application_goes_enterprise_district_city_with_every_step_kept() {
    let mut s = store();
    let criteria = sip();
    let enterprise = viewer("ent1", Role::Enterprise, None, Some(uscc(1)));
    let officer = viewer("officer", Role::DistrictOfficer, Some("320505"), None);
    let admin = viewer("admin", Role::CityAdmin, None, None);

    // Opened with the offsets missing: 0 ÷ 1,000 = 0, unmet, so it cannot be submitted.
    let first = Evidence {
        offsets: vec![],
        ..passing()
    };
    let id = s
        .open_nzc_application(&enterprise, &uscc(1), &criteria, 2025, &first, t0())
        .unwrap();
    let err = nzc_error(
        s.act_on_nzc_application(&enterprise, id, Action::Submit, "", &criteria, t0())
            .unwrap_err(),
    );
    assert_eq!(
        err,
        ApplicationError::CriteriaNotMet(vec!["offset_ratio".into()])
    );

    s.save_nzc_evidence(&enterprise, id, &passing(), t0())
        .unwrap();
    let steps = [
        (
            &enterprise,
            Action::Submit,
            "",
            ApplicationStatus::Submitted,
        ),
        (
            &officer,
            Action::Return,
            "证书编号不清",
            ApplicationStatus::Returned,
        ),
        (
            &enterprise,
            Action::Submit,
            "",
            ApplicationStatus::Submitted,
        ),
        (
            &officer,
            Action::Recommend,
            "",
            ApplicationStatus::Recommended,
        ),
        (&admin, Action::Approve, "", ApplicationStatus::Approved),
    ];
    for (who, action, reason, want) in steps {
        assert_eq!(
            s.act_on_nzc_application(who, id, action, reason, &criteria, t0())
                .unwrap(),
            want
        );
    }
    let app = s.nzc_application(id).unwrap().unwrap();
    assert_eq!(app.status, ApplicationStatus::Approved);
    assert_eq!(app.evidence, passing());
    assert_eq!(app.updated_by, "admin");

    let events = s.nzc_events(id).unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "opened",
            "evidence_saved",
            "submit",
            "return",
            "submit",
            "recommend",
            "approve"
        ]
    );
    assert_eq!(events[3].reason.as_deref(), Some("证书编号不清"));
    assert_eq!(events[3].from_status.as_deref(), Some("submitted"));
    assert_eq!(events[3].to_status, "returned");
    // The certification kept the assessment it was judged on: ratio 1,000 ÷ 1,000.
    let judged = events[6].assessment.as_ref().unwrap();
    assert_eq!(judged["offset_ratio"], 1.0);
    assert_eq!(judged["criteria"], "sip-nzc@2026.1");

    let audit: Vec<String> = s
        .audit_log(50)
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("nzc_"))
        .map(|e| e.action)
        .collect();
    assert_eq!(
        audit,
        [
            "nzc_approve",
            "nzc_recommend",
            "nzc_submit",
            "nzc_return",
            "nzc_submit",
            "nzc_evidence_saved",
            "nzc_application_opened"
        ]
    );
}

#[test]
fn refusals_write_nothing_and_scope_hides_other_applications() {
    let mut s = store();
    let criteria = sip();
    let enterprise = viewer("ent1", Role::Enterprise, None, Some(uscc(1)));
    let other_enterprise = viewer("ent2", Role::Enterprise, None, Some(uscc(2)));
    let other_officer = viewer("officer2", Role::DistrictOfficer, Some("320506"), None);
    let analyst = viewer("analyst", Role::CityAnalyst, None, None);
    let auditor = viewer("auditor", Role::AuditAdmin, None, None);

    // Staff may open one for the enterprise (the bureau records for it).
    let id = s
        .open_nzc_application(&analyst, &uscc(1), &criteria, 2025, &passing(), t0())
        .unwrap();
    let before = (s.nzc_events(id).unwrap(), s.audit_log(100).unwrap().len());

    // One per enterprise, criteria and year.
    assert_eq!(
        nzc_error(
            s.open_nzc_application(&enterprise, &uscc(1), &criteria, 2025, &passing(), t0())
                .unwrap_err()
        ),
        ApplicationError::Exists(
            "an application of this enterprise under these criteria for 2025".into()
        )
    );
    // Outside the viewer's scope: as if absent, for opening, editing and acting.
    for who in [&other_enterprise, &other_officer, &auditor] {
        assert!(matches!(
            s.open_nzc_application(who, &uscc(1), &criteria, 2026, &passing(), t0()),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.save_nzc_evidence(who, id, &Evidence::default(), t0()),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.act_on_nzc_application(who, id, Action::Submit, "", &criteria, t0()),
            Err(StoreError::NotFound(_))
        ));
    }
    // In scope but not this step's role: the analyst may not recommend; nobody may recommend a
    // draft.
    assert!(matches!(
        nzc_error(
            s.act_on_nzc_application(&analyst, id, Action::Recommend, "", &criteria, t0())
                .unwrap_err()
        ),
        ApplicationError::WrongStatus { .. }
    ));
    // A different criteria document than the application's.
    let suzhou = nzc::builtin()
        .unwrap()
        .into_iter()
        .find(|c| c.name == "suzhou-nzc")
        .unwrap();
    assert!(matches!(
        nzc_error(
            s.act_on_nzc_application(&enterprise, id, Action::Submit, "", &suzhou, t0())
                .unwrap_err()
        ),
        ApplicationError::Invalid(_)
    ));
    assert_eq!(
        (s.nzc_events(id).unwrap(), s.audit_log(100).unwrap().len()),
        before
    );
    assert_eq!(
        s.nzc_application(id).unwrap().unwrap().status,
        ApplicationStatus::Draft
    );

    // Once submitted, the evidence is frozen.
    s.act_on_nzc_application(&enterprise, id, Action::Submit, "", &criteria, t0())
        .unwrap();
    assert!(matches!(
        nzc_error(
            s.save_nzc_evidence(&enterprise, id, &Evidence::default(), t0())
                .unwrap_err()
        ),
        ApplicationError::WrongStatus { .. }
    ));
    assert_eq!(s.nzc_application(id).unwrap().unwrap().evidence, passing());
}

#[test]
fn the_events_table_is_append_only() {
    let owner = viewer("ent1", Role::Enterprise, None, Some(uscc(1)));
    let path = tempfile::tempdir().unwrap();
    let db = path.path().join("g.db");
    let mut file = Store::open(&db).unwrap();
    file.import_enterprises(&meta("bureau", "e"), &rows(&[enterprise(1, "甲")]))
        .unwrap();
    file.open_nzc_application(&owner, &uscc(1), &sip(), 2025, &passing(), t0())
        .unwrap();
    drop(file);
    let conn = rusqlite::Connection::open(&db).unwrap();
    for sql in [
        "UPDATE nzc_events SET actor = 'x'",
        "DELETE FROM nzc_events",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
}
