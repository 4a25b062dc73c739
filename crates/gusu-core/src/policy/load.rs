//! Loading a policy document: strict TOML, every expression compiled and type-checked, every
//! reference resolved, derived facts ordered (a cycle is an error), each error with file and line.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::document::{ConditionDoc, PolicyDocument};
use super::facts::{Fact, FactType};
use super::formula::{Formula, Name};
use super::*;

/// The most parameters, derived facts and condition outcomes one document may have: a
/// decision keeps them in fixed arrays (no allocation per decision).
pub(crate) const MAX_PARAMETERS: usize = 32;
pub(crate) const MAX_DERIVED: usize = 16;
pub(crate) const MAX_OUTCOMES: usize = 32;

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

type Spanned = toml::Spanned<String>;

impl Policy {
    /// Parses and checks a policy document.
    pub fn from_toml(text: &str, file: &str) -> Result<Policy, PolicyError> {
        let err = |offset: usize, message: String| PolicyError {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        };
        let doc: PolicyDocument = toml::from_str(text).map_err(|e| {
            err(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_string(),
            )
        })?;
        // The header's own line, for errors about fields serde keeps no position for.
        let header_at = text.find("[policy]").unwrap_or(0);
        let spanned_date = |s: &Spanned| {
            date(s.get_ref()).ok_or_else(|| {
                err(
                    s.span().start,
                    format!("`{}` is not a date (YYYY-MM-DD)", s.get_ref()),
                )
            })
        };
        let h = &doc.policy;
        let subject = match h.subject.as_str() {
            "project" => Subject::Project,
            "enterprise" => Subject::Enterprise,
            other => {
                return Err(err(
                    header_at,
                    format!("subject `{other}`: expected `project` or `enterprise`"),
                ));
            }
        };
        if !matches!(h.delivery.as_str(), "apply" | "automatic") {
            return Err(err(
                header_at,
                format!("delivery `{}`: expected `apply` or `automatic`", h.delivery),
            ));
        }
        let effect = match h.effect.as_str() {
            "support" => Effect::Support,
            "charge" => Effect::Charge,
            other => {
                return Err(err(
                    header_at,
                    format!("effect `{other}`: expected `support` or `charge`"),
                ));
            }
        };

        // Parameters.
        let mut parameters = Vec::new();
        for p in &doc.parameter {
            let mut values = Vec::new();
            for v in &p.values {
                values.push((spanned_date(&v.from)?, v.value));
            }
            let name = p.name.get_ref();
            if values.is_empty() || values.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(err(
                    p.name.span().start,
                    format!("parameter `{name}`: values must be given oldest first, one per date"),
                ));
            }
            if Fact::from_name(name).is_some()
                || parameters.iter().any(|q: &Parameter| q.name == *name)
            {
                return Err(err(
                    p.name.span().start,
                    format!("parameter `{name}` has the name of a fact or of another parameter"),
                ));
            }
            parameters.push(Parameter {
                name: name.clone(),
                unit: p.unit.clone(),
                article: p.article.clone(),
                confidence: p.confidence.clone(),
                illustrative: p.illustrative,
                values,
            });
        }
        if parameters.len() > MAX_PARAMETERS {
            return Err(err(
                header_at,
                format!("at most {MAX_PARAMETERS} parameters in one document"),
            ));
        }
        let parameter_index = |name: &str| parameters.iter().position(|p| p.name == name);

