//! Energy and carbon accounting (issue 4; GB/T 32150-2015, the NDRC sector guides, the MEE/NBS grid
//! factors, GB/T 2589-2020 and Zhejiang's 碳效 grade: docs/sources.md), with no I/O.
//!
//! - [`units`]: the carriers and units of energy files, and the one conversion table.
//! - [`factors`]: factor rule documents (`rules/factors/*.toml`, embedded) and the
//!   [`FactorLibrary`] that selects rows by carrier, year, scope and basis.
//! - [`account`]: an enterprise's lines into scope 1, scope 2, exported, total, biomass and its
//!   comprehensive energy consumption on the 当量值 and 等价值 bases, naming every factor row used.
//! - [`efficiency`]: the carbon-efficiency level and grade.
//! - [`intensity`]: energy intensity (tce per 万元 of value added) by level, its changes, targets.
//! - [`ledger`]: many enterprises' accounts and grades for a year, and what a city, district or
//!   division adds up to (totals by scope, grade distribution, top emitters).
//! - [`nzc`]: the near-zero-carbon factory assessment against dated criteria documents.
//! - [`nzc_application`]: the application's route, enterprise → district → city.

pub mod account;
pub mod efficiency;
pub mod factors;
pub mod intensity;
pub mod ledger;
pub mod nzc;
pub mod nzc_application;
pub mod units;

pub use account::{
    CarbonAccount, CarbonError, EnergyLine, GridChoice, GridFactor, LineError, Method, Settings,
    resolve_grid,
};
pub use efficiency::{Efficiency, EfficiencyInput, PeerArea, grade};
pub use factors::{FactorError, FactorLibrary, GridBasis, GridScope, LocationRow};
pub use units::{Carrier, Unit, UnitMisfit, conversion};

#[cfg(test)]
mod tests;
