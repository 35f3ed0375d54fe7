//! Roster's domain: identifiers, models, permissions and errors. No HTTP, no SQL.

pub mod app;
pub mod device_key;
pub mod error;
pub mod filter;
pub mod group;
pub mod id;
pub mod object;
pub mod password;
pub mod permission;
pub mod principal;
pub mod secret;
pub mod seed;
pub mod session;
pub mod signing_key;
pub mod time;
pub mod user;

pub use app::{App, Client, ClientCredentials, NewApp, NewClient, PasswordConfiguration, Tenant};
pub use error::{Error, StoreError, UniqueKey};
pub use id::{AppId, ClientId, GroupId, TenantId, UserId};
pub use permission::{Permission, PermissionSet};
pub use principal::{Principal, PrincipalKind};
