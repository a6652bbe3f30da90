//! SQL parameters from JSON or Arrow rows, and binding them to a statement's slots.

use rusqlite::types::Value;
use serde_json::Value as Json;

use super::StoreError;

/// SQL parameters: `?` positions or `:name`s.
#[derive(Debug, Clone, Default)]
pub enum Params {
    #[default]
    None,
    Positional(Vec<Value>),
    Named(Vec<(String, Value)>),
    /// Values with names (an Arrow row of parameters): `:name`/`$name`/`@name` slots take the
    /// value of that name, `?` slots take the values in order.
    Auto(Vec<(String, Value)>),
    /// `?` values in order and `:name` values.
    Both(Vec<Value>, Vec<(String, Value)>),
}

impl Params {
    /// From JSON: a list (positional) or an object (named); scalars only.
    pub fn from_json(v: &Json) -> Result<Params, StoreError> {
        fn scalar(v: &Json) -> Result<Value, StoreError> {
            Ok(match v {
                Json::Null => Value::Null,
                Json::Bool(b) => Value::Integer(i64::from(*b)),
                Json::Number(n) => match n.as_i64() {
                    Some(i) => Value::Integer(i),
                    None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
                },
                Json::String(s) => Value::Text(s.clone()),
                other => Value::Text(other.to_string()),
            })
        }
        Ok(match v {
            Json::Null => Params::None,
            Json::Array(items) => {
                Params::Positional(items.iter().map(scalar).collect::<Result<_, _>>()?)
            }
            Json::Object(m) => Params::Named(
                m.iter()
                    .map(|(k, v)| {
                        let key = if k.starts_with([':', '@', '$']) {
                            k.clone()
                        } else {
                            format!(":{k}")
                        };
                        Ok((key, scalar(v)?))
                    })
                    .collect::<Result<_, StoreError>>()?,
            ),
            _ => {
                return Err(StoreError::Invalid(
                    "`params` must be a list (for ?) or an object (for :name)".into(),
                ));
            }
        })
    }

    /// Adds named values (the server's own `:__rd…` slots) to these.
    pub fn with_named(self, extra: Vec<(String, Value)>) -> Params {
        if extra.is_empty() {
            return self;
        }
        match self {
            Params::None => Params::Both(Vec::new(), extra),
            Params::Positional(p) => Params::Both(p, extra),
            Params::Named(mut n) => {
                n.extend(extra);
                Params::Named(n)
            }
            Params::Both(p, mut n) => {
                n.extend(extra);
                Params::Both(p, n)
            }
            Params::Auto(mut a) => {
                a.extend(
                    extra
                        .into_iter()
                        .map(|(k, v)| (k.trim_start_matches([':', '@', '$']).to_string(), v)),
                );
                Params::Auto(a)
            }
        }
    }

    pub(crate) fn bind(&self, stmt: &mut rusqlite::Statement<'_>) -> Result<(), StoreError> {
        let (positional, named): (&[Value], &[(String, Value)]) = match self {
            Params::None => (&[], &[]),
            Params::Positional(p) => (p, &[]),
            Params::Named(n) => (&[], n),
            Params::Both(p, n) => (p, n),
            Params::Auto(values) => {
                let mut next = values.iter();
                for i in 1..=stmt.parameter_count() {
                    let name = stmt.parameter_name(i).map(str::to_string);
                    let v = match name.as_deref() {
                        None => next.next().map(|(_, v)| v),
                        Some(n) if n.starts_with('?') => next.next().map(|(_, v)| v),
                        Some(n) => values.iter().find(|(k, _)| k == &n[1..]).map(|(_, v)| v),
                    };
                    match v {
                        Some(v) => stmt.raw_bind_parameter(i, v)?,
                        None => {
                            return Err(StoreError::Invalid(format!(
                                "no value was given for parameter {}",
                                name.unwrap_or_else(|| format!("?{i}"))
                            )));
                        }
                    }
                }
                return Ok(());
            }
        };
        // `?` and `?NNN` slots, in order; named ones (`:x`) by name.
        let slots: Vec<usize> = (1..=stmt.parameter_count())
            .filter(|i| stmt.parameter_name(*i).is_none_or(|n| n.starts_with('?')))
            .collect();
        if positional.len() != slots.len() {
            return Err(StoreError::Invalid(format!(
                "the statement has {} ? parameters but {} values were given",
                slots.len(),
                positional.len()
            )));
        }
        for (slot, v) in slots.into_iter().zip(positional) {
            stmt.raw_bind_parameter(slot, v)?;
        }
        for (k, v) in named {
            match stmt.parameter_index(k)? {
                Some(i) => stmt.raw_bind_parameter(i, v)?,
                None if k.starts_with(":__rd") => {}
                None => {
                    return Err(StoreError::Invalid(format!(
                        "the statement has no parameter named {k}"
                    )));
                }
            }
        }
        Ok(())
    }
}
