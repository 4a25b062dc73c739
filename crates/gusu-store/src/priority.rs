//! Which source's value is the effective one when several departments send the same field.

use std::collections::BTreeMap;

use gusu_core::{Figure, Flag};
use serde::{Deserialize, Serialize};

/// Per field (interchange key), the sources in order of preference.
///
/// The effective value of a field is the value of the first source in its list that has one; when
/// none of them has, the most recently imported value of any other source. The default puts each
/// field's [`Figure::default_source`] / [`Flag::default_source`] alone in its list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourcePriority {
    pub order: BTreeMap<String, Vec<String>>,
}

impl Default for SourcePriority {
    fn default() -> Self {
        let mut order = BTreeMap::new();
        for f in Figure::ALL {
            order.insert(f.key().to_string(), vec![f.default_source().to_string()]);
        }
        // Meter readings' yearly totals fill gaps below the power company's bills (issue 4).
        if let Some(electricity) = order.get_mut(Figure::ElectricityKwh.key()) {
            electricity.push(crate::metered::METERED.to_string());
        }
        for f in Flag::ALL {
            order.insert(f.key().to_string(), vec![f.default_source().to_string()]);
        }
        SourcePriority { order }
    }
}

impl SourcePriority {
    /// Sets the order of preference for one field (sources are compared in lower case, as the
    /// store keeps them).
    pub fn set(&mut self, field: &str, sources: &[&str]) -> &mut Self {
        self.order.insert(
            field.to_string(),
            sources.iter().map(|s| normalise_source(s)).collect(),
        );
        self
    }

    /// Builder form of [`SourcePriority::set`].
    pub fn with(mut self, field: &str, sources: &[&str]) -> Self {
        self.set(field, sources);
        self
    }

    /// The sources of a field in order of preference (empty when the field is not configured).
    pub fn sources(&self, field: &str) -> &[String] {
        self.order.get(field).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Position of `source` in the field's list, `None` when it is not listed.
    pub fn rank(&self, field: &str, source: &str) -> Option<usize> {
        self.sources(field).iter().position(|s| s == source)
    }
}

/// Source names are compared case-insensitively and without surrounding spaces: a clerk typing
/// `Tax ` must not create a second tax department.
pub(crate) fn normalise_source(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Priority rank of every (field id, source id) pair, in a dense table: it is looked up once per
/// stored value when a year is read (millions of times), so a plain index beats hashing.
pub(crate) struct Ranks {
    sources: usize,
    ranks: Vec<usize>,
}

impl Ranks {
    /// `rank(field_id, source_id)` gives the rank, `None` for unlisted pairs.
    pub fn build(
        fields: impl Iterator<Item = (i64, String)> + Clone,
        sources: &[(i64, String)],
        rank: impl Fn(&str, &str) -> Option<usize>,
    ) -> Ranks {
        let width = |max: Option<i64>| usize::try_from(max.unwrap_or(0)).unwrap_or(0) + 1;
        let n_sources = width(sources.iter().map(|s| s.0).max());
        let n_fields = width(fields.clone().map(|f| f.0).max());
        let mut ranks = vec![usize::MAX; n_fields * n_sources];
        for (field_id, key) in fields {
            for (source_id, name) in sources {
                if let (Some(r), Ok(f), Ok(s)) = (
                    rank(&key, name),
                    usize::try_from(field_id),
                    usize::try_from(*source_id),
                ) {
                    ranks[f * n_sources + s] = r;
                }
            }
        }
        Ranks {
            sources: n_sources,
            ranks,
        }
    }

    /// Position of the source in the field's list; `usize::MAX` when not listed.
    pub fn get(&self, field_id: i64, source_id: i64) -> usize {
        match (usize::try_from(field_id), usize::try_from(source_id)) {
            (Ok(f), Ok(s)) if s < self.sources => self
                .ranks
                .get(f * self.sources + s)
                .copied()
                .unwrap_or(usize::MAX),
            _ => usize::MAX,
        }
    }
}

/// One source's current value of a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub source_id: i64,
    pub value: f64,
    pub batch_id: i64,
    /// Position in the field's priority list; `usize::MAX` when the source is not listed.
    pub rank: usize,
}

/// Index of the effective candidate: best rank first, then the most recent batch.
pub(crate) fn choose(candidates: &[Candidate]) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| (c.rank, std::cmp::Reverse(c.batch_id)))
        .map(|(i, _)| i)
}

/// Whether two sources' values disagree. A relative tolerance of 1e-9 absorbs unit conversions
/// (元 to 万元) done in floating point; anything larger is a real disagreement.
pub(crate) fn differs(a: f64, b: f64) -> bool {
    let scale = a.abs().max(b.abs());
    (a - b).abs() > 1e-9 * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(source_id: i64, value: f64, batch_id: i64, rank: usize) -> Candidate {
        Candidate {
            source_id,
            value,
            batch_id,
            rank,
        }
    }

    #[test]
    fn defaults_follow_core() {
        let p = SourcePriority::default();
        assert_eq!(p.sources("tax_paid_10k_yuan"), ["tax"]);
        assert_eq!(p.sources("revenue_10k_yuan"), ["stats"]);
        assert_eq!(p.sources("electricity_kwh"), ["power", "metered"]);
        assert_eq!(p.sources("so2_t"), ["environment"]);
        assert_eq!(p.sources("land_area_mu"), ["land"]);
        assert_eq!(p.sources("exempt"), ["bureau"]);
    }

    #[test]
    fn ranked_source_beats_recency_and_unranked_fall_back_to_recency() {
        let ranked_old = c(1, 10.0, 1, 0);
        let unranked_new = c(2, 20.0, 9, usize::MAX);
        let unranked_newer = c(3, 30.0, 10, usize::MAX);
        assert_eq!(choose(&[unranked_new, ranked_old, unranked_newer]), Some(1));
        assert_eq!(choose(&[unranked_new, unranked_newer]), Some(1));
        assert_eq!(
            choose(&[c(2, 1.0, 5, 1), c(3, 1.0, 9, usize::MAX)]),
            Some(0)
        );
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn set_normalises_source_names() {
        let p = SourcePriority::default().with("revenue_10k_yuan", &[" Tax", "STATS"]);
        assert_eq!(p.rank("revenue_10k_yuan", "stats"), Some(1));
    }

    #[test]
    fn dense_ranks_match_the_priority() {
        let p = SourcePriority::default().with("revenue_10k_yuan", &["stats", "tax"]);
        let fields = vec![
            (1, "revenue_10k_yuan".to_string()),
            (3, "tax_paid_10k_yuan".to_string()),
        ];
        let sources = vec![
            (1, "tax".to_string()),
            (2, "stats".to_string()),
            (5, "x".to_string()),
        ];
        let r = Ranks::build(fields.into_iter(), &sources, |f, s| p.rank(f, s));
        assert_eq!(r.get(1, 2), 0);
        assert_eq!(r.get(1, 1), 1);
        assert_eq!(r.get(1, 5), usize::MAX);
        assert_eq!(r.get(3, 1), 0);
        assert_eq!(r.get(3, 2), usize::MAX);
        assert_eq!(r.get(2, 1), usize::MAX);
        assert_eq!(r.get(99, 99), usize::MAX);
        assert_eq!(r.get(-1, 1), usize::MAX);
    }

    #[test]
    fn tolerance_is_relative() {
        assert!(!differs(1234.5, 1234.5));
        assert!(!differs(12345.0 / 10000.0, 1.2345));
        assert!(differs(100.0, 100.01));
        assert!(differs(0.0, 1e-12));
        assert!(!differs(0.0, -0.0));
    }
}
