//! The carbon-efficiency grade (碳效, Zhejiang; docs/sources.md): L = tCO₂ per 万元 of value added,
//! a level by L, and a grade by K = L ÷ the division's L, the division's L being ΣCO₂ ÷ Σ value
//! added over the enterprises of its division in the peer area. Bands come from the factor library.

use std::collections::HashMap;

use super::factors::{BandRow, FactorLibrary};

/// Which enterprises share a division's L: all of the run's (the city), or those of one district.
/// The grade compares with the division "in the region", not saying which; the city is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeerArea {
    #[default]
    City,
    District,
}

/// One enterprise's input to the grade.
#[derive(Debug, Clone, PartialEq)]
pub struct EfficiencyInput<'a> {
    /// Two-digit GB/T 4754 division.
    pub division: &'a str,
    pub district: &'a str,
    /// The CO₂ of the grade: total − green electricity's emissions (Zhejiang 碳效).
    pub co2_t: f64,
    /// Industrial value added, 万元.
    pub value_added: Option<f64>,
}

/// One enterprise's grade; `None` where it cannot be computed (see `warnings`).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Efficiency {
    pub l: Option<f64>,
    pub level: Option<String>,
    /// The division's L in the peer area.
    pub division_l: Option<f64>,
    pub k: Option<f64>,
    pub grade: Option<String>,
    /// Band ids used.
    pub factors: Vec<String>,
    pub warnings: Vec<String>,
}

fn band(bands: &[BandRow], x: f64) -> Option<&BandRow> {
    bands.iter().find(|b| b.max.is_none_or(|max| x <= max))
}

/// Grades every input, in order. Enterprises without a positive value added get no L and are left
/// out of their division's sums.
pub fn grade(
    library: &FactorLibrary,
    inputs: &[EfficiencyInput<'_>],
    peer: PeerArea,
) -> Vec<Efficiency> {
    let peer_key = |i: &EfficiencyInput<'_>| -> (String, String) {
        match peer {
            PeerArea::City => (i.division.to_string(), String::new()),
            PeerArea::District => (i.division.to_string(), i.district.to_string()),
        }
    };
    let mut sums: HashMap<(String, String), (f64, f64)> = HashMap::new();
    for i in inputs {
        if let Some(va) = i.value_added.filter(|v| *v > 0.0) {
            let s = sums.entry(peer_key(i)).or_insert((0.0, 0.0));
            s.0 += i.co2_t;
            s.1 += va;
        }
    }
    inputs
        .iter()
        .map(|i| {
            let mut e = Efficiency::default();
            let va = match i.value_added {
                None => {
                    e.warnings.push("value_added_missing".into());
                    return e;
                }
                Some(v) if v <= 0.0 => {
                    e.warnings.push("value_added_not_positive".into());
                    return e;
                }
                Some(v) => v,
            };
            let l = i.co2_t / va;
            e.l = Some(l);
            if let Some(b) = band(library.efficiency_levels(), l) {
                e.level = Some(b.label.clone());
                e.factors.push(b.id.clone());
            }
            let (co2, va_sum) = sums[&peer_key(i)];
            let division_l = co2 / va_sum;
            if division_l > 0.0 {
                e.division_l = Some(division_l);
                let k = l / division_l;
                e.k = Some(k);
                if let Some(b) = band(library.efficiency_grades(), k) {
                    e.grade = Some(b.label.clone());
                    e.factors.push(b.id.clone());
                }
            } else {
                e.division_l = Some(division_l);
                e.warnings.push("division_l_not_positive".into());
            }
            e
        })
        .collect()
}
