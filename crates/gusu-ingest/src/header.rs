//! Header rows: which interchange column each header cell names, and in which unit.
//!
//! A header cell is normalised (whitespace dropped, brackets made half-width, ASCII lower case,
//! `*` required-markers removed), split into a name and bracketed parts, and the name looked up
//! among the English keys and Chinese aliases. A bracketed unit converts values to the interchange
//! unit (`实缴税金(元)` → ÷ 10,000); other bracketed notes on columns without a unit are ignored
//! (`统一社会信用代码(18位)`).

use gusu_core::{Figure, Flag};

use crate::error::IngestError;

/// An interchange column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Uscc,
    Name,
    District,
    IndustryCode,
    Established,
    Year,
    Flag(Flag),
    /// A value column; `Figure::LandAreaMu` is the land column of both files.
    Figure(Figure),
    /// Energy files: the carrier, its quantity and unit, and steam enthalpy / hot-water temperature.
    Carrier,
    Quantity,
    Unit,
    Enthalpy,
    Temperature,
    /// Designations and projects files, the policy calculator's facts.
    Policy(PolicyColumn),
}

/// The columns of the designations and projects files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PolicyColumn {
    Designation,
    Level,
    Recognised,
    Expires,
    ProjectId,
    Kind,
    Date,
    Loan,
    EquipmentLoan,
    RateOverLprBp,
    IsNew,
    FixedAssetInvestment,
    EquipmentInvestment,
}

impl PolicyColumn {
    pub(crate) const ALL: [PolicyColumn; 13] = [
        PolicyColumn::Designation,
        PolicyColumn::Level,
        PolicyColumn::Recognised,
        PolicyColumn::Expires,
        PolicyColumn::ProjectId,
        PolicyColumn::Kind,
        PolicyColumn::Date,
        PolicyColumn::Loan,
        PolicyColumn::EquipmentLoan,
        PolicyColumn::RateOverLprBp,
        PolicyColumn::IsNew,
        PolicyColumn::FixedAssetInvestment,
        PolicyColumn::EquipmentInvestment,
    ];

    fn key(self) -> &'static str {
        match self {
            PolicyColumn::Designation => "designation",
            PolicyColumn::Level => "level",
            PolicyColumn::Recognised => "recognised",
            PolicyColumn::Expires => "expires",
            PolicyColumn::ProjectId => "project_id",
            PolicyColumn::Kind => "kind",
            PolicyColumn::Date => "date",
            PolicyColumn::Loan => "loan_10k_yuan",
            PolicyColumn::EquipmentLoan => "equipment_loan_10k_yuan",
            PolicyColumn::RateOverLprBp => "rate_over_lpr_bp",
            PolicyColumn::IsNew => "is_new",
            PolicyColumn::FixedAssetInvestment => "fixed_asset_investment_10k_yuan",
            PolicyColumn::EquipmentInvestment => "equipment_investment_10k_yuan",
        }
    }

    fn name_zh(self) -> &'static str {
        match self {
            PolicyColumn::Designation => "认定类型",
            PolicyColumn::Level => "认定级别",
            PolicyColumn::Recognised => "认定日期",
            PolicyColumn::Expires => "有效期至",
            PolicyColumn::ProjectId => "项目编号",
            PolicyColumn::Kind => "项目类型",
            PolicyColumn::Date => "贷款日期",
            PolicyColumn::Loan => "贷款金额",
            PolicyColumn::EquipmentLoan => "设备购置贷款",
            PolicyColumn::RateOverLprBp => "利率较LPR加点",
            PolicyColumn::IsNew => "是否新建项目",
            PolicyColumn::FixedAssetInvestment => "固定资产投资",
            PolicyColumn::EquipmentInvestment => "设备投资",
        }
    }

    fn is_money(self) -> bool {
        matches!(
            self,
            PolicyColumn::Loan
                | PolicyColumn::EquipmentLoan
                | PolicyColumn::FixedAssetInvestment
                | PolicyColumn::EquipmentInvestment
        )
    }
}

impl Column {
    pub(crate) const COUNT: usize =
        6 + Flag::ALL.len() + Figure::ALL.len() + ENERGY_COLUMNS.len() + PolicyColumn::ALL.len();

    pub(crate) const LAND: Column = Column::Figure(Figure::LandAreaMu);
    pub(crate) const ABOVE_SCALE: Column = Column::Flag(Flag::AboveScale);
    pub(crate) const EXEMPT: Column = Column::Flag(Flag::Exempt);

