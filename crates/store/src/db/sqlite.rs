//! Running a statement on a SQLite connection through `rusqlite`, on the calling thread.

use super::values::{Arg, Row, Val};
use crate::error::map_sqlite_error;
use roster_core::StoreError;
use std::sync::Arc;

/// `$N` becomes `?N`, which SQLite binds at index `N` (it numbers `$N` by first
/// appearance instead). Quoted text is left alone.
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut prev_dollar = false;
    for c in sql.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        if prev_dollar {
            out.push(if c.is_ascii_digit() { '?' } else { '$' });
            prev_dollar = false;
        }
        if c == '$' && !quoted {
            prev_dollar = true;
            continue;
        }
        out.push(c);
    }
    if prev_dollar {
        out.push('$');
    }
    out
}

fn sqlite_bind(
    stmt: &mut rusqlite::CachedStatement<'_>,
    args: &[Arg<'_>],
) -> Result<(), StoreError> {
    if stmt.parameter_count() > args.len() {
        return Err(StoreError::Other(format!(
            "{} parameters, {} values",
            stmt.parameter_count(),
            args.len()
        )));
    }
    for (i, arg) in args.iter().enumerate().take(stmt.parameter_count()) {
        let bound = match *arg {
            Arg::Text(v) => stmt.raw_bind_parameter(i + 1, v),
            Arg::Int(v) => stmt.raw_bind_parameter(i + 1, v),
            Arg::Bool(v) => stmt.raw_bind_parameter(i + 1, v),
            Arg::Real(v) => stmt.raw_bind_parameter(i + 1, v),
        };
        bound.map_err(map_sqlite_error)?;
    }
    Ok(())
}

/// What a statement's text gives once: its SQLite form and its column names.
struct Prepared {
    sql: Arc<str>,
    names: Option<Arc<[String]>>,
}

/// Most statement texts remembered per thread; past it the memory starts over.
const PREPARED_MAX: usize = 512;

thread_local! {
    static PREPARED: std::cell::RefCell<std::collections::HashMap<String, Prepared>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The SQLite form of `sql`, remembered per thread.
fn sqlite_text(sql: &str) -> Arc<str> {
    PREPARED.with(|p| {
        let mut p = p.borrow_mut();
        if let Some(found) = p.get(sql) {
            return found.sql.clone();
        }
        if p.len() >= PREPARED_MAX {
            p.clear();
        }
        let text: Arc<str> = sqlite_sql(sql).into();
        p.insert(
            sql.to_owned(),
            Prepared {
                sql: text.clone(),
                names: None,
            },
        );
        text
    })
}

/// The column names of `stmt`, prepared from `sql`, remembered per thread.
fn column_names(sql: &str, stmt: &rusqlite::Statement<'_>) -> Arc<[String]> {
    PREPARED.with(|p| {
        let mut p = p.borrow_mut();
        let known = p.get(sql).and_then(|found| found.names.clone());
        known.unwrap_or_else(|| {
            let names: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
            if let Some(found) = p.get_mut(sql) {
                found.names = Some(names.clone());
            }
            names
        })
    })
}

pub(super) fn query(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&sqlite_text(sql))
        .map_err(map_sqlite_error)?;
    sqlite_bind(&mut stmt, args)?;
    let names = column_names(sql, &stmt);
    let width = names.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map_sqlite_error)? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            use rusqlite::types::ValueRef;
            values.push(match row.get_ref(i).map_err(map_sqlite_error)? {
                ValueRef::Null => Val::Null,
                ValueRef::Integer(n) => Val::Int(n),
                ValueRef::Real(r) => Val::Real(r),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Val::Text(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        out.push(Row {
            names: names.clone(),
            values,
        });
    }
    Ok(out)
}

pub(super) fn execute(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<u64, StoreError> {
    let mut stmt = conn
        .prepare_cached(&sqlite_text(sql))
        .map_err(map_sqlite_error)?;
    sqlite_bind(&mut stmt, args)?;
    let n = stmt.raw_execute().map_err(map_sqlite_error)?;
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::sqlite_sql;

    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            sqlite_sql("SELECT $2, '$1', x FROM t WHERE a = $10 AND b = '$'"),
            "SELECT ?2, '$1', x FROM t WHERE a = ?10 AND b = '$'"
        );
        assert_eq!(sqlite_sql("a $"), "a $");
    }
}
