//! Energy and carbon pages and API (issue 4): the dashboard of the city, a district or an industry
//! division (totals on both bases and by scope, intensity by year against the city's target, top
//! emitters, carbon-efficiency grades), and an enterprise's own energy and carbon (monthly metered
//! profile, scope breakdown, each line with its lineage, the factor rows used).
//!
//! The accounts of every year are computed once per data version (`EnergyCache`, like
//! `summary.rs`) by gusu-core's ledger and shared by every request; the grade needs the whole
//! division, so even an enterprise's page reads the city's ledger and shows only its own row.
//! Access: the dashboard is for staff (a district officer sees their own district only); an
//! enterprise's page for staff in scope and the enterprise itself; anything else answers 404.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use gusu_core::carbon::intensity::{IntensityRow, IntensityTarget, Level, intensity};
use gusu_core::carbon::ledger::{
    FactorRef, LedgerRow, Population, PopulationSummary, YearLedger, account_year, describe,
    intensity_data, summarize,
};
use gusu_core::carbon::{PeerArea, Settings};
use gusu_core::{Scope, Uscc, Viewer};
use gusu_store::{MeteredMonth, Store, StoredEnergyLine};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use crate::chart::{Column, columns};
use crate::page_ctx::PageCtx;
use crate::pages::{Lang, page_session, render};
use crate::{ApiError, AppState, Authed, wire};
use utoipa::{IntoParams, OpenApi};

/// Emitters listed on the dashboard.
const TOP_EMITTERS: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/energy", get(dashboard_page))
        .route("/my/energy", get(my_energy))
        .route("/enterprises/{uscc}/energy", get(enterprise_page))
        .route("/api/v1/energy/{year}", get(dashboard_api))
        .route("/api/v1/enterprises/{uscc}/energy", get(enterprise_api))
}

/// A population by (district, division).
type PopulationKey = (Option<String>, Option<String>);

/// Every year's accounts, for one data version.
pub struct CityEnergy {
    /// Oldest first; years whose factors could not be settled are in `skipped`.
    pub ledgers: Vec<YearLedger>,
    pub skipped: Vec<(i32, String)>,
    /// Intensity by year of each population asked for, computed once (it runs over every year).
    trends: Mutex<HashMap<PopulationKey, Arc<Vec<IntensityPoint>>>>,
    /// Each dashboard asked for, by year and population: it sums every enterprise of the year,
    /// and this value is replaced when the data changes.
    dashboards: Mutex<HashMap<(i32, PopulationKey), Arc<Dashboard>>>,
}

impl CityEnergy {
    /// An enterprise's scope 1 + scope 2 emissions (tCO₂, gross) in each year gusu accounted it.
    pub fn scope12_by_year(&self, uscc: &Uscc) -> BTreeMap<i32, f64> {
        self.ledgers
            .iter()
            .filter_map(|l| {
                let row = l.rows.iter().find(|r| r.uscc == *uscc)?;
                Some((l.year, row.account.scope1_tco2 + row.account.scope2_tco2))
            })
            .collect()
    }

    fn ledger(&self, year: i32) -> Option<&YearLedger> {
        self.ledgers.iter().find(|l| l.year == year)
    }

    fn latest_year(&self) -> Option<i32> {
        self.ledgers.last().map(|l| l.year)
    }
}

type Key = (i64, i64, i64);

/// The city's accounts, rebuilt when the store's data version changes.
#[derive(Default)]
pub struct EnergyCache {
    current: Mutex<Option<(Key, Arc<CityEnergy>)>>,
    building: Mutex<()>,
}

impl EnergyCache {
    fn get(&self, state: &AppState, store: &Store) -> Result<Arc<CityEnergy>, ApiError> {
        let key = store.data_version()?;
        let hit = |c: &Mutex<Option<(Key, Arc<CityEnergy>)>>| {
            c.lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .filter(|(k, _)| *k == key)
                .map(|(_, e)| e.clone())
        };
        if let Some(e) = hit(&self.current) {
            return Ok(e);
        }
        let _building = self.building.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = hit(&self.current) {
            return Ok(e);
        }
        let built = Arc::new(build(state, store)?);
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some((key, built.clone()));
        Ok(built)
    }
}

fn build(state: &AppState, store: &Store) -> Result<CityEnergy, ApiError> {
    let config = &state.0.config;
    let library = &config.factors;
    let location = library.location(&config.region.division_prefix);
    let mut ledgers = Vec::new();
    let mut skipped = Vec::new();
    for year in store.energy_years()? {
        let inputs = store.ledger_inputs(year)?;
        let settings = Settings {
            year,
            grid: config.energy.grid_choice(),
            location,
            coal_rate: None,
        };
        match account_year(library, &settings, &inputs, PeerArea::City) {
            Ok(l) => ledgers.push(l),
            Err(e) => skipped.push((year, e.to_string())),
        }
    }
    Ok(CityEnergy {
        ledgers,
        skipped,
        trends: Mutex::default(),
        dashboards: Mutex::default(),
    })
}

