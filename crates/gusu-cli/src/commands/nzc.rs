//! `gusu nzc`: a near-zero-carbon factory assessment from an evidence file (docs/carbon.md): each
//! criterion of the chosen document met, unmet or missing evidence, and the offset ratio.

use gusu_core::carbon::nzc::{self, Evidence, Status};

use super::Context;
use crate::cli::NzcArgs;
use crate::failure::{CmdResult, Failure};

pub fn run(ctx: &Context, args: NzcArgs) -> CmdResult {
    let lang = ctx.lang;
    let documents = ctx.nzc_criteria()?;
    let criteria = documents
        .iter()
        .find(|c| c.name == args.criteria || c.id() == args.criteria)
        .ok_or_else(|| {
            let known: Vec<String> = documents.iter().map(|c| c.id()).collect();
            Failure::usage(format!(
                "{} {}: {} {}",
                lang.t("未知的评价标准", "unknown criteria"),
                args.criteria,
                lang.t("可选", "known:"),
                known.join(", ")
            ))
        })?;
    let path = &args.evidence;
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(format!(
            "{} {}: {e}",
            lang.t("无法读取证明材料文件", "cannot read the evidence file"),
            path.display()
        ))
    })?;
    let is_json = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("json"));
    let evidence: Evidence = if is_json {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| e.to_string())
    }
    .map_err(|e| {
        Failure::data(format!(
            "{} {}: {e}",
            lang.t("证明材料文件有误", "the evidence file is invalid"),
            path.display()
        ))
    })?;
    let assessment = nzc::assess(criteria, &args.district, args.year, &evidence);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&assessment).map_err(|e| Failure::usage(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "{} · {} {}",
        if lang == crate::i18n::Lang::Zh {
            &criteria.title_zh
        } else {
            &criteria.title_en
        },
        lang.t("评价年度", "assessment year"),
        args.year
    );
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(vec![
        lang.t("条件", "criterion"),
        lang.t("结果", "result"),
        lang.t("依据", "what was seen"),
    ]);
    for r in &assessment.results {
        t.add_row(vec![
            if lang == crate::i18n::Lang::Zh {
                r.name_zh.clone()
            } else {
                r.name_en.clone()
            },
            match r.status {
                Status::Met => lang.t("达到", "met"),
                Status::Unmet => lang.t("未达到", "unmet"),
                Status::MissingEvidence => lang.t("缺少材料", "missing evidence"),
            }
            .to_string(),
            r.detail.clone(),
        ]);
    }
    println!("{t}");
    if let Some(ratio) = assessment.offset_ratio {
        println!("{} {ratio:.4}", lang.t("抵消比例：", "offset ratio:"));
    }
    println!(
        "{}",
        if assessment.passes() {
            lang.t("全部条件达到。", "Every criterion is met.")
        } else {
            lang.t(
                "尚有条件未达到或缺少材料。",
                "Some criteria are unmet or lack evidence.",
            )
        }
    );
    Ok(())
}
