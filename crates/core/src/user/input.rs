//! Create and update inputs as they arrive, and the field checks that creates
//! (`create.rs`) and updates (`update.rs`) share. Every message names the field it is about.

use super::{Address, AddressType, Contact, Email, Membership, Name, PhoneNumber, User};
use crate::Error;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Cap of `custom_data` and of `custom_app_data`, serialised.
pub const CUSTOM_DATA_MAX_BYTES: usize = 500 * 1024;
const NAME_MAX: usize = 30;
const ADDRESS_MAX: usize = 30;
const STREET_MAX: usize = 150;
pub(super) const ID_MAX: usize = 256;
pub(super) const PICTURE_MAX: usize = 2048;
pub(super) const LANGUAGE_MAX: usize = 64;
const SECONDARY_MAX: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiUserNameInput))]
pub struct NameInput {
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub middle_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiCreateOrUpdateAddressInput))]
pub struct AddressInput {
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub street_address: Option<String>,
    pub postal_code: Option<String>,
    /// Any letter case of `Home`, `Work` or `Other`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<super::AddressType>))]
    pub address_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DelegatedAccessInput))]
pub struct DelegatedAccessInput {
    pub actor_id: String,
    pub permissions: Vec<String>,
}

/// The password a create may carry (`ApiUserPasswordInput`).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiUserPasswordInput))]
pub struct PasswordInput {
    pub password: String,
    /// When true (the default) the password is temporary.
    pub force_replace: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiCreateUserInput))]
pub struct CreateUserInput {
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub username: Option<String>,
    pub secondary_emails: Option<Vec<String>>,
    pub secondary_phone_numbers: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub birthday: Option<String>,
    #[serde(default, deserialize_with = "crate::object::optional")]
    pub address: Option<AddressInput>,
    #[serde(default, deserialize_with = "crate::object::optional")]
    pub name: Option<NameInput>,
    pub external_account_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_app_data: Option<Value>,
    pub picture: Option<String>,
    pub language: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_data: Option<Value>,
    pub external_user_id: Option<String>,
    #[serde(default, deserialize_with = "crate::object::optional")]
    pub credentials: Option<PasswordInput>,
    #[serde(default, deserialize_with = "crate::object::optional")]
    pub delegated_access: Option<DelegatedAccessInput>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiUpdateUserInput))]
pub struct UpdateUserInput {
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub secondary_emails: Option<Vec<String>>,
    pub secondary_phone_numbers: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub birthday: Option<String>,
    #[serde(default, deserialize_with = "crate::object::optional")]
    pub address: Option<AddressInput>,
    #[serde(default, deserialize_with = "crate::object::optional")]
    pub name: Option<NameInput>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<super::UserStatus>))]
    pub status: Option<String>,
    pub external_account_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_app_data: Option<Value>,
    pub picture: Option<String>,
    pub language: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_data: Option<Value>,
    pub external_user_id: Option<String>,
    pub username: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = UserVerifyEmailOrPhoneNumberInput))]
pub struct VerifyInput {
    pub change_to_primary: Option<bool>,
}

/// A validated create: the new tenant-level user and the app-level fields.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub user: User,
    pub username: Option<String>,
    pub external_account_id: Option<String>,
    pub custom_app_data: Map<String, Value>,
    /// The password the request carries, before the app's policy and hashing.
    pub credentials: Option<crate::password::Credentials>,
    /// The hashed password to store with the membership.
    pub password: Option<crate::password::NewPassword>,
}

impl NewUser {
    /// Whether the create carries app-level data (which needs an app).
    pub fn has_app_data(&self) -> bool {
        self.username.is_some()
            || self.external_account_id.is_some()
            || !self.custom_app_data.is_empty()
            || self.credentials.is_some()
    }

    pub fn membership(&self, app_id: &crate::AppId, app_name: &str, now: i64) -> Membership {
        Membership {
            app_id: app_id.clone(),
            app_name: app_name.to_owned(),
            username: self.username.clone(),
            external_account_id: self.external_account_id.clone(),
            custom_app_data: self.custom_app_data.clone(),
            password: self
                .password
                .as_ref()
                .map(|p| crate::password::PasswordInfo {
                    temporary: p.temporary,
                    updated_at: p.updated_at,
                    expires_at: p.expires_at,
                }),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Collects every problem of one input before answering.
#[derive(Default)]
pub(crate) struct Problems(pub(crate) Vec<String>);

impl Problems {
    pub(crate) fn push(&mut self, message: String) {
        self.0.push(message);
    }

    pub(crate) fn take<T>(&mut self, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| self.0.push(m)).ok()
    }

    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

/// A profile string: not blank, at most `max` characters, no C0/C1 control characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("{field} must be at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// An identifier: a profile string that also refuses Unicode format characters
/// (bidi overrides, zero-width characters), so two identifiers cannot look alike.
pub fn ident(field: &str, value: &str, max: usize) -> Result<String, String> {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    let value = text(field, value, max)?;
    if value
        .chars()
        .any(|c| c.general_category() == GeneralCategory::Format)
    {
        return Err(format!(
            "{field} must not contain invisible formatting characters"
        ));
    }
    Ok(value)
}

pub(super) fn opt_ident(
    p: &mut Problems,
    field: &str,
    value: Option<String>,
    max: usize,
) -> Option<String> {
    value.and_then(|v| p.take(ident(field, &v, max)))
}

pub(super) fn opt_text(
    p: &mut Problems,
    field: &str,
    value: Option<String>,
    max: usize,
) -> Option<String> {
    value.and_then(|v| p.take(text(field, &v, max)))
}

/// `YYYY-MM-DD` or an ISO date-time; kept as the (UTC) date.
pub(super) fn birthday(value: &str) -> Result<String, String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let v = value.trim();
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(v)
                .ok()
                .map(|d| d.with_timezone(&Utc).date_naive())
        })
        .or_else(|| {
            NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|d| d.date())
        })
        .ok_or_else(|| {
            "birthday must be a date (YYYY-MM-DD) or an ISO 8601 date-time".to_owned()
        })?;
    let today = Utc::now().date_naive();
    if date > today || date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(date) {
        return Err("birthday must be between 1900-01-01 and today".into());
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

pub(crate) fn object(field: &str, value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(format!("{field} must be a JSON object")),
    }
}

