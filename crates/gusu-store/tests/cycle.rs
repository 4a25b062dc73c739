//! The evaluation cycle in the store: stages in order, objections decided with their data
//! changes re-run as versions, notices on publication, corrections after it, and refusals that
//! write nothing.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use gusu_core::Figure::{ElectricityKwh, TaxPaid};
use gusu_core::cycle::{CycleError, Stage};
use gusu_core::evaluate::EnterpriseResult;
use gusu_core::{Enterprise, Role, Scheme, SchemeLibrary, Uscc, Viewer};
use gusu_store::{Attachment, FieldValue, NewObjection, Store, StoreError};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 2, 9, 0, 0).unwrap()
}

fn scheme() -> Scheme {
    SchemeLibrary::builtin()
        .unwrap()
        .select("jiangsu-standard", 2024)
        .unwrap()
        .clone()
}

fn viewer(user: &str, role: Role, uscc: Option<Uscc>) -> Viewer {
    Viewer::new(user, role, None, uscc).unwrap()
}

/// Three below-size enterprises of 10 mu each, using 100,000 kWh each; taxes 20, 10 and 5 万元.
fn store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    let below = |i: u32| Enterprise {
        above_scale: false,
        land_area_mu: Some(10.0),
        ..enterprise(i, &format!("企业{i}"))
    };
    s.import_enterprises(&meta("bureau", "e"), &rows(&[below(1), below(2), below(3)]))
        .unwrap();
    let tax = [(1, 20.0), (2, 10.0), (3, 5.0)].map(|(i, t)| record(i, 2024, &[(TaxPaid, t)]));
    s.import_annual(&meta("tax", "t"), &rows(&tax)).unwrap();
    let power = [1, 2, 3].map(|i| record(i, 2024, &[(ElectricityKwh, 100_000.0)]));
    s.import_annual(&meta("power", "p"), &rows(&power)).unwrap();
    s
}

/// (class, score) of every enterprise in a run, by index 1..=3.
fn graded(s: &Store, run_id: i64) -> Vec<(String, f64)> {
    (1..=3)
        .map(|i| {
            let r: EnterpriseResult =
                serde_json::from_str(&s.result_for(run_id, &uscc(i)).unwrap().unwrap().detail_json)
                    .unwrap();
            (r.class.unwrap().to_string(), r.score.unwrap())
        })
        .collect()
}

fn assert_graded(got: &[(String, f64)], want: &[(&str, f64)]) {
    assert_eq!(got.len(), want.len());
    for ((class, score), (want_class, want_score)) in got.iter().zip(want) {
        assert_eq!(class, want_class, "{got:?}");
        assert!((score - want_score).abs() < 1e-9, "{got:?} vs {want:?}");
    }
}

fn cycle_error(e: StoreError) -> CycleError {
    match e {
        StoreError::Cycle(c) => c,
        other => panic!("expected a cycle error, got {other}"),
    }
}

