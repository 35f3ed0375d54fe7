//! The `ApiUser` JSON of Transmit's Users API.

use crate::routes::iso;
use roster_core::time::now_ms;
use roster_core::user::{Contact, Email, PhoneNumber, UserView};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = ApiUserEmail)]
struct EmailJson<'a> {
    value: &'a str,
    email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiUserPhone)]
struct PhoneJson<'a> {
    value: &'a str,
    phone_number_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified_at: Option<String>,
}

fn email(c: &Contact<Email>) -> EmailJson<'_> {
    EmailJson {
        value: c.value.as_str(),
        email_verified: c.verified,
        verified_at: c.verified_at.map(iso),
    }
}

fn phone(c: &Contact<PhoneNumber>) -> PhoneJson<'_> {
    PhoneJson {
        value: c.value.as_str(),
        phone_number_verified: c.verified,
        verified_at: c.verified_at.map(iso),
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiUserIdentity)]
struct IdentityJson<'a> {
    provider_name: &'a str,
    provider_type: &'a str,
    auth_type: &'a str,
    identifier: &'a str,
    first_auth_date: String,
    last_auth_date: String,
}

/// `ApiPasswordInformation`: the user's password in the caller's app.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiPasswordInformation)]
struct PasswordInformation {
    /// Past its expiry: the next login must replace it.
    expired: bool,
    /// Set by an admin: the next login must replace it.
    temporary: bool,
    /// Epoch milliseconds.
    updated_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<String>,
}

/// Unset fields are omitted; lists and `custom_data` are always present.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiUser)]
pub struct UserJson<'a> {
    user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<EmailJson<'a>>,
    secondary_emails: Vec<EmailJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<PhoneJson<'a>>,
    secondary_phone_numbers: Vec<PhoneJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birthday: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a roster_core::user::Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a roster_core::user::Name>,
    #[schema(value_type = roster_core::user::UserStatus)]
    status: &'static str,
    status_changed_at: String,
    created_at: i64,
    updated_at: i64,
    identities: Vec<IdentityJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_auth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    custom_app_data: Option<&'a Map<String, Value>>,
    #[serde(rename = "groupIds")]
    group_ids: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    picture: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[schema(value_type = Object)]
    custom_data: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_information: Option<PasswordInformation>,
}

impl<'a> UserJson<'a> {
    pub fn new(view: &'a UserView) -> Self {
        let u = &view.user;
        let m = view.membership.as_ref();
        Self {
            user_id: u.user_id.as_str(),
            email: u.email.as_ref().map(email),
            secondary_emails: u.profile.secondary_emails.iter().map(email).collect(),
            phone_number: u.phone_number.as_ref().map(phone),
            secondary_phone_numbers: u
                .profile
                .secondary_phone_numbers
                .iter()
                .map(phone)
                .collect(),
            username: m.and_then(|m| m.username.as_deref()),
            birthday: u.birthday.as_ref().map(|d| format!("{d}T00:00:00.000Z")),
            address: u.profile.address.as_ref(),
            name: u.profile.name.as_ref(),
            status: u.status.as_str(),
            status_changed_at: iso(u.status_changed_at),
            created_at: u.created_at,
            updated_at: u.updated_at,
            identities: u
                .identities
                .iter()
                .map(|i| IdentityJson {
                    provider_name: &i.provider_name,
                    provider_type: &i.provider_type,
                    auth_type: &i.auth_type,
                    identifier: &i.identifier,
                    first_auth_date: iso(i.first_auth_date),
                    last_auth_date: iso(i.last_auth_date),
                })
                .collect(),
            last_auth: u.last_auth.map(iso),
            external_account_id: m.and_then(|m| m.external_account_id.as_deref()),
            app_name: m.map(|m| m.app_name.as_str()),
            custom_app_data: m.map(|m| &m.custom_app_data),
            group_ids: &u.group_ids,
            picture: u.profile.picture.as_deref(),
            language: u.profile.language.as_deref(),
            custom_data: &u.custom_data,
            external_user_id: u.external_user_id.as_deref(),
            password_information: m.and_then(|m| m.password).map(|p| PasswordInformation {
                expired: p.expires_at.is_some_and(|at| at <= now_ms()),
                temporary: p.temporary,
                updated_at: p.updated_at,
                expires_in: p.expires_at.map(iso),
            }),
        }
    }
}
