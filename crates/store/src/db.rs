//! One connection handle for both backends, so every query is written once.
//!
//! SQL uses `$N` placeholders on both. SQLite runs on the calling thread through
//! `rusqlite`: a statement costs microseconds, far less than a hop to a worker thread.
//! PostgreSQL goes through `sqlx`.

use crate::error::{map_sqlite_error, map_sqlx_error};
use crate::sqlite::SqliteConn;
use roster_core::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::{Column, PgConnection, Postgres, Transaction, TypeInfo};
use std::sync::Arc;

/// What differs between the two SQL dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Appended to a read that a read-modify-write follows (SQLite: the single writer
    /// serialises).
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Whether a create that lost a race on a unique index is worth one more try: the
    /// single SQLite writer rules such races out.
    pub(crate) fn retries_conflicts(self) -> bool {
        self == Dialect::Postgres
    }
}

/// A bound parameter. Nulls carry their type, which PostgreSQL needs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Bool(Option<bool>),
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
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}

/// `args![a, b, ...]`: a slice of [`Arg`]s.
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        &[$($crate::db::Arg::from($a)),*][..]
    };
}
pub(crate) use args;

/// A value read from a row.
#[derive(Clone, Debug)]
enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

/// One result row; columns are found by name.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    names: Arc<[String]>,
    values: Vec<Val>,
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

/// What to do with a savepoint.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Savepoint {
    Set,
    /// Keep what was written since it was set.
    Release,
    /// Take back what was written since it was set, and drop it.
    Undo,
}

/// A connection (or a transaction on one) of either backend.
pub(crate) enum Db<'a> {
    Sqlite(SqliteConn<'a>),
    Pg(PoolConnection<Postgres>),
    PgTx(Transaction<'static, Postgres>),
}

impl Db<'_> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Pg(_) | Db::PgTx(_) => Dialect::Postgres,
        }
    }

    pub(crate) async fn query(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        let c: &mut PgConnection = match self {
            Db::Sqlite(c) => return sqlite_query(c.connection(), sql, args),
            Db::Pg(c) => c,
            Db::PgTx(t) => t,
        };
        let rows = pg_bind(sqlx::query(sql), args)
            .fetch_all(c)
            .await
            .map_err(map_sqlx_error)?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        use sqlx::Row as _;
        let names: Arc<[String]> = first
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        rows.iter().map(|r| pg_row(&names, r)).collect()
    }

    pub(crate) async fn query_opt(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, args).await?.into_iter().next())
    }

    /// The first row; `NotFound` when there is none.
    pub(crate) async fn query_one(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Row, StoreError> {
        self.query_opt(sql, args).await?.ok_or(StoreError::NotFound)
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let c: &mut PgConnection = match self {
            Db::Sqlite(c) => return sqlite_execute(c.connection(), sql, args),
            Db::Pg(c) => c,
            Db::PgTx(t) => t,
        };
        let done = pg_bind(sqlx::query(sql), args)
            .execute(c)
            .await
            .map_err(map_sqlx_error)?;
        Ok(done.rows_affected())
    }

    /// Commits a transaction begun by the backend; a plain connection has nothing to commit.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(c) => c.commit(),
            Db::PgTx(t) => t.commit().await.map_err(map_sqlx_error),
            Db::Pg(_) => Ok(()),
        }
    }

    /// Sets, releases or undoes a named savepoint.
    pub(crate) async fn savepoint(
        &mut self,
        step: Savepoint,
        name: &str,
    ) -> Result<(), StoreError> {
        match step {
            Savepoint::Set => self.execute(&format!("SAVEPOINT {name}"), &[]).await?,
            Savepoint::Release => {
                self.execute(&format!("RELEASE SAVEPOINT {name}"), &[])
                    .await?
            }
            Savepoint::Undo => {
                self.execute(&format!("ROLLBACK TO SAVEPOINT {name}"), &[])
                    .await?;
                self.execute(&format!("RELEASE SAVEPOINT {name}"), &[])
                    .await?
            }
        };
        Ok(())
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn pg_bind<'q>(mut q: PgQuery<'q>, args: &[Arg<'q>]) -> PgQuery<'q> {
    for a in args {
        q = match *a {
            Arg::Text(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
        };
    }
    q
}

fn pg_row(names: &Arc<[String]>, row: &PgRow) -> Result<Row, StoreError> {
    use sqlx::Row as _;
    let mut values = Vec::with_capacity(names.len());
    for (i, col) in row.columns().iter().enumerate() {
        let value = match col.type_info().name() {
            "INT8" => row.try_get::<Option<i64>, _>(i).map(|v| v.map(Val::Int)),
            "INT4" => row
                .try_get::<Option<i32>, _>(i)
                .map(|v| v.map(|n| Val::Int(n.into()))),
            "INT2" => row
                .try_get::<Option<i16>, _>(i)
                .map(|v| v.map(|n| Val::Int(n.into()))),
            "BOOL" => row.try_get::<Option<bool>, _>(i).map(|v| v.map(Val::Bool)),
            "FLOAT8" => row.try_get::<Option<f64>, _>(i).map(|v| v.map(Val::Real)),
            _ => row
                .try_get::<Option<String>, _>(i)
                .map(|v| v.map(Val::Text)),
        }
        .map_err(map_sqlx_error)?;
        values.push(value.unwrap_or(Val::Null));
    }
    Ok(Row {
        names: names.clone(),
        values,
    })
}

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

fn sqlite_query(
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

fn sqlite_execute(
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
