//! The evaluation engine: grades every enterprise of a region by a scheme (methods.md 2.1–2.4).
//!
//! Pure and fast: records in, results out. Groups are graded independently; `grade_group` is the
//! unit that `explain` re-runs when it tries a changed figure.

pub mod explain;
pub mod simulate;

use std::collections::HashMap;

use std::sync::Arc;

use rustc_hash::FxHashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::expr::Bindings;
use crate::indicator::{EnergyBasis, Indicator, Parts};
use crate::record::{Enterprise, EnterpriseYear, Figure, YearlyRecord};
use crate::scheme::{Benchmark, Group, Scheme, SchemeIndicator};
use crate::uscc::Uscc;

/// What the engine is asked to evaluate.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationInput<'a> {
    pub year: i32,
    pub enterprises: &'a [Enterprise],
    /// Yearly records of any years; the engine reads the evaluation year (and the year before where a
    /// benchmark needs it).
    pub records: &'a [YearlyRecord],
    /// A district code: that district alone is evaluated and ranked. `None`: the whole city.
    pub district: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Graded,
    Exempt,
    OutOfScope,
    MissingData,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Graded => "graded",
            Status::Exempt => "exempt",
            Status::OutOfScope => "out_of_scope",
            Status::MissingData => "missing_data",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Status::Graded => "已评价",
            Status::Exempt => "不参评(T)",
            Status::OutOfScope => "不在评价范围",
            Status::MissingData => "数据缺失",
        }
    }
}

/// 规上 / 规下: the two size classes that never share a ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeGroup {
    Above,
    Below,
}

impl SizeGroup {
    pub fn key(self) -> &'static str {
        match self {
            SizeGroup::Above => "above",
            SizeGroup::Below => "below",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorResult {
    /// The scheme's key for the indicator (shared, not copied, across a million results).
    pub key: Arc<str>,
    /// The enterprise's value (of the fallback indicator when `fallback` is set); `None` when not computable.
    pub value: Option<f64>,
    /// The benchmark the value was scored against.
    pub benchmark: Option<f64>,
    pub weight: f64,
    pub score: f64,
    /// True when the score is the group mean because the value could not be computed.
    pub imputed: bool,
    /// The fallback indicator used, if any.
    pub fallback: Option<Indicator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdjustmentResult {
    pub key: String,
    pub points: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureResult {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub rate: Option<f64>,
    pub unit: Option<String>,
    /// Year the measure applies in (evaluation year + 1).
    pub applies_in: i32,
    /// rate × the basis figure of the evaluation year, in 元, where both are known.
    pub amount: Option<f64>,
    pub source: String,
}

/// One enterprise's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseResult {
    pub uscc: Uscc,
    pub name: String,
    /// District code.
    pub district: Arc<str>,
    /// GB/T 4754 division (2 digits).
    pub division: Arc<str>,
    /// Above or below designated size (by the year's flag), even when not graded.
    pub group: SizeGroup,
    pub status: Status,
    pub class: Option<Arc<str>>,
    pub score: Option<f64>,
    /// 1 = best; tied totals share a rank.
    pub rank: Option<u32>,
    pub rank_in_district: Option<u32>,
    pub rank_in_division: Option<u32>,
    pub group_size: Option<u32>,
    /// Share of the group with a strictly higher total.
    pub percentile: Option<f64>,
    pub indicators: Vec<IndicatorResult>,
    pub adjustments: Vec<AdjustmentResult>,
    pub measures: Vec<MeasureResult>,
    /// Stable codes (docs/warnings.md).
    pub warnings: Vec<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSummary {
    pub key: String,
    pub graded: u32,
    /// (indicator key, benchmark) as used; `None` where undefined.
    pub benchmarks: Vec<(String, Option<f64>)>,
    pub class_counts: Vec<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub scheme: String,
    pub scheme_version: String,
    pub year: i32,
    pub district: Option<String>,
    pub groups: Vec<GroupSummary>,
    pub results: Vec<EnterpriseResult>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluationError {
    #[error(
        "scheme {scheme} has no published benchmark for {indicator} ({group}) in evaluation year {year}"
    )]
    MissingBenchmark {
        scheme: String,
        indicator: String,
        group: String,
        year: i32,
    },
    #[error(
        "scheme {scheme} benchmarks on the year before, but there are no yearly records for {prior_year}"
    )]
    NoPriorYearData { scheme: String, prior_year: i32 },
    #[error("scheme {scheme} is not valid for evaluation year {year} (valid {from}–{to})")]
    SchemeNotValid {
        scheme: String,
        year: i32,
        from: i32,
        to: String,
    },
    #[error("{0}")]
    Expression(String),
}

/// Where an enterprise stands before scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub status: Status,
    /// Index into `scheme.groups` (for graded enterprises always set).
    pub group: Option<usize>,
    pub reasons: Vec<Arc<str>>,
}

