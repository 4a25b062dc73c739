//! `gusu`: the command-line front of gusu. It parses arguments, wires ingest, store and the core
//! engines together, and prints in Chinese by default (`--lang en` / `GUSU_LANG=en` for English).
//!
//! Exit codes: 0 success, 1 data errors, 2 usage or configuration errors.

mod cli;
mod commands;
mod config;
mod failure;
mod i18n;
mod output;

use std::process::ExitCode;

use clap::FromArgMatches;

// The engine and the importers make millions of small, short-lived allocations (cells, records,
// results); mimalloc halves the engine's time on a million enterprises against glibc's allocator
// (measured: BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Output piped into a reader that stopped (`gusu … | head`) ends the command quietly with exit 0,
/// as coreutils do, instead of the panic `println!` raises on a closed pipe. An import cut off
/// this way commits nothing it had not committed: its transaction is never finished.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let lang = i18n::Lang::detect();
    let matches = match cli::command(lang).try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let parsed = match cli::Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    match commands::run(parsed, lang) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("gusu: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}
