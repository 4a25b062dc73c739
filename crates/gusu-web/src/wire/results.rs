//! Evaluation results: the list, the overview, one enterprise's result and its file.

use std::collections::BTreeMap;

use gusu_core::evaluate::{self, overview};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ResultStatus, SizeGroup, uscc};
use crate::{enterprise_file, summary};

/// One enterprise's line of a results list (no figures).
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultLine {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub division: String,
    pub group: SizeGroup,
    pub status: ResultStatus,
    pub class: Option<String>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

impl From<&summary::ResultLine> for ResultLine {
    fn from(l: &summary::ResultLine) -> ResultLine {
        ResultLine {
            uscc: uscc(&l.uscc),
            name: l.name.clone(),
            district: l.district.to_string(),
            division: l.division.to_string(),
            group: l.group.into(),
            status: l.status.into(),
            class: l.class.as_deref().map(str::to_string),
            score: l.score,
            rank: l.rank,
        }
    }
}

/// The year's results the viewer may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct Results {
    pub run: i64,
    pub year: i32,
    /// `name@version` of the scheme.
    pub scheme: String,
    pub published: bool,
    pub results: Vec<ResultLine>,
}

/// Counts of a population by class.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassCounts {
    pub total: u32,
    pub graded: u32,
    pub by_class: BTreeMap<String, u32>,
}

impl From<&overview::ClassCounts> for ClassCounts {
    fn from(c: &overview::ClassCounts) -> ClassCounts {
        ClassCounts {
            total: c.total,
            graded: c.graded,
            by_class: c.by_class.clone(),
        }
    }
}

/// A ratio's two sums over the enterprises that have both values.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatioSums {
    pub numerator: f64,
    pub denominator: f64,
    pub enterprises: u32,
}

impl From<&overview::RatioSums> for RatioSums {
    fn from(r: &overview::RatioSums) -> RatioSums {
        RatioSums {
            numerator: r.numerator,
            denominator: r.denominator,
            enterprises: r.enterprises,
        }
    }
}

/// A population's figures in one year (money in 万元, land in mu, energy in tce).
#[derive(Debug, Serialize, ToSchema)]
pub struct FigureTotals {
    pub enterprises: u32,
    pub tax: f64,
    pub revenue: f64,
    pub value_added: f64,
    pub land_mu: f64,
    pub energy_tce: f64,
    pub tax_per_mu: RatioSums,
    pub revenue_per_mu: RatioSums,
    pub value_added_per_mu: RatioSums,
    pub value_added_per_tce: RatioSums,
}

