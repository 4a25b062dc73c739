//! What the summary of a run counts, gathered result by result (shared by the CLI's file
//! evaluation, which tallies on several threads, and the store's saved runs).

use super::{EnterpriseResult, Status};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    pub enterprises: usize,
    statuses: [usize; 4],
    pub measures: Vec<MeasureTally>,
}

/// One measure over the run: how many enterprises it applies to and what the amounts add up to.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureTally {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub enterprises: usize,
    /// Σ of the amounts that could be computed, in 元.
    pub amount: f64,
    /// Enterprises whose amount could not be computed (its basis figure, e.g. electricity, is
    /// missing): counted in `enterprises`, not in `amount`.
    pub without_amount: usize,
}

impl Tally {
    pub fn add(&mut self, r: &EnterpriseResult) {
        self.enterprises += 1;
        self.statuses[r.status as usize] += 1;
        for m in &r.measures {
            let missing = usize::from(m.amount.is_none());
            match self.measures.iter_mut().find(|t| t.kind == m.kind) {
                Some(t) => {
                    t.enterprises += 1;
                    t.amount += m.amount.unwrap_or(0.0);
                    t.without_amount += missing;
                }
                None => self.measures.push(MeasureTally {
                    kind: m.kind.clone(),
                    name_zh: m.name_zh.clone(),
                    name_en: m.name_en.clone(),
                    enterprises: 1,
                    amount: m.amount.unwrap_or(0.0),
                    without_amount: missing,
                }),
            }
        }
    }

    /// Adds another tally's counts (tallies made by several threads).
    pub fn merge(&mut self, other: Tally) {
        self.enterprises += other.enterprises;
        for (a, b) in self.statuses.iter_mut().zip(other.statuses) {
            *a += b;
        }
        for m in other.measures {
            match self.measures.iter_mut().find(|t| t.kind == m.kind) {
                Some(t) => {
                    t.enterprises += m.enterprises;
                    t.amount += m.amount;
                    t.without_amount += m.without_amount;
                }
                None => self.measures.push(m),
            }
        }
    }

    /// Results with this status.
    pub fn count(&self, s: Status) -> usize {
        self.statuses[s as usize]
    }
}