/// Status reason codes, made once per process: placing a million enterprises allocates none.
struct ReasonCodes {
    exempt_listed: Arc<str>,
    exempt_division: Arc<str>,
    exempt_new: Arc<str>,
    no_group: Arc<str>,
    below_min_land: Arc<str>,
    no_record: Arc<str>,
    missing: [Arc<str>; Figure::ALL.len()],
}

fn reason_codes() -> &'static ReasonCodes {
    static CODES: std::sync::OnceLock<ReasonCodes> = std::sync::OnceLock::new();
    CODES.get_or_init(|| ReasonCodes {
        exempt_listed: "exempt_listed".into(),
        exempt_division: "exempt_division".into(),
        exempt_new: "exempt_new".into(),
        no_group: "no_group".into(),
        below_min_land: "below_min_land".into(),
        no_record: "no_record".into(),
        missing: Figure::ALL.map(|f| format!("missing:{}", f.key()).into()),
    })
}

fn established_exempt(established: NaiveDate, year: i32, within: i32) -> bool {
    // "Established less than N years before the end of the evaluation year": after Dec 31 of year − N.
    established.year() > year - within
}

fn bindings_for(ey: &EnterpriseYear<'_>, year: i32) -> Bindings {
    let mut b = Bindings::default();
    let e = ey.enterprise;
    b.int("year", year as i64)
        .text("uscc", e.uscc.as_str())
        .text("division", &e.division)
        .text("industry_code", &e.industry_code)
        .text("district", &e.district)
        .boolean("above_scale", ey.above_scale)
        .boolean("exempt", ey.exempt)
        .number("land_area_mu", ey.land_area_mu)
        .int("established_year", e.established.year() as i64)
        .numbers(
            "figures",
            ey.figures
                .iter()
                .flat_map(|f| f.present())
                .map(|(fig, v)| (fig.key(), v))
                .collect::<Vec<_>>(),
        );
    b
}

