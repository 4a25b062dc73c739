//! The evaluation cycle's persistence: cycles and their versions, confirmations, objections with
//! their proposed corrections and attachments' metadata, and result notices. Every change runs in
//! one transaction with its audit entry, after gusu-core's rules (`gusu_core::cycle`) allowed it.

use chrono::{DateTime, Utc};
use gusu_core::cycle::{self, CycleError, CycleState, Stage};
use gusu_core::{Figure, Flag, Scheme, Uscc, Viewer, YearlyRecord};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::accounts::audit;
use crate::evaluation::timestamp;
use crate::imports::uscc_id_or_insert;
use crate::runs::publish_run_in;
use crate::{Store, StoreError, stored_uscc};

/// A cycle as stored, with its current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleInfo {
    pub id: i64,
    pub year: i32,
    pub scheme: String,
    /// District code of a district's own run; `None` for the city.
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
}

/// One evaluation of a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleVersion {
    pub version: u32,
    pub run_id: i64,
    pub reason: String,
    /// The correction import behind it (none for version 1).
    pub batch_id: Option<i64>,
    pub objection_id: Option<i64>,
    /// The enterprise the version concerns (the objection's or the corrected one); none for
    /// version 1.
    pub uscc: Option<Uscc>,
    pub created_by: String,
    pub created_at: String,
}

/// An enterprise's answer in data confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    pub uscc: Uscc,
    /// `confirmed` or `flagged`.
    pub status: String,
    pub message: Option<String>,
    pub answered_by: String,
    pub answered_at: String,
}

/// A field and the value proposed or written for it (interchange key; flags as 1 / 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldValue {
    pub field: String,
    pub value: f64,
}

/// An attachment, described: the content itself is not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: u64,
    /// SHA-256 of the content, 64 hex digits.
    pub sha256: String,
}

/// What an enterprise files.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewObjection {
    pub reasons: String,
    pub corrections: Vec<FieldValue>,
    pub attachments: Vec<Attachment>,
}

/// An objection with its decision, once made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Objection {
    pub id: i64,
    pub cycle_id: i64,
    pub uscc: Uscc,
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

/// A result notice (结果通知书): an enterprise's result in a published version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub id: i64,
    pub cycle_id: i64,
    pub year: i32,
    pub version: u32,
    pub run_id: i64,
    pub uscc: Uscc,
    /// The enterprise's district in the register.
    pub district: Option<String>,
    pub status: String,
    pub class: Option<String>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub created_at: String,
    pub read_at: Option<String>,
}

const CYCLE_COLUMNS: &str = "c.id, c.year, c.scheme, c.region, c.stage, c.notice_days,
    c.notice_started_at, c.run_id, c.created_by, c.created_at, c.published_at,
    (SELECT MAX(version) FROM cycle_versions v WHERE v.cycle_id = c.id)";

fn parse_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {s}: {e}")))
}

fn cycle_from(r: &Row<'_>) -> Result<CycleInfo, StoreError> {
    let stage: String = r.get(4)?;
    let stage =
        Stage::from_key(&stage).ok_or_else(|| StoreError::Corrupt(format!("stage {stage}")))?;
    let notice_days: u32 = r.get(5)?;
    let notice_started_at: Option<String> = r.get(6)?;
    let notice_ends_at = match &notice_started_at {
        Some(s) => CycleState {
            stage,
            region: None,
            notice_days,
            notice_started_at: Some(parse_time(s)?),
            undecided_objections: 0,
        }
        .notice_ends_at()
        .map(timestamp),
        None => None,
    };
    Ok(CycleInfo {
        id: r.get(0)?,
        year: r.get(1)?,
        scheme: r.get(2)?,
        region: r.get(3)?,
        stage,
        notice_days,
        notice_started_at,
        notice_ends_at,
        run_id: r.get(7)?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
        published_at: r.get(10)?,
        version: r.get::<_, Option<u32>>(11)?.unwrap_or(0),
    })
}

