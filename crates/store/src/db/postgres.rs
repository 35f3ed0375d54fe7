//! Running a statement on PostgreSQL through `sqlx`.

use super::values::{Arg, Row, Val};
use crate::error::map_sqlx_error;
use roster_core::StoreError;
use sqlx::postgres::PgRow;
use sqlx::{Column, PgConnection, Postgres, TypeInfo};
use std::sync::Arc;

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn pg_bind<'q>(mut q: PgQuery<'q>, args: &[Arg<'q>]) -> PgQuery<'q> {
    for a in args {
        q = match *a {
            Arg::Text(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
            Arg::Real(v) => q.bind(v),
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

pub(super) async fn query(
    c: &mut PgConnection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<Vec<Row>, StoreError> {
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

pub(super) async fn execute(
    c: &mut PgConnection,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<u64, StoreError> {
    let done = pg_bind(sqlx::query(sql), args)
        .execute(c)
        .await
        .map_err(map_sqlx_error)?;
    Ok(done.rows_affected())
}
