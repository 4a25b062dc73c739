//! Command-line definitions: the single source of the help text. Help is written in Chinese here and
//! translated to English by `english()` when `--lang en` or `GUSU_LANG=en`.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::i18n::Lang;

/// gusu（姑苏）：工业企业亩均效益综合评价、数据归集与分析平台
#[derive(Debug, Parser)]
#[command(name = "gusu", version, disable_help_subcommand = true)]
#[command(after_help = "退出码：0 成功；1 数据错误；2 用法或配置错误")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// 界面语言：zh（默认）或 en
    #[arg(long, global = true, value_name = "LANG")]
    pub lang: Option<String>,
    /// 数据库文件（SQLite）
    #[arg(long, global = true, env = "GUSU_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// 规则目录：其中的评价方案补充或覆盖内置方案
    #[arg(long, global = true, env = "GUSU_RULES", value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// 区县设置文件（TOML），默认苏州市 10 个县级区域
    #[arg(long, global = true, env = "GUSU_REGIONS", value_name = "FILE")]
    pub regions: Option<PathBuf>,
    /// 配置文件（TOML；默认当前目录的 gusu.toml），可用 GUSU__节__键 环境变量覆盖
    #[arg(long, global = true, env = "GUSU_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 校验部门数据文件（CSV/XLSX），报告每个问题的行、列、值与原因
    Validate(ValidateArgs),
    /// 评价：给出文件时直接从文件评价；否则对数据库中的数据评价并保存结果
    Evaluate(EvaluateArgs),
    /// 初始化数据库
    Init,
    /// 导入一个部门数据文件到数据库（全部校验通过后在一个事务内写入）
    Import(ImportArgs),
    /// 查询已保存的评价结果
    Results(ResultsArgs),
    /// 解释一家企业的评价结果，并给出升一档所需的最小单项改变
    Explain(ExplainArgs),
    /// 用另一方案评价同一数据，给出类别迁移矩阵
    Simulate(SimulateArgs),
    /// 评价方案：列出、检查、运行方案自带的测试用例
    Rules(RulesArgs),
    /// 在线备份数据库到文件
    Backup(BackupArgs),
    /// 生成演示城市（苏州类）并导入、评价、汇总
    Demo(DemoArgs),
    /// 账号管理：新增、列出、停用、启用、重置密码
    User(UserArgs),
    /// 查看审计日志（只读，只增不改）
    Audit(AuditArgs),
    /// 启动网络服务（JSON API）
    Serve(ServeArgs),
    /// 脚本用的 API 令牌：创建（只显示一次）、列出、吊销
    Token(TokenArgs),
    /// 能耗与碳排放核算（GB/T 32150、GB/T 2589）及碳效等级：直接从文件计算
    Carbon(CarbonArgs),
    /// 近零碳工厂评价：按评价标准逐条判断证明材料（达到、未达到、缺少材料）
    Nzc(NzcArgs),
    /// 计量读数：导入按年月分区的 Parquet 数据集，按月或按年汇总
    Readings(ReadingsArgs),
    /// 能耗与碳排放（数据库）：每家企业的碳排放核算、碳效等级与能耗强度，全市、区县、行业的强度对照目标
    Energy(EnergyArgs),
    /// 政策计算器：政策文件的列出、检查、测试，以及从文件计算每个项目可享受的政策与金额
    Policy(PolicyArgs),
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub action: PolicyAction,
}

#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// 列出政策及其版本
    List,
    /// 检查政策文件（未知字段、日期、事实与参数引用），报告文件与行号
    Check {
        /// 政策文件（TOML）；不给出时检查内置政策
        files: Vec<PathBuf>,
    },
    /// 运行每个政策文件自带的测试用例
    Test {
        /// 政策文件（TOML）；不给出时测试内置政策
        files: Vec<PathBuf>,
    },
    /// 从文件计算：每个项目、每项项目类政策的资格与金额（万元）
    Calculate(PolicyCalculateArgs),
    /// 显示一项政策：版本、条件及条款、参数（按日期）、金额、叠加规则、申报材料
    Show {
        /// 政策 id
        id: String,
    },
    /// 数据库中一家企业适用的政策：每项政策、每个项目的结果、金额与理由
    Match {
        /// 统一社会信用代码
        #[arg(long, value_name = "USCC")]
        uscc: String,
        /// 计算日期（YYYY-MM-DD），默认今天
        #[arg(long, value_name = "D")]
        date: Option<String>,
    },
    /// 在全市数据上模拟一份政策草案：符合条件的企业、所需资金、预算上限的分配、与现行版本相比的增减
    Simulate {
        /// 政策草案（TOML）
        #[arg(long, value_name = "FILE")]
        draft: PathBuf,
        /// 计算日期（YYYY-MM-DD），默认今天
        #[arg(long, value_name = "D")]
        date: Option<String>,
        /// 预算上限（万元）
        #[arg(long, value_name = "X")]
        ceiling: Option<f64>,
        /// 超出预算时：pro-rata 按比例，ranking 按草案规定的排序
        #[arg(long, value_enum, default_value = "pro-rata")]
        rule: BudgetRuleArg,
        /// 每家企业拨付金额写入此文件（csv、xlsx 或 json）
        #[arg(long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BudgetRuleArg {
    ProRata,
    Ranking,
}

