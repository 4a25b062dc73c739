//! The policy engine on a synthetic city: N enterprises over Suzhou's ten districts, each with
//! designations, two years of figures and classes, and about one project; the shipped policies
//! plus variants of them (each re-scoped to a Suzhou district or the whole city) up to P policies.
//! Every status, amount, cap and condition outcome is computed (the compact trace); then the
//! decisions of one enterprise are explained in full.
//!
//! `cargo run --release -p gusu-core --example policy_bench -- 160000 300 2 [city]`: with `city`
//! every variant covers the whole city (no district scoping to skip).

use std::time::Instant;

use chrono::NaiveDate;
use gusu_core::policy::{
    Calculation, Coverage, Designation, EMBEDDED, EnterpriseFacts, Policy, PolicyLibrary,
    ProjectFacts, Status, YearFacts,
};

const DISTRICTS: [&str; 10] = [
    "320505", "320506", "320507", "320508", "320509", "320571", "320581", "320582", "320583",
    "320585",
];

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (n, n_policies, threads) = (arg(1, 160_000), arg(2, 300), arg(3, 2));
    let citywide = std::env::args().nth(4).as_deref() == Some("city");

    // The library: every shipped document, then variants re-scoped to a district of Suzhou.
    let load_start = Instant::now();
    let mut policies: Vec<Policy> = Vec::new();
    for i in 0..n_policies {
        let (file, text) = EMBEDDED[i % EMBEDDED.len()];
        let text = if i < EMBEDDED.len() {
            text.to_string()
        } else {
            let region = if citywide || i % 11 == 0 {
                "3205"
            } else {
                DISTRICTS[i % DISTRICTS.len()]
            };
            let id_line = text
                .lines()
                .find(|l| l.starts_with("id = \""))
                .expect("a policy has an id");
            let region_line = text
                .lines()
                .find(|l| l.starts_with("region = \""))
                .expect("a policy has a region");
            let id = id_line.trim_start_matches("id = \"").trim_end_matches('"');
            text.replacen(id_line, &format!("id = \"{id}-variant-{i}\""), 1)
                .replacen(region_line, &format!("region = \"{region}\""), 1)
        };
        policies.push(Policy::from_toml(&text, file).expect("the variants load"));
    }
    let library = PolicyLibrary { policies };
    let load = load_start.elapsed();

    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let kinds = [
        "new_build",
        "expansion",
        "smart_transformation",
        "upgrade",
        "innovation_carrier",
        "other",
    ];
    let designations = [
        ("zjtx", "provincial"),
        ("little_giant", "national"),
        ("high_tech", "national"),
        ("smart_workshop", "city"),
        ("smart_factory", "provincial"),
        ("tech_sme", "provincial"),
        ("innovation_center", "city"),
        ("lighthouse_factory", "national"),
    ];
    let classes = ["A", "B", "C", "D"];
    let mut enterprises = Vec::with_capacity(n);
    let mut projects = Vec::with_capacity(n);
    for i in 0..n {
        let uscc = format!("E{i:08}");
        let held: Vec<Designation> = (0..(i % 3))
            .map(|k| {
                let (d, l) = designations[(i / 3 + k * 5) % designations.len()];
                Designation {
                    designation: d.into(),
                    level: l.into(),
                    recognised: day(2020 + ((i + k) % 6) as i32, 1 + (i % 12) as u32, 1),
                    expires: (i % 4 == 0).then(|| day(2027, 12, 31)),
                }
            })
            .collect();
        let years = (2023..=2025)
            .map(|y| YearFacts {
                year: y,
                class: (i % 9 != 0).then(|| classes[(i + y as usize) % 4].to_string()),
                revenue_10k_yuan: Some((i % 5000) as f64 * 7.0),
                net_assets_10k_yuan: (i % 5 != 0).then_some((i % 4000) as f64),
                electricity_kwh: Some((i % 1000) as f64 * 10_000.0),
                energy_tce: Some((i % 1000) as f64 * 1.2),
                ..YearFacts::default()
            })
            .collect();
        enterprises.push(EnterpriseFacts {
            uscc: uscc.clone(),
            district: DISTRICTS[i % DISTRICTS.len()].into(),
            division: Some([26, 34, 39, 65, 52, 13, 44][i % 7]),
            established: Some(day(1995 + (i % 28) as i32, 1, 1)),
            above_scale: Some(i % 2 == 0),
            designations: Some(held),
            years,
        });
        // About one project per enterprise: none for a fifth, two for another fifth.
        for k in 0..[1, 0, 1, 2, 1][i % 5] {
            let j = i * 2 + k;
            projects.push(ProjectFacts {
                project_id: format!("P{j:09}"),
                uscc: uscc.clone(),
                kind: Some(kinds[j % kinds.len()].to_string()),
                date: day(2021, 1, 1).checked_add_days(chrono::Days::new((j * 7 % 2190) as u64)),
                loan_10k_yuan: Some((j % 900) as f64 * 37.0),
                equipment_loan_10k_yuan: (j % 7 != 0).then_some((j % 800) as f64 * 25.0),
                rate_over_lpr_bp: Some((j % 90) as f64),
                lpr_percent: Some(3.45),
                is_new: Some(j % 3 == 0),
                fixed_asset_investment_10k_yuan: Some((j % 500) as f64 * 1000.0),
                equipment_investment_10k_yuan: Some((j % 500) as f64 * 400.0),
                catalogue_investment_10k_yuan: Some((j % 700) as f64 * 100.0),
                strategic_industry: (j % 4 != 0).then_some(j % 2 == 0),
                first_time: Some(j % 3 != 1),
                years_subsidised: Some((j % 5) as f64),
            });
        }
    }
    let date = day(2025, 12, 31);
    let start = Instant::now();
    let calc = Calculation::run(
        &library,
        &enterprises,
        &projects,
        date,
        Coverage::Skip,
        threads,
    );
    let took = start.elapsed();
    let count = |s: Status| calc.verdicts.iter().filter(|v| v.status == s).count();
    let total: f64 = calc
        .verdicts
        .iter()
        .filter_map(|v| v.amount())
        .filter(|a| a.is_finite())
        .sum();
    println!(
        "{n} enterprises, {} projects × {} policies (loaded in {:.3} s): {} decisions in scope \
         ({} eligible, {} need information, {} not eligible; {:.0} 万元) in {:.3} s on {threads} threads",
        projects.len(),
        library.policies.len(),
        load.as_secs_f64(),
        calc.verdicts.len(),
        count(Status::Eligible),
        count(Status::NeedsInformation),
        count(Status::NotEligible),
        total,
        took.as_secs_f64()
    );
    // One enterprise's decisions, explained in full.
    let mine: Vec<_> = calc.verdicts.iter().filter(|v| v.enterprise == 1).collect();
    let start = Instant::now();
    let first: Vec<_> = mine.iter().map(|v| calc.decision(v)).collect();
    println!(
        "one enterprise's {} decisions explained in {:.3} ms",
        first.len(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak memory (VmHWM): {mib:.0} MiB");
    }
}
