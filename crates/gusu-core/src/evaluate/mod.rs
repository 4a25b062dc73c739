//! The evaluation engine: grades every enterprise of a region by a scheme (the common per-mu model
//! of the published schemes, s = Σ w·x/B with classes by rank; docs/sources.md).
//!
//! Pure and fast: records in, results out. Groups are graded independently; `grade_group` is the
//! unit that `explain` re-runs when it tries a changed figure.

pub mod explain;
pub mod overview;
pub mod simulate;
pub mod tally;

use std::collections::HashMap;

use std::sync::Arc;

use rustc_hash::FxHashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::expr::Bindings;
use crate::indicator::{EnergyBasis, Indicator, Parts};
use crate::number::MaybeF64;
use crate::record::{Enterprise, EnterpriseYear, Figure, YearlyRecord};
use crate::scheme::{Benchmark, Group, Scheme, SchemeIndicator};
use crate::uscc::Uscc;

/// The columns a result row starts with in every output (CLI files, exports), whatever the
/// scheme; the indicator columns and `warnings` follow.
pub const RESULT_COLUMNS: [&str; 9] = [
    "uscc",
    "name",
    "district",
    "industry_division",
    "group",
    "status",
    "class",
    "score",
    "rank",
];

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

    pub fn name_en(self) -> &'static str {
        match self {
            Status::Graded => "graded",
            Status::Exempt => "exempt (T)",
            Status::OutOfScope => "out of scope",
            Status::MissingData => "data missing",
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
    /// The enterprise's value (of the fallback indicator when `fallback` is set); none when not computable.
    pub value: MaybeF64,
    /// The benchmark the value was scored against.
    pub benchmark: MaybeF64,
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

/// Status and group of one enterprise in one year (gusu's order of precedence, which no published
/// scheme fixes: exempt, then out of scope, then missing data, then graded).
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

/// The group's aggregate ratio over `members` (see [`ratio_of`]).
fn aggregate_ratio<'a>(
    members: impl Iterator<Item = &'a EnterpriseYear<'a>>,
    indicator: Indicator,
    basis: EnergyBasis,
) -> Option<f64> {
    let parts: Vec<Parts> = members.map(|ey| indicator.parts(ey, basis)).collect();
    ratio_of(&parts)
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

/// Flags of one member's indicator, kept in a byte per cell of the grades table.
const BASIS_FALLBACK: u8 = 1;
const FALLBACK: u8 = 2;
const UNDEFINED: u8 = 4;
const IMPUTED: u8 = 8;

/// One indicator's benchmarks as used: the main one and, where the scheme gives a fallback
/// indicator, that indicator with its own benchmark.
type UsedBenchmarks = (Option<f64>, Option<(Indicator, Option<f64>)>);

/// A group's grades, column by column (members × indicators), so that a million enterprises cost a
/// few numbers each until their results are made, one at a time, by [`GroupGrades::indicators_of`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupGrades {
    /// Indicators in the group.
    pub width: usize,
    pub totals: Vec<f64>,
    pub ranks: Vec<u32>,
    /// Index into `scheme.classes.classes()`.
    pub classes: Vec<u8>,
    /// (indicator key, benchmark) as used; `None` where undefined.
    pub benchmarks: Benchmarks,
    values: Vec<f64>,
    scores: Vec<f64>,
    flags: Vec<u8>,
    used_benchmarks: Vec<UsedBenchmarks>,
    adjustments: Vec<Vec<AdjustmentResult>>,
}

impl GroupGrades {
    pub fn len(&self) -> usize {
        self.totals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.totals.is_empty()
    }

    pub fn percentile(&self, member: usize) -> f64 {
        (self.ranks[member] - 1) as f64 / self.len() as f64
    }