impl From<&overview::FigureTotals> for FigureTotals {
    fn from(f: &overview::FigureTotals) -> FigureTotals {
        FigureTotals {
            enterprises: f.enterprises,
            tax: f.tax,
            revenue: f.revenue,
            value_added: f.value_added,
            land_mu: f.land_mu,
            energy_tce: f.energy_tce,
            tax_per_mu: (&f.tax_per_mu).into(),
            revenue_per_mu: (&f.revenue_per_mu).into(),
            value_added_per_mu: (&f.value_added_per_mu).into(),
            value_added_per_tce: (&f.value_added_per_tce).into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FigureComparison {
    pub this_year: FigureTotals,
    pub last_year: FigureTotals,
}

/// One line of the lowest-class list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassLine {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub division: String,
    /// `above` or `below`.
    pub group: String,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

/// What one measure adds up to over the population.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureTotal {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: Option<String>,
    pub applies_in: i32,
    pub enterprises: u32,
    /// Σ of the amounts that could be computed, in 元.
    pub amount: f64,
    /// Enterprises whose amount could not be computed (basis figure missing).
    pub without_amount: u32,
}

/// The overview of a population in one run.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverviewFigures {
    pub classes: Vec<String>,
    pub all: ClassCounts,
    /// By size group (`above`, `below`).
    pub by_group: BTreeMap<String, ClassCounts>,
    pub by_district: BTreeMap<String, ClassCounts>,
    pub by_division: BTreeMap<String, ClassCounts>,
    /// By size group, and `all`.
    pub figures: BTreeMap<String, FigureComparison>,
    pub lowest_class: Option<String>,
    pub lowest_class_list: Vec<ClassLine>,
    pub lowest_class_count: u32,
    pub measures: Vec<MeasureTotal>,
}

impl From<&overview::Overview> for OverviewFigures {
    fn from(o: &overview::Overview) -> OverviewFigures {
        let counts = |m: &BTreeMap<String, overview::ClassCounts>| {
            m.iter().map(|(k, c)| (k.clone(), c.into())).collect()
        };
        OverviewFigures {
            classes: o.classes.clone(),
            all: (&o.all).into(),
            by_group: o
                .by_group
                .iter()
                .map(|(k, c)| (k.to_string(), c.into()))
                .collect(),
            by_district: counts(&o.by_district),
            by_division: counts(&o.by_division),
            figures: o
                .figures
                .iter()
                .map(|(k, f)| {
                    (
                        k.to_string(),
                        FigureComparison {
                            this_year: (&f.this_year).into(),
                            last_year: (&f.last_year).into(),
                        },
                    )
                })
                .collect(),
            lowest_class: o.lowest_class.clone(),
            lowest_class_list: o
                .lowest_class_list
                .iter()
                .map(|l| ClassLine {
                    uscc: uscc(&l.uscc),
                    name: l.name.clone(),
                    district: l.district.clone(),
                    division: l.division.clone(),
                    group: l.group.to_string(),
                    score: l.score,
                    rank: l.rank,
                })
                .collect(),
            lowest_class_count: o.lowest_class_count,
            measures: o
                .measures
                .iter()
                .map(|m| MeasureTotal {
                    kind: m.kind.clone(),
                    name_zh: m.name_zh.clone(),
                    name_en: m.name_en.clone(),
                    unit: m.unit.clone(),
                    applies_in: m.applies_in,
                    enterprises: m.enterprises,
                    amount: m.amount,
                    without_amount: m.without_amount,
                })
                .collect(),
        }
    }
}

/// The overview of the city or one district in the year's shown run.
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub run: i64,
    pub year: i32,
    pub scheme: String,
    pub published: bool,
    /// The district asked for; none for the viewer's own population.
    pub district: Option<String>,
    pub overview: OverviewFigures,
}

/// One indicator of a result.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorResult {
    pub key: String,
    /// The enterprise's value; none when it could not be computed.
    pub value: Option<f64>,
    pub benchmark: Option<f64>,
    pub weight: f64,
    pub score: f64,
    /// The score is the group mean because the value could not be computed.
    pub imputed: bool,
    /// The fallback indicator used, if any.
    pub fallback: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentResult {
    pub key: String,
    pub points: f64,
}

/// A measure tied to the class.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureResult {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub rate: Option<f64>,
    pub unit: Option<String>,
    /// The year the measure applies in.
    pub applies_in: i32,
    /// In 元, where rate and basis are both known.
    pub amount: Option<f64>,
    pub source: String,
}

/// One enterprise's result with every indicator.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseResult {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub division: String,
    pub group: SizeGroup,
    pub status: ResultStatus,
    pub class: Option<String>,
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
    /// Stable warning codes.
    pub warnings: Vec<String>,
}

