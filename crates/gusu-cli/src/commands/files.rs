//! Commands that work from files alone, with no store: `validate` and `evaluate --enterprises`.

use std::path::Path;

use gusu_core::evaluate::{
    EnterpriseResult, EvaluationError, EvaluationInput, EvaluationSummary, evaluate_each,
};
use gusu_core::{Enterprise, Report, Scheme, Uscc, YearlyRecord};
use gusu_ingest::{
    IngestError, ParsedAnnual, ParsedEnterprises, ReadOptions, Sheets, SkippedSheet,
};
use rustc_hash::FxHashSet;

use super::Context;
use super::stored::Tally;
use crate::cli::{EvaluateArgs, ReportFormat, ValidateArgs};
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;
use crate::output;

/// Most findings printed per file in the text report.
const REPORT_LIMIT: usize = 50;

pub fn ingest_failure(e: IngestError, lang: Lang) -> Failure {
    let message = match lang {
        Lang::Zh => e.message_zh(),
        Lang::En => e.to_string(),
    };
    // A file that does not exist is the command line's fault; one that cannot be read as data, the data's.
    if matches!(
        e,
        IngestError::Read { .. } | IngestError::SheetNotFound { .. }
    ) {
        Failure::usage(message)
    } else {
        Failure::data(message)
    }
}

/// Reads every sheet of an enterprises file whose header is recognised (or the named one).
pub fn read_enterprises_sheets(
    path: &Path,
    opts: &ReadOptions,
    lang: Lang,
) -> Result<Sheets<ParsedEnterprises>, Failure> {
    gusu_ingest::read_enterprises_sheets(path, opts).map_err(|e| ingest_failure(e, lang))
}

/// Reads every sheet of a yearly file whose header is recognised (or the named one).
pub fn read_annual_sheets(
    path: &Path,
    opts: &ReadOptions,
    lang: Lang,
) -> Result<Sheets<ParsedAnnual>, Failure> {
    gusu_ingest::read_annual_sheets(path, opts).map_err(|e| ingest_failure(e, lang))
}

/// Lists the sheets of a workbook that were not read, on stderr.
pub fn print_skipped(path: &Path, skipped: &[SkippedSheet], lang: Lang) {
    for s in skipped {
        eprintln!(
            "{} [{}]: {}",
            path.display(),
            s.sheet,
            match lang {
                Lang::Zh => format!("未读取（{}）", s.reason.message_zh()),
                Lang::En => format!("not read ({})", s.reason.message()),
            }
        );
    }
}

