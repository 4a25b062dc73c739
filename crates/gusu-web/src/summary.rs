//! What the overview and list pages read, computed once per run and data version and shared by
//! every request: the run's result lines (no figures) and the overview of the city and of each
//! district. Parsing 16,000 stored results takes tens of milliseconds; a request must not.
//!
//! A cached entry is keyed by the shown run and the store's data version (last import batch,
//! last run, publications), so an import, a new run or a publication is seen by the next request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use gusu_core::evaluate::overview::{Overview, summarize};
use gusu_core::evaluate::{EnterpriseResult, SizeGroup, Status};
use gusu_core::{Enterprise, EnterpriseYear, Uscc, Viewer, YearlyRecord};
use gusu_store::{RunInfo, Store};
use serde::Serialize;

use crate::ApiError;

/// Lines in the lowest-class list of an overview.
pub const LOWEST_CLASS_LIST: usize = 50;

/// One enterprise's result, without figures: what lists filter, sort and page through.
#[derive(Debug, Clone, Serialize)]
pub struct ResultLine {
    pub uscc: Uscc,
    pub name: String,
    pub district: Arc<str>,
    pub division: Arc<str>,
    pub group: SizeGroup,
    pub status: Status,
    pub class: Option<Arc<str>>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

/// One run's summaries.
pub struct RunSummary {
    pub run: RunInfo,
    pub lines: Vec<ResultLine>,
    pub city: Arc<Overview>,
    pub districts: HashMap<String, Arc<Overview>>,
    /// Rendered page parts by a key the page chooses (language and population): they depend on
    /// nothing else, and this entry is replaced when the data changes.
    fragments: Mutex<HashMap<String, Arc<str>>>,
    /// The lines' positions in each list order, sorted once on first use (sorting 16,000 lines
    /// per request was most of a list page's time).
    orders: [OnceLock<Vec<u32>>; ListOrder::ALL.len()],
}

/// The orders a list of result lines is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// Group, then rank (unranked last), then code.
    Rank,
    /// Highest score first (unscored last), then as `Rank`.
    ScoreDesc,
    /// Lowest score first (unscored last), then as `Rank`.
    ScoreAsc,
    /// By name, then as `Rank`.
    Name,
}

impl ListOrder {
    pub const ALL: [ListOrder; 4] = [
        ListOrder::Rank,
        ListOrder::ScoreDesc,
        ListOrder::ScoreAsc,
        ListOrder::Name,
    ];

    /// The order a list's `sort` parameter names; rank for anything else.
    pub fn from_key(key: Option<&str>) -> ListOrder {
        match key {
            Some("score_desc") => ListOrder::ScoreDesc,
            Some("score_asc") => ListOrder::ScoreAsc,
            Some("name") => ListOrder::Name,
            _ => ListOrder::Rank,
        }
    }

    fn sort(self, lines: &[ResultLine]) -> Vec<u32> {
        let by_rank = |a: &ResultLine, b: &ResultLine| {
            (a.group, a.rank.unwrap_or(u32::MAX), a.uscc).cmp(&(
                b.group,
                b.rank.unwrap_or(u32::MAX),
                b.uscc,
            ))
        };
        // Unscored enterprises go last whichever way scores are sorted.
        let score = |l: &ResultLine, sign: f64| l.score.map_or(f64::INFINITY, |s| sign * s);
        let mut order: Vec<u32> = (0..lines.len() as u32).collect();
        let line = |i: &u32| &lines[*i as usize];
        match self {
            ListOrder::Rank => order.sort_by(|a, b| by_rank(line(a), line(b))),
            ListOrder::ScoreDesc | ListOrder::ScoreAsc => {
                let sign = if self == ListOrder::ScoreDesc {
                    -1.0
                } else {
                    1.0
                };
                order.sort_by(|a, b| {
                    let (a, b) = (line(a), line(b));
                    score(a, sign)
                        .total_cmp(&score(b, sign))
                        .then_with(|| by_rank(a, b))
                });
            }
            ListOrder::Name => order.sort_by(|a, b| {
                let (a, b) = (line(a), line(b));
                a.name.cmp(&b.name).then_with(|| by_rank(a, b))
            }),
        }
        order
    }
}

impl RunSummary {
    /// The lines in `order`.
    pub fn ordered(&self, order: ListOrder) -> impl Iterator<Item = &ResultLine> {
        let slot = ListOrder::ALL
            .iter()
            .position(|o| *o == order)
            .expect("every order has a slot");
        self.orders[slot]
            .get_or_init(|| order.sort(&self.lines))
            .iter()
            .map(|&i| &self.lines[i as usize])
    }