    fn index(self) -> usize {
        match self {
            Column::Uscc => 0,
            Column::Name => 1,
            Column::District => 2,
            Column::IndustryCode => 3,
            Column::Established => 4,
            Column::Year => 5,
            Column::Flag(f) => 6 + f as usize,
            Column::Figure(f) => 6 + Flag::ALL.len() + f as usize,
            Column::Carrier => 6 + Flag::ALL.len() + Figure::ALL.len(),
            Column::Quantity => 7 + Flag::ALL.len() + Figure::ALL.len(),
            Column::Unit => 8 + Flag::ALL.len() + Figure::ALL.len(),
            Column::Enthalpy => 9 + Flag::ALL.len() + Figure::ALL.len(),
            Column::Temperature => 10 + Flag::ALL.len() + Figure::ALL.len(),
            Column::Policy(c) => 11 + Flag::ALL.len() + Figure::ALL.len() + c as usize,
        }
    }

    /// Interchange column name.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Column::Uscc => "uscc",
            Column::Name => "name",
            Column::District => "district",
            Column::IndustryCode => "industry_code",
            Column::Established => "established",
            Column::Year => "year",
            Column::Flag(f) => f.key(),
            Column::Figure(f) => f.key(),
            Column::Carrier => "carrier",
            Column::Quantity => "quantity",
            Column::Unit => "unit",
            Column::Enthalpy => "enthalpy_kj_per_kg",
            Column::Temperature => "temperature_c",
            Column::Policy(c) => c.key(),
        }
    }

    /// The usual Chinese header.
    pub(crate) fn name_zh(self) -> &'static str {
        match self {
            Column::Uscc => "统一社会信用代码",
            Column::Name => "企业名称",
            Column::District => "所属区县",
            Column::IndustryCode => "行业代码",
            Column::Established => "成立日期",
            Column::Year => "年份",
            Column::Flag(Flag::AboveScale) => "是否规上",
            Column::Flag(Flag::Exempt) => "不参评",
            Column::Figure(f) => f.name_zh(),
            Column::Carrier => "能源品种",
            Column::Quantity => "数量",
            Column::Unit => "计量单位",
            Column::Enthalpy => "蒸汽焓值",
            Column::Temperature => "热水温度",
            Column::Policy(c) => c.name_zh(),
        }
    }

    fn all() -> impl Iterator<Item = Column> {
        [
            Column::Uscc,
            Column::Name,
            Column::District,
            Column::IndustryCode,
            Column::Established,
            Column::Year,
        ]
        .into_iter()
        .chain(Flag::ALL.into_iter().map(Column::Flag))
        .chain(Figure::ALL.into_iter().map(Column::Figure))
        .chain(ENERGY_COLUMNS)
        .chain(PolicyColumn::ALL.map(Column::Policy))
    }

    fn unit_kind(self) -> UnitKind {
        match self {
            Column::Figure(f) => match f {
                Figure::Revenue
                | Figure::MainRevenue
                | Figure::TaxPaid
                | Figure::ValueAdded
                | Figure::RdExpense => UnitKind::Money,
                Figure::EnergyTce | Figure::EnergyTceEquivalent => UnitKind::Energy,
                Figure::ElectricityKwh => UnitKind::Electricity,
                Figure::Cod | Figure::AmmoniaN | Figure::So2 | Figure::Nox => UnitKind::Mass,
                Figure::Employees => UnitKind::People,
                Figure::LandAreaMu => UnitKind::Land,
            },
            Column::Policy(c) if c.is_money() => UnitKind::Money,
            _ => UnitKind::None,
        }
    }
}

/// The columns of energy files only.
const ENERGY_COLUMNS: [Column; 5] = [
    Column::Carrier,
    Column::Quantity,
    Column::Unit,
    Column::Enthalpy,
    Column::Temperature,
];

/// Which interchange file is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Enterprises,
    Annual,
    Energy,
    /// Designations (专精特新, 小巨人 …) with level and dates, for the policy calculator.
    Designations,
    /// Loan and investment projects, for the policy calculator.
    Projects,
}

