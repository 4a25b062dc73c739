//! The policy calculator's facts: designations and projects, imported as batches like every
//! department file (one transaction per file and sheet; lineage by batch and row; the same file
//! again changes nothing). A designation is one recognition (enterprise, designation, level,
//! date recognised): the same again with another expiry corrects the expiry. A project is known
//! by its id: the same id again with other facts replaces them, and belongs to one enterprise.
//! Every row is checked before anything is written: a row of an enterprise not registered, or a
//! project id of another enterprise, refuses the whole file.

use chrono::NaiveDate;
use gusu_core::Uscc;
use gusu_core::policy::{Designation, ProjectFacts};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::imports::{
    BatchMeta, ImportSummary, Uploader, begin_batch, checked_meta, finish_batch, nothing_new,
    record_upload, source_id_or_insert,
};
use crate::{Store, StoreError};

const DESIGNATIONS_KIND: &str = "designations";
const PROJECTS_KIND: &str = "projects";

/// A designation row of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationRow {
    pub row: u64,
    pub uscc: Uscc,
    pub designation: Designation,
}

/// A project row of a file (`facts.uscc` is the enterprise).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    pub row: u64,
    pub facts: ProjectFacts,
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| StoreError::Corrupt(format!("stored date `{s}` is not YYYY-MM-DD")))
}

fn registered(tx: &rusqlite::Connection, uscc: &str) -> Result<Option<i64>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT u.id FROM usccs u JOIN enterprises e ON e.uscc_id = u.id WHERE u.uscc = ?1",
        )?
        .query_row([uscc], |r| r.get(0))
        .optional()?)
}

fn unregistered(row: u64, uscc: &str) -> StoreError {
    StoreError::InvalidBatch(format!(
        "row {row}: enterprise {uscc} is not registered (import the enterprises file first)"
    ))
}

fn flag(b: Option<bool>) -> Option<i64> {
    b.map(i64::from)
}

