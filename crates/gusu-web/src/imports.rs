//! Imports from the browser and the API (issue 3): city and district staff upload a department
//! file (CSV or XLSX), read its validation report in the page, then commit or cancel it.
//!
//! An upload is parsed with gusu-ingest and never touches the store: the parsed file waits in
//! memory ([`Staging`]) under a random id, visible only to its uploader, for [`STAGING_TTL`].
//! A district officer's rows for other districts' enterprises are rejected row by row. A commit
//! re-checks the rows against the store as it is then and imports the accepted ones in one
//! transaction whose batch records the file, its hash, the source and the uploader (the `import`
//! audit entry is written in the same transaction). Past imports are listed with that lineage.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use gusu_core::{Report, Scope, Uscc, Viewer};
use gusu_ingest::{
    IngestError, ParsedAnnual, ParsedEnergy, ParsedEnterprises, ReadOptions, Sheets, SkipReason,
    SkippedSheet,
};
use gusu_store::{BatchInfo, BatchMeta, ImportSummary, Store, Uploader};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};

use utoipa::{OpenApi, ToSchema};

use crate::pages::{Lang, LangQuery, language, page_session, texts};
use crate::wire::{self, ErrorBody};
use crate::{ApiError, AppState, Authed, WebConfig};

/// How long a checked upload waits for its commit.
pub const STAGING_TTL: Duration = Duration::from_secs(60 * 60);
/// Checked uploads kept per user; a further upload drops that user's oldest.
const STAGED_PER_USER: usize = 5;
/// Room for the form's other fields and the multipart framing around the file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;
/// Findings a validation report lists; the rest are counted (a file of a million bad rows must
/// not make a report of a million lines).
pub const MAX_FINDINGS: usize = 1_000;

/// The departments offered on the upload form (the API takes any name).
const SOURCES: &[(&str, &str, &str)] = &[
    ("stats", "统计局", "statistics bureau"),
    ("tax", "税务局", "tax bureau"),
    ("power", "供电公司", "power company"),
    ("environment", "生态环境局", "environment bureau"),
    ("land", "自然资源和规划局", "natural resources bureau"),
    ("bureau", "工业和信息化局", "industry bureau"),
];

/// The routes of imports, pages and API.
pub fn routes(config: &WebConfig) -> Router<AppState> {
    Router::new()
        .route("/imports", get(imports_page).post(upload_page))
        .route("/imports/{id}", get(report_page))
        .route("/imports/{id}/commit", post(commit_page))
        .route("/imports/{id}/cancel", post(cancel_page))
        .route("/api/v1/imports", get(api_list).post(api_upload))
        .route("/api/v1/imports/{id}", get(api_report).delete(api_cancel))
        .route("/api/v1/imports/{id}/commit", post(api_commit))
        .layer(DefaultBodyLimit::max(
            config.max_upload_bytes.saturating_add(MULTIPART_OVERHEAD),
        ))
        .layer(Extension(Staging::default()))
}

/// Which kind of department file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Enterprises,
    Annual,
    /// Energy lines (`uscc, year, carrier, quantity, unit`) for the carbon accounts.
    Energy,
    /// Designations (`uscc, designation, level, recognised, expires`) for the policy calculator.
    Designations,
    /// Loan and investment projects for the policy calculator.
    Projects,
}

impl FileKind {
    fn key(self) -> &'static str {
        match self {
            FileKind::Enterprises => "enterprises",
            FileKind::Annual => "annual",
            FileKind::Energy => "energy",
            FileKind::Designations => "designations",
            FileKind::Projects => "projects",
        }
    }
}

enum Parsed {
    Enterprises(ParsedEnterprises),
    Annual(ParsedAnnual),
    /// With the number of rows that passed parsing (rows refused by the store checks after it
    /// are counted from it: an energy file keeps no copy of them).
    Energy(ParsedEnergy, usize),
    Designations(gusu_ingest::policy::ParsedDesignations, usize),
    Projects(gusu_ingest::policy::ParsedProjects, usize),
}

impl Parsed {
    fn report(&self) -> &Report {
        match self {
            Parsed::Enterprises(p) => &p.report,
            Parsed::Annual(p) => &p.report,
            Parsed::Energy(p, _) => &p.report,
            Parsed::Designations(p, _) => &p.report,
            Parsed::Projects(p, _) => &p.report,
        }
    }

    fn accepted(&self) -> usize {
        match self {
            Parsed::Enterprises(p) => p.rows.len(),
            Parsed::Annual(p) => p.rows.len(),
            Parsed::Energy(p, _) => p.rows.len(),
            Parsed::Designations(p, _) => p.rows.len(),
            Parsed::Projects(p, _) => p.rows.len(),
        }
    }

    fn rejected(&self) -> usize {
        match self {
            Parsed::Enterprises(p) => p.rejected.rows.len(),
            Parsed::Annual(p) => p.rejected.rows.len(),
            Parsed::Energy(p, parsed) => p.rejected.rows.len() + (parsed - p.rows.len()),
            Parsed::Designations(p, parsed) => p.rejected.rows.len() + (parsed - p.rows.len()),
            Parsed::Projects(p, parsed) => p.rejected.rows.len() + (parsed - p.rows.len()),
        }
    }

    /// File name, workbook sheet and hash: what identifies the batch.
    fn file(&self) -> (&str, Option<&str>, &str) {
        match self {
            Parsed::Enterprises(p) => (&p.file_name, p.sheet.as_deref(), &p.sha256),
            Parsed::Annual(p) => (&p.file_name, p.sheet.as_deref(), &p.sha256),
            Parsed::Energy(p, _) => (&p.file_name, p.sheet.as_deref(), &p.sha256),
            Parsed::Designations(p, _) => (&p.file_name, p.sheet.as_deref(), &p.sha256),
            Parsed::Projects(p, _) => (&p.file_name, p.sheet.as_deref(), &p.sha256),
        }
    }
}

/// A checked upload waiting for its commit: every sheet read (one for a text file; a workbook
/// with one sheet per district has several), and the sheets left out.
struct Staged {
    owner: String,
    created: Instant,
    kind: FileKind,
    source: String,
    year: Option<i32>,
    sheets: Vec<Parsed>,
    skipped: Vec<SkippedSheet>,
}

impl Staged {
    fn accepted(&self) -> usize {
        self.sheets.iter().map(Parsed::accepted).sum()
    }

    fn rejected(&self) -> usize {
        self.sheets.iter().map(Parsed::rejected).sum()
    }

    fn file_name(&self) -> &str {
        self.sheets.first().map_or("", |p| p.file().0)
    }
}

/// Checked uploads by id. Each app has its own (a layer of [`routes`]).
#[derive(Clone, Default)]
pub struct Staging(Arc<Mutex<HashMap<String, Staged>>>);