impl AppState {
    pub(crate) fn city_energy(&self) -> Result<Arc<CityEnergy>, ApiError> {
        let store = self.reader();
        self.0.energy.get(self, &store)
    }
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DashboardQuery {
    /// A district code (a district officer: its own).
    district: Option<String>,
    /// A two-digit GB/T 4754 division.
    division: Option<String>,
    /// The page's year (the API takes it from the path).
    year: Option<i32>,
    /// `zh` or `en` (pages).
    lang: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The population a viewer asked for and may see: staff only; a district officer always within
/// their own district (another district answers 404, as if it did not exist).
fn population(
    state: &AppState,
    viewer: &Viewer,
    district: Option<String>,
    division: Option<String>,
) -> Result<Population, ApiError> {
    if !viewer.is_staff() {
        return Err(ApiError::forbidden());
    }
    if let Some(code) = &district
        && (state.0.config.region.by_code(code).is_none() || !viewer.may_see_district(code))
    {
        return Err(ApiError::not_found("district"));
    }
    if let Some(code) = &division
        && gusu_core::division(code).is_none()
    {
        return Err(ApiError::not_found("division"));
    }
    let district = match (&viewer.scope, district) {
        (_, Some(d)) => Some(d),
        (Scope::District(own), None) => Some(own.clone()),
        _ => None,
    };
    Ok(Population { district, division })
}

/// One year of a population's intensity, against the target.
#[derive(Debug, Clone, Serialize)]
pub struct IntensityPoint {
    pub year: i32,
    pub enterprises: u32,
    pub energy_tce: f64,
    pub value_added: f64,
    pub intensity: Option<f64>,
    pub change_vs_previous: Option<f64>,
    pub change_vs_base: Option<f64>,
    pub target: Option<IntensityTarget>,
    pub target_met: Option<bool>,
    /// The intensity the target allows against the previous year (previous × (1 + change)), for
    /// the chart; like for like, so only a guide where the population changed.
    pub allowed_intensity: Option<f64>,
}

/// The population's intensity in every year, from the cache of this data version.
fn trend(
    state: &AppState,
    energy: &CityEnergy,
    population: &Population,
) -> Arc<Vec<IntensityPoint>> {
    let key = (population.district.clone(), population.division.clone());
    if let Some(hit) = energy
        .trends
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
    {
        return hit.clone();
    }
    let made = Arc::new(compute_trend(state, energy, population));
    energy
        .trends
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, made.clone());
    made
}

/// The population's intensity in every year: the city level of the intensity engine run over the
/// population's enterprises alone (computed once per data version and population, see [`trend`]).
fn compute_trend(
    state: &AppState,
    energy: &CityEnergy,
    population: &Population,
) -> Vec<IntensityPoint> {
    let settings = &state.0.config.energy;
    let data: Vec<_> = intensity_data(&energy.ledgers, settings.intensity_basis)
        .into_iter()
        .filter(|e| population.holds(&e.district, &e.division))
        .collect();
    let years: Vec<i32> = energy.ledgers.iter().map(|l| l.year).collect();
    let rows: Vec<IntensityRow> = intensity(&data, &years, settings.base_year, &settings.targets)
        .into_iter()
        .filter(|r| r.level == Level::City)
        .collect();
    let mut points: Vec<IntensityPoint> = Vec::new();
    for r in rows {
        let target = settings.target(r.year).cloned();
        let previous = points
            .iter()
            .find(|p| p.year == r.year - 1)
            .and_then(|p| p.intensity);
        let allowed_intensity = target
            .as_ref()
            .and_then(|t| t.max_change_vs_previous)
            .zip(previous)
            .map(|(m, p)| p * (1.0 + m));
        points.push(IntensityPoint {
            year: r.year,
            enterprises: r.enterprises,
            energy_tce: r.energy_tce,
            value_added: r.value_added,
            intensity: r.intensity,
            change_vs_previous: r.change_vs_previous,
            change_vs_base: r.change_vs_base,
            target,
            target_met: r.target_met,
            allowed_intensity,
        });
    }
    points
}

/// What the dashboard shows (the page and `GET /api/v1/energy/{year}` alike).
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub year: i32,
    pub years: Vec<i32>,
    pub base_year: Option<i32>,
    pub grid_factor: gusu_core::carbon::GridFactor,
    pub summary: PopulationSummary,
    pub intensity: Vec<IntensityPoint>,
    /// Whether the city set a target for the year.
    pub target_set: bool,
    /// Enterprises of the population whose lines could not be accounted (left out).
    pub not_accounted: usize,
    /// Years left out because their factors could not be settled, with the reason.
    pub years_skipped: Vec<(i32, String)>,
}

