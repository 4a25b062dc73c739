//! The one error type of the store.

/// What went wrong in the store. Every variant says what the caller can do about it.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// The file was written by a newer gusu: opening it with this binary could lose data.
    #[error(
        "the database has schema version {found}, but this gusu knows versions up to {supported}: \
         upgrade gusu (migrations only go forward)"
    )]
    SchemaTooNew { found: i64, supported: i64 },

    /// The batch description is unusable (empty source, file name or hash).
    #[error("invalid import batch: {0}")]
    InvalidBatch(String),

    /// An account that cannot be created or used as asked (wrong scope for its role, a name
    /// taken, a password that cannot be hashed).
    #[error("{0}")]
    InvalidAccount(String),

    /// A value that SQLite cannot store faithfully (NaN, infinity).
    #[error("row {row} ({uscc}): {field} is {value}, which is not a finite number")]
    InvalidValue {
        row: u64,
        uscc: String,
        field: String,
        value: f64,
    },

    #[error("cannot back up: {0}")]
    BackupTarget(String),

    #[error("{0} not found")]
    NotFound(String),

    /// A value in the database that does not parse back (hand-edited or damaged file).
    #[error("stored data is not valid: {0}")]
    Corrupt(String),

    /// The engine refused the evaluation (scheme not valid for the year, missing benchmark, ...).
    #[error("{0}")]
    Evaluation(#[from] gusu_core::EvaluationError),

    /// An evaluation-cycle action the cycle's rules do not allow now, or for this viewer.
    #[error("{0}")]
    Cycle(#[from] gusu_core::cycle::CycleError),

    /// A near-zero-carbon application step its rules do not allow now, or for this viewer.
    #[error("{0}")]
    Application(#[from] gusu_core::route::ApplicationError),
}