impl Staging {
    /// The map, with expired uploads dropped.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Staged>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.created.elapsed() < STAGING_TTL);
        map
    }

    fn insert(&self, staged: Staged) -> String {
        let id = crate::session::random_token();
        let mut map = self.lock();
        let mut mine: Vec<(Instant, String)> = map
            .iter()
            .filter(|(_, s)| s.owner == staged.owner)
            .map(|(id, s)| (s.created, id.clone()))
            .collect();
        mine.sort();
        while mine.len() >= STAGED_PER_USER {
            let (_, oldest) = mine.remove(0);
            map.remove(&oldest);
        }
        map.insert(id.clone(), staged);
        id
    }

    /// Removes and returns an upload, if it is `owner`'s (anyone else's is as if absent).
    fn take(&self, id: &str, owner: &str) -> Option<Staged> {
        let mut map = self.lock();
        if map.get(id).is_some_and(|s| s.owner == owner) {
            map.remove(id)
        } else {
            None
        }
    }

    fn report(&self, id: &str, owner: &str, store: &Store) -> Result<StagedReport, ApiError> {
        let map = self.lock();
        let staged = map
            .get(id)
            .filter(|s| s.owner == owner)
            .ok_or_else(|| ApiError::not_found("staged import"))?;
        StagedReport::of(id, staged, store)
    }

    fn of_owner(&self, owner: &str) -> Vec<StagedLine> {
        let map = self.lock();
        let mut lines: Vec<(Instant, StagedLine)> = map
            .iter()
            .filter(|(_, s)| s.owner == owner)
            .map(|(id, s)| {
                (
                    s.created,
                    StagedLine {
                        id: id.clone(),
                        file_name: s.file_name().to_string(),
                        kind: s.kind,
                        source: s.source.clone(),
                        accepted: s.accepted(),
                        rejected: s.rejected(),
                    },
                )
            })
            .collect();
        lines.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
        lines.into_iter().map(|(_, l)| l).collect()
    }
}

/// A checked upload waiting for commit, as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct StagedLine {
    pub id: String,
    pub file_name: String,
    pub kind: FileKind,
    pub source: String,
    pub accepted: usize,
    pub rejected: usize,
}

/// The validation report of a checked upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct StagedReport {
    /// The staging id: commit or cancel with it.
    pub id: String,
    pub kind: FileKind,
    pub source: String,
    pub year: Option<i32>,
    pub file_name: String,
    pub file_sha256: String,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows a commit would import.
    pub accepted: usize,
    pub rejected: usize,
    pub errors: usize,
    pub warnings: usize,
    /// The same file (kind, source, content) was imported before, every sheet of it: a commit
    /// would change nothing (a commit still takes rows refused the first time that pass now).
    pub already_imported: bool,
    pub expires_in_seconds: u64,
    /// The first [`MAX_FINDINGS`] findings, each with its row, column, cell value and reason
    /// (English and Chinese), errors first.
    pub findings: Vec<wire::imports::Finding>,
    /// Every finding, listed or not.
    pub findings_total: usize,
    /// Each sheet read, in workbook order (one entry, with no sheet, for a text file); the
    /// counts above are their sums.
    pub sheets: Vec<SheetReport>,
    /// Sheets of the workbook that were not read, with the reason.
    pub skipped_sheets: Vec<SkippedSheetLine>,
}

/// One sheet of an upload as checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetReport {
    /// The workbook sheet; none for a text file.
    pub sheet: Option<String>,
    pub rows: u64,
    pub accepted: usize,
    pub rejected: usize,
    pub errors: usize,
    pub warnings: usize,
    /// This sheet of this file (kind, source, content) was imported before.
    pub already_imported: bool,
}

/// A sheet of the workbook that was not read.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedSheetLine {
    pub sheet: String,
    /// `hidden`, `empty` or `no_header`.
    pub reason: String,
    pub message: String,
    pub message_zh: String,
}

impl From<&SkippedSheet> for SkippedSheetLine {
    fn from(s: &SkippedSheet) -> SkippedSheetLine {
        let (reason, message, message_zh) = match s.reason {
            // On the web the sheet is named in the form, not with the CLI's --sheet.
            SkipReason::Hidden => (
                "hidden",
                "hidden sheet; name it in the sheet field to read it",
                "隐藏的工作表；如需读取，请在“工作表”一栏填写其名称",
            ),
            SkipReason::Empty => (
                "empty",
                SkipReason::Empty.message(),
                SkipReason::Empty.message_zh(),
            ),
            SkipReason::NoHeader => (
                "no_header",
                SkipReason::NoHeader.message(),
                SkipReason::NoHeader.message_zh(),
            ),
        };
        SkippedSheetLine {
            sheet: s.sheet.clone(),
            reason: reason.to_string(),
            message: message.to_string(),
            message_zh: message_zh.to_string(),
        }
    }
}

impl StagedReport {
    fn of(id: &str, s: &Staged, store: &Store) -> Result<StagedReport, ApiError> {
        let batches = store.batches()?;
        let imported_before = |p: &Parsed| {
            let (_, sheet, sha) = p.file();
            batches.iter().any(|b| {
                b.kind == s.kind.key()
                    && b.source == s.source
                    && b.file_sha256 == sha
                    && b.sheet.as_deref() == sheet
            })
        };
        let sheets: Vec<SheetReport> = s
            .sheets
            .iter()
            .map(|p| {
                let report = p.report();
                SheetReport {
                    sheet: p.file().1.map(str::to_string),
                    rows: report.rows,
                    accepted: p.accepted(),
                    rejected: p.rejected(),
                    errors: report.error_count(),
                    warnings: report.warning_count(),
                    already_imported: imported_before(p),
                }
            })
            .collect();
        // Findings of every sheet, each named by its sheet when there are several; errors
        // first (stable: each kind keeps the sheets' and the file's order).
        let several = s.sheets.len() > 1;
        let mut listed: Vec<(Option<&str>, &gusu_core::Issue)> = s
            .sheets
            .iter()
            .flat_map(|p| {
                let sheet = if several { p.file().1 } else { None };
                p.report().issues.iter().map(move |i| (sheet, i))
            })
            .collect();
        let findings_total = listed.len();
        listed.sort_by_key(|(_, i)| std::cmp::Reverse(i.severity));
        let (file_name, _, sha) = s.sheets[0].file();
        Ok(StagedReport {
            id: id.to_string(),
            kind: s.kind,
            source: s.source.clone(),
            year: s.year,
            file_name: file_name.to_string(),
            file_sha256: sha.to_string(),
            rows: sheets.iter().map(|r| r.rows).sum(),
            accepted: s.accepted(),
            rejected: s.rejected(),
            errors: sheets.iter().map(|r| r.errors).sum(),
            warnings: sheets.iter().map(|r| r.warnings).sum(),
            already_imported: sheets.iter().all(|r| r.already_imported),
            expires_in_seconds: STAGING_TTL.saturating_sub(s.created.elapsed()).as_secs(),
            findings: listed
                .into_iter()
                .take(MAX_FINDINGS)
                .map(|(sheet, i)| wire::imports::Finding::from(i).in_sheet(sheet))
                .collect(),
            findings_total,
            sheets,
            skipped_sheets: s.skipped.iter().map(Into::into).collect(),
        })
    }
}

