//! Moving a tenant to a fresh key (the reset of a test suite) and deleting what the old key
//! held. A tenant's users go at once because they stay behind under the old key, which
//! no live tenant names; their rows are deleted later, a batch per transaction, so that a
//! reset answers in the same time at 10 users as at 10,000.

use super::common::placeholders;
use crate::db::{args, Arg, Db, Dialect};
use roster_core::{StoreError, TenantId};

/// Users deleted per transaction while purging a retired key. Each batch rewrites the index
/// pages its users sit on, many of them scattered by the users' random ids: smaller
/// batches keep a request's write from waiting long, larger ones write less WAL for the
/// same users (SQLite, 10,000 users: batches of 100 wait up to 11 ms and write 107 MB,
/// of 500 26 ms and 42 MB).
const PURGE_BATCH: i64 = 250;

/// In the caller's transaction: gives the live tenant stored under `old` a fresh key that
/// holds its apps, its clients and the groups named in `keep` (with their ids), and retires
/// `old` with everything else. Returns the new key and the number of users left behind.
pub(crate) async fn move_tenant(
    db: &mut Db<'_>,
    old: &TenantId,
    keep: &[&str],
    now: i64,
) -> Result<(TenantId, u64), StoreError> {
    // PostgreSQL: a lock that lets the tenant's running writes (which hold a key-share
    // lock on the row for their foreign keys) go on alongside.
    let lock = match db.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR NO KEY UPDATE",
    };
    let sql = format!(
        "SELECT public_id, name, slug, created_at FROM tenants \
         WHERE tenant_id = $1 AND retired_at IS NULL{lock}"
    );
    let tenant = db.query_one(&sql, args![old.as_str()]).await?;
    let users = db
        .query_opt(
            "SELECT n FROM tenant_user_counts WHERE tenant_id = $1",
            args![old.as_str()],
        )
        .await?
        .map(|r| r.int("n"))
        .transpose()?
        .unwrap_or(0);
    let new = TenantId::generate();
    let (o, n) = (old.as_str(), new.as_str());
    db.execute(
        "UPDATE tenants SET retired_at = $2, slug = NULL WHERE tenant_id = $1",
        args![o, now],
    )
    .await?;
    db.execute(
        "INSERT INTO tenants (tenant_id, public_id, name, slug, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        args![
            n,
            &tenant.text("public_id")?,
            &tenant.text("name")?,
            &tenant.opt_text("slug")?,
            tenant.int("created_at")?
        ],
    )
    .await?;
    db.execute(
        "INSERT INTO apps (tenant_id, app_id, name, is_management, settings, password_config, \
         created_at, updated_at) \
         SELECT $1, app_id, name, is_management, settings, password_config, created_at, updated_at \
         FROM apps WHERE tenant_id = $2",
        args![n, o],
    )
    .await?;
    db.execute(
        "UPDATE clients SET tenant_id = $1 WHERE tenant_id = $2",
        args![n, o],
    )
    .await?;
    if !keep.is_empty() {
        let sql = format!(
            "INSERT INTO groups (tenant_id, group_id, name, description, custom_data, created_at, \
             updated_at) \
             SELECT $1, group_id, name, description, custom_data, created_at, updated_at \
             FROM groups WHERE tenant_id = $2 AND name IN ({})",
            placeholders(3, keep.len())
        );
        let mut a = vec![Arg::from(n), Arg::from(o)];
        a.extend(keep.iter().map(|name| Arg::from(*name)));
        db.execute(&sql, &a).await?;
    }
    Ok((new, u64::try_from(users).unwrap_or(0)))
}

/// The keys retired and not yet purged.
pub(crate) async fn retired(db: &mut Db<'_>) -> Result<Vec<TenantId>, StoreError> {
    db.query(
        "SELECT tenant_id FROM tenants WHERE retired_at IS NOT NULL ORDER BY retired_at",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.text("tenant_id").map(TenantId::from_string))
    .collect()
}

/// Deletes up to one batch of a retired key's users (their memberships, credentials and
/// group memberships cascade); once none is left, the key itself with its copies of apps
/// and groups. Returns whether anything is left to delete. A live key is never touched.
pub(crate) async fn purge_batch(db: &mut Db<'_>, key: &TenantId) -> Result<bool, StoreError> {
    // SQLite: in rowid (creation) order, so that the table's pages and those of the
    // indexes led by creation order are rewritten once, not once per batch. PostgreSQL:
    // nodes purging the same key at once take different users.
    let (order, lock) = match db.dialect() {
        Dialect::Sqlite => ("ORDER BY rowid", ""),
        Dialect::Postgres => ("", "FOR UPDATE SKIP LOCKED"),
    };
    let sql = format!(
        "DELETE FROM users WHERE tenant_id = $1 \
         AND user_id IN (SELECT user_id FROM users WHERE tenant_id = $1 {order} LIMIT $2 {lock}) \
         AND EXISTS (SELECT 1 FROM tenants WHERE tenant_id = $1 AND retired_at IS NOT NULL)"
    );
    let deleted = db.execute(&sql, args![key.as_str(), PURGE_BATCH]).await?;
    if deleted > 0 {
        return Ok(true);
    }
    // Only once no user is left: never one cascade over what another node still deletes.
    let gone = db
        .execute(
            "DELETE FROM tenants WHERE tenant_id = $1 AND retired_at IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1)",
            args![key.as_str()],
        )
        .await?;
    if gone > 0 {
        return Ok(false);
    }
    let left = db
        .query_opt(
            "SELECT 1 AS one FROM users WHERE tenant_id = $1 LIMIT 1",
            args![key.as_str()],
        )
        .await?;
    Ok(left.is_some())
}
