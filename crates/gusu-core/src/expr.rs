//! Conditions in rule documents, in CEL (the Common Expression Language): parsed once when a rule
//! document loads, evaluated per enterprise without re-parsing. CEL has no I/O and always terminates.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use cel::{Context, Program, Value};

/// A compiled expression and its source text.
#[derive(Clone)]
pub struct Expr {
    source: String,
    program: Arc<Program>,
    /// The variables it reads, found once when compiled.
    variables: Arc<Vec<String>>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

thread_local! {
    /// The standard library, made once per thread: a `Context::default()` registers every CEL
    /// function anew, which cost more than evaluating the expressions it was made for.
    static ROOT: Context<'static, 'static> = Context::default();
}

/// Values an expression can see, by variable name.
#[derive(Debug, Default, Clone)]
pub struct Bindings {
    values: Vec<(Cow<'static, str>, Value)>,
}

impl Bindings {
    pub fn number(&mut self, name: &'static str, value: Option<f64>) -> &mut Self {
        self.values
            .push((name.into(), value.map(Value::Float).unwrap_or(Value::Null)));
        self
    }

    pub fn int(&mut self, name: &'static str, value: i64) -> &mut Self {
        self.values.push((name.into(), Value::Int(value)));
        self
    }

    pub fn text(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.values
            .push((name.into(), Value::String(Arc::new(value.to_string()))));
        self
    }

    pub fn boolean(&mut self, name: &'static str, value: bool) -> &mut Self {
        self.values.push((name.into(), Value::Bool(value)));
        self
    }

    /// Text that may be unknown (`null` to the expression).
    pub fn maybe_text(&mut self, name: &'static str, value: Option<&str>) -> &mut Self {
        self.values.push((
            name.into(),
            value.map_or(Value::Null, |v| Value::String(Arc::new(v.to_string()))),
        ));
        self
    }

    /// A yes/no that may be unknown.
    pub fn maybe_boolean(&mut self, name: &'static str, value: Option<bool>) -> &mut Self {
        self.values
            .push((name.into(), value.map_or(Value::Null, Value::Bool)));
        self
    }

    /// A list of texts that may be unknown (`'x' in name`).
    pub fn maybe_texts(&mut self, name: &'static str, value: Option<&[String]>) -> &mut Self {
        let value = value.map_or(Value::Null, |v| {
            Value::List(Arc::new(
                v.iter()
                    .map(|s| Value::String(Arc::new(s.clone())))
                    .collect(),
            ))
        });
        self.values.push((name.into(), value));
        self
    }

    /// A number under a name made at run time (a rule document's parameter).
    pub fn named_number(&mut self, name: String, value: Option<f64>) -> &mut Self {
        self.values
            .push((name.into(), value.map(Value::Float).unwrap_or(Value::Null)));
        self
    }

    /// The value bound to `name` as a reader sees it in a trace (`null` when unknown).
    pub fn show(&self, name: &str) -> String {
        match self.values.iter().rev().find(|(n, _)| n == name) {
            None | Some((_, Value::Null)) => "null".to_string(),
            Some((_, Value::String(s))) => s.to_string(),
            Some((_, Value::Float(f))) => crate::format::figure(*f),
            Some((_, Value::Int(i))) => i.to_string(),
            Some((_, Value::Bool(b))) => b.to_string(),
            Some((_, Value::List(items))) => {
                let texts: Vec<String> = items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.to_string(),
                        other => format!("{other:?}"),
                    })
                    .collect();
                format!("[{}]", texts.join(", "))
            }
            Some((_, other)) => format!("{other:?}"),
        }
    }

    /// Adds these bindings to an expression context (a scope made with `new_inner_scope` from
    /// a context holding the standard library), to evaluate several expressions over them.
    pub fn add_to(&self, context: &mut Context<'_, '_>) {
        for (name, value) in &self.values {
            context.add_variable_from_value(name.as_ref(), value.clone());
        }
    }