/// What a commit did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitResult {
    pub batch_id: Option<i64>,
    /// The same file was imported before: nothing was written.
    pub already_imported: bool,
    pub file_name: String,
    pub kind: FileKind,
    pub source: String,
    /// Rows imported.
    pub rows: usize,
    /// Rows of the file left out as wrong.
    pub rejected: usize,
    pub inserted: usize,
    pub corrected: usize,
    pub unchanged: usize,
    pub conflicts: Vec<wire::imports::Conflict>,
    /// Each sheet imported, its own batch (the counts above are their sums; `batch_id` is the
    /// first sheet's). A sheet none of whose rows passed is not imported and not listed.
    pub sheets: Vec<SheetCommit>,
}

/// What a commit did with one sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetCommit {
    /// The workbook sheet; none for a text file.
    pub sheet: Option<String>,
    pub batch_id: Option<i64>,
    pub already_imported: bool,
    pub rows: usize,
    pub rejected: usize,
    pub inserted: usize,
    pub corrected: usize,
    pub unchanged: usize,
}

/// A refusal with its reason in both languages: the API answers in English, pages in the
/// reader's language.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    en: String,
    zh: String,
}

impl Refusal {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Refusal {
        Refusal {
            status,
            code,
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub(crate) fn bad(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, code, en, zh)
    }

    pub(crate) fn message(&self, lang: Lang) -> &str {
        if lang == Lang::Zh { &self.zh } else { &self.en }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        ApiError::new(r.status, r.code, r.en)
    }
}

impl From<gusu_store::StoreError> for Refusal {
    fn from(e: gusu_store::StoreError) -> Refusal {
        Refusal::from(ApiError::from(e))
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        let zh = match e.status {
            StatusCode::FORBIDDEN => "您的角色无权进行此操作".to_string(),
            StatusCode::NOT_FOUND => "找不到该待导入文件（可能已过期、已提交或已取消）".to_string(),
            _ => format!("服务器错误：{}", e.message),
        };
        Refusal::new(e.status, e.code, e.message, zh)
    }
}

/// The fields of an upload form.
#[derive(Default)]
struct Upload {
    file_name: Option<String>,
    bytes: Vec<u8>,
    kind: Option<String>,
    source: Option<String>,
    year: Option<String>,
    sheet: Option<String>,
    csrf: Option<String>,
}

fn too_large(limit: usize) -> Refusal {
    let mb = limit as f64 / (1024.0 * 1024.0);
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload_too_large",
        format!("the upload is larger than the limit of {mb:.1} MB; nothing was staged"),
        format!("上传的文件超过 {mb:.1} MB 的上限，未作处理"),
    )
}

fn multipart_failure(e: &MultipartError, limit: usize) -> Refusal {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large(limit);
    }
    Refusal::bad(
        "invalid_upload",
        format!("the upload form could not be read: {}", e.body_text()),
        format!("无法读取上传的表单：{}", e.body_text()),
    )
}

/// Reads the form. `page` forms also carry the CSRF field; anything else is refused by name.
async fn read_upload(
    multipart: Result<Multipart, MultipartRejection>,
    limit: usize,
    page: bool,
) -> Result<Upload, Refusal> {
    let mut multipart = multipart.map_err(|e| {
        Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_upload",
            format!("send the file as multipart/form-data: {}", e.body_text()),
            "请以 multipart/form-data 表单上传文件",
        )
    })?;
    let mut upload = Upload::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_failure(&e, limit))?
    {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                if upload.file_name.is_some() {
                    return Err(Refusal::bad(
                        "invalid_upload",
                        "one file per upload",
                        "每次只能上传一个文件",
                    ));
                }
                let file_name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).trim().to_string())
                    .unwrap_or_default();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| multipart_failure(&e, limit))?;
                if bytes.len() > limit {
                    return Err(too_large(limit));
                }
                upload.file_name = Some(file_name);
                upload.bytes = bytes.to_vec();
            }
            "kind" | "source" | "year" | "sheet" | "csrf" if name != "csrf" || page => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| multipart_failure(&e, limit))?;
                let slot = match name.as_str() {
                    "kind" => &mut upload.kind,
                    "source" => &mut upload.source,
                    "year" => &mut upload.year,
                    "sheet" => &mut upload.sheet,
                    _ => &mut upload.csrf,
                };
                *slot = Some(text.trim().to_string());
            }
            other => {
                return Err(Refusal::bad(
                    "unknown_field",
                    format!(
                        "unknown form field '{other}'; the fields are file, kind, source, year and sheet"
                    ),
                    format!("未知的表单字段“{other}”；可用字段为 file、kind、source、year、sheet"),
                ));
            }
        }
    }
    Ok(upload)
}

/// The checked form: kind, source, year, and the file with its name.
struct Checked {
    kind: FileKind,
    /// The workbook sheet to read (XLSX); the first when not given.
    sheet: Option<String>,
    source: String,
    year: Option<i32>,
    file_name: String,
    bytes: Vec<u8>,
}

fn check_fields(upload: Upload) -> Result<Checked, Refusal> {
    let kind = match upload.kind.as_deref() {
        Some("enterprises") => FileKind::Enterprises,
        Some("annual") => FileKind::Annual,
        Some("energy") => FileKind::Energy,
        Some("designations") => FileKind::Designations,
        Some("projects") => FileKind::Projects,
        Some(other) => {
            return Err(Refusal::bad(
                "invalid_kind",
                format!(
                    "kind '{other}' is none of 'enterprises', 'annual', 'energy', 'designations', 'projects'"
                ),
                format!(
                    "文件类型“{other}”无效，应为 enterprises（企业名录）、annual（年度数据）、energy（能源消费）、designations（企业认定）或 projects（项目）"
                ),
            ));
        }
        None => {
            return Err(Refusal::bad(
                "invalid_kind",
                "the kind of file (enterprises, annual, energy, designations or projects) is missing",
                "缺少文件类型（企业名录、年度数据、能源消费、企业认定或项目）",
            ));
        }
    };
    let source = upload.source.unwrap_or_default().to_lowercase();
    if source.is_empty()
        || source.chars().count() > 40
        || !source
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Refusal::bad(
            "invalid_source",
            format!("the source department '{source}' must be 1 to 40 letters, digits, '_' or '-'"),
            format!("来源部门“{source}”无效：应为 1 至 40 个字母、数字、“_”或“-”"),
        ));
    }
    let year = match upload.year.as_deref() {
        None | Some("") => None,
        Some(y) => match y.parse::<i32>() {
            Ok(y) if (1949..=2100).contains(&y) => Some(y),
            _ => {
                return Err(Refusal::bad(
                    "invalid_year",
                    format!("the year '{y}' is not a year from 1949 to 2100"),
                    format!("年份“{y}”无效，应为 1949 至 2100 之间的整数"),
                ));
            }
        },
    };
    // A year only means something for yearly files.
    let year = if matches!(
        kind,
        FileKind::Enterprises | FileKind::Designations | FileKind::Projects
    ) {
        None
    } else {
        year
    };
    let Some(file_name) = upload.file_name.filter(|n| !n.is_empty()) else {
        return Err(Refusal::bad(
            "missing_file",
            "no file was uploaded (form field 'file' with a file name)",
            "没有上传文件",
        ));
    };
    if upload.bytes.is_empty() {
        return Err(Refusal::bad(
            "empty_file",
            format!("{file_name} is empty"),
            format!("{file_name} 是空文件"),
        ));
    }
    check_file_type(&file_name, &upload.bytes)?;
    Ok(Checked {
        kind,
        sheet: upload.sheet.filter(|s| !s.is_empty()),
        source,
        year,
        file_name,
        bytes: upload.bytes,
    })
}