/// The values of a correction as a record: every key must be a figure or a flag, once, with a
/// finite value (flags 1 or 0).
fn correction_record(
    uscc: Uscc,
    year: i32,
    values: &[FieldValue],
) -> Result<YearlyRecord, CycleError> {
    let mut record = YearlyRecord::new(uscc, year);
    let mut seen: Vec<&str> = Vec::new();
    for (i, FieldValue { field, value }) in values.iter().enumerate() {
        let at = format!("corrections[{i}] ({field} = {value})");
        if seen.contains(&field.as_str()) {
            return Err(CycleError::Invalid(format!(
                "{at}: the field is given twice"
            )));
        }
        seen.push(field);
        if !value.is_finite() {
            return Err(CycleError::Invalid(format!("{at}: not a finite number")));
        }
        // A negative figure stays possible (a tax refund larger than the tax paid), as in
        // department files, where it is a warning and not an error.
        if let Some(f) = Figure::from_key(field) {
            record.figures.set(f, Some(*value));
        } else if let Some(f) = Flag::ALL.into_iter().find(|f| f.key() == field) {
            if *value != 0.0 && *value != 1.0 {
                return Err(CycleError::Invalid(format!(
                    "{at}: a yes/no field takes 1 or 0"
                )));
            }
            record.set_flag(f, Some(*value == 1.0));
        } else {
            return Err(CycleError::Invalid(format!(
                "{at}: unknown field; expected one of {}",
                Figure::ALL
                    .iter()
                    .map(|f| f.key())
                    .chain(Flag::ALL.iter().map(|f| f.key()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(record)
}

fn checked_attachment(i: usize, a: &Attachment) -> Result<(), CycleError> {
    let bad = |why: &str| {
        Err(CycleError::Invalid(format!(
            "attachments[{i}] ({}): {why}",
            a.file_name
        )))
    };
    if a.file_name.trim().is_empty() || a.file_name.len() > 255 {
        return bad("the file name must be 1 to 255 bytes");
    }
    if a.media_type.trim().is_empty() || !a.media_type.contains('/') {
        return bad("the media type must look like type/subtype");
    }
    if a.sha256.len() != 64 || !a.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return bad("sha256 must be 64 hex digits");
    }
    Ok(())
}

impl Store {
    /// Starts a cycle: evaluates the stored data (version 1) at stage draft.
    pub fn start_cycle(
        &mut self,
        viewer: &Viewer,
        scheme: &Scheme,
        year: i32,
        region: Option<&str>,
        notice_days: u32,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        if !viewer.may_manage_cycle(region) {
            return Err(CycleError::NotPermitted("start a cycle").into());
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        // One open cycle per year and region: two drafts of the same evaluation would leave
        // enterprises answering in both.
        let open: Option<i64> = tx
            .prepare_cached(
                "SELECT id FROM cycles WHERE year = ?1 AND region IS ?2 AND stage != 'published'",
            )?
            .query_row(params![year, region], |r| r.get(0))
            .optional()?;
        if let Some(open) = open {
            return Err(CycleError::AlreadyOpen(open).into());
        }
        let saved = self.evaluate_in(&tx, scheme, year, region, now)?;
        tx.execute(
            "INSERT INTO cycles (year, scheme, region, stage, notice_days, run_id, created_by,
                 created_at)
             VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?6, ?7)",
            params![
                year,
                scheme.name,
                region,
                notice_days,
                saved.run_id,
                viewer.user,
                timestamp(now)
            ],
        )?;
        let id = tx.last_insert_rowid();
        add_version(
            &tx,
            id,
            1,
            saved.run_id,
            "started",
            None,
            None,
            None,
            viewer,
            now,
        )?;
        audit(
            &tx,
            &viewer.user,
            "cycle_started",
            Some(&format!("cycle {id}")),
            Some(&format!(
                "{year} {} {} notice {notice_days} days, run {}",
                scheme.id(),
                region.unwrap_or("city"),
                saved.run_id
            )),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Every cycle, newest first.
    pub fn cycles(&self) -> Result<Vec<CycleInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CYCLE_COLUMNS} FROM cycles c ORDER BY c.id DESC"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(cycle_from(r)?);
        }
        Ok(out)
    }

    pub fn cycle(&self, id: i64) -> Result<Option<CycleInfo>, StoreError> {
        cycle_in(&self.conn, id)
    }

    /// The versions of a cycle, oldest first.
    pub fn cycle_versions(&self, cycle_id: i64) -> Result<Vec<CycleVersion>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.version, v.run_id, v.reason, v.batch_id, v.objection_id, v.created_by,
                    v.created_at, u.uscc
             FROM cycle_versions v LEFT JOIN usccs u ON u.id = v.uscc_id
             WHERE v.cycle_id = ?1 ORDER BY v.version",
        )?;
        let rows = stmt.query_map([cycle_id], |r| {
            let uscc: Option<String> = r.get(7)?;
            Ok((
                CycleVersion {
                    version: r.get(0)?,
                    run_id: r.get(1)?,
                    reason: r.get(2)?,
                    batch_id: r.get(3)?,
                    objection_id: r.get(4)?,
                    uscc: None,
                    created_by: r.get(5)?,
                    created_at: r.get(6)?,
                },
                uscc,
            ))
        })?;
        rows.map(|row| {
            let (mut version, uscc) = row?;
            version.uscc = uscc.map(|u| u.parse()).transpose().map_err(|e| {
                StoreError::Corrupt(format!("cycle {cycle_id} version {}: {e}", version.version))
            })?;
            Ok(version)
        })
        .collect()
    }

    /// Moves a cycle one stage on, as gusu-core's rules allow. Entering the notice starts its
    /// period; publishing publishes the current run and sends every enterprise its notice.
    pub fn advance_cycle(
        &mut self,
        cycle_id: i64,
        viewer: &Viewer,
        now: DateTime<Utc>,
    ) -> Result<Stage, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let (info, state) = state_in(&tx, cycle_id)?;
        let next = cycle::advance(viewer, &state, now)?;
        tx.execute(
            "UPDATE cycles SET stage = ?2 WHERE id = ?1",
            params![cycle_id, next.key()],
        )?;
        if next == Stage::PublicNotice {
            tx.execute(
                "UPDATE cycles SET notice_started_at = ?2 WHERE id = ?1",
                params![cycle_id, timestamp(now)],
            )?;
        }
        let target = format!("cycle {cycle_id}");
        audit(
            &tx,
            &viewer.user,
            "cycle_stage",
            Some(&target),
            Some(&format!("{} → {}", info.stage.key(), next.key())),
        )?;
        if next == Stage::Published {
            publish_in(&tx, &info, viewer, now)?;
        }
        tx.commit()?;
        Ok(next)
    }

    /// Whether an enterprise has a result in the cycle's current run.
    pub fn in_cycle(&self, cycle_id: i64, uscc: &Uscc) -> Result<bool, StoreError> {
        let Some(c) = self.cycle(cycle_id)? else {
            return Ok(false);
        };
        Ok(self.result_for(c.run_id, uscc)?.is_some())
    }

    /// An enterprise confirms its figures (`flagged` false) or flags an error with a message.
    pub fn confirm_figures(
        &mut self,
        cycle_id: i64,
        viewer: &Viewer,
        flagged: bool,
        message: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let gusu_core::Scope::Enterprise(uscc) = viewer.scope else {
            return Err(CycleError::NotPermitted("confirm figures").into());
        };
        let message = message.map(str::trim).filter(|m| !m.is_empty());
        if flagged && message.is_none() {
            return Err(CycleError::Invalid(
                "flagging an error needs a message saying what".into(),
            )
            .into());
        }
        let in_run = self.in_cycle(cycle_id, &uscc)?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let (_, state) = state_in(&tx, cycle_id)?;
        cycle::confirm(viewer, &state, in_run)?;
        let uscc_id = uscc_id_or_insert(&tx, uscc.as_str())?;
        let status = if flagged { "flagged" } else { "confirmed" };
        tx.execute(
            "INSERT INTO cycle_confirmations (cycle_id, uscc_id, status, message, answered_by,
                 answered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (cycle_id, uscc_id) DO UPDATE SET status = excluded.status,
                 message = excluded.message, answered_by = excluded.answered_by,
                 answered_at = excluded.answered_at",
            params![
                cycle_id,
                uscc_id,
                status,
                message,
                viewer.user,
                timestamp(now)
            ],
        )?;
        audit(
            &tx,
            &viewer.user,
            if flagged {
                "figures_flagged"
            } else {
                "figures_confirmed"
            },
            Some(&format!("cycle {cycle_id} {uscc}")),
            message,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The answers given in a cycle's data confirmation, by USCC.
    pub fn confirmations(&self, cycle_id: i64) -> Result<Vec<Confirmation>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.uscc, c.status, c.message, c.answered_by, c.answered_at
             FROM cycle_confirmations c JOIN usccs u ON u.id = c.uscc_id
             WHERE c.cycle_id = ?1 ORDER BY u.uscc",
        )?;
        let mut rows = stmt.query([cycle_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Confirmation {
                uscc: stored_uscc(&r.get::<_, String>(0)?)?,
                status: r.get(1)?,
                message: r.get(2)?,
                answered_by: r.get(3)?,
                answered_at: r.get(4)?,
            });
        }
        Ok(out)
    }

    /// An enterprise files an objection with its reasons, the values it says are right, and what
    /// it attached (described only). Returns the objection's id.
    pub fn file_objection(
        &mut self,
        cycle_id: i64,
        viewer: &Viewer,
        objection: &NewObjection,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let gusu_core::Scope::Enterprise(uscc) = viewer.scope else {
            return Err(CycleError::NotPermitted("file an objection").into());
        };
        if objection.reasons.trim().is_empty() {
            return Err(CycleError::Invalid("an objection needs its reasons".into()).into());
        }
        let in_run = self.in_cycle(cycle_id, &uscc)?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let (info, state) = state_in(&tx, cycle_id)?;
        cycle::file_objection(viewer, &state, in_run, now)?;
        // Checked before writing: a refused objection writes nothing.
        correction_record(uscc, info.year, &objection.corrections)?;
        for (i, a) in objection.attachments.iter().enumerate() {
            checked_attachment(i, a)?;
        }
        let uscc_id = uscc_id_or_insert(&tx, uscc.as_str())?;
        tx.execute(
            "INSERT INTO objections (cycle_id, uscc_id, version, reasons, filed_by, filed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                cycle_id,
                uscc_id,
                info.version,
                objection.reasons.trim(),
                viewer.user,
                timestamp(now)
            ],
        )?;
        let id = tx.last_insert_rowid();
        for c in &objection.corrections {
            tx.execute(
                "INSERT INTO objection_corrections (objection_id, field, value) VALUES (?1, ?2, ?3)",
                params![id, c.field, c.value],
            )?;
        }
        for a in &objection.attachments {
            tx.execute(
                "INSERT INTO objection_attachments (objection_id, file_name, media_type,
                     size_bytes, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id,
                    a.file_name.trim(),
                    a.media_type.trim(),
                    crate::to_i64(a.size_bytes),
                    a.sha256.to_ascii_lowercase()
                ],
            )?;
        }
        audit(
            &tx,
            &viewer.user,
            "objection_filed",
            Some(&format!("objection {id}")),
            Some(&format!(
                "cycle {cycle_id} {uscc}: {} correction(s), {} attachment(s)",
                objection.corrections.len(),
                objection.attachments.len()
            )),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// A cycle's objections, oldest first.
    pub fn objections(&self, cycle_id: i64) -> Result<Vec<Objection>, StoreError> {
        objections_where(&self.conn, "o.cycle_id = ?1", cycle_id)
    }

    pub fn objection(&self, id: i64) -> Result<Option<Objection>, StoreError> {
        Ok(objections_where(&self.conn, "o.id = ?1", id)?.pop())
    }

    /// Staff decide an objection with a reason. Accepting one that proposes values writes them
    /// as a correction import (source `objection`, the batch naming the objection and who decided)
    /// and re-runs the evaluation as a new version; all in one transaction. Returns the new
    /// version, if one was made.
    pub fn decide_objection(
        &mut self,
        objection_id: i64,
        viewer: &Viewer,
        accept: bool,
        reason: &str,
        scheme: &Scheme,
        now: DateTime<Utc>,
    ) -> Result<Option<u32>, StoreError> {
        if reason.trim().is_empty() {
            return Err(CycleError::Invalid("a decision needs its reason".into()).into());
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        // Read under the write lock: two deciders cannot both find it pending.
        let objection = objections_where(&tx, "o.id = ?1", objection_id)?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("objection {objection_id}")))?;
        let (info, state) = state_in(&tx, objection.cycle_id)?;
        cycle::decide_objection(viewer, &state, &objection.status)?;
        let status = if accept { "accepted" } else { "rejected" };
        let mut new_version = None;
        let mut batch_id = None;
        if accept && !objection.corrections.is_empty() {
            check_scheme(&info, scheme)?;
            let record = correction_record(objection.uscc, info.year, &objection.corrections)?;
            let label = format!("objection {objection_id}, decided by {}", viewer.user);
            let batch = self.write_reviewed_values("objection", &label, record)?;
            batch_id = Some(batch);
            let saved = self.evaluate_in(&tx, scheme, info.year, info.region.as_deref(), now)?;
            let version = info.version + 1;
            add_version(
                &tx,
                info.id,
                version,
                saved.run_id,
                &format!("objection {objection_id} accepted: {}", reason.trim()),
                Some(batch),
                Some(objection_id),
                Some(&objection.uscc),
                viewer,
                now,
            )?;
            tx.execute(
                "UPDATE cycles SET run_id = ?2 WHERE id = ?1",
                params![info.id, saved.run_id],
            )?;
            new_version = Some(version);
        }
        tx.execute(
            "UPDATE objections SET status = ?2, decision_reason = ?3, decided_by = ?4,
                 decided_at = ?5, batch_id = ?6
             WHERE id = ?1",
            params![
                objection_id,
                status,
                reason.trim(),
                viewer.user,
                timestamp(now),
                batch_id
            ],
        )?;
        audit(
            &tx,
            &viewer.user,
            if accept {
                "objection_accepted"
            } else {
                "objection_rejected"
            },
            Some(&format!("objection {objection_id}")),
            Some(&format!(
                "cycle {} {}: {}{}",
                info.id,
                objection.uscc,
                reason.trim(),
                new_version
                    .map(|v| format!(" (new version {v})"))
                    .unwrap_or_default()
            )),
        )?;
        tx.commit()?;
        Ok(new_version)
    }

    /// Staff correct an enterprise's figures with a reason: written as a correction import
    /// (source `correction`) and re-run as a new version. After publication the new version is
    /// published at once and its notices sent; earlier versions stay readable. Returns the new
    /// version.
    #[allow(clippy::too_many_arguments)]
    pub fn correct_cycle(
        &mut self,
        cycle_id: i64,
        viewer: &Viewer,
        uscc: &Uscc,
        values: &[FieldValue],
        reason: &str,
        scheme: &Scheme,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        if values.is_empty() {
            return Err(CycleError::Invalid("a correction needs at least one value".into()).into());
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let (info, state) = state_in(&tx, cycle_id)?;
        cycle::correct(viewer, &state, reason)?;
        check_scheme(&info, scheme)?;
        if self.result_for(info.run_id, uscc)?.is_none() {
            return Err(CycleError::NotInCycle.into());
        }
        let record = correction_record(*uscc, info.year, values)?;
        let version = info.version + 1;
        let label = format!(
            "correction of cycle {cycle_id} version {version} by {}: {}",
            viewer.user,
            reason.trim()
        );
        let batch = self.write_reviewed_values("correction", &label, record)?;
        let saved = self.evaluate_in(&tx, scheme, info.year, info.region.as_deref(), now)?;
        add_version(
            &tx,
            cycle_id,
            version,
            saved.run_id,
            reason.trim(),
            Some(batch),
            None,
            Some(uscc),
            viewer,
            now,
        )?;
        tx.execute(
            "UPDATE cycles SET run_id = ?2 WHERE id = ?1",
            params![cycle_id, saved.run_id],
        )?;
        audit(
            &tx,
            &viewer.user,
            "cycle_correction",
            Some(&format!("cycle {cycle_id}")),
            Some(&format!(
                "{uscc}: version {version}, batch {batch}: {}",
                reason.trim()
            )),
        )?;
        if info.stage == Stage::Published {
            let current = cycle_in(&tx, cycle_id)?
                .ok_or_else(|| StoreError::NotFound(format!("cycle {cycle_id}")))?;
            publish_in(&tx, &current, viewer, now)?;
        }
        tx.commit()?;
        Ok(version)
    }

    /// Result notices, newest first: one enterprise's, or every one (`None`).
    pub fn notices(&self, uscc: Option<&Uscc>) -> Result<Vec<Notice>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT n.id, n.cycle_id, c.year, n.version, n.run_id, u.uscc, r.status, r.class,
                    r.score, r.rank, n.created_at, n.read_at, e.district
             FROM result_notices n
             LEFT JOIN enterprises e ON e.uscc_id = n.uscc_id
             JOIN cycles c ON c.id = n.cycle_id
             JOIN usccs u ON u.id = n.uscc_id
             JOIN results r ON r.run_id = n.run_id AND r.uscc_id = n.uscc_id
             WHERE ?1 IS NULL OR u.uscc = ?1
             ORDER BY n.id DESC",
        )?;
        let mut rows = stmt.query([uscc.map(Uscc::as_str)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Notice {
                id: r.get(0)?,
                cycle_id: r.get(1)?,
                year: r.get(2)?,
                version: r.get(3)?,
                run_id: r.get(4)?,
                uscc: stored_uscc(&r.get::<_, String>(5)?)?,
                status: r.get(6)?,
                class: r.get(7)?,
                score: r.get(8)?,
                rank: r.get(9)?,
                created_at: r.get(10)?,
                read_at: r.get(11)?,
                district: r.get(12)?,
            });
        }
        Ok(out)
    }

    /// Marks a notice read by its enterprise (the first reading counts).
    pub fn mark_notice_read(
        &mut self,
        notice_id: i64,
        viewer: &Viewer,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE result_notices SET read_at = ?2 WHERE id = ?1 AND read_at IS NULL",
            params![notice_id, timestamp(now)],
        )?;
        if changed > 0 {
            audit(
                &tx,
                &viewer.user,
                "notice_read",
                Some(&format!("notice {notice_id}")),
                None,
            )?;
        }
        tx.commit()?;
        Ok(changed > 0)
    }
}

