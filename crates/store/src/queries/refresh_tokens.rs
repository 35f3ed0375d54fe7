//! Refresh tokens: one row per token, found by its digest.

use crate::db::{args, Db};
use roster_core::session::Rotation;
use roster_core::{AppId, ClientId, StoreError, TenantId, UserId};

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
    Ok(Rotation::Rotated(user_id))
}
