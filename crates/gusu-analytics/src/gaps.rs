//! Gaps in a meter's series, measured against its usual interval: the most common interval between
//! consecutive readings (ties go to the shorter one, so a meter switched from hourly to daily is
//! still judged by the finer rhythm).

use rustc_hash::FxHashMap;
use serde::Serialize;

/// Readings missing between two consecutive readings of one meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub uscc: String,
    pub meter_id: String,
    /// The last reading before the gap (µs since the epoch).
    pub after_micros: i64,
    /// The first reading after the gap (µs since the epoch).
    pub before_micros: i64,
    /// The meter's usual interval in seconds.
    pub usual_interval_secs: i64,
    /// How many readings at the usual interval would fill the gap.
    pub missing: i64,
}

/// The most common interval between consecutive distinct timestamps; `None` with fewer than two.
pub fn usual_interval(sorted_micros: &[i64]) -> Option<i64> {
    let mut counts: FxHashMap<i64, usize> = FxHashMap::default();
    for pair in sorted_micros.windows(2) {
        let step = pair[1] - pair[0];
        if step > 0 {
            *counts.entry(step).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(step, _)| step)
}

/// The gaps of one meter: every step longer than the usual interval. `micros` need not be sorted
/// and may repeat.
pub fn find_gaps(uscc: &str, meter_id: &str, micros: &mut Vec<i64>) -> Vec<Gap> {
    micros.sort_unstable();
    micros.dedup();
    let Some(usual) = usual_interval(micros) else {
        return Vec::new();
    };
    micros
        .windows(2)
        .filter(|p| p[1] - p[0] > usual)
        .map(|p| Gap {
            uscc: uscc.to_string(),
            meter_id: meter_id.to_string(),
            after_micros: p[0],
            before_micros: p[1],
            usual_interval_secs: usual / 1_000_000,
            // A step of k·usual leaves k−1 readings out; a ragged step rounds up.
            missing: (p[1] - p[0] - 1) / usual,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn hourly_meter_missing_three_hours() {
        // Readings at hours 0,1,2,3, then 7,8: the step 3→7 leaves out 4, 5, 6.
        let mut ts: Vec<i64> = [0, 1, 2, 3, 7, 8].iter().map(|h| h * HOUR).collect();
        let gaps = find_gaps("U", "M", &mut ts);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].after_micros, 3 * HOUR);
        assert_eq!(gaps[0].before_micros, 7 * HOUR);
        assert_eq!(gaps[0].usual_interval_secs, 3600);
        assert_eq!(gaps[0].missing, 3);
    }

    #[test]
    fn regular_or_short_series_have_no_gaps() {
        let mut ts: Vec<i64> = (0..24).map(|h| h * HOUR).collect();
        assert!(find_gaps("U", "M", &mut ts).is_empty());
        assert!(find_gaps("U", "M", &mut vec![5]).is_empty());
        assert_eq!(usual_interval(&[]), None);
    }

    #[test]
    fn ties_pick_the_shorter_interval_and_duplicates_are_ignored() {
        // Steps: 1h, 1h, 2h, 2h → tie, the usual interval is 1h; the 2h steps each miss one.
        let mut ts: Vec<i64> = [0, 1, 2, 4, 6, 6].iter().map(|h| h * HOUR).collect();
        let gaps = find_gaps("U", "M", &mut ts);
        assert_eq!(gaps.len(), 2);
        assert!(
            gaps.iter()
                .all(|g| g.missing == 1 && g.usual_interval_secs == 3600)
        );
    }
}
