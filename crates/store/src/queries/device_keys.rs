//! Device keys of a user in one app.

use super::common::{delete_some, from_json, to_json};
use crate::db::{args, Db, Row};
use roster_core::device_key::{DeviceKey, KeyStatus, PushConfig};
use roster_core::user::Scope;
use roster_core::{AppId, Error, StoreError, TenantId, UserId};

const COLUMNS: &str =
    "key_id, public_key, display_name, custom_data, push_config, status, created_at, updated_at";

/// Which user's keys in which app.
pub(crate) struct Owner<'a> {
    pub tenant: &'a TenantId,
    pub app: &'a AppId,
    pub user: &'a UserId,
}

impl Owner<'_> {
    /// `User not found` unless the user is a member of the app.
    pub(crate) async fn ensure_member(&self, db: &mut Db<'_>) -> Result<(), Error> {
        let scope = Scope::Members(self.app.clone());
        super::users_read::ensure_visible(db, self.tenant, &scope, self.user).await
    }
}

fn key_from_row(row: &Row) -> Result<DeviceKey, StoreError> {
    let status = row.text("status")?;
    Ok(DeviceKey {
        key_id: row.text("key_id")?,
        public_key: row.text("public_key")?,
        display_name: row.opt_text("display_name")?,
        custom_data: from_json(&row.text("custom_data")?)?,
        push_config: row
            .opt_text("push_config")?
            .map(|p| from_json::<PushConfig>(&p))
            .transpose()?,
        status: KeyStatus::parse(&status)
            .ok_or_else(|| StoreError::Other(format!("unknown device key status {status}")))?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn key_not_found() -> Error {
    Error::NotFound("Device key not found".into())
}

/// Stores a new key; the user must be a member of the app (`NotFound` otherwise) and the
/// key id new for the user in the app (`Conflict`).
pub(crate) async fn insert_key(db: &mut Db<'_>, o: &Owner<'_>, k: &DeviceKey) -> Result<(), Error> {
    let custom_data = to_json(&k.custom_data)?;
    let push = k.push_config.as_ref().map(to_json).transpose()?;
    let done = db
        .execute(
            "INSERT INTO device_keys (tenant_id, user_id, app_id, key_id, public_key, display_name, \
             custom_data, push_config, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            args![
                o.tenant.as_str(),
                o.user.as_str(),
                o.app.as_str(),
                &k.key_id,
                &k.public_key,
                k.display_name.as_deref(),
                &custom_data,
                push.as_deref(),
                k.status.as_str(),
                k.created_at,
                k.updated_at
            ],
        )
        .await;
    match done {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(super::users_read::user_not_found()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn list_keys(db: &mut Db<'_>, o: &Owner<'_>) -> Result<Vec<DeviceKey>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM device_keys WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3 \
         ORDER BY created_at, key_id"
    );
    let rows = db
        .query(
            &sql,
            args![o.tenant.as_str(), o.user.as_str(), o.app.as_str()],
        )
        .await?;
    Ok(rows.iter().map(key_from_row).collect::<Result<_, _>>()?)
}

pub(crate) async fn get_key(
    db: &mut Db<'_>,
    o: &Owner<'_>,
    key_id: &str,
    lock: bool,
) -> Result<DeviceKey, Error> {
    let lock = if lock { db.dialect().for_update() } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM device_keys WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3 \
         AND key_id = $4{lock}"
    );
    let row = db
        .query_opt(
            &sql,
            args![o.tenant.as_str(), o.user.as_str(), o.app.as_str(), key_id],
        )
        .await?
        .ok_or_else(key_not_found)?;
    Ok(key_from_row(&row)?)
}

/// In a transaction: reads the key, applies `change`, writes its metadata and status back.
pub(crate) async fn update_key<F>(
    db: &mut Db<'_>,
    o: &Owner<'_>,
    key_id: &str,
    change: F,
) -> Result<DeviceKey, Error>
where
    F: FnOnce(&mut DeviceKey),
{
    let mut k = get_key(db, o, key_id, true).await?;
    change(&mut k);
    let custom_data = to_json(&k.custom_data)?;
    let push = k.push_config.as_ref().map(to_json).transpose()?;
    db.execute(
        "UPDATE device_keys SET display_name = $5, custom_data = $6, push_config = $7, status = $8, \
         updated_at = $9 WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3 AND key_id = $4",
        args![
            o.tenant.as_str(),
            o.user.as_str(),
            o.app.as_str(),
            key_id,
            k.display_name.as_deref(),
            &custom_data,
            push.as_deref(),
            k.status.as_str(),
            k.updated_at
        ],
    )
    .await?;
    Ok(k)
}

pub(crate) async fn delete_key(db: &mut Db<'_>, o: &Owner<'_>, key_id: &str) -> Result<(), Error> {
    delete_some(
        db,
        "DELETE FROM device_keys WHERE tenant_id = $1 AND user_id = $2 AND app_id = $3 AND key_id = $4",
        args![o.tenant.as_str(), o.user.as_str(), o.app.as_str(), key_id],
    )
    .await
    .map_err(|e| match e {
        StoreError::NotFound => key_not_found(),
        e => e.into(),
    })
}