#[derive(Debug, Args)]
pub struct PolicyCalculateArgs {
    /// 企业名录文件（CSV/XLSX）
    #[arg(long, value_name = "F")]
    pub enterprises: PathBuf,
    /// 认定文件（CSV/XLSX）：uscc, designation, level, recognised, expires；不给出时认定情况未知
    #[arg(long, value_name = "F")]
    pub designations: Option<PathBuf>,
    /// 项目文件（CSV/XLSX）：project_id, uscc, kind, date, loan_10k_yuan, …
    #[arg(long, value_name = "F")]
    pub projects: PathBuf,
    /// 计算日期（YYYY-MM-DD）：企业类政策按此日期；项目类政策按项目的贷款或备案日期
    #[arg(long, value_name = "D")]
    pub date: String,
    /// 结果文件：扩展名决定格式 csv、xlsx 或 json
    #[arg(long, value_name = "OUT")]
    pub output: PathBuf,
    /// 另外的政策文件（TOML），按 id 替换或补充内置政策
    #[arg(long = "policy", value_name = "FILE")]
    pub policy_files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EnergyArgs {
    /// 核算年度
    #[arg(long)]
    pub year: i32,
    /// 只列出一个区县（代码或名称）
    #[arg(long)]
    pub district: Option<String>,
    /// 结果文件：扩展名决定格式 csv、xlsx 或 json（每家企业一行）
    #[arg(long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NzcArgs {
    /// 评价标准：suzhou-nzc（苏州，2023）或 sip-nzc（苏州工业园区，2026）
    #[arg(long, default_value = "suzhou-nzc")]
    pub criteria: String,
    /// 评价年度
    #[arg(long)]
    pub year: i32,
    /// 企业注册地区县代码（6 位）
    #[arg(long)]
    pub district: String,
    /// 证明材料文件（TOML 或 JSON，字段见 docs/carbon.md）
    #[arg(long, value_name = "FILE")]
    pub evidence: PathBuf,
    /// 以 JSON 输出
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GridBasisArg {
    Market,
    National,
    Regional,
    Provincial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeerAreaArg {
    City,
    District,
}

#[derive(Debug, Args)]
pub struct CarbonArgs {
    /// 企业名录文件
    #[arg(long, value_name = "FILE")]
    pub enterprises: PathBuf,
    /// 能源消费文件（uscc, year, carrier, quantity, unit[, enthalpy_kj_per_kg, temperature_c]）
    #[arg(long, value_name = "FILE")]
    pub energy: PathBuf,
    /// 年度数据文件（取工业增加值计算碳效等级），可多次给出
    #[arg(long, value_name = "FILE")]
    pub annual: Vec<PathBuf>,
    /// 核算年度
    #[arg(long)]
    pub year: i32,
    /// 电网排放因子（tCO₂/MWh），直接给定
    #[arg(long, value_name = "V", conflicts_with = "grid_basis")]
    pub grid_factor: Option<f64>,
    /// 电网排放因子口径：market 碳市场（全国）、national 全国平均、regional 区域电网平均、provincial 省级平均（后三者为统计口径）；默认取核算年度全国平均，缺则取此前最近年度并警告
    #[arg(long, value_enum, value_name = "BASIS")]
    pub grid_basis: Option<GridBasisArg>,
    /// 当年供电标准煤耗（kgce/kWh），用于等价值（默认取因子文件，内置值为约数 0.30）
    #[arg(long, value_name = "V")]
    pub coal_rate: Option<f64>,
    /// 碳效行业基准的范围：city 全市（默认）或 district 本区县
    #[arg(long, value_enum, default_value = "city")]
    pub peer_area: PeerAreaArg,
    /// 结果文件：扩展名决定格式 csv、xlsx 或 json
    #[arg(long, value_name = "OUT")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReadingsArgs {
    #[command(subcommand)]
    pub action: ReadingsAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    Month,
    Year,
}

/// How `gusu demo --readings N` writes its readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadingsFormat {
    Csv,
    Parquet,
}

#[derive(Debug, Subcommand)]
pub enum ReadingsAction {
    /// 导入读数文件（CSV 或 Parquet：uscc, meter_id, carrier, ts, value, unit）；整个文件无错才写入
    Import {
        /// 读数文件，可给多个（逐个导入）
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// 数据目录（数据集在其中的 readings/ 下）
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// 企业名录文件：不在其中的统一社会信用代码是错误
        #[arg(long, value_name = "FILE")]
        known_enterprises: Option<PathBuf>,
        /// 报告格式
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
        /// 导入内存池大小（排序查重用，超出部分落盘），如 2GiB、256MiB
        #[arg(long, default_value = "1GiB", value_name = "SIZE")]
        memory_limit: String,
        /// 落盘目录（默认在数据目录的暂存区内）
        #[arg(long, value_name = "DIR")]
        spill: Option<PathBuf>,
    },
    /// 按月或按年汇总每家企业每种能源的用量（DataFusion，限定内存池，可落盘）
    Aggregate {
        /// 数据目录
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// 汇总周期
        #[arg(long, value_enum)]
        by: PeriodArg,
        /// 查询内存池大小，如 4GiB、512MiB
        #[arg(long, default_value = "4GiB", value_name = "SIZE")]
        memory_limit: String,
        /// 落盘目录（默认 <数据目录>/spill）
        #[arg(long, value_name = "DIR")]
        spill: Option<PathBuf>,
        /// 结果文件：扩展名决定格式 csv 或 json
        #[arg(long, value_name = "OUT")]
        output: PathBuf,
        /// 另在标准错误输出执行计划及各算子的行数、用时、内存（EXPLAIN ANALYZE，用于性能分析）
        #[arg(long)]
        explain: bool,
    },
    /// 按月汇总并存入数据库（供网页使用），并把每年用电合计作为 metered 来源写入年度数据，报告与电费账单的差异
    ToStore {
        /// 数据目录
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// 查询内存池大小，如 4GiB、512MiB
        #[arg(long, default_value = "4GiB", value_name = "SIZE")]
        memory_limit: String,
        /// 落盘目录（默认 <数据目录>/spill）
        #[arg(long, value_name = "DIR")]
        spill: Option<PathBuf>,
        /// 账单与计量合计的相对差超过此值时报告
        #[arg(long, default_value_t = 0.05, value_name = "RATIO")]
        tolerance: f64,
    },
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// 为账号创建令牌
    Create {
        /// 用户名
        user: String,
        /// 令牌名称
        name: String,
        /// 有效天数（到期后令牌失效）
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// 列出账号的令牌
    List {
        /// 用户名
        user: String,
    },
    /// 吊销令牌
    Revoke {
        /// 用户名
        user: String,
        /// 令牌名称
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 监听地址（默认取配置，127.0.0.1:8080）
    #[arg(long)]
    pub addr: Option<std::net::SocketAddr>,
    /// Cookie 加 Secure 标记（默认即加；用于覆盖配置中的 secure_cookies = false）
    #[arg(long)]
    pub secure_cookies: bool,
    /// Cookie 不加 Secure 标记：仅用于在本机以明文 HTTP 开发调试
    #[arg(long, conflicts_with = "secure_cookies")]
    pub insecure_cookies: bool,
    /// 以 HTTPS 提供服务：证书链文件（PEM），须与 --tls-key 同用
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// 证书私钥文件（PEM）
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum RoleArg {
    CityAdmin,
    CityAnalyst,
    DistrictOfficer,
    Enterprise,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// 新增账号（不给密码时生成一个并只显示一次）
    Add {
        /// 用户名
        name: String,
        /// 角色
        #[arg(long, value_enum)]
        role: RoleArg,
        /// 区县工作人员所属区县（代码或名称）
        #[arg(long)]
        district: Option<String>,
        /// 企业用户的统一社会信用代码
        #[arg(long)]
        uscc: Option<String>,
        /// 从标准输入读取密码（一行）
        #[arg(long)]
        password_stdin: bool,
    },
    /// 列出全部账号
    List,
    /// 停用账号
    Disable {
        /// 用户名
        name: String,
    },
    /// 启用账号
    Enable {
        /// 用户名
        name: String,
    },
    /// 重置密码（不给密码时生成一个并只显示一次）
    ResetPassword {
        /// 用户名
        name: String,
        /// 从标准输入读取密码（一行）
        #[arg(long)]
        password_stdin: bool,
    },
    /// 为账号绑定动态验证码（TOTP，管理员登录的第二因素）；密钥只显示一次
    Totp {
        /// 用户名
        name: String,
        /// 解除绑定
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// 显示最近多少条
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(true).args(["enterprises", "annual"])))]
pub struct ValidateArgs {
    /// 企业名录文件
    #[arg(long, value_name = "FILE")]
    pub enterprises: Option<PathBuf>,
    /// 年度数据文件（同时给出 --enterprises 时检查代码是否在名录中）
    #[arg(long, value_name = "FILE")]
    pub annual: Option<PathBuf>,
    /// 输出格式
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// 工作表名称（默认读取所有可识别表头的工作表）
    #[arg(long, value_name = "SHEET")]
    pub sheet: Option<String>,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// 企业名录文件（给出时从文件评价，不使用数据库）
    #[arg(long, value_name = "FILE", requires = "annual")]
    pub enterprises: Option<PathBuf>,
    /// 年度数据文件，可多次给出，逐单元格合并
    #[arg(long, value_name = "FILE", requires = "enterprises")]
    pub annual: Vec<PathBuf>,
    /// 评价年度
    #[arg(long)]
    pub year: i32,
    /// 评价方案名称或方案文件路径（默认 jiangsu-standard）
    #[arg(long, value_name = "NAME|PATH")]
    pub scheme: Option<String>,
    /// 只评价并排名一个区县（代码或名称）
    #[arg(long, value_name = "CODE")]
    pub district: Option<String>,
    /// 结果文件：扩展名决定格式 csv、xlsx 或 json
    #[arg(long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// 跳过有错误的行（报告之），其余照常评价
    #[arg(long)]
    pub skip_invalid: bool,
    /// 工作表名称（默认读取所有可识别表头的工作表）
    #[arg(long, value_name = "SHEET")]
    pub sheet: Option<String>,
    /// 发布本次评价结果（数据库模式）
    #[arg(long)]
    pub publish: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileKind {
    Enterprises,
    Annual,
    /// 能源消费文件（uscc, year, carrier, quantity, unit[, enthalpy_kj_per_kg, temperature_c]）
    Energy,
    /// 企业认定文件（uscc, designation, level, recognised, expires），供政策计算器使用
    Designations,
    /// 项目文件（project_id, uscc, kind, date, 贷款与投资金额…），供政策计算器使用
    Projects,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// 数据文件（CSV 或 XLSX）
    pub file: PathBuf,
    /// 文件类型
    #[arg(long, value_enum)]
    pub kind: FileKind,
    /// 来源部门：tax、stats、power、environment、land、bureau 等
    #[arg(long, value_name = "NAME")]
    pub source: String,
    /// 工作表名称（默认读取所有可识别表头的工作表，每张工作表单独记为一个导入批次）
    #[arg(long, value_name = "SHEET")]
    pub sheet: Option<String>,
    /// 跳过有错误的行，被拒绝的行写入 <文件>.rejects.csv
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// 评价年度
    #[arg(long)]
    pub year: i32,
    /// 区县（代码或名称）
    #[arg(long)]
    pub district: Option<String>,
    /// 类别 A/B/C/D
    #[arg(long)]
    pub class: Option<String>,
    /// 状态：graded、exempt、out_of_scope、missing_data
    #[arg(long)]
    pub status: Option<String>,
    /// 组别：above 或 below
    #[arg(long)]
    pub group: Option<String>,
    /// 行业大类（两位代码）
    #[arg(long)]
    pub division: Option<String>,
    /// 结果文件：csv、xlsx 或 json
    #[arg(long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// 显示行数上限（终端表格）
    #[arg(long, default_value_t = 30)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// 统一社会信用代码
    pub uscc: String,
    /// 评价年度
    #[arg(long)]
    pub year: i32,
    /// 评价方案（默认 jiangsu-standard）
    #[arg(long, value_name = "NAME|PATH")]
    pub scheme: Option<String>,
    /// 区县自行排名时的区县
    #[arg(long)]
    pub district: Option<String>,
    /// 输出 JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// 评价年度
    #[arg(long)]
    pub year: i32,
    /// 要试算的方案
    #[arg(long, value_name = "NAME|PATH")]
    pub scheme: String,
    /// 对照方案（默认 jiangsu-standard）
    #[arg(long, value_name = "NAME|PATH")]
    pub base: Option<String>,
    /// 区县自行排名时的区县
    #[arg(long)]
    pub district: Option<String>,
    /// 输出 JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub action: RulesAction,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// 列出全部评价方案及其版本
    List,
    /// 加载并检查全部方案（含规则目录）
    Check,
    /// 运行每个方案自带的测试用例
    Test,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// 备份文件路径
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// 企业数量
    #[arg(long, default_value_t = 16_000)]
    pub enterprises: usize,
    /// 随机种子（相同种子得到相同城市）
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// 年度，逗号分隔
    #[arg(long, value_delimiter = ',', default_value = "2023,2024")]
    pub years: Vec<i32>,
    /// 只把部门数据文件写入该目录，不导入
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// 只写出规范化的 enterprises.csv 与 annual.csv（用于基准测试）
    #[arg(long, requires = "out")]
    pub plain: bool,
    /// 另写出 N 条逐时用电读数 readings.csv（须与 --out 同用）
    #[arg(long, requires = "out", value_name = "N")]
    pub readings: Option<u64>,
    /// 读数的格式：csv 写 readings.csv；parquet 直接写成数据集 <目录>/data/readings/（用于十亿级基准）
    #[arg(long, value_enum, default_value = "csv", requires = "readings")]
    pub readings_format: ReadingsFormat,
    /// 建好后不启动网络服务
    #[arg(long)]
    pub no_serve: bool,
    /// 网络服务监听地址
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
}

/// English help, keyed by subcommand path and argument id ("" = the command's about).
const ENGLISH: &[(&str, &str, &str)] = &[
    (
        "",
        "",
        "gusu: per-mu evaluation, data collection and analysis for a city's industrial enterprises",
    ),
    ("", "lang", "Interface language: zh (default) or en"),
    ("", "db", "Database file (SQLite)"),
    (
        "",
        "rules",
        "Rules directory: its schemes add to or override the built-in ones",
    ),
    (
        "validate",
        "",
        "Validate a department file (CSV/XLSX): row, column, value and reason of every problem",
    ),
    ("validate", "enterprises", "Enterprises file"),
    (
        "validate",
        "annual",
        "Yearly records file (checked against --enterprises when given)",
    ),
    ("validate", "format", "Report format"),
    ("validate", "sheet", "XLSX sheet name (default: the first)"),
    (
        "evaluate",
        "",
        "Evaluate: from files when given, else the data in the database (results are stored)",
    ),
    (
        "evaluate",
        "enterprises",
        "Enterprises file (evaluates from files, without the database)",
    ),
    (
        "evaluate",
        "annual",
        "Yearly records file; repeat to merge several, cell by cell",
    ),
    ("evaluate", "year", "Evaluation year"),
    (
        "evaluate",
        "scheme",
        "Scheme name or scheme file path (default jiangsu-standard)",
    ),
    (
        "evaluate",
        "district",
        "Evaluate and rank one district only (code or name)",
    ),
    (
        "evaluate",
        "output",
        "Output file; the extension picks csv, xlsx or json",
    ),
    (
        "evaluate",
        "skip_invalid",
        "Skip rows with errors (reported) and evaluate the rest",
    ),
    ("evaluate", "publish", "Publish this run (database mode)"),
    ("init", "", "Create the database"),
    (
        "import",
        "",
        "Import a department file into the database (all validated first, written in one transaction)",
    ),
    ("import", "file", "Data file (CSV or XLSX)"),
    ("import", "kind", "File kind"),
    (
        "import",
        "source",
        "Source department: tax, stats, power, environment, land, bureau, ...",
    ),
    ("import", "sheet", "XLSX sheet name"),
    (
        "import",
        "skip_invalid",
        "Skip rows with errors; rejected rows go to <file>.rejects.csv",
    ),
    ("results", "", "Query stored evaluation results"),
    ("results", "year", "Evaluation year"),
    ("results", "district", "District (code or name)"),
    ("results", "class", "Class A/B/C/D"),
    (
        "results",
        "status",
        "Status: graded, exempt, out_of_scope, missing_data",
    ),
    ("results", "group", "Group: above or below"),
    ("results", "division", "Industry division (2 digits)"),
    ("results", "output", "Output file: csv, xlsx or json"),
    ("results", "limit", "Maximum rows shown (terminal table)"),
    (
        "explain",
        "",
        "Explain an enterprise's result and the smallest single change that lifts it one class",
    ),
    ("explain", "uscc", "Unified social credit code"),
    ("explain", "year", "Evaluation year"),
    ("explain", "scheme", "Scheme (default jiangsu-standard)"),
    (
        "explain",
        "district",
        "District, when the district ranks on its own",
    ),
    ("explain", "json", "Print JSON"),
    (
        "simulate",
        "",
        "Evaluate the same data with another scheme and show the class migration matrix",
    ),
    ("simulate", "year", "Evaluation year"),
    ("simulate", "scheme", "Scheme to try"),
    (
        "simulate",
        "base",
        "Scheme to compare with (default jiangsu-standard)",
    ),
    (
        "simulate",
        "district",
        "District, when the district ranks on its own",
    ),
    ("simulate", "json", "Print JSON"),
    (
        "rules",
        "",
        "Evaluation schemes: list, check, run their own test cases",
    ),
    ("rules list", "", "List every scheme and version"),
    (
        "rules check",
        "",
        "Load and check every scheme (including the rules directory)",
    ),
    ("rules test", "", "Run every scheme's own test cases"),
    ("backup", "", "Back up the database to a file (online)"),
    ("backup", "file", "Backup file path"),
    (
        "demo",
        "",
        "Generate a Suzhou-like demo city, import, evaluate and summarise it",
    ),
    ("demo", "enterprises", "Number of enterprises"),
    ("demo", "seed", "Random seed (same seed, same city)"),
    ("demo", "years", "Years, comma separated"),
    (
        "demo",
        "out",
        "Only write the department files into this directory",
    ),
    (
        "serve",
        "",
        "Serve the web platform and the JSON API on the database",
    ),
    (
        "serve",
        "addr",
        "Address to listen on (default from the configuration, 127.0.0.1:8080)",
    ),
    (
        "serve",
        "secure_cookies",
        "Mark cookies Secure (the default; overrides secure_cookies = false in the configuration)",
    ),
    (
        "serve",
        "insecure_cookies",
        "Cookies without the Secure mark: only for plain-HTTP development on this machine",
    ),
    (
        "serve",
        "tls_cert",
        "Serve HTTPS: the certificate chain (PEM); needs --tls-key",
    ),
    ("serve", "tls_key", "The certificate's private key (PEM)"),
    (
        "demo",
        "plain",
        "Only write canonical enterprises.csv and annual.csv (for benchmarks)",
    ),
    (
        "carbon",
        "",
        "Energy and carbon accounting (GB/T 32150, GB/T 2589) and carbon-efficiency grades, from files",
    ),
    ("carbon", "enterprises", "Enterprises file"),
    (
        "carbon",
        "energy",
        "Energy file (uscc, year, carrier, quantity, unit[, enthalpy_kj_per_kg, temperature_c])",
    ),
    (
        "carbon",
        "annual",
        "Yearly records file (value added for the carbon-efficiency grade); repeatable",
    ),
    ("carbon", "year", "Accounting year"),
    (
        "carbon",
        "grid_factor",
        "Grid emission factor (tCO2/MWh), given",
    ),
    (
        "carbon",
        "grid_basis",
        "Grid factor basis: market (carbon market, national), national, regional or provincial (statistical averages); default: the national average of the year, else of the latest earlier year, with a warning",
    ),
    (
        "carbon",
        "coal_rate",
        "The year's coal rate for power supply (kgce/kWh) for the equivalent basis (default from the factor documents; the built-in 0.30 is approximate)",
    ),
    (
        "carbon",
        "peer_area",
        "Peers of the carbon-efficiency K: city (default) or the enterprise's district",
    ),
    (
        "carbon",
        "output",
        "Output file; the extension picks csv, xlsx or json",
    ),
    (
        "demo",
        "readings",
        "Also write N hourly electricity readings to readings.csv (needs --out)",
    ),
    (
        "demo",
        "readings_format",
        "Format of the readings: csv writes readings.csv; parquet writes the dataset <out>/data/readings/ directly (for billion-row benchmarks)",
    ),
    (
        "readings",
        "",
        "Metered readings: import into a Parquet dataset partitioned by year and month, total by month or year",
    ),
    (
        "readings import",
        "",
        "Import readings files (CSV or Parquet: uscc, meter_id, carrier, ts, value, unit); a file is stored only when it has no error",
    ),
    (
        "readings import",
        "files",
        "Readings files; several are imported one by one",
    ),
    (
        "readings import",
        "data",
        "Data directory (the dataset is its readings/ folder)",
    ),
    (
        "readings import",
        "known_enterprises",
        "Enterprises file: a USCC not in it is an error",
    ),
    ("readings import", "format", "Report format"),
    (
        "readings import",
        "memory_limit",
        "Memory pool of the import (sorting for duplicates; the rest spills to disk), e.g. 2GiB, 256MiB",
    ),
    (
        "readings import",
        "spill",
        "Spill directory (default: inside the data directory's staging folder)",
    ),
    (
        "readings aggregate",
        "",
        "Total each enterprise's use of each carrier by month or year (DataFusion, bounded memory pool, spills to disk)",
    ),
    ("readings aggregate", "data", "Data directory"),
    ("readings aggregate", "by", "Period of the totals"),
    (
        "readings aggregate",
        "memory_limit",
        "Query memory pool, e.g. 4GiB, 512MiB",
    ),
    (
        "readings aggregate",
        "spill",
        "Spill directory (default <data>/spill)",
    ),
    (
        "readings aggregate",
        "output",
        "Output file; the extension picks csv or json",
    ),
    (
        "readings aggregate",
        "explain",
        "Also print the plan with each operator's rows, time and memory to stderr (EXPLAIN ANALYZE, for profiling)",
    ),
    (
        "readings to-store",
        "",
        "Total by month into the database (for the web pages), and enter each year's electricity total as source metered in the yearly records, reporting differences from the bills",
    ),
    ("readings to-store", "data", "Data directory"),
    (
        "readings to-store",
        "memory_limit",
        "Query memory pool, e.g. 4GiB, 512MiB",
    ),
    (
        "readings to-store",
        "spill",
        "Spill directory (default <data>/spill)",
    ),
    (
        "readings to-store",
        "tolerance",
        "Report a bill and a metered total whose relative difference exceeds this",
    ),
    (
        "energy",
        "",
        "Energy and carbon from the database: each enterprise's GHG account, carbon-efficiency grade and energy intensity; the city's, districts' and divisions' intensity against the target",
    ),
    (
        "policy",
        "",
        "Policy calculator: list, check and test policy documents, and calculate from files what each project qualifies for",
    ),
    ("policy list", "", "List the policies and their versions"),
    (
        "policy check",
        "",
        "Check policy documents (unknown keys, dates, facts and parameters), with file and line",
    ),
    (
        "policy check",
        "files",
        "Policy documents (TOML); the shipped ones when none is given",
    ),
    (
        "policy test",
        "",
        "Run each policy document's own test cases",
    ),
    (
        "policy test",
        "files",
        "Policy documents (TOML); the shipped ones when none is given",
    ),
    (
        "policy calculate",
        "",
        "Calculate from files: for every project and project policy, the decision and the amount (10k yuan)",
    ),
    (
        "policy calculate",
        "enterprises",
        "Enterprises file (CSV/XLSX)",
    ),
    (
        "policy calculate",
        "designations",
        "Designations file (CSV/XLSX): uscc, designation, level, recognised, expires; without it designations are unknown",
    ),
    (
        "policy calculate",
        "projects",
        "Projects file (CSV/XLSX): project_id, uscc, kind, date, loan_10k_yuan, …",
    ),
    (
        "policy calculate",
        "date",
        "Calculation date (YYYY-MM-DD): for enterprise policies; project policies go by each project's date",
    ),
    (
        "policy calculate",
        "output",
        "Output file: the extension picks csv, xlsx or json",
    ),
    (
        "policy calculate",
        "policy_files",
        "More policy documents (TOML), replacing or adding to the shipped ones by id",
    ),
    (
        "policy show",
        "",
        "Show a policy: versions, conditions with their articles, parameters by date, amount, stacking, evidence",
    ),
    ("policy show", "id", "Policy id"),
    (
        "policy match",
        "",
        "The policies an enterprise of the database qualifies for: each policy and project with status, amount and reasons",
    ),
    ("policy match", "uscc", "Unified social credit code"),
    (
        "policy match",
        "date",
        "Calculation date (YYYY-MM-DD); default today",
    ),
    (
        "policy simulate",
        "",
        "Simulate a draft policy over the city's data: qualifying enterprises, the money needed, a budget ceiling's sharing, gains and losses against the version in force",
    ),
    (
        "policy simulate",
        "draft",
        "The draft policy document (TOML)",
    ),
    (
        "policy simulate",
        "date",
        "Calculation date (YYYY-MM-DD); default today",
    ),
    ("policy simulate", "ceiling", "Budget ceiling (10k yuan)"),
    (
        "policy simulate",
        "rule",
        "Above the budget: pro-rata, or ranking by the draft's order",
    ),
    (
        "policy simulate",
        "output",
        "Write each enterprise's paid amount to this file (csv, xlsx or json)",
    ),
    ("energy", "year", "Accounting year"),
    ("energy", "district", "Only one district (code or name)"),
    (
        "energy",
        "output",
        "Output file (one row per enterprise); the extension picks csv, xlsx or json",
    ),
    (
        "",
        "regions",
        "District settings file (TOML); default: Suzhou's 10 county-level districts",
    ),
    (
        "",
        "config",
        "Configuration file (TOML; default gusu.toml in the current directory); GUSU__SECTION__KEY environment variables override it",
    ),
    (
        "user",
        "",
        "Accounts: add, list, disable, enable, reset a password",
    ),
    (
        "user add",
        "",
        "Add an account (without a password, one is generated and shown once)",
    ),
    ("user add", "name", "User name"),
    ("user add", "role", "Role"),
    (
        "user add",
        "district",
        "A district officer's district (code or name)",
    ),
    (
        "user add",
        "uscc",
        "An enterprise user's unified social credit code",
    ),
    (
        "user add",
        "password_stdin",
        "Read the password from standard input (one line)",
    ),
    ("user list", "", "List every account"),
    ("user disable", "", "Disable an account"),
    ("user disable", "name", "User name"),
    ("user enable", "", "Enable an account"),
    ("user enable", "name", "User name"),
    (
        "user reset-password",
        "",
        "Reset a password (without a password, one is generated and shown once)",
    ),
    ("user reset-password", "name", "User name"),
    (
        "user totp",
        "",
        "Enrol a TOTP second factor for an account (administrators sign in with it); the secret is shown once",
    ),
    ("user totp", "name", "User name"),
    ("user totp", "remove", "Remove the account's second factor"),
    (
        "user reset-password",
        "password_stdin",
        "Read the password from standard input (one line)",
    ),
    ("audit", "", "Read the audit log (read-only, append-only)"),
    ("audit", "limit", "How many of the latest entries to show"),
    (
        "token",
        "",
        "API tokens for scripts: create (shown once), list, revoke",
    ),
    ("token create", "", "Create a token for an account"),
    ("token create", "user", "User name"),
    ("token create", "name", "Token name"),
    (
        "token create",
        "days",
        "Days the token is valid (it stops working after)",
    ),
    ("token list", "", "List an account's tokens"),
    ("token list", "user", "User name"),
    ("token revoke", "", "Revoke a token"),
    ("token revoke", "user", "User name"),
    ("token revoke", "name", "Token name"),
    (
        "nzc",
        "",
        "Near-zero-carbon factory assessment: each criterion judged on the evidence (met, not met, evidence missing)",
    ),
    (
        "nzc",
        "criteria",
        "Criteria: suzhou-nzc (Suzhou, 2023) or sip-nzc (Suzhou Industrial Park, 2026)",
    ),
    ("nzc", "year", "Assessment year"),
    (
        "nzc",
        "district",
        "District code of the enterprise's registered address (6 digits)",
    ),
    (
        "nzc",
        "evidence",
        "Evidence file (TOML or JSON; fields in docs/carbon.md)",
    ),
    ("nzc", "json", "Print JSON"),
    (
        "evaluate",
        "sheet",
        "Worksheet name (default: every worksheet with a recognised header)",
    ),
    (
        "demo",
        "no_serve",
        "Do not start the web server once the city is built",
    ),
    ("demo", "addr", "Address the web server listens on"),
];

fn english(mut cmd: clap::Command) -> clap::Command {
    cmd = cmd.after_help("Exit codes: 0 success; 1 data errors; 2 usage or configuration errors");
    for (path, arg, text) in ENGLISH {
        let apply = |c: clap::Command| -> clap::Command {
            if arg.is_empty() {
                c.about(*text)
            } else {
                c.mut_arg(*arg, |a| a.help(*text))
            }
        };
        let parts: Vec<&str> = path.split_whitespace().collect();
        cmd = match parts.as_slice() {
            [] => apply(cmd),
            [sub] => cmd.mut_subcommand(*sub, apply),
            [sub, subsub] => cmd.mut_subcommand(*sub, |s| s.mut_subcommand(*subsub, apply)),
            _ => cmd,
        };
    }
    cmd
}

/// The command tree in the user's language.
pub fn command(lang: Lang) -> clap::Command {
    let cmd = Cli::command();
    match lang {
        Lang::Zh => cmd,
        Lang::En => english(cmd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent_in_both_languages() {
        command(Lang::Zh).debug_assert();
        command(Lang::En).debug_assert();
    }

    /// Every about and help text of the English tree, with where it is, that still has Chinese.
    fn chinese_left(cmd: &clap::Command, path: &str, found: &mut Vec<String>) {
        let cjk = |t: &str| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        if let Some(about) = cmd.get_about()
            && cjk(&about.to_string())
        {
            found.push(format!("{path:?} about: {about}"));
        }
        for arg in cmd.get_arguments() {
            if let Some(help) = arg.get_help()
                && cjk(&help.to_string())
            {
                found.push(format!("{path:?} {}: {help}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name()).trim().to_string();
            chinese_left(sub, &sub_path, found);
        }
    }

    #[test]
    fn the_english_help_has_no_chinese_left() {
        let mut found = Vec::new();
        chinese_left(&command(Lang::En), "", &mut found);
        assert!(
            found.is_empty(),
            "{} untranslated:\n{}",
            found.len(),
            found.join("\n")
        );
    }

    #[test]
    fn every_english_entry_names_a_real_argument() {
        let cmd = Cli::command();
        for (path, arg, _) in ENGLISH {
            let mut c = &cmd;
            for part in path.split_whitespace() {
                c = c
                    .find_subcommand(part)
                    .unwrap_or_else(|| panic!("no subcommand {path}"));
            }
            if !arg.is_empty() {
                assert!(
                    c.get_arguments().any(|a| a.get_id() == *arg),
                    "{path} has no argument {arg}"
                );
            }
        }
    }
}
