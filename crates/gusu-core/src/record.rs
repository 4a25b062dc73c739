//! Enterprises and their yearly figures, with units.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::uscc::Uscc;

/// A numeric figure of a yearly record. The key is the interchange column name and carries the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Revenue,
    MainRevenue,
    TaxPaid,
    ValueAdded,
    EnergyTce,
    EnergyTceEquivalent,
    ElectricityKwh,
    Cod,
    AmmoniaN,
    So2,
    Nox,
    RdExpense,
    Employees,
    /// Only as a yearly override of the enterprise's land area.
    LandAreaMu,
}

impl Figure {
    pub const ALL: [Figure; 14] = [
        Figure::Revenue,
        Figure::MainRevenue,
        Figure::TaxPaid,
        Figure::ValueAdded,
        Figure::EnergyTce,
        Figure::EnergyTceEquivalent,
        Figure::ElectricityKwh,
        Figure::Cod,
        Figure::AmmoniaN,
        Figure::So2,
        Figure::Nox,
        Figure::RdExpense,
        Figure::Employees,
        Figure::LandAreaMu,
    ];

    /// Interchange column name.
    pub fn key(self) -> &'static str {
        match self {
            Figure::Revenue => "revenue_10k_yuan",
            Figure::MainRevenue => "main_revenue_10k_yuan",
            Figure::TaxPaid => "tax_paid_10k_yuan",
            Figure::ValueAdded => "value_added_10k_yuan",
            Figure::EnergyTce => "energy_tce",
            Figure::EnergyTceEquivalent => "energy_tce_equivalent",
            Figure::ElectricityKwh => "electricity_kwh",
            Figure::Cod => "cod_t",
            Figure::AmmoniaN => "ammonia_n_t",
            Figure::So2 => "so2_t",
            Figure::Nox => "nox_t",
            Figure::RdExpense => "rd_expense_10k_yuan",
            Figure::Employees => "employees",
            Figure::LandAreaMu => "land_area_mu",
        }
    }

    pub fn from_key(key: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.key() == key)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Figure::Revenue => "营业收入",
            Figure::MainRevenue => "主营业务收入",
            Figure::TaxPaid => "实缴税金",
            Figure::ValueAdded => "工业增加值",
            Figure::EnergyTce => "综合能耗(当量值)",
            Figure::EnergyTceEquivalent => "综合能耗(等价值)",
            Figure::ElectricityKwh => "用电量",
            Figure::Cod => "化学需氧量",
            Figure::AmmoniaN => "氨氮",
            Figure::So2 => "二氧化硫",
            Figure::Nox => "氮氧化物",
            Figure::RdExpense => "研发经费支出",
            Figure::Employees => "年平均职工人数",
            Figure::LandAreaMu => "用地面积",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Figure::Revenue => "revenue",
            Figure::MainRevenue => "main business revenue",
            Figure::TaxPaid => "tax paid",
            Figure::ValueAdded => "industrial value added",
            Figure::EnergyTce => "energy consumption (calorific basis)",
            Figure::EnergyTceEquivalent => "energy consumption (equivalent basis)",
            Figure::ElectricityKwh => "electricity used",
            Figure::Cod => "COD",
            Figure::AmmoniaN => "ammonia nitrogen",
            Figure::So2 => "SO2",
            Figure::Nox => "NOx",
            Figure::RdExpense => "R&D expense",
            Figure::Employees => "average employees",
            Figure::LandAreaMu => "land area",
        }
    }

    /// Unit as written in reports.
    pub fn unit(self) -> &'static str {
        match self {
            Figure::Revenue
            | Figure::MainRevenue
            | Figure::TaxPaid
            | Figure::ValueAdded
            | Figure::RdExpense => "万元",
            Figure::EnergyTce | Figure::EnergyTceEquivalent => "tce",
            Figure::ElectricityKwh => "kWh",
            Figure::Cod | Figure::AmmoniaN | Figure::So2 | Figure::Nox => "t",
            Figure::Employees => "人",
            Figure::LandAreaMu => "亩",
        }
    }

    /// The department whose value wins by default when several send one (DESIGN principle 3).
    pub fn default_source(self) -> &'static str {
        match self {
            Figure::TaxPaid => "tax",
            Figure::Revenue
            | Figure::MainRevenue
            | Figure::ValueAdded
            | Figure::EnergyTce
            | Figure::EnergyTceEquivalent
            | Figure::RdExpense
            | Figure::Employees => "stats",
            Figure::ElectricityKwh => "power",
            Figure::Cod | Figure::AmmoniaN | Figure::So2 | Figure::Nox => "environment",
            Figure::LandAreaMu => "land",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The numeric figures of one enterprise and year; `None` is a blank (missing), `Some(0.0)` a value.
///
/// Stored as 14 `f64` with NaN marking a blank (half the size of `Option<f64>`; a city has millions
/// of records). A NaN is never a value: importers reject it, and `set(f, Some(NaN))` stores a blank.
#[derive(Debug, Clone, Copy)]
pub struct Figures([f64; 14]);

impl Default for Figures {
    fn default() -> Figures {
        Figures([f64::NAN; 14])
    }
}

impl PartialEq for Figures {
    fn eq(&self, other: &Figures) -> bool {
        Figure::ALL.into_iter().all(|f| self.get(f) == other.get(f))
    }
}

impl Serialize for Figures {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let as_options: [Option<f64>; 14] = Figure::ALL.map(|f| self.get(f));
        as_options.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Figures {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Figures, D::Error> {
        let as_options = <[Option<f64>; 14]>::deserialize(deserializer)?;
        let mut f = Figures::default();
        for (figure, value) in Figure::ALL.into_iter().zip(as_options) {
            f.set(figure, value);
        }
        Ok(f)
    }
}

impl Figures {
    pub fn get(&self, figure: Figure) -> Option<f64> {
        let v = self.0[figure.index()];
        (!v.is_nan()).then_some(v)
    }

    pub fn set(&mut self, figure: Figure, value: Option<f64>) {
        self.0[figure.index()] = value.unwrap_or(f64::NAN);
    }

    pub fn with(mut self, figure: Figure, value: f64) -> Figures {
        self.set(figure, Some(value));
        self
    }

    /// The figures that are present.
    pub fn present(&self) -> impl Iterator<Item = (Figure, f64)> + '_ {
        Figure::ALL
            .into_iter()
            .filter_map(|f| self.get(f).map(|v| (f, v)))
    }
}

/// A yes/no attribute that a yearly record may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    AboveScale,
    Exempt,
}

