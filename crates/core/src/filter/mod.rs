//! The `search` filter of `GET /v1/users` and `/v1/users/count`: RFC 7644 §3.4.2.2 text
//! -> a typed [`Filter`] over a closed set of [`Attribute`]s, checked here so that the
//! store only has to turn a well-typed tree into SQL with bound values.

mod attribute;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use attribute::{AddressPart, Attribute, Kind, NamePart};

/// Longest filter taken, in bytes (`DECISIONS.md`).
pub const MAX_BYTES: usize = 4096;
/// Deepest nesting of parentheses and `not` taken.
pub const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Two or more filters that must all match.
    And(Vec<Filter>),
    /// Two or more filters of which one must match.
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// `pr`: the attribute has a value (an array: at least one element).
    Present(Attribute),
    Compare(Attribute, Op, Value),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Co => "co",
            Op::Sw => "sw",
            Op::Ew => "ew",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    /// `co`, `sw`, `ew`: substring operators, for text only.
    pub fn is_substring(self) -> bool {
        matches!(self, Op::Co | Op::Sw | Op::Ew)
    }

    /// `gt`, `ge`, `lt`, `le`.
    pub fn is_ordering(self) -> bool {
        matches!(self, Op::Gt | Op::Ge | Op::Lt | Op::Le)
    }
}

/// A comparison's value, already in the attribute's terms: lower-cased text for
/// case-insensitive attributes, epoch milliseconds for instants.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
    /// Epoch milliseconds.
    Instant(i64),
    /// `YYYY-MM-DD`.
    Date(String),
}

/// A filter that cannot be used: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// 1-based character position in the filter text.
    pub at: usize,
    pub problem: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "search: at position {}: {}", self.at, self.problem)
    }
}

impl std::error::Error for FilterError {}

/// Parses and type-checks a filter.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    if text.len() > MAX_BYTES {
        return Err(FilterError {
            at: 1,
            problem: format!("the filter is longer than {MAX_BYTES} bytes"),
        });
    }
    let tokens = lexer::tokens(text)?;
    parser::Parser::new(tokens, text.chars().count()).filter()
}

impl Filter {
    /// Whether any part of the filter reads an app's data (`username`,
    /// `external_account_id`, `custom_app_data.*`).
    pub fn reads_app_data(&self) -> bool {
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().any(Filter::reads_app_data),
            Filter::Not(f) => f.reads_app_data(),
            Filter::Present(a) | Filter::Compare(a, _, _) => a.is_app_level(),
        }
    }
}

/// The filter as text that parses back to the same filter.
impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::And(parts) | Filter::Or(parts) => {
                let joint = if matches!(self, Filter::And(_)) {
                    " and "
                } else {
                    " or "
                };
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(joint)?;
                    }
                    if matches!(part, Filter::And(_) | Filter::Or(_)) {
                        write!(f, "({part})")?;
                    } else {
                        write!(f, "{part}")?;
                    }
                }
                Ok(())
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::Present(a) => write!(f, "{a} pr"),
            Filter::Compare(a, op, v) => write!(f, "{a} {} {v}", op.as_str()),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(s) | Value::Date(s) => {
                f.write_str(&serde_json::Value::String(s.clone()).to_string())
            }
            Value::Number(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Null => f.write_str("null"),
            Value::Instant(ms) => write!(f, "{ms}"),
        }
    }
}
