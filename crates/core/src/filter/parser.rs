//! Tokens -> a type-checked [`Filter`]: `or` of `and`s of unary terms, where a term is
//! `( filter )`, `not ( filter )`, `attr pr` or `attr op value`.

use super::lexer::{Tok, Token};
use super::{Attribute, Filter, FilterError, Kind, Op, Value, MAX_DEPTH};

pub struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// Position just past the text, for "expected ... at the end" errors.
    end: usize,
}

fn error(at: usize, problem: impl Into<String>) -> FilterError {
    FilterError {
        at,
        problem: problem.into(),
    }
}

impl Parser {
    pub fn new(tokens: Vec<Token>, chars: usize) -> Self {
        Self {
            tokens,
            next: 0,
            end: chars + 1,
        }
    }

    pub fn filter(mut self) -> Result<Filter, FilterError> {
        if self.tokens.is_empty() {
            return Err(error(1, "the filter is empty"));
        }
        let f = self.or(0)?;
        match self.peek() {
            None => Ok(f),
            Some(Token {
                tok: Tok::Close,
                at,
            }) => Err(error(*at, "')' closes no '('")),
            Some(t) => Err(error(t.at, "expected 'and', 'or' or the end of the filter")),
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.end, |t| t.at)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut parts = vec![self.and(depth)?];
        while self.keyword("or") {
            self.next += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut parts = vec![self.unary(depth)?];
        while self.keyword("and") {
            self.next += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    /// `( filter )` after its `(` was seen at `open`.
    fn group(&mut self, open: usize, depth: usize) -> Result<Filter, FilterError> {
        if depth >= MAX_DEPTH {
            return Err(error(
                open,
                format!("the filter is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let inner = self.or(depth + 1)?;
        match self.peek() {
            Some(Token {
                tok: Tok::Close, ..
            }) => {
                self.next += 1;
                Ok(inner)
            }
            _ => Err(error(
                self.at(),
                format!("')' expected to close the '(' at position {open}"),
            )),
        }
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let Some(token) = self.peek().cloned() else {
            return Err(error(
                self.end,
                "the filter ends where an expression was expected",
            ));
        };
        match token.tok {
            Tok::Open => {
                self.next += 1;
                self.group(token.at, depth)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("not") => {
                self.next += 1;
                match self.peek() {
                    Some(Token { tok: Tok::Open, at }) => {
                        let open = *at;
                        self.next += 1;
                        Ok(Filter::Not(Box::new(self.group(open, depth)?)))
                    }
                    _ => Err(error(self.at(), "'not' must be followed by '('")),
                }
            }
            Tok::Word(path) => {
                self.next += 1;
                let attr = Attribute::resolve(&path).map_err(|p| error(token.at, p))?;
                self.comparison(attr, &path)
            }
            Tok::Close => Err(error(token.at, "')' where an expression was expected")),
            Tok::Str(_) | Tok::Num(_) => Err(error(
                token.at,
                "a value where an attribute was expected (the form is: attribute operator value)",
            )),
        }
    }

    fn comparison(&mut self, attr: Attribute, path: &str) -> Result<Filter, FilterError> {
        let at = self.at();
        let op = match self.peek() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) if w.eq_ignore_ascii_case("pr") => {
                self.next += 1;
                return Ok(Filter::Present(attr));
            }
            Some(Token {
                tok: Tok::Word(w), ..
            }) => Op::parse(w).ok_or_else(|| {
                error(
                    at,
                    format!("'{w}' is not an operator (eq ne co sw ew gt ge lt le pr)"),
                )
            })?,
            _ => return Err(error(at, format!("an operator is expected after '{path}'"))),
        };
        self.next += 1;
        let at = self.at();
        let raw = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Str(s)) => Raw::Str(s),
            Some(Tok::Num(n)) => Raw::Num(n),
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Raw::Bool(true),
                "false" => Raw::Bool(false),
                "null" => Raw::Null,
                _ => {
                    return Err(error(
                        at,
                        format!("'{w}' is not a value: quote strings, e.g. \"{w}\""),
                    ))
                }
            },
            _ => {
                return Err(error(
                    at,
                    format!("a value is expected after '{}'", op.as_str()),
                ))
            }
        };
        self.next += 1;
        let value =
            typed(&attr, op, raw).map_err(|p| error(at, format!("{path} {}: {p}", op.as_str())))?;
        Ok(Filter::Compare(attr, op, value))
    }
}

/// A value as written, before the attribute gives it a type.
enum Raw {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// The value in the attribute's terms, or why the attribute cannot take it with `op`.
fn typed(attr: &Attribute, op: Op, raw: Raw) -> Result<Value, String> {
    if let Raw::Null = raw {
        return match op {
            Op::Eq | Op::Ne => Ok(Value::Null),
            _ => Err("null can only be compared with eq or ne".into()),
        };
    }
    match attr.kind() {
        Kind::Text { folded } | Kind::TextArray { folded } => match raw {
            Raw::Str(s) => Ok(Value::Text(if folded { s.to_lowercase() } else { s })),
            _ => Err("takes a quoted string".into()),
        },
        Kind::Instant => {
            if op.is_substring() {
                return Err("a date takes eq ne gt ge lt le".into());
            }
            match raw {
                Raw::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(Value::Instant(n as i64)),
                Raw::Str(s) => instant(&s).map(Value::Instant),
                _ => Err("takes an ISO 8601 date-time or epoch milliseconds".into()),
            }
        }
        Kind::Date => {
            if op.is_substring() {
                return Err("a date takes eq ne gt ge lt le".into());
            }
            match raw {
                Raw::Str(s)
                    if chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_ok()
                        && s.len() == 10 =>
                {
                    Ok(Value::Date(s))
                }
                _ => Err("takes a date as \"YYYY-MM-DD\"".into()),
            }
        }
        Kind::Json => match raw {
            Raw::Str(s) => Ok(Value::Text(s)),
            Raw::Num(n) if !op.is_substring() => Ok(Value::Number(n)),
            Raw::Bool(b) if matches!(op, Op::Eq | Op::Ne) => Ok(Value::Bool(b)),
            Raw::Num(_) => Err("co, sw and ew take a string".into()),
            _ => Err("true and false can only be compared with eq or ne".into()),
        },
    }
}

/// An ISO 8601 date-time with an offset (`2023-04-22T05:52:49.703+00:00`, `...Z`), or a
/// date (`2023-04-22`, midnight UTC), as epoch milliseconds.
fn instant(s: &str) -> Result<i64, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if s.len() == 10 {
            if let Some(t) = d.and_hms_opt(0, 0, 0) {
                return Ok(t.and_utc().timestamp_millis());
            }
        }
    }
    Err(format!(
        "'{s}' is not an ISO 8601 date-time such as 2023-04-22T05:52:49.703+00:00"
    ))
}
