//! Which units a metered carrier may be read in, and the one unit the dataset stores it in.
//!
//! `gusu_core::carbon` (the carbon engineer's unit table) is not on main yet, so this small table
//! lives here; when it lands, this module should defer to it.

/// A carrier a meter can measure, with its accepted units and their factor to the stored unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CarrierUnits {
    pub carrier: &'static str,
    /// The unit the dataset stores (every value converted to it on import).
    pub stored_unit: &'static str,
    /// Accepted units and the factor that converts one of them to `stored_unit`.
    pub accepted: &'static [(&'static str, f64)],
    /// More than this (in `stored_unit`) in a single reading is impossible for one factory meter:
    /// 10 GWh of electricity in one interval is more than the largest plant in the city draws in
    /// a day, and the other limits are of the same order of energy.
    pub ceiling: f64,
}

/// The metered carriers, named as in the energy files of issue 4.
pub const CARRIERS: &[CarrierUnits] = &[
    CarrierUnits {
        carrier: "electricity",
        stored_unit: "kwh",
        accepted: &[("kwh", 1.0), ("mwh", 1_000.0)],
        ceiling: 1.0e7,
    },
    CarrierUnits {
        carrier: "natural_gas",
        stored_unit: "m3",
        accepted: &[("m3", 1.0), ("10k_nm3", 10_000.0)],
        ceiling: 1.0e6,
    },
    CarrierUnits {
        carrier: "heat",
        stored_unit: "gj",
        accepted: &[("gj", 1.0)],
        ceiling: 3.6e4,
    },
    CarrierUnits {
        carrier: "steam",
        stored_unit: "t",
        accepted: &[("t", 1.0)],
        ceiling: 1.0e4,
    },
    CarrierUnits {
        carrier: "hot_water",
        stored_unit: "gj",
        accepted: &[("gj", 1.0)],
        ceiling: 3.6e4,
    },
];

/// The carrier entry for a name (exact, lower case as the files write it).
pub fn carrier(name: &str) -> Option<&'static CarrierUnits> {
    CARRIERS.iter().find(|c| c.carrier == name)
}

impl CarrierUnits {
    /// The factor from `unit` to the stored unit, or `None` when the unit does not fit the carrier.
    pub fn factor(&self, unit: &str) -> Option<f64> {
        self.accepted
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, f)| *f)
    }

    pub fn accepted_units(&self) -> String {
        self.accepted
            .iter()
            .map(|(u, _)| *u)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn electricity_in_mwh_is_stored_in_kwh() {
        let e = carrier("electricity").unwrap();
        assert_eq!(e.stored_unit, "kwh");
        assert_eq!(e.factor("mwh"), Some(1_000.0));
        assert_eq!(e.factor("m3"), None);
    }

    #[test]
    fn every_stored_unit_is_accepted_with_factor_one() {
        for c in CARRIERS {
            assert_eq!(c.factor(c.stored_unit), Some(1.0), "{}", c.carrier);
        }
        assert!(carrier("coal").is_none());
    }
}