impl FileKind {
    /// Columns that identify the header row among the title rows above it.
    fn key_columns(self) -> &'static [Column] {
        match self {
            FileKind::Enterprises => &[Column::Uscc, Column::Name],
            FileKind::Annual => &[Column::Uscc, Column::Year],
            FileKind::Energy => &[Column::Uscc, Column::Carrier],
            FileKind::Designations => &[Column::Uscc, Column::Policy(PolicyColumn::Designation)],
            FileKind::Projects => &[Column::Uscc, Column::Policy(PolicyColumn::ProjectId)],
        }
    }

    /// Columns the header must have (cells may still be blank where the column is optional).
    pub(crate) fn required_columns(self) -> &'static [Column] {
        match self {
            FileKind::Enterprises => &[
                Column::Uscc,
                Column::Name,
                Column::District,
                Column::IndustryCode,
                Column::LAND,
                Column::ABOVE_SCALE,
                Column::Established,
            ],
            FileKind::Annual => &[Column::Uscc, Column::Year],
            FileKind::Energy => &[
                Column::Uscc,
                Column::Year,
                Column::Carrier,
                Column::Quantity,
                Column::Unit,
            ],
            FileKind::Designations => &[
                Column::Uscc,
                Column::Policy(PolicyColumn::Designation),
                Column::Policy(PolicyColumn::Level),
                Column::Policy(PolicyColumn::Recognised),
            ],
            FileKind::Projects => &[
                Column::Policy(PolicyColumn::ProjectId),
                Column::Uscc,
                Column::Policy(PolicyColumn::Kind),
                Column::Policy(PolicyColumn::Date),
            ],
        }
    }

    fn accepts(self, column: Column) -> bool {
        match self {
            FileKind::Enterprises => matches!(
                column,
                Column::Uscc
                    | Column::Name
                    | Column::District
                    | Column::IndustryCode
                    | Column::Established
                    | Column::Flag(_)
                    | Column::Figure(Figure::LandAreaMu)
            ),
            FileKind::Annual => {
                matches!(
                    column,
                    Column::Uscc | Column::Year | Column::Flag(_) | Column::Figure(_)
                )
            }
            FileKind::Energy => {
                matches!(column, Column::Uscc | Column::Year) || ENERGY_COLUMNS.contains(&column)
            }
            FileKind::Designations => matches!(
                column,
                Column::Uscc
                    | Column::Policy(
                        PolicyColumn::Designation
                            | PolicyColumn::Level
                            | PolicyColumn::Recognised
                            | PolicyColumn::Expires
                    )
            ),
            FileKind::Projects => matches!(
                column,
                Column::Uscc
                    | Column::Policy(
                        PolicyColumn::ProjectId
                            | PolicyColumn::Kind
                            | PolicyColumn::Date
                            | PolicyColumn::Loan
                            | PolicyColumn::EquipmentLoan
                            | PolicyColumn::RateOverLprBp
                            | PolicyColumn::IsNew
                            | PolicyColumn::FixedAssetInvestment
                            | PolicyColumn::EquipmentInvestment
                    )
            ),
        }
    }
}

/// A unit conversion: value × `mul` ÷ `div`. Division is kept separate so that 12345 元 becomes
/// exactly the `f64` nearest 1.2345 万元, the same as a file that wrote 1.2345 directly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    mul: f64,
    div: f64,
}

impl Scale {
    pub(crate) const ONE: Scale = Scale { mul: 1.0, div: 1.0 };

    const fn mul(mul: f64) -> Scale {
        Scale { mul, div: 1.0 }
    }

    const fn div(div: f64) -> Scale {
        Scale { mul: 1.0, div }
    }

