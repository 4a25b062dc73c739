//! The evaluation cycle (评价流程) as a state machine: a run of the city or of one district moves
//! draft → data confirmation → public notice (公示) → review of objections (异议) → published.
//! Pure rules only: who may move a cycle on, what an enterprise may do at each stage, and when
//! the notice period is over. The clock comes in as a parameter; storage is gusu-store's.
//!
//! Decisions written down here (no method document fixes them, so they are ours to state):
//! - Staff of the run's scope manage the cycle (city administrators and analysts any cycle, a
//!   district officer its own district's); publishing, and correcting after publication, is an
//!   act of authority: the city administrator for city runs, the city administrator or the
//!   district's officer for a district run. Analysts prepare and review but do not publish.
//! - The notice period is a setting (days, fixed per cycle when it is created); objections are
//!   accepted from the start of the notice until the period ends, and review begins only after
//!   it has ended, so that no enterprise loses days of its period.
//! - Published needs every objection decided.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Viewer;

/// Where a cycle stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Draft,
    DataConfirmation,
    PublicNotice,
    Review,
    Published,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Draft,
        Stage::DataConfirmation,
        Stage::PublicNotice,
        Stage::Review,
        Stage::Published,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Draft => "draft",
            Stage::DataConfirmation => "data_confirmation",
            Stage::PublicNotice => "public_notice",
            Stage::Review => "review",
            Stage::Published => "published",
        }
    }

    pub fn from_key(key: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Stage::Draft => "草稿",
            Stage::DataConfirmation => "数据确认",
            Stage::PublicNotice => "公示",
            Stage::Review => "异议复核",
            Stage::Published => "已发布",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Stage::Draft => "Draft",
            Stage::DataConfirmation => "Data confirmation",
            Stage::PublicNotice => "Public notice",
            Stage::Review => "Review of objections",
            Stage::Published => "Published",
        }
    }

    /// Whether the enterprises of the run see the cycle: not while staff prepare the draft.
    pub fn open_to_enterprises(self) -> bool {
        self != Stage::Draft
    }

    /// Whether an enterprise sees its result: from the public notice on (in data confirmation
    /// it checks its figures, not yet its grade).
    pub fn results_shown_to_enterprises(self) -> bool {
        self >= Stage::PublicNotice
    }

    /// The stage an advance leads to; `None` once published.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Draft => Some(Stage::DataConfirmation),
            Stage::DataConfirmation => Some(Stage::PublicNotice),
            Stage::PublicNotice => Some(Stage::Review),
            Stage::Review => Some(Stage::Published),
            Stage::Published => None,
        }
    }
}

/// What a cycle's rules need to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleState {
    pub stage: Stage,
    /// District code of a district's own run, `None` for the city.
    pub region: Option<String>,
    /// Length of the notice period, in days (a setting, fixed when the cycle is created).
    pub notice_days: u32,
    /// When the public notice began (set on entering [`Stage::PublicNotice`]).
    pub notice_started_at: Option<DateTime<Utc>>,
    /// Objections filed and not yet decided.
    pub undecided_objections: usize,
}

impl CycleState {
    /// When the notice period ends (objections are accepted strictly before this instant).
    pub fn notice_ends_at(&self) -> Option<DateTime<Utc>> {
        self.notice_started_at
            .map(|start| start + Duration::days(i64::from(self.notice_days)))
    }
}

