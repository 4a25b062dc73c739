//! The policy calculator over HTTP (issue 12): the library, an enterprise's policies from what
//! the store holds, and any situation calculated without storing anything (the what-if form,
//! `POST /api/v1/calculate`, `POST /api/v1/trace`). The engine is gusu-core's
//! (`policy::Calculation`); the facts come from the store: the register, the yearly figures with
//! their effective values, the class of each year's shown run, the designations and projects.
//!
//! Scope: a situation naming an enterprise is calculated only for a viewer who may see that
//! enterprise (its own account, its district's officer, the city's staff); anything else answers
//! 404 as if it did not exist. A situation without an enterprise reads nothing stored. The
//! administrators (no data scope) are refused.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use gusu_core::policy::{
    Calculation, Coverage, DESIGNATIONS, Designation, EnterpriseFacts, LEVELS, PROJECT_KINDS,
    PolicyLibrary, ProjectFacts, Status, YearFacts, vocabulary_key,
};
use gusu_core::{Scope, Uscc, Viewer};
use gusu_store::Store;
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use crate::page_ctx::PageCtx;
use crate::pages::Lang;
use crate::wire::{self, ErrorBody};
use crate::{ApiError, AppState, Authed};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/policies", get(api_policies))
        .route("/api/v1/calculate", post(api_calculate))
        .route("/api/v1/trace", post(api_trace))
        .route(
            "/api/v1/enterprises/{uscc}/policies",
            get(api_enterprise_policies),
        )
        .route("/policies", get(page_library))
        .route("/enterprises/{uscc}/policies", get(page_enterprise))
}

/// The most projects one situation may bring.
const MAX_PROJECTS: usize = 1000;

pub(crate) fn may_calculate(viewer: &Viewer) -> Result<(), ApiError> {
    if viewer.scope == Scope::Nothing {
        Err(ApiError::forbidden())
    } else {
        Ok(())
    }
}

pub(crate) fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_field", format!("{field}: {message}"))
}

pub(crate) fn date(field: &str, text: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| invalid(field, format!("`{text}` is not a date (YYYY-MM-DD)")))
}

fn amount(field: &str, v: Option<f64>) -> Result<Option<f64>, ApiError> {
    match v {
        Some(x) if !x.is_finite() || x < 0.0 => Err(invalid(
            field,
            format!("{x} is not an amount (a finite number ≥ 0)"),
        )),
        other => Ok(other),
    }
}

