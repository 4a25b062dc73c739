//! Evaluation schemes: rule documents (TOML) compiled into checked, ready-to-run values.
//!
//! A scheme picks indicators from the compiled catalogue with weights and benchmark methods, defines
//! its groups, class rule, exemptions, bonus and penalty items, measures per class and its sources.
//! A name plus the evaluation year selects the version (DESIGN principle 7).

pub mod cases;
pub mod document;

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::expr::{Expr, ExprError};
use crate::indicator::{EnergyBasis, Indicator};
use crate::record::Figure;
pub use document::SchemeDocument;
use document::{BenchmarkDoc, SourceDoc, TestCaseDoc};

/// Why a rule document was refused. Always names the document (file) it came from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemeError {
    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: {path}: {message}")]
    Invalid {
        origin: String,
        path: String,
        message: String,
    },
    #[error("{origin}: {path}: {source}")]
    Expression {
        origin: String,
        path: String,
        source: ExprError,
    },
    #[error("no scheme named '{name}'{}; known: {known}", year.map(|y| format!(" valid for evaluation year {y}")).unwrap_or_default())]
    NotFound {
        name: String,
        year: Option<i32>,
        known: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Benchmark {
    GroupRatio,
    Fixed(BTreeMap<i32, f64>),
    PriorYearRatio { multiple: f64 },
}

#[derive(Debug, Clone)]
pub struct SchemeIndicator {
    /// Column key in results (the catalogue key unless the scheme names it otherwise).
    pub key: std::sync::Arc<str>,
    pub indicator: Indicator,
    pub weight: f64,
    pub energy_basis: EnergyBasis,
    pub benchmark: Benchmark,
    /// Used against its own benchmark when the main indicator cannot be computed.
    pub fallback: Option<(Indicator, Benchmark)>,
    pub max_score: Option<f64>,
    pub min_score: Option<f64>,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub above_scale: bool,
    pub min_land_mu: Option<f64>,
    pub required: Vec<Figure>,
    pub indicators: Vec<SchemeIndicator>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClassRule {
    /// (class, p_below); the last band's bound is +∞.
    RankPercentile(Vec<(String, f64)>),
    /// (class, min_score); the last band's bound is −∞.
    ScoreThresholds(Vec<(String, f64)>),
}

impl ClassRule {
    pub fn classes(&self) -> Vec<&str> {
        match self {
            ClassRule::RankPercentile(b) | ClassRule::ScoreThresholds(b) => {
                b.iter().map(|(c, _)| c.as_str()).collect()
            }
        }
    }

    /// Index (in `classes()`) of the class for a percentile p (share strictly better) and total.
    pub fn class_index(&self, p: f64, total: f64) -> usize {
        let bands = match self {
            ClassRule::RankPercentile(b) | ClassRule::ScoreThresholds(b) => b,
        };
        let hit = match self {
            ClassRule::RankPercentile(_) => bands.iter().position(|(_, below)| p < *below),
            ClassRule::ScoreThresholds(_) => bands.iter().position(|(_, min)| total >= *min),
        };
        hit.unwrap_or(bands.len().saturating_sub(1))
    }

    /// The class for a percentile p (share strictly better) and total score.
    pub fn class_for(&self, p: f64, total: f64) -> &str {
        match self {
            ClassRule::RankPercentile(bands) => bands
                .iter()
                .find(|(_, below)| p < *below)
                .or(bands.last())
                .map(|(c, _)| c.as_str())
                .unwrap_or(""),
            ClassRule::ScoreThresholds(bands) => bands
                .iter()
                .find(|(_, min)| total >= *min)
                .or(bands.last())
                .map(|(c, _)| c.as_str())
                .unwrap_or(""),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Exemptions {
    pub divisions: Vec<String>,
    pub established_within_years: Option<i32>,
    pub by_list: bool,
    pub when: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub struct Adjustment {
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub groups: Vec<String>,
    pub when: Expr,
    pub points: Expr,
}

#[derive(Debug, Clone)]
pub struct Measure {
    pub class: String,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub rate: Option<f64>,
    pub unit: Option<String>,
    pub basis: Option<Figure>,
    pub applies_from: i32,
    pub applies_to: Option<i32>,
    pub source: String,
}

impl Measure {
    pub fn applies_in(&self, year: i32) -> bool {
        year >= self.applies_from && self.applies_to.is_none_or(|to| year <= to)
    }
}

/// A checked, compiled scheme.
#[derive(Debug, Clone)]
pub struct Scheme {
    pub name: String,
    pub version: String,
    pub issued: NaiveDate,
    pub title_zh: String,
    pub title_en: String,
    pub valid_from: i32,
    pub valid_to: Option<i32>,
    pub confidence: String,
    pub notes: Vec<String>,
    pub parameters: Vec<String>,
    pub exemptions: Exemptions,
    pub groups: Vec<Group>,
    pub classes: ClassRule,
    pub adjustments: Vec<Adjustment>,
    pub measures: Vec<Measure>,
    pub sources: Vec<SourceDoc>,
    pub tests: Vec<TestCaseDoc>,
    /// Where it was loaded from (file path, or `builtin:<file>`).
    pub origin: String,
}

impl Scheme {
    /// Parses and checks a TOML rule document.
    pub fn from_toml(text: &str, origin: &str) -> Result<Scheme, SchemeError> {
        let doc: SchemeDocument = toml::from_str(text).map_err(|e| SchemeError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        compile(doc, origin)
    }

    pub fn valid_for(&self, year: i32) -> bool {
        year >= self.valid_from && self.valid_to.is_none_or(|to| year <= to)
    }

    /// `name@version`, as stored with every result.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    pub fn group(&self, key: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.key == key)
    }

    /// True when some benchmark needs the year before the evaluation year.
    pub fn needs_prior_year(&self) -> bool {
        self.groups.iter().flat_map(|g| &g.indicators).any(|i| {
            matches!(i.benchmark, Benchmark::PriorYearRatio { .. })
                || matches!(i.fallback, Some((_, Benchmark::PriorYearRatio { .. })))
        })
    }
}

fn compile(doc: SchemeDocument, origin: &str) -> Result<Scheme, SchemeError> {
    let invalid = |path: &str, message: String| SchemeError::Invalid {
        origin: origin.to_string(),
        path: path.to_string(),
        message,
    };
    let expr = |path: &str, source: &str| {
        Expr::compile(source).map_err(|e| SchemeError::Expression {
            origin: origin.to_string(),
            path: path.to_string(),
            source: e,
        })
    };
    let h = &doc.scheme;
    if h.name.trim().is_empty()
        || !h
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            "scheme.name",
            format!(
                "'{}' must be non-empty ASCII letters, digits, '-' or '_'",
                h.name
            ),
        ));
    }
    let issued = NaiveDate::parse_from_str(&h.issued, "%Y-%m-%d").map_err(|_| {
        invalid(
            "scheme.issued",
            format!("'{}' is not a date (YYYY-MM-DD)", h.issued),
        )
    })?;
    if let Some(to) = h.valid_to
        && to < h.valid_from
    {
        return Err(invalid(
            "scheme.valid_to",
            format!("{to} is before valid_from {}", h.valid_from),
        ));
    }

    for d in &doc.exemptions.divisions {
        if crate::industry::division(d).is_none() {
            return Err(invalid(
                "exemptions.divisions",
                format!("'{d}' is not a GB/T 4754 industrial division"),
            ));
        }
    }
    let exemptions = Exemptions {
        divisions: doc.exemptions.divisions.clone(),
        established_within_years: doc.exemptions.established_within_years,
        by_list: doc.exemptions.by_list,
        when: doc
            .exemptions
            .when
            .iter()
            .enumerate()
            .map(|(i, s)| expr(&format!("exemptions.when[{i}]"), s))
            .collect::<Result<_, _>>()?,
    };

    if doc.groups.is_empty() {
        return Err(invalid(
            "groups",
            "a scheme needs at least one group".into(),
        ));
    }
    let mut groups = Vec::new();
    for (gi, g) in doc.groups.iter().enumerate() {
        let gpath = format!("groups[{gi}]");
        if groups.iter().any(|other: &Group| other.key == g.key) {
            return Err(invalid(
                &gpath,
                format!("group key '{}' is used twice", g.key),
            ));
        }
        if groups
            .iter()
            .any(|other: &Group| other.above_scale == g.above_scale)
        {
            return Err(invalid(
                &gpath,
                "two groups take the same enterprises (above_scale)".into(),
            ));
        }
        let required = g
            .required
            .iter()
            .map(|k| {
                Figure::from_key(k).ok_or_else(|| {
                    invalid(
                        &format!("{gpath}.required"),
                        format!("unknown figure '{k}'"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if g.indicators.is_empty() {
            return Err(invalid(
                &gpath,
                "a group needs at least one indicator".into(),
            ));
        }
        let mut indicators: Vec<SchemeIndicator> = Vec::new();
        for (ii, ind) in g.indicators.iter().enumerate() {
            let ipath = format!("{gpath}.indicators[{ii}]");
            let catalogue_key = ind.indicator.as_deref().unwrap_or(&ind.key);
            let indicator = Indicator::from_key(catalogue_key).ok_or_else(|| {
                invalid(
                    &ipath,
                    format!("'{catalogue_key}' is not in the indicator catalogue"),
                )
            })?;
            if indicators.iter().any(|i| *i.key == *ind.key) {
                return Err(invalid(
                    &ipath,
                    format!("indicator key '{}' is used twice in the group", ind.key),
                ));
            }
            if !(ind.weight.is_finite() && ind.weight >= 0.0) {
                return Err(invalid(
                    &format!("{ipath}.weight"),
                    format!("{} is not a non-negative number", ind.weight),
                ));
            }
            let (benchmark, fallback_benchmark) = compile_benchmark(&ind.benchmark)
                .map_err(|m| invalid(&format!("{ipath}.benchmark"), m))?;
            let fallback = match &ind.fallback {
                None => None,
                Some(k) => {
                    let fb = Indicator::from_key(k).ok_or_else(|| {
                        invalid(
                            &format!("{ipath}.fallback"),
                            format!("'{k}' is not in the indicator catalogue"),
                        )
                    })?;
                    Some((fb, fallback_benchmark.unwrap_or_else(|| benchmark.clone())))
                }
            };
            if let (Some(lo), Some(hi)) = (ind.min_score, ind.max_score)
                && lo > hi
            {
                return Err(invalid(
                    &ipath,
                    format!("min_score {lo} is above max_score {hi}"),
                ));
            }
            indicators.push(SchemeIndicator {
                key: ind.key.as_str().into(),
                indicator,
                weight: ind.weight,
                energy_basis: ind.energy_basis,
                benchmark,
                fallback,
                max_score: ind.max_score,
                min_score: ind.min_score,
                name_zh: ind
                    .name_zh
                    .clone()
                    .unwrap_or_else(|| indicator.name_zh().to_string()),
                name_en: ind
                    .name_en
                    .clone()
                    .unwrap_or_else(|| indicator.name_en().to_string()),
            });
        }
        groups.push(Group {
            key: g.key.clone(),
            name_zh: g.name_zh.clone(),
            name_en: g.name_en.clone(),
            above_scale: g.above_scale,
            min_land_mu: g.min_land_mu,
            required,
            indicators,
        });
    }

    let bands = &doc.classes.bands;
    if bands.is_empty() {
        return Err(invalid(
            "classes.bands",
            "at least one class band is needed".into(),
        ));
    }
    let classes = match doc.classes.rule.as_str() {
        "rank_percentile" => {
            let mut out = Vec::new();
            for (i, b) in bands.iter().enumerate() {
                let last = i + 1 == bands.len();
                let bound = match (b.p_below, last) {
                    (Some(p), _) => p,
                    (None, true) => f64::INFINITY,
                    (None, false) => {
                        return Err(invalid(
                            &format!("classes.bands[{i}]"),
                            "p_below is required except on the last band".into(),
                        ));
                    }
                };
                if b.min_score.is_some() {
                    return Err(invalid(
                        &format!("classes.bands[{i}]"),
                        "min_score belongs to rule = \"score_thresholds\"".into(),
                    ));
                }
                if out
                    .last()
                    .is_some_and(|(_, prev): &(String, f64)| *prev >= bound)
                {
                    return Err(invalid(
                        &format!("classes.bands[{i}]"),
                        "p_below must increase from band to band".into(),
                    ));
                }
                out.push((b.class.clone(), bound));
            }
            ClassRule::RankPercentile(out)
        }
        "score_thresholds" => {
            let mut out = Vec::new();
            for (i, b) in bands.iter().enumerate() {
                let last = i + 1 == bands.len();
                let bound = match (b.min_score, last) {
                    (Some(s), _) => s,
                    (None, true) => f64::NEG_INFINITY,
                    (None, false) => {
                        return Err(invalid(
                            &format!("classes.bands[{i}]"),
                            "min_score is required except on the last band".into(),
                        ));
                    }
                };
                if b.p_below.is_some() {
                    return Err(invalid(
                        &format!("classes.bands[{i}]"),
                        "p_below belongs to rule = \"rank_percentile\"".into(),
                    ));
                }
                if out
                    .last()
                    .is_some_and(|(_, prev): &(String, f64)| *prev <= bound)
                {
                    return Err(invalid(
                        &format!("classes.bands[{i}]"),
                        "min_score must decrease from band to band".into(),
                    ));
                }
                out.push((b.class.clone(), bound));
            }
            ClassRule::ScoreThresholds(out)
        }
        other => {
            return Err(invalid(
                "classes.rule",
                format!("'{other}' is not a class rule (rank_percentile or score_thresholds)"),
            ));
        }
    };

    let mut adjustments = Vec::new();
    for (i, a) in doc.adjustments.iter().enumerate() {
        let path = format!("adjustments[{i}]");
        for g in &a.groups {
            if !groups.iter().any(|x| &x.key == g) {
                return Err(invalid(
                    &format!("{path}.groups"),
                    format!("unknown group '{g}'"),
                ));
            }
        }
        adjustments.push(Adjustment {
            key: a.key.clone(),
            name_zh: a.name_zh.clone(),
            name_en: a.name_en.clone(),
            groups: a.groups.clone(),
            when: expr(&format!("{path}.when"), &a.when)?,
            points: expr(&format!("{path}.points"), &a.points)?,
        });
    }

    let class_names = classes
        .classes()
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>();
    let mut measures = Vec::new();
    for (i, m) in doc.measures.iter().enumerate() {
        let path = format!("measures[{i}]");
        if !class_names.contains(&m.class) {
            return Err(invalid(
                &format!("{path}.class"),
                format!("'{}' is not a class of this scheme", m.class),
            ));
        }
        let basis = match &m.basis {
            None => None,
            Some(k) => Some(Figure::from_key(k).ok_or_else(|| {
                invalid(&format!("{path}.basis"), format!("unknown figure '{k}'"))
            })?),
        };
        measures.push(Measure {
            class: m.class.clone(),
            kind: m.kind.clone(),
            name_zh: m.name_zh.clone(),
            name_en: m.name_en.clone(),
            rate: m.rate,
            unit: m.unit.clone(),
            basis,
            applies_from: m.applies_from,
            applies_to: m.applies_to,
            source: m.source.clone(),
        });
    }

    for (i, t) in doc.tests.iter().enumerate() {
        for e in &t.enterprises {
            for key in e
                .figures
                .iter()
                .chain(e.prior.iter())
                .flat_map(|m| m.keys())
            {
                if Figure::from_key(key).is_none() {
                    return Err(invalid(
                        &format!("tests[{i}] ({}) enterprise {}", t.name, e.id),
                        format!("unknown figure '{key}'"),
                    ));
                }
            }
        }
    }

    Ok(Scheme {
        name: h.name.clone(),
        version: h.version.clone(),
        issued,
        title_zh: h.title_zh.clone(),
        title_en: h.title_en.clone(),
        valid_from: h.valid_from,
        valid_to: h.valid_to,
        confidence: h.confidence.clone(),
        notes: h.notes.clone(),
        parameters: h.parameters.clone(),
        exemptions,
        groups,
        classes,
        adjustments,
        measures,
        sources: doc.sources,
        tests: doc.tests,
        origin: origin.to_string(),
    })
}

/// The benchmark and, for fixed benchmarks, the fallback indicator's own published values.
fn compile_benchmark(doc: &BenchmarkDoc) -> Result<(Benchmark, Option<Benchmark>), String> {
    let years = |values: &BTreeMap<String, f64>| -> Result<BTreeMap<i32, f64>, String> {
        values
            .iter()
            .map(|(k, v)| {
                let year = k
                    .parse::<i32>()
                    .map_err(|_| format!("'{k}' is not a year"))?;
                if !v.is_finite() {
                    return Err(format!("benchmark for {k} is not a finite number"));
                }
                Ok((year, *v))
            })
            .collect()
    };
    Ok(match doc {
        BenchmarkDoc::GroupRatio => (Benchmark::GroupRatio, None),
        BenchmarkDoc::Fixed {
            values,
            fallback_values,
        } => {
            let fb = if fallback_values.is_empty() {
                None
            } else {
                Some(Benchmark::Fixed(years(fallback_values)?))
            };
            (Benchmark::Fixed(years(values)?), fb)
        }
        BenchmarkDoc::PriorYearRatio { multiple } => {
            if !(multiple.is_finite() && *multiple > 0.0) {
                return Err(format!("multiple {multiple} must be a positive number"));
            }
            (
                Benchmark::PriorYearRatio {
                    multiple: *multiple,
                },
                None,
            )
        }
    })
}

/// The schemes gusu knows: the shipped ones, plus any from a rules directory (which add or override).
#[derive(Debug, Clone, Default)]
pub struct SchemeLibrary {
    schemes: Vec<Scheme>,
}

/// The shipped rule documents, embedded at build time.
pub const BUILTIN_DOCUMENTS: &[(&str, &str)] = &[
    (
        "jiangsu-standard.toml",
        include_str!("../../../../rules/evaluation/jiangsu-standard.toml"),
    ),
    (
        "zhejiang-huangyan-2022.toml",
        include_str!("../../../../rules/evaluation/zhejiang-huangyan-2022.toml"),
    ),
    (
        "jiangsu-huaian-2024.toml",
        include_str!("../../../../rules/evaluation/jiangsu-huaian-2024.toml"),
    ),
];

/// The scheme used when none is named.
pub const DEFAULT_SCHEME: &str = "jiangsu-standard";

impl SchemeLibrary {
    pub fn builtin() -> Result<SchemeLibrary, SchemeError> {
        let mut lib = SchemeLibrary::default();
        for (file, text) in BUILTIN_DOCUMENTS {
            lib.add(Scheme::from_toml(text, &format!("builtin:{file}"))?);
        }
        Ok(lib)
    }

    /// Adds a scheme; one with the same name and version replaces the earlier one.
    pub fn add(&mut self, scheme: Scheme) {
        self.schemes
            .retain(|s| !(s.name == scheme.name && s.version == scheme.version));
        self.schemes.push(scheme);
    }

    pub fn all(&self) -> &[Scheme] {
        &self.schemes
    }

    /// The version of `name` valid for the evaluation year; among several, the latest issued (the one
    /// added last on a tie, so a rules directory overrides the shipped document).
    pub fn select(&self, name: &str, year: i32) -> Result<&Scheme, SchemeError> {
        self.schemes
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name == name && s.valid_for(year))
            .max_by_key(|(i, s)| (s.issued, *i))
            .map(|(_, s)| s)
            .ok_or_else(|| SchemeError::NotFound {
                name: name.to_string(),
                year: Some(year),
                known: self.describe(),
            })
    }

    fn describe(&self) -> String {
        self.schemes
            .iter()
            .map(|s| {
                format!(
                    "{} ({}–{})",
                    s.id(),
                    s.valid_from,
                    s.valid_to.map(|y| y.to_string()).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}
