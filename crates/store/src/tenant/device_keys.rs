//! A user's device keys in one app.

use super::TenantStore;
use crate::backend::in_tx;
use crate::queries::device_keys::{self as keys, Owner};
use roster_core::device_key::{DeviceKey, KeyChange, KeyStatus};
use roster_core::time::now_ms;
use roster_core::{AppId, Error, UserId};

impl TenantStore {
    fn owner<'a>(&'a self, app: &'a AppId, user: &'a UserId) -> Owner<'a> {
        Owner {
            tenant: &self.key,
            app,
            user,
        }
    }

    /// Registers a key for a member of `app`; a `key_id` the user has in the app is a 409.
    pub async fn add_device_key(
        &self,
        app: &AppId,
        user: &UserId,
        key: &DeviceKey,
    ) -> Result<(), Error> {
        let mut db = self.backend().write().await?;
        keys::insert_key(&mut db, &self.owner(app, user), key).await
    }

    pub async fn device_keys(&self, app: &AppId, user: &UserId) -> Result<Vec<DeviceKey>, Error> {
        let o = self.owner(app, user);
        let mut db = self.backend().read().await?;
        o.ensure_member(&mut db).await?;
        keys::list_keys(&mut db, &o).await
    }

    pub async fn device_key(
        &self,
        app: &AppId,
        user: &UserId,
        key_id: &str,
    ) -> Result<DeviceKey, Error> {
        let o = self.owner(app, user);
        let mut db = self.backend().read().await?;
        o.ensure_member(&mut db).await?;
        keys::get_key(&mut db, &o, key_id, false).await
    }

    /// Replaces the metadata `change` names, in one transaction.
    pub async fn update_device_key(
        &self,
        app: &AppId,
        user: &UserId,
        key_id: &str,
        change: KeyChange,
    ) -> Result<DeviceKey, Error> {
        let o = self.owner(app, user);
        let now = now_ms();
        in_tx!(self.backend(), db => {
            o.ensure_member(&mut db).await?;
            keys::update_key(&mut db, &o, key_id, |k| change.apply(k, now)).await?
        })
    }

    /// Blocks or unblocks the key.
    pub async fn set_device_key_status(
        &self,
        app: &AppId,
        user: &UserId,
        key_id: &str,
        status: KeyStatus,
    ) -> Result<DeviceKey, Error> {
        let o = self.owner(app, user);
        let now = now_ms();
        in_tx!(self.backend(), db => {
            o.ensure_member(&mut db).await?;
            keys::update_key(&mut db, &o, key_id, |k| {
                k.status = status;
                k.updated_at = now;
            })
            .await?
        })
    }

    pub async fn delete_device_key(
        &self,
        app: &AppId,
        user: &UserId,
        key_id: &str,
    ) -> Result<(), Error> {
        let o = self.owner(app, user);
        let mut db = self.backend().write().await?;
        o.ensure_member(&mut db).await?;
        keys::delete_key(&mut db, &o, key_id).await
    }
}