#[test]
fn a_full_cycle_with_one_objection_accepted_and_one_rejected() {
    let mut s = store();
    let scheme = scheme();
    let analyst = viewer("analyst", Role::CityAnalyst, None);
    let admin = viewer("admin", Role::CityAdmin, None);
    let e2 = viewer("ent2", Role::Enterprise, Some(uscc(2)));
    let e3 = viewer("ent3", Role::Enterprise, Some(uscc(3)));

    let id = s
        .start_cycle(&analyst, &scheme, 2024, None, 7, t0())
        .unwrap();
    let c = s.cycle(id).unwrap().unwrap();
    assert_eq!((c.stage, c.version, c.notice_days), (Stage::Draft, 1, 7));
    let err = cycle_error(
        s.start_cycle(&analyst, &scheme, 2024, None, 7, t0())
            .unwrap_err(),
    );
    assert_eq!(
        err,
        CycleError::AlreadyOpen(id),
        "one open cycle per year and region"
    );
    // Below-size group, benchmarks are the group's ratios:
    //   tax per mu   B = 35/30 = 7/6: 50·2/(7/6) = 600/7, 50·1/(7/6) = 300/7, 50·0.5/(7/6) = 150/7
    //   tax per kWh  (元/kWh) 2, 1, 0.5; B = 350000/300000 = 7/6: the same scores.
    //   totals 1200/7, 600/7, 300/7; p = 0, 1/3, 2/3 → A, B, C.
    let v1 = c.run_id;
    assert_graded(
        &graded(&s, v1),
        &[("A", 1200.0 / 7.0), ("B", 600.0 / 7.0), ("C", 300.0 / 7.0)],
    );

    // Enterprises answer only in data confirmation.
    let err = cycle_error(s.confirm_figures(id, &e3, false, None, t0()).unwrap_err());
    assert!(matches!(err, CycleError::WrongStage { .. }), "{err}");
    assert_eq!(
        s.advance_cycle(id, &analyst, t0()).unwrap(),
        Stage::DataConfirmation
    );
    s.confirm_figures(id, &e2, false, None, t0()).unwrap();
    let err = cycle_error(
        s.confirm_figures(id, &e3, true, Some(" "), t0())
            .unwrap_err(),
    );
    assert_eq!(err.code(), "invalid", "a flag says what is wrong");
    s.confirm_figures(id, &e3, true, Some("税额应为25万元"), t0())
        .unwrap();
    let answers = s.confirmations(id).unwrap();
    assert_eq!(answers.len(), 2);
    assert_eq!(
        (answers[1].uscc, answers[1].status.as_str()),
        (uscc(3), "flagged")
    );

    // The notice: seven days from its start.
    let notice = t0() + Duration::days(1);
    assert_eq!(
        s.advance_cycle(id, &analyst, notice).unwrap(),
        Stage::PublicNotice
    );
    let c = s.cycle(id).unwrap().unwrap();
    assert_eq!(c.notice_ends_at.as_deref(), Some("2025-03-10T09:00:00Z"));
    let bad = NewObjection {
        reasons: "税额有误".into(),
        corrections: vec![FieldValue {
            field: "tax".into(),
            value: 25.0,
        }],
        ..NewObjection::default()
    };
    let err = cycle_error(s.file_objection(id, &e3, &bad, notice).unwrap_err());
    assert!(
        err.to_string().contains("corrections[0] (tax = 25)"),
        "{err}"
    );
    assert!(s.objections(id).unwrap().is_empty(), "nothing written");
    for (objection, expected) in [
        (
            NewObjection {
                reasons: "免评".into(),
                corrections: vec![FieldValue {
                    field: "exempt".into(),
                    value: 2.0,
                }],
                ..NewObjection::default()
            },
            "corrections[0] (exempt = 2): a yes/no field takes 1 or 0",
        ),
        (
            NewObjection {
                reasons: "附件".into(),
                attachments: vec![Attachment {
                    file_name: "证明.pdf".into(),
                    media_type: "application/pdf".into(),
                    size_bytes: 1,
                    sha256: "not a hash".into(),
                }],
                ..NewObjection::default()
            },
            "attachments[0] (证明.pdf): sha256 must be 64 hex digits",
        ),
        (
            NewObjection {
                reasons: "重复".into(),
                corrections: vec![
                    FieldValue {
                        field: "employees".into(),
                        value: 10.0,
                    };
                    2
                ],
                ..NewObjection::default()
            },
            "corrections[1] (employees = 10): the field is given twice",
        ),
    ] {
        let err = cycle_error(s.file_objection(id, &e3, &objection, notice).unwrap_err());
        assert_eq!(err.to_string(), expected);
    }
    assert!(
        s.objections(id).unwrap().is_empty(),
        "still nothing written"
    );
    let accepted = s
        .file_objection(
            id,
            &e3,
            &NewObjection {
                reasons: "税务局数据漏记一笔，实缴25万元".into(),
                corrections: vec![FieldValue {
                    field: "tax_paid_10k_yuan".into(),
                    value: 25.0,
                }],
                attachments: vec![Attachment {
                    file_name: "完税证明.pdf".into(),
                    media_type: "application/pdf".into(),
                    size_bytes: 48_213,
                    sha256: "ab".repeat(32),
                }],
            },
            notice + Duration::hours(2),
        )
        .unwrap();
    let rejected = s
        .file_objection(
            id,
            &e2,
            &NewObjection {
                reasons: "用地面积应扣除绿化".into(),
                corrections: vec![FieldValue {
                    field: "land_area_mu".into(),
                    value: 8.0,
                }],
                attachments: vec![],
            },
            notice + Duration::days(6),
        )
        .unwrap();
    let err = cycle_error(
        s.file_objection(id, &e2, &bad, notice + Duration::days(7))
            .unwrap_err(),
    );
    assert_eq!(err.code(), "notice_period_over");
    let err = cycle_error(
        s.advance_cycle(id, &analyst, notice + Duration::days(6))
            .unwrap_err(),
    );
    assert_eq!(err.code(), "notice_period_running");

    let review = notice + Duration::days(7);
    assert_eq!(
        s.advance_cycle(id, &analyst, review).unwrap(),
        Stage::Review
    );
    let err = cycle_error(s.advance_cycle(id, &admin, review).unwrap_err());
    assert_eq!(err, CycleError::UndecidedObjections(2));
    let err = cycle_error(s.advance_cycle(id, &analyst, review).unwrap_err());
    assert_eq!(err.code(), "forbidden", "analysts do not publish");

    // A decision that fails after writing the correction writes nothing: the same scheme made
    // invalid for 2024 passes the name check, the values are written, then the re-run fails and
    // the transaction takes everything back.
    let mut not_valid = scheme.clone();
    not_valid.valid_from = 2030;
    let runs = s.runs(None).unwrap().len();
    let err = s
        .decide_objection(accepted, &analyst, true, "核实无误", &not_valid, review)
        .unwrap_err();
    assert!(matches!(err, StoreError::Evaluation(_)), "{err}");
    assert_eq!(s.objection(accepted).unwrap().unwrap().status, "pending");
    assert_eq!(s.runs(None).unwrap().len(), runs);
    assert_eq!(
        s.batches().unwrap().len(),
        3,
        "no correction batch left behind"
    );
    assert_eq!(s.cycle(id).unwrap().unwrap().version, 1);
    let huaian = SchemeLibrary::builtin()
        .unwrap()
        .select("jiangsu-huaian-2024", 2024)
        .unwrap()
        .clone();
    let err = cycle_error(
        s.decide_objection(accepted, &analyst, true, "核实无误", &huaian, review)
            .unwrap_err(),
    );
    assert_eq!(err.code(), "invalid", "another scheme than the cycle's");

    let version = s
        .decide_objection(
            accepted,
            &analyst,
            true,
            "核实完税证明无误",
            &scheme,
            review,
        )
        .unwrap();
    assert_eq!(version, Some(2));
    // Enterprise 3 now pays 25: tax per mu B = 55/30 = 11/6 and tax per kWh B = 11/6:
    //   scores 50·2·6/11 = 600/11, 300/11, 50·2.5·6/11 = 750/11 on each indicator;
    //   totals 1200/11, 600/11, 1500/11 → ranks 2, 3, 1 → B, C, A.
    let c = s.cycle(id).unwrap().unwrap();
    assert_eq!(c.version, 2);
    assert_graded(
        &graded(&s, c.run_id),
        &[
            ("B", 1200.0 / 11.0),
            ("C", 600.0 / 11.0),
            ("A", 1500.0 / 11.0),
        ],
    );
    let o = s.objection(accepted).unwrap().unwrap();
    assert_eq!(o.status, "accepted");
    assert_eq!(o.attachments[0].sha256, "ab".repeat(32));
    let tax = s
        .lineage(&uscc(3), 2024)
        .unwrap()
        .into_iter()
        .find(|l| l.field == "tax_paid_10k_yuan" && l.effective)
        .unwrap();
    assert_eq!((tax.source.as_str(), tax.value), ("objection", 25.0));
    assert_eq!(Some(tax.batch_id), o.batch_id);
    assert!(
        tax.file_name
            .contains(&format!("objection {accepted}, decided by analyst")),
        "{}",
        tax.file_name
    );

    assert_eq!(
        s.decide_objection(
            rejected,
            &analyst,
            false,
            "绿化用地属于企业用地",
            &scheme,
            review
        )
        .unwrap(),
        None
    );
    let err = cycle_error(
        s.decide_objection(rejected, &analyst, true, "x", &scheme, review)
            .unwrap_err(),
    );
    assert_eq!(err.code(), "already_decided");
    assert_eq!(
        s.lineage(&uscc(2), 2024)
            .unwrap()
            .iter()
            .filter(|l| l.field == "land_area_mu")
            .count(),
        0,
        "a rejected objection changes no data"
    );

    // Published: the run is, and every enterprise has its notice.
    assert_eq!(
        s.advance_cycle(id, &admin, review).unwrap(),
        Stage::Published
    );
    let c = s.cycle(id).unwrap().unwrap();
    assert!(
        s.runs(None)
            .unwrap()
            .iter()
            .any(|r| r.id == c.run_id && r.published)
    );
    let notices = s.notices(Some(&uscc(3))).unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(
        (notices[0].version, notices[0].class.as_deref()),
        (2, Some("A"))
    );
    assert_eq!(s.notices(None).unwrap().len(), 3);
    assert!(
        s.mark_notice_read(notices[0].id, &e3, review).unwrap(),
        "first reading"
    );
    assert!(!s.mark_notice_read(notices[0].id, &e3, review).unwrap());

    // A correction after publication: a new, published version with its reason.
    let err = cycle_error(
        s.correct_cycle(
            id,
            &analyst,
            &uscc(2),
            &[FieldValue {
                field: "tax_paid_10k_yuan".into(),
                value: 40.0,
            }],
            "税务局更正",
            &scheme,
            review,
        )
        .unwrap_err(),
    );
    assert_eq!(err.code(), "forbidden");
    let v3 = s
        .correct_cycle(
            id,
            &admin,
            &uscc(2),
            &[FieldValue {
                field: "tax_paid_10k_yuan".into(),
                value: 40.0,
            }],
            "税务局更正2024年度入库税额",
            &scheme,
            review + Duration::days(30),
        )
        .unwrap();
    assert_eq!(v3, 3);
    // Taxes 20, 40, 25: B = 85/30 = 17/6 on both indicators; totals 1200/17, 2400/17, 1500/17
    // → C, A, B.
    let c = s.cycle(id).unwrap().unwrap();
    assert_graded(
        &graded(&s, c.run_id),
        &[
            ("C", 1200.0 / 17.0),
            ("A", 2400.0 / 17.0),
            ("B", 1500.0 / 17.0),
        ],
    );
    assert_eq!(s.notices(Some(&uscc(2))).unwrap()[0].version, 3);
    let versions = s.cycle_versions(id).unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(versions[1].objection_id, Some(accepted));
    assert_eq!(versions[2].reason, "税务局更正2024年度入库税额");
    // The enterprise each version concerns, for showing its reason only within scope.
    assert_eq!(
        versions.iter().map(|v| v.uscc).collect::<Vec<_>>(),
        [None, Some(uscc(3)), Some(uscc(2))]
    );
    // Earlier versions stay readable as they were.
    assert_graded(
        &graded(&s, v1),
        &[("A", 1200.0 / 7.0), ("B", 600.0 / 7.0), ("C", 300.0 / 7.0)],
    );

    let log = s.audit_log(1000).unwrap();
    for action in [
        "cycle_started",
        "cycle_stage",
        "figures_confirmed",
        "figures_flagged",
        "objection_filed",
        "objection_accepted",
        "objection_rejected",
        "publication",
        "cycle_correction",
        "notice_read",
    ] {
        assert!(log.iter().any(|e| e.action == action), "{action} audited");
    }
    assert_eq!(
        log.iter().filter(|e| e.action == "cycle_stage").count(),
        4,
        "four stage changes"
    );
}

