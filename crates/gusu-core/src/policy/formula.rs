//! A policy's conditions and formulas, compiled once into typed trees over a decision's facts.
//!
//! The text is CEL, parsed by the `cel` crate; its syntax tree is compiled here, types checked
//! against the facts and parameters when the document loads, so a slip (`division == 'C'`, a
//! date compared with a number) is a load error with its line, not a wrong answer. Evaluation
//! is three-valued (Kleene): a blank fact makes what depends on it unknown (`null`), `false &&
//! unknown` is false and `true || unknown` true. No allocation per evaluation: a city run
//! evaluates tens of millions of these.

use cel::common::ast::{Expr as Ast, IdedExpr, LiteralValue, operators};
use chrono::NaiveDate;

use super::facts::{Fact, FactType, Row, Value};

/// What a name in an expression refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    Fact(Fact),
    /// A parameter of the document, by index: a number on the decision's date.
    Parameter(u16),
    /// A derived fact of the document, by index.
    Derived(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone)]
enum Node {
    Number(f64),
    Text(Box<str>),
    Bool(bool),
    Date(NaiveDate),
    Name(Name),
    Not(Box<Node>),
    Neg(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    Arith(Arith, Box<Node>, Box<Node>),
    If(Box<Node>, Box<Node>, Box<Node>),
    In(Box<Node>, Vec<Node>),
    /// `'zjtx:provincial' in held`.
    Holds {
        set: Fact,
        designation: Box<str>,
        level: Option<Box<str>>,
    },
    Min(Vec<Node>),
    Max(Vec<Node>),
    StartsWith(Box<Node>, Box<str>),
}

/// A compiled expression with its source, its type and the names it reads.
#[derive(Debug, Clone)]
pub struct Formula {
    source: String,
    node: Node,
    ty: FactType,
    names: Vec<Name>,
}

/// What an expression sees besides the row: the document's parameters on the date and its
/// derived facts, already computed.
pub struct Scope<'s, 'a> {
    pub row: &'s Row<'a>,
    pub parameters: &'s [Option<f64>],
    pub derived: &'s [Value<'a>],
}

/// Resolves names while compiling: a name's meaning and type.
pub type Resolve<'r> = &'r dyn Fn(&str) -> Option<(Name, FactType)>;