pub(crate) fn check_size(field: &str, map: &Map<String, Value>) -> Result<(), String> {
    let size = serde_json::to_vec(map)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > CUSTOM_DATA_MAX_BYTES {
        return Err(format!(
            "{field} must be at most {} KB when serialised",
            CUSTOM_DATA_MAX_BYTES / 1024
        ));
    }
    Ok(())
}

/// Shallow merge: keys set to `null` are removed.
pub(super) fn merge(into: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            into.remove(&k);
        } else {
            into.insert(k, v);
        }
    }
}

pub(super) fn name(p: &mut Problems, input: NameInput) -> Name {
    Name {
        title: opt_text(p, "name.title", input.title, NAME_MAX),
        first_name: opt_text(p, "name.first_name", input.first_name, NAME_MAX),
        middle_name: opt_text(p, "name.middle_name", input.middle_name, NAME_MAX),
        last_name: opt_text(p, "name.last_name", input.last_name, NAME_MAX),
    }
}

pub(super) fn address(p: &mut Problems, input: AddressInput, now: i64) -> Address {
    let address_type = input.address_type.and_then(|t| {
        p.take(
            AddressType::parse(&t)
                .ok_or_else(|| "address.type must be one of Home, Work, Other".to_owned()),
        )
    });
    Address {
        country: opt_text(p, "address.country", input.country, ADDRESS_MAX),
        state: opt_text(p, "address.state", input.state, ADDRESS_MAX),
        city: opt_text(p, "address.city", input.city, ADDRESS_MAX),
        street_address: opt_text(
            p,
            "address.street_address",
            input.street_address,
            STREET_MAX,
        ),
        postal_code: opt_text(p, "address.postal_code", input.postal_code, ADDRESS_MAX),
        address_type,
        updated_at: now,
    }
}

pub(super) fn secondary_emails(p: &mut Problems, values: Vec<String>) -> Vec<Email> {
    if values.len() > SECONDARY_MAX {
        p.push(format!(
            "secondary_emails must have at most {SECONDARY_MAX} entries"
        ));
    }
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| p.take(Email::parse(&format!("secondary_emails[{i}]"), v)))
        .collect()
}

pub(super) fn secondary_phones(p: &mut Problems, values: Vec<String>) -> Vec<PhoneNumber> {
    if values.len() > SECONDARY_MAX {
        p.push(format!(
            "secondary_phone_numbers must have at most {SECONDARY_MAX} entries"
        ));
    }
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            p.take(PhoneNumber::parse(
                &format!("secondary_phone_numbers[{i}]"),
                v,
            ))
        })
        .collect()
}

/// `DECISIONS.md` caps a user's secondaries, not only a request's: a merge that adds past
/// the cap is a 400 and the stored user stays as it was. A user already past it (a verify
/// moved the old primary in) may still be sent entries it has.
pub(super) fn check_total(field: &str, before: usize, total: usize) -> Result<(), String> {
    if total > SECONDARY_MAX && total > before {
        return Err(format!(
            "{field}: a user has at most {SECONDARY_MAX} entries, this update would make {total}"
        ));
    }
    Ok(())
}

/// Adds secondary emails not already on the user (case-insensitively, primary included).
pub(super) fn add_secondary_emails(user: &mut User, values: Vec<Email>) {
    for v in values {
        let key = v.key();
        let known = user.email.iter().any(|e| e.value.key() == key)
            || user
                .profile
                .secondary_emails
                .iter()
                .any(|e| e.value.key() == key);
        if !known {
            user.profile.secondary_emails.push(Contact::unverified(v));
        }
    }
}

pub(super) fn add_secondary_phones(user: &mut User, values: Vec<PhoneNumber>) {
    for v in values {
        let known = user.phone_number.iter().any(|e| e.value == v)
            || user
                .profile
                .secondary_phone_numbers
                .iter()
                .any(|e| e.value == v);
        if !known {
            user.profile
                .secondary_phone_numbers
                .push(Contact::unverified(v));
        }
    }
}
