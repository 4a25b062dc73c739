//! Which carriers a meter can measure, the unit the dataset stores each in, and the largest value
//! one reading can hold. Names, units and conversion factors come from the one table in
//! `gusu_core::carbon::units` (`Carrier::parse`, `Unit::parse`, `conversion`); this module only
//! picks the metered carriers and their stored unit.

use gusu_core::carbon::{Carrier, Unit, conversion};

/// A carrier a meter can measure, with the unit the dataset stores it in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metered {
    pub carrier: Carrier,
    /// Every value is converted to this unit on import (kWh for electricity: what meters show).
    pub stored: Unit,
    /// More than this (in `stored`) in a single reading is impossible for one factory meter:
    /// 10 GWh of electricity in one interval is more than the largest plant in the city draws in
    /// a day, and the other limits are of the same order of energy.
    pub ceiling: f64,
}

/// The metered carriers. The position in this list is the carrier's code inside an import.
pub const METERED: &[Metered] = &[
    Metered {
        carrier: Carrier::Electricity,
        stored: Unit::Kwh,
        ceiling: 1.0e7,
    },
    Metered {
        carrier: Carrier::NaturalGas,
        stored: Unit::M3,
        ceiling: 1.0e6,
    },
    Metered {
        carrier: Carrier::Heat,
        stored: Unit::Gj,
        ceiling: 3.6e4,
    },
    Metered {
        carrier: Carrier::Steam,
        stored: Unit::T,
        ceiling: 1.0e4,
    },
    Metered {
        carrier: Carrier::HotWater,
        stored: Unit::Gj,
        ceiling: 3.6e4,
    },
];

/// The metered carrier written as `raw` (key, Chinese name or alias) and its code, or `None` when
/// it is not a carrier or not one a meter measures.
pub fn metered(raw: &str) -> Option<(u8, &'static Metered)> {
    let carrier = Carrier::parse(raw)?;
    METERED
        .iter()
        .enumerate()
        .find(|(_, m)| m.carrier == carrier)
        .map(|(i, m)| (i as u8, m))
}

/// The metered carriers' keys, for messages.
pub fn metered_keys() -> String {
    METERED
        .iter()
        .map(|m| m.carrier.key())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Metered {
    /// The factor from `unit` to the stored unit, or `None` when the unit does not fit.
    ///
    /// The core table gives each (carrier, unit) a factor to an accounting unit; a unit with factor
    /// 1 is an accounting basis of its own (steam in t and steam in GJ are both factor 1 and do not
    /// convert into each other without an enthalpy). So a unit converts to the stored unit when both
    /// lead to the same basis, and the factor is the ratio of their factors.
    pub fn factor(&self, unit: Unit) -> Option<f64> {
        if unit == self.stored {
            return Some(1.0);
        }
        let to_basis = conversion(self.carrier, unit).ok()?;
        let stored_to_basis = conversion(self.carrier, self.stored).ok()?;
        if self.basis(unit, to_basis) != self.basis(self.stored, stored_to_basis) {
            return None;
        }
        Some(to_basis / stored_to_basis)
    }

    fn basis(&self, unit: Unit, factor: f64) -> Unit {
        if factor == 1.0 {
            unit
        } else {
            self.carrier.accounting_unit()
        }
    }

    /// The units this carrier may be written in, for messages.
    pub fn accepted_units(&self) -> String {
        self.carrier
            .units()
            .into_iter()
            .filter(|u| self.factor(*u).is_some())
            .map(|u| u.key())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn electricity_in_mwh_is_stored_in_kwh_and_gas_in_m3() {
        let (_, e) = metered("electricity").unwrap();
        assert_eq!(e.stored, Unit::Kwh);
        // 1 MWh = 1,000 kWh; the factor is 1 / 0.001 from the core table, exact in f64.
        assert_eq!(e.factor(Unit::Mwh), Some(1_000.0));
        assert_eq!(e.factor(Unit::M3), None);
        let (_, g) = metered("天然气").unwrap();
        assert_eq!(g.factor(Unit::TenThousandNm3), Some(10_000.0));
        assert_eq!(e.accepted_units(), "mwh, kwh");
    }

    #[test]
    fn steam_in_gj_does_not_convert_to_tonnes() {
        let (_, s) = metered("steam").unwrap();
        assert_eq!(s.factor(Unit::T), Some(1.0));
        assert_eq!(s.factor(Unit::Gj), None);
        assert_eq!(s.accepted_units(), "t");
    }

    #[test]
    fn every_stored_unit_is_accepted_and_fuels_are_not_metered() {
        for (i, m) in METERED.iter().enumerate() {
            assert_eq!(m.factor(m.stored), Some(1.0), "{}", m.carrier);
            assert_eq!(metered(m.carrier.key()).map(|(c, _)| c), Some(i as u8));
            assert!(gusu_core::carbon::conversion(m.carrier, m.stored).is_ok());
        }
        assert!(metered("coal").is_none());
        assert!(metered("diesel").is_none());
        assert_eq!(metered("电力").map(|(c, _)| c), Some(0));
    }
}
