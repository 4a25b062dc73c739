//! Writes a demo city and reports how long each step took.
//!
//! `cargo run --release -p gusu-demo --example demo_city -- DIR [ENTERPRISES] [SEED] [YEARS] [plain|departments|both]`
//! e.g. `... -- /tmp/city 1000000 2024 2024 plain`.

use std::path::PathBuf;
use std::time::Instant;

use gusu_demo::{DemoConfig, generate, write_department_files, write_plain};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().map_or("demo-city", String::as_str));
    let mut config = DemoConfig::default();
    if let Some(n) = args.get(1) {
        config.enterprises = n.parse().expect("number of enterprises");
    }
    if let Some(s) = args.get(2) {
        config.seed = s.parse().expect("seed");
    }
    if let Some(y) = args.get(3) {
        config.years = y.split(',').map(|y| y.parse().expect("year")).collect();
    }
    let what = args.get(4).map_or("both", String::as_str);

    let t = Instant::now();
    let city = generate(&config);
    println!(
        "generate: {} enterprises, {} records in {:.2?}",
        city.enterprises.len(),
        city.records.len(),
        t.elapsed()
    );
    if what != "departments" {
        let t = Instant::now();
        let (e, a) = write_plain(&city, &dir.join("plain"))?;
        println!(
            "write_plain: {} and {} in {:.2?}",
            e.display(),
            a.display(),
            t.elapsed()
        );
    }
    if what != "plain" {
        let t = Instant::now();
        let files = write_department_files(&city, &config, &dir)?;
        println!(
            "write_department_files: {} files in {:.2?}",
            files.len(),
            t.elapsed()
        );
        for f in files {
            println!(
                "  {} ({}, {} faults)",
                f.path.display(),
                f.source,
                f.faults.len()
            );
        }
    }
    Ok(())
}
