//! Who is calling: the verified content of a bearer token.

use crate::{AppId, ClientId, Permission, PermissionSet, TenantId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A client of an ordinary app: tenant-level data plus its own app.
    Client,
    /// A client of the management app: the whole tenant.
    Admin,
    /// An end user logged in to an app.
    User,
}

#[derive(Clone, Debug)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub client_id: ClientId,
    /// Set for user tokens (`sub` = user id).
    pub user_id: Option<String>,
    pub kind: PrincipalKind,
    pub permissions: PermissionSet,
}

impl Principal {
    pub fn has_any(&self, required: &[Permission]) -> bool {
        self.permissions.contains_any(required)
    }

    pub fn is_admin(&self) -> bool {
        self.kind == PrincipalKind::Admin
    }
}