impl Store {
    /// Imports a designations file's rows (see the module documentation).
    pub fn import_designations(
        &mut self,
        meta: &BatchMeta,
        rows: &[DesignationRow],
        uploader: Option<&Uploader>,
    ) -> Result<ImportSummary, StoreError> {
        let meta = checked_meta(meta)?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            ids.push(
                registered(&tx, r.uscc.as_str())?
                    .ok_or_else(|| unregistered(r.row, r.uscc.as_str()))?,
            );
        }
        let began = begin_batch(&tx, DESIGNATIONS_KIND, &meta)?;
        source_id_or_insert(&tx, &meta.source)?;
        let mut summary = ImportSummary {
            batch_id: Some(began.id),
            rows: rows.len(),
            ..ImportSummary::default()
        };
        for (r, uscc_id) in rows.iter().zip(ids) {
            let d = &r.designation;
            let stored: Option<(i64, Option<String>)> = tx
                .prepare_cached(
                    "SELECT id, expires FROM designations
                     WHERE uscc_id = ?1 AND designation = ?2 AND level = ?3 AND recognised = ?4",
                )?
                .query_row(
                    params![uscc_id, d.designation, d.level, day(d.recognised)],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let expires = d.expires.map(day);
            match stored {
                None => {
                    tx.prepare_cached(
                        "INSERT INTO designations
                             (uscc_id, designation, level, recognised, expires, batch_id, row)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        uscc_id,
                        d.designation,
                        d.level,
                        day(d.recognised),
                        expires,
                        began.id,
                        r.row as i64
                    ])?;
                    summary.inserted += 1;
                }
                Some((_, old)) if old == expires => summary.unchanged += 1,
                Some((id, _)) => {
                    tx.prepare_cached(
                        "UPDATE designations SET expires = ?2, batch_id = ?3, row = ?4 WHERE id = ?1",
                    )?
                    .execute(params![id, expires, began.id, r.row as i64])?;
                    summary.corrected += 1;
                }
            }
        }
        if summary.inserted + summary.corrected == 0 && began.imported_before {
            let s = nothing_new(&tx, began.id, rows.len())?;
            tx.commit()?;
            return Ok(s);
        }
        summary.imported_before = began.imported_before;
        finish_batch(&tx, began.id, &summary)?;
        record_upload(&tx, began.id, DESIGNATIONS_KIND, &meta, &summary, uploader)?;
        tx.commit()?;
        Ok(summary)
    }

    /// Imports a projects file's rows (see the module documentation).
    pub fn import_projects(
        &mut self,
        meta: &BatchMeta,
        rows: &[ProjectRow],
        uploader: Option<&Uploader>,
    ) -> Result<ImportSummary, StoreError> {
        let meta = checked_meta(meta)?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            let p = &r.facts;
            let uscc_id = registered(&tx, &p.uscc)?.ok_or_else(|| unregistered(r.row, &p.uscc))?;
            let owner: Option<String> = tx
                .prepare_cached(
                    "SELECT u.uscc FROM projects p JOIN usccs u ON u.id = p.uscc_id
                     WHERE p.project_id = ?1",
                )?
                .query_row([&p.project_id], |row| row.get(0))
                .optional()?;
            if let Some(owner) = owner
                && owner != p.uscc
            {
                return Err(StoreError::InvalidBatch(format!(
                    "row {}: project {} is enterprise {owner}'s, not {}",
                    r.row, p.project_id, p.uscc
                )));
            }
            ids.push(uscc_id);
        }
        let began = begin_batch(&tx, PROJECTS_KIND, &meta)?;
        source_id_or_insert(&tx, &meta.source)?;
        let mut summary = ImportSummary {
            batch_id: Some(began.id),
            rows: rows.len(),
            ..ImportSummary::default()
        };
        for (r, uscc_id) in rows.iter().zip(ids) {
            let p = &r.facts;
            let before = self_project(&tx, &p.project_id)?;
            if before.as_ref() == Some(p) {
                summary.unchanged += 1;
                continue;
            }
            tx.prepare_cached(
                "INSERT INTO projects (project_id, uscc_id, kind, date, loan_10k_yuan,
                     equipment_loan_10k_yuan, rate_over_lpr_bp, lpr_percent, is_new,
                     fixed_asset_investment_10k_yuan, equipment_investment_10k_yuan,
                     catalogue_investment_10k_yuan, strategic_industry, first_time,
                     years_subsidised, batch_id, row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
                 ON CONFLICT (project_id) DO UPDATE SET kind = excluded.kind,
                     date = excluded.date, loan_10k_yuan = excluded.loan_10k_yuan,
                     equipment_loan_10k_yuan = excluded.equipment_loan_10k_yuan,
                     rate_over_lpr_bp = excluded.rate_over_lpr_bp,
                     lpr_percent = excluded.lpr_percent, is_new = excluded.is_new,
                     fixed_asset_investment_10k_yuan = excluded.fixed_asset_investment_10k_yuan,
                     equipment_investment_10k_yuan = excluded.equipment_investment_10k_yuan,
                     catalogue_investment_10k_yuan = excluded.catalogue_investment_10k_yuan,
                     strategic_industry = excluded.strategic_industry,
                     first_time = excluded.first_time,
                     years_subsidised = excluded.years_subsidised,
                     batch_id = excluded.batch_id, row = excluded.row",
            )?
            .execute(params![
                p.project_id,
                uscc_id,
                p.kind,
                p.date.map(day),
                p.loan_10k_yuan,
                p.equipment_loan_10k_yuan,
                p.rate_over_lpr_bp,
                p.lpr_percent,
                flag(p.is_new),
                p.fixed_asset_investment_10k_yuan,
                p.equipment_investment_10k_yuan,
                p.catalogue_investment_10k_yuan,
                flag(p.strategic_industry),
                flag(p.first_time),
                p.years_subsidised,
                began.id,
                r.row as i64
            ])?;
            if before.is_some() {
                summary.corrected += 1;
            } else {
                summary.inserted += 1;
            }
        }
        if summary.inserted + summary.corrected == 0 && began.imported_before {
            let s = nothing_new(&tx, began.id, rows.len())?;
            tx.commit()?;
            return Ok(s);
        }
        summary.imported_before = began.imported_before;
        finish_batch(&tx, began.id, &summary)?;
        record_upload(&tx, began.id, PROJECTS_KIND, &meta, &summary, uploader)?;
        tx.commit()?;
        Ok(summary)
    }

    /// Whether any designations file was imported: until one is, nobody's designations are
    /// known (the calculator then asks for them instead of taking them as none).
    pub fn has_designations(&self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM import_batches WHERE kind = 'designations')",
            )?
            .query_row([], |r| r.get(0))?)
    }

    /// An enterprise's designations, oldest recognition first.
    pub fn designations_of(&self, uscc: &Uscc) -> Result<Vec<Designation>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.designation, d.level, d.recognised, d.expires
             FROM designations d JOIN usccs u ON u.id = d.uscc_id
             WHERE u.uscc = ?1 ORDER BY d.recognised, d.designation, d.level",
        )?;
        let mut rows = stmt.query([uscc.as_str()])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(designation_from(r, 0)?);
        }
        Ok(out)
    }

    /// Every enterprise's designations: (uscc, designation), by enterprise.
    pub fn all_designations(&self) -> Result<Vec<(String, Designation)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.uscc, d.designation, d.level, d.recognised, d.expires
             FROM designations d JOIN usccs u ON u.id = d.uscc_id
             ORDER BY u.uscc, d.recognised, d.designation, d.level",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, designation_from(r, 1)?));
        }
        Ok(out)
    }

    /// An enterprise's projects, by date then id (undated last).
    pub fn projects_of(&self, uscc: &Uscc) -> Result<Vec<ProjectFacts>, StoreError> {
        self.projects_where("WHERE u.uscc = ?1", &[&uscc.as_str()])
    }

    /// Every project, by enterprise, date and id.
    pub fn all_projects(&self) -> Result<Vec<ProjectFacts>, StoreError> {
        self.projects_where("", &[])
    }

    fn projects_where(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ProjectFacts>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{PROJECT_COLUMNS} {filter} ORDER BY u.uscc, p.date IS NULL, p.date, p.project_id"
        ))?;
        let mut rows = stmt.query(args)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(project_from(r)?);
        }
        Ok(out)
    }
}