pub fn validate(ctx: &Context, args: ValidateArgs) -> CmdResult {
    let opts = ReadOptions {
        sheet: args.sheet.clone(),
        region: ctx.region.clone(),
    };
    let mut reports: Vec<Report> = Vec::new();
    let mut known: Option<FxHashSet<Uscc>> = None;
    if let Some(path) = &args.enterprises {
        let sheets = read_enterprises_sheets(path, &opts, ctx.lang)?;
        print_skipped(path, &sheets.skipped, ctx.lang);
        known = Some(
            sheets
                .parsed
                .iter()
                .flat_map(|p| p.rows.iter().map(|r| r.record.uscc))
                .collect(),
        );
        reports.extend(sheets.parsed.into_iter().map(|p| p.report));
    }
    if let Some(path) = &args.annual {
        let sheets = read_annual_sheets(path, &opts, ctx.lang)?;
        print_skipped(path, &sheets.skipped, ctx.lang);
        for mut parsed in sheets.parsed {
            if let Some(known) = &known {
                gusu_ingest::check_known_enterprises(&mut parsed, known);
            }
            reports.push(parsed.report);
        }
    }
    match args.format {
        ReportFormat::Json => {
            let value = if reports.len() == 1 {
                output::report_json(&reports[0], ctx.lang)
            } else {
                serde_json::Value::Array(
                    reports
                        .iter()
                        .map(|r| output::report_json(r, ctx.lang))
                        .collect(),
                )
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
        ReportFormat::Text => {
            for r in &reports {
                output::print_report(r, ctx.lang, REPORT_LIMIT, output::Listing::All);
            }
        }
    }
    if reports.iter().any(Report::has_errors) {
        Err(Failure::reported())
    } else {
        Ok(())
    }
}

/// Enterprises and merged yearly records read from files, with every report.
pub struct FileData {
    pub enterprises: Vec<Enterprise>,
    pub records: Vec<YearlyRecord>,
    pub reports: Vec<Report>,
}

/// Reads and validates the enterprises file and every annual file (every sheet whose header is
/// recognised, or the named sheet of each); merges annual files and sheets cell by cell. The
/// files are parsed in parallel (one thread each): parsing is most of the work.
pub fn read_inputs(
    ctx: &Context,
    enterprises: &Path,
    annual: &[std::path::PathBuf],
    sheet: Option<&str>,
) -> Result<FileData, Failure> {
    let opts = ReadOptions {
        sheet: sheet.map(str::to_string),
        region: ctx.region.clone(),
    };
    let (ents, parsed) = std::thread::scope(|scope| {
        let annual_handles: Vec<_> = annual
            .iter()
            .map(|path| scope.spawn(|| read_annual_sheets(path, &opts, ctx.lang)))
            .collect();
        let ents = read_enterprises_sheets(enterprises, &opts, ctx.lang);
        let parsed: Result<Vec<Sheets<ParsedAnnual>>, Failure> = annual_handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Failure::data("annual file reader panicked")))
            })
            .collect();
        (ents, parsed)
    });
    let ents = ents?;
    print_skipped(enterprises, &ents.skipped, ctx.lang);
    let mut sheets_read: Vec<ParsedAnnual> = Vec::new();
    for (path, sheets) in annual.iter().zip(parsed?) {
        print_skipped(path, &sheets.skipped, ctx.lang);
        sheets_read.extend(sheets.parsed);
    }
    let mut parsed = sheets_read;
    let known: FxHashSet<Uscc> = ents
        .parsed
        .iter()
        .flat_map(|p| p.rows.iter().map(|r| r.record.uscc))
        .collect();
    for p in &mut parsed {
        gusu_ingest::check_known_enterprises(p, &known);
    }
    let records = gusu_ingest::merge_annual(&mut parsed);
    let mut reports = Vec::new();
    // One sheet (the usual case) is collected in place, in the rows' own allocation; several are
    // joined into one vector sized once (a million enterprises are a few hundred MB).
    let enterprises_read: Vec<Enterprise> = if ents.parsed.len() == 1 {
        let p = ents.parsed.into_iter().next().expect("one sheet");
        reports.push(p.report);
        p.rows.into_iter().map(|r| r.record).collect()
    } else {
        let total: usize = ents.parsed.iter().map(|p| p.rows.len()).sum();
        let mut all = Vec::with_capacity(total);
        for p in ents.parsed {
            reports.push(p.report);
            all.extend(p.rows.into_iter().map(|r| r.record));
        }
        all
    };
    reports.extend(parsed.into_iter().map(|p| p.report));
    Ok(FileData {
        enterprises: enterprises_read,
        records,
        reports,
    })
}

/// Results handed from the engine to the writers in batches of this many.
const BATCH: usize = 2048;

type Streamed = (
    Result<EvaluationSummary, EvaluationError>,
    output::ResultWriter,
    Tally,
);

/// Any output format: one writer thread formats and writes while the engine makes results.
fn stream_any(
    scheme: &Scheme,
    input: &EvaluationInput<'_>,
    writer: output::ResultWriter,
) -> Streamed {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<EnterpriseResult>>(4);
        let writing = scope.spawn(move || {
            let (mut writer, mut tally) = (writer, Tally::default());
            for batch in rx {
                for r in &batch {
                    tally.add(r);
                    writer.write(r);
                }
            }
            (writer, tally)
        });
        let summary = evaluate_in_batches(scheme, input, |batch| {
            // The writer only stops early by panicking, which `join` reports below.
            let _ = tx.send(batch);
        });
        drop(tx);
        let (writer, tally) = writing.join().expect("the result writer does not panic");
        (summary, writer, tally)
    })
}