fn word(
    field: &str,
    vocabulary: &[(&'static str, &[&str])],
    text: &str,
) -> Result<&'static str, ApiError> {
    vocabulary_key(vocabulary, text).ok_or_else(|| {
        let keys: Vec<&str> = vocabulary.iter().map(|(k, _)| *k).collect();
        invalid(field, format!("`{text}` is not one of {}", keys.join(", ")))
    })
}

type StoredFacts = std::sync::Arc<(EnterpriseFacts, Vec<ProjectFacts>)>;
/// (uscc, viewer is the enterprise) → (data version, facts).
type FactsMap = std::collections::HashMap<(String, bool), ((i64, i64, i64), StoredFacts)>;

/// The calculator's facts of enterprises, kept per data version: reading them (the register,
/// every year's lineage, the shown runs, designations, projects) costs far more than deciding.
/// Keyed also by whether the viewer is the enterprise (it sees published classes only).
#[derive(Default)]
pub(crate) struct FactsCache {
    entries: std::sync::Mutex<FactsMap>,
}

/// Entries kept before the cache starts afresh (a city has ~160,000 enterprises; the pages of a
/// day reach a fraction of them).
const FACTS_CACHE_MAX: usize = 20_000;

/// What the store holds of an enterprise for the calculator, if the viewer may see it (cached
/// per data version; the viewer is checked on every call).
fn cached_facts(
    state: &AppState,
    viewer: &Viewer,
    uscc: &Uscc,
) -> Result<(EnterpriseFacts, Vec<ProjectFacts>), ApiError> {
    let store = state.reader();
    let version = store.data_version()?;
    let key = (
        uscc.to_string(),
        matches!(viewer.scope, Scope::Enterprise(_)),
    );
    let cache = &state.0.policy_facts;
    let hit = cache
        .entries
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .filter(|(v, _)| *v == version)
        .map(|(_, f)| f.clone());
    if let Some(f) = hit {
        if !viewer.may_see(uscc, &f.0.district) {
            return Err(ApiError::not_found("enterprise"));
        }
        return Ok((f.0.clone(), f.1.clone()));
    }
    let facts = stored_facts(&store, viewer, uscc)?;
    drop(store);
    let mut entries = cache.entries.lock().unwrap_or_else(|p| p.into_inner());
    if entries.len() >= FACTS_CACHE_MAX {
        entries.clear();
    }
    entries.insert(key, (version, std::sync::Arc::new(facts.clone())));
    Ok(facts)
}

/// What the store holds of an enterprise for the calculator, if the viewer may see it.
fn stored_facts(
    store: &Store,
    viewer: &Viewer,
    uscc: &Uscc,
) -> Result<(EnterpriseFacts, Vec<ProjectFacts>), ApiError> {
    let file = crate::enterprise_file::load(store, viewer, uscc)?;
    let e = &file.enterprise;
    let mut years: BTreeMap<i32, YearFacts> = BTreeMap::new();
    for y in &file.years {
        let facts = years.entry(y.year).or_insert_with(|| YearFacts {
            year: y.year,
            ..YearFacts::default()
        });
        for v in y.values.iter().filter(|v| v.effective) {
            let slot = match v.field.as_str() {
                "revenue_10k_yuan" => &mut facts.revenue_10k_yuan,
                "tax_paid_10k_yuan" => &mut facts.tax_paid_10k_yuan,
                "rd_expense_10k_yuan" => &mut facts.rd_expense_10k_yuan,
                "employees" => &mut facts.employees,
                "electricity_kwh" => &mut facts.electricity_kwh,
                "energy_tce" => &mut facts.energy_tce,
                _ => continue,
            };
            *slot = Some(v.value);
        }
    }
    for c in &file.classes {
        years
            .entry(c.year)
            .or_insert_with(|| YearFacts {
                year: c.year,
                ..YearFacts::default()
            })
            .class
            .clone_from(&c.class);
    }
    let designations = if store.has_designations()? {
        Some(store.designations_of(uscc)?)
    } else {
        None
    };
    let facts = EnterpriseFacts {
        uscc: e.uscc.to_string(),
        district: e.district.clone(),
        division: e.division.parse().ok(),
        established: Some(e.established),
        above_scale: Some(e.above_scale),
        designations,
        years: years.into_values().collect(),
    };
    Ok((facts, store.projects_of(uscc)?))
}

/// A situation made facts: the stored enterprise (when named) with the situation's changes.
pub(crate) fn situate(
    state: &AppState,
    viewer: &Viewer,
    s: &wire::policy::Situation,
) -> Result<(EnterpriseFacts, Vec<ProjectFacts>, NaiveDate), ApiError> {
    may_calculate(viewer)?;
    let on = date("date", &s.date)?;
    let (mut e, mut projects) = match &s.uscc {
        Some(text) => {
            let uscc = Uscc::parse(text.trim())
                .map_err(|err| invalid("uscc", format!("{text}: {err}")))?;
            cached_facts(state, viewer, &uscc)?
        }
        None => (
            EnterpriseFacts {
                uscc: "situation".into(),
                ..EnterpriseFacts::default()
            },
            Vec::new(),
        ),
    };
    let given = s.enterprise.clone().unwrap_or_default();
    if let Some(d) = &given.district {
        if d.len() != 6 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "enterprise.district",
                format!("`{d}` is not a 6-digit district code"),
            ));
        }
        // A stored enterprise stays in its district: moving it would read another scope's rules.
        if s.uscc.is_some() && *d != e.district {
            return Err(invalid(
                "enterprise.district",
                "the stored enterprise's district cannot be changed",
            ));
        }
        e.district.clone_from(d);
    }
    if e.district.is_empty() {
        return Err(invalid(
            "enterprise.district",
            "required when no uscc is given",
        ));
    }
    if let Some(d) = given.division {
        if !(1..=97).contains(&d) {
            return Err(invalid(
                "enterprise.division",
                format!("{d} is not a GB/T 4754 division"),
            ));
        }
        e.division = Some(d);
    }
    if let Some(t) = &given.established {
        e.established = Some(date("enterprise.established", t)?);
    }
    if let Some(b) = given.above_scale {
        e.above_scale = Some(b);
    }
    if let Some(list) = &given.designations {
        let mut out = Vec::with_capacity(list.len());
        for (i, d) in list.iter().enumerate() {
            let at = |f: &str| format!("enterprise.designations[{i}].{f}");
            out.push(Designation {
                designation: word(&at("designation"), DESIGNATIONS, &d.designation)?.into(),
                level: word(&at("level"), LEVELS, &d.level)?.into(),
                recognised: date(&at("recognised"), &d.recognised)?,
                expires: d
                    .expires
                    .as_deref()
                    .map(|x| date(&at("expires"), x))
                    .transpose()?,
            });
        }
        e.designations = Some(out);
    }
    for (i, y) in given.years.iter().flatten().enumerate() {
        let at = |f: &str| format!("enterprise.years[{i}].{f}");
        if !(1990..=2100).contains(&y.year) {
            return Err(invalid(&at("year"), format!("{} is not a year", y.year)));
        }
        let facts = YearFacts {
            year: y.year,
            class: y.class.clone(),
            revenue_10k_yuan: amount(&at("revenue_10k_yuan"), y.revenue_10k_yuan)?,
            tax_paid_10k_yuan: amount(&at("tax_paid_10k_yuan"), y.tax_paid_10k_yuan)?,
            rd_expense_10k_yuan: amount(&at("rd_expense_10k_yuan"), y.rd_expense_10k_yuan)?,
            employees: amount(&at("employees"), y.employees)?,
            // Net assets may be negative (an insolvent firm); only finite.
            net_assets_10k_yuan: match y.net_assets_10k_yuan {
                Some(x) if !x.is_finite() => {
                    return Err(invalid(&at("net_assets_10k_yuan"), "not a finite number"));
                }
                other => other,
            },
            electricity_kwh: amount(&at("electricity_kwh"), y.electricity_kwh)?,
            energy_tce: amount(&at("energy_tce"), y.energy_tce)?,
        };
        e.years.retain(|x| x.year != y.year);
        e.years.push(facts);
    }
    if s.projects.len() > MAX_PROJECTS {
        return Err(invalid(
            "projects",
            format!("at most {MAX_PROJECTS} projects in one situation"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, p) in s.projects.iter().enumerate() {
        let at = |f: &str| format!("projects[{i}].{f}");
        let id = p.project_id.trim();
        if id.is_empty() {
            return Err(invalid(&at("project_id"), "required"));
        }
        if !seen.insert(id.to_string()) {
            return Err(invalid(&at("project_id"), format!("`{id}` is given twice")));
        }
        let rate = match p.rate_over_lpr_bp {
            Some(x) if !x.is_finite() => {
                return Err(invalid(&at("rate_over_lpr_bp"), "not a finite number"));
            }
            other => other,
        };
        let facts = ProjectFacts {
            project_id: id.to_string(),
            uscc: e.uscc.clone(),
            kind: p
                .kind
                .as_deref()
                .map(|k| word(&at("kind"), PROJECT_KINDS, k).map(str::to_string))
                .transpose()?,
            date: p
                .date
                .as_deref()
                .map(|d| date(&at("date"), d))
                .transpose()?,
            loan_10k_yuan: amount(&at("loan_10k_yuan"), p.loan_10k_yuan)?,
            equipment_loan_10k_yuan: amount(
                &at("equipment_loan_10k_yuan"),
                p.equipment_loan_10k_yuan,
            )?,
            rate_over_lpr_bp: rate,
            lpr_percent: amount(&at("lpr_percent"), p.lpr_percent)?,
            is_new: p.is_new,
            fixed_asset_investment_10k_yuan: amount(
                &at("fixed_asset_investment_10k_yuan"),
                p.fixed_asset_investment_10k_yuan,
            )?,
            equipment_investment_10k_yuan: amount(
                &at("equipment_investment_10k_yuan"),
                p.equipment_investment_10k_yuan,
            )?,
            catalogue_investment_10k_yuan: amount(
                &at("catalogue_investment_10k_yuan"),
                p.catalogue_investment_10k_yuan,
            )?,
            strategic_industry: p.strategic_industry,
            first_time: p.first_time,
            years_subsidised: amount(&at("years_subsidised"), p.years_subsidised)?,
        };
        projects.retain(|q| q.project_id != facts.project_id);
        projects.push(facts);
    }
    Ok((e, projects, on))
}

/// Every policy that covers the enterprise, decided and explained.
pub(crate) fn decide(
    library: &PolicyLibrary,
    e: EnterpriseFacts,
    projects: &[ProjectFacts],
    date: NaiveDate,
    uscc: Option<String>,
) -> wire::policy::Calculation {
    decide_with(
        library,
        e,
        projects,
        date,
        uscc,
        wire::policy::DecisionDetail::Full,
    )
}

/// [`decide`], with or without the traces.
pub(crate) fn decide_with(
    library: &PolicyLibrary,
    e: EnterpriseFacts,
    projects: &[ProjectFacts],
    date: NaiveDate,
    uscc: Option<String>,
    detail: wire::policy::DecisionDetail,
) -> wire::policy::Calculation {
    let enterprises = [e];
    let calc = Calculation::run(library, &enterprises, projects, date, Coverage::Skip, 1);
    let mut out = wire::policy::Calculation {
        uscc,
        date: date.format("%Y-%m-%d").to_string(),
        eligible: 0,
        needs_information: 0,
        not_eligible: 0,
        support_10k_yuan: 0.0,
        decisions: Vec::with_capacity(calc.verdicts.len()),
    };
    for v in &calc.verdicts {
        let policy = &library.policies[v.policy as usize];
        let d = match detail {
            wire::policy::DecisionDetail::Full => calc.decision(v),
            wire::policy::DecisionDetail::Summary => calc.brief(v),
        };
        match d.status {
            Status::Eligible => {
                out.eligible += 1;
                if d.effect == gusu_core::policy::Effect::Support {
                    out.support_10k_yuan += d.amount_10k_yuan.unwrap_or(0.0);
                }
            }
            Status::NeedsInformation => out.needs_information += 1,
            Status::NotEligible => out.not_eligible += 1,
        }
        out.decisions.push(wire::policy::Decision::new(&d, policy));
    }
    out
}

fn library(state: &AppState) -> std::sync::Arc<PolicyLibrary> {
    state.policies()
}

pub(crate) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    // axum names the path of the field that does not fit (`projects[0].date: …`).
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))
}

