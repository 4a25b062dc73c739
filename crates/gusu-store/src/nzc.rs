//! Near-zero-carbon factory applications' persistence (issue 4, point 5): each application with
//! its evidence and status, and every step in `nzc_events` with the evidence or the assessment as
//! it was then. Every change runs in one transaction with its audit entry, after gusu-core's rules
//! (`gusu_core::carbon::nzc_application`) allowed it; the assessment a step is judged on is
//! computed inside that transaction from the evidence stored, so what was judged is what is kept.

use chrono::{DateTime, Utc};
use gusu_core::Uscc;
use gusu_core::Viewer;
use gusu_core::carbon::nzc::{self, Assessment, Criteria, Evidence};
use gusu_core::carbon::nzc_application::{
    self as rules, Action, ApplicationError, ApplicationState, ApplicationStatus,
};
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::accounts::audit;
use crate::evaluation::timestamp;
use crate::{Store, StoreError, stored_uscc};

/// An application as stored, with the enterprise's name and district from the register.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NzcApplication {
    pub id: i64,
    pub uscc: Uscc,
    pub name: String,
    pub district: String,
    /// The criteria document's `name@version`.
    pub criteria: String,
    pub year: i32,
    pub status: ApplicationStatus,
    pub evidence: Evidence,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl NzcApplication {
    /// What the rules need to know.
    pub fn state(&self) -> ApplicationState {
        ApplicationState {
            uscc: self.uscc,
            district: self.district.clone(),
            status: self.status,
        }
    }
}

/// One step of an application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NzcEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// `opened`, `evidence_saved`, or an [`Action`] key.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    /// The assessment the step was judged on (route steps only).
    pub assessment: Option<serde_json::Value>,
}

const COLUMNS: &str = "a.id, u.uscc, e.name, e.district, a.criteria, a.year, a.status, a.evidence,
     a.created_by, a.created_at, a.updated_by, a.updated_at";
const FROM: &str = "nzc_applications a JOIN usccs u ON u.id = a.uscc_id
     JOIN enterprises e ON e.uscc_id = a.uscc_id";

fn application_from(r: &Row<'_>) -> Result<NzcApplication, StoreError> {
    let status: String = r.get(6)?;
    let evidence: String = r.get(7)?;
    Ok(NzcApplication {
        id: r.get(0)?,
        uscc: stored_uscc(&r.get::<_, String>(1)?)?,
        name: r.get(2)?,
        district: r.get(3)?,
        criteria: r.get(4)?,
        year: r.get(5)?,
        status: ApplicationStatus::from_key(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("application status {status}")))?,
        evidence: serde_json::from_str(&evidence)
            .map_err(|e| StoreError::Corrupt(format!("application evidence: {e}")))?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
        updated_by: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("JSON: {e}")))
}

#[allow(clippy::too_many_arguments)]
fn add_event(
    tx: &Transaction<'_>,
    id: i64,
    viewer: &Viewer,
    now: DateTime<Utc>,
    action: &str,
    from: Option<ApplicationStatus>,
    to: ApplicationStatus,
    reason: Option<&str>,
    evidence: Option<&Evidence>,
    assessment: Option<&Assessment>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO nzc_events (application_id, at, actor, action, from_status, to_status,
             reason, evidence, assessment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id,
        timestamp(now),
        viewer.user,
        action,
        from.map(ApplicationStatus::key),
        to.key(),
        reason,
        evidence.map(to_json).transpose()?,
        assessment.map(to_json).transpose()?,
    ])?;
    Ok(())
}

fn application_in(tx: &Transaction<'_>, id: i64) -> Result<Option<NzcApplication>, StoreError> {
    let mut stmt = tx.prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE a.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(application_from(r)?)),
        None => Ok(None),
    }
}

/// The application if this viewer may see it; otherwise as if it did not exist.
fn visible_in(
    tx: &Transaction<'_>,
    viewer: &Viewer,
    id: i64,
) -> Result<NzcApplication, StoreError> {
    application_in(tx, id)?
        .filter(|a| rules::may_view(viewer, &a.state()))
        .ok_or_else(|| StoreError::NotFound(format!("application {id}")))
}