/// Status and group of one enterprise in one year (methods.md 2.3: exempt, then out of scope, then
/// missing data, then graded).
pub fn place(
    scheme: &Scheme,
    ey: &EnterpriseYear<'_>,
    year: i32,
) -> Result<Placement, EvaluationError> {
    let e = ey.enterprise;
    let group = scheme
        .groups
        .iter()
        .position(|g| g.above_scale == ey.above_scale);
    let codes = reason_codes();
    let mut reasons = Vec::new();
    let ex = &scheme.exemptions;
    if ex.by_list && ey.exempt {
        reasons.push(codes.exempt_listed.clone());
    }
    if ex.divisions.contains(&e.division) {
        reasons.push(codes.exempt_division.clone());
    }
    if let Some(within) = ex.established_within_years
        && established_exempt(e.established, year, within)
    {
        reasons.push(codes.exempt_new.clone());
    }
    if !ex.when.is_empty() {
        let b = bindings_for(ey, year);
        for (i, cond) in ex.when.iter().enumerate() {
            if cond
                .eval_bool(&b)
                .map_err(|err| EvaluationError::Expression(err.to_string()))?
            {
                reasons.push(format!("exempt_rule:{i}").into());
            }
        }
    }
    if !reasons.is_empty() {
        return Ok(Placement {
            status: Status::Exempt,
            group,
            reasons,
        });
    }
    let Some(gi) = group else {
        return Ok(Placement {
            status: Status::OutOfScope,
            group,
            reasons: vec![codes.no_group.clone()],
        });
    };
    let g = &scheme.groups[gi];
    if let (Some(min), Some(land)) = (g.min_land_mu, ey.land_area_mu)
        && land < min
    {
        return Ok(Placement {
            status: Status::OutOfScope,
            group,
            reasons: vec![codes.below_min_land.clone()],
        });
    }
    if ey.figures.is_none() {
        reasons.push(codes.no_record.clone());
    }
    if !ey.land_area_mu.is_some_and(|l| l > 0.0) {
        reasons.push(codes.missing[Figure::LandAreaMu as usize].clone());
    }
    if ey.figures.is_some() {
        for f in &g.required {
            if ey.figure(*f).is_none() {
                reasons.push(codes.missing[*f as usize].clone());
            }
        }
    }
    if !reasons.is_empty() {
        return Ok(Placement {
            status: Status::MissingData,
            group,
            reasons,
        });
    }
    Ok(Placement {
        status: Status::Graded,
        group,
        reasons,
    })
}

/// Σ numerator ÷ Σ denominator over members where both are present and the denominator is > 0.
fn aggregate_ratio<'a>(
    members: impl Iterator<Item = &'a EnterpriseYear<'a>>,
    indicator: Indicator,
    basis: EnergyBasis,
) -> Option<f64> {
    let (mut num, mut den, mut any) = (0.0, 0.0, false);
    for ey in members {
        let p = indicator.parts(ey, basis);
        if let (Some(n), Some(d)) = (p.numerator, p.denominator)
            && d > 0.0
        {
            num += n;
            den += d;
            any = true;
        }
    }
    (any && den > 0.0).then(|| num / den)
}

/// Benchmarks that do not depend on the evaluation year's own data, resolved before grading:
/// published values and prior-year ratios. Keyed by (group index, indicator index, is_fallback).
#[derive(Debug, Clone, Default)]
pub struct ResolvedBenchmarks {
    values: HashMap<(usize, usize, bool), Option<f64>>,
}

impl ResolvedBenchmarks {
    fn get(&self, group: usize, indicator: usize, fallback: bool) -> Option<Option<f64>> {
        self.values.get(&(group, indicator, fallback)).copied()
    }
}

/// The enterprises of the region as seen in `year`.
fn enterprise_years<'a>(input: &EvaluationInput<'a>, year: i32) -> Vec<EnterpriseYear<'a>> {
    let mut by_uscc: FxHashMap<&Uscc, &YearlyRecord> =
        FxHashMap::with_capacity_and_hasher(input.records.len(), Default::default());
    by_uscc.extend(
        input
            .records
            .iter()
            .filter(|r| r.year == year)
            .map(|r| (&r.uscc, r)),
    );
    input
        .enterprises
        .iter()
        .filter(|e| input.district.is_none_or(|d| e.district == d))
        .map(|e| EnterpriseYear::new(e, by_uscc.get(&e.uscc).copied()))
        .collect()
}