/// The dashboard of a year and population, made once per data version.
fn dashboard(
    state: &AppState,
    energy: &CityEnergy,
    population: Population,
    year: i32,
) -> Result<Arc<Dashboard>, ApiError> {
    let key = (
        year,
        (population.district.clone(), population.division.clone()),
    );
    let cached = |map: &Mutex<HashMap<_, Arc<Dashboard>>>| {
        map.lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
    };
    if let Some(hit) = cached(&energy.dashboards) {
        return Ok(hit);
    }
    let made = Arc::new(make_dashboard(state, energy, population, year)?);
    energy
        .dashboards
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, made.clone());
    Ok(made)
}

fn make_dashboard(
    state: &AppState,
    energy: &CityEnergy,
    population: Population,
    year: i32,
) -> Result<Dashboard, ApiError> {
    let ledger = energy
        .ledger(year)
        .ok_or_else(|| ApiError::not_found("energy data of the year"))?;
    let store = state.reader();
    let not_accounted = if ledger.failures.is_empty() {
        0
    } else {
        let places: BTreeMap<Uscc, (String, String)> = store
            .enterprises()?
            .into_iter()
            .map(|e| (e.uscc, (e.district, e.division)))
            .collect();
        ledger
            .failures
            .iter()
            .filter(|f| {
                places
                    .get(&f.uscc)
                    .is_some_and(|(d, v)| population.holds(d, v))
            })
            .count()
    };
    drop(store);
    Ok(Dashboard {
        year,
        years: energy.ledgers.iter().map(|l| l.year).collect(),
        base_year: state.0.config.energy.base_year,
        grid_factor: ledger.grid.clone(),
        intensity: Vec::clone(&trend(state, energy, &population)),
        summary: summarize(ledger, &population, TOP_EMITTERS),
        target_set: state.0.config.energy.target(year).is_some(),
        not_accounted,
        years_skipped: energy.skipped.clone(),
    })
}

/// The energy API's operations, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(dashboard_api, enterprise_api))]
pub(crate) struct Api;

/// Energy and carbon of the city, a district or a division (staff; a district officer its own
/// district): totals on both bases and by scope, intensity by year against the target, top
/// emitters, carbon-efficiency grades.
#[utoipa::path(get, path = "/api/v1/energy/{year}", tag = "energy",
    params(("year" = i32, Path, description = "Accounting year"), DashboardQuery),
    responses((status = 200, description = "The dashboard", body = wire::energy::Dashboard)))]
async fn dashboard_api(
    State(state): State<AppState>,
    authed: Authed,
    Path(year): Path<i32>,
    query: Result<Query<DashboardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<wire::energy::Dashboard>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let population = population(
        &state,
        &authed.viewer,
        given(&query.district),
        given(&query.division),
    )?;
    let energy = state.city_energy()?;
    let d = dashboard(&state, &energy, population, year)?;
    let what = format!("energy {year}");
    crate::audit_bulk_read(&state, &authed.viewer, &what, d.summary.top_emitters.len())?;
    Ok(Json((&*d).into()))
}

/// One enterprise's energy and carbon in a year.
#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseYear {
    pub year: i32,
    /// The account and grade, or `None` when its lines could not be accounted (`error` says why).
    pub ledger: Option<LedgerRow>,
    pub error: Option<String>,
    pub grid_factor: Option<gusu_core::carbon::GridFactor>,
    /// The factor rows the account used, with value, unit and source.
    pub factors: Vec<FactorRef>,
    /// Its energy lines with lineage (batch, file, row, department).
    pub lines: Vec<StoredEnergyLine>,
}

/// What the enterprise's energy page shows (and `GET /api/v1/enterprises/{uscc}/energy`).
#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseEnergy {
    pub uscc: Uscc,
    pub name: String,
    pub district: String,
    pub division: String,
    /// Newest first.
    pub years: Vec<EnterpriseYear>,
    /// Metered monthly totals, by year, carrier and month.
    pub monthly: Vec<MeteredMonth>,
}