/// The policy API's operations, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(api_policies, api_calculate, api_trace, api_enterprise_policies))]
pub(crate) struct Api;

/// The policy library: every policy with its versions.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies",
    responses((status = 200, description = "The policies", body = wire::policy::PolicyList)))]
async fn api_policies(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<wire::policy::PolicyList>, ApiError> {
    may_calculate(&authed.viewer)?;
    Ok(Json(wire::policy::PolicyList {
        policies: library(&state).policies.iter().map(Into::into).collect(),
    }))
}

/// Calculates a situation: every policy that covers the enterprise, decided on the date (the
/// enterprise's own policies) and on each project's date, each with its trace. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/calculate", tag = "policies",
    request_body = wire::policy::Situation,
    responses(
        (status = 200, description = "The decisions", body = wire::policy::Calculation),
        (status = 404, description = "No such enterprise in the viewer's scope", body = ErrorBody),
    ))]
async fn api_calculate(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<wire::policy::Situation>, JsonRejection>,
) -> Result<Json<wire::policy::Calculation>, ApiError> {
    let s = json_body(body)?;
    let (e, projects, date) = situate(&state, &authed.viewer, &s)?;
    Ok(Json(decide_with(
        &library(&state),
        e,
        &projects,
        date,
        s.uscc.clone(),
        s.detail.unwrap_or_default(),
    )))
}

