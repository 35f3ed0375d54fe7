//! One connection handle for both backends, so every query is written once.
//!
//! SQL uses `$N` placeholders on both. SQLite runs on the calling thread through
//! `rusqlite`: a statement costs microseconds, far less than a hop to a worker thread.
//! PostgreSQL goes through `sqlx`.

mod postgres;
mod sqlite;
pub(crate) mod values;

pub(crate) use values::{args, Arg, Row};

use crate::error::map_sqlx_error;
use crate::sqlite::SqliteConn;
use roster_core::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Transaction};

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
            Db::Sqlite(c) => return c.run(|conn| sqlite::query(conn, sql, args)).await,
            Db::Pg(c) => c,
            Db::PgTx(t) => t,
        };
        postgres::query(c, sql, args).await
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
            Db::Sqlite(c) => return c.run(|conn| sqlite::execute(conn, sql, args)).await,
            Db::Pg(c) => c,
            Db::PgTx(t) => t,
        };
        postgres::execute(c, sql, args).await
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
