//! What the summary of a run counts, gathered result by result (shared by the CLI's file
//! evaluation, which tallies on several threads, and the store's saved runs).

use super::{EnterpriseResult, Status};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    pub enterprises: usize,
    statuses: [usize; 4],
    /// (measure kind, name zh, name en, enterprises, total amount).
    pub measures: Vec<(String, String, String, usize, f64)>,
}

impl Tally {
    pub fn add(&mut self, r: &EnterpriseResult) {
        self.enterprises += 1;
        self.statuses[r.status as usize] += 1;
        for m in &r.measures {
            match self.measures.iter_mut().find(|t| t.0 == m.kind) {
                Some(t) => {
                    t.3 += 1;
                    t.4 += m.amount.unwrap_or(0.0);
                }
                None => self.measures.push((
                    m.kind.clone(),
                    m.name_zh.clone(),
                    m.name_en.clone(),
                    1,
                    m.amount.unwrap_or(0.0),
                )),
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
            match self.measures.iter_mut().find(|t| t.0 == m.0) {
                Some(t) => {
                    t.3 += m.3;
                    t.4 += m.4;
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
