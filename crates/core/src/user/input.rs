//! Create and update inputs as they arrive, and their validation into users.
//! Every message names the field it is about.

use super::{
    Address, AddressType, Contact, DelegatedAccess, Email, EmailKey, Membership, Name, PhoneNumber,
    Profile, User, UserId, UserStatus,
};
use crate::Error;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Cap of `custom_data` and of `custom_app_data`, serialised.
pub const CUSTOM_DATA_MAX_BYTES: usize = 500 * 1024;
const NAME_MAX: usize = 30;
const ADDRESS_MAX: usize = 30;
const STREET_MAX: usize = 150;
const ID_MAX: usize = 256;
const PICTURE_MAX: usize = 2048;
const LANGUAGE_MAX: usize = 64;
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
    pub address: Option<AddressInput>,
    pub name: Option<NameInput>,
    pub external_account_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_app_data: Option<Value>,
    pub picture: Option<String>,
    pub language: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_data: Option<Value>,
    pub external_user_id: Option<String>,
    pub credentials: Option<PasswordInput>,
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
    pub address: Option<AddressInput>,
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
}

impl NewUser {
    /// Whether the create carries app-level data (which needs an app).
    pub fn has_app_data(&self) -> bool {
        self.username.is_some()
            || self.external_account_id.is_some()
            || !self.custom_app_data.is_empty()
    }

    pub fn membership(&self, app_id: &crate::AppId, app_name: &str, now: i64) -> Membership {
        Membership {
            app_id: app_id.clone(),
            app_name: app_name.to_owned(),
            username: self.username.clone(),
            external_account_id: self.external_account_id.clone(),
            custom_app_data: self.custom_app_data.clone(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Collects every problem of one input before answering.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, message: String) {
        self.0.push(message);
    }

    fn take<T>(&mut self, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| self.0.push(m)).ok()
    }

    fn finish(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}

fn text(field: &str, value: &str, max: usize) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("{field} must be at most {max} characters"));
    }
    Ok(value.to_owned())
}

fn opt_text(p: &mut Problems, field: &str, value: Option<String>, max: usize) -> Option<String> {
    value.and_then(|v| p.take(text(field, &v, max)))
}

/// `YYYY-MM-DD` or an ISO date-time; kept as the (UTC) date.
fn birthday(value: &str) -> Result<String, String> {
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

fn object(field: &str, value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(format!("{field} must be a JSON object")),
    }
}

fn check_size(field: &str, map: &Map<String, Value>) -> Result<(), String> {
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
fn merge(into: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            into.remove(&k);
        } else {
            into.insert(k, v);
        }
    }
}

fn name(p: &mut Problems, input: NameInput) -> Name {
    Name {
        title: opt_text(p, "name.title", input.title, NAME_MAX),
        first_name: opt_text(p, "name.first_name", input.first_name, NAME_MAX),
        middle_name: opt_text(p, "name.middle_name", input.middle_name, NAME_MAX),
        last_name: opt_text(p, "name.last_name", input.last_name, NAME_MAX),
    }
}