fn resolve_benchmarks(
    scheme: &Scheme,
    input: &EvaluationInput<'_>,
) -> Result<ResolvedBenchmarks, EvaluationError> {
    let mut out = ResolvedBenchmarks::default();
    let year = input.year;
    let mut prior: Option<(Vec<EnterpriseYear<'_>>, Vec<Placement>)> = None;
    if scheme.needs_prior_year() {
        let prior_year = year - 1;
        let members = enterprise_years(input, prior_year);
        if !members.iter().any(|ey| ey.figures.is_some()) {
            return Err(EvaluationError::NoPriorYearData {
                scheme: scheme.id(),
                prior_year,
            });
        }
        let placements = members
            .iter()
            .map(|ey| place(scheme, ey, prior_year))
            .collect::<Result<Vec<_>, _>>()?;
        prior = Some((members, placements));
    }
    for (gi, g) in scheme.groups.iter().enumerate() {
        for (ii, si) in g.indicators.iter().enumerate() {
            let mut candidates = vec![(false, si.indicator, &si.benchmark)];
            if let Some((fb, bm)) = &si.fallback {
                candidates.push((true, *fb, bm));
            }
            for (is_fallback, indicator, benchmark) in candidates {
                let value = match benchmark {
                    Benchmark::GroupRatio => continue,
                    Benchmark::Fixed(values) => match values.get(&year) {
                        Some(v) => Some(*v),
                        None => {
                            return Err(EvaluationError::MissingBenchmark {
                                scheme: scheme.id(),
                                indicator: if is_fallback {
                                    indicator.key().to_string()
                                } else {
                                    si.key.to_string()
                                },
                                group: g.key.clone(),
                                year,
                            });
                        }
                    },
                    Benchmark::PriorYearRatio { multiple } => {
                        let (members, placements) =
                            prior.as_ref().expect("prior year resolved above");
                        let graded = members
                            .iter()
                            .zip(placements)
                            .filter(|(_, p)| p.status == Status::Graded && p.group == Some(gi))
                            .map(|(ey, _)| ey);
                        aggregate_ratio(graded, indicator, si.energy_basis).map(|r| multiple * r)
                    }
                };
                out.values.insert((gi, ii, is_fallback), value);
            }
        }
    }
    Ok(out)
}

/// (indicator key, benchmark) pairs of a group as used; `None` where undefined.
pub type Benchmarks = Vec<(String, Option<f64>)>;

/// A graded member's outcome within its group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupOutcome {
    pub total: f64,
    pub rank: u32,
    pub percentile: f64,
    pub class: Arc<str>,
    pub indicators: Vec<IndicatorResult>,
    pub adjustments: Vec<AdjustmentResult>,
    pub warnings: Vec<Arc<str>>,
}

fn bounded(score: f64, si: &SchemeIndicator) -> f64 {
    let s = si.max_score.map_or(score, |m| score.min(m));
    si.min_score.map_or(s, |m| s.max(m))
}

/// Σ numerator ÷ Σ denominator over parts where both are present and the denominator is > 0.
fn ratio_of(parts: &[Parts]) -> Option<f64> {
    let (mut num, mut den, mut any) = (0.0, 0.0, false);
    for p in parts {
        if let (Some(n), Some(d)) = (p.numerator, p.denominator)
            && d > 0.0
        {
            num += n;
            den += d;
            any = true;
        }
    }
    (any && den > 0.0).then(|| num / den)
}

/// Warning codes of one indicator, made once per group and shared by every member that carries one.
struct IndicatorCodes {
    imputed: Arc<str>,
    undefined: Arc<str>,
    fallback: Option<Arc<str>>,
    basis_fallback: Arc<str>,
}

impl IndicatorCodes {
    fn new(si: &SchemeIndicator) -> IndicatorCodes {
        IndicatorCodes {
            imputed: format!("imputed:{}", si.key).into(),
            undefined: format!("benchmark_undefined:{}", si.key).into(),
            fallback: si
                .fallback
                .as_ref()
                .map(|(fb, _)| format!("fallback:{}:{}", si.key, fb.key()).into()),
            basis_fallback: format!("energy_basis_fallback:{}", si.key).into(),
        }
    }
}