const PROJECT_COLUMNS: &str = "SELECT p.project_id, u.uscc, p.kind, p.date, p.loan_10k_yuan,
        p.equipment_loan_10k_yuan, p.rate_over_lpr_bp, p.lpr_percent, p.is_new,
        p.fixed_asset_investment_10k_yuan, p.equipment_investment_10k_yuan,
        p.catalogue_investment_10k_yuan, p.strategic_industry, p.first_time, p.years_subsidised
     FROM projects p JOIN usccs u ON u.id = p.uscc_id";

fn self_project(
    tx: &rusqlite::Connection,
    project_id: &str,
) -> Result<Option<ProjectFacts>, StoreError> {
    let mut stmt = tx.prepare_cached(&format!("{PROJECT_COLUMNS} WHERE p.project_id = ?1"))?;
    let mut rows = stmt.query([project_id])?;
    match rows.next()? {
        Some(r) => Ok(Some(project_from(r)?)),
        None => Ok(None),
    }
}

fn designation_from(r: &rusqlite::Row<'_>, at: usize) -> Result<Designation, StoreError> {
    let recognised: String = r.get(at + 2)?;
    let expires: Option<String> = r.get(at + 3)?;
    Ok(Designation {
        designation: r.get(at)?,
        level: r.get(at + 1)?,
        recognised: parse_day(&recognised)?,
        expires: expires.as_deref().map(parse_day).transpose()?,
    })
}

fn project_from(r: &rusqlite::Row<'_>) -> Result<ProjectFacts, StoreError> {
    let date: Option<String> = r.get(3)?;
    let flag = |i: usize| -> Result<Option<bool>, StoreError> {
        Ok(r.get::<_, Option<i64>>(i)?.map(|v| v != 0))
    };
    Ok(ProjectFacts {
        project_id: r.get(0)?,
        uscc: r.get(1)?,
        kind: r.get(2)?,
        date: date.as_deref().map(parse_day).transpose()?,
        loan_10k_yuan: r.get(4)?,
        equipment_loan_10k_yuan: r.get(5)?,
        rate_over_lpr_bp: r.get(6)?,
        lpr_percent: r.get(7)?,
        is_new: flag(8)?,
        fixed_asset_investment_10k_yuan: r.get(9)?,
        equipment_investment_10k_yuan: r.get(10)?,
        catalogue_investment_10k_yuan: r.get(11)?,
        strategic_industry: flag(12)?,
        first_time: flag(13)?,
        years_subsidised: r.get(14)?,
    })
}