/// The name must say CSV or XLSX and the content must agree: an XLSX workbook is a zip archive
/// (`PK\x03\x04`); a CSV is text (no NUL byte near the start).
fn check_file_type(name: &str, bytes: &[u8]) -> Result<(), Refusal> {
    let unsupported = |en: String, zh: String| {
        Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            en,
            zh,
        )
    };
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let zip = bytes.starts_with(b"PK\x03\x04");
    let binary = bytes.iter().take(8192).any(|&b| b == 0);
    match extension.as_str() {
        "xlsx" if zip => Ok(()),
        "xlsx" => Err(unsupported(
            format!(
                "{name} is named .xlsx but is not an Excel workbook (an .xlsx file is a zip archive); an old .xls must be saved as .xlsx"
            ),
            format!("{name} 扩展名为 .xlsx，但内容不是 Excel 工作簿；旧版 .xls 文件请另存为 .xlsx"),
        )),
        "csv" if zip => Err(unsupported(
            format!(
                "{name} is named .csv but is a zip archive (an Excel workbook?): export it as CSV or name it .xlsx"
            ),
            format!(
                "{name} 扩展名为 .csv，但内容是压缩包（可能是 Excel 工作簿）：请导出为 CSV 或改用 .xlsx"
            ),
        )),
        "csv" if binary => Err(unsupported(
            format!("{name} is named .csv but is not a text file in UTF-8 or GBK"),
            format!("{name} 扩展名为 .csv，但不是 UTF-8 或 GBK 编码的文本文件"),
        )),
        "csv" => Ok(()),
        _ => Err(unsupported(
            format!("{name}: only CSV (.csv) and Excel (.xlsx) files are accepted"),
            format!("{name}：只接受 CSV（.csv）和 Excel（.xlsx）文件"),
        )),
    }
}

fn ingest_refusal(e: &IngestError) -> Refusal {
    Refusal::bad("invalid_file", e.to_string(), e.message_zh())
}

/// Every registered enterprise's district.
fn registered(store: &Store) -> Result<HashMap<Uscc, String>, ApiError> {
    Ok(store
        .enterprises()?
        .into_iter()
        .map(|e| (e.uscc, e.district))
        .collect())
}

/// The checks that need the store: unknown enterprises (yearly files), other districts (a
/// district officer), another year (when one was chosen).
fn check_against_store(
    parsed: &mut Parsed,
    registered: &HashMap<Uscc, String>,
    viewer: &Viewer,
    year: Option<i32>,
    region: &gusu_core::RegionSet,
) {
    let allowed = |district: &str| viewer.may_import_for(district);
    match parsed {
        Parsed::Enterprises(p) => {
            gusu_ingest::check_enterprise_districts(p, registered, region, allowed);
        }
        Parsed::Annual(p) => {
            let known: HashSet<Uscc> = registered.keys().copied().collect();
            gusu_ingest::check_known_enterprises(p, &known);
            gusu_ingest::check_annual_districts(p, registered, region, allowed);
            if let Some(year) = year {
                gusu_ingest::check_annual_year(p, year);
            }
        }
        Parsed::Energy(p, _) => {
            let known: HashSet<Uscc> = registered.keys().copied().collect();
            gusu_ingest::check_known_energy(p, &known);
            gusu_ingest::check_energy_districts(p, registered, region, allowed);
            if let Some(year) = year {
                gusu_ingest::check_energy_year(p, year);
            }
        }
        Parsed::Designations(p, _) => {
            gusu_ingest::policy::check_fact_enterprises(p, registered, region, allowed, |r| {
                Some(r.uscc)
            });
        }
        Parsed::Projects(p, _) => {
            gusu_ingest::policy::check_fact_enterprises(p, registered, region, allowed, |r| {
                Uscc::parse(&r.uscc).ok()
            });
        }
    }
}