    /// Calls `f` with a context of these bindings over this thread's standard library.
    fn with_context<R>(&self, f: impl FnOnce(&Context<'_, '_>) -> R) -> R {
        ROOT.with(|root| {
            let mut context = root.new_inner_scope();
            self.add_to(&mut context);
            f(&context)
        })
    }

    /// True when `name` is bound to nothing known (`null`, or not bound at all).
    pub fn is_unknown(&self, name: &str) -> bool {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .is_none_or(|(_, v)| matches!(v, Value::Null))
    }

    /// A map of numbers; absent entries are simply not in the map (test with `has(m.key)`).
    pub fn numbers<'a>(
        &mut self,
        name: &'static str,
        entries: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> &mut Self {
        let map: HashMap<String, Value> = entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::Float(v)))
            .collect();
        self.values.push((name.into(), map.into()));
        self
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("expression `{text}` does not parse: {message}")]
    Parse { text: String, message: String },
    #[error("expression `{text}` failed: {message}")]
    Execution { text: String, message: String },
    #[error("expression `{text}` gave {found}, expected {expected}")]
    Type {
        text: String,
        found: String,
        expected: &'static str,
    },
}

impl Expr {
    pub fn compile(source: &str) -> Result<Expr, ExprError> {
        let program = Program::compile(source).map_err(|e| ExprError::Parse {
            text: source.to_string(),
            message: e.to_string(),
        })?;
        let mut variables: Vec<String> = program
            .references()
            .variables()
            .into_iter()
            .map(str::to_string)
            .collect();
        variables.sort();
        Ok(Expr {
            source: source.to_string(),
            program: Arc::new(program),
            variables: Arc::new(variables),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The variables the expression reads, sorted: what a rule document's loader checks against
    /// the facts it knows, and what makes a condition unknown when one of them is blank.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    fn run_in(&self, context: &Context) -> Result<Value, ExprError> {
        self.program
            .execute(context)
            .map_err(|e| ExprError::Execution {
                text: self.source.clone(),
                message: e.to_string(),
            })
    }

    pub fn eval_bool(&self, bindings: &Bindings) -> Result<bool, ExprError> {
        bindings.with_context(|c| self.eval_bool_in(c))
    }

    /// [`Expr::eval_bool`] in a context made once from bindings, for many expressions over the
    /// same facts.
    pub fn eval_bool_in(&self, context: &Context) -> Result<bool, ExprError> {
        match self.run_in(context)? {
            Value::Bool(b) => Ok(b),
            other => Err(ExprError::Type {
                text: self.source.clone(),
                found: format!("{other:?}"),
                expected: "a boolean",
            }),
        }
    }

    pub fn eval_number(&self, bindings: &Bindings) -> Result<f64, ExprError> {
        bindings.with_context(|c| self.eval_number_in(c))
    }

    /// [`Expr::eval_number`] in a context made once.
    pub fn eval_number_in(&self, context: &Context) -> Result<f64, ExprError> {
        match self.run_in(context)? {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            Value::UInt(u) => Ok(u as f64),
            other => Err(ExprError::Type {
                text: self.source.clone(),
                found: format!("{other:?}"),
                expected: "a number",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_and_numbers() {
        let mut b = Bindings::default();
        b.int("year", 2024)
            .text("division", "26")
            .numbers("figures", [("tax_paid_10k_yuan", 120.0)]);
        let e = Expr::compile("division == '26' && figures.tax_paid_10k_yuan > 100.0").unwrap();
        assert!(e.eval_bool(&b).unwrap());
        let p = Expr::compile("has(figures.rd_expense_10k_yuan) ? 2.0 : -1.0").unwrap();
        assert_eq!(p.eval_number(&b).unwrap(), -1.0);
        assert!(Expr::compile("division ==").is_err());
        assert!(matches!(
            Expr::compile("year").unwrap().eval_bool(&b),
            Err(ExprError::Type { .. })
        ));
    }
}
