//! Evaluation cycles: stages, objections, corrections, notices.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::uscc;

/// Where a cycle stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Draft,
    DataConfirmation,
    PublicNotice,
    Review,
    Published,
}

impl From<gusu_core::cycle::Stage> for Stage {
    fn from(s: gusu_core::cycle::Stage) -> Stage {
        use gusu_core::cycle::Stage as S;
        match s {
            S::Draft => Stage::Draft,
            S::DataConfirmation => Stage::DataConfirmation,
            S::PublicNotice => Stage::PublicNotice,
            S::Review => Stage::Review,
            S::Published => Stage::Published,
        }
    }
}

impl Stage {
    /// The domain's stage (pages name it in their language).
    pub fn core(self) -> gusu_core::cycle::Stage {
        use gusu_core::cycle::Stage as S;
        match self {
            Stage::Draft => S::Draft,
            Stage::DataConfirmation => S::DataConfirmation,
            Stage::PublicNotice => S::PublicNotice,
            Stage::Review => S::Review,
            Stage::Published => S::Published,
        }
    }
}

/// A cycle with what the viewer may do with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CycleView {
    pub id: i64,
    pub year: i32,
    pub scheme: String,
    /// District code of a district's own cycle; none for the city's.
    pub region: Option<String>,
    pub stage: Stage,
    pub notice_days: u32,
    pub notice_started_at: Option<String>,
    pub notice_ends_at: Option<String>,
    /// The current version's run.
    pub run_id: i64,
    pub version: u32,
    pub created_by: String,
    pub created_at: String,
    pub published_at: Option<String>,
    pub stage_zh: String,
    pub stage_en: String,
    pub next_stage: Option<Stage>,
    pub may_manage: bool,
    pub may_publish: bool,
}

impl CycleView {
    pub fn of(c: &gusu_store::CycleInfo, viewer: &gusu_core::Viewer) -> CycleView {
        let region = c.region.as_deref();
        CycleView {
            id: c.id,
            year: c.year,
            scheme: c.scheme.clone(),
            region: c.region.clone(),
            stage: c.stage.into(),
            notice_days: c.notice_days,
            notice_started_at: c.notice_started_at.clone(),
            notice_ends_at: c.notice_ends_at.clone(),
            run_id: c.run_id,
            version: c.version,
            created_by: c.created_by.clone(),
            created_at: c.created_at.clone(),
            published_at: c.published_at.clone(),
            stage_zh: c.stage.name_zh().to_string(),
            stage_en: c.stage.name_en().to_string(),
            next_stage: c.stage.next().map(Stage::from),
            may_manage: viewer.may_manage_cycle(region),
            may_publish: viewer.may_publish_cycle(region),
        }
    }
}

/// A field and the value proposed or written for it (interchange key; flags as 1 / 0).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldValue {
    pub field: String,
    pub value: f64,
}

impl From<FieldValue> for gusu_store::FieldValue {
    fn from(f: FieldValue) -> gusu_store::FieldValue {
        gusu_store::FieldValue {
            field: f.field,
            value: f.value,
        }
    }
}

/// An attachment, described: its content is not stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: u64,
    /// SHA-256 of the content, 64 hex digits.
    pub sha256: String,
}

impl From<Attachment> for gusu_store::Attachment {
    fn from(a: Attachment) -> gusu_store::Attachment {
        gusu_store::Attachment {
            file_name: a.file_name,
            media_type: a.media_type,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
        }
    }
}

/// An objection with its decision, once made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Objection {
    pub id: i64,
    pub cycle_id: i64,
    pub uscc: String,
    pub version: u32,
    pub reasons: String,
    pub corrections: Vec<FieldValue>,
    pub attachments: Vec<Attachment>,
    pub filed_by: String,
    pub filed_at: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The correction import an accepted objection wrote.
    pub batch_id: Option<i64>,
}

impl From<&gusu_store::Objection> for Objection {
    fn from(o: &gusu_store::Objection) -> Objection {
        Objection {
            id: o.id,
            cycle_id: o.cycle_id,
            uscc: uscc(&o.uscc),
            version: o.version,
            reasons: o.reasons.clone(),
            corrections: o
                .corrections
                .iter()
                .map(|f| FieldValue {
                    field: f.field.clone(),
                    value: f.value,
                })
                .collect(),
            attachments: o
                .attachments
                .iter()
                .map(|a| Attachment {
                    file_name: a.file_name.clone(),
                    media_type: a.media_type.clone(),
                    size_bytes: a.size_bytes,
                    sha256: a.sha256.clone(),
                })
                .collect(),
            filed_by: o.filed_by.clone(),
            filed_at: o.filed_at.clone(),
            status: o.status.clone(),
            decision_reason: o.decision_reason.clone(),
            decided_by: o.decided_by.clone(),
            decided_at: o.decided_at.clone(),
            batch_id: o.batch_id,
        }
    }
}

/// A result notice (结果通知书): an enterprise's result in a published version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notice {
    pub id: i64,
    pub cycle_id: i64,
    pub year: i32,
    pub version: u32,
    pub run_id: i64,
    pub uscc: String,
    pub district: Option<String>,
    pub status: String,
    pub class: Option<String>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub created_at: String,
    /// When the enterprise acknowledged it.
    pub read_at: Option<String>,
}

impl From<&gusu_store::Notice> for Notice {
    fn from(n: &gusu_store::Notice) -> Notice {
        Notice {
            id: n.id,
            cycle_id: n.cycle_id,
            year: n.year,
            version: n.version,
            run_id: n.run_id,
            uscc: uscc(&n.uscc),
            district: n.district.clone(),
            status: n.status.clone(),
            class: n.class.clone(),
            score: n.score,
            rank: n.rank,
            created_at: n.created_at.clone(),
            read_at: n.read_at.clone(),
        }
    }
}

/// A cycle moved on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Advanced {
    pub cycle: i64,
    pub stage: Stage,
}

/// An enterprise's answer recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmed {
    pub cycle: i64,
    /// `confirmed` or `flagged`.
    pub status: String,
}

/// An objection decided; an accepted one makes a new version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decided {
    pub objection: Objection,
    pub new_version: Option<u32>,
}

/// A correction made: the cycle's new version.
#[derive(Debug, Serialize, ToSchema)]
pub struct Corrected {
    pub cycle: i64,
    pub version: u32,
}
