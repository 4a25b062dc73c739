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

/// mimalloc's `mi_option_purge_delay`: its position in `mi_option_e` of mimalloc 3, the version
/// `libmimalloc-sys` 0.1.49 builds (the crate's Rust constants name only some options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// A command that runs once and exits keeps the memory it frees instead of handing it back to the
/// system after a delay (mimalloc 3's default is 1 s): reading a million-row file frees and reallocates the
/// same pages so often that the kernel's zeroing of them took 0.8 s of a 2 s validation
/// (BENCHMARKS.md). The server keeps the default, so its memory falls after a large upload.
fn keep_freed_memory() {
    // SAFETY: sets a plain integer option; mimalloc reads it at each purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
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
    if !matches!(parsed.command, cli::Command::Serve(_)) {
        keep_freed_memory();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number is mimalloc's own: its documented default delay is 1,000 ms.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reads and sets plain integer options.
        unsafe {
            if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
                assert_eq!(libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY), 1000);
            }
            keep_freed_memory();
            assert_eq!(libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY), -1);
        }
    }
}