/// One decision of a situation, with its trace.
#[utoipa::path(post, path = "/api/v1/trace", tag = "policies",
    request_body = wire::policy::TraceRequest,
    responses(
        (status = 200, description = "The decision", body = wire::policy::Decision),
        (status = 404, description = "No such enterprise in the viewer's scope, or the policy does not cover it", body = ErrorBody),
    ))]
async fn api_trace(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<wire::policy::TraceRequest>, JsonRejection>,
) -> Result<Json<wire::policy::Decision>, ApiError> {
    let t = json_body(body)?;
    let lib = library(&state);
    let Some(policy) = lib.get(&t.policy) else {
        return Err(invalid(
            "policy",
            format!("no policy `{}` (see /api/v1/policies)", t.policy),
        ));
    };
    let (e, projects, date) = situate(&state, &authed.viewer, &t.situation)?;
    let only = PolicyLibrary {
        policies: vec![policy.clone()],
    };
    let all = decide(&only, e, &projects, date, t.situation.uscc.clone());
    all.decisions
        .into_iter()
        .find(|d| d.project_id == t.project_id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("decision"))
}

#[derive(Debug, Deserialize)]
struct DateQuery {
    date: Option<String>,
    lang: Option<String>,
    detail: Option<wire::policy::DecisionDetail>,
}