fn enterprise_energy(
    state: &AppState,
    viewer: &Viewer,
    uscc: &Uscc,
) -> Result<EnterpriseEnergy, ApiError> {
    let energy = state.city_energy()?;
    let store = state.reader();
    // Another enterprise, or one of another district, does not exist for this viewer.
    let e = store
        .enterprise(uscc)?
        .filter(|e| viewer.may_see(&e.uscc, &e.district))
        .ok_or_else(|| ApiError::not_found("enterprise"))?;
    let lines = store.energy_lines_of(uscc)?;
    let monthly = store.metered_months_of(uscc)?;
    drop(store);
    let mut by_year: BTreeMap<i32, Vec<StoredEnergyLine>> = BTreeMap::new();
    for l in lines {
        by_year.entry(l.year).or_default().push(l);
    }
    let library = &state.0.config.factors;
    let mut years = Vec::new();
    for (year, lines) in by_year.into_iter().rev() {
        let ledger = energy.ledger(year);
        let row = ledger.and_then(|l| l.rows.iter().find(|r| r.uscc == *uscc).cloned());
        let error = match (ledger, &row) {
            (None, _) => energy
                .skipped
                .iter()
                .find(|(y, _)| *y == year)
                .map(|(_, reason)| reason.clone()),
            (Some(l), None) => l
                .failures
                .iter()
                .find(|f| f.uscc == *uscc)
                .map(|f| f.error.to_string()),
            _ => None,
        };
        let grid = ledger.map(|l| l.grid.clone());
        let factors = match (&row, &grid) {
            (Some(r), Some(g)) => r
                .account
                .factors
                .iter()
                .chain(&r.efficiency.factors)
                .filter_map(|id| describe(library, id, g))
                .collect(),
            _ => Vec::new(),
        };
        years.push(EnterpriseYear {
            year,
            ledger: row,
            error,
            grid_factor: grid,
            factors,
            lines,
        });
    }
    Ok(EnterpriseEnergy {
        uscc: e.uscc,
        name: e.name,
        district: e.district,
        division: e.division,
        years,
        monthly,
    })
}

/// One enterprise's energy and carbon by year: the account by scope, the carbon-efficiency
/// grade, each energy line with its lineage, the factor rows used, and metered monthly totals.
#[utoipa::path(get, path = "/api/v1/enterprises/{uscc}/energy", tag = "energy",
    params(("uscc" = String, Path, description = "Unified social credit code")),
    responses((status = 200, description = "The enterprise's energy and carbon", body = wire::energy::EnterpriseEnergy)))]
async fn enterprise_api(
    State(state): State<AppState>,
    authed: Authed,
    Path(uscc): Path<String>,
) -> Result<Json<wire::energy::EnterpriseEnergy>, ApiError> {
    let uscc =
        Uscc::parse(&uscc).map_err(|e| ApiError::bad_request("invalid_uscc", e.to_string()))?;
    Ok(Json(
        (&enterprise_energy(&state, &authed.viewer, &uscc)?).into(),
    ))
}

/// The labels of the energy pages, in one language.
#[derive(Serialize)]
struct EnergyTexts {
    title: &'static str,
    enterprise_title: &'static str,
    no_data: &'static str,
    year: &'static str,
    city: &'static str,
    district: &'static str,
    division: &'static str,
    all: &'static str,
    show: &'static str,
    totals: &'static str,
    enterprises: &'static str,
    energy_calorific: &'static str,
    energy_equivalent: &'static str,
    scope1: &'static str,
    combustion: &'static str,
    process: &'static str,
    scope2: &'static str,
    electricity: &'static str,
    heat: &'static str,
    exported: &'static str,
    total: &'static str,
    biomass: &'static str,
    intensity: &'static str,
    intensity_unit: &'static str,
    change_previous: &'static str,
    change_base: &'static str,
    target: &'static str,
    no_target: &'static str,
    met: &'static str,
    not_met: &'static str,
    cannot_judge: &'static str,
    target_line: &'static str,
    top_emitters: &'static str,
    name: &'static str,
    grade: &'static str,
    grades: &'static str,
    no_grade: &'static str,
    grid_factor: &'static str,
    not_accounted: &'static str,
    monthly: &'static str,
    no_meter: &'static str,
    scopes: &'static str,
    lines: &'static str,
    carrier: &'static str,
    quantity: &'static str,
    unit: &'static str,
    source: &'static str,
    file: &'static str,
    row: &'static str,
    imported_at: &'static str,
    factors: &'static str,
    factor_id: &'static str,
    value: &'static str,
    carbon_efficiency: &'static str,
    level: &'static str,
    value_added: &'static str,
    warnings: &'static str,
    error: &'static str,
    back: &'static str,
}

