//! `explain`: an enterprise's result in words and numbers, and the smallest change of one input figure
//! (others held fixed) that lifts it to the next class, with its whole group re-evaluated, because its
//! own change moves the benchmarks.

use serde::Serialize;

use super::{
    EnterpriseResult, EvaluationError, EvaluationInput, Status, enterprise_years, evaluate,
    grade_group, place, resolve_benchmarks,
};
use crate::record::{EnterpriseYear, Figure};
use crate::scheme::Scheme;
use crate::uscc::Uscc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Raise,
    Cut,
}

/// One way to reach the next class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lift {
    pub figure: Figure,
    pub direction: Direction,
    pub from: f64,
    /// The figure's new value; `None` when no change of this figure alone reaches the next class.
    pub to: Option<f64>,
    /// to − from, in the figure's unit.
    pub change: Option<f64>,
    /// Change relative to `from`, in percent (when `from` ≠ 0).
    pub percent: Option<f64>,
    pub class_reached: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub year: i32,
    pub scheme: String,
    pub result: EnterpriseResult,
    /// The class above the current one; `None` when graded A (or not graded).
    pub next_class: Option<String>,
    /// Every figure tried, reachable or not.
    pub lifts: Vec<Lift>,
    /// The reachable lift with the smallest relative change.
    pub best: Option<Lift>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExplainError {
    #[error("enterprise {0} is not among the enterprises evaluated")]
    UnknownEnterprise(String),
    #[error(transparent)]
    Evaluation(#[from] EvaluationError),
}

/// Figures that could lift the grade under a group's indicators, with the direction that helps.
fn candidates(scheme: &Scheme, group: usize) -> Vec<(Figure, Direction)> {
    let mut out: Vec<(Figure, Direction)> = Vec::new();
    let mut push = |f: Figure, d: Direction| {
        if !out.iter().any(|(g, _)| *g == f) {
            out.push((f, d));
        }
    };
    for si in &scheme.groups[group].indicators {
        let mut inds = vec![si.indicator];
        if let Some((fb, _)) = &si.fallback {
            inds.push(*fb);
        }
        for ind in inds {
            push(ind.numerator_figure(), Direction::Raise);
            for &f in ind.denominator_figures(si.energy_basis) {
                // Land and head count are not what an enterprise changes to earn a grade; revenue is
                // raised, never cut (it is the denominator of R&D intensity only).
                if matches!(f, Figure::LandAreaMu | Figure::Employees | Figure::Revenue) {
                    continue;
                }
                push(f, Direction::Cut);
            }
        }
    }
    out
}

pub fn explain(
    scheme: &Scheme,
    input: &EvaluationInput<'_>,
    uscc: &Uscc,
) -> Result<Explanation, ExplainError> {
    let evaluation = evaluate(scheme, input)?;
    let result = evaluation
        .results
        .iter()
        .find(|r| &r.uscc == uscc)
        .cloned()
        .ok_or_else(|| ExplainError::UnknownEnterprise(uscc.to_string()))?;
    let mut explanation = Explanation {
        year: input.year,
        scheme: scheme.id(),
        result: result.clone(),
        next_class: None,
        lifts: Vec::new(),
        best: None,
    };
    if result.status != Status::Graded {
        return Ok(explanation);
    }
    let classes = scheme.classes.classes();
    let current = result.class.as_deref().unwrap_or_default();
    let Some(pos) = classes.iter().position(|c| *c == current) else {
        return Ok(explanation);
    };
    if pos == 0 {
        return Ok(explanation);
    }
    explanation.next_class = Some(classes[pos - 1].to_string());

    let resolved = resolve_benchmarks(scheme, input)?;
    let members = enterprise_years(input, input.year);
    let mut group_index = None;
    let mut idx = Vec::new();
    let mut me = None;
    for (i, ey) in members.iter().enumerate() {
        let p = place(scheme, ey, input.year)?;
        if p.status == Status::Graded {
            if &ey.enterprise.uscc == uscc {
                group_index = p.group;
                me = Some(idx.len());
            }
            idx.push((i, p.group));
        }
    }
    let (Some(gi), Some(_)) = (group_index, me) else {
        return Ok(explanation);
    };
    let group_members: Vec<usize> = idx
        .iter()
        .filter(|(_, g)| *g == Some(gi))
        .map(|(i, _)| *i)
        .collect();
    let my_pos = group_members
        .iter()
        .position(|&i| &members[i].enterprise.uscc == uscc)
        .expect("graded member of its group");
    let base = members[group_members[my_pos]].clone();

    // The class index reached with one figure set to `value`.
    let probe = |figure: Figure, value: f64| -> Result<usize, EvaluationError> {
        let mut figures = base.figures.copied().unwrap_or_default();
        figures.set(figure, Some(value));
        let mut changed: EnterpriseYear<'_> = base.clone();
        changed.figures = Some(&figures);
        let refs: Vec<&EnterpriseYear<'_>> = group_members
            .iter()
            .enumerate()
            .map(|(k, &i)| if k == my_pos { &changed } else { &members[i] })
            .collect();
        let grades = grade_group(scheme, gi, &refs, input.year, &resolved)?;
        Ok(grades.classes[my_pos] as usize)
    };
    let improves = |figure: Figure, value: f64| -> Result<bool, EvaluationError> {
        Ok(probe(figure, value)? < pos)
    };

    for (figure, direction) in candidates(scheme, gi) {
        let Some(from) = base.figure(figure) else {
            continue;
        };
        let target = match direction {
            Direction::Raise => search_raise(from, |v| improves(figure, v))?,
            Direction::Cut => search_cut(from, |v| improves(figure, v))?,
        };
        let class_reached = match target {
            Some(v) => Some(classes[probe(figure, v)?].to_string()),
            None => None,
        };
        explanation.lifts.push(Lift {
            figure,
            direction,
            from,
            to: target,
            change: target.map(|t| t - from),
            percent: target.and_then(|t| (from != 0.0).then(|| (t - from) / from.abs() * 100.0)),
            class_reached,
        });
    }
    explanation.best = explanation
        .lifts
        .iter()
        .filter(|l| l.to.is_some())
        .min_by(|a, b| {
            let key = |l: &Lift| l.percent.map_or(f64::INFINITY, f64::abs);
            key(a).total_cmp(&key(b))
        })
        .cloned();
    Ok(explanation)
}

const BISECTIONS: usize = 60;

/// Smallest value above `from` that works, if a raise of up to 10⁶ × the figure does.
fn search_raise(
    from: f64,
    mut works: impl FnMut(f64) -> Result<bool, EvaluationError>,
) -> Result<Option<f64>, EvaluationError> {
    let scale = from.abs().max(1.0);
    let mut step = scale * 0.01;
    let mut lo = 0.0;
    loop {
        if works(from + step)? {
            break;
        }
        lo = step;
        step *= 2.0;
        if step > scale * 1e6 {
            return Ok(None);
        }
    }
    let mut hi = step;
    for _ in 0..BISECTIONS {
        let mid = (lo + hi) / 2.0;
        if works(from + mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
        if hi - lo <= scale * 1e-9 {
            break;
        }
    }
    Ok(Some(from + hi))
}

/// Largest value below `from` (and above 0: a zero denominator is no value at all) that works.
fn search_cut(
    from: f64,
    mut works: impl FnMut(f64) -> Result<bool, EvaluationError>,
) -> Result<Option<f64>, EvaluationError> {
    if from <= 0.0 {
        return Ok(None);
    }
    let floor = from * 1e-6;
    if !works(floor)? {
        return Ok(None);
    }
    // works(lo) is true, works(hi) is false (hi = from is the current state).
    let (mut lo, mut hi) = (floor, from);
    for _ in 0..BISECTIONS {
        let mid = (lo + hi) / 2.0;
        if works(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= from * 1e-9 {
            break;
        }
    }
    Ok(Some(lo))
}