pub(crate) fn default_date(state: &AppState) -> NaiveDate {
    state.0.config.clock.now().date_naive()
}

/// The enterprise's policies from what the store holds, on a date (default today).
#[utoipa::path(get, path = "/api/v1/enterprises/{uscc}/policies", tag = "policies",
    params(
        ("uscc" = String, Path, description = "The enterprise"),
        ("date" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("detail" = Option<wire::policy::DecisionDetail>, Query, description = "`full` (default) or `summary` (no traces)"),
    ),
    responses(
        (status = 200, description = "The decisions", body = wire::policy::Calculation),
        (status = 404, description = "No such enterprise in the viewer's scope", body = ErrorBody),
    ))]
async fn api_enterprise_policies(
    State(state): State<AppState>,
    authed: Authed,
    Path(uscc): Path<String>,
    Query(q): Query<DateQuery>,
) -> Result<Json<wire::policy::Calculation>, ApiError> {
    let s = wire::policy::Situation {
        uscc: Some(uscc),
        date: q
            .date
            .unwrap_or_else(|| default_date(&state).format("%Y-%m-%d").to_string()),
        enterprise: None,
        projects: Vec::new(),
        detail: q.detail,
    };
    let (e, projects, date) = situate(&state, &authed.viewer, &s)?;
    Ok(Json(decide_with(
        &library(&state),
        e,
        &projects,
        date,
        s.uscc.clone(),
        s.detail.unwrap_or_default(),
    )))
}

// ---------------------------------------------------------------------------------------------
// Pages

#[derive(Serialize)]
struct PolicyTexts {
    title: &'static str,
    library: &'static str,
    mine: &'static str,
    notices: &'static str,
    amount_changed: &'static str,
    drafts: &'static str,
    take_up: &'static str,
    policy: &'static str,
    issuer: &'static str,
    subject: &'static str,
    delivery: &'static str,
    versions: &'static str,
    region: &'static str,
    confidence: &'static str,
    date: &'static str,
    status: &'static str,
    amount: &'static str,
    eligible: &'static str,
    needs_information: &'static str,
    not_eligible: &'static str,
    to_supply: &'static str,
    first_failing: &'static str,
    trace: &'static str,
    condition: &'static str,
    outcome: &'static str,
    facts: &'static str,
    article: &'static str,
    parameters: &'static str,
    tiers: &'static str,
    capped: &'static str,
    discretionary: &'static str,
    not_published: &'static str,
    charge: &'static str,
    what_if: &'static str,
    what_if_help: &'static str,
    kind: &'static str,
    apply: &'static str,
    applications: &'static str,
    project_date: &'static str,
    loan: &'static str,
    equipment_loan: &'static str,
    equipment_investment: &'static str,
    recompute: &'static str,
    nothing_stored: &'static str,
    total: &'static str,
    project: &'static str,
    enterprise_itself: &'static str,
    stacking_unknown: &'static str,
    yes: &'static str,
    no: &'static str,
    unknown: &'static str,
}

