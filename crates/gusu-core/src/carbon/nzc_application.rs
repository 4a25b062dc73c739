//! The near-zero-carbon factory application (近零碳工厂申报): the shared application route
//! ([`crate::route`]) with the criteria of the application's document as what must be met
//! before it moves on. Storage is gusu-store's, the assessment itself [`super::nzc::assess`].

pub use crate::route::{
    Action, ApplicationError, ApplicationState, ApplicationStatus, available, create, edit,
    may_record, may_view, step,
};

use super::nzc::Assessment;
use crate::access::Viewer;

/// One step of the route: checks the viewer, the status and the reason, and that every
/// criterion is met for the steps that move the application on; returns the new status.
pub fn act(
    viewer: &Viewer,
    state: &ApplicationState,
    action: Action,
    reason: &str,
    assessment: &Assessment,
) -> Result<ApplicationStatus, ApplicationError> {
    let open: Vec<String> = if assessment.passes() {
        Vec::new()
    } else {
        assessment
            .results
            .iter()
            .filter(|r| r.status != super::nzc::Status::Met)
            .map(|r| r.id.clone())
            .collect()
    };
    crate::route::act(viewer, state, action, reason, &open)
}

#[cfg(test)]
mod tests {
    use super::super::nzc::{CriterionResult, Status};
    use super::*;
    use crate::access::Role;
    use crate::uscc::Uscc;

    const OWN: &str = "91320583MA0000001";
    const OTHER: &str = "91320571MA0000002";

    fn uscc(base: &str) -> Uscc {
        Uscc::with_check_character(base).unwrap()
    }

    fn viewer(role: Role, district: Option<&str>, of: Option<&str>) -> Viewer {
        Viewer::new("x", role, district, of.map(uscc)).unwrap()
    }

    fn state(status: ApplicationStatus) -> ApplicationState {
        ApplicationState {
            uscc: uscc(OWN),
            district: "320583".into(),
            status,
        }
    }