fn energy_texts(lang: Lang) -> EnergyTexts {
    match lang {
        Lang::Zh => EnergyTexts {
            title: "能耗与碳排放",
            enterprise_title: "本企业能耗与碳排放",
            no_data: "尚无能源消费数据（导入能源消费文件后显示）。",
            year: "年度",
            city: "全市",
            district: "区县",
            division: "行业",
            all: "全部",
            show: "查看",
            totals: "合计",
            enterprises: "已核算企业数",
            energy_calorific: "综合能耗（当量值，tce）",
            energy_equivalent: "综合能耗（等价值，tce）",
            scope1: "范围一（tCO₂）",
            combustion: "化石燃料燃烧",
            process: "工业过程",
            scope2: "范围二（tCO₂）",
            electricity: "外购电力",
            heat: "外购热力",
            exported: "输出电力热力（tCO₂）",
            total: "排放总量（tCO₂）",
            biomass: "生物质燃烧（单列，不计入）",
            intensity: "能耗强度",
            intensity_unit: "吨标准煤/万元增加值",
            change_previous: "较上年",
            change_base: "较基年",
            target: "目标",
            no_target: "未设定目标",
            met: "达到",
            not_met: "未达到",
            cannot_judge: "无法判断",
            target_line: "红色虚线：目标允许的强度（上年强度 ×（1 + 目标降幅））",
            top_emitters: "排放最多的企业",
            name: "企业名称",
            grade: "碳效等级",
            grades: "碳效等级分布",
            no_grade: "无等级",
            grid_factor: "电网排放因子",
            not_accounted: "家企业的能源数据无法核算，未计入",
            monthly: "计量月度用量",
            no_meter: "尚无计量读数。",
            scopes: "排放构成",
            lines: "能源消费明细（含来源）",
            carrier: "能源品种",
            quantity: "数量",
            unit: "单位",
            source: "来源部门",
            file: "文件",
            row: "行",
            imported_at: "导入时间",
            factors: "所用因子",
            factor_id: "因子",
            value: "数值",
            carbon_efficiency: "碳效",
            level: "碳效水平",
            value_added: "工业增加值（万元）",
            warnings: "提示",
            error: "无法核算",
            back: "返回",
        },
        Lang::En => EnergyTexts {
            title: "Energy and carbon",
            enterprise_title: "Energy and carbon of the enterprise",
            no_data: "No energy data yet (shown once an energy file is imported).",
            year: "Year",
            city: "City",
            district: "District",
            division: "Industry division",
            all: "All",
            show: "Show",
            totals: "Totals",
            enterprises: "Enterprises accounted",
            energy_calorific: "Energy, calorific basis (tce)",
            energy_equivalent: "Energy, equivalent basis (tce)",
            scope1: "Scope 1 (tCO₂)",
            combustion: "Fuel combustion",
            process: "Industrial processes",
            scope2: "Scope 2 (tCO₂)",
            electricity: "Purchased electricity",
            heat: "Purchased heat",
            exported: "Exported power and heat (tCO₂)",
            total: "Total emissions (tCO₂)",
            biomass: "Biomass combustion (reported apart, not added)",
            intensity: "Energy intensity",
            intensity_unit: "tce per 10,000 yuan of value added",
            change_previous: "vs previous year",
            change_base: "vs base year",
            target: "Target",
            no_target: "No target set",
            met: "Met",
            not_met: "Not met",
            cannot_judge: "Cannot judge",
            target_line: "Dashed red line: the intensity the target allows (previous year × (1 + target change))",
            top_emitters: "Top emitters",
            name: "Name",
            grade: "Carbon-efficiency grade",
            grades: "Carbon-efficiency grades",
            no_grade: "No grade",
            grid_factor: "Grid emission factor",
            not_accounted: "enterprises' energy lines cannot be accounted and are left out",
            monthly: "Metered use by month",
            no_meter: "No meter readings yet.",
            scopes: "Emissions by scope",
            lines: "Energy lines (with lineage)",
            carrier: "Carrier",
            quantity: "Quantity",
            unit: "Unit",
            source: "Department",
            file: "File",
            row: "Row",
            imported_at: "Imported",
            factors: "Factors used",
            factor_id: "Factor",
            value: "Value",
            carbon_efficiency: "Carbon efficiency",
            level: "Level",
            value_added: "Value added (10,000 yuan)",
            warnings: "Notes",
            error: "Cannot be accounted",
            back: "Back",
        },
    }
}

use crate::format::amount as num;

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{:+.2}%", v * 100.0))
}

fn district_name(state: &AppState, lang: Lang, code: &str) -> String {
    state.0.config.region.by_code(code).map_or_else(
        || code.to_string(),
        |d| match lang {
            Lang::Zh => d.name_zh.clone(),
            Lang::En => d.name_en.clone(),
        },
    )
}

fn division_name(lang: Lang, code: &str) -> String {
    gusu_core::division(code).map_or_else(
        || code.to_string(),
        |d| {
            format!(
                "{code} {}",
                match lang {
                    Lang::Zh => d.name_zh,
                    Lang::En => d.name_en,
                }
            )
        },
    )
}

fn carrier_name(lang: Lang, key: &str) -> String {
    match (lang, gusu_core::carbon::Carrier::from_key(key)) {
        (Lang::Zh, Some(c)) => c.name_zh().to_string(),
        _ => key.to_string(),
    }
}

/// Renders an energy page: the header's keys, the energy texts and the intensity basis (a
/// setting, named in the page's language), then the page's own.
fn page(state: &AppState, ctx: PageCtx, name: &str, extra: Value) -> Result<Response, ApiError> {
    let basis = state.0.config.energy.intensity_basis;
    let basis = if ctx.lang == Lang::Zh {
        basis.name_zh()
    } else {
        basis.name_en()
    };
    let e = Value::from(Serde(energy_texts(ctx.lang)));
    ctx.respond(render, name, context! { e => e, basis => basis, ..extra })
}

