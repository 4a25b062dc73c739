//! The facts a policy reads, by date: the enterprise's register entry and yearly figures, its
//! per-mu class, its designations, and the project's loan or investment. A fact is blank
//! (unknown) when gusu does not hold it; a blank fact makes what reads it unknown, never false.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// The type of a fact, checked when a document loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactType {
    Number,
    Text,
    Bool,
    Date,
    /// Designations, tested with `'key' in held` or `'key:level' in held`.
    Designations,
}

impl FactType {
    pub fn key(self) -> &'static str {
        match self {
            FactType::Number => "number",
            FactType::Text => "text",
            FactType::Bool => "bool",
            FactType::Date => "date",
            FactType::Designations => "designations",
        }
    }
}

/// Who a fact belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactOf {
    Enterprise,
    Project,
    /// The date decided on: the project's date, or the calculation's.
    Decision,
}

macro_rules! facts {
    ($($variant:ident $name:literal $ty:ident $of:ident $doc:literal,)*) => {
        /// A fact by number: a decision's facts are an array indexed by it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Fact { $($variant,)* }

        impl Fact {
            pub const ALL: &'static [Fact] = &[$(Fact::$variant,)*];
            pub fn name(self) -> &'static str { match self { $(Fact::$variant => $name,)* } }
            pub fn ty(self) -> FactType { match self { $(Fact::$variant => FactType::$ty,)* } }
            pub fn of(self) -> FactOf { match self { $(Fact::$variant => FactOf::$of,)* } }
            pub fn description(self) -> &'static str { match self { $(Fact::$variant => $doc,)* } }
        }
    };
}

facts! {
    Date "date" Date Decision "the date decided on: a project's loan (or filing) date, or the calculation date",
    District "district" Text Enterprise "the enterprise's district code (6 digits)",
    Division "division" Number Enterprise "the enterprise's GB/T 4754 division, as a number (13–43 is manufacturing)",
    Section "section" Text Enterprise "the enterprise's GB/T 4754 section letter (C is manufacturing)",
    Established "established" Date Enterprise "the enterprise's date of establishment",
    AboveScale "above_scale" Bool Enterprise "the enterprise is above designated size (规上)",
    Held "held" Designations Enterprise "designations held on the date, as `designation` and `designation:level` (e.g. 'zjtx:provincial')",
    NewDesignations "new_designations" Designations Enterprise "designations first recognised in the date's calendar year, on or before the date",
    ClassPrevYear "class_prev_year" Text Enterprise "the per-mu class (A–D) of the evaluation of the year before the date",
    RevenuePrev "revenue_prev_10k_yuan" Number Enterprise "revenue of the year before the date, 万元",
    TaxPaidPrev "tax_paid_prev_10k_yuan" Number Enterprise "tax paid in the year before the date, 万元",
    RdExpensePrev "rd_expense_prev_10k_yuan" Number Enterprise "R&D expense of the year before the date, 万元",
    EmployeesPrev "employees_prev" Number Enterprise "employees in the year before the date",
    NetAssetsPrev "net_assets_prev_10k_yuan" Number Enterprise "net assets at the end of the year before the date, 万元",
    ElectricityKwh "electricity_kwh" Number Enterprise "electricity used in the date's calendar year, kWh",
    EnergyTce "energy_tce" Number Enterprise "energy used in the date's calendar year, tce",
    Kind "kind" Text Project "the project's kind (new_build, expansion, smart_transformation, …)",
    Loan "loan_10k_yuan" Number Project "the project's loan, 万元",
    EquipmentLoan "equipment_loan_10k_yuan" Number Project "the equipment (and software) part of the loan, 万元",
    RateOverLpr "rate_over_lpr_bp" Number Project "the loan's rate above the LPR, basis points",
    Lpr "lpr_percent" Number Project "the LPR of the loan's period, percent a year",
    IsNew "is_new" Bool Project "the project is a new project",
    FixedAssetInvestment "fixed_asset_investment_10k_yuan" Number Project "the project's fixed-asset investment, 万元",
    EquipmentInvestment "equipment_investment_10k_yuan" Number Project "the project's equipment investment, 万元",
    CatalogueInvestment "catalogue_investment_10k_yuan" Number Project "the project's investment in catalogued smart equipment and software, 万元",
    StrategicIndustry "strategic_industry" Bool Project "the project is in an industry the policy names as strategic",
    FirstTime "first_time" Bool Project "the enterprise reaches the project's award tier for the first time",
    YearsSubsidised "years_subsidised" Number Project "years the enterprise has already received this support",
}