    /// The overview a viewer may see: the city's for city staff, its own district's for a
    /// district officer; `None` for anyone else.
    pub fn overview_for(&self, viewer: &Viewer, district: Option<&str>) -> Option<Arc<Overview>> {
        match district {
            Some(code) => viewer.may_see_district(code).then(|| self.district(code)),
            None => match &viewer.scope {
                gusu_core::Scope::City => Some(self.city.clone()),
                gusu_core::Scope::District(code) => Some(self.district(code)),
                _ => None,
            },
        }
    }

    /// A rendered part of a page, made once per key.
    pub fn fragment(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<String, ApiError>,
    ) -> Result<Arc<str>, ApiError> {
        if let Some(hit) = self
            .fragments
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
        {
            return Ok(hit.clone());
        }
        let made: Arc<str> = make()?.into();
        self.fragments
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), made.clone());
        Ok(made)
    }

    fn district(&self, code: &str) -> Arc<Overview> {
        self.districts.get(code).cloned().unwrap_or_default()
    }
}

type Key = (i64, bool, (i64, i64, i64));

/// Summaries by year, each valid for one key.
#[derive(Default)]
pub struct SummaryCache {
    by_year: Mutex<HashMap<i32, (Key, Arc<RunSummary>)>>,
    // One build at a time: a burst of requests after an import waits for one computation
    // instead of each doing its own.
    building: Mutex<()>,
}

impl SummaryCache {
    /// The summary of the run shown for `year`, or `None` when the year has no city run.
    pub fn get(&self, store: &Store, year: i32) -> Result<Option<Arc<RunSummary>>, ApiError> {
        let Some(run) = crate::shown_run(store, year)? else {
            return Ok(None);
        };
        let key = (run.id, run.published, store.data_version()?);
        if let Some(hit) = self.lookup(year, &key) {
            return Ok(Some(hit));
        }
        let _building = self.building.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = self.lookup(year, &key) {
            return Ok(Some(hit));
        }
        let summary = Arc::new(build(store, run)?);
        self.by_year
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(year, (key, summary.clone()));
        Ok(Some(summary))
    }

    fn lookup(&self, year: i32, key: &Key) -> Option<Arc<RunSummary>> {
        let map = self.by_year.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&year)
            .filter(|(k, _)| k == key)
            .map(|(_, s)| s.clone())
    }
}

fn build(store: &Store, run: RunInfo) -> Result<RunSummary, ApiError> {
    let results: Vec<EnterpriseResult> = store
        .results(run.id)?
        .iter()
        .map(crate::detail)
        .collect::<Result<_, _>>()?;
    let enterprises: HashMap<Uscc, Enterprise> = store
        .enterprises()?
        .into_iter()
        .map(|e| (e.uscc, e))
        .collect();
    let by_uscc = |records: Vec<YearlyRecord>| -> HashMap<Uscc, YearlyRecord> {
        records.into_iter().map(|r| (r.uscc, r)).collect()
    };
    let this_year = by_uscc(store.yearly_records(run.year)?);
    let last_year = by_uscc(store.yearly_records(run.year - 1)?);
    let year_of = |uscc: &Uscc, year: i32| {
        let records = if year == run.year {
            &this_year
        } else {
            &last_year
        };
        enterprises
            .get(uscc)
            .map(|e| EnterpriseYear::new(e, records.get(uscc)))
    };
    let city = summarize(&results, year_of, run.year, LOWEST_CLASS_LIST);
    let mut by_district: HashMap<&str, Vec<&EnterpriseResult>> = HashMap::new();
    for r in &results {
        by_district.entry(&r.district).or_default().push(r);
    }
    let districts = by_district
        .into_iter()
        .map(|(code, rs)| {
            let o = summarize(rs, year_of, run.year, LOWEST_CLASS_LIST);
            (code.to_string(), Arc::new(o))
        })
        .collect();
    let lines = results
        .into_iter()
        .map(|r| ResultLine {
            uscc: r.uscc,
            name: r.name,
            district: r.district,
            division: r.division,
            group: r.group,
            status: r.status,
            class: r.class,
            score: r.score,
            rank: r.rank,
        })
        .collect();
    Ok(RunSummary {
        run,
        lines,
        city: Arc::new(city),
        districts,
        fragments: Mutex::default(),
        orders: Default::default(),
    })
}