/// Why a cycle action is refused. `code()` is the stable error code the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CycleError {
    #[error("your role may not {0} in this cycle")]
    NotPermitted(&'static str),
    #[error("cannot {action} while the cycle is at stage {stage}", stage = .stage.key())]
    WrongStage { action: &'static str, stage: Stage },
    #[error("the notice period ended at {0}; objections are no longer accepted")]
    NoticePeriodOver(DateTime<Utc>),
    #[error("the notice period runs until {0}; review begins after it ends")]
    NoticePeriodRunning(DateTime<Utc>),
    #[error("{0} objection(s) are not decided yet; decide every objection before publishing")]
    UndecidedObjections(usize),
    #[error("the cycle is already published; a change needs a correction with its reason")]
    AlreadyPublished,
    #[error("the enterprise is not part of this cycle's run")]
    NotInCycle,
    #[error("an objection is decided once; it was already {0}")]
    AlreadyDecided(String),
    #[error("cycle {0} for the same year and region is not published yet; finish it first")]
    AlreadyOpen(i64),
    #[error("{0}")]
    Invalid(String),
}

impl CycleError {
    pub fn code(&self) -> &'static str {
        match self {
            CycleError::NotPermitted(_) => "forbidden",
            CycleError::WrongStage { .. } => "wrong_stage",
            CycleError::NoticePeriodOver(_) => "notice_period_over",
            CycleError::NoticePeriodRunning(_) => "notice_period_running",
            CycleError::UndecidedObjections(_) => "undecided_objections",
            CycleError::AlreadyPublished => "already_published",
            CycleError::NotInCycle => "not_in_cycle",
            CycleError::AlreadyDecided(_) => "already_decided",
            CycleError::AlreadyOpen(_) => "cycle_open",
            CycleError::Invalid(_) => "invalid",
        }
    }
}

/// Moves a cycle one stage on: checks the viewer and the stage's exit condition; returns the new
/// stage.
pub fn advance(
    viewer: &Viewer,
    state: &CycleState,
    now: DateTime<Utc>,
) -> Result<Stage, CycleError> {
    let region = state.region.as_deref();
    let Some(next) = state.stage.next() else {
        return Err(CycleError::AlreadyPublished);
    };
    if next == Stage::Published {
        if !viewer.may_publish_cycle(region) {
            return Err(CycleError::NotPermitted("publish"));
        }
        if state.undecided_objections > 0 {
            return Err(CycleError::UndecidedObjections(state.undecided_objections));
        }
    } else if !viewer.may_manage_cycle(region) {
        return Err(CycleError::NotPermitted("advance the stage"));
    }
    if state.stage == Stage::PublicNotice
        && let Some(ends) = state.notice_ends_at()
        && now < ends
    {
        return Err(CycleError::NoticePeriodRunning(ends));
    }
    Ok(next)
}

/// An enterprise confirms its figures or flags an error in them: its own figures only, during
/// data confirmation. A later answer replaces an earlier one.
pub fn confirm(viewer: &Viewer, state: &CycleState, in_run: bool) -> Result<(), CycleError> {
    if !matches!(viewer.scope, crate::Scope::Enterprise(_)) {
        return Err(CycleError::NotPermitted("confirm figures"));
    }
    if !in_run {
        return Err(CycleError::NotInCycle);
    }
    if state.stage != Stage::DataConfirmation {
        return Err(CycleError::WrongStage {
            action: "confirm or flag figures",
            stage: state.stage,
        });
    }
    Ok(())
}

/// An enterprise files an objection: during the public notice, before the period ends.
pub fn file_objection(
    viewer: &Viewer,
    state: &CycleState,
    in_run: bool,
    now: DateTime<Utc>,
) -> Result<(), CycleError> {
    if !matches!(viewer.scope, crate::Scope::Enterprise(_)) {
        return Err(CycleError::NotPermitted("file an objection"));
    }
    if !in_run {
        return Err(CycleError::NotInCycle);
    }
    if state.stage != Stage::PublicNotice {
        return Err(CycleError::WrongStage {
            action: "file an objection",
            stage: state.stage,
        });
    }
    match state.notice_ends_at() {
        Some(ends) if now >= ends => Err(CycleError::NoticePeriodOver(ends)),
        Some(_) => Ok(()),
        None => Err(CycleError::Invalid(
            "the public notice has no start time".into(),
        )),
    }
}

/// Staff of the cycle's scope decide an objection, during review, once.
pub fn decide_objection(
    viewer: &Viewer,
    state: &CycleState,
    current_status: &str,
) -> Result<(), CycleError> {
    if !viewer.may_manage_cycle(state.region.as_deref()) {
        return Err(CycleError::NotPermitted("decide objections"));
    }
    if state.stage != Stage::Review {
        return Err(CycleError::WrongStage {
            action: "decide an objection",
            stage: state.stage,
        });
    }
    if current_status != "pending" {
        return Err(CycleError::AlreadyDecided(current_status.to_string()));
    }
    Ok(())
}