impl Flag {
    pub const ALL: [Flag; 2] = [Flag::AboveScale, Flag::Exempt];

    pub fn key(self) -> &'static str {
        match self {
            Flag::AboveScale => "above_scale",
            Flag::Exempt => "exempt",
        }
    }

    pub fn default_source(self) -> &'static str {
        match self {
            Flag::AboveScale => "stats",
            Flag::Exempt => "bureau",
        }
    }
}

/// An enterprise as the enterprises file describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enterprise {
    pub uscc: Uscc,
    pub name: String,
    /// District code (6 digits) from the region set.
    pub district: String,
    /// Industry code as normalised (2-4 digits).
    pub industry_code: String,
    /// Two-digit GB/T 4754 division.
    pub division: String,
    /// Land in mu; holds for every year unless a yearly record overrides it.
    pub land_area_mu: Option<f64>,
    pub above_scale: bool,
    pub established: NaiveDate,
    pub exempt: bool,
}

/// One enterprise's figures for one year, with its optional overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearlyRecord {
    pub uscc: Uscc,
    pub year: i32,
    pub figures: Figures,
    pub above_scale: Option<bool>,
    pub exempt: Option<bool>,
}

impl YearlyRecord {
    pub fn new(uscc: Uscc, year: i32) -> YearlyRecord {
        YearlyRecord {
            uscc,
            year,
            figures: Figures::default(),
            above_scale: None,
            exempt: None,
        }
    }

    pub fn flag(&self, flag: Flag) -> Option<bool> {
        match flag {
            Flag::AboveScale => self.above_scale,
            Flag::Exempt => self.exempt,
        }
    }

    pub fn set_flag(&mut self, flag: Flag, value: Option<bool>) {
        match flag {
            Flag::AboveScale => self.above_scale = value,
            Flag::Exempt => self.exempt = value,
        }
    }
}

/// An enterprise as seen in one year: its attributes with the year's overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseYear<'a> {
    pub enterprise: &'a Enterprise,
    /// `None` when there is no yearly record for the year.
    pub figures: Option<&'a Figures>,
    pub land_area_mu: Option<f64>,
    pub above_scale: bool,
    pub exempt: bool,
}

impl<'a> EnterpriseYear<'a> {
    pub fn new(enterprise: &'a Enterprise, record: Option<&'a YearlyRecord>) -> EnterpriseYear<'a> {
        let land_override = record.and_then(|r| r.figures.get(Figure::LandAreaMu));
        EnterpriseYear {
            enterprise,
            figures: record.map(|r| &r.figures),
            land_area_mu: land_override.or(enterprise.land_area_mu),
            above_scale: record
                .and_then(|r| r.above_scale)
                .unwrap_or(enterprise.above_scale),
            exempt: record.and_then(|r| r.exempt).unwrap_or(enterprise.exempt),
        }
    }

    pub fn figure(&self, figure: Figure) -> Option<f64> {
        if figure == Figure::LandAreaMu {
            return self.land_area_mu;
        }
        self.figures.and_then(|f| f.get(figure))
    }
}
