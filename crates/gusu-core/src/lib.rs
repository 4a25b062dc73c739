//! gusu's domain, with no I/O: identifiers (USCC), classifications (GB/T 4754 industries, districts),
//! enterprises and yearly records, the indicator catalogue, evaluation schemes as rule documents, and
//! the engine that grades enterprises by them.
//!
//! Architecture invariant: nothing here reads files, the clock or randomness. Rule documents arrive as
//! text, records as values; results leave as values.

pub mod access;
pub mod carbon;
pub mod cycle;
pub mod format;
pub mod industry;
pub mod number;
pub mod policy;
pub mod record;
pub mod region;
pub mod route;
pub mod uscc;
pub mod validation;

pub use access::{PasswordPolicy, Role, Scope, Viewer};
pub use industry::{
    DIVISIONS, Division, IndustryCode, IndustryCodeError, division, parse_industry_code,
};
pub use number::{MaybeF64, parse_figure};
pub use record::{Enterprise, EnterpriseYear, Figure, Figures, Flag, YearlyRecord};
pub use region::{District, RegionSet};
pub use uscc::{Uscc, UsccError};
pub use validation::{Issue, Report, Severity, SourceRow};
pub mod evaluate;
pub mod expr;
pub mod indicator;
pub mod scheme;

pub use evaluate::{
    EnterpriseResult, Evaluation, EvaluationError, EvaluationInput, Status, evaluate,
};
pub use indicator::Indicator;
pub use scheme::{DEFAULT_SCHEME, Scheme, SchemeError, SchemeLibrary};
