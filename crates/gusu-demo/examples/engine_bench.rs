//! Times the evaluation engine alone (no parsing, no output) on a generated city.
//!
//! usage: cargo run --release -p gusu-demo --example engine_bench -- [ENTERPRISES] [SCHEME]
//! (`--features system-allocator`: glibc's allocator instead of mimalloc, the binary's choice)
use std::time::Instant;

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use gusu_core::{EvaluationInput, SchemeLibrary, evaluate};
use gusu_demo::{DemoConfig, generate};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let scheme_name = args.next().unwrap_or_else(|| "jiangsu-standard".into());
    let city = generate(&DemoConfig {
        enterprises: n,
        seed: 2024,
        years: vec![2023, 2024],
    });
    let lib = SchemeLibrary::builtin().expect("shipped schemes");
    let scheme = lib.select(&scheme_name, 2024).expect("scheme");
    let input = EvaluationInput {
        year: 2024,
        enterprises: &city.enterprises,
        records: &city.records,
        district: None,
    };
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let eval = evaluate(scheme, &input).expect("evaluates");
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(eval);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} enterprises, scheme {}: evaluate median {:.3} s (min {:.3}, max {:.3}) over 5 runs",
        n,
        scheme.id(),
        times[2],
        times[0],
        times[4]
    );
}