fn policy_texts(lang: Lang) -> PolicyTexts {
    match lang {
        Lang::Zh => PolicyTexts {
            title: "政策计算器",
            library: "政策库",
            mine: "适用政策",
            notices: "政策通知",
            amount_changed: "金额计算方式有变",
            drafts: "政策草案与模拟",
            take_up: "政策触达与兑现",
            policy: "政策",
            issuer: "发文单位",
            subject: "对象",
            delivery: "兑现方式",
            versions: "版本",
            region: "适用地区",
            confidence: "可信度",
            date: "计算日期",
            status: "结果",
            amount: "金额（万元）",
            eligible: "符合",
            needs_information: "需补充信息",
            not_eligible: "不符合",
            to_supply: "需补充",
            first_failing: "首个不满足的条件",
            trace: "判定过程",
            condition: "条件",
            outcome: "结果",
            facts: "所用数据",
            article: "依据条款",
            parameters: "参数",
            tiers: "档次",
            capped: "已封顶",
            discretionary: "最高额（具体由主管部门核定）",
            not_published: "金额未公布",
            charge: "加收",
            what_if: "假设测算",
            what_if_help: "输入一个设想的项目，重新计算；不保存任何数据。",
            kind: "项目类型",
            apply: "申报",
            applications: "我的申报",
            project_date: "项目日期（贷款日期）",
            loan: "贷款金额（万元）",
            equipment_loan: "设备购置贷款（万元）",
            equipment_investment: "设备投资（万元）",
            recompute: "重新计算",
            nothing_stored: "以下为假设测算结果，未保存。",
            total: "符合政策的支持金额合计（万元）",
            project: "项目",
            enterprise_itself: "企业本身",
            stacking_unknown: "与其他政策能否叠加：原文未说明",
            yes: "是",
            no: "否",
            unknown: "未知",
        },
        Lang::En => PolicyTexts {
            title: "Policy calculator",
            library: "Policy library",
            mine: "Policies that apply",
            notices: "Policy notices",
            amount_changed: "the amount's rule changed",
            drafts: "Drafts and simulation",
            take_up: "Take-up",
            policy: "Policy",
            issuer: "Issuer",
            subject: "Subject",
            delivery: "Delivery",
            versions: "Versions",
            region: "Region",
            confidence: "Confidence",
            date: "Date",
            status: "Result",
            amount: "Amount (10k yuan)",
            eligible: "Eligible",
            needs_information: "Needs information",
            not_eligible: "Not eligible",
            to_supply: "To supply",
            first_failing: "First condition not met",
            trace: "How it was decided",
            condition: "Condition",
            outcome: "Outcome",
            facts: "Facts read",
            article: "Article",
            parameters: "Parameters",
            tiers: "Tiers",
            capped: "capped",
            discretionary: "up to (the bureau decides the amount)",
            not_published: "amount not published",
            charge: "charge",
            what_if: "What if",
            what_if_help: "Enter a project you are considering and recompute; nothing is stored.",
            kind: "Project kind",
            apply: "Apply",
            applications: "Applications",
            project_date: "Project (loan) date",
            loan: "Loan (10k yuan)",
            equipment_loan: "Equipment loan (10k yuan)",
            equipment_investment: "Equipment investment (10k yuan)",
            recompute: "Recompute",
            nothing_stored: "A what-if result: nothing was stored.",
            total: "Support from eligible policies (10k yuan)",
            project: "Project",
            enterprise_itself: "The enterprise itself",
            stacking_unknown: "Whether it combines with other policies: the text does not say",
            yes: "yes",
            no: "no",
            unknown: "unknown",
        },
    }
}

fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::internal(e.to_string()))
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = crate::pages::templates();
        for (name, source) in [
            (
                "policies.html",
                include_str!("../../../web/templates/policies.html"),
            ),
            (
                "enterprise_policies.html",
                include_str!("../../../web/templates/enterprise_policies.html"),
            ),
        ] {
            env.add_template(name, source)
                .expect("the shipped templates parse (tested)");
        }
        env
    })
}