impl Formula {
    /// Parses and type-checks `source`; `expected` is the type the caller needs (a condition a
    /// bool, an amount a number), or `None` for any (a derived fact).
    pub fn compile(
        source: &str,
        resolve: Resolve<'_>,
        expected: Option<FactType>,
    ) -> Result<Formula, String> {
        let program =
            cel::Program::compile(source).map_err(|e| format!("`{source}` does not parse: {e}"))?;
        let mut names = Vec::new();
        let (node, ty) = compile(program.expression(), resolve, &mut names)
            .map_err(|m| format!("`{source}`: {m}"))?;
        if let Some(want) = expected
            && ty != want
        {
            return Err(format!(
                "`{source}` gives a {}, but a {} is needed here",
                ty.key(),
                want.key()
            ));
        }
        names.sort_by_key(|n| match n {
            Name::Fact(f) => (0, *f as u16),
            Name::Parameter(i) => (1, *i),
            Name::Derived(i) => (2, *i),
        });
        names.dedup();
        Ok(Formula {
            source: source.to_string(),
            node,
            ty,
            names,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn ty(&self) -> FactType {
        self.ty
    }

    /// The facts, parameters and derived facts it reads, each once.
    pub fn names(&self) -> &[Name] {
        &self.names
    }

    pub fn eval<'a>(&'a self, scope: &Scope<'_, 'a>) -> Value<'a> {
        eval(&self.node, scope)
    }

    /// True, false, or `None` when unknown.
    pub fn truth(&self, scope: &Scope<'_, '_>) -> Option<bool> {
        match eval(&self.node, scope) {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn number(&self, scope: &Scope<'_, '_>) -> Option<f64> {
        match eval(&self.node, scope) {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
}

fn compile(
    e: &IdedExpr,
    resolve: Resolve<'_>,
    names: &mut Vec<Name>,
) -> Result<(Node, FactType), String> {
    use FactType as T;
    match &e.expr {
        Ast::Literal(l) => Ok(match l {
            LiteralValue::Boolean(b) => (Node::Bool(*b.inner()), T::Bool),
            LiteralValue::Int(i) => (Node::Number(*i.inner() as f64), T::Number),
            LiteralValue::UInt(u) => (Node::Number(*u.inner() as f64), T::Number),
            LiteralValue::Double(d) => (Node::Number(*d.inner()), T::Number),
            LiteralValue::String(s) => (Node::Text(s.inner().into()), T::Text),
            LiteralValue::Null | LiteralValue::Bytes(_) => {
                return Err("`null` and bytes are not values a policy compares with".into());
            }
        }),
        Ast::Ident(name) => {
            let (n, ty) = resolve(name).ok_or_else(|| {
                format!(
                    "reads `{name}`, which is neither a fact gusu knows nor a parameter or derived fact of the document"
                )
            })?;
            names.push(n);
            Ok((Node::Name(n), ty))
        }
        Ast::Call(call) => {
            let args = &call.args;
            let f = call.func_name.as_str();
            let mut arg = |i: usize| compile(&args[i], resolve, names);
            match (f, call.target.as_deref(), args.len()) {
                (operators::LOGICAL_AND | operators::LOGICAL_OR, None, 2) => {
                    let (a, ta) = arg(0)?;
                    let (b, tb) = arg(1)?;
                    expect(ta, T::Bool, f)?;
                    expect(tb, T::Bool, f)?;
                    let (a, b) = (Box::new(a), Box::new(b));
                    Ok((
                        if f == operators::LOGICAL_AND {
                            Node::And(a, b)
                        } else {
                            Node::Or(a, b)
                        },
                        T::Bool,
                    ))
                }
                (operators::LOGICAL_NOT, None, 1) => {
                    let (a, ta) = arg(0)?;
                    expect(ta, T::Bool, "!")?;
                    Ok((Node::Not(Box::new(a)), T::Bool))
                }
                (operators::NEGATE, None, 1) => {
                    let (a, ta) = arg(0)?;
                    expect(ta, T::Number, "-")?;
                    Ok((Node::Neg(Box::new(a)), T::Number))
                }
                (operators::CONDITIONAL, None, 3) => {
                    let (c, tc) = arg(0)?;
                    let (a, ta) = arg(1)?;
                    let (b, tb) = arg(2)?;
                    expect(tc, T::Bool, "?:")?;
                    if ta != tb {
                        return Err(format!(
                            "the two branches of `?:` give a {} and a {}",
                            ta.key(),
                            tb.key()
                        ));
                    }
                    Ok((Node::If(Box::new(c), Box::new(a), Box::new(b)), ta))
                }
                (
                    operators::ADD | operators::SUBSTRACT | operators::MULTIPLY | operators::DIVIDE,
                    None,
                    2,
                ) => {
                    let (a, ta) = arg(0)?;
                    let (b, tb) = arg(1)?;
                    expect(ta, T::Number, f)?;
                    expect(tb, T::Number, f)?;
                    let op = match f {
                        operators::ADD => Arith::Add,
                        operators::SUBSTRACT => Arith::Sub,
                        operators::MULTIPLY => Arith::Mul,
                        _ => Arith::Div,
                    };
                    Ok((Node::Arith(op, Box::new(a), Box::new(b)), T::Number))
                }
                (
                    operators::EQUALS
                    | operators::NOT_EQUALS
                    | operators::LESS
                    | operators::LESS_EQUALS
                    | operators::GREATER
                    | operators::GREATER_EQUALS,
                    None,
                    2,
                ) => {
                    let op = match f {
                        operators::EQUALS => Cmp::Eq,
                        operators::NOT_EQUALS => Cmp::Ne,
                        operators::LESS => Cmp::Lt,
                        operators::LESS_EQUALS => Cmp::Le,
                        operators::GREATER => Cmp::Gt,
                        _ => Cmp::Ge,
                    };
                    let (a, ta) = arg(0)?;
                    let (b, tb) = arg(1)?;
                    let (a, b, ty) = unify(a, ta, b, tb)?;
                    if matches!(ty, T::Bool | T::Designations) && !matches!(op, Cmp::Eq | Cmp::Ne) {
                        return Err(format!("a {} has no order", ty.key()));
                    }
                    Ok((Node::Cmp(op, Box::new(a), Box::new(b)), T::Bool))
                }
                (operators::IN, None, 2) => {
                    if let Ast::Ident(set) = &args[1].expr
                        && let Some((Name::Fact(fact), T::Designations)) = resolve(set)
                    {
                        let Ast::Literal(LiteralValue::String(key)) = &args[0].expr else {
                            return Err(format!(
                                "`… in {set}` needs a designation written out, like 'zjtx' or 'zjtx:provincial'"
                            ));
                        };
                        let key = key.inner();
                        let (designation, level) = match key.split_once(':') {
                            Some((d, l)) => (d, Some(l)),
                            None => (key, None),
                        };
                        if super::vocabulary_key(super::DESIGNATIONS, designation)
                            != Some(designation)
                        {
                            return Err(format!("`{designation}` is not a designation gusu knows"));
                        }
                        if let Some(l) = level
                            && super::vocabulary_key(super::LEVELS, l) != Some(l)
                        {
                            return Err(format!("`{l}` is not a designation level gusu knows"));
                        }
                        names.push(Name::Fact(fact));
                        return Ok((
                            Node::Holds {
                                set: fact,
                                designation: designation.into(),
                                level: level.map(Into::into),
                            },
                            T::Bool,
                        ));
                    }
                    let (x, tx) = arg(0)?;
                    let Ast::List(list) = &args[1].expr else {
                        return Err("`in` needs a list written out, like ['a', 'b']".into());
                    };
                    let mut items = Vec::new();
                    for item in &list.elements {
                        let (n, t) = compile(item, resolve, names)?;
                        let (_, n, _) = unify(x.clone(), tx, n, t)?;
                        items.push(n);
                    }
                    Ok((Node::In(Box::new(x), items), T::Bool))
                }
                ("min" | "max", None, n) if n >= 1 => {
                    let mut items = Vec::new();
                    for i in 0..n {
                        let (a, t) = arg(i)?;
                        expect(t, T::Number, f)?;
                        items.push(a);
                    }
                    Ok((
                        if f == "min" {
                            Node::Min(items)
                        } else {
                            Node::Max(items)
                        },
                        T::Number,
                    ))
                }
                ("startsWith", Some(target), 1) => {
                    let (t, tt) = compile(target, resolve, names)?;
                    expect(tt, T::Text, "startsWith")?;
                    let Ast::Literal(LiteralValue::String(prefix)) = &args[0].expr else {
                        return Err("`startsWith` needs a text written out".into());
                    };
                    Ok((
                        Node::StartsWith(Box::new(t), prefix.inner().into()),
                        T::Bool,
                    ))
                }
                _ => Err(format!(
                    "`{f}` is not something a policy expression may use (comparisons, && || !, + - * /, ?:, in [...], 'x' in held, min, max, startsWith)"
                )),
            }
        }
        Ast::List(_) => Err("a list may only follow `in`".into()),
        _ => Err(
            "only comparisons, arithmetic and the names of facts and parameters may be used".into(),
        ),
    }
}

fn expect(found: FactType, want: FactType, what: &str) -> Result<(), String> {
    if found == want {
        Ok(())
    } else {
        Err(format!(
            "`{what}` needs a {}, not a {}",
            want.key(),
            found.key()
        ))
    }
}

/// Makes two operands comparable: a text written out compares with a date as that date.
fn unify(a: Node, ta: FactType, b: Node, tb: FactType) -> Result<(Node, Node, FactType), String> {
    use FactType as T;
    let as_date = |n: &Node| match n {
        Node::Text(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Node::Date)
            .map_err(|_| format!("`{t}` is not a date (YYYY-MM-DD)")),
        _ => Err("a date compares only with a date or a date written out".into()),
    };
    match (ta, tb) {
        _ if ta == tb => Ok((a, b, ta)),
        (T::Date, T::Text) => Ok((a, as_date(&b)?, T::Date)),
        (T::Text, T::Date) => Ok((as_date(&a)?, b, T::Date)),
        _ => Err(format!("a {} is compared with a {}", ta.key(), tb.key())),
    }
}

fn eval<'a>(node: &'a Node, s: &Scope<'_, 'a>) -> Value<'a> {
    match node {
        Node::Number(n) => Value::Number(*n),
        Node::Text(t) => Value::Text(t),
        Node::Bool(b) => Value::Bool(*b),
        Node::Date(d) => Value::Date(*d),
        Node::Name(Name::Fact(f)) => s.row.get(*f),
        Node::Name(Name::Parameter(i)) => {
            s.parameters[*i as usize].map_or(Value::Null, Value::Number)
        }
        Node::Name(Name::Derived(i)) => s.derived[*i as usize],
        Node::Not(a) => match eval(a, s) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        Node::Neg(a) => match eval(a, s) {
            Value::Number(n) => Value::Number(-n),
            _ => Value::Null,
        },
        Node::And(a, b) => match eval(a, s) {
            Value::Bool(false) => Value::Bool(false),
            Value::Bool(true) => eval(b, s),
            _ => match eval(b, s) {
                Value::Bool(false) => Value::Bool(false),
                _ => Value::Null,
            },
        },
        Node::Or(a, b) => match eval(a, s) {
            Value::Bool(true) => Value::Bool(true),
            Value::Bool(false) => eval(b, s),
            _ => match eval(b, s) {
                Value::Bool(true) => Value::Bool(true),
                _ => Value::Null,
            },
        },
        Node::Cmp(op, a, b) => compare(*op, eval(a, s), eval(b, s)),
        Node::Arith(op, a, b) => match (eval(a, s), eval(b, s)) {
            (Value::Number(x), Value::Number(y)) => Value::Number(match op {
                Arith::Add => x + y,
                Arith::Sub => x - y,
                Arith::Mul => x * y,
                Arith::Div => x / y,
            }),
            _ => Value::Null,
        },
        Node::If(c, a, b) => match eval(c, s) {
            Value::Bool(true) => eval(a, s),
            Value::Bool(false) => eval(b, s),
            _ => Value::Null,
        },
        Node::In(x, items) => {
            let x = eval(x, s);
            if x.is_null() {
                return Value::Null;
            }
            let mut unknown = false;
            for item in items {
                match compare(Cmp::Eq, x, eval(item, s)) {
                    Value::Bool(true) => return Value::Bool(true),
                    Value::Null => unknown = true,
                    _ => {}
                }
            }
            if unknown {
                Value::Null
            } else {
                Value::Bool(false)
            }
        }
        Node::Holds {
            set,
            designation,
            level,
        } => s
            .row
            .has_designation(*set, designation, level.as_deref())
            .map_or(Value::Null, Value::Bool),
        Node::Min(items) | Node::Max(items) => {
            let min = matches!(node, Node::Min(_));
            let mut acc: Option<f64> = None;
            for item in items {
                let Value::Number(n) = eval(item, s) else {
                    return Value::Null;
                };
                acc = Some(match acc {
                    None => n,
                    Some(a) if min => a.min(n),
                    Some(a) => a.max(n),
                });
            }
            acc.map_or(Value::Null, Value::Number)
        }
        Node::StartsWith(t, prefix) => match eval(t, s) {
            Value::Text(t) => Value::Bool(t.starts_with(&**prefix)),
            _ => Value::Null,
        },
    }
}

fn compare(op: Cmp, a: Value<'_>, b: Value<'_>) -> Value<'static> {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(&y),
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(&y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(&y)),
        _ => None,
    };
    let Some(o) = ord else {
        return Value::Null;
    };
    Value::Bool(match op {
        Cmp::Eq => o == Ordering::Equal,
        Cmp::Ne => o != Ordering::Equal,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Le => o != Ordering::Greater,
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::facts::{Designation, EnterpriseFacts, ProjectFacts};

    fn resolve(name: &str) -> Option<(Name, FactType)> {
        if name == "cap" {
            return Some((Name::Parameter(0), FactType::Number));
        }
        Fact::from_name(name).map(|f| (Name::Fact(f), f.ty()))
    }

    fn compile(source: &str) -> Result<Formula, String> {
        Formula::compile(source, &resolve, None)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn unknown_is_neither_true_nor_false_and_and_or_are_kleene() {
        let e = EnterpriseFacts {
            uscc: "u".into(),
            district: "320505".into(),
            division: Some(30),
            ..EnterpriseFacts::default()
        };
        let p = ProjectFacts::default();
        let row = Row::project(&e, &p, day("2024-05-01"));
        let scope = Scope {
            row: &row,
            parameters: &[Some(1000.0)],
            derived: &[],
        };
        let t = |src: &str| compile(src).unwrap().truth(&scope);
        assert_eq!(t("division >= 13 && division <= 43"), Some(true));
        assert_eq!(t("loan_10k_yuan > 1"), None);
        assert_eq!(t("loan_10k_yuan > 1 && division > 50"), Some(false));
        assert_eq!(t("loan_10k_yuan > 1 || division < 50"), Some(true));
        assert_eq!(t("loan_10k_yuan > 1 || division > 50"), None);
        assert_eq!(t("!(loan_10k_yuan > 1)"), None);
        assert_eq!(t("'zjtx' in held"), None, "no designations known");
        assert_eq!(t("district.startsWith('3205')"), Some(true));
        assert_eq!(t("section == 'C'"), Some(true));
        assert_eq!(t("date >= '2024-05-01' && date < '2024-05-02'"), Some(true));
        let n = |src: &str| compile(src).unwrap().number(&scope);
        assert_eq!(n("min(0.1 * 30000.0, cap)"), Some(1000.0));
        assert_eq!(n("division > 20 ? 2 : 1"), Some(2.0));
        assert_eq!(n("min(loan_10k_yuan, cap)"), None);
    }

    #[test]
    fn designations_hold_by_date_and_new_ones_by_year() {
        let e = EnterpriseFacts {
            designations: Some(vec![Designation {
                designation: "little_giant".into(),
                level: "national".into(),
                recognised: day("2023-07-01"),
                expires: Some(day("2026-06-30")),
            }]),
            ..EnterpriseFacts::default()
        };
        let check = |date: &str, src: &str| {
            let row = Row::enterprise(&e, day(date));
            let scope = Scope {
                row: &row,
                parameters: &[],
                derived: &[],
            };
            compile(src).unwrap().truth(&scope)
        };
        assert_eq!(check("2023-06-30", "'little_giant' in held"), Some(false));
        assert_eq!(
            check("2023-07-01", "'little_giant:national' in held"),
            Some(true)
        );
        assert_eq!(
            check("2024-01-01", "'little_giant:provincial' in held"),
            Some(false)
        );
        assert_eq!(
            check("2023-12-31", "'little_giant' in new_designations"),
            Some(true)
        );
        assert_eq!(
            check("2024-12-31", "'little_giant' in new_designations"),
            Some(false)
        );
    }

    #[test]
    fn type_slips_and_unknown_names_are_load_errors() {
        for (src, says) in [
            ("division == 'C'", "compared"),
            ("established < 2020", "compared"),
            ("established < '2020-13-01'", "not a date"),
            ("kind in ['a', 3]", "compared"),
            ("purpose == 'x'", "`purpose`"),
            ("'zjtx:regional' in held", "level"),
            ("'zjtt' in held", "designation"),
            ("has(held.x)", "may"),
            ("size(kind) > 1", "`size`"),
            ("loan_10k_yuan + 'x' > 1", "needs a number"),
        ] {
            let e = compile(src).unwrap_err();
            assert!(e.contains(says), "{src}: {e}");
        }
        let e = Formula::compile("loan_10k_yuan", &resolve, Some(FactType::Bool)).unwrap_err();
        assert!(e.contains("a bool is needed"), "{e}");
    }
}
