//! Refresh tokens: one row per token, found by its digest.

use crate::db::{args, Db};
use roster_core::session::Rotation;
use roster_core::{AppId, ClientId, StoreError, TenantId, UserId};

/// Sessions (families) one user keeps in one app; a new login ends the oldest past these.
pub const SESSIONS_PER_USER_AND_APP: i64 = 50;
/// Used tokens kept per family to recognise a replay; older ones are forgotten, and one of
/// them presented again is refused like any unknown token.
pub const USED_KEPT_PER_FAMILY: i64 = 10;

/// A token to store: its digest and what it belongs to.
pub(crate) struct NewToken<'a> {
    pub digest: &'a str,
    pub user_id: &'a UserId,
    pub app_id: &'a AppId,
    pub client_id: &'a ClientId,
    pub family_id: &'a str,
    pub expires_at: i64,
    pub now: i64,
}

pub(crate) async fn insert(
    db: &mut Db<'_>,
    tenant: &TenantId,
    t: &NewToken<'_>,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO refresh_tokens (token_hash, tenant_id, user_id, app_id, client_id, family_id, \
         expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            t.digest,
            tenant.as_str(),
            t.user_id.as_str(),
            t.app_id.as_str(),
            t.client_id.as_str(),
            t.family_id,
            t.expires_at,
            t.now
        ],
    )
    .await?;
    Ok(())
}

/// In a transaction: uses up the token with digest `presented` if it is current and the
/// client's, and stores `next` in its family. A token used before revokes its family.
pub(crate) async fn rotate(
    db: &mut Db<'_>,
    tenant: &TenantId,
    client_id: &ClientId,
    presented: &str,
    next: &str,
    now: i64,
    ttl_ms: i64,
) -> Result<Rotation, StoreError> {
    let sql = format!(
        "SELECT user_id, app_id, client_id, family_id, expires_at, used_at, revoked \
         FROM refresh_tokens WHERE token_hash = $1 AND tenant_id = $2{}",
        db.dialect().for_update()
    );
    let Some(row) = db
        .query_opt(&sql, args![presented, tenant.as_str()])
        .await?
    else {
        return Ok(Rotation::Refused);
    };
    let family = row.text("family_id")?;
    if row.text("client_id")? != client_id.as_str() || row.bool("revoked")? {
        return Ok(Rotation::Refused);
    }
    if row.opt_int("used_at")?.is_some() {
        // A rotated token came back: whoever holds the family, it is stolen or replayed.
        db.execute(
            "UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1 AND tenant_id = $2",
            args![&family, tenant.as_str()],
        )
        .await?;
        return Ok(Rotation::Refused);
    }
    if row.int("expires_at")? <= now {
        return Ok(Rotation::Refused);
    }
    db.execute(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1",
        args![presented, now],
    )
    .await?;
    let user_id = UserId::from_string(row.text("user_id")?);
    let app_id = AppId::from_string(row.text("app_id")?);
    let token = NewToken {
        digest: next,
        user_id: &user_id,
        app_id: &app_id,
        client_id,
        family_id: &family,
        expires_at: now + ttl_ms,
        now,
    };
    insert(db, tenant, &token).await?;
    db.execute(
        "DELETE FROM refresh_tokens WHERE family_id = $1 AND tenant_id = $2 \
         AND used_at IS NOT NULL AND token_hash NOT IN (SELECT token_hash FROM refresh_tokens \
         WHERE family_id = $1 AND tenant_id = $2 AND used_at IS NOT NULL \
         ORDER BY used_at DESC LIMIT $3)",
        args![&family, tenant.as_str(), USED_KEPT_PER_FAMILY],
    )
    .await?;
    Ok(Rotation::Rotated(user_id))
}

/// In a transaction, before a new session of `user_id` in `app_id`: drops its expired
/// tokens and ends its oldest sessions so that at most [`SESSIONS_PER_USER_AND_APP`]
/// remain with the new one.
pub(crate) async fn prune_sessions(
    db: &mut Db<'_>,
    tenant: &TenantId,
    user_id: &UserId,
    app_id: &AppId,
    now: i64,
) -> Result<(), StoreError> {
    let (t, u, a) = (tenant.as_str(), user_id.as_str(), app_id.as_str());
    db.execute(
        "DELETE FROM refresh_tokens WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3 \
         AND expires_at <= $4",
        args![t, u, a, now],
    )
    .await?;
    db.execute(
        "DELETE FROM refresh_tokens WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3 \
         AND family_id NOT IN (SELECT family_id FROM refresh_tokens \
         WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3 \
         GROUP BY family_id ORDER BY MAX(created_at) DESC, family_id LIMIT $4)",
        args![t, u, a, SESSIONS_PER_USER_AND_APP - 1],
    )
    .await?;
    Ok(())
}
