//! Filter text -> tokens, each with its 1-based character position.

use super::FilterError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Open,
    Close,
    /// An attribute path, an operator, a keyword or `true`/`false`/`null`.
    Word(String),
    Str(String),
    Num(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub at: usize,
}

fn error(at: usize, problem: impl Into<String>) -> FilterError {
    FilterError {
        at,
        problem: problem.into(),
    }
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '$' | ':')
}

pub fn tokens(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            out.push(Token {
                tok: if c == '(' { Tok::Open } else { Tok::Close },
                at,
            });
            i += 1;
        } else if c == '"' {
            let (s, next) = string(&chars, i)?;
            out.push(Token {
                tok: Tok::Str(s),
                at,
            });
            i = next;
        } else if c == '-' || c.is_ascii_digit() {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '.' | '+' | '-'))
            {
                i += 1;
            }
            let raw: String = chars[start..i].iter().collect();
            out.push(Token {
                tok: Tok::Num(
                    number(&raw).ok_or_else(|| error(at, format!("'{raw}' is not a number")))?,
                ),
                at,
            });
        } else if is_word_start(c) {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Word(chars[start..i].iter().collect()),
                at,
            });
        } else {
            return Err(error(
                at,
                format!("unexpected character '{}'", c.escape_default()),
            ));
        }
    }
    Ok(out)
}

/// A JSON number: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, finite.
fn number(raw: &str) -> Option<f64> {
    let body = raw.strip_prefix('-').unwrap_or(raw);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(e) => (&body[..e], Some(&body[e + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let int_ok = digits(int) && (int == "0" || !int.starts_with('0'));
    let frac_ok = frac.is_none_or(digits);
    let exp_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !(int_ok && frac_ok && exp_ok) {
        return None;
    }
    raw.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The string opening at `chars[start]` (a `"`), with JSON's escapes; the index after it.
fn string(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let at = i + 1;
                let Some(&e) = chars.get(i + 1) else { break };
                i += 2;
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let (c, next) = unicode_escape(chars, i, at)?;
                        out.push(c);
                        i = next;
                    }
                    other => {
                        return Err(error(
                            at,
                            format!("unknown escape '\\{}'", other.escape_default()),
                        ))
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(error(
        start + 1,
        "unterminated string: a closing '\"' is missing",
    ))
}

fn hex4(chars: &[char], i: usize) -> Option<u32> {
    let s: String = chars.get(i..i + 4)?.iter().collect();
    if s.len() != 4 {
        return None;
    }
    u32::from_str_radix(&s, 16).ok()
}

/// `\uXXXX` (the `u` is before `i`), with surrogate pairs; the char and the index after.
fn unicode_escape(chars: &[char], i: usize, at: usize) -> Result<(char, usize), FilterError> {
    let bad = || error(at, "a \\u escape needs four hex digits naming a character");
    let high = hex4(chars, i).ok_or_else(bad)?;
    if (0xD800..0xDC00).contains(&high) {
        if chars.get(i + 4) == Some(&'\\') && chars.get(i + 5) == Some(&'u') {
            let low = hex4(chars, i + 6).ok_or_else(bad)?;
            if (0xDC00..0xE000).contains(&low) {
                let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return Ok((char::from_u32(c).ok_or_else(bad)?, i + 10));
            }
        }
        return Err(bad());
    }
    Ok((char::from_u32(high).ok_or_else(bad)?, i + 4))
}