fn may_import(viewer: &Viewer) -> Result<(), ApiError> {
    if viewer.may_import() {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// Parses and checks an upload and stages it; returns the staging id.
async fn stage(
    state: &AppState,
    staging: &Staging,
    viewer: &Viewer,
    upload: Upload,
) -> Result<String, Refusal> {
    may_import(viewer)?;
    let checked = check_fields(upload)?;
    let Checked {
        kind,
        sheet,
        source,
        year,
        file_name,
        bytes,
    } = checked;
    let opts = ReadOptions {
        sheet,
        region: state.0.config.region.clone(),
    };
    // Parsing a large file takes a while: off the request threads. Without a sheet named, every
    // sheet whose header is recognised is read (one per district is common), as the CLI does.
    fn each<T>(sheets: Sheets<T>, to: impl Fn(T) -> Parsed) -> (Vec<Parsed>, Vec<SkippedSheet>) {
        (sheets.parsed.into_iter().map(to).collect(), sheets.skipped)
    }
    let parsed = tokio::task::spawn_blocking(move || match kind {
        FileKind::Enterprises => gusu_ingest::parse_enterprises_sheets(&bytes, &file_name, &opts)
            .map(|s| each(s, Parsed::Enterprises)),
        FileKind::Annual => gusu_ingest::parse_annual_sheets(&bytes, &file_name, &opts)
            .map(|s| each(s, Parsed::Annual)),
        FileKind::Energy => gusu_ingest::parse_energy_sheets(&bytes, &file_name, &opts).map(|s| {
            each(s, |p| {
                let passed = p.rows.len();
                Parsed::Energy(p, passed)
            })
        }),
        FileKind::Designations => {
            gusu_ingest::policy::parse_designations(&bytes, &file_name, &opts).map(|s| {
                each(s, |p| {
                    let passed = p.rows.len();
                    Parsed::Designations(p, passed)
                })
            })
        }
        FileKind::Projects => {
            gusu_ingest::policy::parse_projects(&bytes, &file_name, &opts).map(|s| {
                each(s, |p| {
                    let passed = p.rows.len();
                    Parsed::Projects(p, passed)
                })
            })
        }
    })
    .await
    .map_err(|e| Refusal::from(ApiError::internal(e.to_string())))?;
    let (mut sheets, skipped) = parsed.map_err(|e| ingest_refusal(&e))?;
    let registered = registered(&state.reader())?;
    for parsed in &mut sheets {
        check_against_store(parsed, &registered, viewer, year, &state.0.config.region);
    }
    Ok(staging.insert(Staged {
        owner: viewer.user.clone(),
        created: Instant::now(),
        kind,
        source,
        year,
        sheets,
        skipped,
    }))
}

/// Imports a staged upload's accepted rows, after checking them again against the store.
fn commit(
    state: &AppState,
    staging: &Staging,
    viewer: &Viewer,
    id: &str,
) -> Result<CommitResult, Refusal> {
    may_import(viewer)?;
    let mut staged = staging
        .take(id, &viewer.user)
        .ok_or_else(|| ApiError::not_found("staged import"))?;
    let mut store = state.store();
    // The store may have changed since the report was made (another import moved an enterprise).
    let before = staged.accepted();
    let known = registered(&store)?;
    for parsed in &mut staged.sheets {
        check_against_store(parsed, &known, viewer, staged.year, &state.0.config.region);
    }
    let now_refused = before - staged.accepted();
    if now_refused > 0 {
        return Err(Refusal::new(
            StatusCode::CONFLICT,
            "stale_report",
            format!(
                "the data changed since the file was checked: {now_refused} more rows would be refused now; nothing was imported, upload the file again"
            ),
            format!(
                "文件校验后数据已有变化，现在又有 {now_refused} 行会被拒绝；未导入任何数据，请重新上传"
            ),
        ));
    }
    if before == 0 {
        return Err(Refusal::bad(
            "nothing_to_import",
            "no row of the file passed the checks: nothing was imported",
            "文件中没有通过校验的行，未导入任何数据",
        ));
    }
    // Each sheet is its own batch, in its own transaction, as the CLI imports it.
    let mut sheets: Vec<(SheetCommit, Vec<wire::imports::Conflict>)> = Vec::new();
    for parsed in staged.sheets.iter().filter(|p| p.accepted() > 0) {
        let (file_name, sheet, sha) = parsed.file();
        let meta = BatchMeta {
            source: staged.source.clone(),
            file_name: file_name.to_string(),
            sheet: sheet.map(str::to_string),
            file_sha256: sha.to_string(),
        };
        let uploader = Uploader {
            actor: viewer.user.clone(),
            rejected: parsed.rejected(),
        };
        let summary: ImportSummary = match parsed {
            Parsed::Enterprises(p) => store.import_enterprises_by(&meta, &p.rows, &uploader),
            Parsed::Annual(p) => store.import_annual_by(&meta, &p.rows, &uploader),
            Parsed::Energy(p, _) => {
                let rows: Vec<gusu_store::EnergyRow> = p
                    .rows
                    .iter()
                    .map(|r| gusu_store::EnergyRow {
                        row: r.row,
                        uscc: r.record.uscc,
                        year: r.record.year,
                        line: r.record.line.clone(),
                    })
                    .collect();
                store.import_energy(&meta, &rows, Some(&uploader))
            }
            Parsed::Designations(p, _) => {
                let rows: Vec<gusu_store::DesignationRow> = p
                    .rows
                    .iter()
                    .map(|r| gusu_store::DesignationRow {
                        row: r.row,
                        uscc: r.record.uscc,
                        designation: r.record.designation.clone(),
                    })
                    .collect();
                store.import_designations(&meta, &rows, Some(&uploader))
            }
            Parsed::Projects(p, _) => {
                let rows: Vec<gusu_store::ProjectRow> = p
                    .rows
                    .iter()
                    .map(|r| gusu_store::ProjectRow {
                        row: r.row,
                        facts: r.record.clone(),
                    })
                    .collect();
                store.import_projects(&meta, &rows, Some(&uploader))
            }
        }
        .map_err(|e| failed_after(Refusal::from(ApiError::from(e)), &sheets))?;
        sheets.push((
            SheetCommit {
                sheet: meta.sheet,
                batch_id: summary.batch_id,
                already_imported: summary.already_imported,
                rows: summary.rows,
                rejected: uploader.rejected,
                inserted: summary.inserted,
                corrected: summary.corrected,
                unchanged: summary.unchanged,
            },
            summary.conflicts.iter().map(Into::into).collect(),
        ));
    }
    // The calculator's facts changed: whoever newly qualifies for a policy today is notified.
    if matches!(staged.kind, FileKind::Designations | FileKind::Projects) {
        let today = state.0.config.clock.now().date_naive();
        let (enterprises, projects) = store.policy_city(today).map_err(ApiError::from)?;
        let notices = crate::policy_workflow::notices_for(
            &state.policies(),
            &enterprises,
            &projects,
            today,
            None,
        );
        store
            .push_policy_notices(&notices)
            .map_err(ApiError::from)?;
    }
    let sum = |f: fn(&SheetCommit) -> usize| sheets.iter().map(|(s, _)| f(s)).sum::<usize>();
    Ok(CommitResult {
        batch_id: sheets.first().and_then(|(s, _)| s.batch_id),
        already_imported: sheets.iter().all(|(s, _)| s.already_imported),
        file_name: staged.file_name().to_string(),
        kind: staged.kind,
        source: staged.source.clone(),
        rows: sum(|s| s.rows),
        rejected: staged.rejected(),
        inserted: sum(|s| s.inserted),
        corrected: sum(|s| s.corrected),
        unchanged: sum(|s| s.unchanged),
        conflicts: sheets
            .iter_mut()
            .flat_map(|(_, c)| std::mem::take(c))
            .collect(),
        sheets: sheets.into_iter().map(|(s, _)| s).collect(),
    })
}

/// A store failure on a later sheet of a workbook: the sheets before it stay imported (each is
/// its own batch), and the message names them so the user knows what is in.
fn failed_after(
    mut refusal: Refusal,
    done: &[(SheetCommit, Vec<wire::imports::Conflict>)],
) -> Refusal {
    let names: Vec<&str> = done
        .iter()
        .filter_map(|(s, _)| s.sheet.as_deref())
        .collect();
    if !names.is_empty() {
        refusal.en = format!(
            "{} (sheets imported before: {})",
            refusal.en,
            names.join(", ")
        );
        refusal.zh = format!("{}（此前已导入的工作表：{}）", refusal.zh, names.join("、"));
    }
    refusal
}

/// Past imports the viewer may see, newest first: city staff all of them, a district officer
/// its own (batches are not tied to districts, and others' uploads are not its business).
fn past_imports(store: &Store, viewer: &Viewer) -> Result<Vec<BatchInfo>, ApiError> {
    let mut batches = store.batches()?;
    if matches!(viewer.scope, Scope::District(_)) {
        batches.retain(|b| b.uploaded_by.as_deref() == Some(viewer.user.as_str()));
    }
    batches.reverse();
    Ok(batches)
}

// ------------------------------------------------------------------------------- JSON API

/// The imports API's operations, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(api_list, api_upload, api_report, api_cancel, api_commit))]
pub(crate) struct Api;

/// Past imports with lineage, and the viewer's uploads waiting for commit (staff).
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports",
    responses((status = 200, description = "Imports", body = wire::imports::Imports)))]