fn page(ctx: PageCtx, name: &str, extra: Value) -> Result<Response, ApiError> {
    let p = Value::from(Serde(policy_texts(ctx.lang)));
    ctx.respond(render, name, context! { p => p, ..extra })
}

async fn page_library(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DateQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    may_calculate(&ctx.viewer)?;
    let policies: Vec<wire::policy::PolicySummary> =
        library(&state).policies.iter().map(Into::into).collect();
    let own = match &ctx.viewer.scope {
        Scope::Enterprise(u) => Some(u.as_str().to_string()),
        _ => None,
    };
    let extra = context! {
        policies => Value::from(Serde(policies)),
        own_uscc => own,
        staff => ctx.viewer.is_staff(),
        zh => ctx.lang == Lang::Zh,
    };
    page(ctx, "policies.html", extra)
}

/// The what-if form's fields: one project the enterprise is considering.
#[derive(Debug, Deserialize)]
struct WhatIfQuery {
    error: Option<String>,
    message: Option<String>,
    date: Option<String>,
    lang: Option<String>,
    kind: Option<String>,
    project_date: Option<String>,
    loan_10k_yuan: Option<String>,
    equipment_loan_10k_yuan: Option<String>,
    equipment_investment_10k_yuan: Option<String>,
}

fn number_field(field: &str, text: &Option<String>) -> Result<Option<f64>, ApiError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<f64>()
            .map(Some)
            .map_err(|_| invalid(field, format!("`{t}` is not a number"))),
    }
}

/// "My policies": eligible, needs information (with the facts to supply), not eligible (with
/// the first failing condition), each with its trace; the what-if form recomputes with a
/// hypothetical project (a GET: nothing is stored).
async fn page_enterprise(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(uscc): Path<String>,
    Query(q): Query<WhatIfQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let date_text = q
        .date
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| default_date(&state).format("%Y-%m-%d").to_string());
    let what_if = q.kind.as_deref().is_some_and(|k| !k.is_empty());
    let mut projects = Vec::new();
    if what_if {
        projects.push(wire::policy::ProjectInput {
            project_id: "what-if".into(),
            kind: q.kind.clone(),
            date: q
                .project_date
                .clone()
                .filter(|d| !d.trim().is_empty())
                .or_else(|| Some(date_text.clone())),
            loan_10k_yuan: number_field("loan_10k_yuan", &q.loan_10k_yuan)?,
            equipment_loan_10k_yuan: number_field(
                "equipment_loan_10k_yuan",
                &q.equipment_loan_10k_yuan,
            )?,
            equipment_investment_10k_yuan: number_field(
                "equipment_investment_10k_yuan",
                &q.equipment_investment_10k_yuan,
            )?,
            ..wire::policy::ProjectInput::default()
        });
    }
    let s = wire::policy::Situation {
        uscc: Some(uscc.clone()),
        date: date_text.clone(),
        enterprise: None,
        projects,
        detail: None,
    };
    let (e, projects, date) = situate(&state, &ctx.viewer, &s)?;
    let calc = decide(&library(&state), e, &projects, date, Some(uscc.clone()));
    let kinds: Vec<serde_json::Value> = PROJECT_KINDS
        .iter()
        .map(|(k, zh)| {
            serde_json::json!({
                "key": k,
                "name": if ctx.lang == Lang::Zh { zh.first().copied().unwrap_or(k) } else { k },
                "selected": q.kind.as_deref() == Some(*k),
            })
        })
        .collect();
    let extra = context! {
        uscc => uscc,
        calc => Value::from(Serde(calc)),
        date => date_text,
        what_if => what_if,
        kinds => Value::from(Serde(kinds)),
        form => Value::from(Serde(serde_json::json!({
            "project_date": q.project_date,
            "loan": q.loan_10k_yuan,
            "equipment_loan": q.equipment_loan_10k_yuan,
            "equipment_investment": q.equipment_investment_10k_yuan,
        }))),
        zh => ctx.lang == Lang::Zh,
        error => q.error.as_ref().map(|code| (code.clone(), q.message.clone().unwrap_or_default())),
    };
    page(ctx, "enterprise_policies.html", extra)
}
