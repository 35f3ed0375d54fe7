//! Creates: every field checked (each problem naming its field) into a new `Pending` user.

use super::input::{
    add_secondary_emails, add_secondary_phones, address, birthday, check_size, name, object,
    opt_ident, opt_text, secondary_emails, secondary_phones, text, Problems, ID_MAX, LANGUAGE_MAX,
    PICTURE_MAX,
};
use super::{
    Contact, CreateUserInput, DelegatedAccess, Email, NewUser, PasswordInput, PhoneNumber, Profile,
    User, UserId, UserStatus,
};
use crate::password::{Credentials, Password, PASSWORD_MAX};
use crate::Error;

impl CreateUserInput {
    /// Validates into a new `Pending` user with a fresh id. One statement per field, in the
    /// schema's order, every problem collected: long, but a reader checks the fields against
    /// `ApiCreateUserInput` in one place.
    pub fn validate(self, now: i64) -> Result<NewUser, Error> {
        let mut p = Problems::default();
        let credentials = self.credentials.and_then(|c| p.take(credentials(c)));
        let email = self.email.and_then(|v| p.take(Email::parse("email", &v)));
        let phone = self
            .phone_number
            .and_then(|v| p.take(PhoneNumber::parse("phone_number", &v)));
        let username = opt_ident(&mut p, "username", self.username, ID_MAX);
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
        let external_account_id = opt_ident(
            &mut p,
            "external_account_id",
            self.external_account_id,
            ID_MAX,
        );
        let external_user_id = opt_ident(&mut p, "external_user_id", self.external_user_id, ID_MAX);
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
            credentials,
            password: None,
        })
    }
}

/// The password of a create; the app's policy is checked where the app is known.
fn credentials(input: PasswordInput) -> Result<Credentials, String> {
    let length = input.password.chars().count();
    if length == 0 {
        return Err("credentials.password must not be empty".into());
    }
    if length > PASSWORD_MAX {
        return Err(format!(
            "credentials.password must be at most {PASSWORD_MAX} characters"
        ));
    }
    Ok(Credentials {
        password: Password::new(input.password),
        temporary: input.force_replace.unwrap_or(true),
    })
}

/// Users made through the real validation, for other modules' tests.
#[cfg(test)]
pub(super) mod fixtures {
    use super::super::{CreateUserInput, NewUser, User};
    use crate::Error;
    use serde_json::Value;

    pub fn create(v: Value) -> Result<NewUser, Error> {
        serde_json::from_value::<CreateUserInput>(v)
            .unwrap()
            .validate(1_000)
    }

    pub fn user() -> User {
        create(serde_json::json!({"email": "a@example.com", "secondary_emails": ["b@example.com"], "custom_data": {"keep": 1, "drop": 2}}))
            .unwrap()
            .user
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::CUSTOM_DATA_MAX_BYTES;
    use super::super::{AddressType, NewUser, UserStatus};
    use super::fixtures::create;
    use crate::Error;
    use serde_json::json;

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
    fn text_refuses_control_and_identifiers_refuse_invisible_characters() {
        assert_eq!(
            messages(create(json!({"username": "jo\u{0}"}))),
            vec!["username must not contain control characters"]
        );
        assert_eq!(
            messages(create(
                json!({"username": "jo", "name": {"first_name": "J\r\no"}})
            )),
            vec!["name.first_name must not contain control characters"]
        );
        assert_eq!(
            messages(create(json!({"username": "jo", "picture": "x\u{85}"}))),
            vec!["picture must not contain control characters"]
        );
        for (field, bad) in [
            ("username", "adm\u{202E}nim"),
            ("external_user_id", "a\u{200B}b"),
            ("external_account_id", "\u{FEFF}acct"),
        ] {
            let mut body = json!({"email": "jo@example.com"});
            body[field] = json!(bad);
            assert_eq!(
                messages(create(body)),
                vec![format!(
                    "{field} must not contain invisible formatting characters"
                )]
            );
        }
        // Profile strings may hold format characters (a ZWJ in a name is legitimate);
        // custom_data is stored as given.
        let u = create(json!({
            "username": "jo",
            "name": {"first_name": "\u{0646}\u{200C}\u{0627}"},
            "custom_data": {"note": "a\u{0}b"}
        }))
        .unwrap();
        assert_eq!(u.user.custom_data["note"], "a\u{0}b");
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
            "credentials": {"password": ""},
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
}