async fn api_list(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    authed: Authed,
) -> Result<Json<wire::imports::Imports>, ApiError> {
    may_import(&authed.viewer)?;
    let batches = past_imports(&state.reader(), &authed.viewer)?;
    Ok(Json(wire::imports::Imports {
        batches: batches.iter().map(Into::into).collect(),
        staged: staging.of_owner(&authed.viewer.user),
    }))
}

/// Upload a file: it is checked and staged (nothing is stored), and its report answered.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    request_body(content = wire::imports::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Checked and staged", body = StagedReport),
        (status = 413, description = "Over the upload limit, or a sheet over the size limits", body = ErrorBody),
        (status = 415, description = "Not a file kind gusu reads", body = ErrorBody),
        (status = 422, description = "The file cannot be read (no recognised header, empty, …)", body = ErrorBody),
    ))]
async fn api_upload(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    authed: Authed,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    // The role is checked before the body is read.
    may_import(&authed.viewer)?;
    let limit = state.0.config.max_upload_bytes;
    let upload = read_upload(multipart, limit, false).await?;
    let id = stage(&state, &staging, &authed.viewer, upload).await?;
    let report = staging.report(&id, &authed.viewer.user, &state.reader())?;
    Ok((StatusCode::CREATED, Json(report)).into_response())
}

/// The validation report of one's staged upload.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = String, Path, description = "Staging id")),
    responses((status = 200, description = "The report", body = StagedReport)))]
async fn api_report(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<Json<StagedReport>, ApiError> {
    may_import(&authed.viewer)?;
    Ok(Json(staging.report(
        &id,
        &authed.viewer.user,
        &state.store(),
    )?))
}

/// Import a staged upload's accepted rows in one transaction, with lineage; audited.
#[utoipa::path(post, path = "/api/v1/imports/{id}/commit", tag = "imports",
    params(("id" = String, Path, description = "Staging id")),
    responses(
        (status = 200, description = "Imported (or already imported: nothing changed)", body = CommitResult),
        (status = 409, description = "The store changed so that the rows no longer fit", body = ErrorBody),
        (status = 422, description = "Nothing in the file can be imported", body = ErrorBody),
    ))]
async fn api_commit(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<Json<CommitResult>, ApiError> {
    Ok(Json(commit(&state, &staging, &authed.viewer, &id)?))
}

/// Cancel one's staged upload (nothing is stored).
#[utoipa::path(delete, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = String, Path, description = "Staging id")),
    responses((status = 204, description = "Cancelled")))]
async fn api_cancel(
    Extension(staging): Extension<Staging>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    may_import(&authed.viewer)?;
    staging
        .take(&id, &authed.viewer.user)
        .ok_or_else(|| ApiError::not_found("staged import"))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------- pages

/// The imports pages' texts.
#[derive(Serialize)]
struct ImportTexts {
    title: &'static str,
    file_name: &'static str,
    counts_note: &'static str,
    upload_title: &'static str,
    file: &'static str,
    kind: &'static str,
    kind_enterprises: &'static str,
    kind_annual: &'static str,
    kind_energy: &'static str,
    kind_designations: &'static str,
    kind_projects: &'static str,
    source: &'static str,
    year: &'static str,
    year_hint: &'static str,
    sheet: &'static str,
    sheet_hint: &'static str,
    sheet_column: &'static str,
    sheets_skipped: &'static str,
    sheet_imported_before: &'static str,
    upload: &'static str,
    limit: &'static str,
    staged: &'static str,
    past: &'static str,
    none_yet: &'static str,
    batch: &'static str,
    by: &'static str,
    at: &'static str,
    accepted: &'static str,
    rejected: &'static str,
    inserted: &'static str,
    corrected: &'static str,
    unchanged: &'static str,
    conflicts: &'static str,
    report: &'static str,
    rows: &'static str,
    errors: &'static str,
    warnings: &'static str,
    row: &'static str,
    column: &'static str,
    value: &'static str,
    reason: &'static str,
    severity_error: &'static str,
    severity_warning: &'static str,
    whole_file: &'static str,
    no_findings: &'static str,
    already_imported: &'static str,
    commit: &'static str,
    commit_hint: &'static str,
    cancel: &'static str,
    open: &'static str,
    done: &'static str,
    done_already: &'static str,
    back: &'static str,
    used: &'static str,
}

fn import_texts(lang: Lang) -> ImportTexts {
    match lang {
        Lang::Zh => ImportTexts {
            title: "数据导入",
            file_name: "文件名",
            counts_note: "新增、更正、未变：年度数据按数值计，企业名录按企业计。",
            upload_title: "上传部门数据文件",
            file: "文件（CSV 或 XLSX）",
            kind: "文件类型",
            kind_enterprises: "企业名录",
            kind_annual: "年度数据",
            kind_energy: "能源消费",
            kind_designations: "企业认定（政策计算器）",
            kind_projects: "贷款与投资项目（政策计算器）",
            source: "来源部门",
            year: "年度（年度数据可选）",
            year_hint: "如 2024",
            sheet: "工作表（XLSX 可选）",
            sheet_hint: "默认读取所有可识别的工作表",
            sheet_column: "工作表",
            sheets_skipped: "未读取的工作表",
            sheet_imported_before: "此前已导入",
            upload: "上传并校验",
            limit: "文件大小上限",
            staged: "待确认的导入",
            past: "导入记录",
            none_yet: "暂无",
            batch: "批次",
            by: "导入人",
            at: "时间",
            accepted: "接受行数",
            rejected: "拒绝行数",
            inserted: "新增",
            corrected: "更正",
            unchanged: "未变",
            conflicts: "来源冲突",
            report: "校验报告",
            rows: "数据行",
            errors: "错误",
            warnings: "提示",
            row: "行",
            column: "列",
            value: "单元格值",
            reason: "原因",
            severity_error: "错误",
            severity_warning: "提示",
            whole_file: "整个文件",
            no_findings: "未发现问题。",
            already_imported: "该文件（同一来源、同一内容）此前已导入：提交不会改变任何数据。",
            commit: "确认导入",
            commit_hint: "确认后，接受的行将在一个事务中导入，被拒绝的行不导入。",
            cancel: "取消",
            open: "查看",
            done: "导入完成",
            done_already: "该文件此前已导入，未作任何改变。",
            back: "返回数据导入",
            used: "采用",
        },
        Lang::En => ImportTexts {
            title: "Imports",
            file_name: "File",
            counts_note: "New, corrected, unchanged: values for yearly files, enterprises for enterprises files.",
            upload_title: "Upload a department file",
            file: "File (CSV or XLSX)",
            kind: "Kind",
            kind_enterprises: "enterprises",
            kind_annual: "yearly figures",
            kind_energy: "energy use",
            kind_designations: "designations (policy calculator)",
            kind_projects: "loan and investment projects (policy calculator)",
            source: "Source department",
            year: "Year (optional, yearly files)",
            year_hint: "e.g. 2024",
            sheet: "Sheet (XLSX, optional)",
            sheet_hint: "every sheet with a recognised header",
            sheet_column: "Sheet",
            sheets_skipped: "Sheets not read",
            sheet_imported_before: "imported before",
            upload: "Upload and check",
            limit: "Largest file",
            staged: "Waiting for your decision",
            past: "Past imports",
            none_yet: "none yet",
            batch: "Batch",
            by: "By",
            at: "At",
            accepted: "Rows accepted",
            rejected: "Rows rejected",
            inserted: "New",
            corrected: "Corrected",
            unchanged: "Unchanged",
            conflicts: "Conflicts",
            report: "Validation report",
            rows: "Data rows",
            errors: "Errors",
            warnings: "Warnings",
            row: "Row",
            column: "Column",
            value: "Cell",
            reason: "Reason",
            severity_error: "error",
            severity_warning: "warning",
            whole_file: "whole file",
            no_findings: "No findings.",
            already_imported: "This file (same source, same content) was imported before: committing changes nothing.",
            commit: "Commit",
            commit_hint: "Committing imports the accepted rows in one transaction; rejected rows are left out.",
            cancel: "Cancel",
            open: "open",
            done: "Imported",
            done_already: "This file was imported before; nothing changed.",
            back: "Back to imports",
            used: "used",
        },
    }
}

fn kind_label(kind: FileKind, x: &ImportTexts) -> &'static str {
    match kind {
        FileKind::Enterprises => x.kind_enterprises,
        FileKind::Annual => x.kind_annual,
        FileKind::Energy => x.kind_energy,
        FileKind::Designations => x.kind_designations,
        FileKind::Projects => x.kind_projects,
    }
}

