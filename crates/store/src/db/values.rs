//! The values queries bind and read, the same for both backends.

use roster_core::StoreError;
use std::sync::Arc;

/// A bound parameter. Nulls carry their type, which PostgreSQL needs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Real(Option<f64>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}
impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<f64> for Arg<'_> {
    fn from(v: f64) -> Self {
        Arg::Real(Some(v))
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}

/// `args![a, b, ...]`: a slice of [`Arg`]s.
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        &[$($crate::db::values::Arg::from($a)),*][..]
    };
}
pub(crate) use args;

/// A value read from a row.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

/// One result row; columns are found by name.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) names: Arc<[String]>,
    pub(crate) values: Vec<Val>,
}

impl Row {
    fn get(&self, name: &str) -> Result<&Val, StoreError> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Other(format!("no column {name} in the result")))
    }

    fn mismatch(name: &str, want: &str) -> StoreError {
        StoreError::Other(format!("column {name} is not {want}"))
    }

    pub(crate) fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.get(name)? {
            Val::Null => Ok(None),
            Val::Text(s) => Ok(Some(s.clone())),
            _ => Err(Self::mismatch(name, "text")),
        }
    }

    pub(crate) fn text(&self, name: &str) -> Result<String, StoreError> {
        self.opt_text(name)?
            .ok_or_else(|| Self::mismatch(name, "non-null text"))
    }

    pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.get(name)? {
            Val::Null => Ok(None),
            Val::Int(n) => Ok(Some(*n)),
            Val::Bool(b) => Ok(Some(i64::from(*b))),
            _ => Err(Self::mismatch(name, "an integer")),
        }
    }

    pub(crate) fn int(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_int(name)?
            .ok_or_else(|| Self::mismatch(name, "a non-null integer"))
    }

    /// SQLite keeps booleans as integers.
    pub(crate) fn bool(&self, name: &str) -> Result<bool, StoreError> {
        match self.get(name)? {
            Val::Bool(b) => Ok(*b),
            Val::Int(n) => Ok(*n != 0),
            Val::Real(r) => Ok(*r != 0.0),
            _ => Err(Self::mismatch(name, "a boolean")),
        }
    }
}