impl Store {
    /// Opens an application of an enterprise of the register under a criteria document for an
    /// assessment year, with its first evidence. One per enterprise, criteria and year.
    pub fn open_nzc_application(
        &mut self,
        viewer: &Viewer,
        uscc: &Uscc,
        criteria: &Criteria,
        year: i32,
        evidence: &Evidence,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let found: Option<(i64, String)> = tx
            .prepare_cached(
                "SELECT e.uscc_id, e.district FROM enterprises e JOIN usccs u ON u.id = e.uscc_id
                 WHERE u.uscc = ?1",
            )?
            .query_row([uscc.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // An enterprise the viewer may not see is answered as one that does not exist.
        let Some((uscc_id, district)) = found.filter(|(_, d)| viewer.may_see(uscc, d)) else {
            return Err(StoreError::NotFound(format!("enterprise {uscc}")));
        };
        rules::create(viewer, uscc, &district)?;
        let exists: Option<i64> = tx
            .prepare_cached(
                "SELECT id FROM nzc_applications WHERE uscc_id = ?1 AND criteria = ?2 AND year = ?3",
            )?
            .query_row(params![uscc_id, criteria.id(), year], |r| r.get(0))
            .optional()?;
        if exists.is_some() {
            return Err(ApplicationError::Exists(format!(
                "an application of this enterprise under these criteria for {year}"
            ))
            .into());
        }
        let stamp = timestamp(now);
        tx.execute(
            "INSERT INTO nzc_applications (uscc_id, criteria, year, status, evidence,
                 created_by, created_at, updated_by, updated_at)
             VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?6, ?5, ?6)",
            params![
                uscc_id,
                criteria.id(),
                year,
                to_json(evidence)?,
                viewer.user,
                stamp
            ],
        )?;
        let id = tx.last_insert_rowid();
        add_event(
            &tx,
            id,
            viewer,
            now,
            "opened",
            None,
            ApplicationStatus::Draft,
            None,
            Some(evidence),
            None,
        )?;
        audit(
            &tx,
            &viewer.user,
            "nzc_application_opened",
            Some(&format!("nzc application {id}")),
            // No USCC: the audit administrator reads the log but sees no enterprise's data.
            Some(&format!("{} {year}", criteria.id())),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Replaces the evidence of a draft or returned application.
    pub fn save_nzc_evidence(
        &mut self,
        viewer: &Viewer,
        id: i64,
        evidence: &Evidence,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let app = visible_in(&tx, viewer, id)?;
        rules::edit(viewer, &app.state())?;
        tx.execute(
            "UPDATE nzc_applications SET evidence = ?2, updated_by = ?3, updated_at = ?4
             WHERE id = ?1",
            params![id, to_json(evidence)?, viewer.user, timestamp(now)],
        )?;
        add_event(
            &tx,
            id,
            viewer,
            now,
            "evidence_saved",
            Some(app.status),
            app.status,
            None,
            Some(evidence),
            None,
        )?;
        audit(
            &tx,
            &viewer.user,
            "nzc_evidence_saved",
            Some(&format!("nzc application {id}")),
            None,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// One step of the route, judged on the stored evidence assessed under `criteria` (which must
    /// be the application's document). Returns the new status.
    pub fn act_on_nzc_application(
        &mut self,
        viewer: &Viewer,
        id: i64,
        action: Action,
        reason: &str,
        criteria: &Criteria,
        now: DateTime<Utc>,
    ) -> Result<ApplicationStatus, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let app = visible_in(&tx, viewer, id)?;
        if criteria.id() != app.criteria {
            return Err(ApplicationError::Invalid(format!(
                "the application is under {}, not {}",
                app.criteria,
                criteria.id()
            ))
            .into());
        }
        let assessment = nzc::assess(criteria, &app.district, app.year, &app.evidence);
        let next = rules::act(viewer, &app.state(), action, reason, &assessment)?;
        tx.execute(
            "UPDATE nzc_applications SET status = ?2, updated_by = ?3, updated_at = ?4
             WHERE id = ?1",
            params![id, next.key(), viewer.user, timestamp(now)],
        )?;
        let reason = reason.trim();
        add_event(
            &tx,
            id,
            viewer,
            now,
            action.key(),
            Some(app.status),
            next,
            (!reason.is_empty()).then_some(reason),
            None,
            Some(&assessment),
        )?;
        audit(
            &tx,
            &viewer.user,
            &format!("nzc_{}", action.key()),
            Some(&format!("nzc application {id}")),
            Some(&format!(
                "{} → {}{}",
                app.status.key(),
                next.key(),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            )),
        )?;
        tx.commit()?;
        Ok(next)
    }

    /// Every application, newest first (callers filter by what the viewer may see).
    pub fn nzc_applications(&self) -> Result<Vec<NzcApplication>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} ORDER BY a.id DESC"))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(application_from(r)?);
        }
        Ok(out)
    }

    pub fn nzc_application(&self, id: i64) -> Result<Option<NzcApplication>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE a.id = ?1"))?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(r) => Ok(Some(application_from(r)?)),
            None => Ok(None),
        }
    }

    /// The steps of an application, oldest first.
    pub fn nzc_events(&self, id: i64) -> Result<Vec<NzcEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, actor, action, from_status, to_status, reason, assessment
             FROM nzc_events WHERE application_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                NzcEvent {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    from_status: r.get(4)?,
                    to_status: r.get(5)?,
                    reason: r.get(6)?,
                    assessment: None,
                },
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut event, assessment) = row?;
            event.assessment = assessment
                .map(|a| serde_json::from_str(&a))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("event assessment: {e}")))?;
            out.push(event);
        }
        Ok(out)
    }
}