    pub(crate) fn apply(self, v: f64) -> f64 {
        if self == Scale::ONE {
            v
        } else {
            v * self.mul / self.div
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitKind {
    None,
    Money,
    Energy,
    Electricity,
    Mass,
    Land,
    People,
}

/// Units accepted for each kind, normalised (lower case, no spaces), with their conversion to the
/// interchange unit. The first name of each row is the one messages show.
const UNITS: &[(UnitKind, &[&str], Scale)] = &[
    (UnitKind::Money, &["万元"], Scale::ONE),
    (UnitKind::Money, &["元"], Scale::div(10_000.0)),
    (UnitKind::Money, &["千元"], Scale::div(10.0)),
    (UnitKind::Money, &["亿元"], Scale::mul(10_000.0)),
    (
        UnitKind::Energy,
        &["吨标准煤", "吨标煤", "tce", "吨"],
        Scale::ONE,
    ),
    (
        UnitKind::Energy,
        &["万吨标准煤", "万吨标煤", "万tce"],
        Scale::mul(10_000.0),
    ),
    (
        UnitKind::Energy,
        &["千克标准煤", "kgce"],
        Scale::div(1_000.0),
    ),
    (
        UnitKind::Electricity,
        &["千瓦时", "kwh", "kw·h", "kw.h", "度"],
        Scale::ONE,
    ),
    (
        UnitKind::Electricity,
        &["万千瓦时", "万kwh", "万kw·h", "万度"],
        Scale::mul(10_000.0),
    ),
    (
        UnitKind::Electricity,
        &["兆瓦时", "mwh"],
        Scale::mul(1_000.0),
    ),
    (UnitKind::Mass, &["吨", "t"], Scale::ONE),
    (UnitKind::Mass, &["千克", "公斤", "kg"], Scale::div(1_000.0)),
    (UnitKind::Land, &["亩"], Scale::ONE),
    // 1 mu = 10,000 / 15 m².
    (
        UnitKind::Land,
        &["平方米", "m2", "m²", "㎡"],
        Scale {
            mul: 15.0,
            div: 10_000.0,
        },
    ),
    (UnitKind::Land, &["公顷"], Scale::mul(15.0)),
    (UnitKind::People, &["人"], Scale::ONE),
];

fn unit_scale(kind: UnitKind, unit: &str) -> Option<Scale> {
    UNITS
        .iter()
        .find(|(k, names, _)| *k == kind && names.contains(&unit))
        .map(|&(_, _, scale)| scale)
}

/// Chinese names (normalised) of each column, written without a unit.
const ALIASES: &[(&str, Column)] = &[
    ("统一社会信用代码", Column::Uscc),
    ("社会信用代码", Column::Uscc),
    ("信用代码", Column::Uscc),
    ("纳税人识别号", Column::Uscc),
    ("企业名称", Column::Name),
    ("单位名称", Column::Name),
    ("纳税人名称", Column::Name),
    ("所属区县", Column::District),
    ("区县", Column::District),
    ("所属地区", Column::District),
    ("所在区县", Column::District),
    ("所在地区", Column::District),
    ("行业代码", Column::IndustryCode),
    ("国民经济行业代码", Column::IndustryCode),
    ("国民经济行业分类代码", Column::IndustryCode),
    ("所属行业代码", Column::IndustryCode),
    ("用地面积", Column::LAND),
    ("占地面积", Column::LAND),
    ("土地面积", Column::LAND),
    ("是否规上", Column::ABOVE_SCALE),
    ("规模以上", Column::ABOVE_SCALE),
    ("是否规模以上", Column::ABOVE_SCALE),
    ("是否规上企业", Column::ABOVE_SCALE),
    ("成立日期", Column::Established),
    ("成立时间", Column::Established),
    ("不参评", Column::EXEMPT),
    ("是否不参评", Column::EXEMPT),
    ("年份", Column::Year),
    ("年度", Column::Year),
    ("所属期", Column::Year),
    ("税款所属期", Column::Year),
    ("所属年度", Column::Year),
    ("统计年度", Column::Year),
    ("数据年度", Column::Year),
    ("营业收入", Column::Figure(Figure::Revenue)),
    ("营业收入合计", Column::Figure(Figure::Revenue)),
    ("销售收入", Column::Figure(Figure::Revenue)),
    ("主营业务收入", Column::Figure(Figure::MainRevenue)),
    ("实缴税金", Column::Figure(Figure::TaxPaid)),
    ("税收实际贡献", Column::Figure(Figure::TaxPaid)),
    ("实缴税收", Column::Figure(Figure::TaxPaid)),
    ("实缴税额", Column::Figure(Figure::TaxPaid)),
    ("实缴税款", Column::Figure(Figure::TaxPaid)),
    ("入库税收", Column::Figure(Figure::TaxPaid)),
    ("入库税收合计", Column::Figure(Figure::TaxPaid)),
    ("税收合计", Column::Figure(Figure::TaxPaid)),
    ("实缴税金合计", Column::Figure(Figure::TaxPaid)),
    ("工业增加值", Column::Figure(Figure::ValueAdded)),
    ("综合能耗", Column::Figure(Figure::EnergyTce)),
    ("综合能耗当量值", Column::Figure(Figure::EnergyTce)),
    (
        "综合能耗等价值",
        Column::Figure(Figure::EnergyTceEquivalent),
    ),
    ("用电量", Column::Figure(Figure::ElectricityKwh)),
    ("全年用电量", Column::Figure(Figure::ElectricityKwh)),
    ("年用电量", Column::Figure(Figure::ElectricityKwh)),
    ("总用电量", Column::Figure(Figure::ElectricityKwh)),
    ("化学需氧量", Column::Figure(Figure::Cod)),
    ("化学需氧量排放量", Column::Figure(Figure::Cod)),
    ("cod", Column::Figure(Figure::Cod)),
    ("氨氮", Column::Figure(Figure::AmmoniaN)),
    ("氨氮排放量", Column::Figure(Figure::AmmoniaN)),
    ("二氧化硫", Column::Figure(Figure::So2)),
    ("二氧化硫排放量", Column::Figure(Figure::So2)),
    ("so2", Column::Figure(Figure::So2)),
    ("氮氧化物", Column::Figure(Figure::Nox)),
    ("氮氧化物排放量", Column::Figure(Figure::Nox)),
    ("nox", Column::Figure(Figure::Nox)),
    ("研发经费支出", Column::Figure(Figure::RdExpense)),
    ("研发经费", Column::Figure(Figure::RdExpense)),
    ("研发费用", Column::Figure(Figure::RdExpense)),
    ("年平均职工人数", Column::Figure(Figure::Employees)),
    ("能源品种", Column::Carrier),
    ("能源种类", Column::Carrier),
    ("能源名称", Column::Carrier),
    ("品种", Column::Carrier),
    ("数量", Column::Quantity),
    ("实物量", Column::Quantity),
    ("消费量", Column::Quantity),
    ("消费数量", Column::Quantity),
    ("计量单位", Column::Unit),
    ("单位", Column::Unit),
    ("蒸汽焓值", Column::Enthalpy),
    ("焓值", Column::Enthalpy),
    ("比焓", Column::Enthalpy),
    ("热水温度", Column::Temperature),
    ("温度", Column::Temperature),
    ("供水温度", Column::Temperature),
    ("从业人员平均人数", Column::Figure(Figure::Employees)),
    ("认定类型", Column::Policy(PolicyColumn::Designation)),
    ("资质类型", Column::Policy(PolicyColumn::Designation)),
    ("荣誉类型", Column::Policy(PolicyColumn::Designation)),
    ("认定名称", Column::Policy(PolicyColumn::Designation)),
    ("认定级别", Column::Policy(PolicyColumn::Level)),
    ("级别", Column::Policy(PolicyColumn::Level)),
    ("认定日期", Column::Policy(PolicyColumn::Recognised)),
    ("认定时间", Column::Policy(PolicyColumn::Recognised)),
    ("有效期至", Column::Policy(PolicyColumn::Expires)),
    ("到期日期", Column::Policy(PolicyColumn::Expires)),
    ("失效日期", Column::Policy(PolicyColumn::Expires)),
    ("项目编号", Column::Policy(PolicyColumn::ProjectId)),
    ("项目代码", Column::Policy(PolicyColumn::ProjectId)),
    ("项目类型", Column::Policy(PolicyColumn::Kind)),
    ("项目类别", Column::Policy(PolicyColumn::Kind)),
    ("贷款日期", Column::Policy(PolicyColumn::Date)),
    ("放款日期", Column::Policy(PolicyColumn::Date)),
    ("备案日期", Column::Policy(PolicyColumn::Date)),
    ("贷款金额", Column::Policy(PolicyColumn::Loan)),
    ("贷款额", Column::Policy(PolicyColumn::Loan)),
    ("设备购置贷款", Column::Policy(PolicyColumn::EquipmentLoan)),
    ("设备贷款", Column::Policy(PolicyColumn::EquipmentLoan)),
    (
        "设备购置部分贷款",
        Column::Policy(PolicyColumn::EquipmentLoan),
    ),
    ("利率较lpr加点", Column::Policy(PolicyColumn::RateOverLprBp)),
    ("较lpr加点", Column::Policy(PolicyColumn::RateOverLprBp)),
    ("是否新建项目", Column::Policy(PolicyColumn::IsNew)),
    ("是否新建", Column::Policy(PolicyColumn::IsNew)),
    (
        "固定资产投资",
        Column::Policy(PolicyColumn::FixedAssetInvestment),
    ),
    (
        "固定资产投资额",
        Column::Policy(PolicyColumn::FixedAssetInvestment),
    ),
    (
        "设备投资",
        Column::Policy(PolicyColumn::EquipmentInvestment),
    ),
    (
        "设备投资额",
        Column::Policy(PolicyColumn::EquipmentInvestment),
    ),
    ("年均职工人数", Column::Figure(Figure::Employees)),
];

/// What one header cell says.
#[derive(Debug, Clone, PartialEq)]
enum HeaderCell {
    Blank,
    /// A column, with the unit conversion its header wrote (`None`: no unit written, so a unit
    /// stated for the whole sheet applies).
    Column(Column, Option<Scale>),
    /// A known column name with a unit that is not understood.
    UnknownUnit(Column, String),
    Unknown,
}

fn normalise(raw: &str) -> String {
    let s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '：' => ':',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let s = s.trim_matches(['*', '＊']);
    // "综合能耗(等价值)" names a column; the bracket is not a unit.
    s.replace("(等价值)", "等价值")
        .replace("(当量值)", "当量值")
}

/// Splits `name(part)(part)` into the name and the bracketed parts.
fn split_brackets(s: &str) -> (String, Vec<&str>) {
    let mut name = String::with_capacity(s.len());
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('(') {
        let Some(close) = rest[open..].find(')') else {
            break;
        };
        name.push_str(&rest[..open]);
        parts.push(&rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    name.push_str(rest);
    (name, parts)
}

fn classify(raw: &str) -> HeaderCell {
    let norm = normalise(raw);
    if norm.is_empty() {
        return HeaderCell::Blank;
    }
    if let Some(column) = Column::all().find(|c| c.key() == norm) {
        // The interchange keys carry their unit in the name (`revenue_10k_yuan`).
        return HeaderCell::Column(column, Some(Scale::ONE));
    }
    let (name, parts) = split_brackets(&norm);
    let Some(&(_, column)) = ALIASES.iter().find(|(alias, _)| *alias == name) else {
        return HeaderCell::Unknown;
    };
    let kind = column.unit_kind();
    if kind == UnitKind::None {
        return HeaderCell::Column(column, Some(Scale::ONE));
    }
    let mut scale = None;
    for part in parts {
        let unit = part.strip_prefix("单位:").unwrap_or(part);
        match unit_scale(kind, unit) {
            Some(s) => scale = Some(s),
            None => return HeaderCell::UnknownUnit(column, unit.to_string()),
        }
    }
    HeaderCell::Column(column, scale)
}

/// True when a unit written in a cell after its number (`350.5万元`, `12万`, `8亩`) is the unit
/// the column is read in: the figure is then the number. Any other unit in a cell is an error,
/// never converted silently.
pub(crate) fn cell_unit_fits(column: Column, scale: Scale, unit: &str) -> bool {
    let kind = column.unit_kind();
    let unit = unit.trim().to_lowercase();
    let unit = match (kind, unit.as_str()) {
        (UnitKind::Money, "万") => "万元",
        (_, u) => u,
    };
    unit_scale(kind, unit) == Some(scale)
}

/// The units accepted for a column, for the message when its header names another.
fn accepted_units(column: Column) -> Vec<String> {
    let kind = column.unit_kind();
    UNITS
        .iter()
        .filter(|(k, ..)| *k == kind)
        .map(|(_, names, _)| names[0].to_string())
        .collect()
}

/// The first bracketed part of a header that is a unit of some column: the unit of a group
/// header ("主要经济指标（万元）") or of a sheet ("金额单位：元").
fn unit_in(text: &str) -> Option<String> {
    let norm = normalise(text);
    let (_, parts) = split_brackets(&norm);
    parts
        .into_iter()
        .map(|p| p.strip_prefix("单位:").unwrap_or(p).to_string())
        .find(|u| is_unit(u))
}

fn is_unit(unit: &str) -> bool {
    UNITS.iter().any(|(_, names, _)| names.contains(&unit))
}

/// A unit stated once for the whole sheet, in a title or note row above the header:
/// "单位：元", "金额单位：万元", "（单位：万元）" at the end of a title.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SheetUnit {
    /// The unit as written, normalised (`元`).
    pub(crate) unit: String,
    /// Only money columns ("金额单位").
    money_only: bool,
    /// The row that states it.
    pub(crate) row: u64,
    /// The columns it was applied to (their headers), filled in by the layout.
    pub(crate) applied_to: Vec<String>,
}

impl SheetUnit {
    /// Finds the statement in one row's cells.
    pub(crate) fn find(row: u64, cells: &[String]) -> Option<SheetUnit> {
        cells.iter().find_map(|cell| {
            let norm = normalise(cell);
            let at = norm.find("单位:")?;
            let before = &norm[..at];
            let rest = &norm[at + "单位:".len()..];
            let unit: String = rest
                .chars()
                .take_while(|c| !matches!(c, ')' | ',' | ';' | '，' | '；' | '、'))
                .collect();
            is_unit(&unit).then(|| SheetUnit {
                unit,
                money_only: before.ends_with("金额"),
                row,
                applied_to: Vec::new(),
            })
        })
    }

    fn scale_for(&self, column: Column) -> Option<Scale> {
        let kind = column.unit_kind();
        if self.money_only && kind != UnitKind::Money {
            return None;
        }
        unit_scale(kind, &self.unit)
    }
}

/// Why a row under the header was not read as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkippedRow {
    /// 合计, 总计, 小计.
    Total,
    /// 制表人：…, 注：…
    Note,
}

/// A header written over two rows, read as one: each column's name is the nearest non-empty
/// cell above its data (the lower row, or the upper one where the lower is blank because the
/// upper cell is merged down over both), and a group header over several columns
/// ("主要经济指标（万元）") gives its unit to the columns under it that state none.
#[derive(Debug, Clone)]
pub(crate) struct TwoRowHeader {
    /// The combined header text of each column.
    pub(crate) cells: Vec<String>,
    /// For each column under a group that states a unit, the group's text.
    groups_with_unit: Vec<Option<String>>,
}

impl TwoRowHeader {
    /// `top` is the upper header row, `bottom` the lower. In a workbook, merged cells are
    /// already copied over their whole area; in text files a group's text stands in its first
    /// column only, so it is carried right over the following blank cells that have a name below.
    pub(crate) fn combine(top: &[String], bottom: &[String]) -> TwoRowHeader {
        let width = top.len().max(bottom.len());
        let at = |row: &[String], i: usize| row.get(i).map_or("", |s| s.trim()).to_string();
        let mut upper: Vec<String> = (0..width).map(|i| at(top, i)).collect();
        let lower: Vec<String> = (0..width).map(|i| at(bottom, i)).collect();
        for i in 1..width {
            if upper[i].is_empty() && !lower[i].is_empty() && !lower[i - 1].is_empty() {
                upper[i] = upper[i - 1].clone();
            }
        }
        let mut cells = Vec::with_capacity(width);
        let mut groups_with_unit = Vec::with_capacity(width);
        for (up, low) in upper.into_iter().zip(lower) {
            if low.is_empty() || low == up {
                cells.push(up);
                groups_with_unit.push(None);
                continue;
            }
            let group_unit = if up.is_empty() { None } else { unit_in(&up) };
            let text = match &group_unit {
                Some(unit) if unit_in(&low).is_none() => format!("{low}({unit})"),
                _ => low.clone(),
            };
            cells.push(text);
            groups_with_unit.push(group_unit.map(|_| up));
        }
        TwoRowHeader {
            cells,
            groups_with_unit,
        }
    }

    /// True when `row` reads as the lower half of a header: one of its cells names a column.
    /// Data rows hold values, never column names.
    pub(crate) fn is_lower_row(row: &[String]) -> bool {
        row.iter().any(|c| {
            matches!(
                classify(c),
                HeaderCell::Column(..) | HeaderCell::UnknownUnit(..)
            )
        })
    }
}

/// Where each interchange column sits in the file, and what the header row said.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The header cells as written.
    pub(crate) header: Vec<String>,
    slots: [Option<(usize, Scale)>; Column::COUNT],
    /// Header cells that name no column this file uses.
    pub(crate) ignored: Vec<String>,
    /// The unit stated for the whole sheet, and the columns it was applied to.
    pub(crate) sheet_unit: Option<SheetUnit>,
    /// Rows under the header skipped as total or note rows, with their numbers.
    pub(crate) skipped_rows: Vec<(u64, SkippedRow)>,
    /// Fields of the header row as read, and how many remain once trailing blank cells are
    /// dropped: a CSV data row must have between the two, or its cells have shifted.
    pub(crate) field_count: usize,
    pub(crate) used_field_count: usize,
}

impl Layout {
    /// Reads a header (one row, or two combined), with the sheet's unit if stated: `Ok(None)`
    /// when the cells do not name the key columns, an error when they do but a column is
    /// doubled, missing, in a unit gusu does not convert, or (under a group that states a unit)
    /// not a figure gusu knows.
    pub(crate) fn from_header(
        row: u64,
        cells: Vec<String>,
        two_rows: Option<&TwoRowHeader>,
        sheet_unit: Option<SheetUnit>,
        kind: FileKind,
        file: &str,
    ) -> Result<Option<Layout>, IngestError> {
        if !names_key_columns(&cells, kind) {
            return Ok(None);
        }
        let classes: Vec<HeaderCell> = cells.iter().map(|c| classify(c)).collect();
        let mut layout = Layout {
            header: Vec::new(),
            slots: [None; Column::COUNT],
            ignored: Vec::new(),
            sheet_unit,
            skipped_rows: Vec::new(),
            field_count: cells.len(),
            used_field_count: 0,
        };
        for (i, class) in classes.into_iter().enumerate() {
            match class {
                HeaderCell::Blank => {}
                HeaderCell::Column(column, written) if kind.accepts(column) => {
                    let slot = &mut layout.slots[column.index()];
                    if let Some((first, _)) = *slot {
                        return Err(IngestError::DuplicateColumn {
                            file: file.to_string(),
                            column: column.key().to_string(),
                            first: cells[first].clone(),
                            second: cells[i].clone(),
                            row,
                        });
                    }
                    let from_sheet = match (written, &mut layout.sheet_unit) {
                        (None, Some(unit)) => unit.scale_for(column).inspect(|_| {
                            unit.applied_to.push(cells[i].trim().to_string());
                        }),
                        _ => None,
                    };
                    *slot = Some((i, written.or(from_sheet).unwrap_or(Scale::ONE)));
                }
                HeaderCell::UnknownUnit(column, unit) if kind.accepts(column) => {
                    return Err(IngestError::UnknownUnit {
                        file: file.to_string(),
                        header: cells[i].trim().to_string(),
                        unit,
                        accepted: accepted_units(column),
                        row,
                    });
                }
                HeaderCell::Unknown => {
                    if let Some(group) = two_rows.and_then(|h| h.groups_with_unit[i].as_ref()) {
                        return Err(IngestError::UnplacedColumn {
                            file: file.to_string(),
                            group: group.clone(),
                            header: cells[i].trim().to_string(),
                            row,
                        });
                    }
                    layout.ignored.push(cells[i].trim().to_string());
                }
                _ => layout.ignored.push(cells[i].trim().to_string()),
            }
        }
        if let Some(&missing) = kind.required_columns().iter().find(|&&c| !layout.has(c)) {
            return Err(IngestError::MissingColumn {
                file: file.to_string(),
                column: missing.key().to_string(),
                column_zh: missing.name_zh().to_string(),
                row,
            });
        }
        if kind == FileKind::Annual && layout.figures().is_empty() && layout.flags().is_empty() {
            return Err(IngestError::NoValueColumns {
                file: file.to_string(),
                ignored: cells
                    .iter()
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect(),
                row,
            });
        }
        layout.header = cells;
        // A sheet's used range can be wider than its header.
        while layout.header.last().is_some_and(|h| h.trim().is_empty()) {
            layout.header.pop();
        }
        layout.used_field_count = layout.header.len();
        Ok(Some(layout))
    }

    pub(crate) fn slot(&self, column: Column) -> Option<(usize, Scale)> {
        self.slots[column.index()]
    }

    /// Positions of the columns this file uses.
    pub(crate) fn used_positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().flatten().map(|(i, _)| *i)
    }

    pub(crate) fn has(&self, column: Column) -> bool {
        self.slot(column).is_some()
    }

    /// Value columns present (the `land_area_mu` override included), in file order.
    pub(crate) fn figures(&self) -> Vec<Figure> {
        self.in_file_order(Figure::ALL.map(Column::Figure))
            .into_iter()
            .filter_map(|c| match c {
                Column::Figure(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    /// Override flag columns present, in file order.
    pub(crate) fn flags(&self) -> Vec<Flag> {
        self.in_file_order(Flag::ALL.map(Column::Flag))
            .into_iter()
            .filter_map(|c| match c {
                Column::Flag(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    fn in_file_order<const N: usize>(&self, columns: [Column; N]) -> Vec<Column> {
        let mut present: Vec<(usize, Column)> = columns
            .into_iter()
            .filter_map(|c| self.slot(c).map(|(i, _)| (i, c)))
            .collect();
        present.sort_by_key(|(i, _)| *i);
        present.into_iter().map(|(_, c)| c).collect()
    }
}

/// True when the cells name every key column of the file kind: the row is (part of) the header.
pub(crate) fn names_key_columns(cells: &[String], kind: FileKind) -> bool {
    let classes: Vec<HeaderCell> = cells.iter().map(|c| classify(c)).collect();
    kind.key_columns().iter().all(|&column| {
        classes
            .iter()
            .any(|h| matches!(h, HeaderCell::Column(c, _) if *c == column))
    })
}

/// The key columns, for the "no header row" message.
pub(crate) fn key_column_names(kind: FileKind) -> Vec<String> {
    kind.key_columns()
        .iter()
        .map(|c| format!("{} ({})", c.key(), c.name_zh()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(raw: &str) -> Option<(Column, Scale)> {
        match classify(raw) {
            HeaderCell::Column(c, s) => Some((c, s.unwrap_or(Scale::ONE))),
            _ => None,
        }
    }

    #[test]
    fn headers_in_both_languages() {
        assert_eq!(column(" USCC ").unwrap().0, Column::Uscc);
        assert_eq!(column("统一社会信用代码（18位）").unwrap().0, Column::Uscc);
        assert_eq!(column("*企业名称").unwrap().0, Column::Name);
        assert_eq!(
            column("营业收入（万元）").unwrap(),
            (Column::Figure(Figure::Revenue), Scale::ONE)
        );
        assert_eq!(column("实缴税金(元)").unwrap().1.apply(12345.0), 1.2345);
        assert_eq!(column("用电量(万千瓦时)").unwrap().1.apply(1.5), 15_000.0);
        assert_eq!(
            column("综合能耗(等价值)(吨标准煤)").unwrap().0,
            Column::Figure(Figure::EnergyTceEquivalent)
        );
        assert_eq!(
            column("综合能耗").unwrap().0,
            Column::Figure(Figure::EnergyTce)
        );
        assert_eq!(
            classify("营业收入(美元)"),
            HeaderCell::UnknownUnit(Column::Figure(Figure::Revenue), "美元".into())
        );
        assert_eq!(classify("备注"), HeaderCell::Unknown);
    }
}