impl From<&evaluate::EnterpriseResult> for EnterpriseResult {
    fn from(r: &evaluate::EnterpriseResult) -> EnterpriseResult {
        EnterpriseResult {
            uscc: uscc(&r.uscc),
            name: r.name.clone(),
            district: r.district.to_string(),
            division: r.division.to_string(),
            group: r.group.into(),
            status: r.status.into(),
            class: r.class.as_deref().map(str::to_string),
            score: r.score,
            rank: r.rank,
            rank_in_district: r.rank_in_district,
            rank_in_division: r.rank_in_division,
            group_size: r.group_size,
            percentile: r.percentile,
            indicators: r
                .indicators
                .iter()
                .map(|i| IndicatorResult {
                    key: i.key.to_string(),
                    value: i.value.get(),
                    benchmark: i.benchmark.get(),
                    weight: i.weight,
                    score: i.score,
                    imputed: i.imputed,
                    fallback: i.fallback.map(|f| f.key().to_string()),
                })
                .collect(),
            adjustments: r
                .adjustments
                .iter()
                .map(|a| AdjustmentResult {
                    key: a.key.clone(),
                    points: a.points,
                })
                .collect(),
            measures: r
                .measures
                .iter()
                .map(|m| MeasureResult {
                    kind: m.kind.clone(),
                    name_zh: m.name_zh.clone(),
                    name_en: m.name_en.clone(),
                    rate: m.rate,
                    unit: m.unit.clone(),
                    applies_in: m.applies_in,
                    amount: m.amount,
                    source: m.source.clone(),
                })
                .collect(),
            warnings: r.warnings.iter().map(|w| w.to_string()).collect(),
        }
    }
}

/// An enterprise as the register holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enterprise {
    pub uscc: String,
    pub name: String,
    /// District code.
    pub district: String,
    /// Industry code (2–4 digits of GB/T 4754).
    pub industry_code: String,
    /// Two-digit GB/T 4754 division.
    pub division: String,
    pub land_area_mu: Option<f64>,
    pub above_scale: bool,
    /// ISO date.
    pub established: String,
    pub exempt: bool,
}

impl From<&gusu_core::Enterprise> for Enterprise {
    fn from(e: &gusu_core::Enterprise) -> Enterprise {
        Enterprise {
            uscc: uscc(&e.uscc),
            name: e.name.clone(),
            district: e.district.clone(),
            industry_code: e.industry_code.clone(),
            division: e.division.clone(),
            land_area_mu: e.land_area_mu,
            above_scale: e.above_scale,
            established: e.established.to_string(),
            exempt: e.exempt,
        }
    }
}

/// One value of an enterprise and year as it was sent, with where it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueLineage {
    /// Interchange key of the field (flags are 1 / 0).
    pub field: String,
    pub value: f64,
    /// The department.
    pub source: String,
    pub batch_id: i64,
    pub file_name: String,
    pub file_sha256: String,
    pub row: u64,
    /// The source's latest value (false: a later file of the same source corrected it).
    pub current: bool,
    /// The value the merged record uses.
    pub effective: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct YearValues {
    pub year: i32,
    pub values: Vec<ValueLineage>,
}

/// The enterprise's class in one year.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassInYear {
    pub year: i32,
    pub run: i64,
    pub scheme: String,
    pub published: bool,
    pub group: Option<String>,
    pub status: String,
    pub class: Option<String>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

/// Everything gusu holds on one enterprise.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseFile {
    pub enterprise: Enterprise,
    /// Newest year first.
    pub years: Vec<YearValues>,
    /// Oldest year first.
    pub classes: Vec<ClassInYear>,
}

impl From<&enterprise_file::EnterpriseFile> for EnterpriseFile {
    fn from(f: &enterprise_file::EnterpriseFile) -> EnterpriseFile {
        EnterpriseFile {
            enterprise: (&f.enterprise).into(),
            years: f
                .years
                .iter()
                .map(|y| YearValues {
                    year: y.year,
                    values: y
                        .values
                        .iter()
                        .map(|v| ValueLineage {
                            field: v.field.clone(),
                            value: v.value,
                            source: v.source.clone(),
                            batch_id: v.batch_id,
                            file_name: v.file_name.clone(),
                            file_sha256: v.file_sha256.clone(),
                            row: v.row,
                            current: v.current,
                            effective: v.effective,
                        })
                        .collect(),
                })
                .collect(),
            classes: f
                .classes
                .iter()
                .map(|c| ClassInYear {
                    year: c.year,
                    run: c.run,
                    scheme: c.scheme.clone(),
                    published: c.published,
                    group: c.group.clone(),
                    status: c.status.clone(),
                    class: c.class.clone(),
                    score: c.score,
                    rank: c.rank,
                })
                .collect(),
        }
    }
}
