//! The on-disk shape of an evaluation scheme (TOML). Strict: an unknown key is an error that names the
//! file and line, so a misplaced key can never be silently ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::indicator::EnergyBasis;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeDocument {
    pub scheme: Header,
    #[serde(default)]
    pub exemptions: Exemptions,
    pub groups: Vec<GroupDoc>,
    pub classes: ClassesDoc,
    #[serde(default)]
    pub adjustments: Vec<AdjustmentDoc>,
    #[serde(default)]
    pub measures: Vec<MeasureDoc>,
    #[serde(default)]
    pub sources: Vec<SourceDoc>,
    #[serde(default)]
    pub tests: Vec<TestCaseDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub name: String,
    /// Version of this document, e.g. "2024.1".
    pub version: String,
    /// Date the document was issued (YYYY-MM-DD).
    pub issued: String,
    pub title_zh: String,
    pub title_en: String,
    /// First evaluation year this version applies to.
    pub valid_from: i32,
    /// Last evaluation year (inclusive); open-ended when absent.
    pub valid_to: Option<i32>,
    /// Confidence of the published method (H, M, L).
    pub confidence: String,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Values no source gives, taken as parameters (named so a reader can replace them).
    #[serde(default)]
    pub parameters: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exemptions {
    /// GB/T 4754 divisions that are never graded (e.g. utilities 44-46).
    #[serde(default)]
    pub divisions: Vec<String>,
    /// Enterprises established after Dec 31 of (year − N) are not graded.
    pub established_within_years: Option<i32>,
    /// Honour the `exempt` flag of the data (the city's exemption list).
    #[serde(default = "yes")]
    pub by_list: bool,
    /// Further conditions (CEL) that exempt an enterprise.
    #[serde(default)]
    pub when: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDoc {
    /// `above` or `below`.
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    /// Members: above-size (true) or below-size (false) enterprises.
    pub above_scale: bool,
    /// Members whose land is given and under this many mu are out of scope.
    pub min_land_mu: Option<f64>,
    /// Figures that must be present (else "missing data"); land is always required.
    #[serde(default)]
    pub required: Vec<String>,
    pub indicators: Vec<IndicatorDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDoc {
    /// Column key in results; the catalogue indicator when `indicator` is absent.
    pub key: String,
    /// Catalogue indicator (`crate::indicator`).
    pub indicator: Option<String>,
    pub weight: f64,
    #[serde(default)]
    pub energy_basis: EnergyBasis,
    pub benchmark: BenchmarkDoc,
    /// Catalogue indicator used, against its own benchmark, when this one cannot be computed.
    pub fallback: Option<String>,
    /// Optional bounds on the indicator's score in points (off by default: none was published).
    pub max_score: Option<f64>,
    pub min_score: Option<f64>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "method", rename_all = "snake_case")]
pub enum BenchmarkDoc {
    /// Σ numerator ÷ Σ denominator over the group's graded enterprises in the evaluation year.
    GroupRatio,
    /// Published values by evaluation year (keys are years as strings).
    Fixed {
        values: BTreeMap<String, f64>,
        #[serde(default)]
        fallback_values: BTreeMap<String, f64>,
    },
    /// `multiple` × the group's aggregate ratio in the year before.
    PriorYearRatio { multiple: f64 },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassesDoc {
    /// `rank_percentile` (p = number strictly better ÷ group size) or `score_thresholds`.
    pub rule: String,
    pub bands: Vec<BandDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandDoc {
    pub class: String,
    /// rank_percentile: the class applies while p < this (the last band takes the rest).
    pub p_below: Option<f64>,
    /// score_thresholds: the class applies from this total upward (the last band takes the rest).
    pub min_score: Option<f64>,
}

/// A bonus (points > 0) or penalty (points < 0) item set by a county: condition and points in CEL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentDoc {
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    /// Groups it applies to (all when empty).
    #[serde(default)]
    pub groups: Vec<String>,
    /// CEL condition.
    pub when: String,
    /// CEL expression for the points (positive bonus, negative penalty).
    pub points: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureDoc {
    pub class: String,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    /// Rate per unit of `basis` (e.g. 元/kWh); absent for measures without an amount.
    pub rate: Option<f64>,
    pub unit: Option<String>,
    /// The figure the rate multiplies (e.g. electricity_kwh).
    pub basis: Option<String>,
    /// Years of application (a grade from year Y applies in Y+1).
    pub applies_from: i32,
    pub applies_to: Option<i32>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDoc {
    pub title: String,
    pub issuer: Option<String>,
    pub date: Option<String>,
    pub confidence: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCaseDoc {
    pub name: String,
    pub year: i32,
    /// Optional district the run is limited to.
    pub district: Option<String>,
    pub enterprises: Vec<TestEnterpriseDoc>,
    pub expect: Vec<TestExpectDoc>,
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
}

fn default_tolerance() -> f64 {
    1e-6
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEnterpriseDoc {
    pub id: String,
    #[serde(default = "default_division")]
    pub division: String,
    #[serde(default = "default_district")]
    pub district: String,
    #[serde(default = "default_established")]
    pub established: String,
    pub above_scale: bool,
    pub land_area_mu: Option<f64>,
    #[serde(default)]
    pub exempt: bool,
    /// Figures of the evaluation year by interchange key; absent means no yearly record.
    pub figures: Option<BTreeMap<String, f64>>,
    /// Figures of the year before (for prior-year benchmarks).
    pub prior: Option<BTreeMap<String, f64>>,
}

fn default_division() -> String {
    "39".into()
}
fn default_district() -> String {
    "320583".into()
}
fn default_established() -> String {
    "2000-01-01".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestExpectDoc {
    pub id: String,
    pub status: String,
    pub class: Option<String>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub group: Option<String>,
}