        // Derived facts, ordered so each is computed after what it reads; a cycle is refused.
        let derived_names: Vec<&str> = doc.fact.iter().map(|d| d.name.get_ref().as_str()).collect();
        for (i, d) in doc.fact.iter().enumerate() {
            let name = d.name.get_ref();
            if Fact::from_name(name).is_some()
                || parameter_index(name).is_some()
                || derived_names[..i].contains(&name.as_str())
            {
                return Err(err(
                    d.name.span().start,
                    format!(
                        "derived fact `{name}` has the name of a fact, a parameter or another derived fact"
                    ),
                ));
            }
        }
        if doc.fact.len() > MAX_DERIVED {
            return Err(err(
                header_at,
                format!("at most {MAX_DERIVED} derived facts in one document"),
            ));
        }
        let mut reads: Vec<Vec<usize>> = Vec::new();
        for d in &doc.fact {
            let program = cel::Program::compile(d.formula.get_ref()).map_err(|e| {
                err(
                    d.formula.span().start,
                    format!("`{}` does not parse: {e}", d.formula.get_ref()),
                )
            })?;
            reads.push(
                program
                    .references()
                    .variables()
                    .into_iter()
                    .filter_map(|v| derived_names.iter().position(|n| *n == v))
                    .collect(),
            );
        }
        let order = topological(&reads).map_err(|i| {
            err(
                doc.fact[i].name.span().start,
                format!(
                    "derived fact `{}` depends on itself (a cycle between derived facts)",
                    derived_names[i]
                ),
            )
        })?;
        // Types of derived facts, known once compiled in order.
        let mut derived_types: BTreeMap<usize, FactType> = BTreeMap::new();
        let mut compiled: BTreeMap<usize, Formula> = BTreeMap::new();
        for &i in &order {
            let d = &doc.fact[i];
            let resolve = |name: &str| resolve(name, &parameters, &derived_names, &derived_types);
            let f = Formula::compile(d.formula.get_ref(), &resolve, None)
                .map_err(|m| err(d.formula.span().start, m))?;
            derived_types.insert(i, f.ty());
            compiled.insert(i, f);
        }
        // Kept in document order (names refer to it by index), evaluated in `order`.
        let derived: Vec<Derived> = doc
            .fact
            .iter()
            .enumerate()
            .map(|(i, d)| Derived {
                name: d.name.get_ref().clone(),
                formula: compiled.remove(&i).expect("every derived fact is compiled"),
                article: d.article.clone(),
            })
            .collect();
        let derived_order: Vec<u16> = order.iter().map(|&i| i as u16).collect();

        let resolve_all = |name: &str| resolve(name, &parameters, &derived_names, &derived_types);
        let compile = |s: &Spanned, want: FactType| -> Result<Formula, PolicyError> {
            Formula::compile(s.get_ref(), &resolve_all, Some(want))
                .map_err(|m| err(s.span().start, m))
        };
        let parameter = |s: &Spanned| -> Result<u16, PolicyError> {
            parameter_index(s.get_ref())
                .map(|i| i as u16)
                .ok_or_else(|| {
                    err(
                        s.span().start,
                        format!("no parameter `{}` in the document", s.get_ref()),
                    )
                })
        };

        let stacking = match &h.stacking {
            None => None,
            Some(st) => {
                let rule = match st.rule.get_ref().as_str() {
                    "highest" => StackRule::Highest,
                    "exclusive" => StackRule::Exclusive,
                    "cumulative_cap" => StackRule::CumulativeCap,
                    "cumulative" => StackRule::Cumulative,
                    other => {
                        return Err(err(
                            st.rule.span().start,
                            format!(
                                "stacking rule `{other}`: expected `highest`, `exclusive`, `cumulative_cap` or `cumulative` (leave stacking out when the sources are silent)"
                            ),
                        ));
                    }
                };
                let cap = st.cap.as_ref().map(parameter).transpose()?;
                if (rule == StackRule::CumulativeCap) != cap.is_some() {
                    return Err(err(
                        st.rule.span().start,
                        "a `cumulative_cap` names its `cap` parameter, and only it does".into(),
                    ));
                }
                Some(Stacking {
                    group: st.group.clone(),
                    rule,
                    cap,
                    article: st.article.clone(),
                })
            }
        };