/// The shared templates plus the imports pages', parsed once.
fn environment() -> &'static minijinja::Environment<'static> {
    static TEMPLATES: std::sync::OnceLock<minijinja::Environment<'static>> =
        std::sync::OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut env = crate::pages::templates();
        for (n, source) in [
            (
                "imports.html",
                include_str!("../../../web/templates/imports.html"),
            ),
            (
                "imports_report.html",
                include_str!("../../../web/templates/imports_report.html"),
            ),
            (
                "imports_result.html",
                include_str!("../../../web/templates/imports_result.html"),
            ),
        ] {
            // The templates are part of the binary and tested; a broken one fails every test.
            env.add_template(n, source)
                .expect("shipped template parses");
        }
        env
    })
}

fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The imports page: the upload form, the viewer's staged uploads and the past imports; with
/// `error` after a refused upload.
fn imports_html(
    state: &AppState,
    staging: &Staging,
    session: &crate::session::Session,
    lang: Lang,
    error: Option<&str>,
) -> Result<String, ApiError> {
    let viewer = &session.viewer;
    let x = import_texts(lang);
    let batches: Vec<serde_json::Value> = past_imports(&state.reader(), viewer)?
        .iter()
        .map(|b| {
            serde_json::json!({
                "id": b.id,
                "file_name": b.file_name,
                "kind": match b.kind.as_str() {
                    "enterprises" => x.kind_enterprises,
                    "energy" => x.kind_energy,
                    "annual" => x.kind_annual,
                    "designations" => x.kind_designations,
                    "projects" => x.kind_projects,
                    other => other,
                },
                "source": source_label(&b.source, lang),
                "by": b.uploaded_by.clone().unwrap_or_else(|| "—".into()),
                "at": b.imported_at.get(..19).unwrap_or(&b.imported_at).replace('T', " "),
                "rows": b.rows,
                "rejected": b.rejected.map_or_else(|| "—".to_string(), |r| r.to_string()),
                "inserted": b.inserted,
                "corrected": b.corrected,
                "unchanged": b.unchanged,
                "conflicts": b.conflicts,
            })
        })
        .collect();
    let staged: Vec<serde_json::Value> = staging
        .of_owner(&viewer.user)
        .iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id, "file_name": s.file_name, "kind": kind_label(s.kind, &x),
                "source": source_label(&s.source, lang), "accepted": s.accepted, "rejected": s.rejected,
            })
        })
        .collect();
    let sources: Vec<serde_json::Value> = SOURCES
        .iter()
        .map(|(key, zh, en)| serde_json::json!({ "key": key, "label": if lang == Lang::Zh { zh } else { en } }))
        .collect();
    let limit = format!(
        "{:.0} MB",
        state.0.config.max_upload_bytes as f64 / (1024.0 * 1024.0)
    );
    render(
        "imports.html",
        context! {
            t => Value::from(Serde(texts(lang))),
            x => Value::from(Serde(&x)),
            user => viewer.user.clone(),
            role => viewer.role.key(),
            csrf => session.csrf.clone(),
            error => error,
            limit => limit,
            sources => Value::from(Serde(&sources)),
            staged => Value::from(Serde(&staged)),
            batches => Value::from(Serde(&batches)),
        },
    )
}

fn source_label(key: &str, lang: Lang) -> String {
    SOURCES.iter().find(|(k, _, _)| *k == key).map_or_else(
        || key.to_string(),
        |(_, zh, en)| {
            if lang == Lang::Zh {
                (*zh).to_string()
            } else {
                (*en).to_string()
            }
        },
    )
}

async fn imports_page(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let mut out = HeaderMap::new();
    let lang = language(&headers, &query, &mut out);
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok((out, Redirect::to("/login")).into_response());
    };
    may_import(&session.viewer)?;
    let html = imports_html(&state, &staging, &session, lang, None)?;
    Ok((out, Html(html)).into_response())
}

async fn upload_page(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let lang = language(&headers, &LangQuery::default(), &mut HeaderMap::new());
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    may_import(&session.viewer)?;
    let limit = state.0.config.max_upload_bytes;
    let staged = match read_upload(multipart, limit, true).await {
        Ok(upload) => {
            // Nothing of a form without its session's CSRF token is looked at.
            if !crate::session::csrf_matches(&session.csrf, upload.csrf.as_deref()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong CSRF token",
                ));
            }
            stage(&state, &staging, &session.viewer, upload).await
        }
        Err(refused) => Err(refused),
    };
    match staged {
        Ok(id) => Ok(Redirect::to(&format!("/imports/{id}")).into_response()),
        Err(refused) => {
            let html = imports_html(
                &state,
                &staging,
                &session,
                lang,
                Some(refused.message(lang)),
            )?;
            Ok((refused.status, Html(html)).into_response())
        }
    }
}