#[test]
fn scope_and_reserved_sources() {
    let mut s = store();
    let scheme = scheme();
    let officer = Viewer::new("off", Role::DistrictOfficer, Some("320505"), None).unwrap();
    let other = Viewer::new("off2", Role::DistrictOfficer, Some("320571"), None).unwrap();
    let err = cycle_error(
        s.start_cycle(&officer, &scheme, 2024, None, 7, t0())
            .unwrap_err(),
    );
    assert_eq!(
        err.code(),
        "forbidden",
        "an officer does not run the city's"
    );
    let id = s
        .start_cycle(&officer, &scheme, 2024, Some("320505"), 5, t0())
        .unwrap();
    assert_eq!(
        s.cycle(id).unwrap().unwrap().region.as_deref(),
        Some("320505")
    );
    assert!(s.advance_cycle(id, &other, t0()).is_err());
    assert_eq!(
        s.advance_cycle(id, &officer, t0()).unwrap(),
        Stage::DataConfirmation
    );
    assert_eq!(s.cycle(id).unwrap().unwrap().stage, Stage::DataConfirmation);
    // An enterprise outside the run is not part of the cycle.
    let stranger = viewer("x", Role::Enterprise, Some(uscc(9)));
    let err = cycle_error(
        s.confirm_figures(id, &stranger, false, None, t0())
            .unwrap_err(),
    );
    assert_eq!(err, CycleError::NotInCycle);
    // Department files may not pose as reviewed corrections.
    let err = s
        .import_annual(
            &meta("Objection", "forged"),
            &rows(&[record(1, 2024, &[(TaxPaid, 1e6)])]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("reserved"), "{err}");
}

#[test]
fn two_processes_deciding_one_objection_decide_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.db");
    let scheme = scheme();
    let analyst = viewer("analyst", Role::CityAnalyst, None);
    let e3 = viewer("ent3", Role::Enterprise, Some(uscc(3)));
    let objection = {
        let s = store();
        s.backup(&path).unwrap();
        let mut s = Store::open(&path).unwrap();
        let id = s
            .start_cycle(&analyst, &scheme, 2024, None, 7, t0())
            .unwrap();
        s.advance_cycle(id, &analyst, t0()).unwrap();
        s.advance_cycle(id, &analyst, t0()).unwrap();
        let o = s
            .file_objection(
                id,
                &e3,
                &NewObjection {
                    reasons: "税额有误".into(),
                    corrections: vec![FieldValue {
                        field: "tax_paid_10k_yuan".into(),
                        value: 25.0,
                    }],
                    attachments: vec![],
                },
                t0(),
            )
            .unwrap();
        s.advance_cycle(id, &analyst, t0() + Duration::days(7))
            .unwrap();
        o
    };
    let outcomes: Vec<Result<Option<u32>, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = [true, false]
            .into_iter()
            .map(|accept| {
                let (path, scheme, analyst) = (&path, &scheme, &analyst);
                scope.spawn(move || {
                    Store::open(path).unwrap().decide_objection(
                        objection,
                        analyst,
                        accept,
                        "并发处理",
                        scheme,
                        t0() + Duration::days(8),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    let err = outcomes.into_iter().find_map(Result::err).unwrap();
    assert_eq!(cycle_error(err).code(), "already_decided");
    let s = Store::open(&path).unwrap();
    let decided = s.objection(objection).unwrap().unwrap();
    let versions = s.cycle_versions(decided.cycle_id).unwrap().len();
    match decided.status.as_str() {
        "accepted" => assert_eq!(versions, 2),
        _ => assert_eq!(versions, 1),
    }
}