#[derive(Serialize)]
struct Choice {
    code: String,
    name: String,
    selected: bool,
}

/// `/energy`: the dashboard.
async fn dashboard_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<DashboardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let ctx = match PageCtx::of(&state, &headers, query.lang.clone()) {
        Ok(c) => c,
        Err(redirect) => return Ok(*redirect),
    };
    let population = population(
        &state,
        &ctx.viewer,
        given(&query.district),
        given(&query.division),
    )?;
    let lang = ctx.lang;
    let e = energy_texts(lang);
    let energy = state.city_energy()?;
    let Some(year) = query.year.or(energy.latest_year()) else {
        return page(&state, ctx, "energy.html", context! { empty => true });
    };
    let d = dashboard(&state, &energy, population.clone(), year)?;
    let t = &d.summary.totals;
    let totals = vec![
        (e.enterprises, num(f64::from(t.enterprises), 0)),
        (e.energy_calorific, num(t.energy_tce, 1)),
        (e.energy_equivalent, num(t.energy_tce_equivalent, 1)),
        (e.scope1, num(t.scope1_tco2, 1)),
        (e.scope2, num(t.scope2_tco2, 1)),
        (e.exported, num(t.exported_tco2, 1)),
        (e.total, num(t.total_tco2, 1)),
        (e.biomass, num(t.biomass_tco2, 1)),
    ];
    let trend_chart = columns(
        &d.intensity
            .iter()
            .map(|p| Column {
                label: p.year.to_string(),
                value: p.intensity.unwrap_or(0.0),
                hover: format!(
                    "{}: {} {}",
                    p.year,
                    p.intensity
                        .map_or_else(|| "—".into(), |v| format!("{v:.4}")),
                    e.intensity_unit
                ),
                marker: p.allowed_intensity,
            })
            .collect::<Vec<_>>(),
    );
    let trend_rows: Vec<serde_json::Value> = d
        .intensity
        .iter()
        .map(|p| {
            let target = match (&p.target, p.target_met) {
                (None, _) => e.no_target.to_string(),
                (Some(tg), met) => format!(
                    "{} {} / {} {} · {}",
                    e.change_previous,
                    pct(tg.max_change_vs_previous),
                    e.change_base,
                    pct(tg.max_change_vs_base),
                    match met {
                        Some(true) => e.met,
                        Some(false) => e.not_met,
                        None => e.cannot_judge,
                    }
                ),
            };
            serde_json::json!({
                "year": p.year,
                "enterprises": p.enterprises,
                "intensity": p.intensity.map_or_else(|| "—".into(), |v| format!("{v:.4}")),
                "change_previous": pct(p.change_vs_previous),
                "change_base": pct(p.change_vs_base),
                "target": target,
            })
        })
        .collect();
    let grade_keys = ["1", "2", "3", "4", "5", gusu_core::carbon::ledger::NO_GRADE];
    let grade_chart = columns(
        &grade_keys
            .iter()
            .map(|k| {
                let n = d.summary.grades.get(*k).copied().unwrap_or(0);
                let label = if *k == gusu_core::carbon::ledger::NO_GRADE {
                    e.no_grade.to_string()
                } else {
                    k.to_string()
                };
                Column {
                    hover: format!("{} {label}: {n}", e.grade),
                    label,
                    value: f64::from(n),
                    marker: None,
                }
            })
            .collect::<Vec<_>>(),
    );
    let top: Vec<serde_json::Value> = d
        .summary
        .top_emitters
        .iter()
        .map(|r| {
            serde_json::json!({
                "uscc": r.uscc,
                "name": r.name,
                "district": district_name(&state, lang, &r.district),
                "division": division_name(lang, &r.division),
                "total": num(r.account.total_tco2, 1),
                "scope1": num(r.account.scope1_tco2, 1),
                "scope2": num(r.account.scope2_tco2, 1),
                "energy": num(r.account.energy_tce, 1),
                "grade": r.efficiency.grade.clone().unwrap_or_else(|| "—".into()),
            })
        })
        .collect();
    let districts: Vec<Choice> = state
        .0
        .config
        .region
        .districts
        .iter()
        .filter(|dd| ctx.viewer.may_see_district(&dd.code))
        .map(|dd| Choice {
            code: dd.code.clone(),
            name: district_name(&state, lang, &dd.code),
            selected: population.district.as_deref() == Some(dd.code.as_str()),
        })
        .collect();
    let mut division_codes: Vec<&str> = energy
        .ledger(year)
        .map(|l| l.rows.iter().map(|r| r.division.as_str()).collect())
        .unwrap_or_default();
    division_codes.sort_unstable();
    division_codes.dedup();
    let divisions: Vec<Choice> = division_codes
        .into_iter()
        .map(|code| Choice {
            code: code.to_string(),
            name: division_name(lang, code),
            selected: population.division.as_deref() == Some(code),
        })
        .collect();
    let heading = match (&population.district, &population.division) {
        (None, None) => e.city.to_string(),
        (Some(dd), None) => district_name(&state, lang, dd),
        (None, Some(v)) => division_name(lang, v),
        (Some(dd), Some(v)) => format!(
            "{} · {}",
            district_name(&state, lang, dd),
            division_name(lang, v)
        ),
    };
    let all_districts = matches!(ctx.viewer.scope, Scope::City);
    page(
        &state,
        ctx,
        "energy.html",
        context! {
            empty => false,
            year => year,
            years => Value::from(Serde(&d.years)),
            heading => heading,
            totals => Value::from(Serde(&totals)),
            grid => format!("{} ({})", d.grid_factor.value, d.grid_factor.id),
            trend_chart => Value::from_safe_string(trend_chart),
            trend => Value::from(Serde(&trend_rows)),
            target_set => d.target_set,
            grade_chart => Value::from_safe_string(grade_chart),
            top => Value::from(Serde(&top)),
            districts => Value::from(Serde(&districts)),
            all_districts => all_districts,
            divisions => Value::from(Serde(&divisions)),
            not_accounted => d.not_accounted,
            base_year => d.base_year,
        },
    )
}