#[derive(Serialize)]
struct FindingLine {
    row: String,
    column: String,
    value: String,
    reason: String,
    severity: &'static str,
    class: &'static str,
}

async fn report_page(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let mut out = HeaderMap::new();
    let lang = language(&headers, &query, &mut out);
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok((out, Redirect::to("/login")).into_response());
    };
    may_import(&session.viewer)?;
    let report = staging.report(&id, &session.viewer.user, &state.reader())?;
    let x = import_texts(lang);
    let findings: Vec<FindingLine> = report
        .findings
        .iter()
        .map(|i| FindingLine {
            row: {
                let row = i
                    .row
                    .map_or_else(|| x.whole_file.to_string(), |r| r.to_string());
                match &i.sheet {
                    Some(sheet) => format!("{sheet} · {row}"),
                    None => row,
                }
            },
            column: i.column.clone().unwrap_or_default(),
            value: i.value.clone().unwrap_or_default(),
            reason: if lang == Lang::Zh {
                i.reason_zh.clone()
            } else {
                i.reason.clone()
            },
            severity: if i.is_error() {
                x.severity_error
            } else {
                x.severity_warning
            },
            class: if i.is_error() { "error" } else { "warning" },
        })
        .collect();
    let html = render(
        "imports_report.html",
        context! {
            t => Value::from(Serde(texts(lang))),
            x => Value::from(Serde(&x)),
            user => session.viewer.user.clone(),
            role => session.viewer.role.key(),
            csrf => session.csrf.clone(),
            r => Value::from(Serde(&report)),
            kind => kind_label(report.kind, &x),
            source => source_label(&report.source, lang),
            findings => Value::from(Serde(&findings)),
            skipped => report.skipped_sheets.iter().map(|k| {
                let why = if lang == Lang::Zh { &k.message_zh } else { &k.message };
                format!("{}: {why}", k.sheet)
            }).collect::<Vec<_>>(),
        },
    )?;
    Ok((out, Html(html)).into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// The page session and a checked CSRF field, or the response to give instead.
fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Result<crate::session::Session, Response>, ApiError> {
    let Some((session, _)) = page_session(state, headers) else {
        return Ok(Err(Redirect::to("/login").into_response()));
    };
    let Form(form) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    if !crate::session::csrf_matches(&session.csrf, Some(&form.csrf)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "missing or wrong CSRF token",
        ));
    }
    Ok(Ok(session))
}

async fn commit_page(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let lang = language(&headers, &LangQuery::default(), &mut HeaderMap::new());
    let session = match form_session(&state, &headers, form)? {
        Ok(s) => s,
        Err(response) => return Ok(response),
    };
    may_import(&session.viewer)?;
    let x = import_texts(lang);
    let (status, result, error) = match commit(&state, &staging, &session.viewer, &id) {
        Ok(result) => (StatusCode::OK, Some(result), None),
        Err(refused) if refused.status == StatusCode::NOT_FOUND => {
            return Err(refused.into());
        }
        Err(refused) => (
            refused.status,
            None,
            Some(refused.message(lang).to_string()),
        ),
    };
    let conflicts: Vec<String> = result
        .iter()
        .flat_map(|r| &r.conflicts)
        .map(|c| {
            format!(
                "{} {} {}: {} = {} ({}) / {} = {}",
                c.uscc,
                c.year,
                c.field,
                c.used_source,
                c.used_value,
                x.used,
                c.other_source,
                c.other_value
            )
        })
        .collect();
    let html = render(
        "imports_result.html",
        context! {
            t => Value::from(Serde(texts(lang))),
            x => Value::from(Serde(&x)),
            user => session.viewer.user.clone(),
            role => session.viewer.role.key(),
            csrf => session.csrf.clone(),
            r => Value::from(Serde(&result)),
            kind => result.as_ref().map(|r| kind_label(r.kind, &x)),
            conflicts => conflicts,
            error => error,
        },
    )?;
    Ok((status, Html(html)).into_response())
}

async fn cancel_page(
    State(state): State<AppState>,
    Extension(staging): Extension<Staging>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let session = match form_session(&state, &headers, form)? {
        Ok(s) => s,
        Err(response) => return Ok(response),
    };
    may_import(&session.viewer)?;
    staging
        .take(&id, &session.viewer.user)
        .ok_or_else(|| ApiError::not_found("staged import"))?;
    Ok(Redirect::to("/imports").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_by_name_and_content() {
        let zip = b"PK\x03\x04rest";
        assert!(check_file_type("a.xlsx", zip).is_ok());
        assert!(check_file_type("A.XLSX", zip).is_ok());
        assert!(check_file_type("a.csv", b"uscc,name\n").is_ok());
        for (name, bytes) in [
            ("a.xlsx", &b"uscc,name\n"[..]),
            ("a.csv", &zip[..]),
            ("a.csv", &b"u\0s\0c\0c\0"[..]),
            ("a.pdf", &b"%PDF-1.7"[..]),
            ("a", &b"uscc"[..]),
        ] {
            let r = check_file_type(name, bytes).unwrap_err();
            assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}");
            assert!(r.en.contains(name) && r.zh.contains(name));
        }
    }

    #[test]
    fn each_user_keeps_a_few_staged_uploads_and_sees_only_its_own() {
        let staging = Staging::default();
        let parsed = || Parsed::Enterprises(header_only());
        let staged = |owner: &str| Staged {
            owner: owner.into(),
            created: Instant::now(),
            kind: FileKind::Enterprises,
            source: "stats".into(),
            year: None,
            sheets: vec![parsed()],
            skipped: Vec::new(),
        };
        let first = staging.insert(staged("a"));
        for _ in 0..STAGED_PER_USER {
            staging.insert(staged("a"));
        }
        let theirs = staging.insert(staged("b"));
        assert_eq!(staging.of_owner("a").len(), STAGED_PER_USER);
        assert!(
            staging.take(&first, "a").is_none(),
            "the oldest was dropped"
        );
        assert!(staging.take(&theirs, "a").is_none(), "not a's");
        assert!(staging.take(&theirs, "b").is_some());
        assert!(staging.take(&theirs, "b").is_none(), "taken once");
    }

    /// A header-only enterprises file, for tests that need some parsed file.
    fn header_only() -> ParsedEnterprises {
        gusu_ingest::parse_enterprises_bytes(
            b"uscc,name,district,industry_code,land_area_mu,above_scale,established\n",
            "e.csv",
            &ReadOptions::default(),
        )
        .expect("a header-only file parses")
    }
}
