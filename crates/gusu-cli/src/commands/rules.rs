//! `gusu rules list|check|test`.

use gusu_core::scheme::cases::run_cases;

use super::Context;
use crate::cli::{RulesAction, RulesArgs};
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;

pub fn run(ctx: &Context, args: RulesArgs) -> CmdResult {
    let lang = ctx.lang;
    let lib = ctx.library()?;
    match args.action {
        RulesAction::List | RulesAction::Check => {
            for s in lib.all() {
                let title = match lang {
                    Lang::Zh => &s.title_zh,
                    Lang::En => &s.title_en,
                };
                let groups = s
                    .groups
                    .iter()
                    .map(|g| {
                        let inds = g
                            .indicators
                            .iter()
                            .map(|i| format!("{} {}", i.key, i.weight))
                            .collect::<Vec<_>>()
                            .join(" · ");
                        format!("{}: {inds}", g.key)
                    })
                    .collect::<Vec<_>>()
                    .join(" | ");
                println!(
                    "{} — {title} [{}–{}] ({}) {}\n    {groups}",
                    s.id(),
                    s.valid_from,
                    s.valid_to.map(|y| y.to_string()).unwrap_or_default(),
                    s.confidence,
                    s.origin
                );
            }
            if matches!(args.action, RulesAction::Check) {
                println!(
                    "{} {}",
                    lib.all().len(),
                    lang.t("个方案全部通过检查", "schemes checked, all valid")
                );
                // The factor documents (rules/factors and DIR/factors) are checked as they load.
                let factors = super::carbon::factor_library(ctx)?;
                println!(
                    "{} {} ({})",
                    factors.documents().len(),
                    lang.t(
                        "个因子文件全部通过检查",
                        "factor documents checked, all valid"
                    ),
                    factors.documents().join(", ")
                );
            }
            Ok(())
        }
        RulesAction::Test => {
            let (mut passed, mut failed) = (0, 0);
            for s in lib.all() {
                for outcome in run_cases(s) {
                    if outcome.passed() {
                        passed += 1;
                        println!("ok   {} · {}", outcome.scheme, outcome.case);
                    } else {
                        failed += 1;
                        println!("FAIL {} · {}", outcome.scheme, outcome.case);
                        for f in &outcome.failures {
                            println!("     {f}");
                        }
                    }
                }
            }
            println!("{passed} passed, {failed} failed");
            if failed > 0 {
                Err(Failure::reported())
            } else {
                Ok(())
            }
        }
    }
}