/// `/my/energy`: an enterprise's own page, the dashboard for staff.
async fn my_energy(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    match &session.viewer.scope {
        Scope::Enterprise(uscc) => {
            Ok(Redirect::to(&format!("/enterprises/{uscc}/energy")).into_response())
        }
        _ if session.viewer.is_staff() => Ok(Redirect::to("/energy").into_response()),
        _ => Err(ApiError::forbidden()),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EnterpriseQuery {
    year: Option<i32>,
    lang: Option<String>,
}

/// `/enterprises/{uscc}/energy`: the enterprise's energy and carbon.
async fn enterprise_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(uscc): Path<String>,
    query: Result<Query<EnterpriseQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let ctx = match PageCtx::of(&state, &headers, query.lang.clone()) {
        Ok(c) => c,
        Err(redirect) => return Ok(*redirect),
    };
    let uscc = Uscc::parse(&uscc).map_err(|_| ApiError::not_found("enterprise"))?;
    let data = enterprise_energy(&state, &ctx.viewer, &uscc)?;
    let lang = ctx.lang;
    let e = energy_texts(lang);
    let chosen = query
        .year
        .and_then(|y| data.years.iter().find(|x| x.year == y))
        .or(data.years.first());
    // The monthly profile of the newest metered year, per carrier.
    let metered_year = data.monthly.iter().map(|m| m.year).max();
    let mut monthly_charts: Vec<serde_json::Value> = Vec::new();
    if let Some(my) = metered_year {
        let mut carriers: Vec<&str> = data
            .monthly
            .iter()
            .filter(|m| m.year == my)
            .map(|m| m.carrier.as_str())
            .collect();
        carriers.dedup();
        for carrier in carriers {
            let months: Vec<&MeteredMonth> = data
                .monthly
                .iter()
                .filter(|m| m.year == my && m.carrier == carrier)
                .collect();
            let unit = months.first().map(|m| m.unit.clone()).unwrap_or_default();
            let cols: Vec<Column> = (1..=12)
                .map(|month| {
                    let total = months.iter().find(|m| m.month == month).map(|m| m.total);
                    Column {
                        label: match lang {
                            Lang::Zh => format!("{month}月"),
                            Lang::En => format!("{month}"),
                        },
                        value: total.unwrap_or(0.0),
                        hover: format!(
                            "{my}-{month:02}: {} {unit}",
                            total.map_or_else(|| "—".into(), |v| num(v, 0))
                        ),
                        marker: None,
                    }
                })
                .collect();
            monthly_charts.push(serde_json::json!({
                "title": format!("{} {my} ({unit})", carrier_name(lang, carrier)),
                "svg": columns(&cols),
                "total": num(months.iter().map(|m| m.total).sum::<f64>(), 0),
            }));
        }
    }
    let year_ctx = chosen.map(|y| {
        let scopes: Vec<(String, String)> = y
            .ledger
            .as_ref()
            .map(|r| {
                let a = &r.account;
                vec![
                    (format!("{} · {}", e.scope1, e.combustion), num(a.combustion_tco2, 2)),
                    (format!("{} · {}", e.scope1, e.process), num(a.process_tco2, 2)),
                    (format!("{} · {}", e.scope2, e.electricity), num(a.electricity_tco2, 2)),
                    (format!("{} · {}", e.scope2, e.heat), num(a.heat_tco2, 2)),
                    (e.exported.to_string(), num(-a.exported_tco2, 2)),
                    (e.total.to_string(), num(a.total_tco2, 2)),
                    (e.biomass.to_string(), num(a.biomass_tco2, 2)),
                    (e.energy_calorific.to_string(), num(a.energy_tce, 2)),
                    (e.energy_equivalent.to_string(), num(a.energy_tce_equivalent, 2)),
                ]
            })
            .unwrap_or_default();
        let scope_chart = y.ledger.as_ref().map(|r| {
            let a = &r.account;
            columns(&[
                Column { label: "S1".into(), value: a.scope1_tco2, hover: format!("{}: {}", e.scope1, num(a.scope1_tco2, 2)), marker: None },
                Column { label: "S2".into(), value: a.scope2_tco2, hover: format!("{}: {}", e.scope2, num(a.scope2_tco2, 2)), marker: None },
                Column { label: "−".into(), value: a.exported_tco2, hover: format!("{}: {}", e.exported, num(a.exported_tco2, 2)), marker: None },
                Column { label: "Σ".into(), value: a.total_tco2, hover: format!("{}: {}", e.total, num(a.total_tco2, 2)), marker: None },
            ])
        });
        let lines: Vec<serde_json::Value> = y
            .lines
            .iter()
            .map(|l| {
                serde_json::json!({
                    "carrier": carrier_name(lang, l.carrier.key()),
                    "quantity": num(l.quantity, 3),
                    "unit": l.unit.key(),
                    "source": l.source,
                    "file": l.file_name,
                    "batch": l.batch_id,
                    "row": l.row,
                    "imported_at": l.imported_at,
                })
            })
            .collect();
        let factors: Vec<serde_json::Value> = y
            .factors
            .iter()
            .map(|f| {
                serde_json::json!({
                    "id": f.id,
                    "value": if f.value.is_finite() { format!("{}", f.value) } else { "∞".into() },
                    "unit": f.unit,
                    "source": f.source,
                })
            })
            .collect();
        let efficiency = y.ledger.as_ref().map(|r| {
            serde_json::json!({
                "l": r.efficiency.l.map_or_else(|| "—".into(), |v| format!("{v:.4}")),
                "level": r.efficiency.level.as_deref().map_or_else(
                    || "—".to_string(),
                    |level| match (level, lang) {
                        ("low", Lang::Zh) => "低碳".to_string(),
                        ("medium", Lang::Zh) => "中碳".to_string(),
                        ("high", Lang::Zh) => "高碳".to_string(),
                        (other, _) => other.to_string(),
                    },
                ),
                "k": r.efficiency.k.map_or_else(|| "—".into(), |v| format!("{v:.3}")),
                "grade": r.efficiency.grade.clone().unwrap_or_else(|| "—".into()),
                "intensity": r
                    .intensity_on(state.0.config.energy.intensity_basis)
                    .map_or_else(|| "—".into(), |v| format!("{v:.4}")),
                "value_added": r.value_added.map_or_else(|| "—".into(), |v| num(v, 1)),
                "warnings": r.account.warnings.iter().chain(&r.efficiency.warnings).cloned().collect::<Vec<_>>().join(", "),
            })
        });
        serde_json::json!({
            "year": y.year,
            "scopes": scopes,
            "scope_chart": scope_chart,
            "lines": lines,
            "factors": factors,
            "efficiency": efficiency,
            "error": y.error,
            "grid": y.grid_factor.as_ref().map(|g| format!("{} ({})", g.value, g.id)),
        })
    });
    let years: Vec<i32> = data.years.iter().map(|y| y.year).collect();
    let scope_chart = year_ctx
        .as_ref()
        .and_then(|y| y["scope_chart"].as_str().map(str::to_string))
        .unwrap_or_default();
    let monthly: Vec<serde_json::Value> = monthly_charts
        .into_iter()
        .map(|mut c| {
            let svg = c["svg"].as_str().unwrap_or_default().to_string();
            c["svg"] = serde_json::Value::Null;
            serde_json::json!({ "title": c["title"], "total": c["total"], "svg": svg })
        })
        .collect();
    let monthly_svgs: Vec<Value> = monthly
        .iter()
        .map(|c| Value::from_safe_string(c["svg"].as_str().unwrap_or_default().to_string()))
        .collect();
    page(
        &state,
        ctx,
        "enterprise_energy.html",
        context! {
            uscc => data.uscc.to_string(),
            name => data.name.clone(),
            district => district_name(&state, lang, &data.district),
            division => division_name(lang, &data.division),
            years => Value::from(Serde(&years)),
            y => Value::from(Serde(&year_ctx)),
            scope_chart => Value::from_safe_string(scope_chart),
            monthly => Value::from(Serde(&monthly)),
            monthly_svgs => Value::from(monthly_svgs),
        },
    )
}