fn cycle_in(conn: &Connection, id: i64) -> Result<Option<CycleInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CYCLE_COLUMNS} FROM cycles c WHERE c.id = ?1"
    ))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(cycle_from(r)?)),
        None => Ok(None),
    }
}

/// The cycle and what its rules need, read inside the transaction that will change it.
fn state_in(conn: &Connection, cycle_id: i64) -> Result<(CycleInfo, CycleState), StoreError> {
    let info = cycle_in(conn, cycle_id)?
        .ok_or_else(|| StoreError::NotFound(format!("cycle {cycle_id}")))?;
    let undecided: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM objections WHERE cycle_id = ?1 AND status = 'pending'",
        )?
        .query_row([cycle_id], |r| r.get(0))?;
    let state = CycleState {
        stage: info.stage,
        region: info.region.clone(),
        notice_days: info.notice_days,
        notice_started_at: info
            .notice_started_at
            .as_deref()
            .map(parse_time)
            .transpose()?,
        undecided_objections: usize::try_from(undecided).unwrap_or(usize::MAX),
    };
    Ok((info, state))
}

fn check_scheme(info: &CycleInfo, scheme: &Scheme) -> Result<(), CycleError> {
    if scheme.name != info.scheme {
        return Err(CycleError::Invalid(format!(
            "cycle {} evaluates by {}, not {}",
            info.id, info.scheme, scheme.name
        )));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_version(
    conn: &Connection,
    cycle_id: i64,
    version: u32,
    run_id: i64,
    reason: &str,
    batch_id: Option<i64>,
    objection_id: Option<i64>,
    uscc: Option<&Uscc>,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO cycle_versions (cycle_id, version, run_id, reason, batch_id, objection_id,
             uscc_id, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT id FROM usccs WHERE uscc = ?7), ?8, ?9)",
        params![
            cycle_id,
            version,
            run_id,
            reason,
            batch_id,
            objection_id,
            uscc.map(|u| u.to_string()),
            viewer.user,
            timestamp(now)
        ],
    )?;
    Ok(())
}

