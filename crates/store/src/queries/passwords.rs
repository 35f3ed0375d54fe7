//! Password credentials: one per user and app (`user_passwords`, keyed by the membership).

use super::common::{from_json, to_json};
use crate::db::{args, Db};
use roster_core::password::{Failures, NewPassword, PasswordHash, StoredPassword};
use roster_core::{AppId, StoreError, TenantId, UniqueKey, UserId};

/// The user's password in the app, if one is set.
pub(crate) async fn get_password(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    user_id: &UserId,
) -> Result<Option<StoredPassword>, StoreError> {
    let row = db
        .query_opt(
            "SELECT hash, temporary, updated_at, expires_at, history, failures, failures_since, \
             locked_until FROM user_passwords \
             WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3",
            args![tenant.as_str(), user_id.as_str(), app.as_str()],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let history: Vec<String> = from_json(&row.text("history")?)?;
    Ok(Some(StoredPassword {
        hash: PasswordHash::from_stored(row.text("hash")?),
        temporary: row.bool("temporary")?,
        updated_at: row.int("updated_at")?,
        expires_at: row.opt_int("expires_at")?,
        history: history.into_iter().map(PasswordHash::from_stored).collect(),
        failures: Failures {
            count: u32::try_from(row.int("failures")?).unwrap_or(u32::MAX),
            since: row.opt_int("failures_since")?,
            locked_until: row.opt_int("locked_until")?,
        },
    }))
}

/// Whether the user is a member of the app.
pub(crate) async fn is_member(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    user_id: &UserId,
) -> Result<bool, StoreError> {
    let row = db
        .query_opt(
            "SELECT user_id FROM user_apps WHERE tenant_id = $1 AND app_id = $2 AND user_id = $3",
            args![tenant.as_str(), app.as_str(), user_id.as_str()],
        )
        .await?;
    Ok(row.is_some())
}

/// A first password. `Conflict` when the user has one in the app already; `NotFound`
/// when the user is not a member of it.
pub(crate) async fn insert_password(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    user_id: &UserId,
    new: &NewPassword,
) -> Result<(), StoreError> {
    let history = history_json(new)?;
    db.execute(
        "INSERT INTO user_passwords (tenant_id, user_id, app_id, hash, temporary, updated_at, \
         expires_at, history) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            tenant.as_str(),
            user_id.as_str(),
            app.as_str(),
            new.hash.as_str(),
            new.temporary,
            new.updated_at,
            new.expires_at,
            &history
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(UniqueKey::Other("password".into())),
        e => e,
    })?;
    Ok(())
}

/// Replaces the password set at `expected` (its `updated_at`); `NotFound` when there is
/// none, or it changed meanwhile.
pub(crate) async fn replace_password(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    user_id: &UserId,
    expected: i64,
    new: &NewPassword,
) -> Result<(), StoreError> {
    let history = history_json(new)?;
    let changed = db
        .execute(
            "UPDATE user_passwords SET hash = $4, temporary = $5, updated_at = $6, expires_at = $7, \
             history = $8, failures = 0, failures_since = NULL, locked_until = NULL \
             WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3 AND updated_at = $9",
            args![
                tenant.as_str(),
                user_id.as_str(),
                app.as_str(),
                new.hash.as_str(),
                new.temporary,
                new.updated_at,
                new.expires_at,
                &history,
                expected
            ],
        )
        .await?;
    match changed {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

fn history_json(new: &NewPassword) -> Result<String, StoreError> {
    let history: Vec<&str> = new.history.iter().map(PasswordHash::as_str).collect();
    to_json(&history)
}

/// Writes the failed-login state of the password.
pub(crate) async fn set_failures(
    db: &mut Db<'_>,
    tenant: &TenantId,
    app: &AppId,
    user_id: &UserId,
    failures: &Failures,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE user_passwords SET failures = $4, failures_since = $5, locked_until = $6 \
         WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3",
        args![
            tenant.as_str(),
            user_id.as_str(),
            app.as_str(),
            i64::from(failures.count),
            failures.since,
            failures.locked_until
        ],
    )
    .await?;
    Ok(())
}