/// A correction of the data by staff, with its reason, re-run as a new version. Allowed before
/// the notice (the figures flagged in confirmation), in review, and after publication (by whoever
/// may publish: the new version is published at once). Never during the notice itself: what is
/// on notice must not change under the enterprises reading it; their way is an objection.
pub fn correct(viewer: &Viewer, state: &CycleState, reason: &str) -> Result<(), CycleError> {
    let region = state.region.as_deref();
    let allowed = match state.stage {
        Stage::Published => viewer.may_publish_cycle(region),
        _ => viewer.may_manage_cycle(region),
    };
    if !allowed {
        return Err(CycleError::NotPermitted("correct the data"));
    }
    if state.stage == Stage::PublicNotice {
        return Err(CycleError::WrongStage {
            action: "correct the data",
            stage: state.stage,
        });
    }
    if reason.trim().is_empty() {
        return Err(CycleError::Invalid("a correction needs its reason".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Role, Uscc};
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    fn viewer(role: Role, district: Option<&str>) -> Viewer {
        let uscc = (role == Role::Enterprise)
            .then(|| Uscc::with_check_character("91320583MA0000001").unwrap());
        Viewer::new("x", role, district, uscc).unwrap()
    }

    fn state(stage: Stage, region: Option<&str>) -> CycleState {
        CycleState {
            stage,
            region: region.map(str::to_string),
            notice_days: 7,
            notice_started_at: Some(at(1, 9)),
            undecided_objections: 0,
        }
    }

    #[test]
    fn stages_go_one_way_and_have_names() {
        let mut s = Stage::Draft;
        let mut seen = vec![s];
        while let Some(n) = s.next() {
            assert!(n > s);
            seen.push(n);
            s = n;
        }
        assert_eq!(seen, Stage::ALL);
        for s in Stage::ALL {
            assert_eq!(Stage::from_key(s.key()), Some(s));
            assert!(!s.name_zh().is_empty() && !s.name_en().is_empty());
        }
        assert_eq!(Stage::from_key("closed"), None);
        assert!(!Stage::Draft.open_to_enterprises());
        assert!(Stage::DataConfirmation.open_to_enterprises());
        assert!(!Stage::DataConfirmation.results_shown_to_enterprises());
        assert!(Stage::PublicNotice.results_shown_to_enterprises());
        assert!(Stage::Published.results_shown_to_enterprises());
    }

    #[test]
    fn who_may_advance_and_publish() {
        let admin = viewer(Role::CityAdmin, None);
        let analyst = viewer(Role::CityAnalyst, None);
        let officer = viewer(Role::DistrictOfficer, Some("320583"));
        let enterprise = viewer(Role::Enterprise, None);
        let now = at(20, 0);
        let city_draft = state(Stage::Draft, None);
        assert_eq!(
            advance(&analyst, &city_draft, now),
            Ok(Stage::DataConfirmation)
        );
        assert_eq!(
            advance(&officer, &city_draft, now),
            Err(CycleError::NotPermitted("advance the stage"))
        );
        assert!(advance(&enterprise, &city_draft, now).is_err());
        let own = state(Stage::Draft, Some("320583"));
        let other = state(Stage::Draft, Some("320571"));
        assert_eq!(advance(&officer, &own, now), Ok(Stage::DataConfirmation));
        assert!(advance(&officer, &other, now).is_err());
        assert_eq!(advance(&admin, &other, now), Ok(Stage::DataConfirmation));

        // Publishing: analysts prepare, administrators (and a district's officer) publish.
        let city_review = state(Stage::Review, None);
        assert_eq!(
            advance(&analyst, &city_review, now),
            Err(CycleError::NotPermitted("publish"))
        );
        assert_eq!(advance(&admin, &city_review, now), Ok(Stage::Published));
        assert!(advance(&officer, &city_review, now).is_err());
        assert_eq!(
            advance(&officer, &state(Stage::Review, Some("320583")), now),
            Ok(Stage::Published)
        );
        assert_eq!(
            advance(&admin, &state(Stage::Published, None), now),
            Err(CycleError::AlreadyPublished)
        );
        for role in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin] {
            assert!(advance(&viewer(role, None), &city_draft, now).is_err());
        }
    }

    #[test]
    fn publishing_needs_every_objection_decided() {
        let admin = viewer(Role::CityAdmin, None);
        let mut s = state(Stage::Review, None);
        s.undecided_objections = 2;
        let err = advance(&admin, &s, at(20, 0)).unwrap_err();
        assert_eq!(err, CycleError::UndecidedObjections(2));
        assert_eq!(err.code(), "undecided_objections");
    }

    #[test]
    fn the_notice_period_bounds_objections_and_review() {
        let analyst = viewer(Role::CityAnalyst, None);
        let enterprise = viewer(Role::Enterprise, None);
        let s = state(Stage::PublicNotice, None);
        // Started 1 March 09:00, 7 days: ends 8 March 09:00.
        assert_eq!(s.notice_ends_at(), Some(at(8, 9)));
        assert_eq!(file_objection(&enterprise, &s, true, at(8, 8)), Ok(()));
        assert_eq!(
            file_objection(&enterprise, &s, true, at(8, 9)),
            Err(CycleError::NoticePeriodOver(at(8, 9)))
        );
        assert_eq!(
            file_objection(&enterprise, &s, false, at(2, 0)),
            Err(CycleError::NotInCycle)
        );
        assert!(file_objection(&analyst, &s, true, at(2, 0)).is_err());
        assert!(matches!(
            file_objection(&enterprise, &state(Stage::Review, None), true, at(2, 0)),
            Err(CycleError::WrongStage { .. })
        ));
        assert_eq!(
            advance(&analyst, &s, at(8, 8)),
            Err(CycleError::NoticePeriodRunning(at(8, 9)))
        );
        assert_eq!(advance(&analyst, &s, at(8, 9)), Ok(Stage::Review));
    }

    #[test]
    fn confirmation_and_decisions_have_their_stage() {
        let enterprise = viewer(Role::Enterprise, None);
        let analyst = viewer(Role::CityAnalyst, None);
        let officer = viewer(Role::DistrictOfficer, Some("320583"));
        let confirming = state(Stage::DataConfirmation, None);
        assert_eq!(confirm(&enterprise, &confirming, true), Ok(()));
        assert!(confirm(&enterprise, &state(Stage::Draft, None), true).is_err());
        assert!(confirm(&analyst, &confirming, true).is_err());
        let review = state(Stage::Review, None);
        assert_eq!(decide_objection(&analyst, &review, "pending"), Ok(()));
        assert_eq!(
            decide_objection(&analyst, &review, "accepted"),
            Err(CycleError::AlreadyDecided("accepted".into()))
        );
        assert!(decide_objection(&officer, &review, "pending").is_err());
        assert!(decide_objection(&enterprise, &review, "pending").is_err());
        assert!(decide_objection(&analyst, &confirming, "pending").is_err());
    }

    #[test]
    fn corrections_need_a_reason_and_stay_out_of_the_notice() {
        let admin = viewer(Role::CityAdmin, None);
        let analyst = viewer(Role::CityAnalyst, None);
        assert_eq!(
            correct(&analyst, &state(Stage::DataConfirmation, None), "税务更正"),
            Ok(())
        );
        assert!(correct(&analyst, &state(Stage::DataConfirmation, None), " ").is_err());
        assert!(matches!(
            correct(&admin, &state(Stage::PublicNotice, None), "x"),
            Err(CycleError::WrongStage { .. })
        ));
        let published = state(Stage::Published, None);
        assert!(correct(&analyst, &published, "x").is_err());
        assert_eq!(correct(&admin, &published, "x"), Ok(()));
    }
}