/// Publishes the cycle's current run and writes a notice for every enterprise in it.
fn publish_in(
    conn: &Connection,
    info: &CycleInfo,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    publish_run_in(conn, info.run_id)?;
    conn.execute(
        "UPDATE cycles SET published_at = COALESCE(published_at, ?2) WHERE id = ?1",
        params![info.id, timestamp(now)],
    )?;
    let notices = conn.execute(
        "INSERT OR IGNORE INTO result_notices (cycle_id, version, run_id, uscc_id, created_at)
         SELECT ?1, ?2, ?3, uscc_id, ?4 FROM results WHERE run_id = ?3 ORDER BY seq",
        params![info.id, info.version, info.run_id, timestamp(now)],
    )?;
    audit(
        conn,
        &viewer.user,
        "publication",
        Some(&format!("run {}", info.run_id)),
        Some(&format!(
            "cycle {} version {}: {notices} result notices",
            info.id, info.version
        )),
    )?;
    Ok(())
}

fn objections_where(
    conn: &Connection,
    condition: &str,
    key: i64,
) -> Result<Vec<Objection>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.id, o.cycle_id, u.uscc, o.version, o.reasons, o.filed_by, o.filed_at, o.status,
                o.decision_reason, o.decided_by, o.decided_at, o.batch_id
         FROM objections o JOIN usccs u ON u.id = o.uscc_id
         WHERE {condition} ORDER BY o.id"
    ))?;
    let mut rows = stmt.query([key])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Objection {
            id: r.get(0)?,
            cycle_id: r.get(1)?,
            uscc: stored_uscc(&r.get::<_, String>(2)?)?,
            version: r.get(3)?,
            reasons: r.get(4)?,
            corrections: Vec::new(),
            attachments: Vec::new(),
            filed_by: r.get(5)?,
            filed_at: r.get(6)?,
            status: r.get(7)?,
            decision_reason: r.get(8)?,
            decided_by: r.get(9)?,
            decided_at: r.get(10)?,
            batch_id: r.get(11)?,
        });
    }
    for o in &mut out {
        let mut stmt = conn.prepare_cached(
            "SELECT field, value FROM objection_corrections WHERE objection_id = ?1 ORDER BY rowid",
        )?;
        o.corrections = stmt
            .query_map([o.id], |r| {
                Ok(FieldValue {
                    field: r.get(0)?,
                    value: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare_cached(
            "SELECT file_name, media_type, size_bytes, sha256 FROM objection_attachments
             WHERE objection_id = ?1 ORDER BY id",
        )?;
        o.attachments = stmt
            .query_map([o.id], |r| {
                Ok(Attachment {
                    file_name: r.get(0)?,
                    media_type: r.get(1)?,
                    size_bytes: crate::to_u64(r.get(2)?),
                    sha256: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}