// ------------------------------------------------------------------------------- workflow

/// A policy document written by staff.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyDraft {
    pub id: i64,
    pub policy_id: String,
    pub text: String,
    pub author: String,
    pub created_at: String,
    pub published_at: Option<String>,
    pub published_by: Option<String>,
}

/// A notice to push: an enterprise qualifies for a policy (for a project, or itself).
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotice {
    pub uscc: String,
    pub policy_id: String,
    /// Empty for the enterprise's own decision.
    pub project_id: String,
    pub version: String,
    pub amount_10k_yuan: Option<f64>,
}

/// A notice in an enterprise's inbox.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyNotice {
    pub id: i64,
    pub uscc: String,
    pub policy_id: String,
    pub project_id: Option<String>,
    pub version: String,
    pub amount_10k_yuan: Option<f64>,
    /// `published` (a policy was published) or `facts` (the enterprise's facts changed).
    pub cause: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// How far a policy reached: notices sent and read.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct NoticeCounts {
    pub notified: usize,
    pub read: usize,
}

/// A confirmed list of an automatic policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyListInfo {
    pub id: i64,
    pub policy_id: String,
    pub date: String,
    pub seq: i64,
    pub rows_json: String,
    pub rows: usize,
    pub total_10k_yuan: f64,
    pub confirmed_by: String,
    pub confirmed_at: String,
}

fn draft_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<PolicyDraft> {
    Ok(PolicyDraft {
        id: r.get(0)?,
        policy_id: r.get(1)?,
        text: r.get(2)?,
        author: r.get(3)?,
        created_at: r.get(4)?,
        published_at: r.get(5)?,
        published_by: r.get(6)?,
    })
}

const DRAFT_COLUMNS: &str =
    "SELECT id, policy_id, text, author, created_at, published_at, published_by FROM policy_drafts";

fn insert_notices(
    tx: &rusqlite::Connection,
    notices: &[NewNotice],
    cause: &str,
) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for n in notices {
        let Some(uscc_id) = registered(tx, &n.uscc)? else {
            continue;
        };
        inserted += tx
            .prepare_cached(
                "INSERT OR IGNORE INTO policy_notices
                     (uscc_id, policy_id, project_id, version, amount_10k_yuan, cause)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                uscc_id,
                n.policy_id,
                n.project_id,
                n.version,
                n.amount_10k_yuan,
                cause
            ])?;
    }
    Ok(inserted)
}

