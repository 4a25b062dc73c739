//! Everything gusu holds on one enterprise, as its page and `GET /api/v1/enterprises/{uscc}` show
//! it: the register entry, every yearly value with the department, file and row it came from
//! (and the values it won over), and its class in each year's shown run.
//!
//! The viewer is checked here, against the register's district: another enterprise, or one of
//! another district, does not exist for this viewer.

use gusu_core::{Enterprise, Uscc, Viewer};
use gusu_store::{Store, ValueLineage};
use serde::Serialize;

use crate::{ApiError, shown_run_for};

/// One year's values of the enterprise, each with its lineage.
#[derive(Debug, Serialize)]
pub struct YearValues {
    pub year: i32,
    pub values: Vec<ValueLineage>,
}

/// The enterprise's result in one year's shown run.
#[derive(Debug, Serialize)]
pub struct ClassInYear {
    pub year: i32,
    pub run: i64,
    pub scheme: String,
    pub published: bool,
    pub group: Option<String>,
    pub status: String,
    pub class: Option<String>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct EnterpriseFile {
    pub enterprise: Enterprise,
    /// Newest year first.
    pub years: Vec<YearValues>,
    /// Oldest year first.
    pub classes: Vec<ClassInYear>,
}

/// The enterprise's file, if this viewer may see it.
pub fn load(store: &Store, viewer: &Viewer, uscc: &Uscc) -> Result<EnterpriseFile, ApiError> {
    let enterprise = store
        .enterprise(uscc)?
        .filter(|e| viewer.may_see(&e.uscc, &e.district))
        .ok_or_else(|| ApiError::not_found("enterprise"))?;
    let mut years = Vec::new();
    let mut classes = Vec::new();
    for year in store.years()? {
        let values = store.lineage(uscc, year)?;
        if !values.is_empty() {
            years.push(YearValues { year, values });
        }
        if let Some(run) = shown_run_for(store, viewer, year)?
            && let Some(r) = store.result_for(run.id, uscc)?
        {
            classes.push(ClassInYear {
                year,
                run: run.id,
                scheme: format!("{}@{}", run.scheme, run.scheme_version),
                published: run.published,
                group: r.group,
                status: r.status,
                class: r.class,
                score: r.score,
                rank: r.rank,
            });
        }
    }
    years.sort_by_key(|y| std::cmp::Reverse(y.year));
    classes.sort_by_key(|c| c.year);
    Ok(EnterpriseFile {
        enterprise,
        years,
        classes,
    })
}
