//! Users: the tenant-level profile and the per-app membership.

mod contact;
mod create;
pub(crate) mod input;
mod link;
mod update;
mod verify;

pub use contact::{Email, EmailKey, PhoneNumber};
pub use input::{
    ident, AddressInput, CreateUserInput, DelegatedAccessInput, NameInput, NewUser, PasswordInput,
    UpdateUserInput, VerifyInput, CUSTOM_DATA_MAX_BYTES,
};
pub use link::{decide, Claim, Decision, Found, TenantKey};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::id::UserId;

/// An email or phone number with its verification state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact<T> {
    pub value: T,
    #[serde(default)]
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<i64>,
}

impl<T> Contact<T> {
    pub fn unverified(value: T) -> Self {
        Self {
            value,
            verified: false,
            verified_at: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Status))]
pub enum UserStatus {
    Active,
    Disabled,
    Pending,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "Active",
            UserStatus::Disabled => "Disabled",
            UserStatus::Pending => "Pending",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Active" => Some(UserStatus::Active),
            "Disabled" => Some(UserStatus::Disabled),
            "Pending" => Some(UserStatus::Pending),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiUserName))]
pub struct Name {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AddressType {
    Home,
    Work,
    Other,
}

impl AddressType {
    /// Any letter case is accepted; the answer always uses Transmit's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "home" => Some(AddressType::Home),
            "work" => Some(AddressType::Work),
            "other" => Some(AddressType::Other),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiAddress))]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub address_type: Option<AddressType>,
    #[serde(default)]
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DelegatedAccess {
    pub actor_id: String,
    pub permissions: Vec<String>,
}

/// Tenant-level fields kept as one document (they are read and replaced together).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secondary_emails: Vec<Contact<Email>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secondary_phone_numbers: Vec<Contact<PhoneNumber>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegated_access: Option<DelegatedAccess>,
}

/// A sign-in identity of the user (filled by login flows).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub provider_name: String,
    pub provider_type: String,
    pub auth_type: String,
    pub identifier: String,
    pub first_auth_date: i64,
    pub last_auth_date: i64,
}

/// The tenant-level user.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub user_id: UserId,
    pub email: Option<Contact<Email>>,
    pub phone_number: Option<Contact<PhoneNumber>>,
    pub external_user_id: Option<String>,
    pub status: UserStatus,
    pub status_changed_at: i64,
    pub last_auth: Option<i64>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    pub profile: Profile,
    pub custom_data: Map<String, Value>,
    pub identities: Vec<Identity>,
    pub group_ids: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// App-level data of a user in one app.
#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    pub app_id: crate::AppId,
    pub app_name: String,
    pub username: Option<String>,
    pub external_account_id: Option<String>,
    pub custom_app_data: Map<String, Value>,
    /// The user's password in this app, if one is set.
    pub password: Option<crate::password::PasswordInfo>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A user as one caller sees it: app-level data only for the caller's app.
#[derive(Clone, Debug, PartialEq)]
pub struct UserView {
    pub user: User,
    pub membership: Option<Membership>,
}

/// Which users a caller reaches, and whose app-level data it sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A client token: only the users of its app.
    Members(crate::AppId),
    /// An admin token: every user of the tenant, app-level data of one app if named.
    Tenant(Option<crate::AppId>),
}

impl Scope {
    /// The app whose data is read and written, if any.
    pub fn app(&self) -> Option<&crate::AppId> {
        match self {
            Scope::Members(app) => Some(app),
            Scope::Tenant(app) => app.as_ref(),
        }
    }
}

/// A unique way to find one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The primary email.
    Email(EmailKey),
    /// The primary phone.
    Phone(PhoneNumber),
    ExternalUserId(String),
    /// Lower-cased username, per app.
    Username(String),
    /// `identities[].identifier`.
    IdpIdentifier(String),
}

/// `sort_field` of the user list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    Email,
    PhoneNumber,
    LastAuth,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    pub offset: u64,
    pub limit: u64,
    pub sort: SortField,
    pub descending: bool,
    /// Prefix of the primary email (lower-cased) or phone number.
    pub prefix: Option<String>,
    /// The `search` filter.
    pub filter: Option<crate::filter::Filter>,
}

/// What a create did: a new user, or an existing tenant user linked to the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    New,
    Linked,
}
