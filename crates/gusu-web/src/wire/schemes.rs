//! Evaluation schemes as people read them (the rules page and `GET /api/v1/schemes`), in one
//! language.

use gusu_core::scheme::{Benchmark, ClassRule, Scheme, SchemeLibrary};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    pub name: String,
    pub weight: f64,
    /// How the benchmark is set, in words.
    pub benchmark: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub name: String,
    pub indicators: Vec<IndicatorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemeView {
    /// `name@version`.
    pub id: String,
    pub title: String,
    /// Years of validity, `from–to` (open-ended when `to` is empty).
    pub valid: String,
    pub confidence: String,
    pub groups: Vec<GroupView>,
    /// The class rule, in words.
    pub classes: String,
    /// Each measure tied to a class, in words.
    pub measures: Vec<String>,
    /// Values no source gives, taken as named parameters.
    pub parameters: Vec<String>,
    /// The published sources.
    pub sources: Vec<String>,
}

impl SchemeView {
    pub fn of(s: &Scheme, zh: bool) -> SchemeView {
        let benchmark = |b: &Benchmark| match b {
            Benchmark::GroupRatio => (if zh {
                "当年组内总量之比"
            } else {
                "the group's aggregate ratio"
            })
            .to_string(),
            Benchmark::Fixed(v) => v
                .iter()
                .map(|(y, x)| format!("{y}: {x}"))
                .collect::<Vec<_>>()
                .join(" · "),
            Benchmark::PriorYearRatio { multiple } => {
                if zh {
                    format!("上年组内总量之比 × {multiple}")
                } else {
                    format!("{multiple} × the prior year's ratio")
                }
            }
        };
        let pick = |zh_text: &String, en_text: &String| {
            if zh { zh_text.clone() } else { en_text.clone() }
        };
        SchemeView {
            id: s.id(),
            title: pick(&s.title_zh, &s.title_en),
            valid: format!(
                "{}–{}",
                s.valid_from,
                s.valid_to.map(|y| y.to_string()).unwrap_or_default()
            ),
            confidence: s.confidence.clone(),
            groups: s
                .groups
                .iter()
                .map(|g| GroupView {
                    name: pick(&g.name_zh, &g.name_en),
                    indicators: g
                        .indicators
                        .iter()
                        .map(|i| IndicatorView {
                            name: pick(&i.name_zh, &i.name_en),
                            weight: i.weight,
                            benchmark: benchmark(&i.benchmark),
                        })
                        .collect(),
                })
                .collect(),
            classes: match &s.classes {
                ClassRule::RankPercentile(b) => b
                    .iter()
                    .map(|(c, p)| {
                        if p.is_finite() {
                            format!("{c} p<{p}")
                        } else {
                            c.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" · "),
                ClassRule::ScoreThresholds(b) => b
                    .iter()
                    .map(|(c, m)| {
                        if m.is_finite() {
                            format!("{c} ≥{m}")
                        } else {
                            c.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" · "),
            },
            measures: s
                .measures
                .iter()
                .map(|m| {
                    format!(
                        "{} {}: {} {} ({}–{}) · {}",
                        m.class,
                        pick(&m.name_zh, &m.name_en),
                        m.rate.map(|r| r.to_string()).unwrap_or_default(),
                        m.unit.as_deref().unwrap_or_default(),
                        m.applies_from,
                        m.applies_to.map(|y| y.to_string()).unwrap_or_default(),
                        m.source,
                    )
                })
                .collect(),
            parameters: s.parameters.clone(),
            sources: s
                .sources
                .iter()
                .map(|src| {
                    format!(
                        "{}{}",
                        src.title,
                        src.note
                            .as_deref()
                            .map(|n| format!(" — {n}"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        }
    }

    pub fn all(library: &SchemeLibrary, zh: bool) -> Vec<SchemeView> {
        library
            .all()
            .iter()
            .map(|s| SchemeView::of(s, zh))
            .collect()
    }
}