/// The number of facts.
pub const FACT_COUNT: usize = Fact::ALL.len();

impl Fact {
    pub fn from_name(name: &str) -> Option<Fact> {
        Fact::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// What gusu knows of an enterprise for the calculator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnterpriseFacts {
    pub uscc: String,
    pub district: String,
    /// GB/T 4754 division number (13–43 manufacturing).
    pub division: Option<u32>,
    pub established: Option<NaiveDate>,
    pub above_scale: Option<bool>,
    /// `None` when no designations are known at all (no file given): conditions on them are
    /// unknown. An enterprise absent from a given file holds none.
    pub designations: Option<Vec<Designation>>,
    /// Yearly facts, any order.
    pub years: Vec<YearFacts>,
}

/// An enterprise's facts of one calendar year; blanks are unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearFacts {
    pub year: i32,
    /// The per-mu class of that year's evaluation.
    pub class: Option<String>,
    pub revenue_10k_yuan: Option<f64>,
    pub tax_paid_10k_yuan: Option<f64>,
    pub rd_expense_10k_yuan: Option<f64>,
    pub employees: Option<f64>,
    pub net_assets_10k_yuan: Option<f64>,
    pub electricity_kwh: Option<f64>,
    pub energy_tce: Option<f64>,
}

/// A designation (专精特新, 小巨人, 高新技术企业 …) with its dates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Designation {
    pub designation: String,
    pub level: String,
    pub recognised: NaiveDate,
    pub expires: Option<NaiveDate>,
}

impl Designation {
    /// Holds on a date when recognised on or before it and not expired before it.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.recognised <= date && self.expires.is_none_or(|e| date <= e)
    }

    /// First recognised in the date's calendar year, on or before the date.
    pub fn new_on(&self, date: NaiveDate) -> bool {
        self.recognised <= date && self.recognised.year() == date.year()
    }

    fn is(&self, designation: &str, level: Option<&str>) -> bool {
        self.designation == designation && level.is_none_or(|l| self.level == l)
    }
}

/// A loan or investment project; blank cells are unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectFacts {
    pub project_id: String,
    pub uscc: String,
    pub kind: Option<String>,
    pub date: Option<NaiveDate>,
    pub loan_10k_yuan: Option<f64>,
    pub equipment_loan_10k_yuan: Option<f64>,
    pub rate_over_lpr_bp: Option<f64>,
    pub lpr_percent: Option<f64>,
    pub is_new: Option<bool>,
    pub fixed_asset_investment_10k_yuan: Option<f64>,
    pub equipment_investment_10k_yuan: Option<f64>,
    pub catalogue_investment_10k_yuan: Option<f64>,
    pub strategic_industry: Option<bool>,
    pub first_time: Option<bool>,
    pub years_subsidised: Option<f64>,
}

/// A fact's value as an expression sees it. Borrowed: building a decision's facts allocates
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Number(f64),
    Text(&'a str),
    Bool(bool),
    Date(NaiveDate),
    /// Known designations (the list is in the row).
    Designations,
}

impl Value<'_> {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// As a reader sees it in a trace.
    pub fn show(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Number(n) => crate::format::figure(*n),
            Value::Text(t) => (*t).to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Designations => "…".into(),
        }
    }
}

/// The facts of one decision: an enterprise (and project) on a date.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub date: NaiveDate,
    values: [Value<'a>; FACT_COUNT],
    designations: Option<&'a [Designation]>,
}

/// A section letter as text borrowed for the life of the program.
fn section_letter(c: char) -> &'static str {
    const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let i = (c as usize).wrapping_sub('A' as usize).min(25);
    &LETTERS[i..i + 1]
}

fn num(v: Option<f64>) -> Value<'static> {
    v.map_or(Value::Null, Value::Number)
}