fn address(p: &mut Problems, input: AddressInput, now: i64) -> Address {
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

fn secondary_emails(p: &mut Problems, values: Vec<String>) -> Vec<Email> {
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

fn secondary_phones(p: &mut Problems, values: Vec<String>) -> Vec<PhoneNumber> {
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

/// Adds secondary emails not already on the user (case-insensitively, primary included).
fn add_secondary_emails(user: &mut User, values: Vec<Email>) {
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

fn add_secondary_phones(user: &mut User, values: Vec<PhoneNumber>) {
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

impl CreateUserInput {
    /// Validates into a new `Pending` user with a fresh id.
    pub fn validate(self, now: i64) -> Result<NewUser, Error> {
        let mut p = Problems::default();
        if self.credentials.is_some() {
            p.push(
                "credentials are not available yet: create the user, then set a password".into(),
            );
        }
        let email = self.email.and_then(|v| p.take(Email::parse("email", &v)));
        let phone = self
            .phone_number
            .and_then(|v| p.take(PhoneNumber::parse("phone_number", &v)));
        let username = opt_text(&mut p, "username", self.username, ID_MAX);
        if email.is_none() && phone.is_none() && username.is_none() && p.0.is_empty() {
            p.push("one of email, phone_number or username is required".into());
        }
        let sec_emails = self
            .secondary_emails
            .map(|v| secondary_emails(&mut p, v))
            .unwrap_or_default();
        let sec_phones = self
            .secondary_phone_numbers
            .map(|v| secondary_phones(&mut p, v))
            .unwrap_or_default();
        let birthday = self.birthday.and_then(|v| p.take(birthday(&v)));
        let name = self.name.map(|n| name(&mut p, n));
        let address = self.address.map(|a| address(&mut p, a, now));
        let external_account_id = opt_text(
            &mut p,
            "external_account_id",
            self.external_account_id,
            ID_MAX,
        );
        let external_user_id = opt_text(&mut p, "external_user_id", self.external_user_id, ID_MAX);
        let picture = opt_text(&mut p, "picture", self.picture, PICTURE_MAX);
        let language = opt_text(&mut p, "language", self.language, LANGUAGE_MAX);
        let custom_data = self
            .custom_data
            .and_then(|v| p.take(object("custom_data", v)))
            .unwrap_or_default();
        let custom_app_data = self
            .custom_app_data
            .and_then(|v| p.take(object("custom_app_data", v)))
            .unwrap_or_default();
        p.take(check_size("custom_data", &custom_data));
        p.take(check_size("custom_app_data", &custom_app_data));
        let delegated_access = self.delegated_access.and_then(|d| {
            let actor = p.take(text("delegated_access.actor_id", &d.actor_id, ID_MAX))?;
            Some(DelegatedAccess {
                actor_id: actor,
                permissions: d.permissions,
            })
        });
        p.finish()?;

        let mut user = User {
            user_id: UserId::generate(),
            email: email.map(Contact::unverified),
            phone_number: phone.map(Contact::unverified),
            external_user_id,
            status: UserStatus::Pending,
            status_changed_at: now,
            last_auth: None,
            birthday,
            profile: Profile {
                name,
                address,
                picture,
                language,
                delegated_access,
                ..Profile::default()
            },
            custom_data,
            identities: Vec::new(),
            group_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        add_secondary_emails(&mut user, sec_emails);
        add_secondary_phones(&mut user, sec_phones);
        Ok(NewUser {
            user,
            username,
            external_account_id,
            custom_app_data,
        })
    }
}

impl UpdateUserInput {
    /// Applies the update: absent fields stay, objects are replaced whole, custom data is
    /// shallow-merged, secondary contacts are added. App-level fields need a membership.
    pub fn apply(
        self,
        user: &mut User,
        membership: Option<&mut Membership>,
        now: i64,
    ) -> Result<(), Error> {
        let mut p = Problems::default();
        let email = self.email.and_then(|v| p.take(Email::parse("email", &v)));
        let phone = self
            .phone_number
            .and_then(|v| p.take(PhoneNumber::parse("phone_number", &v)));
        let sec_emails = self.secondary_emails.map(|v| secondary_emails(&mut p, v));
        let sec_phones = self
            .secondary_phone_numbers
            .map(|v| secondary_phones(&mut p, v));
        let birthday = self.birthday.and_then(|v| p.take(birthday(&v)));
        let name = self.name.map(|n| name(&mut p, n));
        let address = self.address.map(|a| address(&mut p, a, now));
        let status = self.status.and_then(|s| {
            p.take(
                UserStatus::parse(&s)
                    .ok_or_else(|| "status must be one of Active, Disabled, Pending".to_owned()),
            )
        });
        let external_user_id = opt_text(&mut p, "external_user_id", self.external_user_id, ID_MAX);
        let picture = opt_text(&mut p, "picture", self.picture, PICTURE_MAX);
        let language = opt_text(&mut p, "language", self.language, LANGUAGE_MAX);
        let custom_data = self
            .custom_data
            .and_then(|v| p.take(object("custom_data", v)));
        let username = opt_text(&mut p, "username", self.username, ID_MAX);
        let external_account_id = opt_text(
            &mut p,
            "external_account_id",
            self.external_account_id,
            ID_MAX,
        );
        let custom_app_data = self
            .custom_app_data
            .and_then(|v| p.take(object("custom_app_data", v)));
        let wants_app =
            username.is_some() || external_account_id.is_some() || custom_app_data.is_some();
        if wants_app && membership.is_none() {
            p.push(
                "username, external_account_id and custom_app_data are app-level: the user must belong to the caller's app (admin tokens: pass app_id)"
                    .into(),
            );
        }
        p.finish()?;

        if let Some(v) = email {
            let key = v.key();
            if user.email.as_ref().map(|e| e.value.key()) != Some(key.clone()) {
                user.profile
                    .secondary_emails
                    .retain(|e| e.value.key() != key);
                user.email = Some(Contact::unverified(v));
            }
        }
        if let Some(v) = phone {
            if user.phone_number.as_ref().map(|e| &e.value) != Some(&v) {
                user.profile
                    .secondary_phone_numbers
                    .retain(|e| e.value != v);
                user.phone_number = Some(Contact::unverified(v));
            }
        }
        if let Some(v) = sec_emails {
            add_secondary_emails(user, v);
        }
        if let Some(v) = sec_phones {
            add_secondary_phones(user, v);
        }
        if let Some(v) = birthday {
            user.birthday = Some(v);
        }
        if let Some(v) = name {
            user.profile.name = Some(v);
        }
        if let Some(v) = address {
            user.profile.address = Some(v);
        }
        if let Some(v) = status {
            if v != user.status {
                user.status = v;
                user.status_changed_at = now;
            }
        }
        if let Some(v) = external_user_id {
            user.external_user_id = Some(v);
        }
        if let Some(v) = picture {
            user.profile.picture = Some(v);
        }
        if let Some(v) = language {
            user.profile.language = Some(v);
        }
        let mut p = Problems::default();
        if let Some(patch) = custom_data {
            merge(&mut user.custom_data, patch);
            p.take(check_size("custom_data", &user.custom_data));
        }
        if let Some(m) = membership {
            if let Some(v) = username {
                m.username = Some(v);
            }
            if let Some(v) = external_account_id {
                m.external_account_id = Some(v);
            }
            if let Some(patch) = custom_app_data {
                merge(&mut m.custom_app_data, patch);
                p.take(check_size("custom_app_data", &m.custom_app_data));
            }
            m.updated_at = now;
        }
        user.updated_at = now;
        p.finish()
    }
}

impl User {
    /// Marks a primary or secondary email verified; with `to_primary`, a secondary one
    /// becomes the primary and the old primary a secondary (keeping its state).
    pub fn verify_email(
        &mut self,
        key: &EmailKey,
        to_primary: bool,
        now: i64,
    ) -> Result<(), Error> {
        if let Some(primary) = self.email.as_mut().filter(|e| e.value.key() == *key) {
            mark(primary, now);
            self.updated_at = now;
            return Ok(());
        }
        let index = self
            .profile
            .secondary_emails
            .iter()
            .position(|e| e.value.key() == *key)
            .ok_or_else(|| Error::NotFound("Email not found for this user".into()))?;
        mark(&mut self.profile.secondary_emails[index], now);
        if to_primary {
            let promoted = self.profile.secondary_emails.remove(index);
            if let Some(old) = self.email.replace(promoted) {
                self.profile.secondary_emails.push(old);
            }
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn verify_phone(
        &mut self,
        phone: &PhoneNumber,
        to_primary: bool,
        now: i64,
    ) -> Result<(), Error> {
        if let Some(primary) = self.phone_number.as_mut().filter(|e| e.value == *phone) {
            mark(primary, now);
            self.updated_at = now;
            return Ok(());
        }
        let index = self
            .profile
            .secondary_phone_numbers
            .iter()
            .position(|e| e.value == *phone)
            .ok_or_else(|| Error::NotFound("Phone number not found for this user".into()))?;
        mark(&mut self.profile.secondary_phone_numbers[index], now);
        if to_primary {
            let promoted = self.profile.secondary_phone_numbers.remove(index);
            if let Some(old) = self.phone_number.replace(promoted) {
                self.profile.secondary_phone_numbers.push(old);
            }
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn remove_secondary_email(&mut self, key: &EmailKey, now: i64) -> Result<(), Error> {
        if self.email.as_ref().is_some_and(|e| e.value.key() == *key) {
            return Err(Error::invalid(
                "email is the primary email: only secondary emails can be removed",
            ));
        }
        let before = self.profile.secondary_emails.len();
        self.profile
            .secondary_emails
            .retain(|e| e.value.key() != *key);
        if self.profile.secondary_emails.len() == before {
            return Err(Error::NotFound("Email not found for this user".into()));
        }
        self.updated_at = now;
        Ok(())
    }

    pub fn remove_secondary_phone(&mut self, phone: &PhoneNumber, now: i64) -> Result<(), Error> {
        if self
            .phone_number
            .as_ref()
            .is_some_and(|e| e.value == *phone)
        {
            return Err(Error::invalid(
                "phone_number is the primary phone number: only secondary numbers can be removed",
            ));
        }
        let before = self.profile.secondary_phone_numbers.len();
        self.profile
            .secondary_phone_numbers
            .retain(|e| e.value != *phone);
        if self.profile.secondary_phone_numbers.len() == before {
            return Err(Error::NotFound(
                "Phone number not found for this user".into(),
            ));
        }
        self.updated_at = now;
        Ok(())
    }
}

fn mark<T>(contact: &mut Contact<T>, now: i64) {
    if !contact.verified {
        contact.verified = true;
        contact.verified_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create(v: Value) -> Result<NewUser, Error> {
        serde_json::from_value::<CreateUserInput>(v)
            .unwrap()
            .validate(1_000)
    }

    fn messages(r: Result<NewUser, Error>) -> Vec<String> {
        match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn create_needs_an_identifier() {
        assert_eq!(
            messages(create(json!({"name": {"first_name": "Jo"}}))),
            vec!["one of email, phone_number or username is required"]
        );
        assert!(create(json!({"username": "jo"})).is_ok());
    }

    #[test]
    fn create_normalises_and_defaults() {
        let u = create(json!({
            "email": "Jo@Example.com",
            "phone_number": "+1 650 253 0000",
            "secondary_emails": ["jo@example.com", "b@example.com", "B@example.com"],
            "birthday": "1990-05-17T10:00:00Z",
            "address": {"type": "home", "city": "Paris"},
        }))
        .unwrap()
        .user;
        assert_eq!(u.status, UserStatus::Pending);
        assert_eq!(u.phone_number.unwrap().value.as_str(), "+16502530000");
        assert_eq!(u.birthday.as_deref(), Some("1990-05-17"));
        assert_eq!(
            u.profile.address.unwrap().address_type,
            Some(AddressType::Home)
        );
        let sec: Vec<_> = u
            .profile
            .secondary_emails
            .iter()
            .map(|e| e.value.as_str())
            .collect();
        assert_eq!(sec, vec!["b@example.com"]);
        assert_eq!(u.user_id.as_str().len(), 21);
    }

    #[test]
    fn every_bad_field_is_named() {
        let m = messages(create(json!({
            "email": "nope",
            "phone_number": "12",
            "name": {"first_name": "x".repeat(31)},
            "address": {"type": "castle", "street_address": "s".repeat(151)},
            "birthday": "yesterday",
            "custom_data": [1],
            "credentials": {"password": "x"},
        })));
        for field in [
            "email",
            "phone_number",
            "name.first_name",
            "address.type",
            "address.street_address",
            "birthday",
            "custom_data",
            "credentials",
        ] {
            assert!(m.iter().any(|x| x.starts_with(field)), "{field} in {m:?}");
        }
    }

    #[test]
    fn custom_data_is_capped() {
        let big = "x".repeat(CUSTOM_DATA_MAX_BYTES);
        let m = messages(create(
            json!({"email": "a@b.co", "custom_data": {"k": big}}),
        ));
        assert!(
            m[0].starts_with("custom_data must be at most 500 KB"),
            "{m:?}"
        );
    }

    fn user() -> User {
        create(json!({"email": "a@example.com", "secondary_emails": ["b@example.com"], "custom_data": {"keep": 1, "drop": 2}}))
            .unwrap()
            .user
    }

    #[test]
    fn update_merges() {
        let mut u = user();
        let input: UpdateUserInput = serde_json::from_value(json!({
            "custom_data": {"drop": null, "new": true},
            "secondary_emails": ["c@example.com", "A@example.com"],
            "email": "new@example.com",
            "status": "Disabled",
            "name": {"last_name": "Doe"},
        }))
        .unwrap();
        input.apply(&mut u, None, 2_000).unwrap();
        assert_eq!(
            u.custom_data,
            json!({"keep": 1, "new": true}).as_object().unwrap().clone()
        );
        assert_eq!(u.email.as_ref().unwrap().value.as_str(), "new@example.com");
        assert!(!u.email.as_ref().unwrap().verified);
        let sec: Vec<_> = u
            .profile
            .secondary_emails
            .iter()
            .map(|e| e.value.as_str())
            .collect();
        assert_eq!(sec, vec!["b@example.com", "c@example.com", "A@example.com"]);
        assert_eq!(u.status, UserStatus::Disabled);
        assert_eq!(u.status_changed_at, 2_000);
        assert_eq!(u.updated_at, 2_000);
    }

    #[test]
    fn app_level_update_needs_a_membership() {
        let mut u = user();
        let input: UpdateUserInput = serde_json::from_value(json!({"username": "jo"})).unwrap();
        assert!(matches!(
            input.apply(&mut u, None, 2),
            Err(Error::Invalid(_))
        ));
    }

    fn key(email: &str) -> EmailKey {
        Email::parse("email", email).unwrap().key()
    }

    #[test]
    fn verify_and_promote() {
        let mut u = user();
        u.verify_email(&key("b@example.com"), true, 5).unwrap();
        assert_eq!(u.email.as_ref().unwrap().value.as_str(), "b@example.com");
        assert!(u.email.as_ref().unwrap().verified);
        assert_eq!(
            u.profile.secondary_emails[0].value.as_str(),
            "a@example.com"
        );
        assert!(!u.profile.secondary_emails[0].verified);
        assert!(matches!(
            u.verify_email(&key("zz@example.com"), false, 5),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            u.remove_secondary_email(&key("b@example.com"), 6),
            Err(Error::Invalid(_))
        ));
        u.remove_secondary_email(&key("a@example.com"), 6).unwrap();
        assert!(u.profile.secondary_emails.is_empty());
    }
}
