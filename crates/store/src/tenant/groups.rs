//! The tenant's groups and their members.

use super::TenantStore;
use crate::backend::in_tx;
use crate::queries::groups;
use roster_core::group::{Group, GroupChange};
use roster_core::time::now_ms;
use roster_core::user::{Scope, UserView};
use roster_core::{Error, GroupId, UserId};

impl TenantStore {
    /// Creates the group; a name the tenant has already is a 409.
    pub async fn create_group(&self, change: GroupChange) -> Result<Group, Error> {
        let group = change.create(now_ms());
        let mut db = self.backend().write().await?;
        groups::insert_group(&mut db, &self.key, &group).await?;
        Ok(group)
    }

    pub async fn list_groups(&self) -> Result<Vec<Group>, Error> {
        let mut db = self.backend().read().await?;
        groups::list_groups(&mut db, &self.key).await
    }

    pub async fn get_group(&self, group_id: &GroupId) -> Result<Group, Error> {
        let mut db = self.backend().read().await?;
        groups::get_group(&mut db, &self.key, group_id, false).await
    }

    /// Applies `change` to the group in one transaction.
    pub async fn update_group(
        &self,
        group_id: &GroupId,
        change: GroupChange,
    ) -> Result<Group, Error> {
        let now = now_ms();
        in_tx!(self.backend(), db => {
            groups::update_group(&mut db, &self.key, group_id, |g| change.apply(g, now)).await?
        })
    }

    /// Deletes the group with its memberships.
    pub async fn delete_group(&self, group_id: &GroupId) -> Result<(), Error> {
        let mut db = self.backend().write().await?;
        groups::delete_group(&mut db, &self.key, group_id).await
    }

    /// Adds the tenant's users to the group, all or none.
    pub async fn add_group_members(
        &self,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> Result<(), Error> {
        let now = now_ms();
        in_tx!(self.backend(), db => {
            groups::add_members(&mut db, &self.key, group_id, user_ids, now).await?
        })
    }

    pub async fn remove_group_member(
        &self,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> Result<(), Error> {
        let mut db = self.backend().write().await?;
        groups::remove_member(&mut db, &self.key, group_id, user_id).await
    }

    /// The members `scope` sees, by user id.
    pub async fn group_members(
        &self,
        scope: &Scope,
        group_id: &GroupId,
        limit: u64,
        offset: u64,
    ) -> Result<Vec<UserView>, Error> {
        let mut db = self.backend().read().await?;
        groups::members(&mut db, &self.key, scope, group_id, limit, offset).await
    }

    /// The groups of a user `scope` sees; 404 for any other.
    pub async fn user_groups(&self, scope: &Scope, user_id: &UserId) -> Result<Vec<Group>, Error> {
        let mut db = self.backend().read().await?;
        groups::user_groups(&mut db, &self.key, scope, user_id).await
    }
}