/// CSV output: two threads format batches into bytes while the engine makes results, and the
/// caller's thread writes the bytes in order (formatting is most of the work of writing).
fn stream_csv(
    scheme: &Scheme,
    input: &EvaluationInput<'_>,
    mut writer: output::ResultWriter,
) -> Streamed {
    let indicators = output::indicator_keys(scheme);
    let (batch_tx, batch_rx) = std::sync::mpsc::sync_channel::<(u64, Vec<EnterpriseResult>)>(4);
    let batch_rx = std::sync::Mutex::new(batch_rx);
    std::thread::scope(|scope| {
        let (bytes_tx, bytes_rx) = std::sync::mpsc::sync_channel::<(u64, Vec<u8>, Tally)>(8);
        for _ in 0..2 {
            let (batch_rx, bytes_tx, indicators) = (&batch_rx, bytes_tx.clone(), &indicators);
            scope.spawn(move || {
                let mut rows = output::CsvRows::new(indicators);
                loop {
                    let next = batch_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, batch))) = next else { break };
                    let mut tally = Tally::default();
                    batch.iter().for_each(|r| tally.add(r));
                    let bytes = rows.format(&batch, Vec::with_capacity(batch.len() * 300));
                    if bytes_tx.send((seq, bytes, tally)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(bytes_tx);
        let writing = scope.spawn(move || {
            let mut tally = Tally::default();
            let mut pending = std::collections::BTreeMap::new();
            let mut next = 0u64;
            for (seq, bytes, t) in bytes_rx {
                pending.insert(seq, (bytes, t));
                while let Some((bytes, t)) = pending.remove(&next) {
                    writer.write_csv_bytes(&bytes);
                    tally.merge(t);
                    next += 1;
                }
            }
            (writer, tally)
        });
        let mut seq = 0u64;
        let summary = evaluate_in_batches(scheme, input, |batch| {
            let _ = batch_tx.send((seq, batch));
            seq += 1;
        });
        drop(batch_tx);
        let (writer, tally) = writing.join().expect("the result writer does not panic");
        (summary, writer, tally)
    })
}

/// Runs the engine and hands its results over in batches of [`BATCH`], in input order.
fn evaluate_in_batches(
    scheme: &Scheme,
    input: &EvaluationInput<'_>,
    mut send: impl FnMut(Vec<EnterpriseResult>),
) -> Result<EvaluationSummary, EvaluationError> {
    let mut batch = Vec::with_capacity(BATCH);
    let summary = evaluate_each(scheme, input, |r| {
        batch.push(r);
        if batch.len() == BATCH {
            send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
    });
    if !batch.is_empty() {
        send(batch);
    }
    summary
}

/// Phase times on stderr when `GUSU_TIMINGS` is set (for benchmarks).
struct Timings(Option<std::cell::Cell<std::time::Instant>>);

impl Timings {
    fn from_env() -> Timings {
        Timings(
            std::env::var_os("GUSU_TIMINGS")
                .map(|_| std::cell::Cell::new(std::time::Instant::now())),
        )
    }

    fn lap(&self, phase: &str) {
        if let Some(start) = &self.0 {
            let now = std::time::Instant::now();
            eprintln!(
                "timing: {phase}: {:.3} s",
                (now - start.get()).as_secs_f64()
            );
            start.set(now);
        }
    }
}

pub fn evaluation_failure(e: EvaluationError, lang: Lang) -> Failure {
    let prefix = lang.t("评价失败", "evaluation failed");
    match e {
        EvaluationError::NoPriorYearData { .. } => Failure::data(format!("{prefix}: {e}")),
        _ => Failure::usage(format!("{prefix}: {e}")),
    }
}

pub fn evaluate(ctx: &Context, args: EvaluateArgs) -> CmdResult {
    let lang = ctx.lang;
    let Some(enterprises) = &args.enterprises else {
        return Err(Failure::usage("--enterprises"));
    };
    let Some(output_path) = &args.output else {
        return Err(Failure::usage(lang.t(
            "从文件评价需要 --output 结果文件",
            "evaluating from files needs --output",
        )));
    };
    let scheme = ctx.scheme(args.scheme.as_deref(), args.year)?;
    let district = ctx.district(args.district.as_deref())?;
    let timings = Timings::from_env();
    let data = read_inputs(ctx, enterprises, &args.annual, args.sheet.as_deref())?;
    timings.lap("read and validate");
    let has_errors = data.reports.iter().any(Report::has_errors);
    if has_errors || data.reports.iter().any(|r| !r.issues.is_empty()) {
        for r in &data.reports {
            if !r.issues.is_empty() {
                output::print_report(r, lang, REPORT_LIMIT, output::Listing::Errors);
            }
        }
    }
    if has_errors && !args.skip_invalid {
        eprintln!(
            "{}",
            lang.t(
                "输入有错误，未写出结果（用 --skip-invalid 跳过错误行）",
                "the input has errors; no output written (use --skip-invalid to skip rejected rows)"
            )
        );
        return Err(Failure::reported());
    }
    let bar = super::spinner(lang.t("评价中…", "evaluating…").to_string());
    let input = EvaluationInput {
        year: args.year,
        enterprises: &data.enterprises,
        records: &data.records,
        district: district.as_deref(),
    };
    // Results stream from the engine to the file in batches: a million results are never all in
    // memory at once, and the engine makes the next batch while others are formatted.
    let writer = output::ResultWriter::create(output_path, &output::indicator_keys(&scheme), lang)?;
    let (summary, writer, tally) = if writer.takes_csv_bytes() {
        stream_csv(&scheme, &input, writer)
    } else {
        stream_any(&scheme, &input, writer)
    };
    let summary = summary.map_err(|e| evaluation_failure(e, lang))?;
    writer.finish()?;
    timings.lap("evaluate and write");
    bar.finish_and_clear();
    super::stored::print_summary(ctx, &summary, &tally);
    eprintln!(
        "{} {}",
        lang.t("结果已写入", "results written to"),
        output_path.display()
    );
    Ok(())
}