impl<'a> Row<'a> {
    /// The enterprise's facts on `date` (project facts blank).
    pub fn enterprise(e: &'a EnterpriseFacts, date: NaiveDate) -> Row<'a> {
        let mut values = [Value::Null; FACT_COUNT];
        let year = date.year();
        let this = e.years.iter().find(|y| y.year == year);
        let prev = e.years.iter().find(|y| y.year == year - 1);
        let mut set = |f: Fact, v: Value<'a>| values[f as usize] = v;
        set(Fact::Date, Value::Date(date));
        set(Fact::District, Value::Text(&e.district));
        set(Fact::Division, num(e.division.map(f64::from)));
        set(
            Fact::Section,
            e.division
                .and_then(crate::industry::section_of_division)
                .map_or(Value::Null, |c| Value::Text(section_letter(c))),
        );
        set(
            Fact::Established,
            e.established.map_or(Value::Null, Value::Date),
        );
        set(
            Fact::AboveScale,
            e.above_scale.map_or(Value::Null, Value::Bool),
        );
        let known = if e.designations.is_some() {
            Value::Designations
        } else {
            Value::Null
        };
        set(Fact::Held, known);
        set(Fact::NewDesignations, known);
        set(
            Fact::ClassPrevYear,
            prev.and_then(|y| y.class.as_deref())
                .map_or(Value::Null, Value::Text),
        );
        set(
            Fact::RevenuePrev,
            num(prev.and_then(|y| y.revenue_10k_yuan)),
        );
        set(
            Fact::TaxPaidPrev,
            num(prev.and_then(|y| y.tax_paid_10k_yuan)),
        );
        set(
            Fact::RdExpensePrev,
            num(prev.and_then(|y| y.rd_expense_10k_yuan)),
        );
        set(Fact::EmployeesPrev, num(prev.and_then(|y| y.employees)));
        set(
            Fact::NetAssetsPrev,
            num(prev.and_then(|y| y.net_assets_10k_yuan)),
        );
        set(
            Fact::ElectricityKwh,
            num(this.and_then(|y| y.electricity_kwh)),
        );
        set(Fact::EnergyTce, num(this.and_then(|y| y.energy_tce)));
        Row {
            date,
            values,
            designations: e.designations.as_deref(),
        }
    }

    /// The project's and its enterprise's facts on the project's date.
    pub fn project(e: &'a EnterpriseFacts, p: &'a ProjectFacts, date: NaiveDate) -> Row<'a> {
        let mut row = Row::enterprise(e, date);
        let mut set = |f: Fact, v: Value<'a>| row.values[f as usize] = v;
        set(
            Fact::Kind,
            p.kind.as_deref().map_or(Value::Null, Value::Text),
        );
        set(Fact::Loan, num(p.loan_10k_yuan));
        set(Fact::EquipmentLoan, num(p.equipment_loan_10k_yuan));
        set(Fact::RateOverLpr, num(p.rate_over_lpr_bp));
        set(Fact::Lpr, num(p.lpr_percent));
        set(Fact::IsNew, p.is_new.map_or(Value::Null, Value::Bool));
        set(
            Fact::FixedAssetInvestment,
            num(p.fixed_asset_investment_10k_yuan),
        );
        set(
            Fact::EquipmentInvestment,
            num(p.equipment_investment_10k_yuan),
        );
        set(
            Fact::CatalogueInvestment,
            num(p.catalogue_investment_10k_yuan),
        );
        set(
            Fact::StrategicIndustry,
            p.strategic_industry.map_or(Value::Null, Value::Bool),
        );
        set(
            Fact::FirstTime,
            p.first_time.map_or(Value::Null, Value::Bool),
        );
        set(Fact::YearsSubsidised, num(p.years_subsidised));
        row
    }

    pub fn get(&self, fact: Fact) -> Value<'a> {
        self.values[fact as usize]
    }

    /// Whether the enterprise holds (or newly holds) a designation, at a level or any;
    /// `None` when its designations are unknown.
    pub fn has_designation(
        &self,
        set: Fact,
        designation: &str,
        level: Option<&str>,
    ) -> Option<bool> {
        let list = self.designations?;
        let date = self.date;
        Some(list.iter().any(|d| {
            d.is(designation, level)
                && if set == Fact::NewDesignations {
                    d.new_on(date)
                } else {
                    d.holds_on(date)
                }
        }))
    }

    /// A fact as shown in a trace; designations list those that count on the date.
    pub fn show(&self, fact: Fact) -> String {
        match (fact.ty(), self.designations) {
            (FactType::Designations, Some(list)) => {
                let names: Vec<String> = list
                    .iter()
                    .filter(|d| {
                        if fact == Fact::NewDesignations {
                            d.new_on(self.date)
                        } else {
                            d.holds_on(self.date)
                        }
                    })
                    .map(|d| format!("{}:{}", d.designation, d.level))
                    .collect();
                format!("[{}]", names.join(", "))
            }
            _ => self.get(fact).show(),
        }
    }
}

impl Serialize for Fact {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