/// Grades the graded members of one group: indicator scores against benchmarks, imputation, totals,
/// ranks and classes. `members` are in input order (means are summed in that order).
pub fn grade_group(
    scheme: &Scheme,
    group_index: usize,
    members: &[&EnterpriseYear<'_>],
    year: i32,
    resolved: &ResolvedBenchmarks,
) -> Result<(Vec<GroupOutcome>, Benchmarks), EvaluationError> {
    let g: &Group = &scheme.groups[group_index];
    let n = members.len();
    // (A `vec![v; n]` of empty vectors would drop the capacity: each is made here.)
    let mut scores: Vec<Vec<IndicatorResult>> = (0..n)
        .map(|_| Vec::with_capacity(g.indicators.len()))
        .collect();
    let mut warnings: Vec<Vec<Arc<str>>> = (0..n).map(|_| Vec::new()).collect();
    let mut benchmarks = Vec::with_capacity(g.indicators.len());
    let mut parts: Vec<Parts> = Vec::with_capacity(n);
    let mut fallback_parts: Vec<Parts> = Vec::new();
    let mut computed: Vec<Option<f64>> = Vec::with_capacity(n);

    for (ii, si) in g.indicators.iter().enumerate() {
        let codes = IndicatorCodes::new(si);
        parts.clear();
        parts.extend(
            members
                .iter()
                .map(|ey| si.indicator.parts(ey, si.energy_basis)),
        );
        let main_b = match si.benchmark {
            Benchmark::GroupRatio => ratio_of(&parts),
            _ => resolved.get(group_index, ii, false).flatten(),
        };
        let fallback = match &si.fallback {
            None => None,
            Some((fb, bm)) => {
                fallback_parts.clear();
                fallback_parts.extend(members.iter().map(|ey| fb.parts(ey, si.energy_basis)));
                let b = match bm {
                    Benchmark::GroupRatio => ratio_of(&fallback_parts),
                    _ => resolved.get(group_index, ii, true).flatten(),
                };
                Some((*fb, b))
            }
        };
        benchmarks.push((si.key.to_string(), main_b));
        if let Some((fb, fb_b)) = fallback {
            benchmarks.push((format!("{}:{}", si.key, fb.key()), fb_b));
        }

        // Score of each member that has a value: w × (x ÷ B), or 0 where B is undefined or ≤ 0.
        computed.clear();
        for mi in 0..n {
            let p = &parts[mi];
            let mut result = IndicatorResult {
                key: si.key.clone(),
                value: p.value(),
                benchmark: main_b,
                weight: si.weight,
                score: 0.0,
                imputed: false,
                fallback: None,
            };
            if p.basis_fallback {
                warnings[mi].push(codes.basis_fallback.clone());
            }
            let mut used = None;
            if let Some(x) = result.value {
                used = Some((x, main_b));
            } else if let Some((fb, fb_b)) = fallback
                && let Some(x) = fallback_parts[mi].value()
            {
                result.value = Some(x);
                result.benchmark = fb_b;
                result.fallback = Some(fb);
                if let Some(code) = &codes.fallback {
                    warnings[mi].push(code.clone());
                }
                used = Some((x, fb_b));
            }
            let score = used.map(|(x, b)| match b {
                Some(b) if b > 0.0 => bounded(si.weight * (x / b), si),
                _ => {
                    warnings[mi].push(codes.undefined.clone());
                    0.0
                }
            });
            if let Some(s) = score {
                result.score = s;
            }
            computed.push(score);
            scores[mi].push(result);
        }
        // A value that cannot be computed scores the mean of the scores of those that have it.
        let (sum, count) = computed
            .iter()
            .flatten()
            .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
        let mean = if count > 0 { sum / count as f64 } else { 0.0 };
        let b_defined = main_b.is_some_and(|b| b > 0.0);
        for (mi, c) in computed.iter().enumerate() {
            if c.is_none() {
                let r = scores[mi].last_mut().expect("pushed above");
                r.score = if b_defined || fallback.is_some() {
                    mean
                } else {
                    0.0
                };
                r.imputed = true;
                warnings[mi].push(codes.imputed.clone());
                if !b_defined && fallback.is_none() {
                    warnings[mi].push(codes.undefined.clone());
                }
            }
        }
    }

    let mut totals: Vec<f64> = scores
        .iter()
        .map(|s| s.iter().map(|r| r.score).sum::<f64>())
        .collect();

    let mut adjustments: Vec<Vec<AdjustmentResult>> = (0..n).map(|_| Vec::new()).collect();
    let applicable: Vec<_> = scheme
        .adjustments
        .iter()
        .filter(|a| a.groups.is_empty() || a.groups.contains(&g.key))
        .collect();
    if !applicable.is_empty() {
        for (mi, ey) in members.iter().enumerate() {
            let mut b = bindings_for(ey, year);
            b.numbers(
                "indicators",
                scores[mi]
                    .iter()
                    .filter_map(|r| r.value.map(|v| (&*r.key, v)))
                    .collect::<Vec<_>>(),
            );
            for a in &applicable {
                let err = |e: crate::expr::ExprError| {
                    EvaluationError::Expression(format!("{}: {e}", a.key))
                };
                if a.when.eval_bool(&b).map_err(err)? {
                    let points = a.points.eval_number(&b).map_err(err)?;
                    totals[mi] += points;
                    adjustments[mi].push(AdjustmentResult {
                        key: a.key.clone(),
                        points,
                    });
                }
            }
        }
    }

    let class_names: Vec<Arc<str>> = scheme
        .classes
        .classes()
        .into_iter()
        .map(Arc::from)
        .collect();
    let ranks = ranks_of(&totals);
    let outcomes = (0..n)
        .map(|mi| {
            let higher = ranks[mi] - 1;
            let percentile = higher as f64 / n as f64;
            GroupOutcome {
                total: totals[mi],
                rank: ranks[mi],
                percentile,
                class: class_names[scheme.classes.class_index(percentile, totals[mi])].clone(),
                indicators: std::mem::take(&mut scores[mi]),
                adjustments: std::mem::take(&mut adjustments[mi]),
                warnings: std::mem::take(&mut warnings[mi]),
            }
        })
        .collect();
    Ok((outcomes, benchmarks))
}

/// Competition ranks (1, 2, 2, 4): 1 + the number of strictly higher totals.
pub fn ranks_of(totals: &[f64]) -> Vec<u32> {
    let mut sorted: Vec<f64> = totals.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    totals
        .iter()
        .map(|t| sorted.partition_point(|s| s > t) as u32 + 1)
        .collect()
}

/// Evaluates every enterprise of the input's region.
pub fn evaluate(
    scheme: &Scheme,
    input: &EvaluationInput<'_>,
) -> Result<Evaluation, EvaluationError> {
    if !scheme.valid_for(input.year) {
        return Err(EvaluationError::SchemeNotValid {
            scheme: scheme.id(),
            year: input.year,
            from: scheme.valid_from,
            to: scheme.valid_to.map(|y| y.to_string()).unwrap_or_default(),
        });
    }
    let resolved = resolve_benchmarks(scheme, input)?;
    let members = enterprise_years(input, input.year);
    let mut placements = members
        .iter()
        .map(|ey| place(scheme, ey, input.year))
        .collect::<Result<Vec<_>, _>>()?;

    // Districts and divisions are few: one shared string and a small id each (ids rank sub-groups).
    let mut interned: FxHashMap<String, (u32, Arc<str>)> = FxHashMap::default();
    let mut intern = |s: &str| -> (u32, Arc<str>) {
        if let Some(a) = interned.get(s) {
            return a.clone();
        }
        let a = (interned.len() as u32, Arc::<str>::from(s));
        interned.insert(s.to_string(), a.clone());
        a
    };
    let mut district_ids = Vec::with_capacity(members.len());
    let mut division_ids = Vec::with_capacity(members.len());
    let mut results: Vec<EnterpriseResult> = members
        .iter()
        .zip(&mut placements)
        .map(|(ey, p)| {
            let e = ey.enterprise;
            EnterpriseResult {
                uscc: e.uscc,
                name: e.name.clone(),
                district: {
                    let (id, name) = intern(&e.district);
                    district_ids.push(id);
                    name
                },
                division: {
                    let (id, name) = intern(&e.division);
                    division_ids.push(id);
                    name
                },
                group: if ey.above_scale {
                    SizeGroup::Above
                } else {
                    SizeGroup::Below
                },
                status: p.status,
                class: None,
                score: None,
                rank: None,
                rank_in_district: None,
                rank_in_division: None,
                group_size: None,
                percentile: None,
                indicators: Vec::new(),
                adjustments: Vec::new(),
                measures: Vec::new(),
                warnings: std::mem::take(&mut p.reasons),
            }
        })
        .collect();

    let mut groups = Vec::new();
    let application_year = input.year + 1;
    for (gi, g) in scheme.groups.iter().enumerate() {
        let idx: Vec<usize> = (0..members.len())
            .filter(|&i| placements[i].status == Status::Graded && placements[i].group == Some(gi))
            .collect();
        let refs: Vec<&EnterpriseYear<'_>> = idx.iter().map(|&i| &members[i]).collect();
        let (outcomes, benchmarks) = grade_group(scheme, gi, &refs, input.year, &resolved)?;
        let size = idx.len() as u32;
        let totals: Vec<f64> = outcomes.iter().map(|o| o.total).collect();
        let district_ranks = sub_ranks(&idx, &totals, &district_ids);
        let division_ranks = sub_ranks(&idx, &totals, &division_ids);
        let mut class_counts: Vec<(String, u32)> = scheme
            .classes
            .classes()
            .iter()
            .map(|c| (c.to_string(), 0))
            .collect();
        for (k, (o, &i)) in outcomes.into_iter().zip(&idx).enumerate() {
            if let Some(c) = class_counts.iter_mut().find(|(c, _)| **c == *o.class) {
                c.1 += 1;
            }
            let r = &mut results[i];
            r.measures = scheme
                .measures
                .iter()
                .filter(|m| *m.class == *o.class && m.applies_in(application_year))
                .map(|m| MeasureResult {
                    kind: m.kind.clone(),
                    name_zh: m.name_zh.clone(),
                    name_en: m.name_en.clone(),
                    rate: m.rate,
                    unit: m.unit.clone(),
                    applies_in: application_year,
                    amount: match (m.rate, m.basis) {
                        (Some(rate), Some(basis)) => members[i].figure(basis).map(|v| rate * v),
                        _ => None,
                    },
                    source: m.source.clone(),
                })
                .collect();
            r.class = Some(o.class);
            r.score = Some(o.total);
            r.rank = Some(o.rank);
            r.rank_in_district = Some(district_ranks[k]);
            r.rank_in_division = Some(division_ranks[k]);
            r.group_size = Some(size);
            r.percentile = Some(o.percentile);
            r.indicators = o.indicators;
            r.adjustments = o.adjustments;
            r.warnings.extend(o.warnings);
        }
        groups.push(GroupSummary {
            key: g.key.clone(),
            graded: size,
            benchmarks,
            class_counts,
        });
    }

    Ok(Evaluation {
        scheme: scheme.name.clone(),
        scheme_version: scheme.version.clone(),
        year: input.year,
        district: input.district.map(str::to_string),
        groups,
        results,
    })
}

/// Ranks within subsets of a group (same district, same division).
fn sub_ranks(idx: &[usize], totals: &[f64], ids: &[u32]) -> Vec<u32> {
    let buckets = ids.iter().max().map_or(0, |m| *m as usize + 1);
    let mut by_id: Vec<Vec<f64>> = vec![Vec::new(); buckets];
    for (k, &i) in idx.iter().enumerate() {
        by_id[ids[i] as usize].push(totals[k]);
    }
    for v in &mut by_id {
        v.sort_unstable_by(|a, b| b.total_cmp(a));
    }
    idx.iter()
        .enumerate()
        .map(|(k, &i)| by_id[ids[i] as usize].partition_point(|s| *s > totals[k]) as u32 + 1)
        .collect()
}

#[cfg(test)]
mod tests;