        let budget_rule = match &h.budget {
            None => super::simulate::BudgetRule::ProRata,
            Some(b) => match (b.rule.get_ref().as_str(), &b.rank_by) {
                ("pro_rata", None) => super::simulate::BudgetRule::ProRata,
                ("ranking", None) => super::simulate::BudgetRule::Ranking(None),
                ("ranking", Some(by)) if by.get_ref() == "amount" => {
                    super::simulate::BudgetRule::Ranking(None)
                }
                ("ranking", Some(by)) => match Fact::from_name(by.get_ref()) {
                    Some(f)
                        if f.ty() == FactType::Number
                            && f.of() == super::facts::FactOf::Enterprise =>
                    {
                        super::simulate::BudgetRule::Ranking(Some(f))
                    }
                    _ => {
                        return Err(err(
                            by.span().start,
                            format!(
                                "rank_by `{}`: `amount` or a numeric fact of the enterprise",
                                by.get_ref()
                            ),
                        ));
                    }
                },
                (other, _) => {
                    return Err(err(
                        b.rule.span().start,
                        format!(
                            "budget rule `{other}`: expected `pro_rata`, or `ranking` with an optional `rank_by`"
                        ),
                    ));
                }
            },
        };

        fn flatten(
            c: &ConditionDoc,
            compile: &dyn Fn(&Spanned, FactType) -> Result<Formula, PolicyError>,
            out: &mut Vec<Condition>,
            line: usize,
            file: &str,
        ) -> Result<u16, PolicyError> {
            let test = match (&c.when, c.any.is_empty()) {
                (Some(w), true) => ConditionTest::When(compile(w, FactType::Bool)?),
                (None, false) => {
                    let mut members = Vec::new();
                    for m in &c.any {
                        members.push(flatten(m, compile, out, line, file)?);
                    }
                    ConditionTest::Any(members)
                }
                _ => {
                    // serde keeps no position for a table: the line of the version is given.
                    return Err(PolicyError {
                        file: file.to_string(),
                        line,
                        message: format!(
                            "condition `{}`: give either `when` or `any`, not both or neither",
                            c.id
                        ),
                    });
                }
            };
            out.push(Condition {
                id: c.id.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                article: c.article.clone(),
                confidence: c.confidence.clone(),
                test,
            });
            Ok((out.len() - 1) as u16)
        }

        let mut versions: Vec<Version> = Vec::new();
        for v in &doc.version {
            let valid_from = spanned_date(&v.valid_from)?;
            let valid_to = v.valid_to.as_ref().map(spanned_date).transpose()?;
            let line = line_of(text, v.valid_from.span().start);
            if let Some(prev) = versions.last()
                && prev.valid_from >= valid_from
            {
                return Err(err(
                    v.valid_from.span().start,
                    format!("version `{}` must start after the one before", v.id),
                ));
            }
            let mut conditions = Vec::new();
            let mut top = Vec::new();
            for c in &v.condition {
                top.push(flatten(c, &compile, &mut conditions, line, file)?);
            }
            let a = &v.amount;
            let tier_mode = match a.tier_mode.as_ref().map(|m| (m.get_ref().as_str(), m)) {
                None | Some(("highest", _)) => TierMode::Highest,
                Some(("cumulative", _)) => TierMode::Cumulative,
                Some((other, m)) => {
                    return Err(err(
                        m.span().start,
                        format!("tier_mode `{other}`: expected `highest` or `cumulative`"),
                    ));
                }
            };
            let mut tiers = Vec::new();
            for t in &a.tier {
                tiers.push(Tier {
                    id: t.id.clone(),
                    name_zh: t.name_zh.clone(),
                    name_en: t.name_en.clone(),
                    article: t.article.clone(),
                    when: compile(&t.when, FactType::Bool)?,
                    amount: t
                        .amount
                        .as_ref()
                        .map(|a| compile(a, FactType::Number))
                        .transpose()?,
                });
            }
            if a.formula.is_some() && !tiers.is_empty() {
                return Err(err(
                    v.valid_from.span().start,
                    format!(
                        "version `{}`: an amount is a formula or tiers, not both",
                        v.id
                    ),
                ));
            }
            if conditions.len() + tiers.len() > MAX_OUTCOMES {
                return Err(err(
                    v.valid_from.span().start,
                    format!(
                        "version `{}`: at most {MAX_OUTCOMES} conditions and tiers together",
                        v.id
                    ),
                ));
            }
            let amount = Amount {
                formula: a
                    .formula
                    .as_ref()
                    .map(|f| compile(f, FactType::Number))
                    .transpose()?,
                tiers,
                tier_mode,
                article: a.article.clone(),
                project_cap: a
                    .project_cap
                    .as_ref()
                    .map(|s| match resolve_all(s.get_ref()) {
                        Some((n @ (Name::Parameter(_) | Name::Derived(_)), FactType::Number)) => {
                            Ok(n)
                        }
                        _ => Err(err(
                            s.span().start,
                            format!(
                                "no parameter or numeric derived fact `{}` in the document",
                                s.get_ref()
                            ),
                        )),
                    })
                    .transpose()?,
                firm_cap_per_year: a.firm_cap_per_year.as_ref().map(parameter).transpose()?,
                discretionary: a.discretionary,
            };
            if subject == Subject::Enterprise && conditions.iter().any(|c| reads_project(&c.test)) {
                return Err(err(
                    v.valid_from.span().start,
                    format!(
                        "version `{}`: an enterprise policy cannot read a project's facts",
                        v.id
                    ),
                ));
            }
            versions.push(Version {
                id: v.id.clone(),
                valid_from,
                valid_to,
                document: v.document.clone(),
                published: v.published.clone(),
                confidence: v.confidence.clone(),
                conditions,
                top,
                amount,
            });
        }
        if versions.is_empty() {
            return Err(err(
                header_at,
                "a policy needs at least one [[version]]".into(),
            ));
        }
        // A version ends the day before the next begins.
        for i in 0..versions.len().saturating_sub(1) {
            let next = versions[i + 1].valid_from;
            let end = next.pred_opt().unwrap_or(next);
            versions[i].valid_to = Some(versions[i].valid_to.map_or(end, |t| t.min(end)));
        }
        for case in &doc.test {
            if let Some(d) = &case.date
                && date(d).is_none()
            {
                return Err(err(
                    header_at,
                    format!(
                        "case `{}`: date `{d}` is not a date (YYYY-MM-DD)",
                        case.name
                    ),
                ));
            }
        }
        Ok(Policy {
            id: h.id.clone(),
            title_zh: h.title_zh.clone(),
            title_en: h.title_en.clone(),
            issuer: h.issuer.clone(),
            subject,
            delivery: h.delivery.clone(),
            effect,
            confidence: h.confidence.clone(),
            region: h.region.clone(),
            evidence: h.evidence.clone(),
            stacking,
            budget_rule,
            derived,
            derived_order,
            parameters,
            versions,
            file: file.to_string(),
            document: doc,
        })
    }
}