    /// A member's indicator results, and its warning codes in indicator order.
    fn indicators_of(
        &self,
        g: &Group,
        codes: &[IndicatorCodes],
        member: usize,
    ) -> (Vec<IndicatorResult>, Vec<Arc<str>>) {
        let mut results = Vec::with_capacity(self.width);
        let mut warnings = Vec::new();
        for (j, si) in g.indicators.iter().enumerate() {
            let cell = member * self.width + j;
            let flags = self.flags[cell];
            let (main_b, fallback) = self.used_benchmarks[j];
            let fb = if flags & FALLBACK != 0 {
                fallback
            } else {
                None
            };
            results.push(IndicatorResult {
                key: si.key.clone(),
                value: MaybeF64::from(self.values[cell]),
                benchmark: fb.map_or(main_b, |(_, b)| b).into(),
                weight: si.weight,
                score: self.scores[cell],
                imputed: flags & IMPUTED != 0,
                fallback: fb.map(|(ind, _)| ind),
            });
            let c = &codes[j];
            if flags & BASIS_FALLBACK != 0 {
                warnings.push(c.basis_fallback.clone());
            }
            if flags & FALLBACK != 0
                && let Some(code) = &c.fallback
            {
                warnings.push(code.clone());
            }
            if flags & UNDEFINED != 0 && flags & IMPUTED == 0 {
                warnings.push(c.undefined.clone());
            }
            if flags & IMPUTED != 0 {
                warnings.push(c.imputed.clone());
                if flags & UNDEFINED != 0 {
                    warnings.push(c.undefined.clone());
                }
            }
        }
        (results, warnings)
    }
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
    fn of(g: &Group) -> Vec<IndicatorCodes> {
        g.indicators
            .iter()
            .map(|si| IndicatorCodes {
                imputed: format!("imputed:{}", si.key).into(),
                undefined: format!("benchmark_undefined:{}", si.key).into(),
                fallback: si
                    .fallback
                    .as_ref()
                    .map(|(fb, _)| format!("fallback:{}:{}", si.key, fb.key()).into()),
                basis_fallback: format!("energy_basis_fallback:{}", si.key).into(),
            })
            .collect()
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
) -> Result<GroupGrades, EvaluationError> {
    let g: &Group = &scheme.groups[group_index];
    let n = members.len();
    let width = g.indicators.len();
    let mut values = vec![f64::NAN; n * width];
    let mut scores = vec![0.0; n * width];
    let mut flags = vec![0u8; n * width];
    let mut benchmarks = Vec::with_capacity(width);
    let mut used_benchmarks = Vec::with_capacity(width);
    let mut parts: Vec<Parts> = Vec::with_capacity(n);
    let mut fallback_parts: Vec<Parts> = Vec::new();
    let mut computed: Vec<bool> = vec![false; n];

    for (j, si) in g.indicators.iter().enumerate() {
        parts.clear();
        parts.extend(
            members
                .iter()
                .map(|ey| si.indicator.parts(ey, si.energy_basis)),
        );
        let main_b = match si.benchmark {
            Benchmark::GroupRatio => ratio_of(&parts),
            _ => resolved.get(group_index, j, false).flatten(),
        };
        let fallback = match &si.fallback {
            None => None,
            Some((fb, bm)) => {
                fallback_parts.clear();
                fallback_parts.extend(members.iter().map(|ey| fb.parts(ey, si.energy_basis)));
                let b = match bm {
                    Benchmark::GroupRatio => ratio_of(&fallback_parts),
                    _ => resolved.get(group_index, j, true).flatten(),
                };
                Some((*fb, b))
            }
        };
        benchmarks.push((si.key.to_string(), main_b));
        if let Some((fb, fb_b)) = fallback {
            benchmarks.push((format!("{}:{}", si.key, fb.key()), fb_b));
        }
        used_benchmarks.push((main_b, fallback));

        // Score of each member that has a value: w × (x ÷ B), or 0 where B is undefined or ≤ 0.
        let (mut sum, mut count) = (0.0, 0usize);
        for mi in 0..n {
            let cell = mi * width + j;
            let p = &parts[mi];
            if p.basis_fallback {
                flags[cell] |= BASIS_FALLBACK;
            }
            let used = if let Some(x) = p.value() {
                Some((x, main_b))
            } else if let Some((_, fb_b)) = fallback
                && let Some(x) = fallback_parts[mi].value()
            {
                flags[cell] |= FALLBACK;
                Some((x, fb_b))
            } else {
                None
            };
            computed[mi] = used.is_some();
            if let Some((x, b)) = used {
                values[cell] = x;
                let score = match b {
                    Some(b) if b > 0.0 => bounded(si.weight * (x / b), si),
                    _ => {
                        flags[cell] |= UNDEFINED;
                        0.0
                    }
                };
                scores[cell] = score;
                sum += score;
                count += 1;
            }
        }
        // A value that cannot be computed scores the mean of the scores of those that have it.
        let mean = if count > 0 { sum / count as f64 } else { 0.0 };
        let b_defined = main_b.is_some_and(|b| b > 0.0);
        for mi in (0..n).filter(|&mi| !computed[mi]) {
            let cell = mi * width + j;
            scores[cell] = if b_defined || fallback.is_some() {
                mean
            } else {
                0.0
            };
            flags[cell] |= IMPUTED;
            if !b_defined && fallback.is_none() {
                flags[cell] |= UNDEFINED;
            }
        }
    }

    // Totals summed in the scheme's indicator order (a tie is an exact tie).
    let mut totals: Vec<f64> = scores
        .chunks(width.max(1))
        .map(|row| row.iter().sum::<f64>())
        .collect();
    totals.resize(n, 0.0);

    let mut adjustments: Vec<Vec<AdjustmentResult>> = Vec::new();
    let applicable: Vec<_> = scheme
        .adjustments
        .iter()
        .filter(|a| a.groups.is_empty() || a.groups.contains(&g.key))
        .collect();
    if !applicable.is_empty() {
        adjustments = (0..n).map(|_| Vec::new()).collect();
        for (mi, ey) in members.iter().enumerate() {
            let mut b = bindings_for(ey, year);
            b.numbers(
                "indicators",
                g.indicators
                    .iter()
                    .enumerate()
                    .filter_map(|(j, si)| {
                        let v = values[mi * width + j];
                        (!v.is_nan()).then_some((&*si.key, v))
                    })
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

    let ranks = ranks_of(&totals);
    let classes = (0..n)
        .map(|mi| {
            let percentile = (ranks[mi] - 1) as f64 / n as f64;
            scheme.classes.class_index(percentile, totals[mi]) as u8
        })
        .collect();
    Ok(GroupGrades {
        width,
        totals,
        ranks,
        classes,
        benchmarks,
        values,
        scores,
        flags,
        used_benchmarks,
        adjustments,
    })
}

/// Competition ranks (1, 2, 2, 4): 1 + the number of strictly higher totals.
pub fn ranks_of(totals: &[f64]) -> Vec<u32> {
    let mut pairs: Vec<(f64, u32)> = totals.iter().zip(0..).map(|(&t, i)| (t, i)).collect();
    let mut ranks = vec![0; totals.len()];
    competition_ranks(&mut pairs, &mut ranks);
    ranks
}

/// Writes into `ranks[i]` the competition rank of each `(total, i)` among `pairs`. One sort of
/// the pairs and one walk: for half a million members, a binary search per member into a
/// sorted copy cost more than the sort.
fn competition_ranks(pairs: &mut [(f64, u32)], ranks: &mut [u32]) {
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let mut rank = 1;
    for pos in 0..pairs.len() {
        // A new rank only below a strictly higher total (0.0 and −0.0 tie, as `>` says).
        if pos > 0 && pairs[pos - 1].0 > pairs[pos].0 {
            rank = pos as u32 + 1;
        }
        ranks[pairs[pos].1 as usize] = rank;
    }
}

/// One group's grades with the members they belong to and their ranks in district and division.
struct GradedGroup {
    idx: Vec<usize>,
    grades: GroupGrades,
    district_ranks: Vec<u32>,
    division_ranks: Vec<u32>,
}

/// What an evaluation says about the region as a whole (its results go to a sink one by one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationSummary {
    pub scheme: String,
    pub scheme_version: String,
    pub year: i32,
    pub district: Option<String>,
    pub groups: Vec<GroupSummary>,
}

/// Evaluates every enterprise of the input's region and collects the results in input order.
pub fn evaluate(
    scheme: &Scheme,
    input: &EvaluationInput<'_>,
) -> Result<Evaluation, EvaluationError> {
    let mut results = Vec::new();
    let summary = evaluate_each(scheme, input, |r| results.push(r))?;
    Ok(Evaluation {
        scheme: summary.scheme,
        scheme_version: summary.scheme_version,
        year: summary.year,
        district: summary.district,
        groups: summary.groups,
        results,
    })
}

/// Evaluates every enterprise of the input's region, handing each result to `sink` in input order as
/// soon as it is made: a caller that writes them out never holds them all.
pub fn evaluate_each(
    scheme: &Scheme,
    input: &EvaluationInput<'_>,
    mut sink: impl FnMut(EnterpriseResult),
) -> Result<EvaluationSummary, EvaluationError> {
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
    let mut names: Vec<(Arc<str>, Arc<str>)> = Vec::with_capacity(members.len());
    for ey in &members {
        let (d, dn) = intern(&ey.enterprise.district);
        let (v, vn) = intern(&ey.enterprise.division);
        district_ids.push(d);
        division_ids.push(v);
        names.push((dn, vn));
    }

    // Each graded member's place in its group's grades.
    let mut position = vec![u32::MAX; members.len()];
    let mut grades: Vec<GroupGrades> = Vec::with_capacity(scheme.groups.len());
    let mut sub = vec![(0u32, 0u32); members.len()];
    let mut groups = Vec::new();
    // Groups never share a ranking: each is graded on its own thread (a city has two).
    let graded_groups: Vec<Result<GradedGroup, EvaluationError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..scheme.groups.len())
            .map(|gi| {
                let (members, placements, resolved) = (&members, &placements, &resolved);
                let (district_ids, division_ids) = (&district_ids, &division_ids);
                scope.spawn(move || {
                    let idx: Vec<usize> = (0..members.len())
                        .filter(|&i| {
                            placements[i].status == Status::Graded
                                && placements[i].group == Some(gi)
                        })
                        .collect();
                    let refs: Vec<&EnterpriseYear<'_>> = idx.iter().map(|&i| &members[i]).collect();
                    let grades = grade_group(scheme, gi, &refs, input.year, resolved)?;
                    let district_ranks = sub_ranks(&idx, &grades.totals, district_ids);
                    let division_ranks = sub_ranks(&idx, &grades.totals, division_ids);
                    Ok(GradedGroup {
                        idx,
                        grades,
                        district_ranks,
                        division_ranks,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("grading a group does not panic"))
            .collect()
    });
    for (g, graded) in scheme.groups.iter().zip(graded_groups) {
        let GradedGroup {
            idx,
            grades: gg,
            district_ranks,
            division_ranks,
        } = graded?;
        for (k, &i) in idx.iter().enumerate() {
            position[i] = k as u32;
            sub[i] = (district_ranks[k], division_ranks[k]);
        }
        let mut class_counts: Vec<(String, u32)> = scheme
            .classes
            .classes()
            .iter()
            .map(|c| (c.to_string(), 0))
            .collect();
        for &c in &gg.classes {
            class_counts[c as usize].1 += 1;
        }
        groups.push(GroupSummary {
            key: g.key.clone(),
            graded: idx.len() as u32,
            benchmarks: gg.benchmarks.clone(),
            class_counts,
        });
        grades.push(gg);
    }

    let class_names: Vec<Arc<str>> = scheme
        .classes
        .classes()
        .into_iter()
        .map(Arc::from)
        .collect();
    let codes: Vec<Vec<IndicatorCodes>> = scheme.groups.iter().map(IndicatorCodes::of).collect();
    let application_year = input.year + 1;
    for (i, (ey, (district, division))) in members.iter().zip(names).enumerate() {
        let e = ey.enterprise;
        let p = &mut placements[i];
        let mut r = EnterpriseResult {
            uscc: e.uscc,
            name: e.name.clone(),
            district,
            division,
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
        };
        if let (Some(gi), true) = (p.group, position[i] != u32::MAX) {
            let gg = &grades[gi];
            let k = position[i] as usize;
            let class = class_names[gg.classes[k] as usize].clone();
            r.measures = scheme
                .measures
                .iter()
                .filter(|m| *m.class == *class && m.applies_in(application_year))
                .map(|m| MeasureResult {
                    kind: m.kind.clone(),
                    name_zh: m.name_zh.clone(),
                    name_en: m.name_en.clone(),
                    rate: m.rate,
                    unit: m.unit.clone(),
                    applies_in: application_year,
                    amount: match (m.rate, m.basis) {
                        (Some(rate), Some(basis)) => ey.figure(basis).map(|v| rate * v),
                        _ => None,
                    },
                    source: m.source.clone(),
                })
                .collect();
            let (indicators, warnings) = gg.indicators_of(&scheme.groups[gi], &codes[gi], k);
            r.class = Some(class);
            r.score = Some(gg.totals[k]);
            r.rank = Some(gg.ranks[k]);
            r.rank_in_district = Some(sub[i].0);
            r.rank_in_division = Some(sub[i].1);
            r.group_size = Some(gg.len() as u32);
            r.percentile = Some(gg.percentile(k));
            r.indicators = indicators;
            r.adjustments = gg.adjustments.get(k).cloned().unwrap_or_default();
            r.warnings.extend(warnings);
        }
        sink(r);
    }

    Ok(EvaluationSummary {
        scheme: scheme.name.clone(),
        scheme_version: scheme.version.clone(),
        year: input.year,
        district: input.district.map(str::to_string),
        groups,
    })
}

/// Ranks within subsets of a group (same district, same division).
fn sub_ranks(idx: &[usize], totals: &[f64], ids: &[u32]) -> Vec<u32> {
    let buckets = ids.iter().max().map_or(0, |m| *m as usize + 1);
    let mut by_id: Vec<Vec<(f64, u32)>> = vec![Vec::new(); buckets];
    for (k, &i) in idx.iter().enumerate() {
        by_id[ids[i] as usize].push((totals[k], k as u32));
    }
    let mut ranks = vec![0; idx.len()];
    for members in &mut by_id {
        competition_ranks(members, &mut ranks);
    }
    ranks
}

#[cfg(test)]
mod tests;