    fn assessment(statuses: &[Status]) -> Assessment {
        Assessment {
            criteria: "suzhou-nzc@2023.2".into(),
            assessment_year: 2025,
            offset_ratio: None,
            results: statuses
                .iter()
                .enumerate()
                .map(|(i, s)| CriterionResult {
                    id: format!("c{i}"),
                    name_zh: String::new(),
                    name_en: String::new(),
                    status: *s,
                    detail: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn statuses_and_actions_have_keys_and_names() {
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::from_key(s.key()), Some(s));
            assert!(!s.name_zh().is_empty() && !s.name_en().is_empty());
        }
        for a in Action::ALL {
            assert_eq!(Action::from_key(a.key()), Some(a));
            assert!(!a.name_zh().is_empty() && !a.name_en().is_empty());
        }
        assert_eq!(ApplicationStatus::from_key("closed"), None);
        assert!(ApplicationStatus::Draft.editable());
        assert!(ApplicationStatus::Returned.editable());
        assert!(!ApplicationStatus::Submitted.editable());
        assert!(!ApplicationStatus::Approved.editable());
    }

    #[test]
    fn the_route_goes_enterprise_district_city() {
        let enterprise = viewer(Role::Enterprise, None, Some(OWN));
        let officer = viewer(Role::DistrictOfficer, Some("320583"), None);
        let admin = viewer(Role::CityAdmin, None, None);
        let met = assessment(&[Status::Met, Status::Met]);
        let mut s = state(ApplicationStatus::Draft);
        s.status = act(&enterprise, &s, Action::Submit, "", &met).unwrap();
        assert_eq!(s.status, ApplicationStatus::Submitted);
        s.status = act(&officer, &s, Action::Recommend, "", &met).unwrap();
        assert_eq!(s.status, ApplicationStatus::Recommended);
        s.status = act(&admin, &s, Action::Approve, "", &met).unwrap();
        assert_eq!(s.status, ApplicationStatus::Approved);
        for a in Action::ALL {
            assert!(matches!(
                act(&admin, &s, a, "r", &met),
                Err(ApplicationError::WrongStatus { .. })
            ));
        }
    }

    #[test]
    fn each_level_acts_only_at_its_step_and_in_its_scope() {
        let enterprise = viewer(Role::Enterprise, None, Some(OWN));
        let other_enterprise = viewer(Role::Enterprise, None, Some(OTHER));
        let officer = viewer(Role::DistrictOfficer, Some("320583"), None);
        let other_officer = viewer(Role::DistrictOfficer, Some("320571"), None);
        let analyst = viewer(Role::CityAnalyst, None, None);
        let admin = viewer(Role::CityAdmin, None, None);
        let sysadmin = viewer(Role::SystemAdmin, None, None);
        let met = assessment(&[Status::Met]);

        let draft = state(ApplicationStatus::Draft);
        for v in [&enterprise, &officer, &analyst, &admin] {
            assert_eq!(
                act(v, &draft, Action::Submit, "", &met),
                Ok(ApplicationStatus::Submitted)
            );
            assert_eq!(edit(v, &draft), Ok(()));
        }
        for v in [&other_enterprise, &other_officer, &sysadmin] {
            assert_eq!(
                act(v, &draft, Action::Submit, "", &met),
                Err(ApplicationError::NotPermitted("submit"))
            );
            assert!(edit(v, &draft).is_err());
            assert!(create(v, &draft.uscc, &draft.district).is_err());
        }

        let submitted = state(ApplicationStatus::Submitted);
        assert_eq!(
            act(&officer, &submitted, Action::Recommend, "", &met),
            Ok(ApplicationStatus::Recommended)
        );
        for v in [&enterprise, &other_officer, &analyst, &admin] {
            assert!(act(v, &submitted, Action::Recommend, "", &met).is_err());
        }
        assert!(matches!(
            edit(&enterprise, &submitted),
            Err(ApplicationError::WrongStatus { .. })
        ));

        let recommended = state(ApplicationStatus::Recommended);
        assert_eq!(
            act(&admin, &recommended, Action::Approve, "", &met),
            Ok(ApplicationStatus::Approved)
        );
        for v in [&officer, &analyst, &enterprise] {
            assert_eq!(
                act(v, &recommended, Action::Approve, "", &met),
                Err(ApplicationError::NotPermitted("approve"))
            );
        }
        assert_eq!(
            available(&officer, &submitted),
            vec![Action::Recommend, Action::Return, Action::Reject]
        );
        assert_eq!(
            available(&admin, &recommended),
            vec![Action::Approve, Action::Return, Action::Reject]
        );
        assert_eq!(available(&enterprise, &submitted), vec![]);
        assert_eq!(available(&enterprise, &draft), vec![Action::Submit]);
    }

    #[test]
    fn moving_on_needs_every_criterion_met_and_going_back_a_reason() {
        let enterprise = viewer(Role::Enterprise, None, Some(OWN));
        let officer = viewer(Role::DistrictOfficer, Some("320583"), None);
        let open = assessment(&[Status::Met, Status::MissingEvidence, Status::Unmet]);
        let err = act(
            &enterprise,
            &state(ApplicationStatus::Draft),
            Action::Submit,
            "",
            &open,
        )
        .unwrap_err();
        assert_eq!(
            err,
            ApplicationError::CriteriaNotMet(vec!["c1".into(), "c2".into()])
        );
        assert_eq!(err.code(), "criteria_not_met");
        let submitted = state(ApplicationStatus::Submitted);
        assert_eq!(
            act(&officer, &submitted, Action::Return, "  ", &open),
            Err(ApplicationError::ReasonRequired("return"))
        );
        // Returning and rejecting do not depend on the criteria.
        assert_eq!(
            act(&officer, &submitted, Action::Return, "证书过期", &open),
            Ok(ApplicationStatus::Returned)
        );
        assert_eq!(
            act(&officer, &submitted, Action::Reject, "不符合条件", &open),
            Ok(ApplicationStatus::Rejected)
        );
        // A returned application is submitted again.
        let met = assessment(&[Status::Met]);
        assert_eq!(
            act(
                &enterprise,
                &state(ApplicationStatus::Returned),
                Action::Submit,
                "",
                &met
            ),
            Ok(ApplicationStatus::Submitted)
        );
    }
}