fn reads_project(test: &ConditionTest) -> bool {
    match test {
        ConditionTest::When(f) => f
            .names()
            .iter()
            .any(|n| matches!(n, Name::Fact(f) if f.of() == super::facts::FactOf::Project)),
        ConditionTest::Any(_) => false,
    }
}

fn resolve(
    name: &str,
    parameters: &[Parameter],
    derived: &[&str],
    derived_types: &BTreeMap<usize, FactType>,
) -> Option<(Name, FactType)> {
    if let Some(f) = Fact::from_name(name) {
        return Some((Name::Fact(f), f.ty()));
    }
    if let Some(i) = parameters.iter().position(|p| p.name == name) {
        return Some((Name::Parameter(i as u16), FactType::Number));
    }
    let i = derived.iter().position(|d| *d == name)?;
    derived_types
        .get(&i)
        .map(|ty| (Name::Derived(i as u16), *ty))
}

/// An order in which each node comes after those it reads; `Err(i)` names a node on a cycle.
fn topological(reads: &[Vec<usize>]) -> Result<Vec<usize>, usize> {
    // 0 unvisited, 1 on the current path, 2 done.
    fn visit(
        i: usize,
        reads: &[Vec<usize>],
        state: &mut [u8],
        out: &mut Vec<usize>,
    ) -> Result<(), usize> {
        match state[i] {
            2 => return Ok(()),
            1 => return Err(i),
            _ => {}
        }
        state[i] = 1;
        for &j in &reads[i] {
            visit(j, reads, state, out)?;
        }
        state[i] = 2;
        out.push(i);
        Ok(())
    }
    let mut state = vec![0u8; reads.len()];
    let mut out = Vec::with_capacity(reads.len());
    for i in 0..reads.len() {
        visit(i, reads, &mut state, &mut out)?;
    }
    Ok(out)
}