impl Store {
    /// Saves a draft (audited); returns its id.
    pub fn save_policy_draft(
        &mut self,
        policy_id: &str,
        text: &str,
        author: &str,
    ) -> Result<i64, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO policy_drafts (policy_id, text, author) VALUES (?1, ?2, ?3)",
            params![policy_id, text, author],
        )?;
        let id = tx.last_insert_rowid();
        crate::accounts::audit(
            &tx,
            author,
            "policy_draft",
            Some(&format!("policy draft {id}")),
            Some(policy_id),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Every draft, newest first.
    pub fn policy_drafts(&self) -> Result<Vec<PolicyDraft>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{DRAFT_COLUMNS} ORDER BY id DESC"))?;
        let rows = stmt.query_map([], draft_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn policy_draft(&self, id: i64) -> Result<Option<PolicyDraft>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!("{DRAFT_COLUMNS} WHERE id = ?1"))?
            .query_row([id], draft_from)
            .optional()?)
    }

    /// The published documents, oldest publication first (a later one of the same policy
    /// replaces an earlier one).
    pub fn published_policies(&self) -> Result<Vec<PolicyDraft>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{DRAFT_COLUMNS} WHERE published_at IS NOT NULL ORDER BY published_at, id"
        ))?;
        let rows = stmt.query_map([], draft_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Publishes a draft and pushes its notices, in one transaction (audited). A draft is
    /// published once.
    pub fn publish_policy_draft(
        &mut self,
        id: i64,
        actor: &str,
        notices: &[NewNotice],
    ) -> Result<usize, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE policy_drafts
             SET published_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), published_by = ?2
             WHERE id = ?1 AND published_at IS NULL",
            params![id, actor],
        )?;
        if changed == 0 {
            return Err(StoreError::InvalidBatch(format!(
                "policy draft {id} does not exist or is published already"
            )));
        }
        let sent = insert_notices(&tx, notices, "published")?;
        crate::accounts::audit(
            &tx,
            actor,
            "policy_publish",
            Some(&format!("policy draft {id}")),
            Some(&format!("{{\"notices\":{sent}}}")),
        )?;
        tx.commit()?;
        Ok(sent)
    }

    /// Pushes notices for facts that changed (an import); those sent before are not sent again.
    pub fn push_policy_notices(&mut self, notices: &[NewNotice]) -> Result<usize, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let sent = insert_notices(&tx, notices, "facts")?;
        tx.commit()?;
        Ok(sent)
    }

    /// An enterprise's notices, newest first.
    pub fn policy_notices_of(&self, uscc: &Uscc) -> Result<Vec<PolicyNotice>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT n.id, u.uscc, n.policy_id, n.project_id, n.version, n.amount_10k_yuan,
                    n.cause, n.created_at, n.read_at
             FROM policy_notices n JOIN usccs u ON u.id = n.uscc_id
             WHERE u.uscc = ?1 ORDER BY n.id DESC",
        )?;
        let rows = stmt.query_map([uscc.as_str()], |r| {
            let project: String = r.get(3)?;
            Ok(PolicyNotice {
                id: r.get(0)?,
                uscc: r.get(1)?,
                policy_id: r.get(2)?,
                project_id: (!project.is_empty()).then_some(project),
                version: r.get(4)?,
                amount_10k_yuan: r.get(5)?,
                cause: r.get(6)?,
                created_at: r.get(7)?,
                read_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks an enterprise's notice read; `false` when it has no such notice.
    pub fn read_policy_notice(&mut self, id: i64, uscc: &Uscc) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE policy_notices SET read_at = COALESCE(read_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             WHERE id = ?1 AND uscc_id = (SELECT id FROM usccs WHERE uscc = ?2)",
            params![id, uscc.as_str()],
        )?;
        Ok(n > 0)
    }

    /// Notices sent and read per policy, with the district of each notified enterprise (for a
    /// district's own counts): (policy, district) → counts.
    pub fn policy_notice_counts(
        &self,
    ) -> Result<std::collections::BTreeMap<(String, String), NoticeCounts>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT n.policy_id, e.district, COUNT(*), COUNT(n.read_at)
             FROM policy_notices n JOIN enterprises e ON e.uscc_id = n.uscc_id
             GROUP BY n.policy_id, e.district",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = std::collections::BTreeMap::new();
        while let Some(r) = rows.next()? {
            let notified: i64 = r.get(2)?;
            let read: i64 = r.get(3)?;
            out.insert(
                (r.get(0)?, r.get(1)?),
                NoticeCounts {
                    notified: notified as usize,
                    read: read as usize,
                },
            );
        }
        Ok(out)
    }

    /// Confirms an automatic policy's list for a date as a new version of it (audited);
    /// returns the version (1, 2, …).
    pub fn confirm_policy_list(
        &mut self,
        policy_id: &str,
        date: NaiveDate,
        rows_json: &str,
        rows: usize,
        total_10k_yuan: f64,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM policy_lists WHERE policy_id = ?1 AND date = ?2",
            params![policy_id, day(date)],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO policy_lists (policy_id, date, seq, rows_json, rows, total_10k_yuan, confirmed_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![policy_id, day(date), seq, rows_json, rows as i64, total_10k_yuan, actor],
        )?;
        crate::accounts::audit(
            &tx,
            actor,
            "policy_list_confirm",
            Some(&format!("policy {policy_id} {} v{seq}", day(date))),
            Some(&format!(
                "{{\"rows\":{rows},\"total_10k_yuan\":{total_10k_yuan}}}"
            )),
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// The confirmed lists of a policy, newest first.
    pub fn policy_lists(&self, policy_id: &str) -> Result<Vec<PolicyListInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, policy_id, date, seq, rows_json, rows, total_10k_yuan, confirmed_by, confirmed_at
             FROM policy_lists WHERE policy_id = ?1 ORDER BY date DESC, seq DESC",
        )?;
        let rows = stmt.query_map([policy_id], |r| {
            let n: i64 = r.get(5)?;
            Ok(PolicyListInfo {
                id: r.get(0)?,
                policy_id: r.get(1)?,
                date: r.get(2)?,
                seq: r.get(3)?,
                rows_json: r.get(4)?,
                rows: n as usize,
                total_10k_yuan: r.get(6)?,
                confirmed_by: r.get(7)?,
                confirmed_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What the calculator needs of the whole city on a date: every registered enterprise with
    /// the figures of the date's year and the year before (effective values), the class of each
    /// of those years' latest published run, its designations (unknown until a designations
    /// file was imported) and every project.
    pub fn policy_city(
        &self,
        date: NaiveDate,
    ) -> Result<(Vec<gusu_core::policy::EnterpriseFacts>, Vec<ProjectFacts>), StoreError> {
        use chrono::Datelike;
        use gusu_core::Figure;
        use gusu_core::policy::{EnterpriseFacts, YearFacts};
        use std::collections::HashMap;
        let mut years: HashMap<String, Vec<YearFacts>> = HashMap::new();
        for year in [date.year() - 1, date.year()] {
            let mut of_year: HashMap<String, YearFacts> = HashMap::new();
            for r in self.yearly_records(year)? {
                let f = |x: Figure| r.figures.get(x);
                of_year.insert(
                    r.uscc.to_string(),
                    YearFacts {
                        year,
                        revenue_10k_yuan: f(Figure::Revenue),
                        tax_paid_10k_yuan: f(Figure::TaxPaid),
                        rd_expense_10k_yuan: f(Figure::RdExpense),
                        employees: f(Figure::Employees),
                        electricity_kwh: f(Figure::ElectricityKwh),
                        energy_tce: f(Figure::EnergyTce),
                        ..YearFacts::default()
                    },
                );
            }
            if let Some(run) = self.latest_run(year, true)? {
                for r in self.results(run.id)? {
                    of_year
                        .entry(r.uscc.to_string())
                        .or_insert_with(|| YearFacts {
                            year,
                            ..YearFacts::default()
                        })
                        .class = r.class;
                }
            }
            for (uscc, y) in of_year {
                years.entry(uscc).or_default().push(y);
            }
        }
        let known = self.has_designations()?;
        let mut held: HashMap<String, Vec<Designation>> = HashMap::new();
        if known {
            for (uscc, d) in self.all_designations()? {
                held.entry(uscc).or_default().push(d);
            }
        }
        let enterprises = self
            .enterprises()?
            .into_iter()
            .map(|e| {
                let uscc = e.uscc.to_string();
                EnterpriseFacts {
                    district: e.district.clone(),
                    division: e.division.parse().ok(),
                    established: Some(e.established),
                    above_scale: Some(e.above_scale),
                    designations: known.then(|| held.remove(&uscc).unwrap_or_default()),
                    years: years.remove(&uscc).unwrap_or_default(),
                    uscc,
                }
            })
            .collect();
        Ok((enterprises, self.all_projects()?))
    }
}

// ---------------------------------------------------------------------------- applications

/// An application for a policy delivered on application.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyApplication {
    pub id: i64,
    pub uscc: Uscc,
    pub name: String,
    pub district: String,
    pub policy_id: String,
    /// `None` for the enterprise's own decision.
    pub project_id: Option<String>,
    pub status: gusu_core::route::ApplicationStatus,
    /// Each evidence item with the applicant's reference.
    pub evidence: std::collections::BTreeMap<String, String>,
    pub amount_10k_yuan: Option<f64>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl PolicyApplication {
    pub fn state(&self) -> gusu_core::route::ApplicationState {
        gusu_core::route::ApplicationState {
            uscc: self.uscc,
            district: self.district.clone(),
            status: self.status,
        }
    }
}

/// A step of an application, as recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PolicyApplicationEvent {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
}

const APPLICATION_COLUMNS: &str = "SELECT a.id, u.uscc, e.name, e.district, a.policy_id, a.project_id,
        a.status, a.evidence, a.amount_10k_yuan, a.created_by, a.created_at, a.updated_by, a.updated_at
     FROM policy_applications a JOIN usccs u ON u.id = a.uscc_id JOIN enterprises e ON e.uscc_id = a.uscc_id";

fn application_from(r: &rusqlite::Row<'_>) -> Result<PolicyApplication, StoreError> {
    let status: String = r.get(6)?;
    let evidence: String = r.get(7)?;
    let project: String = r.get(5)?;
    Ok(PolicyApplication {
        id: r.get(0)?,
        uscc: Uscc::parse(&r.get::<_, String>(1)?)
            .map_err(|e| StoreError::Corrupt(format!("stored uscc: {e}")))?,
        name: r.get(2)?,
        district: r.get(3)?,
        policy_id: r.get(4)?,
        project_id: (!project.is_empty()).then_some(project),
        status: gusu_core::route::ApplicationStatus::from_key(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("application status {status}")))?,
        evidence: serde_json::from_str(&evidence)
            .map_err(|e| StoreError::Corrupt(format!("application evidence: {e}")))?,
        amount_10k_yuan: r.get(8)?,
        created_by: r.get(9)?,
        created_at: r.get(10)?,
        updated_by: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

fn application_in(
    conn: &rusqlite::Connection,
    id: i64,
) -> Result<Option<PolicyApplication>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("{APPLICATION_COLUMNS} WHERE a.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(application_from(r)?)),
        None => Ok(None),
    }
}

/// The application if the viewer may see it; else not found, as if it did not exist.
fn visible_application(
    conn: &rusqlite::Connection,
    viewer: &gusu_core::Viewer,
    id: i64,
) -> Result<PolicyApplication, StoreError> {
    application_in(conn, id)?
        .filter(|a| gusu_core::route::may_view(viewer, &a.state()))
        .ok_or_else(|| StoreError::NotFound(format!("application {id}")))
}

#[allow(clippy::too_many_arguments)]
fn add_application_event(
    tx: &rusqlite::Connection,
    id: i64,
    actor: &str,
    at: &str,
    action: &str,
    from: Option<gusu_core::route::ApplicationStatus>,
    to: gusu_core::route::ApplicationStatus,
    reason: Option<&str>,
    evidence: Option<&str>,
    decision: Option<&str>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO policy_application_events
             (application_id, at, actor, action, from_status, to_status, reason, evidence, decision)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id,
        at,
        actor,
        action,
        from.map(|s| s.key()),
        to.key(),
        reason,
        evidence,
        decision
    ])?;
    Ok(())
}

impl Store {
    /// Opens an application of an enterprise of the register for a policy (and project). One
    /// per enterprise, policy and project.
    pub fn open_policy_application(
        &mut self,
        viewer: &gusu_core::Viewer,
        uscc: &Uscc,
        policy_id: &str,
        project_id: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64, StoreError> {
        use gusu_core::route::{self, ApplicationError, ApplicationStatus};
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let found: Option<(i64, String)> = tx
            .prepare_cached(
                "SELECT e.uscc_id, e.district FROM enterprises e JOIN usccs u ON u.id = e.uscc_id
                 WHERE u.uscc = ?1",
            )?
            .query_row([uscc.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((uscc_id, district)) = found.filter(|(_, d)| viewer.may_see(uscc, d)) else {
            return Err(StoreError::NotFound(format!("enterprise {uscc}")));
        };
        route::create(viewer, uscc, &district)?;
        let project = project_id.unwrap_or("");
        let exists: Option<i64> = tx
            .prepare_cached(
                "SELECT id FROM policy_applications
                 WHERE uscc_id = ?1 AND policy_id = ?2 AND project_id = ?3",
            )?
            .query_row(params![uscc_id, policy_id, project], |r| r.get(0))
            .optional()?;
        if exists.is_some() {
            return Err(ApplicationError::Exists(format!(
                "an application of this enterprise for {policy_id} {project}"
            ))
            .into());
        }
        let stamp = crate::evaluation::timestamp(now);
        tx.execute(
            "INSERT INTO policy_applications (uscc_id, policy_id, project_id, status, evidence,
                 created_by, created_at, updated_by, updated_at)
             VALUES (?1, ?2, ?3, 'draft', '{}', ?4, ?5, ?4, ?5)",
            params![uscc_id, policy_id, project, viewer.user, stamp],
        )?;
        let id = tx.last_insert_rowid();
        add_application_event(
            &tx,
            id,
            &viewer.user,
            &stamp,
            "opened",
            None,
            ApplicationStatus::Draft,
            None,
            None,
            None,
        )?;
        crate::accounts::audit(
            &tx,
            &viewer.user,
            "policy_application_opened",
            Some(&format!("policy application {id}")),
            Some(policy_id),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Replaces the evidence of a draft or returned application.
    pub fn save_policy_evidence(
        &mut self,
        viewer: &gusu_core::Viewer,
        id: i64,
        evidence: &std::collections::BTreeMap<String, String>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let app = visible_application(&tx, viewer, id)?;
        gusu_core::route::edit(viewer, &app.state())?;
        let json = serde_json::to_string(evidence)
            .map_err(|e| StoreError::InvalidBatch(format!("evidence: {e}")))?;
        let stamp = crate::evaluation::timestamp(now);
        tx.execute(
            "UPDATE policy_applications SET evidence = ?2, updated_by = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, json, viewer.user, stamp],
        )?;
        add_application_event(
            &tx,
            id,
            &viewer.user,
            &stamp,
            "evidence",
            Some(app.status),
            app.status,
            None,
            Some(&json),
            None,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// One step of the route. `open` is what the caller found not yet met (the decision's
    /// failing or unknown conditions, evidence items missing); `decision` the decision as JSON,
    /// kept with the step; `amount` the amount it gave.
    #[allow(clippy::too_many_arguments)]
    pub fn act_on_policy_application(
        &mut self,
        viewer: &gusu_core::Viewer,
        id: i64,
        action: gusu_core::route::Action,
        reason: &str,
        open: &[String],
        decision: &str,
        amount: Option<f64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<gusu_core::route::ApplicationStatus, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let app = visible_application(&tx, viewer, id)?;
        let next = gusu_core::route::act(viewer, &app.state(), action, reason, open)?;
        let stamp = crate::evaluation::timestamp(now);
        tx.execute(
            "UPDATE policy_applications SET status = ?2, amount_10k_yuan = ?3, updated_by = ?4,
                 updated_at = ?5 WHERE id = ?1",
            params![id, next.key(), amount, viewer.user, stamp],
        )?;
        let reason = reason.trim();
        add_application_event(
            &tx,
            id,
            &viewer.user,
            &stamp,
            action.key(),
            Some(app.status),
            next,
            (!reason.is_empty()).then_some(reason),
            None,
            Some(decision),
        )?;
        crate::accounts::audit(
            &tx,
            &viewer.user,
            &format!("policy_{}", action.key()),
            Some(&format!("policy application {id}")),
            Some(&format!("{} → {}", app.status.key(), next.key())),
        )?;
        tx.commit()?;
        Ok(next)
    }

    /// Every policy application, newest first (callers filter by what the viewer may see).
    pub fn policy_applications(&self) -> Result<Vec<PolicyApplication>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{APPLICATION_COLUMNS} ORDER BY a.id DESC"))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(application_from(r)?);
        }
        Ok(out)
    }

    pub fn policy_application(&self, id: i64) -> Result<Option<PolicyApplication>, StoreError> {
        application_in(&self.conn, id)
    }

    pub fn policy_application_events(
        &self,
        id: i64,
    ) -> Result<Vec<PolicyApplicationEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, actor, action, from_status, to_status, reason
             FROM policy_application_events WHERE application_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok(PolicyApplicationEvent {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                from_status: r.get(3)?,
                to_status: r.get(4)?,
                reason: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
