//! Seed files (`DECISIONS.md`, "Seed files"): tenants, fixed management and app clients,
//! apps, users and groups, declared once and checked into a [`SeedPlan`] that the store
//! applies in one transaction. Every problem names its entry path
//! (`tenants[0].apps[1].clients[0].client_secret`).

mod plan;
pub mod reconcile;

pub use plan::{AppPlan, ClientPlan, GroupPlan, PlannedPassword, SeedPlan, TenantPlan, UserPlan};

use crate::app::PasswordConfiguration;
use crate::StoreError;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// The file as written. Unknown keys are errors: a typo must not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub tenants: Vec<TenantEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantEntry {
    /// Matched by name; `Default` is the tenant a first start makes.
    pub name: String,
    #[serde(default)]
    pub management_clients: Vec<ClientEntry>,
    #[serde(default)]
    pub apps: Vec<AppEntry>,
    #[serde(default)]
    pub groups: Vec<GroupEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientEntry {
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    /// Matched by name within the tenant.
    pub app_name: String,
    #[serde(default)]
    pub app_description: Option<String>,
    #[serde(default)]
    pub password_configuration: Option<PasswordConfiguration>,
    #[serde(default)]
    pub clients: Vec<ClientEntry>,
    /// Each a `POST /v1/users` body for this app.
    #[serde(default)]
    pub users: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEntry {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub custom_data: Option<Value>,
    /// Seeded users of the tenant, by email, phone number, external_user_id or username.
    #[serde(default)]
    pub members: Vec<String>,
}

/// One problem of a seed, at one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedError {
    pub path: String,
    pub message: String,
}

impl SeedError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why applying a seed failed: an entry the database refuses (nothing is applied), or the
/// database itself.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Entry(SeedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests;
